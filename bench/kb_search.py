"""Knowledge-base search at 100,000 zh/en articles: ranked search and suggestions beside the unranked floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carddesk_kbbench REDIS_URL=redis://127.0.0.1:6379/8 \\
    DJANGO_SETTINGS_MODULE=helpdesk.settings.local .venv/bin/python bench/kb_search.py [--articles 100000]

Seeds a dedicated database (created if missing; refused if it is named like a real install or holds articles
the bench did not write) through COPY: article text is generated from the demo knowledge base's own words
(jieba-segmented, so queries segment the same way), Zipf-distributed so some words are in tens of thousands of
articles and others in a handful. Then, for mixed queries (one common word, two and three words, a rare word, a
typo, in Chinese and English), it times in the same run:

- search: `knowledge.selectors.kb_search` as the results page calls it (capped candidates, ts_rank_cd + click
  boost, snippets, "did you mean");
- suggest: `kb_suggest` (prefix match on the last word, no spelling) and the JSON endpoint uncached;
- the floor: the same tsquery, unranked, LIMIT 20 — what any full-text search has to pay;
- naive: ranking every match (what the candidate cap avoids), and typo look-up by trigram similarity over all
  titles (what the KbWord table avoids).

See bench/README.md ("Knowledge-base search").
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._db import connect, database_config, dedicated_database_url

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT_NAME = "carddesk_kbbench"
MARKER = "carddesk-kbbench"
REFUSED_NAMES = {"carddesk", "postgres", "template0", "template1"}


def bench_database_url() -> str:
    return dedicated_database_url(DEFAULT_NAME, REFUSED_NAMES, "it truncates the knowledge tables")


RESULTS_FILE = BENCH / "kb_search-last-results.json"
BENCH_CATEGORY_PREFIX = "kbbench-"
VOCABULARY_SIZE = 80_000  # distinct KbWord rows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000, help="articles to seed (default 100,000)")
    parser.add_argument("--iterations", type=int, default=300, help="timed iterations per case (default 300)")
    parser.add_argument(
        "--max-seconds-per-case", type=float, default=30.0, help="stop a case after this long once it has 30 samples"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the seeded data if it has the requested size")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the data and the queries")
    return parser.parse_args()


# --- the dedicated database ---------------------------------------------------------------------------------


def ensure_database(url: str) -> str | None:
    """Create the database if missing; return its comment (the bench's marker)."""
    name = database_config(url)["NAME"]
    with connect(url, "postgres") as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is None:
            conn.execute(f'CREATE DATABASE "{name}"')
            set_marker(url, "created")
            print(f"created database {name}")
            return f"{MARKER} created"
        return row[0]


def set_marker(url: str, state: str) -> None:
    name = database_config(url)["NAME"]
    with connect(url, "postgres") as conn:
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{MARKER} {state.replace(chr(39), '')}'")


def check_is_bench_database(url: str, marker: str | None) -> None:
    """Refuse a database with tickets, or with articles in categories the bench did not create."""
    name = database_config(url)["NAME"]
    with connect(url, name) as conn:
        tickets = foreign = 0
        if conn.execute("SELECT to_regclass('tickets_ticket') IS NOT NULL").fetchone()[0]:
            tickets = conn.execute("SELECT count(*) FROM (SELECT 1 FROM tickets_ticket LIMIT 1) t").fetchone()[0]
        if conn.execute("SELECT to_regclass('knowledge_article') IS NOT NULL").fetchone()[0]:
            foreign = conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM knowledge_article a JOIN knowledge_kbcategory k "
                "ON k.id = a.category_id WHERE k.slug NOT LIKE %s LIMIT 1) f",
                [BENCH_CATEGORY_PREFIX + "%"],
            ).fetchone()[0]
    if tickets or foreign:
        raise SystemExit(f"Refusing: database {name!r} holds tickets or articles the bench did not create.")
    if not (marker or "").startswith(MARKER):
        set_marker(url, "adopted")


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.local")
    os.environ.setdefault("DEBUG", "0")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


# --- the generated corpus -----------------------------------------------------------------------------------


@dataclass
class Vocabulary:
    words: list[str]  # most common first
    weights: list[float]
    title_words: list[str]


