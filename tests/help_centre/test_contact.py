"""Submitting a ticket from the help centre: the happy path, every validation error, spam and abuse limits."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from helpdesk.models import AuditEvent, OutboxEmail
from tests.help_centre.conftest import CARD_KEYS, png
from tickets.models import Attachment, Customer, Message, Ticket, TrackingToken
from tickets.services.tracking import tracking_token_resolve

CONTACT = reverse("help:contact") + "?shop=star-cards"
DONE = reverse("help:contact-done")


def _post(client, data, capture, **extra):
    with capture(execute=True):
        return client.post(CONTACT, data, **extra)


def _errors(response) -> dict[str, list[str]]:
    return {name: [str(e) for e in errors] for name, errors in response.context["form"].errors.items()}


@pytest.mark.django_db
def test_get_renders_an_accessible_form_with_deflection_hooks(client, shop, category):
    response = client.get(CONTACT, HTTP_ACCEPT_LANGUAGE="zh-hans")  # categories show their Chinese name
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("subject", "description", "email", "name", "order_no", "category", "attachments"):
        assert f'<label for="id_{field}">' in html
    assert 'aria-live="polite"' in html
    assert 'data-suggest-url="/api/v1/kb/suggest"' in html and 'data-shop="star-cards"' in html
    assert "help/contact.js" in html and "help/help.css" in html
    assert 'id="id_website"' in html and 'class="hp" aria-hidden="true"' in html
    assert 'id="id_description" aria-describedby="id_description_helptext"' in html or (
        'aria-describedby="id_description_helptext"' in html
    )
    assert "卡密问题" in html


@pytest.mark.django_db
def test_submit_creates_ticket_customer_order_context_link_and_email(
    client, shop, order, category, contact_data, django_capture_on_commit_callbacks
):
    data = contact_data(
        subject="卡密 STEAM-AAAA-BBBB-CCCC 无效",
        description="第一张卡密 STEAM-AAAA-BBBB-CCCC 提示已使用",
        order_no="  SC20240601-0042 ",
        category=str(category.pk),
        attachments=[png()],
    )
    response = _post(client, data, django_capture_on_commit_callbacks, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 302 and response["Location"] == DONE

    ticket = Ticket.objects.select_related("customer", "order").get()
    assert ticket.channel == "web" and ticket.shop == shop
    assert ticket.order == order  # the order context the agent sees
    assert ticket.category == category and ticket.queue == category.default_queue
    assert ticket.customer == order.customer and Customer.objects.count() == 1  # upserted by e-mail
    assert ticket.customer.language == "zh-hans"
    assert CARD_KEYS[0] not in ticket.subject  # masked like message bodies
    first = Message.objects.get(ticket=ticket)
    assert CARD_KEYS[0] not in first.body and first.client_msg_id == data["submission_id"]
    assert Attachment.objects.get(message=first).filename == "screen.png"
    event = AuditEvent.objects.get(action="ticket.create", object_id=str(ticket.pk))
    assert event.actor_label == f"customer:{ticket.customer_id}"

    page = client.get(DONE)
    html = page.content.decode()
    assert ticket.reference in html
    link = re.search(r'id="tracking-link" value="([^"]+)"', html).group(1)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert link == f"http://testserver/help/t/{token}/"
    assert tracking_token_resolve(token) == ticket
    assert TrackingToken.objects.get(ticket=ticket).token_hash != token  # only the hash is stored

    outbox = OutboxEmail.objects.get(key=f"ticket-received:{ticket.pk}")
    assert outbox.status == OutboxEmail.Status.SENT and outbox.attempts == 1
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["zhangsan@example.com"]
    assert ticket.reference in sent.subject and "我们已收到" in sent.subject  # the customer's language
    assert f"https://help.example.com/help/t/{token}/" in sent.body  # the same link as the page
    assert CARD_KEYS[0] not in sent.body and CARD_KEYS[0] not in sent.subject


@pytest.mark.django_db
def test_english_customer_gets_the_english_email(client, shop, contact_data, django_capture_on_commit_callbacks):
    _post(client, contact_data(email="bob@example.com", name="Bob"), django_capture_on_commit_callbacks,
          HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert Customer.objects.get(email="bob@example.com").language == "en"
    assert mail.outbox[0].subject.startswith("[T-") and "We received your request" in mail.outbox[0].subject


@pytest.mark.django_db
def test_nothing_is_sent_when_the_transaction_does_not_commit(client, shop, contact_data):
    """Outside a committed transaction (the test's wraps the request) the e-mail is recorded but not sent."""
    client.post(CONTACT, contact_data())
    assert OutboxEmail.objects.get().status == OutboxEmail.Status.PENDING
    assert mail.outbox == []


MISSING = [
    ("subject", "", "Please enter a subject."),
    ("description", "", "Please describe the problem."),
    ("email", "", "Please enter your e-mail address."),
    ("email", "not-an-address", "Enter a valid e-mail address, such as name@example.com."),
    ("subject", "x" * 201, "The subject can be at most 200 characters (it has 201)."),
    ("order_no", "NOPE-123", "We could not find this order number in Star Cards."),
    ("category", "999999", "Choose one of the listed categories."),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "message"), MISSING)
