"""The learning classifier's life: train from the desk's own confirmed tickets (plus the shipped seed set),
store the model in PostgreSQL, predict with the newest one. Retrained nightly by Celery beat."""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import OuterRef, Subquery

from helpdesk.audit import audit_record
from tickets.models import AuthorKind, ClassifierModel, Message, Ticket
from tickets.services.content import body_text

if TYPE_CHECKING:  # scikit-learn loads on first use, not with every web process and worker (~2.5 s of CPU)
    from tickets.automation.classifier import Prediction, TextClassifier

logger = logging.getLogger(__name__)

SEED_PATH = Path(__file__).resolve().parent.parent / "automation" / "data" / "seed_training.jsonl"
MAX_TICKET_SAMPLES = 50_000
_loaded: tuple[int, TextClassifier] | None = None


def _active_model_id() -> int | None:
    return ClassifierModel.objects.filter(is_active=True).order_by("-id").values_list("pk", flat=True).first()


def classifier_current() -> TextClassifier | None:
    """The newest active model, loaded once per process per model (one small query to check which)."""
    global _loaded
    model_id = _active_model_id()
    if model_id is None:
        return None
    if _loaded is None or _loaded[0] != model_id:
        from tickets.automation.classifier import TextClassifier

        row = ClassifierModel.objects.only("data").get(pk=model_id)
        _loaded = (model_id, TextClassifier.from_bytes(bytes(row.data)))
    return _loaded[1]


def classifier_predict(text: str) -> Prediction | None:
    model = classifier_current()
    if model is None or not text.strip():
        return None
    return model.predict(text)


def confirmed_samples(limit: int = MAX_TICKET_SAMPLES) -> tuple[list[str], list[str]]:
    """Subject + first customer message of tickets whose category an agent set, corrected or kept."""
    first = Message.objects.filter(ticket=OuterRef("pk"), author_kind=AuthorKind.CUSTOMER).order_by("seq")
    rows = (
        Ticket.objects.filter(category_confirmed=True, category__isnull=False, merged_into__isnull=True)
        .annotate(first_body=Subquery(first.values("body")[:1]))
        .order_by("-id")
        .values_list("subject", "first_body", "category__slug")[:limit]
    )
    texts, labels = [], []
    for subject, body, slug in rows:
        texts.append(f"{subject}\n{body_text(body or '')}")
        labels.append(slug)
    return texts, labels


def classifier_train(*, include_seed: bool = True, holdout: float = 0.2, seed: int = 0) -> ClassifierModel:
    """Train on seed + confirmed tickets, measure on a held-out share, store as the new active model."""
    from tickets.automation.classifier import TextClassifier, evaluate, load_jsonl

    texts, labels = confirmed_samples()
    from_tickets = len(texts)
    if include_seed and SEED_PATH.exists():
        seed_texts, seed_labels = load_jsonl(SEED_PATH)
        texts, labels = [*texts, *seed_texts], [*labels, *seed_labels]
    pairs = list(zip(texts, labels, strict=True))
    random.Random(seed).shuffle(pairs)  # noqa: S311 (a reproducible split, not a secret)
    cut = int(len(pairs) * holdout) if len(pairs) >= 50 else 0
    test, train = pairs[:cut], pairs[cut:]
    started = time.monotonic()
    model = TextClassifier.train([t for t, _ in train], [label for _, label in train], seed=seed)
    metrics = evaluate(model, [t for t, _ in test], [label for _, label in test]) if test else {}
    metrics.update(
        {"train_seconds": round(time.monotonic() - started, 3), "from_tickets": from_tickets, "holdout": len(test)}
    )
    if test:  # the stored model learns from everything, the held-out share included
        model = TextClassifier.train(texts, labels, seed=seed)
    with transaction.atomic():
        ClassifierModel.objects.filter(is_active=True).update(is_active=False)
        row = ClassifierModel.objects.create(
            sample_count=len(texts), labels=model.labels, metrics=metrics, data=model.to_bytes()
        )
        audit_record(
            actor=None,
            action="classifier.trained",
            obj=row,
            changes={"samples": len(texts), "from_tickets": from_tickets, "accuracy": metrics.get("accuracy")},
        )
    logger.info("classifier #%s trained on %s samples (%s from tickets)", row.pk, len(texts), from_tickets)
    return row
