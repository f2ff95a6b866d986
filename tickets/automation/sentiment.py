"""Offline zh/en lexicon sentiment for customer messages (pure Python + jieba, no Django).

:func:`score` rates a message from -1.0 (very negative) to +1.0 (very positive). The product raises the
priority of a ticket and alerts supervisors when :attr:`Sentiment.strongly_negative` is set, so the scorer is
tuned for one thing above all: threats (12315, 工商, police, chargeback, lawyer), scam accusations and
intensified insults cross :data:`STRONGLY_NEGATIVE`; plain operational messages (订单号DD123 卡密没收到,
"how do I redeem") do not.

How a message is read: HTML, URLs and e-mail addresses are dropped and the width folded (！ → !); domain
phrases (regular expressions in the lexicon: complaint and legal threats, 第N次, 等了X天, 还不发货, "third time")
count as single heavy words; the rest becomes lexicon units (:func:`_chinese`, :func:`_english`), other words
and clause-ending punctuation. Negations flip the next sentiment word within :data:`WINDOW` words ("not bad"
becomes a weak positive; 别骗人 stays negative; 不太满意 is damped), intensifiers (非常, 太, very, ALL CAPS;
有点 damps) and runs of ! scale it, a contrast (但是, but) weights what follows, and in a question a negated
negative counts for nothing (不是骗子吧 is doubt). The weighted sum x becomes ``x / sqrt(x² + 4)``.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jieba

__all__ = ["STRONGLY_NEGATIVE", "Sentiment", "score"]

STRONGLY_NEGATIVE: float = -0.6
NEUTRAL_BAND = 0.15  # |score| below this is "neutral"
SQUASH = 4.0  # score = x / sqrt(x² + SQUASH): a weight of 1.5 alone reaches STRONGLY_NEGATIVE
WINDOW = 3  # words a negation or intensifier reaches forward
CONTEXT = 6  # characters jieba sees either side of a one-character entry (不: 不满意 or 不过?)
WIDE_WINDOW = 6  # 不觉得 / "don't think" reach further: "I don't think this is a scam"
NEGATED_NEGATIVE = -0.3  # "not bad", 没有问题: a weak positive
NEGATED_POSITIVE = -0.9  # 不满意, "not happy"
PROHIBITED_NEGATIVE = 0.8  # 别骗人: still negative, slightly softer
SOFT_NEGATION = 0.6  # 不太满意 is milder than 不满意
QUESTION_POSITIVE = 0.5  # "is this site legit?" hopes more than it praises
CAPS = 1.5  # an ALL-CAPS sentiment word
SHOUT = 1.3  # an ALL-CAPS other word intensifies the next sentiment word
MAX_BOOST = 3.0
EXCLAMATION_STEP, EXCLAMATION_MAX = 0.15, 4  # "!" x1.15 ... "!!!!" x1.6
QUESTION_STEP = 0.1  # "??" x1.2, "???" x1.3 (a single ? does not amplify)
BEFORE_CONTRAST, AFTER_CONTRAST = 0.5, 1.5  # 谢谢，但是还没收到 is a complaint
LEXICON_PATH = Path(__file__).with_name("data") / "sentiment_lexicon.json"


@dataclass(frozen=True)
class Sentiment:
    """The rating of one message."""

    score: float  # -1.0 (very negative) .. +1.0 (very positive), 0 neutral
    label: str  # "negative" | "neutral" | "positive"
    strongly_negative: bool  # score <= STRONGLY_NEGATIVE: raise priority, alert supervisors
    hits: tuple[str, ...]  # the sentiment words that fired, in order (negated ones with their negation)


_Entry = tuple[str, float]  # (kind, value): sent (signed weight), neg, wide, proh, soft, int (factor), contrast, word
_Unit = tuple[str, float, str]  # (kind, value, surface text)


@dataclass(frozen=True)
class _Lexicon:
    zh: dict[str, _Entry]  # Chinese entries and emoji
    zh_longest: int
    en: dict[tuple[str, ...], _Entry]  # lower-cased word tuples
    en_longest: int
    phrases: tuple[tuple[re.Pattern[str], float], ...]
    question_particles: frozenset[str]
    acronyms: frozenset[str]
    negations: frozenset[str]


_KINDS = {"neutral": "word", "negations": "neg", "wide_negations": "wide", "prohibitives": "proh"}


@cache
def _lexicon() -> _Lexicon:
    """The lexicon file, parsed once."""
    data = json.loads(LEXICON_PATH.read_text(encoding="utf-8"))
    entries: dict[str, _Entry] = {}
    for key, kind in [*_KINDS.items(), ("soft_negations", "soft"), ("contrast", "contrast")]:
        entries.update(dict.fromkeys(data[key], (kind, 0.0)))
    entries.update({word: ("int", factor) for word, factor in data["intensifiers"].items()})
    entries.update({word: ("sent", -weight) for word, weight in data["negative"].items()})
    entries.update({word: ("sent", weight) for word, weight in data["positive"].items()})
    zh = {word: entry for word, entry in entries.items() if not re.fullmatch(r"[a-z0-9' ]+", word)}
    en = {tuple(word.split()): entry for word, entry in entries.items() if word not in zh}
    phrases = tuple((re.compile(p["pattern"], re.IGNORECASE), -p["weight"]) for p in data["phrases"])
    words = [frozenset(data[key]) for key in ("question_particles", "acronyms", "negations")]
    return _Lexicon(zh, max(map(len, zh)), en, max(map(len, en)), phrases, *words)


_jieba: jieba.Tokenizer | None = None
_jieba_lock = threading.Lock()


def _segmenter() -> jieba.Tokenizer:
    """A private jieba tokenizer, loaded on first use with jieba's loading messages silenced."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                level = jieba.default_logger.level
                jieba.default_logger.setLevel(logging.WARNING)
                try:
                    loaded = jieba.Tokenizer()
                    loaded.initialize()
                finally:
                    jieba.default_logger.setLevel(level)
                _jieba = loaded
    return _jieba


