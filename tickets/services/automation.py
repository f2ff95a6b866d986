"""What runs after a ticket is created or a customer writes (a Celery task queued after commit): sentiment,
the learning classifier, the rules, then routing. Every change goes through the ticket services, so it is
audited (actor "rule:<id>", "classifier", "sentiment", "routing") and broadcast like an agent's."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from helpdesk import context, realtime
from helpdesk.audit import audit_record
from tickets.automation.businesstime import is_open
from tickets.automation.rules import Facts, rule_matches
from tickets.automation.sentiment import score as sentiment_score
from tickets.locks import lock_ticket
from tickets.models import (
    AuthorKind,
    CannedReply,
    Category,
    Message,
    Priority,
    Queue,
    Rule,
    RuleExecution,
    RuleTrigger,
    Status,
    Ticket,
)
from tickets.services.classifier import classifier_predict
from tickets.services.content import body_text
from tickets.services.messages import bot_reply_post
from tickets.services.routing import ticket_route
from tickets.services.sla import RAISE, schedule_for
from tickets.services.tickets import ticket_assign, ticket_update

logger = logging.getLogger(__name__)


@dataclass
class AutomationResult:
    ticket_id: int
    sentiment: float | None = None
    intent: str = ""
    confidence: float | None = None
    rules: list[int] = field(default_factory=list)
    routed_to: int | None = None


def _message(ticket: Ticket, seq: int) -> Message | None:
    return Message.objects.filter(ticket=ticket, seq=seq, author_kind=AuthorKind.CUSTOMER).first()


def facts_for(ticket: Ticket, text: str) -> Facts:
    order = ticket.order
    calendar = ticket.queue.calendar if ticket.queue_id and ticket.queue.calendar_id else None
    return Facts(
        text=f"{ticket.subject}\n{text}",
        subject=ticket.subject,
        channel=ticket.channel,
        tier=ticket.customer.tier,
        category=ticket.category.slug if ticket.category_id else "",
        shop=ticket.shop.slug,
        priority=ticket.priority,
        payment_status=order.payment_status if order else "",
        delivery_status=order.delivery_status if order else "",
        intent=ticket.intent,
        language=ticket.language,
        order_amount=order.amount if order else None,
        sentiment=ticket.sentiment,
        business_hours=calendar is None or is_open(schedule_for(calendar), timezone.now()),
        has_order=order is not None,
    )


def automation_run(*, ticket_id: int, trigger: str, seq: int) -> AutomationResult:
    """Run the pipeline for one ticket event. Idempotent: each rule runs at most once per (ticket, event)."""
    result = AutomationResult(ticket_id)
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        if not ticket.is_open or ticket.merged_into_id:
            return result
        message = _message(ticket, seq)
        text = body_text(message.body) if message else ""
        if message is not None and message.sentiment is None:
            _sentiment(ticket, message, text, result)
        if trigger == RuleTrigger.CREATED and not ticket.intent:
            _classify(ticket, text, result)
    with transaction.atomic():
        ticket = _reload(ticket_id)
        _rules(ticket, trigger, seq, text, result)
    if trigger == RuleTrigger.CREATED:
        routed = ticket_route(ticket_id=ticket_id)
        result.routed_to = routed.assignee_id if routed.reason in {"assigned", "urgent"} else None
    return result


def _reload(ticket_id: int) -> Ticket:
    lock_ticket(ticket_id)
    return Ticket.objects.select_related("customer", "order", "category", "shop", "queue__calendar").get(pk=ticket_id)


def _sentiment(ticket: Ticket, message: Message, text: str, result: AutomationResult) -> None:
    reading = sentiment_score(text)
    result.sentiment = reading.score
    message.sentiment = reading.score
    message.save(update_fields=["sentiment"])
    ticket.sentiment = reading.score
    ticket.save(update_fields=["sentiment"])
    if not reading.strongly_negative:
        return
    with context.bound(actor_label="sentiment"):
        audit_record(
            actor=None,
            action="ticket.sentiment_alert",
            obj=ticket,
            changes={"score": round(reading.score, 3), "seq": message.seq, "words": list(reading.hits)[:10]},
        )
        if ticket.priority in RAISE:
            ticket_update(ticket=ticket, actor=None, priority=RAISE[ticket.priority])
    realtime.broadcast_on_commit(
        [realtime.SUPERVISORS_GROUP],
        {
            "type": "ticket.sentiment_alert",
            "ticket": ticket.pk,
            "reference": ticket.reference,
            "score": round(reading.score, 3),
        },
    )


def _classify(ticket: Ticket, text: str, result: AutomationResult) -> None:
    prediction = classifier_predict(f"{ticket.subject}\n{text}")
    if prediction is None:
        return
    result.intent, result.confidence = prediction.label, prediction.confidence
    ticket.intent = prediction.label
    ticket.intent_confidence = prediction.confidence
    ticket.save(update_fields=["intent", "intent_confidence"])
    if ticket.category_id or prediction.confidence < settings.CLASSIFIER_MIN_CONFIDENCE:
        return
    category = Category.objects.filter(slug=prediction.label, is_active=True).select_related("default_queue").first()
    if category is None:
        return
    with context.bound(actor_label="classifier"):
        queue = category.default_queue if ticket.queue_id is None and category.default_queue_id else None
        if queue is not None:
            ticket_update(ticket=ticket, actor=None, category=category, queue=queue)
        else:
            ticket_update(ticket=ticket, actor=None, category=category)


@dataclass
class _Plan:
    """What the matched rules decided, applied as one audited ticket_update (one lock, one save, one SLA
    refresh, one broadcast) instead of one per action; side effects (assign, notify, canned reply) follow."""

    tags: list[str]
    priority: str | None = None
    category: Category | None = None
    queue: Queue | None = None
    effects: list[dict] = field(default_factory=list)
    rule_ids: list[int] = field(default_factory=list)


def _rules(ticket: Ticket, trigger: str, seq: int, text: str, result: AutomationResult) -> None:
    rules = Rule.objects.filter(is_active=True, triggers__contains=[trigger]).order_by("position", "id")
    rules = rules.filter(shop__isnull=True) | rules.filter(shop_id=ticket.shop_id)
    plan = _Plan(tags=list(ticket.tags.values_list("name", flat=True)))
    facts = facts_for(ticket, text)
    for rule in rules:
        if not rule_matches(rule.conditions, facts, match_all=rule.match_all):
            continue
        _, created = RuleExecution.objects.get_or_create(
            rule=rule, ticket=ticket, trigger=trigger, seq=seq, defaults={"applied": rule.actions}
        )
        if not created:
            continue  # a retried task: this rule already acted on this event
        for action in rule.actions:
            facts = _plan(plan, ticket, facts, action)
        plan.rule_ids.append(rule.pk)
        result.rules.append(rule.pk)
        if rule.stop_processing:
            break
    if not plan.rule_ids:
        return
    with context.bound(actor_label="rule:" + ",".join(str(pk) for pk in plan.rule_ids)):
        changes: dict = {}
        if set(plan.tags) != set(ticket.tags.values_list("name", flat=True)):
            changes["tags"] = plan.tags
        if plan.priority and plan.priority != ticket.priority:
            changes["priority"] = plan.priority
        if plan.category is not None and plan.category.pk != ticket.category_id:
            changes["category"] = plan.category
        if plan.queue is not None and plan.queue.pk != ticket.queue_id:
            changes["queue"] = plan.queue
        if changes:
            ticket = ticket_update(ticket=ticket, actor=None, **changes)
        for effect in plan.effects:
            ticket = _reload(ticket.pk)
            _effect(ticket, effect)


def _plan(plan: _Plan, ticket: Ticket, facts: Facts, action: dict) -> Facts:
    """Fold one action into the plan; later rules see its result (a category set by one rule is the next
    rule's `category`)."""
    kind, value = action["type"], action.get("value")
    if kind == "add_tags":
        plan.tags.extend(v for v in value if v not in plan.tags)
    elif kind == "set_priority" and value in Priority.values:
        plan.priority = value
        facts = replace(facts, priority=value)
    elif kind in {"set_category", "suggest_category"}:
        if kind == "suggest_category" and facts.category:
            return facts
        category = Category.objects.filter(slug=value, is_active=True).first()
        if category is not None:
            plan.category = category
            facts = replace(facts, category=category.slug)
    elif kind == "set_queue":
        queue = Queue.objects.filter(slug=value, is_active=True).first()
        if queue is not None and queue.shop_id in (None, ticket.shop_id):
            plan.queue = queue
    else:
        plan.effects.append(action)
    return facts


def _effect(ticket: Ticket, action: dict) -> None:
    kind, value = action["type"], action.get("value")
    if kind == "assign":
        _assign(ticket, value)
    elif kind == "notify":
        _notify(ticket, value)
    elif kind == "canned_reply":
        _canned(ticket, value)


def _assign(ticket: Ticket, value: str) -> None:
    if value == "auto":
        ticket_route(ticket_id=ticket.pk, force=True)
        return
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=value, is_active=True).first()
    if user is None:
        logger.warning("rule assigns to unknown user %s", value)
        return
    try:
        ticket_assign(ticket=ticket, actor=None, assignee=user)
    except Exception:  # the user does not work this queue: the log says so, nothing else changes
        logger.warning("rule could not assign ticket %s to %s", ticket.pk, value, exc_info=True)


