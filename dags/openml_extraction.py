"""OpenML extraction (Airflow DAG): the newest flows not loaded yet (and flows named by id), their run
evaluations, and the tasks, datasets and users those reference, into a new run folder; then the
``openml_raw_models`` asset event that starts the transformation.

OpenML's API budget: one flow/list request per 10,000 flows, one flow/{id} per new flow (never
again: flows never change), one evaluation/list per measure and 100 flows (plus one user/list), one
task/{id} and data/{id} per referenced task and dataset not cached yet.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from mlentory.pipeline.dags import DEFAULT_ARGS, START_DATE, data_root
from mlentory.settings import OPENML_MEASURES
from mlentory.sources import OPENML

RAW_MODELS = OPENML.assets.raw
ENTITY_KINDS = ("tasks", "datasets", "organisations", "languages")


@dag(
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["mlentory", OPENML.name, "extraction"],
    doc_md=__doc__,
    params={
        "num_flows": Param(50, type="integer", minimum=0, maximum=1_000_000,
                           description="How many of the newest flows not loaded yet to harvest (the listing costs one request per 10,000 flows)."),
        "flow_ids": Param(None, type=["null", "array"], items={"type": ["integer", "string"]},
                          description="OpenML flow ids to harvest as well, e.g. 8365."),
        "measures": Param(list(OPENML_MEASURES), type="array", items={"type": "string", "pattern": r"^[a-z_]{1,64}$"}, minItems=1,
                          description="Evaluation measures to list for the harvested flows (one request per measure and 100 flows)."),
        "full_refresh": Param(False, type="boolean", description="Harvest flows even when they were loaded before."),
        "max_error_rate": Param(0.1, type="number", minimum=0, maximum=1,
                                description="Fail the run when more than this share of the flows fail."),
    },
)
def openml_extraction() -> None:
    @task
    def openml_run_folder() -> str:
        from mlentory.sources.openml import extraction

        return extraction.create_run_folder(data_root())

    @task
    def openml_raw_flows(run_folder: str, params: dict[str, Any] | None = None) -> int:
        from mlentory.sources.openml import extraction

        client = extraction.openml_client(data_root())
        return extraction.harvest_flows(run_folder, client, params["num_flows"], params["flow_ids"], params["full_refresh"])

    @task
    def openml_raw_models(run_folder: str, params: dict[str, Any] | None = None) -> dict[str, int]:
        from mlentory.sources.openml import extraction

        return extraction.merge_flows(run_folder, params["full_refresh"])

    @task
    def openml_evaluations(run_folder: str, params: dict[str, Any] | None = None) -> int:
        from mlentory.sources.openml import extraction

        return extraction.harvest_evaluations(run_folder, extraction.openml_client(data_root()), params["measures"])

    def openml_identify(kind: str):  # noqa: ANN202 - a task
        entities = OPENML.assets.entities(kind)

        @task(task_id=f"openml_{kind}", outlets=[entities])
        def identify(run_folder: str, outlet_events: Any = None) -> int:
            from mlentory.sources.openml import extraction

            count = extraction.identify_entities_with_connections(run_folder, kind, data_root())
            outlet_events[entities].extra = {"run_folder": run_folder, "count": count}
            return count

        return identify

    @task(outlets=[RAW_MODELS])
    def openml_raw_models_ready(run_folder: str, params: dict[str, Any] | None = None, outlet_events: Any = None) -> dict[str, Any]:
        from mlentory.sources.openml import extraction

        summary = extraction.finish_extraction(run_folder, params["max_error_rate"])
        outlet_events[RAW_MODELS].extra = summary
        return summary

    run_folder = openml_run_folder()
    evaluations = openml_evaluations(run_folder)
    ready = openml_raw_models_ready(run_folder)
    openml_raw_flows(run_folder) >> openml_raw_models(run_folder) >> evaluations
    for kind in ENTITY_KINDS:
        evaluations >> openml_identify(kind)(run_folder) >> ready


openml_extraction()
