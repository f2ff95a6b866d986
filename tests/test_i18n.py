"""The Chinese catalogues are complete, compiled and used: the console, model labels and service errors.

Every catalogue under a `locale/` directory (the project's, and apps' own such as knowledge/locale) is checked:
no untranslated or fuzzy entry, placeholders kept, and the committed .mo says exactly what the .po says.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

from tests.factories import make_agent, make_customer, make_ticket
from tickets.errors import InvalidInput
from tickets.models import Channel, DeliveryStatus, Status

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CATALOGUES = sorted(
    path
    for path in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po")
    if not {".venv", "var", "node_modules"} & set(path.relative_to(ROOT).parts)
)
CATALOGUE_IDS = [str(path.relative_to(ROOT)) for path in CATALOGUES]

_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$')
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdifr]|\{\w+\}|%%")


def _entries(po: Path) -> list[dict]:
    """A small .po reader: each entry's flags, msgctxt, msgid, msgid_plural and msgstr(s)."""
    entries = []
    for block in po.read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict = {"flags": set(), "msgstr": {}}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif match := _KEYWORD.match(line):
                key = match[1]
                entry.setdefault("parts", {})[key] = [match[2]]
            elif line.startswith('"') and key:
                entry["parts"][key].append(line)
        text = {k: "".join(ast.literal_eval(part) for part in v) for k, v in entry.pop("parts", {}).items()}
        if "msgid" not in text:
            continue
        entry.update(msgctxt=text.get("msgctxt"), msgid=text["msgid"], msgid_plural=text.get("msgid_plural"))
        entry["msgstr"] = {k: v for k, v in text.items() if k.startswith("msgstr")}
        entries.append(entry)
    return entries


def _messages(po: Path) -> list[dict]:
    return [e for e in _entries(po) if e["msgid"] or e["msgctxt"]]


def _label(entry: dict) -> str:
    return f"{entry['msgctxt']}|{entry['msgid']}" if entry["msgctxt"] else entry["msgid"]


def test_the_project_catalogue_exists_and_is_found():
    assert PROJECT_PO in CATALOGUES
    assert len(_messages(PROJECT_PO)) > 400


@pytest.mark.parametrize("po", CATALOGUES, ids=CATALOGUE_IDS)
def test_catalogue_has_no_untranslated_or_fuzzy_entries(po):
    entries = _entries(po)
    header = next(e for e in entries if e["msgid"] == "" and not e["msgctxt"])
    assert "fuzzy" not in header["flags"], "a fuzzy header is skipped by msgfmt: remove the flag"
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"]["msgstr"]
    fuzzy = [_label(e) for e in _messages(po) if "fuzzy" in e["flags"]]
    empty = [_label(e) for e in _messages(po) if not all(e["msgstr"].values())]
    assert not fuzzy, f"fuzzy entries in {po}: {fuzzy}"
    assert not empty, f"untranslated entries in {po}: {empty}"


@pytest.mark.parametrize("po", CATALOGUES, ids=CATALOGUE_IDS)
def test_translations_keep_every_placeholder(po):
    """%(name)s, {name} and %% come back unchanged; zh's single plural form carries the plural's placeholders."""
    wrong = []
    for entry in _messages(po):
        if entry["msgid_plural"] is None:
            expected = sorted(_PLACEHOLDER.findall(entry["msgid"]))
            wrong += [
                (_label(entry), s) for s in entry["msgstr"].values() if sorted(_PLACEHOLDER.findall(s)) != expected
            ]
        else:
            expected = set(_PLACEHOLDER.findall(entry["msgid"] + entry["msgid_plural"]))
            wrong += [(_label(entry), s) for s in entry["msgstr"].values() if set(_PLACEHOLDER.findall(s)) != expected]
    assert not wrong, wrong


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="GNU gettext's msgfmt is not installed")
@pytest.mark.parametrize("po", CATALOGUES, ids=CATALOGUE_IDS)
def test_msgfmt_accepts_the_catalogue_and_counts_nothing_untranslated(po):
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=False,
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


