"""Ticket text classifier: which category a customer's message belongs to.

A pure module (no Django): character n-grams, which work for Chinese without word segmentation and survive
typos and mixed zh/en, unioned with English word unigrams, feeding a multinomial logistic regression whose top
class probability is the confidence.

Texts are normalised (`normalise`) before they reach the vectorisers, so order numbers, long digit runs and
amounts become placeholder tokens: "DD202611300417" says nothing about the category, "an order number was
given" might.

Measure it against the labelled evaluation set:

    .venv/bin/python -m tickets.automation.classifier [--train PATH] [--eval PATH] [--seed N]
"""

from __future__ import annotations

import html
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

__all__ = [
    "FORMAT_VERSION",
    "SEED_TRAINING_PATH",
    "Prediction",
    "TextClassifier",
    "evaluate",
    "load_jsonl",
    "normalise",
]

# Bump when the payload layout, `normalise` or the features change: a stored model trained on differently
# normalised text would silently predict worse, so an old payload is refused and the model retrained instead.
FORMAT_VERSION = 1
SEED_TRAINING_PATH = Path(__file__).resolve().parent / "data" / "seed_training.jsonl"

MIN_SAMPLES = 10
MIN_LABELS = 2

ORDER_PLACEHOLDER = " <order> "
NUMBER_PLACEHOLDER = " <num> "
AMOUNT_PLACEHOLDER = " <amount> "
URL_PLACEHOLDER = " <url> "
EMAIL_PLACEHOLDER = " <email> "

