"""Leaderboards across sources: the best models on one dataset by one metric, whatever source reported
the values (a Hub card's model-index, an OpenML run), from the evaluations index.

A metric is a term of the metric vocabulary (``fair4ml.metrics``: a card's ``acc`` and OpenML's
``predictive_accuracy`` are both ``accuracy``), ranked in its direction (error rates ascending). A
dataset is the same data at every source that says so (``schema:sameAs`` in the graph: a Hub dataset
linking to an OpenML data set, two naming one DOI). An export is written to the data root as
``leaderboards/<dataset>__<metric>.json`` and ``.csv``.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from typing import Any

from mlentory.errors import InvalidInput
from mlentory.fair4ml import iris
from mlentory.fair4ml.metrics import MetricTerm, metric_term
from mlentory.settings import ES_INDEX_PATTERN, ES_MODELS_INDEX, MAX_LEADERBOARD_SIZE

log = logging.getLogger(__name__)

LEADERBOARDS_DIR = "leaderboards"
COLUMNS = ("rank", "model", "model_identifier", "source", "value", "metric", "metric_type", "dataset", "dataset_config",
           "dataset_split", "verified", "measurement_technique", "evaluation")
_DATASET_REFERENCE = re.compile(r"^[\w.:/?=&%#~+-]{1,300}$")


def metric_of(name: str) -> MetricTerm:
    """The vocabulary's term a user names (``accuracy``, ``acc``, ``f1-macro``, ``F1 Macro``)."""
    term = metric_term(name) if isinstance(name, str) else None
    if term is None:
        raise InvalidInput(f"metric {str(name)[:80]!r} is no term of the metric vocabulary (include/schemas/metrics.json)")
    return term


def dataset_of(reference: str) -> str:
    """The IRI of the dataset a user names (its IRI, ``openml:61`` or a Hub dataset id), checked."""
    if not isinstance(reference, str) or not _DATASET_REFERENCE.match(reference.strip()):
        raise InvalidInput("dataset must be a dataset's IRI, an OpenML data set (openml:<id>) or a Hub dataset id")
    return iris.dataset_iri_of(reference)


def leaderboard(es: Any, index: str, datasets: list[str], term: MetricTerm, size: int = 10) -> list[dict[str, Any]]:
    """The ``size`` best models on the ``datasets`` (one dataset's IRIs at every source) by ``term``:
    ranked rows with each model's best value and where it was measured."""
    from mlentory.stores.search_index import top_values

    return [{"rank": rank, **{column: value.get(column) for column in COLUMNS if column != "rank"}}
            for rank, value in enumerate(top_values(es, index, datasets, term.id, term.higher_is_better, size), start=1)]


def _checked(index: str, size: int) -> None:
    if not re.match(ES_INDEX_PATTERN, index or ""):
        raise InvalidInput(f"index must be {ES_MODELS_INDEX} or {ES_MODELS_INDEX}_<suffix>")
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_LEADERBOARD_SIZE:
        raise InvalidInput(f"size must be a whole number from 1 to {MAX_LEADERBOARD_SIZE}")


def export(dataset: str, metric: str, size: int, index: str, graph: Any, es: Any, data_root: str) -> dict[str, Any]:
    """One leaderboard written to the data root (JSON with what it ranks, and CSV). ``graph``: a
    ``GraphLoader``, for the dataset's IRIs at other sources. Returns the files and the rows."""
    from mlentory.pipeline.storage import write_json_at, write_text_at

    _checked(index, size)
    term, dataset_iri = metric_of(metric), dataset_of(dataset)
    datasets = graph.same_as(dataset_iri)
    rows = leaderboard(es, index, datasets, term, size)
    name = f"{iris.slug(dataset_iri.split('://', 1)[-1])[:120]}__{term.id}"
    board = {"dataset": dataset_iri, "same_data": datasets[1:], "metric": {"term": term.id, "iri": term.iri, "label": term.label,
             "higher_is_better": term.higher_is_better}, "sources": sorted({row["source"] for row in rows if row["source"]}), "rows": rows}
    write_json_at(data_root, f"{LEADERBOARDS_DIR}/{name}.json", board)
    write_text_at(data_root, f"{LEADERBOARDS_DIR}/{name}.csv", as_csv(rows))
    log.info("leaderboard of %s by %s: %d models from %s -> %s/%s.json", dataset_iri, term.id, len(rows), board["sources"], LEADERBOARDS_DIR, name)
    return {"json": f"{LEADERBOARDS_DIR}/{name}.json", "csv": f"{LEADERBOARDS_DIR}/{name}.csv", **board}


def as_csv(rows: list[dict[str, Any]]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def export_with_connections(dataset: str, metric: str, size: int, index: str, data_root: str) -> dict[str, Any]:
    """``export`` with the graph and the index of the Airflow connections; what it wrote (the files,
    the models ranked, their sources), not the rows (a task's result names files, never records)."""
    from mlentory.stores.clients import graph_store, search_client
    from mlentory.stores.graph import GraphLoader

    # The clients connect when first asked: ``export`` checks every param before that.
    board = export(dataset, metric, size, index, GraphLoader(graph_store()), search_client(), data_root)
    return {"json": board["json"], "csv": board["csv"], "dataset": board["dataset"], "metric": board["metric"]["term"],
            "models": len(board["rows"]), "sources": board["sources"]}
