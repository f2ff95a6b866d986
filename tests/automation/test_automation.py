"""The automation pipeline (sentiment → classifier → rules → routing) on real tickets, through the task."""

from __future__ import annotations

import pytest

from helpdesk.models import AuditEvent
from tests.factories import CategoryFactory, make_agent, make_customer, make_ticket
from tickets import services
from tickets.models import ClassifierModel, Priority, Rule, RuleExecution, Ticket
from tickets.services.automation import automation_run, rule_preview
from tickets.services.automation_setup import automation_defaults_install
from tickets.services.classifier import classifier_train

pytestmark = pytest.mark.django_db

LEAVES = [
    "payment-not-received",
    "payment-double-charge",
    "delivery-card-key-missing",
    "product-invalid-key",
    "product-out-of-stock",
    "refund",
    "account-security",
    "merchant-settlement",
    "how-to-redeem",
]


@pytest.fixture
def categories(queue):
    return {slug: CategoryFactory(slug=slug, default_queue=queue) for slug in LEAVES}


@pytest.fixture
def builtins(categories):
    automation_defaults_install(train=False)


def run(ticket: Ticket, trigger: str = "created", seq: int = 1):
    result = automation_run(ticket_id=ticket.pk, trigger=trigger, seq=seq)
    return result, Ticket.objects.get(pk=ticket.pk)


def tags(ticket: Ticket) -> set[str]:
    return set(ticket.tags.values_list("name", flat=True))


def test_defaults_install_once_and_leave_edits_alone(builtins):
    count = Rule.objects.count()
    assert count >= 12 and Rule.objects.filter(is_builtin=True).count() == count
    rule = Rule.objects.get(name__startswith="重复扣款")
    rule.is_active = False
    rule.save()
    again = automation_defaults_install(train=False)
    assert (again.rules, again.policies, again.calendars) == (0, 0, 0)
    assert Rule.objects.get(pk=rule.pk).is_active is False


@pytest.mark.parametrize(
    ("subject", "body", "category", "tag"),
    [
        ("重复扣款", "同一个订单支付宝扣了两次钱，麻烦处理", "payment-double-charge", "double-charge"),
        ("卡密没收到", "付款半小时了还没有收到卡密，订单DD2026120100123", "delivery-card-key-missing", "delivery"),
        ("Code does not work", "The Steam code says already redeemed", "product-invalid-key", "invalid-key"),
        ("What about stock", "PUBG UC 600 is sold out, when is the restock?", "product-out-of-stock", "stock"),
        ("提现问题", "寄售的货款什么时候结算到账", "merchant-settlement", "merchant"),
    ],
)
def test_builtin_rules_tag_and_categorise_zh_and_en(builtins, shop, queue, subject, body, category, tag):
    result, ticket = run(make_ticket(shop=shop, subject=subject, body=body))
    assert ticket.category.slug == category
    assert tag in tags(ticket)
    assert result.rules


def test_a_category_already_chosen_is_never_overwritten_but_tags_apply(builtins, shop, categories):
    chosen = categories["refund"]
    _, ticket = run(make_ticket(shop=shop, category=chosen, subject="扣了两次", body="重复扣款了，要退款"))
    assert ticket.category == chosen
    assert {"double-charge", "refund"} <= tags(ticket)


def test_tier_and_order_amount_tags(builtins, shop):
    vip = make_customer(shop, external_id="vip-9", tier="vip")
    order = services.order_upsert(shop=shop, actor=None, customer=vip, order_no="DD900", amount="888.00")
    _, ticket = run(make_ticket(shop=shop, customer=vip, order=order, subject="咨询", body="你好"))
    assert {"vip", "high-value"} <= tags(ticket)