def vocabularies(rng: random.Random) -> dict[str, Vocabulary]:
    """Words of the demo knowledge base (jieba-segmented for Chinese), Zipf-weighted, common trade words first."""
    from knowledge.demo import content_en, content_zh
    from knowledge.text import vocabulary

    result = {}
    for language, texts, head in (
        ("zh-hans", content_zh.ARTICLES, ["卡密", "充值", "退款", "订单", "支付", "无效", "到账", "账号", "失败"]),
        ("en", content_en.ARTICLES, ["card", "key", "refund", "order", "payment", "invalid", "recharge", "failed"]),
    ):
        counts: Counter[str] = Counter()
        for title, summary, body in texts.values():
            counts.update(vocabulary(f"{title}\n{summary}\n{body}"))
        ordered = head + [w for w, _n in counts.most_common() if w not in head and len(w) >= 2]
        # Less common words: product codes, each in a few hundred articles. (Rare words — an order code in
        # about three articles each — are added per article by seed().)
        ordered += [f"sku{n:05d}" for n in range(3000)]
        weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(ordered))]
        result[language] = Vocabulary(ordered, weights, ordered[:400])
    return result


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", " ").replace("\n", "\\n").replace("\r", " ")


def seed(url: str, count: int, rng: random.Random) -> dict[str, float]:
    """COPY `count` articles (half zh, half en, pairs sharing a translation group) plus their vocabulary."""
    from django.db import connection, transaction

    from knowledge import services
    from knowledge.models import KbCategory

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    vocab = vocabularies(rng)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE knowledge_articlefeedback, knowledge_searchclick, knowledge_searchlog, "
                "knowledge_article_related, knowledge_article, knowledge_kbword, knowledge_kbcategory "
                "RESTART IDENTITY CASCADE"
            )
        categories = [
            services.category_save(
                actor=None, name=f"基准分类{n}", name_en=f"Bench category {n}", slug=f"{BENCH_CATEGORY_PREFIX}{n}"
            )
            for n in range(12)
        ]
    category_names = {c.pk: (c.name, c.name_en) for c in KbCategory.objects.all()}
    seconds["vocabulary + categories"] = time.perf_counter() - started

    started = time.perf_counter()
    rows = io.StringIO()
    words: Counter[tuple[str, str]] = Counter()
    now = time.time()
    last_group = uuid.uuid4()
    for n in range(count):
        language = "zh-hans" if n % 2 == 0 else "en"
        v = vocab[language]
        title_tokens = rng.choices(v.title_words, k=rng.randint(3, 7))
        body_tokens = rng.choices(v.words, weights=v.weights, k=rng.randint(60, 160))
        body_tokens.insert(rng.randrange(len(body_tokens)), f"tx{rng.randrange(max(count // 3, 1)):06d}")
        joiner = "" if language == "zh-hans" else " "
        title = joiner.join(title_tokens)[:200]
        body = joiner.join(body_tokens)
        category = categories[rng.randrange(len(categories))]
        roll = rng.random()
        status = "published" if roll < 0.94 else ("draft" if roll < 0.97 else "archived")
        publish_at = now - rng.uniform(0, 730 * 86400) if status != "draft" else None
        if status == "published" and rng.random() < 0.01:
            publish_at = now + rng.uniform(3600, 30 * 86400)  # scheduled
        group = uuid.UUID(int=rng.getrandbits(128)) if language == "zh-hans" else last_group
        last_group = group
        segmented_title = " ".join(title_tokens)
        segmented_body = " ".join(body_tokens)
        category_name = category_names[category.pk][0 if language == "zh-hans" else 1]
        if status == "published":
            for token in [*title_tokens, *body_tokens]:
                if token.isascii() and not (token.isalpha() and 3 <= len(token) <= 30):
                    continue
                words[(token.lower(), language)] += 1
        fields = [
            str(n + 1),
            language,
            str(group),
            title,
            f"a{n + 1}",
            "",
            body,
            f"<p>{body}</p>",
            body,
            status,
            _iso(publish_at),
            str(100),
            str(int(rng.paretovariate(1.2) * 10)),
            str(rng.randint(0, 20)),
            str(rng.randint(0, 5)),
            str(category.pk),
            segmented_title,
            f"{category_name}",
            segmented_body,
            "zh" if language == "zh-hans" else "en",
        ]
        rows.write("\t".join("\\N" if f is None else _copy_text(f) for f in fields) + "\n")
    seconds["generate rows"] = time.perf_counter() - started

    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS kbbench_staging (id bigint, language text, translation_group uuid, "
            "title text, slug text, summary text, body text, body_html text, body_text text, status text, "
            "publish_at timestamptz, position int, view_count bigint, helpful_yes int, helpful_no int, "
            "category_id bigint, seg_title text, seg_category text, seg_body text, cfg text)"
        )
        cursor.execute("TRUNCATE kbbench_staging")
        with cursor.copy("COPY kbbench_staging FROM STDIN") as copy:
            data = rows.getvalue()
            for start in range(0, len(data), 1 << 20):
                copy.write(data[start : start + (1 << 20)])
        seconds["COPY into staging"] = time.perf_counter() - started

        started = time.perf_counter()
        # Build the GIN indexes once after loading rather than row by row while inserting.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'knowledge_article' AND indexdef LIKE %s",
            ["%USING gin%"],
        )
        gin_indexes = cursor.fetchall()
        for index_name, _definition in gin_indexes:
            cursor.execute(f'DROP INDEX "{index_name}"')
        cursor.execute(
            """
            INSERT INTO knowledge_article (id, created_at, updated_at, shop_id, category_id, language,
                translation_group, title, slug, summary, body, body_html, body_text, status, publish_at, position,
                view_count, helpful_yes, helpful_no, search_vector, title_vector)
            SELECT id, now(), now(), NULL, category_id, language, translation_group, title, slug, summary, body,
                   body_html, body_text, status, publish_at, position, view_count, helpful_yes, helpful_no,
                   setweight(to_tsvector(CASE cfg WHEN 'zh' THEN 'simple' ELSE 'english' END::regconfig,
                                         seg_title), 'A')
                   || setweight(to_tsvector(CASE cfg WHEN 'zh' THEN 'simple' ELSE 'english' END::regconfig,
                                            seg_category), 'B')
                   || setweight(to_tsvector(CASE cfg WHEN 'zh' THEN 'simple' ELSE 'english' END::regconfig,
                                            seg_body), 'D'),
                   to_tsvector(CASE cfg WHEN 'zh' THEN 'simple' ELSE 'english' END::regconfig, seg_title)
              FROM kbbench_staging
            """
        )
        seconds["INSERT … SELECT with to_tsvector"] = time.perf_counter() - started
        started = time.perf_counter()
        for _index_name, definition in gin_indexes:
            cursor.execute(definition)
        seconds[f"CREATE the {len(gin_indexes)} GIN indexes"] = time.perf_counter() - started

        started = time.perf_counter()
        # The generated text reuses the demo's ~1,400 words; a real 100k-article base has tens of thousands.
        # Pronounceable filler words bring the vocabulary to a realistic size for the trigram look-ups.
        syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"]
        while len(words) < VOCABULARY_SIZE:
            filler = "".join(rng.choices(syllables, k=rng.randint(2, 5)))
            words[(filler, rng.choice(("en", "zh-hans")))] += rng.randint(1, 50)
        with cursor.copy("COPY knowledge_kbword (word, language, frequency) FROM STDIN") as copy:
            for (word, language), n in words.items():
                copy.write(f"{_copy_text(word[:40])}\t{language}\t{n}\n")
        cursor.execute("DROP TABLE kbbench_staging")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('knowledge_article', 'id'), (SELECT max(id) FROM knowledge_article))"
        )
        seconds["COPY vocabulary (KbWord)"] = time.perf_counter() - started
    started = time.perf_counter()
    with connect(url, database_config(url)["NAME"]) as conn:
        conn.execute("VACUUM ANALYZE knowledge_article")
        conn.execute("VACUUM ANALYZE knowledge_kbword")
    seconds["VACUUM ANALYZE"] = time.perf_counter() - started
    return seconds


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(epoch))


