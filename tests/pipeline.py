"""Run the three HF DAGs with ``dag.test()`` (real Airflow task execution, in-process)."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def dag_bag():  # noqa: ANN201 - airflow DagBag
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


@functools.cache
def declared_defaults() -> dict[str, dict[str, Any]]:
    return {dag_id: copy.deepcopy(dag.params.dump()) for dag_id, dag in dag_bag().dags.items()}


def run_dag(dag_id: str, conf: dict[str, Any] | None = None):  # noqa: ANN201 - DagRun
    # dag.test() writes run_conf into the DAG's params, so a key left out would keep the value an
    # earlier test gave it: always pass every param, defaulting to the declared default.
    dag = dag_bag().get_dag(dag_id)
    run = dag.test(run_conf={**declared_defaults()[dag_id], **(conf or {})})
    failed = [ti.task_id for ti in run.get_task_instances() if ti.state != "success"]
    assert run.state == "success", f"{dag_id} ended {run.state}; not successful: {failed}"
    return run


def xcom(run, task_id: str) -> Any:  # noqa: ANN001
    ti = next(ti for ti in run.get_task_instances() if ti.task_id == task_id)
    return ti.xcom_pull(task_ids=task_id)


def run_pipeline(extraction_conf: dict[str, Any] | None = None, chunk_size: int = 3) -> str:
    """Extraction, then transformation and loading on the run folder it made, in chunks of
    ``chunk_size`` models (small by default, so that the fixture's few fan out). Returns the folder."""
    extraction = run_dag("hf_extraction", extraction_conf)
    run_folder = xcom(extraction, "hf_run_folder")
    run_dag("hf_transformation", {"run_folder": run_folder, "chunk_size": chunk_size})
    run_dag("hf_loading", {"run_folder": run_folder})
    return run_folder


def run_source_chain(key: str, extraction_conf: dict[str, Any], max_error_rate: float | None = None) -> Path:
    """A source's three DAGs on one run folder (the extraction's), with one error budget for all
    three when given. Returns the run folder."""
    budget = {"max_error_rate": max_error_rate} if max_error_rate is not None else {}
    run_folder = xcom(run_dag(f"{key}_extraction", {**extraction_conf, **budget}), f"{key}_run_folder")
    run_dag(f"{key}_transformation", {"run_folder": run_folder, **budget})
    run_dag(f"{key}_loading", {"run_folder": run_folder, **budget})
    return Path(run_folder)


def lines(path: Path) -> list[dict[str, Any]]:
    """The rows of a run folder's JSON-lines file (errors, warnings); none when it is not there."""
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def normalized_records(run_folder: str | Path, by: str = "identifier") -> dict[str, dict[str, Any]]:
    """The run's normalized model records (``transformation/models/*.jsonld``), by ``identifier`` or ``@id``."""
    from mlentory.fair4ml.jsonld import read_jsonld

    return {record[by]: record for path in sorted((Path(run_folder) / "transformation" / "models").glob("*.jsonld"))
            for record in read_jsonld(path)}


def source_keys() -> list[str]:
    from mlentory.sources import SOURCES

    return [source.key for source in SOURCES]


def source_of(key: str) -> Any:  # mlentory.pipeline.source.Source
    from mlentory.sources import SOURCES

    return next(source for source in SOURCES if source.key == key)


def per_source(fixture: str) -> tuple[Any, Any]:
    """For a module-scoped fixture parametrized by source key (one run per source): ``for_source(key)``
    marks a test of that source's own, ``for_every_source`` one every registered source must pass.
    pytest groups the tests by key, so each source's run happens once."""
    import pytest

    def for_source(key: str) -> pytest.MarkDecorator:
        return pytest.mark.parametrize(fixture, [key], indirect=True)

    return for_source, pytest.mark.parametrize(fixture, source_keys(), indirect=True)
