"""The metric vocabulary (``fair4ml.metrics``): what sources name the same measure is one term, with
its direction; averages are terms of their own; names the vocabulary does not know get none. The
names are those of the recorded Hub cards' model-index and OpenML's measures."""

from __future__ import annotations

import json

import pytest

from mlentory.fair4ml.metrics import metric_term, vocabulary
from mlentory.settings import METRICS_FILE


@pytest.mark.parametrize(("metric_type", "name", "term", "higher_is_better"), [
    ("acc", "accuracy", "accuracy", True),
    ("accuracy", "Accuracy", "accuracy", True),
    ("predictive_accuracy", None, "accuracy", True),  # OpenML's measure
    ("acc_norm", "normalized accuracy", "normalized-accuracy", True),
    ("f1", "F1", "f1", True),
    ("f1", "f1 score", "f1", True),
    (None, "F1-score", "f1", True),
    ("f1", "F1 Macro", "f1-macro", True),  # the card's name says which average
    ("precision", "Precision Weighted", "precision-weighted", True),
    ("recall", "Recall Micro", "recall-micro", True),
    ("exact_match", "Exact Match", "exact-match", True),
    ("pass@1", None, "pass-at-1", True),
    ("wer", "Test WER", "word-error-rate", False),
    ("wer", "Test WER (+LM)", "word-error-rate", False),
    ("cer", "Dev CER", "character-error-rate", False),
    ("loss", "loss", "loss", False),
    ("area_under_roc_curve", None, "roc-auc", True),
    ("root_mean_squared_error", None, "root-mean-squared-error", False),
    ("mean_absolute_error", None, "mean-absolute-error", False),
    ("unknown", "win rate", "win-rate", True),  # a type that names nothing: the name decides
    ("mc2", None, "truthfulqa-mc2", True),
])
def test_names_sources_give_one_measure_are_one_term(metric_type, name, term, higher_is_better):
    found = metric_term(metric_type, name)
    assert found is not None and (found.id, found.higher_is_better) == (term, higher_is_better)
    assert found.iri == f"https://w3id.org/mlentory/metric/{term}"


@pytest.mark.parametrize(("metric_type", "name"), [
    ("unknown", "score"), ("total", "total"), (None, None), ("", "  "),
    ("f_measure", None),  # OpenML's: averaged over classes in a way of its own, compared with no card's F1
])
def test_a_name_the_vocabulary_does_not_know_gets_no_term(metric_type, name):
    assert metric_term(metric_type, name) is None


def test_every_name_stands_for_one_term_only():
    spec = json.loads(METRICS_FILE.read_text())
    assert spec == vocabulary()
    seen: dict[str, str] = {}
    for term, definition in spec["terms"].items():
        assert definition["label"] and isinstance(definition["higher_is_better"], bool), term
        for name in (term, *definition["names"]):
            found = metric_term(name)
            assert found is not None and found.id == term, (term, name)
            assert seen.setdefault(name.lower(), term) == term, f"{name} names {seen[name.lower()]} and {term}"