# --- queries ------------------------------------------------------------------------------------------------


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1 :]  # drop a letter: failed → faied


def query_sets(rng: random.Random, articles: int, per_case: int = 40) -> dict[str, list[tuple[str, str]]]:
    """(language, query) samples per kind of query."""
    vocab = vocabularies(rng)
    zh, en = vocab["zh-hans"].words, vocab["en"].words
    zh_mid, en_mid = zh[20:400], [w for w in en[20:400] if w.isalpha() and len(w) > 4]
    common = [("zh-hans", w) for w in zh[:9]] + [("en", w) for w in en[:8]]
    sets: dict[str, list[tuple[str, str]]] = {
        "1 common word": [],
        "1 mid word": [],
        "2 words": [],
        "3 words": [],
        "rare word": [],
        "typo (en)": [],
    }
    for _ in range(per_case):
        sets["1 common word"].append(rng.choice(common))
        sets["1 mid word"].append(rng.choice([("zh-hans", rng.choice(zh_mid)), ("en", rng.choice(en_mid))]))
        sets["rare word"].append((rng.choice(["zh-hans", "en"]), f"tx{rng.randrange(max(articles // 3, 1)):06d}"))
        sets["typo (en)"].append(("en", _typo(rng.choice(en_mid), rng)))
        two_zh = rng.choice(zh[:9]) + rng.choice(zh_mid)
        two_en = f"{rng.choice(en[:8])} {rng.choice(en_mid)}"
        sets["2 words"].append(rng.choice([("zh-hans", two_zh), ("en", two_en)]))
        sets["3 words"].append(
            rng.choice(
                [
                    ("zh-hans", "".join(rng.sample(zh[:60], 3))),
                    ("en", " ".join(rng.sample([w for w in en[:60] if w.isalpha()], 3))),
                ]
            )
        )
    return sets


