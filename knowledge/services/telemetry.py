"""Readers' traces: views, "was this helpful?" votes, search logs, clicks and search outcomes.

Telemetry, not editorial changes: each is its own record (or a counter) and is not audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.models import Shop
from knowledge.models import Article, ArticleFeedback, SearchClick, SearchLog, SearchSource
from knowledge.text import normalise_query
from tickets.errors import InvalidInput

SEARCH_COLLAPSE_SECONDS = 60


def article_view_record(*, article_id: int) -> None:
    """One more view: a single UPDATE with F(), no read, no lock held beyond the statement."""
    Article.objects.filter(pk=article_id).update(view_count=F("view_count") + 1)


@dataclass(frozen=True)
class FeedbackResult:
    feedback: ArticleFeedback
    created: bool  # False: this session had voted already; the vote stands (a comment may be added)


@transaction.atomic
def feedback_record(
    *,
    article: Article,
    helpful: bool,
    session_key_hash: str,
    comment: str = "",
    search_log_id: int | None = None,
) -> FeedbackResult:
    """Record a "was this helpful?" vote, once per article and session (a unique constraint guards races).

    A repeated vote changes nothing, except that a comment may be added to a vote that had none. A helpful
    vote after a search marks that search as deflected (the customer found the answer).
    """
    if not session_key_hash:
        raise InvalidInput("Votes need a session.", field="session")
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise InvalidInput("The comment is longer than 2000 characters.", field="comment")
    log = SearchLog.objects.filter(pk=search_log_id).only("id").first() if search_log_id else None
    feedback, created = ArticleFeedback.objects.get_or_create(
        article=article,
        session_key_hash=session_key_hash,
        defaults={"helpful": helpful, "comment": comment, "language": article.language, "search_log": log},
    )
    if created:
        counter = "helpful_yes" if helpful else "helpful_no"
        Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
        if helpful and log is not None:
            SearchLog.objects.filter(pk=log.pk, led_to_ticket=False).update(deflected=True)
    elif comment and not feedback.comment:
        feedback.comment = comment
        feedback.save(update_fields=["comment"])
    return FeedbackResult(feedback, created)


def _continues(previous: str, current: str, source: str) -> bool:
    if source == SearchSource.SUGGEST:
        return current.startswith(previous) or previous.startswith(current)
    return current == previous


@transaction.atomic
def search_log_record(
    *,
    query: str,
    language: str,
    result_count: int,
    source: str = SearchSource.PAGE,
    session_key_hash: str = "",
    shop: Shop | None = None,
) -> SearchLog:
    """Log a search. A session's next keystroke (suggestions: the query grows or shrinks) or a reload of
    the same results page within a minute updates its last row instead of adding one, so the statistics
    count searches, not keystrokes.

    Committed asynchronously when it is its own transaction (synchronous_commit off for this transaction
    only): a suggestion request does not wait for the WAL flush, and a database crash may lose the last
    fraction of a second of search logs — statistics. Inside a caller's transaction it changes nothing, so it
    never weakens the commit of a ticket or a message.
    """
    query = (query or "").strip()[:200]
    normalised = normalise_query(query)
    if not connection.savepoint_ids:  # the outermost atomic block: the transaction is ours alone
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    if session_key_hash:
        since = timezone.now() - timedelta(seconds=SEARCH_COLLAPSE_SECONDS)
        recent = (
            SearchLog.objects.filter(session_key_hash=session_key_hash, created_at__gte=since).order_by("-id").first()
        )
        if (
            recent is not None
            and recent.source == source
            and recent.language == language
            and recent.shop_id == (shop.pk if shop else None)
            and recent.clicked_article_id is None
            and not recent.led_to_ticket
            and not recent.deflected
            and _continues(recent.normalised_query, normalised, source)
        ):
            recent.query, recent.normalised_query, recent.result_count = query, normalised, result_count
            recent.save(update_fields=["query", "normalised_query", "result_count"])
            return recent
    return SearchLog.objects.create(
        query=query,
        normalised_query=normalised,
        language=language,
        result_count=result_count,
        source=source,
        session_key_hash=session_key_hash,
        shop=shop,
    )


@transaction.atomic
def search_click_record(*, log_id: int, article: Article) -> bool:
    """The searcher of `log_id` opened `article`. The first time a session opens an article for a query,
    the (query, article) click count grows: that article ranks higher for the query from then on."""
    log = SearchLog.objects.select_for_update().filter(pk=log_id).first()
    if log is None or log.clicked_article_id == article.pk:
        return False
    log.clicked_article = article
    log.save(update_fields=["clicked_article"])
    if not log.normalised_query:
        return True
    repeated = (
        log.session_key_hash
        and SearchLog.objects.filter(
            session_key_hash=log.session_key_hash, normalised_query=log.normalised_query, clicked_article=article
        )
        .exclude(pk=log.pk)
        .exists()
    )
    if not repeated:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO knowledge_searchclick (normalised_query, language, article_id, clicks, last_clicked_at)
                VALUES (%s, %s, %s, 1, now())
                ON CONFLICT (normalised_query, language, article_id)
                DO UPDATE SET clicks = knowledge_searchclick.clicks + 1, last_clicked_at = now()
                """,
                [log.normalised_query, article.language, article.pk],
            )
    return True


class Outcome:
    TICKET = "ticket"
    DEFLECTED = "deflected"
    CLICK = "click"
    ALL = (TICKET, DEFLECTED, CLICK)


@transaction.atomic
def search_outcome_record(*, log_ids: Sequence[int], outcome: str, article: Article | None = None) -> int:
    """What came of some searches: a ticket was filed, the customer left satisfied (having read `article`,
    when given), or opened `article`. The caller vouches that the logs are the client's (signed tokens or
    ownership checked, see knowledge.views.beacon).

    Idempotent. A ticket outranks a deflection (a deflected search that then leads to a ticket is a ticket).
    Returns how many logs changed.
    """
    ids = sorted({int(i) for i in log_ids})
    if outcome not in Outcome.ALL:
        raise InvalidInput(f"Unknown outcome {outcome!r}.", field="outcome")
    if not ids:
        return 0
    if outcome == Outcome.TICKET:
        return (
            SearchLog.objects.filter(pk__in=ids)
            .exclude(led_to_ticket=True, deflected=False)
            .update(led_to_ticket=True, deflected=False)
        )
    if outcome == Outcome.DEFLECTED:
        clicked = sum(search_click_record(log_id=log_id, article=article) for log_id in ids) if article else 0
        deflected = SearchLog.objects.filter(pk__in=ids, led_to_ticket=False, deflected=False).update(deflected=True)
        return max(clicked, deflected)
    if article is None:
        raise InvalidInput("A click names the article.", field="article")
    return sum(search_click_record(log_id=log_id, article=article) for log_id in ids)


@transaction.atomic
def search_clicks_decay(*, factor: float = 0.5, floor: float = 0.05) -> int:
    """Age the learned boosts (weekly): old favourites fade unless searchers keep choosing them."""
    SearchClick.objects.update(clicks=F("clicks") * factor)
    deleted, _detail = SearchClick.objects.filter(clicks__lt=floor).delete()
    return deleted