_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLOCK_END = re.compile(r"<br\s*/?>|</(?:p|div|li|tr|h[1-6]|blockquote)\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")
_URL = re.compile(r"(?:https?://|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.]+")  # lookbehind: linear time
_TOKEN = re.compile(
    r"(?P<zh>[\u3400-\u4dbf\u4e00-\u9fff]+)|(?P<en>[A-Za-z]+(?:'[A-Za-z]+)*|\d+)|(?P<excl>!+)|(?P<q>\?+)"
    r"|(?P<brk>[.,;:。，、；：…~\n]+)|(?P<emoji>[\U0001F300-\U0001FAFF\u2600-\u27BF])"
)


def _normalise(text: str) -> str:
    """Plain text: no markup, URLs or addresses; entities decoded; full-width folded; curly apostrophes straight."""
    text = _BLOCK_END.sub("\n", _SCRIPT.sub(" ", text))
    text = html.unescape(_TAG.sub(" ", text))
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return _URL.sub(" ", text)


def _chinese(run: str, lex: _Lexicon) -> list[_Unit]:
    """Units of one Chinese run: lexicon entries (longest first) and the words between them.

    Multi-character entries match anywhere, whatever jieba makes of them (it splits 没收到 as 没收 / 到).
    Only the neighbourhood of a one-character entry goes through jieba, to decide whether the entry starts a
    word there (不满意: yes, 不过: no); that keeps 5,000 characters well inside 50 ms.
    """

    def longest(i: int) -> str | None:
        for size in range(min(lex.zh_longest, len(run) - i), 0, -1):
            if run[i : i + size] in lex.zh:
                return run[i : i + size]
        return None

    units: list[_Unit] = []
    stretch = i = 0
    while i < len(run):
        entry = longest(i)
        if entry is None or len(entry) == 1:
            i += 1
            continue
        units.extend(_stretch(run, stretch, i, lex, longest))
        units.append((*lex.zh[entry], entry))
        stretch = i = i + len(entry)
    units.extend(_stretch(run, stretch, len(run), lex, longest))
    return units


