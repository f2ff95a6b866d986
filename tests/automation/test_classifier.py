"""The ticket classifier (tickets.automation.classifier): quality against the recorded baseline, and its API.

No database: the model is trained in memory on the seed set that ships with the app and evaluated on the
labelled messages in tests/data (see tests/data/README.md for how the baseline is regenerated).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import joblib
import pytest

from tickets.automation.classifier import (
    FORMAT_VERSION,
    SEED_TRAINING_PATH,
    Prediction,
    TextClassifier,
    evaluate,
    load_jsonl,
    normalise,
)

DATA = Path(__file__).resolve().parent.parent / "data"
EVAL_PATH = DATA / "classifier_eval.jsonl"
BASELINE_PATH = DATA / "classifier_baseline.json"
LABELS = [
    "account-security",
    "delivery-card-key-missing",
    "how-to-redeem",
    "merchant-settlement",
    "payment-double-charge",
    "payment-not-received",
    "product-invalid-key",
    "product-out-of-stock",
    "refund",
]


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def model() -> TextClassifier:
    return TextClassifier.train(*load_jsonl(SEED_TRAINING_PATH), seed=0)


@pytest.fixture(scope="module")
def eval_set() -> tuple[list[str], list[str]]:
    return load_jsonl(EVAL_PATH)


# --- the data ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "per_label", "total"), [(EVAL_PATH, 40, 360), (SEED_TRAINING_PATH, 30, 270)])
def test_datasets_are_well_formed(path, per_label, total):
    rows = read_rows(path)
    assert len(rows) >= total
    assert all(set(row) == {"text", "label", "lang"} for row in rows)
    assert {row["lang"] for row in rows} == {"zh", "en"}
    assert sorted({row["label"] for row in rows}) == LABELS
    for label in LABELS:
        assert sum(row["label"] == label for row in rows) >= per_label, label
    texts = [row["text"] for row in rows]
    assert len(set(texts)) == len(texts), "duplicate texts"
    share_zh = sum(row["lang"] == "zh" for row in rows) / len(rows)
    assert 0.5 <= share_zh <= 0.7


def test_training_and_evaluation_sets_share_no_text():
    def key(text: str) -> str:
        return normalise(text).replace(" ", "")

    seed = {key(row["text"]) for row in read_rows(SEED_TRAINING_PATH)}
    shared = [row["text"] for row in read_rows(EVAL_PATH) if key(row["text"]) in seed]
    assert shared == []


# --- quality ----------------------------------------------------------------------------------------------


def test_accuracy_is_not_below_the_baseline(model, eval_set):
    baseline = json.loads(BASELINE_PATH.read_text(encoding="utf-8"))
    report = evaluate(model, *eval_set)

    assert report["count"] == len(eval_set[0])
    assert sorted(report["per_label"]) == LABELS
    worst = min(report["per_label"].items(), key=lambda item: item[1]["recall"])
    assert report["accuracy"] >= baseline["accuracy"], f"accuracy {report['accuracy']:.4f} fell below the baseline"
    assert worst[1]["recall"] >= baseline["per_label_recall_min"], f"recall of {worst[0]} fell to {worst[1]}"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("我要申请退款，这单不想要了，钱原路退回支付宝", "refund"),
        ("Please refund my order, I bought it by mistake", "refund"),
        ("我的账号被盗了，登录密码也被人改了", "account-security"),
        ("My account was hacked and someone changed my password", "account-security"),
        ("商户后台申请提现三天了还没到账", "merchant-settlement"),
        ("My merchant withdrawal has been pending for three days", "merchant-settlement"),
    ],
)
def test_clear_messages_in_either_language_are_classified(model, text, label):
    prediction = model.predict(text)
    assert prediction.label == label
    assert 0.0 < prediction.confidence <= 1.0


def test_evaluate_reports_precision_recall_and_support(model):
    texts = ["我要退款", "账号被盗了", "提现没到账"]
    report = evaluate(model, texts, ["refund", "account-security", "refund"])

    assert report["count"] == 3
    assert report["accuracy"] == pytest.approx(2 / 3)
    assert report["per_label"]["refund"]["support"] == 2
    assert report["per_label"]["refund"]["recall"] == pytest.approx(0.5)
    assert report["per_label"]["merchant-settlement"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert evaluate(model, [], []) == {"accuracy": 0.0, "per_label": {}, "count": 0}


# --- the API ----------------------------------------------------------------------------------------------


def test_predictions_carry_the_top_probability(model):
    predictions = model.predict_many(["什么时候补货", "how do I redeem a steam code"])

    assert all(isinstance(p, Prediction) for p in predictions)
    assert [p.label for p in predictions] == ["product-out-of-stock", "how-to-redeem"]
    assert model.predict_many([]) == []
    assert model.labels == LABELS


def test_fast_predict_path_matches_the_pipeline(model, eval_set):
    texts = eval_set[0][:50]
    expected = model._pipeline.predict_proba([normalise(text) for text in texts])
    predictions = model.predict_many(texts)

    assert [p.label for p in predictions] == [model.labels[i] for i in expected.argmax(axis=1)]
    assert [p.confidence for p in predictions] == pytest.approx(expected.max(axis=1).tolist())


def test_training_is_deterministic(model, eval_set):
    again = TextClassifier.train(*load_jsonl(SEED_TRAINING_PATH), seed=0)
    assert again.predict_many(eval_set[0]) == model.predict_many(eval_set[0])


def test_round_trip_through_bytes_predicts_the_same(model, eval_set):
    data = model.to_bytes()
    loaded = TextClassifier.from_bytes(data)

    assert isinstance(data, bytes)
    assert loaded.labels == model.labels
    assert loaded.predict_many(eval_set[0]) == model.predict_many(eval_set[0])


def test_another_format_version_is_refused(model):
    buffer = io.BytesIO()
    joblib.dump({"format_version": FORMAT_VERSION + 1, "pipeline": model._pipeline}, buffer)

    with pytest.raises(ValueError, match="format version"):
        TextClassifier.from_bytes(buffer.getvalue())


@pytest.mark.parametrize("data", [b"", b"not a model", json.dumps({"format_version": FORMAT_VERSION}).encode()])
def test_bytes_that_are_no_model_are_refused(data):
    with pytest.raises(ValueError):
        TextClassifier.from_bytes(data)


def test_too_little_training_data_is_refused():
    texts = [f"我要退款 {i}" for i in range(5)] + [f"账号被盗 {i}" for i in range(4)]
    labels = ["refund"] * 5 + ["account-security"] * 4

    with pytest.raises(ValueError, match="at least 10 samples"):
        TextClassifier.train(texts, labels)
    with pytest.raises(ValueError, match="at least 2 distinct labels"):
        TextClassifier.train([*texts, "退款"], ["refund"] * 10)
    with pytest.raises(ValueError, match="labels"):
        TextClassifier.train([*texts, "退款"], labels)


def test_normalise_replaces_order_numbers_amounts_and_markup():
    assert normalise("订单号DD202611300417付了５０元") == "订单号 <order> 付了 <amount>"
    assert normalise("<p>Order&nbsp;DD20261130123456   paid ￥30</p>") == "order <order> paid <amount>"
    assert normalise("Alipay TXN 2026113022001456789, $25.50 twice") == "alipay txn <num> , <amount> twice"
    assert normalise("  PUBG UC 660\n\tx3 ") == "pubg uc 660 x3"


def test_load_jsonl_reports_the_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "退款", "label": "refund"}\n\n{"text": "no label"}\n', encoding="utf-8")

    with pytest.raises(ValueError, match=r"bad\.jsonl:3"):
        load_jsonl(path)