def _notify(ticket: Ticket, target: str) -> None:
    groups = {
        "supervisors": [realtime.SUPERVISORS_GROUP],
        "assignee": [realtime.user_group(ticket.assignee_id)] if ticket.assignee_id else [],
        "queue": [realtime.queue_group(ticket.queue_id)] if ticket.queue_id else [],
    }[target]
    audit_record(actor=None, action="ticket.rule_notify", obj=ticket, changes={"target": target})
    realtime.broadcast_on_commit(
        groups, {"type": "ticket.rule_alert", "ticket": ticket.pk, "reference": ticket.reference, "target": target}
    )


def _canned(ticket: Ticket, shortcut: str) -> None:
    from tickets.selectors.console import canned_reply_render

    if ticket.status in {Status.SOLVED, Status.CLOSED}:
        return
    replies = CannedReply.objects.filter(shortcut=shortcut, is_active=True).filter(
        Q(shop__isnull=True) | Q(shop_id=ticket.shop_id)
    )
    reply = replies.filter(language=ticket.language).first() or replies.first()
    if reply is None:
        logger.warning("rule names unknown canned reply %s", shortcut)
        return
    body = canned_reply_render(reply.body, ticket=ticket, agent=None)
    bot_reply_post(ticket=ticket, body=body, author_name="CardDesk")


PREVIEW_SCAN = 2000


def rule_preview(rule: Rule, *, limit: int = 50) -> tuple[list[Ticket], int]:
    """Dry run: which of the newest PREVIEW_SCAN open tickets would match now, changing nothing. Returns the
    matches (at most `limit`) and how many tickets were looked at."""
    scope = Ticket.objects.filter(status__in=[Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD])
    if rule.shop_id:
        scope = scope.filter(shop_id=rule.shop_id)
    latest = Message.objects.filter(ticket=OuterRef("pk"), author_kind=AuthorKind.CUSTOMER).order_by("-seq")
    scope = (
        scope.select_related("customer", "order", "category", "shop", "queue__calendar")
        .annotate(last_customer_body=Subquery(latest.values("body")[:1]))
        .order_by("-id")
    )
    matched: list[Ticket] = []
    scanned = 0
    for ticket in scope[:PREVIEW_SCAN].iterator(chunk_size=200):
        scanned += 1
        facts = facts_for(ticket, body_text(ticket.last_customer_body or ""))
        if rule_matches(rule.conditions, facts, match_all=rule.match_all):
            matched.append(ticket)
            if len(matched) >= limit:
                break
    return matched, scanned