def test_complaint_threat_goes_urgent_alerts_supervisors_and_is_audited(builtins, shop):
    _, ticket = run(make_ticket(shop=shop, subject="黑店", body="再不处理我就去12315投诉，你们就是骗子！！！"))
    assert ticket.priority == Priority.URGENT
    assert "complaint-risk" in tags(ticket)
    actions = set(AuditEvent.objects.filter(object_id=str(ticket.pk)).values_list("action", flat=True))
    assert {"ticket.rule_notify", "ticket.update"} <= actions
    labels = set(AuditEvent.objects.filter(object_id=str(ticket.pk)).values_list("actor_label", flat=True))
    assert any(label.startswith("rule:") for label in labels)


def test_strongly_negative_sentiment_raises_priority_and_is_stored_per_message(shop):
    ticket = make_ticket(shop=shop, subject="垃圾", body="什么垃圾平台，气死我了，太恶心了！！！")
    result, ticket = run(ticket)
    assert result.sentiment is not None and result.sentiment <= -0.6
    assert ticket.priority == Priority.HIGH
    assert ticket.messages.get(seq=1).sentiment == pytest.approx(result.sentiment)
    assert AuditEvent.objects.filter(object_id=str(ticket.pk), action="ticket.sentiment_alert").exists()


def test_running_twice_applies_each_rule_once(builtins, shop):
    ticket = make_ticket(shop=shop, subject="重复扣款", body="扣了两次")
    run(ticket)
    executions = RuleExecution.objects.filter(ticket=ticket).count()
    second, _ = run(ticket)
    assert second.rules == [] and RuleExecution.objects.filter(ticket=ticket).count() == executions


def test_customer_message_trigger_runs_its_rules(builtins, shop, queue):
    agent = make_agent(queue)
    ticket = make_ticket(shop=shop, queue=queue, subject="卡密", body="请问卡密怎么用")
    services.agent_reply_post(ticket=ticket, actor=agent, body="请在游戏内兑换")
    posted = services.customer_message_post(ticket=ticket, actor=None, body="还是不行，我要报警了")
    _, ticket = run(ticket, "customer_message", posted.message.seq)
    assert ticket.priority == Priority.URGENT and "complaint-risk" in tags(ticket)


def test_classifier_sets_intent_and_a_confident_category(categories, shop, queue, settings):
    settings.CLASSIFIER_MIN_CONFIDENCE = 0.3
    classifier_train()
    assert ClassifierModel.objects.filter(is_active=True).count() == 1
    result, ticket = run(make_ticket(shop=shop, subject="账号被盗了", body="我的账号被别人异地登录了，密码也被改了"))
    assert result.intent == "account-security" and ticket.intent == "account-security"
    assert ticket.intent_confidence == pytest.approx(result.confidence)
    assert ticket.category.slug == "account-security" and ticket.queue == queue


def test_classifier_below_threshold_records_intent_only(categories, shop, settings):
    settings.CLASSIFIER_MIN_CONFIDENCE = 1.01
    classifier_train()
    _, ticket = run(make_ticket(shop=shop, subject="问题", body="重复扣款了两次"))
    assert ticket.intent and ticket.category is None


def test_agent_confirmed_categories_train_the_next_model(categories, shop, queue):
    agent = make_agent(queue)
    for i in range(3):
        ticket = make_ticket(shop=shop, queue=queue, subject=f"奇怪的问题 {i}", body="独角兽星球的兑换码")
        services.ticket_update(ticket=ticket, actor=agent, category=categories["how-to-redeem"])
    row = classifier_train()
    assert row.metrics["from_tickets"] == 3


def test_dry_run_preview_lists_matching_open_tickets_and_changes_nothing(builtins, shop):
    hit = make_ticket(shop=shop, subject="重复扣款", body="扣了两次钱")
    make_ticket(shop=shop, subject="你好", body="请问营业时间")
    rule = Rule.objects.get(name__startswith="重复扣款")
    matched, scanned = rule_preview(rule)
    assert [t.pk for t in matched] == [hit.pk] and scanned == 2
    assert RuleExecution.objects.count() == 0 and not Ticket.objects.get(pk=hit.pk).tags.exists()