_TAG = re.compile(r"<[^>]{0,500}>")
_URL = re.compile(r"https?://\S+|www\.\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Order numbers: a short letter prefix glued to 8+ digits (DD202611300417, tb20261130..., NO.2026113012).
_ORDER = re.compile(r"(?<![a-z0-9])(?:[a-z]{1,4}\.?)\d{8,}(?![0-9])")
_CURRENCY_SIGN = r"[¥$€£]"
_UNIT = r"(?:元|块钱|块|刀|美元|美金|港币|rmb|cny|usd|hkd|yuan|dollars?)"
_NUMBER = r"\d+(?:[.,]\d+)?"
_AMOUNT = re.compile(
    rf"(?:{_CURRENCY_SIGN}|\b(?:rmb|cny|usd|hkd)\b)\s?{_NUMBER}"  # ¥30, $ 10, rmb 50
    rf"|{_NUMBER}\s?{_UNIT}(?![a-z])"  # 50元, 30块, 20 usd
)
_LONG_DIGITS = re.compile(r"\d{6,}")
_WHITESPACE = re.compile(r"\s+")
# Words for the word-level features: ASCII words and placeholders only. A Chinese run has no spaces to split
# on; the character n-grams cover it.
_WORD_PATTERN = r"<?[a-z][a-z0-9']+>?"


def normalise(text: str) -> str:
    """Canonical form of a message for the vectorisers.

    NFKC (full-width letters, digits and ￥ become their ASCII forms), HTML tags stripped and entities
    decoded, lowercased, then URLs, e-mail addresses, order numbers, amounts and remaining runs of 6+ digits
    replaced by placeholder tokens (``<url>``, ``<email>``, ``<order>``, ``<amount>``, ``<num>``), and
    whitespace collapsed to single spaces.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text).lower()
    text = _URL.sub(URL_PLACEHOLDER, text)
    text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
    text = _ORDER.sub(ORDER_PLACEHOLDER, text)
    text = _AMOUNT.sub(AMOUNT_PLACEHOLDER, text)
    text = _LONG_DIGITS.sub(NUMBER_PLACEHOLDER, text)
    return _WHITESPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Prediction:
    """The most likely category and its probability (0-1)."""

    label: str
    confidence: float


def _build_pipeline(seed: int) -> Pipeline:
    """The feature extraction and classifier; texts reaching it are already normalised.

    Chosen by measurement (tests/data/README.md): char_wb (1, 3) clearly beats (2, 4) (single characters
    such as 退, 盗, 提 carry a lot in Chinese) and ties (1, 4) with fewer features; English word unigrams on
    top add a little, word bigrams nothing.
    """
    features = FeatureUnion(
        [
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(1, 3),
                    sublinear_tf=True,
                    lowercase=False,
                ),
            ),
            (
                "word",
                TfidfVectorizer(
                    analyzer="word",
                    token_pattern=_WORD_PATTERN,
                    ngram_range=(1, 1),
                    sublinear_tf=True,
                    lowercase=False,
                ),
            ),
        ]
    )
    classifier = LogisticRegression(C=20.0, max_iter=2000, random_state=seed)
    return Pipeline([("features", features), ("classifier", classifier)])


class TextClassifier:
    """A trained category classifier. Build one with `train` or `from_bytes`."""

    def __init__(self, pipeline: Pipeline) -> None:
        """Wrap a fitted pipeline (use `train` or `from_bytes` rather than calling this directly).

        Raises ValueError when the pipeline is not the ("features" FeatureUnion, "classifier") pair that
        `train` builds.
        """
        steps = dict(pipeline.steps)
        features, classifier = steps.get("features"), steps.get("classifier")
        if not isinstance(features, FeatureUnion) or features.transformer_weights is not None:
            raise ValueError("the pipeline's first step must be an unweighted FeatureUnion named 'features'")
        if len(pipeline.steps) != 2 or not hasattr(classifier, "predict_proba"):
            raise ValueError("the pipeline must end in a probabilistic classifier named 'classifier'")
        self._pipeline = pipeline
        # FeatureUnion.transform dispatches through joblib.Parallel even for one job, which costs ~2 ms a call
        # here: predicting stacks the vectorisers' outputs itself (same columns, same order).
        self._vectorisers = [
            transformer for _name, transformer in features.transformer_list if transformer not in ("drop", None)
        ]
        self._classifier = classifier
        self._labels: list[str] = [str(label) for label in classifier.classes_]

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str], *, seed: int = 0) -> TextClassifier:
        """Fit a classifier on labelled texts; the same inputs and seed give the same model.

        Raises ValueError when texts and labels differ in length, there are fewer than 10 samples or fewer
        than 2 distinct labels.
        """
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if len(texts) < MIN_SAMPLES:
            raise ValueError(f"need at least {MIN_SAMPLES} samples to train, got {len(texts)}")
        if len(set(labels)) < MIN_LABELS:
            raise ValueError(f"need at least {MIN_LABELS} distinct labels to train, got {len(set(labels))}")
        pipeline = _build_pipeline(seed)
        # One thread: on a few hundred texts BLAS/OpenMP threads only add overhead, and on a busy machine they
        # contend so badly that the fit goes from ~0.1 s to several seconds.
        with threadpool_limits(limits=1):
            pipeline.fit([normalise(text) for text in texts], list(labels))
        return cls(pipeline)

    @property
    def labels(self) -> list[str]:
        """The categories the model can predict, sorted."""
        return list(self._labels)

    def predict(self, text: str) -> Prediction:
        """The most likely category of one message."""
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """The most likely category of each message, in order."""
        if not texts:
            return []
        probabilities = self._predict_proba([normalise(text) for text in texts])
        best = probabilities.argmax(axis=1)
        return [
            Prediction(label=self._labels[index], confidence=float(row[index]))
            for index, row in zip(best, probabilities, strict=True)
        ]

    def _predict_proba(self, documents: list[str]) -> np.ndarray:
        """Class probabilities of normalised documents, columns in `labels` order (the pipeline's result)."""
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            matrix = scipy.sparse.hstack([vectoriser.transform(documents) for vectoriser in self._vectorisers])
            return self._classifier.predict_proba(matrix.tocsr())

    def to_bytes(self) -> bytes:
        """Serialise the model (joblib pickle of the fitted pipeline, with the format version)."""
        payload = {
            "format_version": FORMAT_VERSION,
            "sklearn_version": sklearn.__version__,
            "pipeline": self._pipeline,
        }
        buffer = io.BytesIO()
        joblib.dump(payload, buffer, compress=3)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TextClassifier:
        """Load a model written by `to_bytes`.

        The payload is a pickle: only load bytes this application wrote itself (never user uploads).
        Raises ValueError when the data is not a model payload or has another format version.
        """
        try:
            payload: Any = joblib.load(io.BytesIO(data))
        except Exception as exc:  # unpickling garbage can raise almost anything
            raise ValueError(f"not a classifier payload: {exc}") from exc
        if not isinstance(payload, dict) or "format_version" not in payload:
            raise ValueError("not a classifier payload")
        version = payload["format_version"]
        if version != FORMAT_VERSION:
            raise ValueError(f"classifier format version {version!r} is not supported (expected {FORMAT_VERSION})")
        pipeline = payload.get("pipeline")
        if not isinstance(pipeline, Pipeline):
            raise ValueError("classifier payload holds no pipeline")
        return cls(pipeline)


def evaluate(model: TextClassifier, texts: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy and per-label precision, recall, F1 and support of `model` on labelled texts.

    Returns ``{"accuracy": float, "per_label": {label: {"precision", "recall", "f1", "support"}},
    "count": n}``; per_label covers every label that is either expected or predicted.
    """
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    if not texts:
        return {"accuracy": 0.0, "per_label": {}, "count": 0}
    expected = list(labels)
    predicted = [prediction.label for prediction in model.predict_many(texts)]
    names = sorted(set(expected) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(expected, predicted, labels=names, zero_division=0)
    per_label = {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(names)
    }
    return {"accuracy": float(accuracy_score(expected, predicted)), "per_label": per_label, "count": len(expected)}


def load_jsonl(path: str | Path) -> tuple[list[str], list[str]]:
    """Texts and labels from a JSON-lines file of ``{"text": ..., "label": ...}`` objects (blank lines skipped)."""
    texts: list[str] = []
    labels: list[str] = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, label = row["text"], row["label"]
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a {{text, label}} object: {exc}") from exc
            if not isinstance(text, str) or not isinstance(label, str):
                raise ValueError(f"{path}:{number}: text and label must be strings")
            texts.append(text)
            labels.append(label)
    return texts, labels


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table of an `evaluate` result."""
    lines = [f"accuracy {report['accuracy']:.4f} on {report['count']} texts", ""]
    width = max([len("label"), *(len(name) for name in report["per_label"])])
    lines.append(f"{'label':<{width}}  precision  recall     f1  support")
    for name, row in report["per_label"].items():
        lines.append(
            f"{name:<{width}}  {row['precision']:9.3f}  {row['recall']:6.3f}  {row['f1']:5.3f}  {row['support']:7d}"
        )
    recalls = [row["recall"] for row in report["per_label"].values() if row["support"]]
    lines.append("")
    lines.append(f"lowest per-label recall {min(recalls, default=0.0):.4f}")
    return "\n".join(lines)


def _main(argv: Sequence[str] | None = None) -> int:
    """Train on the seed set, evaluate on the evaluation set, print the table."""
    import argparse
    import time

    root = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description="Train the ticket classifier and print its evaluation.")
    parser.add_argument("--train", type=Path, default=SEED_TRAINING_PATH, help="training JSONL")
    parser.add_argument("--eval", type=Path, default=root / "tests" / "data" / "classifier_eval.jsonl")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--errors", action="store_true", help="also list the misclassified texts")
    args = parser.parse_args(argv)

    train_texts, train_labels = load_jsonl(args.train)
    eval_texts, eval_labels = load_jsonl(args.eval)
    started = time.perf_counter()
    model = TextClassifier.train(train_texts, train_labels, seed=args.seed)
    trained = time.perf_counter() - started
    report = evaluate(model, eval_texts, eval_labels)
    started = time.perf_counter()
    for text in eval_texts:
        model.predict(text)
    per_text = (time.perf_counter() - started) / len(eval_texts)

    print(f"trained on {len(train_texts)} texts in {trained:.2f} s; predict {per_text * 1000:.2f} ms per text")
    print(format_report(report))
    if args.errors:
        print()
        for text, label, prediction in zip(eval_texts, eval_labels, model.predict_many(eval_texts), strict=True):
            if prediction.label != label:
                print(f"{label:>26} -> {prediction.label:<26} {prediction.confidence:.2f}  {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