def _stretch(run: str, start: int, end: int, lex: _Lexicon, longest: Callable[[int], str | None]) -> list[_Unit]:
    """Units of run[start:end], which holds no multi-character entry. jieba sees each one-character entry with
    CONTEXT characters either side (overlapping windows merged); the rest reads as two-character words."""
    spans: list[list[int]] = []
    for i in range(start, end):
        if run[i] in lex.zh:
            low, high = max(start, i - CONTEXT), min(end, i + CONTEXT + 1)
            if spans and low <= spans[-1][1]:
                spans[-1][1] = high
            else:
                spans.append([low, high])
    units: list[_Unit] = []
    position = start
    for low, high in [*spans, [end, end]]:
        if plain := run[position:low]:
            body, tail = (plain[:-1], plain[-1]) if plain[-1] in lex.question_particles else (plain, "")
            words = [body[k : k + 2] for k in range(0, len(body), 2)] + ([tail] if tail else [])
            units.extend(("word", float(word == tail), word) for word in words)
        if high > low:
            units.extend(_segmented(run, low, high, lex, longest, chained=low if low == start > 0 else -1))
        position = high
    return units


def _segmented(
    run: str, start: int, end: int, lex: _Lexicon, longest: Callable[[int], str | None], chained: int
) -> list[_Unit]:
    """Units of run[start:end] as jieba segments it. A one-character entry counts where it continues a chain
    of entries (非常 + 好, 太 + 坑) or starts a jieba word that is the character alone or goes on into another
    entry (不 + 满意, but not 不过)."""
    word_end: dict[int, int] = {}
    position = start
    for word in _segmenter().lcut(run[start:end], HMM=False):
        word_end[position] = position + len(word)
        position += len(word)
    units: list[_Unit] = []
    for i in range(start, end):
        char = run[i]
        if char in lex.zh and (i == chained or (i in word_end and (word_end[i] - i == 1 or longest(i + 1)))):
            units.append((*lex.zh[char], char))
            chained = i + 1
        elif i in word_end:
            word = run[i : word_end[i]]
            units.append(("word", float(word in lex.question_particles), word))
    return units


def _english(words: list[str], lex: _Lexicon) -> list[_Unit]:
    """Units of consecutive Latin words: lexicon entries (several words at once where listed) and other words."""
    units: list[_Unit] = []
    i = 0
    while i < len(words):
        for size in range(min(lex.en_longest, len(words) - i), 0, -1):
            key = tuple(word.lower() for word in words[i : i + size])
            if key in lex.en:
                kind, value = lex.en[key]
                shouting = all(word.isupper() and len(word) > 1 for word in words[i : i + size])
                units.append((kind, value * CAPS if kind == "sent" and shouting else value, " ".join(key)))
                i += size
                break
        else:
            word = words[i]
            if word.lower().endswith("n't") or word.lower() in lex.negations:
                units.append(("neg", 0.0, word.lower()))
            elif word.isupper() and len(word) > 2 and word.isalpha() and word.lower() not in lex.acronyms:
                units.append(("int", SHOUT, word))
            else:
                units.append(("word", 0.0, word.lower()))
            i += 1
    return units


def _units(text: str, lex: _Lexicon) -> list[_Unit]:
    """The message as a sequence of units: domain phrases, words, punctuation that ends clauses."""
    found = sorted(
        ((m.start(), m.end(), weight) for pattern, weight in lex.phrases for m in pattern.finditer(text)),
        key=lambda span: (span[0], -span[1]),
    )
    units: list[_Unit] = []
    position = 0
    for start, end, weight in [*found, (len(text), len(text), 0.0)]:
        if start < position:
            continue  # overlaps a phrase already taken
        latin: list[str] = []
        for token in _TOKEN.finditer(text, position, start):
            if token.lastgroup == "en":
                latin.append(token.group())
                continue
            units.extend(_english(latin, lex))
            latin = []
            if token.lastgroup == "zh":
                units.extend(_chinese(token.group(), lex))
            elif token.lastgroup == "emoji":
                kind, value = lex.zh.get(token.group(), ("word", 0.0))
                units.append((kind, value, token.group()))
            else:
                units.append((str(token.lastgroup), float(len(token.group())), token.group()))
        units.extend(_english(latin, lex))
        if end > start:
            units.append(("sent", weight, " ".join(text[start:end].lower().split())))
        position = end
    return units