@pytest.mark.parametrize("po", CATALOGUES, ids=CATALOGUE_IDS)
def test_compiled_mo_is_up_to_date_with_the_po(po):
    """The .mo is committed (the run command does not compile): it must hold exactly the .po's translations.

    Compared by content rather than bytes or mtimes, so a different msgfmt version or a fresh checkout does not
    matter; re-run `manage.py compilemessages --ignore=.venv` when this fails.
    """
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run manage.py compilemessages --ignore=.venv"
    with mo.open("rb") as handle:
        compiled = dict(gettext.GNUTranslations(handle)._catalog)  # the parsed .mo table
    expected: dict = {}
    for entry in _messages(po):
        msgid = f"{entry['msgctxt']}\x04{entry['msgid']}" if entry["msgctxt"] else entry["msgid"]
        if entry["msgid_plural"] is None:
            expected[msgid] = entry["msgstr"]["msgstr"]
        else:
            for key, value in entry["msgstr"].items():
                expected[(msgid, int(key[len("msgstr[") : -1]))] = value
    compiled.pop("", None)  # the header
    stale = {k: (compiled.get(k), v) for k, v in expected.items() if compiled.get(k) != v}
    extra = set(compiled) - set(expected)
    assert not stale and not extra, f"{mo} is stale; differing: {stale}; only in the .mo: {extra}"


@pytest.fixture
def console_client(client, queue, shop):
    agent = make_agent(queue, username="i18n-agent")
    make_ticket(shop=shop, queue=queue, subject="充值未到账")
    client.force_login(agent)
    return client


@pytest.mark.django_db
def test_console_inbox_speaks_chinese_by_accept_language(console_client):
    body = console_client.get("/console/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="zh-hans">' in body
    for text in ("收件箱", "工单", "处理人", "优先级", "队列", "退出登录"):
        assert text in body, text
    assert ">Inbox<" not in body


@pytest.mark.django_db
def test_console_defaults_to_chinese_without_a_language_preference(console_client, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the product's default (settings.base); settings.test reads English
    body = console_client.get("/console/").content.decode()
    assert '<html lang="zh-hans">' in body and "收件箱" in body


@pytest.mark.django_db
def test_console_inbox_speaks_english_when_asked(console_client):
    body = console_client.get("/console/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in body
    assert "Inbox" in body and "Assignee" in body
    assert "收件箱" not in body


@pytest.mark.django_db
def test_language_cookie_wins_over_accept_language(console_client, settings):
    console_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    body = console_client.get("/console/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "收件箱" in body


@pytest.mark.django_db
def test_status_labels_render_in_chinese_in_the_inbox(console_client):
    body = console_client.get("/console/?view=unassigned&status=new", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<span class="status status-new">新建</span>' in body
    english = console_client.get("/console/?view=unassigned&status=new", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<span class="status status-new">New</span>' in english


def test_model_choice_labels_are_translated():
    expected = {
        Status.NEW: "新建",
        Status.OPEN: "处理中",
        Status.PENDING: "待客户回复",
        Status.ON_HOLD: "挂起",
        Status.SOLVED: "已解决",
        Status.CLOSED: "已关闭",
    }
    with translation.override("zh-hans"):
        assert {status: str(status.label) for status in Status} == expected
        assert dict(Status.choices)[Status.PENDING] == "待客户回复"
        # One English word, several meanings: these labels carry a msgctxt.
        assert str(DeliveryStatus.PENDING.label) == "待发货"
        assert str(Channel.EMAIL.label) == "邮件"
    with translation.override("en"):
        assert str(Status.PENDING.label) == "Pending" and str(DeliveryStatus.PENDING.label) == "Pending"


@pytest.mark.django_db
def test_service_errors_follow_the_active_language(shop, queue):
    from tickets import services

    customer = make_customer(shop)
    for language, message in (("zh-hans", "请填写主题。"), ("en", "A subject is required.")):
        with translation.override(language), pytest.raises(InvalidInput) as error:
            services.ticket_create(shop=shop, customer=customer, subject=" ", body="x", actor=None)
        assert (error.value.message, error.value.field) == (message, "subject")


def test_placeholders_survive_translation():
    with translation.override("zh-hans"):
        text = translation.gettext("The status cannot change from %(old)s to %(new)s.") % {
            "old": Status.CLOSED.label,
            "new": Status.OPEN.label,
        }
        assert text == "状态不能从“已关闭”改为“处理中”。"
        assert translation.ngettext("%(count)d ticket updated.", "%(count)d tickets updated.", 3) % {"count": 3} == (
            "已更新 3 个工单。"
        )
