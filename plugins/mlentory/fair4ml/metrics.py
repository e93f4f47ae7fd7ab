"""Evaluation metrics named alike across sources: a card's ``acc``/``Accuracy``/``accuracy`` and
OpenML's ``predictive_accuracy`` are one term of MLentory's metric vocabulary
(``include/schemas/metrics.json``), with its IRI, label and direction; the source's own name is kept
beside it. A metric with an averaging (``F1 Macro``, ``precision`` named ``Precision Weighted``) is a
term of its own (``f1-macro``): averages are not comparable. A name the vocabulary does not know
gets no term (it is kept as the source wrote it, and compared with nothing)."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from mlentory.fair4ml import iris
from mlentory.fair4ml.models import DefinedTerm
from mlentory.settings import METRICS_FILE

_SEPARATORS = re.compile(r"[\s\-_/]+")
_QUALIFIERS = re.compile(r"\([^)]*\)|\[[^]]*\]")  # "Test WER (+LM)": how it was decoded, not what it measures
_SPLITS = ("test", "dev", "eval", "validation", "val")  # "Test WER", "eval_loss": the split is the evaluation's, not the metric's


@dataclass(frozen=True)
class MetricTerm:
    id: str
    iri: str
    label: str
    higher_is_better: bool


@functools.cache
def vocabulary() -> dict[str, Any]:
    vocabulary: dict[str, Any] = json.loads(METRICS_FILE.read_text(encoding="utf-8"))
    return vocabulary


@functools.cache
def _by_name() -> dict[str, str]:
    return {_key(name): term for term, spec in vocabulary()["terms"].items() for name in (*spec["names"], term)}


def _key(text: str) -> str:
    return _SEPARATORS.sub("_", _QUALIFIERS.sub(" ", text).strip().lower()).strip("_")


def _term_of(text: str | None) -> tuple[str, str | None] | None:
    """(term, averaging) a metric's type or name stands for; None when the vocabulary does not know it."""
    if not isinstance(text, str) or not text.strip():
        return None
    words = _key(text).split("_")
    averagings = [word for word in words if word in vocabulary()["averagings"]]
    words = [word for word in words if word not in averagings]
    while len(words) > 1 and words[0] in _SPLITS:
        words = words[1:]
    term = _by_name().get("_".join(words))
    return (term, averagings[0] if averagings else None) if term else None


def metric_term(metric_type: str | None, name: str | None = None) -> MetricTerm | None:
    """The vocabulary's term for a metric as a source names it: its type (a card's ``type``, OpenML's
    measure) first, else its display name; the averaging either names, in the name first (a card's
    ``type: f1`` named ``F1 Macro``)."""
    by_type, by_name = _term_of(metric_type), _term_of(name)
    found = by_type or by_name
    if found is None:
        return None
    term = found[0]
    averaging = (by_name[1] if by_name and by_name[0] == term else None) or found[1]
    spec = vocabulary()["terms"][term]
    term_id = f"{term}-{averaging}" if averaging else term
    label = f"{spec['label']} ({averaging})" if averaging else spec["label"]
    return MetricTerm(term_id, iris.metric_iri(term_id), label, bool(spec["higher_is_better"]))


def metric_term_iri(metric_type: str | None, name: str | None = None) -> str | None:
    """The IRI of ``metric_term``'s term (a PropertyValue's ``metric``), or None."""
    term = metric_term(metric_type, name)
    return term.iri if term else None


@functools.cache
def _term_by_id() -> dict[str, MetricTerm]:
    terms = {}
    for term in vocabulary()["terms"]:
        for averaging in (None, *vocabulary()["averagings"]):
            found = metric_term(term if averaging is None else f"{term} {averaging}")
            if found is not None:
                terms[found.id] = found
    return terms


def term_of_iri(iri: str) -> MetricTerm | None:
    """The term an IRI of the vocabulary stands for (``…/metric/f1-macro``), or None."""
    return _term_by_id().get(iri.removeprefix(iris.METRICS_SET)) if iri.startswith(iris.METRICS_SET) else None


def term_records() -> list[DefinedTerm]:
    """Every term of the vocabulary (each averaging of each one too) as a ``DefinedTerm`` of the
    metric term set: the nodes the values' ``metric`` links to, loaded with every run's graph."""
    return [DefinedTerm(id=term.iri, name=term.label, term_code=term.id, in_defined_term_set=iris.METRICS_SET,
                        description="higher is better" if term.higher_is_better else "lower is better")
            for term in _term_by_id().values()]
