"""Text handling for the knowledge base: Markdown → safe HTML, Chinese segmentation, query terms, snippets.

Chinese has no spaces, so PostgreSQL's parser cannot find its words: jieba segments CJK runs both when an
article is indexed (search mode: a compound and its parts, 重复扣款 → 重复 扣款 重复扣款) and when a query is
parsed (precise mode, each word matching either itself or all of its parts). Latin runs are left to
PostgreSQL ('simple' lower-cases, 'english' also stems).
"""

from __future__ import annotations

import html
import logging
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import jieba
import markdown
import nh3

jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary loading at DEBUG to stderr otherwise

# --- Markdown → sanitised HTML ------------------------------------------------------------------------------

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em", "i", "u", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "kbd", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
_HEADING = re.compile(r"<(/?)h([1-5])\b")
_BLOCK_END = re.compile(r"</(p|li|h[1-6]|tr|pre|blockquote|table|ul|ol)>|<br\s*/?>|<hr\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def render_markdown(source: str) -> str:
    """Markdown to HTML that is safe to show: an allowlist of tags and attributes, http(s)/mailto links only,
    rel="noopener noreferrer" on every link. Headings move down one level (the page's title is the h1)."""
    rendered = markdown.markdown(source or "", extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
    if "<h1" in rendered:
        rendered = _HEADING.sub(lambda m: f"<{m[1]}h{int(m[2]) + 1}", rendered)
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def html_to_text(fragment: str) -> str:
    """Plain text of rendered HTML, one line per block (for snippets and the search index)."""
    text = _BLOCK_END.sub("\n", fragment)
    text = html.unescape(_TAG.sub("", text))
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n", text).strip()


# --- segmentation -------------------------------------------------------------------------------------------

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+")
_LATIN_VOCAB = re.compile(r"[a-z]{3,30}")

# Words of the trade jieba's general dictionary splits or does not know; kept whole in index and queries.
DOMAIN_WORDS = (
    "卡密", "发卡网", "卡盟", "寄售", "点券", "王者荣耀", "和平精英", "原神", "兑换码", "激活码", "礼品卡",
    "充值卡", "直充", "到账", "扣款", "退款", "提现", "结算", "商户", "风控", "微信支付", "支付宝", "盗号",
    "验证码", "被盗", "面值", "未到账", "订单号", "客服", "微信", "花呗", "话费", "钱包码", "礼品码",
)  # fmt: skip
# Function words and question words: dropped from index and queries (怎么办 must not be required to match).
ZH_STOPWORDS = frozenset(
    """的 了 吗 呢 吧 啊 呀 哦 嘛 我 你 您 他 她 它 我们 你们 他们 是 在 和 与 及 或 而 但 就 都 也 还 又 把 被 给
    让 对 从 向 于 以 之 其 这 那 这个 那个 这些 那些 一个 一下 一些 怎么 怎么办 怎样 如何 为什么 为何 什么 请问 请
    可以 能 能否 会 要 想 需要 有 没 没有 不 吗 么 个 后 时 中 上 下 里 等 如果 因为 所以 已经 还是 或者 以及 并
    如 若 该 此 各 每 很 更 最 再 才 只 即 即可""".split()  # noqa: SIM905 (a list literal of 100 words reads worse)
)
MAX_QUERY_TERMS = 8
DOMAIN_WORD_FREQUENCY = 50_000

_tokenizer: jieba.Tokenizer | None = None
_tokenizer_lock = threading.Lock()


def tokenizer() -> jieba.Tokenizer:
    """The process's jieba tokenizer, loaded on first use (about 0.3 s from jieba's cache file)."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                loaded = jieba.Tokenizer()
                loaded.initialize()
                for word in DOMAIN_WORDS:
                    # A high frequency: 提示卡密 must split 提示 / 卡密, not 提示卡 / 密.
                    loaded.add_word(word, freq=DOMAIN_WORD_FREQUENCY)
                _tokenizer = loaded
    return _tokenizer


def is_cjk(text: str) -> bool:
    return bool(_CJK_RUN.search(text))


def _pieces(text: str) -> Iterator[tuple[bool, str]]:
    """(is_cjk, piece) runs of the text, in order."""
    position = 0
    for match in _CJK_RUN.finditer(text):
        if match.start() > position:
            yield False, text[position : match.start()]
        yield True, match.group()
        position = match.end()
    if position < len(text):
        yield False, text[position:]


def _zh_words(piece: str, *, search_mode: bool) -> list[str]:
    # HMM off: the same characters segment the same way in an article and in a query.
    tk = tokenizer()
    words = tk.cut_for_search(piece, HMM=False) if search_mode else tk.cut(piece, HMM=False)
    return [w for w in words if w not in ZH_STOPWORDS]


def index_tokens(text: str) -> list[str]:
    """Tokens to index, in order: jieba's search-mode words for CJK runs, words as they are for the rest."""
    tokens: list[str] = []
    for cjk, piece in _pieces(unicodedata.normalize("NFKC", text or "")):
        tokens.extend(_zh_words(piece, search_mode=True) if cjk else _WORD.findall(piece))
    return tokens


def segmented(text: str) -> str:
    """Space-joined index tokens: what `to_tsvector` receives."""
    return " ".join(index_tokens(text))


def vocabulary(text: str) -> Counter[str]:
    """Words for "did you mean": Chinese words of two or more characters, Latin words of three or more letters."""
    words: Counter[str] = Counter()
    for cjk, piece in _pieces(unicodedata.normalize("NFKC", text or "").lower()):
        if cjk:
            words.update(w for w in _zh_words(piece, search_mode=False) if 2 <= len(w) <= 12)
        else:
            words.update(_LATIN_VOCAB.findall(piece))
    return words


def normalise_query(query: str) -> str:
    """What identifies a query across users: NFKC, lower case, punctuation to single spaces, 200 characters."""
    folded = unicodedata.normalize("NFKC", query or "").lower()
    return " ".join(_WORD.findall(folded))[:200]


@dataclass(frozen=True)
class QueryTerm:
    """One word of a query and the lexeme sequences that match it (any one of them)."""

    surface: str
    alternatives: tuple[tuple[str, ...], ...]
    cjk: bool


def query_terms(query: str) -> list[QueryTerm]:
    """The query's words, at most MAX_QUERY_TERMS. A Chinese word matches itself or all of its parts."""
    terms: list[QueryTerm] = []
    seen: set[str] = set()
    for cjk, piece in _pieces(normalise_query(query)):
        if not cjk:
            for word in _WORD.findall(piece):
                if word not in seen:
                    seen.add(word)
                    terms.append(QueryTerm(word, ((word,),), False))
            continue
        for word in _zh_words(piece, search_mode=False):
            if not _WORD.fullmatch(word) or word in seen:
                continue
            seen.add(word)
            parts = tuple(p for p in tokenizer().cut_for_search(word, HMM=False) if p != word and len(p) >= 2)
            alternatives = ((word,), parts) if parts else ((word,),)
            terms.append(QueryTerm(word, alternatives, True))
    return terms[:MAX_QUERY_TERMS]


def tsquery_source(terms: Iterable[QueryTerm], *, operator: str = "&", prefix_last: bool = False) -> str:
    """`to_tsquery` input: lexemes quoted (they hold only word characters), terms joined by the operator.

    With prefix_last the last term also matches longer words (`'recha':*`), for suggestions as one types.
    """
    terms = list(terms)
    parts = []
    for index, term in enumerate(terms):
        star = ":*" if prefix_last and index == len(terms) - 1 else ""
        options = [" & ".join(f"'{lexeme}'{star}" for lexeme in alt) for alt in term.alternatives]
        parts.append(options[0] if len(options) == 1 else "(" + " | ".join(f"({o})" for o in options) + ")")
    return f" {operator} ".join(parts)


# --- snippets -----------------------------------------------------------------------------------------------

_ENGLISH_SUFFIXES = ("ies", "ing", "ed", "es", "ly", "s", "y", "e")


def latin_root(word: str) -> str:
    """A crude stem that is a prefix of the word's inflections: failed → fail, delivery → deliver."""
    word = word.lower()
    for suffix in _ENGLISH_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _highlight_pattern(terms: Iterable[QueryTerm]) -> re.Pattern[str] | None:
    alternatives: set[str] = set()
    for term in terms:
        if term.cjk:
            alternatives.update(re.escape(lexeme) for alt in term.alternatives for lexeme in alt)
        elif len(term.surface) >= 2 or term.surface.isdigit():
            alternatives.add(r"(?<![A-Za-z0-9])" + re.escape(latin_root(term.surface)) + r"[A-Za-z0-9]*")
    if not alternatives:
        return None
    return re.compile("|".join(sorted(alternatives, key=len, reverse=True)), re.IGNORECASE)


def _marked(text: str, pattern: re.Pattern[str] | None) -> str:
    if pattern is None:
        return html.escape(text)
    out, position = [], 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[position : match.start()]))
        out.append(f"<mark>{html.escape(match.group())}</mark>")
        position = match.end()
    out.append(html.escape(text[position:]))
    return "".join(out).replace("</mark><mark>", "")  # 卡密 + 无效 read as one marked phrase


