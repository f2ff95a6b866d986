"""The search engine under `knowledge.selectors.kb_search`: SQL for ranked full-text search and spelling.

Ranking every match of a common word costs O(matches) (274 ms at 100k articles, DESIGN.md §6), so a query
first takes a *capped* candidate set without ordering — up to TITLE_CAP articles whose title matches and up to
CANDIDATE_CAP whose text matches, straight off the per-language GIN indexes (or the first rows of a sequential
scan, for a word most articles have) — and only those are ranked:

    score = ts_rank_cd(search_vector, query, 32)                 cover density, title A > summary B > body D
          + CLICK_WEIGHT   · ln(1 + clicks for this query)       learned from searchers' clicks (SearchClick)
          + VIEWS_WEIGHT   · ln(1 + views)                       popularity, a tie-breaker
          + HELPFUL_WEIGHT · (smoothed helpful ratio − ½)        readers' votes, a tie-breaker

"Did you mean" looks up the query's words in KbWord (distinct words of the published articles) and offers,
for an unknown word, the indexed word with the smallest edit distance among its trigram neighbours, the
more frequent first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from knowledge.text import ZH_STOPWORDS, QueryTerm, is_cjk, latin_root, levenshtein, normalise_query, tokenizer

CANDIDATE_CAP = 200
TITLE_CAP = 100
SUGGEST_CAPS = (40, 80)  # (title, text) candidates for suggestions
CLICK_WEIGHT = 0.08
VIEWS_WEIGHT = 0.004
HELPFUL_WEIGHT = 0.04
CJK_SIMILARITY = 0.2  # two-character Chinese words share few trigrams: 卡密 / 卡蜜 score 0.2

_VISIBLE = """
    a.language = %(language)s AND a.status = 'published' AND a.publish_at <= %(now)s
    AND (a.shop_id IS NULL OR a.shop_id = %(shop_id)s)
"""
# Inlined (not a CTE) so the planner sees the lexemes and their frequencies: for a word in half the articles
# a sequential scan finds the first candidates at once, for a rare one the language's GIN index does.
_QUERY = "to_tsquery(%(config)s::regconfig, %(tsquery)s)"
_CANDIDATE_COLUMNS = "a.id, a.search_vector, a.view_count, a.helpful_yes, a.helpful_no"

# Built from constant fragments only; every value is a bound parameter.
RANKED_SQL = f"""
WITH candidates AS (
    (SELECT {_CANDIDATE_COLUMNS} FROM knowledge_article a
      WHERE a.title_vector @@ {_QUERY} AND {_VISIBLE} LIMIT %(title_cap)s)
    UNION ALL
    (SELECT {_CANDIDATE_COLUMNS} FROM knowledge_article a
      WHERE a.search_vector @@ {_QUERY} AND {_VISIBLE} LIMIT %(cap)s)
),
ranked AS (
    SELECT u.id,
           ts_rank_cd(u.search_vector, {_QUERY}, 32)
             + %(click_weight)s * ln(1 + coalesce(c.clicks, 0))
             + %(views_weight)s * ln(1 + u.view_count)
             + %(helpful_weight)s * ((u.helpful_yes + 1.0) / (u.helpful_yes + u.helpful_no + 2.0) - 0.5) AS score,
           count(*) OVER () AS total
      FROM (SELECT DISTINCT ON (id) * FROM candidates ORDER BY id) u
      LEFT JOIN knowledge_searchclick c
        ON c.article_id = u.id AND c.normalised_query = %(normalised)s AND c.language = %(language)s
     ORDER BY score DESC, u.id
     LIMIT %(limit)s
)
SELECT r.id, r.score, r.total, a.title, a.slug, a.summary, left(a.body_text, 6000), a.language,
       k.slug, k.name, k.name_en
  FROM ranked r
  JOIN knowledge_article a ON a.id = r.id
  JOIN knowledge_kbcategory k ON k.id = a.category_id
 ORDER BY r.score DESC, r.id
"""  # noqa: S608

SPELLING_KNOWN_SQL = "SELECT DISTINCT word FROM knowledge_kbword WHERE word = ANY(%s)"

SPELLING_CANDIDATES_SQL = """
SELECT t.token,
       (SELECT coalesce(json_agg(json_build_array(c.word, c.frequency)), '[]'::json)
          FROM (SELECT k.word, sum(k.frequency) AS frequency, max(similarity(k.word, t.token)) AS sim
                  FROM knowledge_kbword k
                 WHERE k.word %% t.token
                 GROUP BY k.word
                 ORDER BY sim DESC, frequency DESC
                 LIMIT 10) c)
  FROM unnest(%s::text[]) AS t(token)