def _join(first: str, second: str) -> str:
    """Two surfaces as one hit: "not" + "bad" → "not bad", 不 + 满意 → 不满意."""
    return first + (" " if first.isascii() and second.isascii() else "") + second


def _weigh(units: list[_Unit]) -> tuple[float, list[str]]:
    """The weighted sum of the sentiment words and the hits that count."""
    done: list[tuple[float, str]] = []  # (weight, hit) of finished clauses
    clause: list[tuple[float, str, bool]] = []  # (weight, hit, is a negated negative)
    negator, negated_by, negation_left, soft, question = "", "", 0, False, False
    boost, boost_left, contrast = 1.0, 0, 1.0
    for kind, value, surface in [*units, ("brk", 1.0, "")]:
        if kind == "sent":
            weight = value * (boost if boost_left > 0 else 1.0)
            flipped_negative = False
            if negation_left > 0:
                weight *= SOFT_NEGATION if soft else 1.0
                if weight >= 0:
                    weight *= NEGATED_POSITIVE
                elif negator == "proh":
                    weight *= PROHIBITED_NEGATIVE
                else:
                    weight, flipped_negative = weight * NEGATED_NEGATIVE, True
                surface = _join(negated_by, surface)
            clause.append((weight * contrast, surface, flipped_negative))
            negation_left = boost_left = 0
            boost, soft, question = 1.0, False, False
        elif kind in ("neg", "wide", "proh", "soft"):
            negator, soft, negated_by = kind, kind == "soft", surface
            negation_left = WIDE_WINDOW if kind == "wide" else WINDOW
        elif kind == "int":
            if negation_left > 0:
                soft = True  # 不太满意, not very happy
                negated_by = _join(negated_by, surface)
            else:
                boost, boost_left = min(boost * value, MAX_BOOST), WINDOW
        elif kind == "contrast":
            done = [(weight * BEFORE_CONTRAST, hit) for weight, hit in done]
            clause = [(weight * BEFORE_CONTRAST, hit, flipped) for weight, hit, flipped in clause]
            contrast, negation_left, boost_left = AFTER_CONTRAST, 0, 0
        elif kind == "word":
            negation_left, boost_left, question = negation_left - 1, boost_left - 1, value > 0
        else:  # end of a clause: brk, excl or q
            step = EXCLAMATION_STEP if kind == "excl" else QUESTION_STEP if kind == "q" and value > 1 else 0.0
            amplify = 1.0 + step * min(value, EXCLAMATION_MAX)
            if question or kind == "q":  # 不是骗子吧 is doubt, not praise
                clause = [(w * QUESTION_POSITIVE if w > 0 else w, hit, flip) for w, hit, flip in clause if not flip]
            done.extend((weight * amplify, hit) for weight, hit, _ in clause)
            clause, negation_left, boost_left, question = [], 0, 0, False
    hits = list(dict.fromkeys(hit for _, hit in done))
    return sum(weight for weight, _ in done), hits


def score(text: str) -> Sentiment:
    """Rate a customer message (Chinese, English or mixed; plain text or HTML)."""
    lex = _lexicon()
    total, hits = _weigh(_units(_normalise(text or ""), lex))
    value = round(max(-1.0, min(1.0, total / math.sqrt(total * total + SQUASH))), 4)
    label = "neutral" if abs(value) < NEUTRAL_BAND else ("positive" if value > 0 else "negative")
    return Sentiment(score=value, label=label, strongly_negative=value <= STRONGLY_NEGATIVE, hits=tuple(hits))