@dataclass(frozen=True)
class Snippet:
    text: str
    html: str  # escaped, with <mark> around the query's words


def snippet(text: str, terms: Iterable[QueryTerm], *, width: int = 120, fallback: str = "") -> Snippet:
    """The stretch of text with the most query words, marked. Works for Chinese (no spaces needed)."""
    pattern = _highlight_pattern(terms)
    flat = " ".join((text or "").split())
    matches = list(pattern.finditer(flat)) if pattern else []
    if not matches:
        base = " ".join((fallback or flat).split())
        cut = base[:width] + ("…" if len(base) > width else "")
        return Snippet(cut, _marked(cut, pattern))
    matches = matches[:500]
    starts = [match.start() for match in matches]
    words = [match.group().lower() for match in matches]
    best_start, best_score, ahead = starts[0], (0, 0), 0
    for index, start in enumerate(starts):  # sliding window: most distinct query words, then most matches
        ahead = max(ahead, index)
        while ahead < len(starts) and starts[ahead] < start + width - 20:
            ahead += 1
        score = (len(set(words[index:ahead])), ahead - index)
        if score > best_score:
            best_start, best_score = start, score
    start = max(0, best_start - width // 5)
    if start and not is_cjk(flat[start : start + 1]):
        space = flat.find(" ", start, best_start)  # do not cut a Latin word in half
        start = space + 1 if space != -1 else start
    end = min(len(flat), start + width)
    piece = flat[start:end]
    prefix, suffix = ("…" if start > 0 else ""), ("…" if end < len(flat) else "")
    return Snippet(prefix + piece + suffix, prefix + _marked(piece, pattern) + suffix)


def highlight(text: str, terms: Iterable[QueryTerm]) -> str:
    """The whole text, escaped, with the query's words marked (titles)."""
    return _marked(text, _highlight_pattern(terms))


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