"""


def config_for(language: str) -> str:
    """Chinese: jieba tokens as they are ('simple'); English: stemmed and without stop words ('english')."""
    return "simple" if language == "zh-hans" else "english"


@dataclass(frozen=True)
class RankedRow:
    id: int
    score: float
    total: int
    title: str
    slug: str
    summary: str
    body_text: str
    language: str
    category_slug: str
    category_name: str
    category_name_en: str


def ranked(
    tsquery: str,
    *,
    language: str,
    shop_id: int | None,
    normalised: str,
    now: datetime,
    limit: int,
    caps: tuple[int, int] | None = None,
) -> list[RankedRow]:
    """One query: capped candidates, ranked, the best `limit` with what a result shows.

    `caps` (title matches, text matches) bound the candidates; suggestions, which show five, take fewer.
    """
    title_cap, cap = caps or (TITLE_CAP, CANDIDATE_CAP)
    params = {
        "config": config_for(language),
        "tsquery": tsquery,
        "language": language,
        "now": now,
        "shop_id": shop_id,
        "title_cap": title_cap,
        "cap": cap,
        "click_weight": CLICK_WEIGHT,
        "views_weight": VIEWS_WEIGHT,
        "helpful_weight": HELPFUL_WEIGHT,
        "normalised": normalised,
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(RANKED_SQL, params)
        return [RankedRow(*row) for row in cursor.fetchall()]


# --- did you mean -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Word:
    surface: str  # as typed (normalised)
    cjk: bool


def _spelling_words(query: str) -> list[_Word]:
    """Words to check: Latin words of 3+ letters; Chinese words, with runs of single characters joined
    (jieba splits an unknown 卡蜜 into 卡 / 蜜: the typo is the pair)."""
    words: list[_Word] = []
    for piece in normalise_query(query).split():
        if not is_cjk(piece):
            if piece.isalpha() and piece.isascii() and 3 <= len(piece) <= 30:
                words.append(_Word(piece, False))
            continue
        run = ""
        for token in [*tokenizer().cut(piece, HMM=False), ""]:
            if len(token) == 1 and is_cjk(token) and token not in ZH_STOPWORDS:
                run += token
                continue
            if 2 <= len(run) <= 6:
                words.append(_Word(run, True))
            run = ""
            if 2 <= len(token) <= 6 and is_cjk(token) and token not in ZH_STOPWORDS:
                words.append(_Word(token, True))
    return words


def _best_correction(word: _Word, candidates: list[list]) -> str | None:
    limit = 1 if word.cjk or len(word.surface) <= 4 else 2
    best: tuple[int, int, str] | None = None
    for candidate, frequency in candidates:
        if candidate == word.surface or (not word.cjk and latin_root(candidate) == latin_root(word.surface)):
            continue  # an inflection of the same word finds the same articles
        distance = levenshtein(candidate, word.surface)
        if distance > limit:
            continue
        key = (distance, -int(frequency), candidate)
        if best is None or key < best:
            best = key
    return best[2] if best else None


def did_you_mean(query: str) -> str | None:
    """The query with its unknown words corrected, or None. One query when every word is known, two else."""
    words = _spelling_words(query)
    if not words:
        return None
    surfaces = sorted({w.surface for w in words})
    with connection.cursor() as cursor:
        cursor.execute(SPELLING_KNOWN_SQL, [surfaces])
        known = {row[0] for row in cursor.fetchall()}
    unknown = [w for w in words if w.surface not in known]
    if not unknown:
        return None
    with transaction.atomic(), connection.cursor() as cursor:
        if any(w.cjk for w in unknown):
            cursor.execute(f"SET LOCAL pg_trgm.similarity_threshold = {CJK_SIMILARITY}")
        cursor.execute(SPELLING_CANDIDATES_SQL, [[w.surface for w in unknown]])
        candidates = dict(cursor.fetchall())
    corrected = normalise_query(query)
    changed = False
    for word in unknown:
        correction = _best_correction(word, candidates.get(word.surface) or [])
        if correction:
            corrected = _replace_word(corrected, word, correction)
            changed = True
    return corrected if changed else None


def _replace_word(text: str, word: _Word, correction: str) -> str:
    if word.cjk:
        return text.replace(word.surface, correction, 1)
    return " ".join(correction if part == word.surface else part for part in text.split(" "))


def terms_language_hint(terms: list[QueryTerm]) -> str:
    """The language a query is most likely written in: Chinese if any word is, else English."""
    return "zh-hans" if any(t.cjk for t in terms) else "en"
