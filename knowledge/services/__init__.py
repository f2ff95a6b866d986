"""Every write to the knowledge base (STYLE.md habit 1): typed, keyword-only, atomic.

Editorial changes (categories, articles, publishing, archiving) write an audit event in their transaction.
Readers' traces — views, votes, search logs, clicks — are telemetry: each is its own record (or a counter),
not audited, so a busy help centre does not flood the hash-chained trail.

Split by sub-domain: `articles` (editorial, audited), `index` (search columns and vocabulary), `telemetry`
(readers' traces). Callers import from here: `from knowledge import services; services.article_save(...)`.
"""

from knowledge.services.articles import (
    MAX_BODY_CHARS,
    article_archive,
    article_publish,
    article_related_set,
    article_save,
    category_save,
)
from knowledge.services.index import article_reindex, kb_index_rebuild, words_apply
from knowledge.services.telemetry import (
    FeedbackResult,
    Outcome,
    article_view_record,
    feedback_record,
    search_click_record,
    search_clicks_decay,
    search_log_record,
    search_outcome_record,
)

__all__ = [
    "MAX_BODY_CHARS",
    "FeedbackResult",
    "Outcome",
    "article_archive",
    "article_publish",
    "article_reindex",
    "article_related_set",
    "article_save",
    "article_view_record",
    "category_save",
    "feedback_record",
    "kb_index_rebuild",
    "search_click_record",
    "search_clicks_decay",
    "search_log_record",
    "search_outcome_record",
    "words_apply",
]