def test_each_validation_error_names_the_field_and_keeps_the_typed_text(
    client, shop, order, contact_data, field, value, message
):
    data = contact_data(subject="卡密没到 subject kept", description="描述保留 description kept", order_no="")
    data[field] = value
    response = client.post(CONTACT, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    errors = _errors(response)
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html  # linked through aria-describedby
    assert re.search(rf'<(input|textarea|select)[^>]*aria-describedby="[^"]*id_{field}_error', html) or (
        f'aria-describedby="id_{field}_error' in html
    )
    assert re.search(rf'<(input|textarea|select)[^>]*aria-invalid="true"[^>]*id="id_{field}"', html) or (
        re.search(rf'id="id_{field}"[^>]*aria-invalid="true"', html)
    )
    assert "autofocus" in html and f'href="#id_{field}"' in html  # focus + the summary links the field
    for kept in ("description kept", "zhangsan@example.com"):
        if field not in ("description", "email"):
            assert kept in html
    if field != "subject":
        assert "subject kept" in html
    assert Ticket.objects.count() == 0 and OutboxEmail.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/x-msdownload"), "not accepted"),
        (SimpleUploadedFile("fake.png", b"GIF89a....", content_type="image/png"), "not a valid image/png"),
        ("too-big", "larger than"),
    ],
)
def test_bad_attachments_are_refused_on_the_attachments_field(client, shop, contact_data, settings, upload, message):
    if upload == "too-big":
        settings.ATTACHMENT_MAX_BYTES = 10
        upload = png("big.png")
    response = client.post(CONTACT, contact_data(description="keep me", attachments=[upload]))
    assert response.status_code == 400
    errors = _errors(response)
    assert list(errors) == ["attachments"]
    assert errors["attachments"][0].startswith("Attachments:") and message in errors["attachments"][0]
    html = response.content.decode()
    assert "keep me" in html and "attach your files again" in html
    assert Ticket.objects.count() == 0


@pytest.mark.django_db
def test_too_many_attachments(client, shop, contact_data):
    response = client.post(CONTACT, contact_data(attachments=[png(f"{i}.png") for i in range(6)]))
    assert _errors(response) == {"attachments": ["Attachments: at most 5 files at a time."]}


