"""The search index of an article (its tsvector columns) and the vocabulary of "did you mean" (KbWord)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import Value

from knowledge.models import Article, ArticleStatus, KbWord
from knowledge.search import config_for
from knowledge.text import segmented, vocabulary


@dataclass(frozen=True)
class IndexedText:
    status: str
    language: str
    text: str

    @classmethod
    def of(cls, article: Article) -> IndexedText:
        return cls(article.status, article.language, indexed_text(article))


def indexed_text(article: Article) -> str:
    return "\n".join((article.title, article.summary, article.body_text))


def article_reindex(article: Article) -> None:
    """Rebuild the article's search columns from its text (jieba-segmented; see knowledge.text)."""
    config = config_for(article.language)
    category = article.category.label(article.language)
    Article.objects.filter(pk=article.pk).update(
        search_vector=SearchVector(Value(segmented(article.title)), config=config, weight="A")
        + SearchVector(Value(segmented(f"{article.summary} {category}")), config=config, weight="B")
        + SearchVector(Value(segmented(article.body_text)), config=config, weight="D"),
        title_vector=SearchVector(Value(segmented(article.title)), config=config),
    )


# --- "did you mean" vocabulary ------------------------------------------------------------------------------


def _contribution(snapshot: IndexedText | None) -> tuple[str, Counter[str]]:
    if snapshot is None or snapshot.status != ArticleStatus.PUBLISHED:
        return "", Counter()
    return snapshot.language, vocabulary(snapshot.text)


def words_update(before: IndexedText | None, after: IndexedText) -> None:
    """Move the KbWord frequencies from the article's old text to its new one (published text only)."""
    deltas: dict[tuple[str, str], int] = {}
    old_language, old_words = _contribution(before)
    new_language, new_words = _contribution(after)
    for word, count in old_words.items():
        deltas[(word, old_language)] = deltas.get((word, old_language), 0) - count
    for word, count in new_words.items():
        deltas[(word, new_language)] = deltas.get((word, new_language), 0) + count
    words_apply(deltas)


def words_apply(deltas: dict[tuple[str, str], int]) -> None:
    """Add (word, language) frequency deltas; words that reach zero are removed. Sorted: no lock-order races."""
    plus = sorted((w, lang, n) for (w, lang), n in deltas.items() if n > 0)
    minus = sorted((w, lang, -n) for (w, lang), n in deltas.items() if n < 0)
    with connection.cursor() as cursor:
        if plus:
            cursor.execute(
                """
                INSERT INTO knowledge_kbword (word, language, frequency)
                SELECT w, l, n FROM unnest(%s::text[], %s::text[], %s::int[]) AS t(w, l, n)
                ON CONFLICT (word, language) DO UPDATE SET frequency = knowledge_kbword.frequency + EXCLUDED.frequency
                """,
                [[p[0][:40] for p in plus], [p[1] for p in plus], [p[2] for p in plus]],
            )
        if minus:
            # Two statements: a statement's CTEs cannot see each other's changes to the same rows.
            params = [[m[0][:40] for m in minus], [m[1] for m in minus], [m[2] for m in minus]]
            cursor.execute(
                """
                DELETE FROM knowledge_kbword k USING unnest(%s::text[], %s::text[], %s::int[]) AS d(w, l, n)
                 WHERE k.word = d.w AND k.language = d.l AND k.frequency <= d.n
                """,
                params,
            )
            cursor.execute(
                """
                UPDATE knowledge_kbword k SET frequency = k.frequency - d.n
                  FROM unnest(%s::text[], %s::text[], %s::int[]) AS d(w, l, n)
                 WHERE k.word = d.w AND k.language = d.l
                """,
                params,
            )


@transaction.atomic
def kb_index_rebuild(*, article_ids: Iterable[int] | None = None) -> int:
    """Recompute the search columns (of the given articles, else all) and the whole vocabulary."""
    articles = Article.objects.select_related("category").order_by("id")
    if article_ids is not None:
        articles = articles.filter(pk__in=list(article_ids))
    count = 0
    for article in articles.iterator(chunk_size=500):
        article_reindex(article)
        count += 1
    KbWord.objects.all().delete()
    totals: Counter[tuple[str, str]] = Counter()
    published = Article.objects.filter(status=ArticleStatus.PUBLISHED).only("title", "summary", "body_text", "language")
    for article in published.iterator(chunk_size=500):
        for word, n in vocabulary(indexed_text(article)).items():
            totals[(word, article.language)] += n
    words_apply(dict(totals))
    return count