# --- timing -------------------------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str
    case: str
    n: int
    p50: float
    p99: float
    mean_hits: float
    ratio: float | None = None


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def measure(
    kind: str, case: str, run: Callable[[str, str], int], queries: list[tuple[str, str]], args: argparse.Namespace
) -> Result:
    for language, q in queries[:3]:
        run(language, q)  # warm-up
    samples, hits, spent = [], [], 0.0
    for i in range(args.iterations):
        language, q = queries[i % len(queries)]
        started = time.perf_counter()
        found = run(language, q)
        elapsed = time.perf_counter() - started
        samples.append(elapsed)
        hits.append(found)
        spent += elapsed
        if spent > args.max_seconds_per_case and len(samples) >= 30:
            break
    p50, p99 = statistics.median(samples) * 1000, percentile(samples, 0.99) * 1000
    result = Result(kind, case, len(samples), p50, p99, statistics.mean(hits))
    print(f"  {kind:<14} {case:<34} p50 {result.p50:8.2f} ms  p99 {result.p99:8.2f} ms  hits {result.mean_hits:6.1f}")
    return result


def cases(args: argparse.Namespace) -> dict[str, Callable[[str, str], int]]:
    from django.db import connection
    from django.test import Client

    from knowledge import search, selectors
    from knowledge.api import views as api_views
    from knowledge.text import query_terms, tsquery_source

    visible = (
        "language = %s AND status = 'published' AND publish_at <= now() AND shop_id IS NULL AND search_vector @@ q"
    )

    def floor(language: str, q: str) -> int:
        source = tsquery_source(query_terms(q))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM knowledge_article, to_tsquery(%s::regconfig, %s) q WHERE {visible} LIMIT 20",  # noqa: S608
                [search.config_for(language), source, language],
            )
            return len(cursor.fetchall())

    def naive(language: str, q: str) -> int:
        source = tsquery_source(query_terms(q))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM knowledge_article, to_tsquery(%s::regconfig, %s) q "  # noqa: S608
                f"WHERE {visible} ORDER BY ts_rank_cd(search_vector, q, 32) DESC LIMIT 20",
                [search.config_for(language), source, language],
            )
            return len(cursor.fetchall())

    def kb_search(language: str, q: str) -> int:
        return len(selectors.kb_search(q, language=language).hits)

    def kb_suggest(language: str, q: str) -> int:
        return len(selectors.kb_suggest(q, language))

    client = Client(REMOTE_ADDR="10.255.0.1")

    def suggest_api(language: str, q: str) -> int:
        api_views.CACHE_VERSION = uuid.uuid4().hex  # uncached: every call searches
        response = client.get("/api/v1/kb/suggest", {"q": q, "lang": language})
        assert response.status_code == 200, response.status_code
        return len(response.json()["results"])

    def spelling(language: str, q: str) -> int:
        return int(search.did_you_mean(q) is not None)

    def naive_spelling(language: str, q: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT title FROM knowledge_article WHERE language = %s ORDER BY similarity(title, %s) DESC LIMIT 1",
                [language, q],
            )
            return len(cursor.fetchall())

    return {
        "search (kb_search)": kb_search,
        "suggest (kb_suggest)": kb_suggest,
        "suggest API, uncached": suggest_api,
        "floor: unranked FTS LIMIT 20": floor,
        "naive: rank every match": naive,
        "did you mean (KbWord trigram)": spelling,
        "naive: trigram over titles": naive_spelling,
    }