@pytest.mark.django_db
def test_honeypot_pretends_success_and_creates_nothing(client, shop, contact_data, django_capture_on_commit_callbacks):
    response = _post(client, contact_data(website="http://spam.example"), django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == DONE
    assert Ticket.objects.count() == Customer.objects.count() == OutboxEmail.objects.count() == 0
    assert not AuditEvent.objects.exists() and mail.outbox == []
    page = client.get(DONE).content.decode()
    assert "Thank you" in page and "T-" not in page


@pytest.mark.django_db
def test_rate_limit_per_ip_names_the_limit_and_keeps_input(client, shop, contact_data):
    for n in range(5):
        assert client.post(CONTACT, contact_data(email=f"c{n}@example.com")).status_code == 302
    response = client.post(CONTACT, contact_data(email="c9@example.com", description="still here"))
    assert response.status_code == 429
    assert response.context["form"].non_field_errors() == [
        "Too many requests from your network: at most 5 tickets every 10 minutes. "
        "Please wait a few minutes and send again — what you typed is kept below."
    ]
    assert "still here" in response.content.decode()
    assert Ticket.objects.count() == 5
    # Another network is not affected.
    assert client.post(CONTACT, contact_data(email="c9@example.com"), REMOTE_ADDR="10.0.0.9").status_code == 302


@pytest.mark.django_db
def test_rate_limit_per_email(client, shop, contact_data):
    for n in range(3):
        assert client.post(CONTACT, contact_data(), REMOTE_ADDR=f"10.0.1.{n}").status_code == 302
    response = client.post(CONTACT, contact_data(email="ZhangSan@Example.com"), REMOTE_ADDR="10.0.1.99")
    assert response.status_code == 429
    assert _errors(response) == {
        "email": [
            "Too many requests for this e-mail address: at most 3 tickets every 10 minutes. "
            "Please wait a few minutes, or add to your open ticket with its tracking link."
        ]
    }
    assert Ticket.objects.count() == 3


@pytest.mark.django_db
def test_limits_are_configurable(client, shop, contact_data, settings):
    settings.HELP_CONTACT_RATE_LIMITS = {"ip": (1, 60)}
    assert client.post(CONTACT, contact_data(email="a@example.com")).status_code == 302
    response = client.post(CONTACT, contact_data(email="b@example.com"))
    assert "at most 1 tickets every 1 minutes" in response.context["form"].non_field_errors()[0]


@pytest.mark.django_db
def test_a_cache_outage_never_loses_the_ticket(client, shop, contact_data, monkeypatch):
    from django.core.cache import caches

    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    backend = type(caches["default"])
    monkeypatch.setattr(backend, "add", down)
    monkeypatch.setattr(backend, "incr", down)
    assert client.post(CONTACT, contact_data()).status_code == 302
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_double_submit_of_one_form_opens_one_ticket(client, shop, contact_data):
    data = contact_data()
    first = client.post(CONTACT, data)
    second = client.post(CONTACT, data)
    assert first.status_code == second.status_code == 302
    assert Ticket.objects.count() == 1
    assert Ticket.objects.get().reference in client.get(DONE).content.decode()


@pytest.mark.django_db
def test_a_form_rejected_by_validation_can_be_sent_again(client, shop, contact_data):
    data = contact_data(subject="")
    assert client.post(CONTACT, data).status_code == 400
    data["subject"] = "fixed"
    assert client.post(CONTACT, data).status_code == 302
    assert Ticket.objects.get().subject == "fixed"


@pytest.mark.django_db
def test_deflection_log_ids_reach_the_confirmation_page(client, shop, contact_data):
    client.post(CONTACT, contact_data(kb_log_ids="12,13,bad token!,41:1vXyZ:abc_-D"))
    html = client.get(DONE).content.decode()
    assert 'data-kb-log-ids="12,13,41:1vXyZ:abc_-D"' in html and 'data-outcome-url="/help/search/outcome"' in html


@pytest.mark.django_db
def test_order_of_another_shop_is_unknown_here(client, shop, other_shop, contact_data):
    from tickets import services

    services.order_upsert(shop=other_shop, order_no="MOON-1", actor=None)
    response = client.post(CONTACT, contact_data(order_no="MOON-1"))
    assert _errors(response)["order_no"][0].startswith("We could not find this order number in Star Cards")


@pytest.mark.django_db
def test_logged_in_linked_customer_posts_as_themselves(client, shop, contact_data):
    from tests.factories import make_customer, make_user

    user = make_user(username="portal")
    customer = make_customer(shop, user=user, email="portal@example.com", name="Portal")
    client.force_login(user)
    form = client.get(CONTACT).context["form"]
    assert form.initial["email"] == "portal@example.com"
    client.post(CONTACT, contact_data(email="portal@example.com"))
    ticket = Ticket.objects.get()
    assert ticket.customer == customer
    assert AuditEvent.objects.get(action="ticket.create").actor == user
    html = client.get(reverse("help:my-tickets")).content.decode()
    assert html.count(f'href="/help/my/{ticket.reference}/"') == 1


@pytest.mark.django_db
def test_without_an_active_shop_the_form_says_so(client, contact_data):
    from helpdesk.models import Shop

    Shop.objects.update(is_active=False)
    response = client.post(reverse("help:contact"), contact_data())
    assert response.status_code == 503
    assert "no shop is active" in response.context["form"].non_field_errors()[0]
    assert "付款成功但没有收到卡密" in response.content.decode()
