"""A card's ``model-index``, read as written: one result per result the card lists.

The Hub's metadata spec (``model-index: [{name, results: [{task, dataset, metrics, source}]}]``) has
had other shapes in real cards, all read here:
- the 2021 shape: ``model_index`` (underscore) with a single ``metric:`` mapping per result;
- one mapping where a list is expected (an entry, a result's ``results``, its ``metrics``);
- ``dataset.args`` as a plain string: the configuration passed to ``load_dataset`` (``args: en``)
  before ``config`` existed;
- a task or dataset given as a bare string.

``huggingface_hub``'s own reading (``ModelCardData.eval_results``) is not used: it regroups results
by a key without the dataset's name (three results on one dataset type under three names become one
result holding all the values, under the first name) and drops a whole model-index it cannot read.

What cannot be read (a result that is no mapping, a metric with no value) is left out and said
(``ModelIndex.problems``); placeholders ("None", "unknown", "-") are no values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlentory.placeholders import is_placeholder, text_or_none

DATASET_FIELDS = ("type", "name", "config", "split", "revision")
TASK_FIELDS = ("type", "name")


@dataclass(frozen=True)
class Result:
    """One result of a model-index: a task on a dataset, its metrics (each a mapping with ``value``)."""

    entry: str | None
    task: dict[str, str]
    dataset: dict[str, Any]
    metrics: list[dict[str, Any]]
    source: dict[str, str]

    @property
    def dataset_key(self) -> str | None:
        """The dataset's id: its ``type`` (the Hub dataset id), else its name."""
        return self.dataset.get("type") or self.dataset.get("name")

    def identity(self) -> list[Any]:
        """Everything that tells this result from the card's others: the entry, the task's type and
        name, the dataset's type, name, config, split, revision and arguments, the result's source."""
        return [self.entry, *(self.task.get(k) for k in TASK_FIELDS), *(self.dataset.get(k) for k in DATASET_FIELDS),
                self.dataset.get("args"), self.source.get("name"), self.source.get("url")]


@dataclass
class ModelIndex:
    results: list[Result] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def values(self) -> int:
        """The metric values read, of every result."""
        return sum(len(r.metrics) for r in self.results)


def _items(value: Any) -> list[Any]:
    """A list as written, one mapping as a list of one (a single entry, result or metric)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _fields(value: Any, names: tuple[str, ...], bare: str) -> dict[str, Any]:
    """The named fields of a mapping as text (placeholders dropped); a bare string is its ``bare`` field."""
    if isinstance(value, str):
        value = {bare: value}
    if not isinstance(value, dict):
        return {}
    return {name: text for name in names if (text := text_or_none(value.get(name))) is not None}


def _dataset(value: Any) -> dict[str, Any]:
    dataset = _fields(value, DATASET_FIELDS, "name")
    args = value.get("args") if isinstance(value, dict) else None
    if isinstance(args, str) and not is_placeholder(args):
        dataset.setdefault("config", args.strip())  # the 2021 cards' configuration (``args: en``)
    elif isinstance(args, dict) and args:
        dataset["args"] = {str(k): v for k, v in sorted(args.items(), key=lambda kv: str(kv[0]))}
    return dataset


def _metric_name(metric: dict[str, Any]) -> str:
    return str(metric.get("name") or metric.get("type") or "metric")[:80]


def read_model_index(data: dict[str, Any]) -> ModelIndex:
    """Every result of the card metadata's ``model-index`` (or 2021 ``model_index``), as written."""
    index = ModelIndex()
    written = data.get("model-index") if data.get("model-index") not in (None, "", []) else data.get("model_index")
    if written in (None, "", []):
        return index
    for position, entry in enumerate(_items(written), start=1):
        if not isinstance(entry, dict):
            index.problems.append(f"entry {position} is {type(entry).__name__}, not a mapping")
            continue
        entry_name = text_or_none(entry.get("name"))
        for number, result in enumerate(_items(entry.get("results")), start=1):
            if not isinstance(result, dict):
                index.problems.append(f"result {number} is {type(result).__name__}, not a mapping")
                continue
            metrics = []
            for metric in _items(result.get("metrics")) + _items(result.get("metric")):
                if not isinstance(metric, dict):
                    index.problems.append(f"a metric of result {number} is {type(metric).__name__}, not a mapping")
                elif isinstance(metric.get("value"), (int, float, str)) and not is_placeholder(metric.get("value")):
                    metrics.append(metric)
                else:
                    index.problems.append(f"metric {_metric_name(metric)!r} of result {number} has no readable value")
            read = Result(entry_name, _fields(result.get("task"), TASK_FIELDS, "type"), _dataset(result.get("dataset")), metrics,
                          _fields(result.get("source"), ("name", "url"), "name"))
            if not metrics and not read.dataset_key:
                index.problems.append(f"result {number} names no metric value and no dataset")
            index.results.append(read)
    return index


def problem_note(index: ModelIndex, recorded: int) -> str | None:
    """What the model's warning says of its model-index: nothing when all was read; that nothing was
    recorded only when no evaluation was."""
    if not index.problems:
        return None
    reasons = "; ".join(index.problems[:5]) + (f"; and {len(index.problems) - 5} more" if len(index.problems) > 5 else "")
    if recorded == 0:
        return f"model-index not readable; no evaluation recorded ({reasons})"
    return f"model-index read in part: {recorded} evaluations recorded, left out: {reasons}"