def mount_api_urls() -> None:
    """The API is mounted by helpdesk/urls.py; for a checkout where it is not yet, mount it here."""
    from django.conf import settings
    from django.urls import clear_url_caches

    from helpdesk import urls

    if not any(getattr(p, "namespace", None) == "kb_api" for p in urls.urlpatterns):
        from django.urls import include, path

        urls.urlpatterns.insert(0, path("api/v1/kb/", include("knowledge.api.urls")))
        clear_url_caches()
    from django.core.cache import cache
    from rest_framework.settings import api_settings

    # The bench measures the endpoint, not the throttle's refusals.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"kb_suggest": "1000000/minute"}}
    api_settings.reload()
    cache.delete("throttle_kb_suggest_10.255.0.1")


def main() -> None:
    args = parse_args()
    url = bench_database_url()
    marker = ensure_database(url)
    check_is_bench_database(url, marker)
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from knowledge.models import Article
    from knowledge.text import tokenizer

    call_command("migrate", interactive=False, verbosity=0)
    tokenizer()  # load jieba once, outside the timings
    rng = random.Random(args.seed)
    have = Article.objects.count()
    if args.reuse and have == args.articles and "complete" in (marker or ""):
        print(f"reusing {have:,} articles ({marker})")
        seeding: dict[str, float] = {}
    else:
        print(f"seeding {args.articles:,} articles through COPY…")
        set_marker(url, "seeding")
        seeding = seed(url, args.articles, rng)
        set_marker(url, f"complete articles={args.articles} seed={args.seed}")
        for label, seconds in seeding.items():
            print(f"  {label:<36} {seconds:8.1f} s")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_table_size('knowledge_article')), "
            "pg_size_pretty(pg_indexes_size('knowledge_article')), (SELECT count(*) FROM knowledge_kbword)"
        )
        table, indexes, words = cursor.fetchone()
    print(f"knowledge_article: table {table}, indexes {indexes}; KbWord rows {words:,}")
    mount_api_urls()

    load_before = os.getloadavg()
    results: list[Result] = []
    runs = cases(args)
    for kind, queries in query_sets(random.Random(args.seed + 1), args.articles).items():
        for case, run in runs.items():
            if case.startswith(("did you mean", "naive: trigram")) and kind not in ("typo (en)", "2 words"):
                continue
            if case == "suggest API, uncached" and kind not in ("1 common word", "2 words", "typo (en)"):
                continue
            results.append(measure(kind, case, run, queries, args))
    floors = {r.kind: r.p50 for r in results if r.case.startswith("floor")}
    for r in results:
        if r.kind in floors and floors[r.kind] > 0:
            r.ratio = r.p50 / floors[r.kind]
    print_table(results)
    load_after = os.getloadavg()
    print(f"load average (1 min) before/after the timings: {load_before[0]:.2f} / {load_after[0]:.2f}")
    RESULTS_FILE.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
                "articles": args.articles,
                "seeding_seconds": seeding,
                "load_average_before_after": [load_before[0], load_after[0]],
                "results": [asdict(r) for r in results],
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"\nresults written to {RESULTS_FILE.relative_to(ROOT)}")


def print_table(results: list[Result]) -> None:
    print()
    header = f"{'queries':<15}{'case':<34}{'n':>5}{'p50 ms':>9}{'p99 ms':>9}{'hits':>7}{'p50/floor':>11}"
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = f"{r.ratio:9.1f}×" if r.ratio is not None else ""
        print(f"{r.kind:<15}{r.case:<34}{r.n:>5}{r.p50:>9.2f}{r.p99:>9.2f}{r.mean_hits:>7.1f}{ratio:>11}")
    print("floor: the same tsquery, unranked, LIMIT 20 (bare SQL). search and suggest are the selectors (SQL +")
    print("snippets + URLs in Python; search adds 'did you mean'); the API row is an in-process HTTP request with")
    print("DRF, throttle and cache look-ups in Redis and the search-log write.")


if __name__ == "__main__":
    main()
