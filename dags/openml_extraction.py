"""OpenML extraction (Airflow DAG): the newest flows not loaded yet (and flows named by id), their run
evaluations, and the tasks, datasets and users those reference, into a new run folder; then the
``openml_raw_models`` asset event that starts the transformation.

OpenML's API budget: one flow/list request per 10,000 flows, one flow/{id} per new flow (never
again: flows never change), one evaluation/list per measure and 100 flows (plus one user/list), one
task/{id} and data/{id} per referenced task and dataset not cached yet.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

from mlentory.pipeline.builders import Harvested, extraction_dag
from mlentory.pipeline.storage import staged_task
from mlentory.sources.openml import MEASURES, OPENML_POOL, SOURCE


@extraction_dag(SOURCE, __doc__, {
    "num_flows": Param(50, type="integer", minimum=0, maximum=1_000_000,
                       description="How many of the newest flows not loaded yet to harvest (the listing costs one request per 10,000 flows)."),
    "flow_ids": Param(None, type=["null", "array"], items={"type": ["integer", "string"], "minimum": 1, "maximum": 9_999_999_999,
                                                           "maxLength": 20}, maxItems=10_000,
                      description="OpenML flow ids to harvest as well, e.g. 8365."),
    "measures": Param(list(MEASURES), type="array", items={"type": "string", "pattern": r"^[a-z_]{1,64}$"}, minItems=1, maxItems=50,
                      description="Evaluation measures to list for the harvested flows (one request per measure and 100 flows)."),
    "full_refresh": Param(False, type="boolean", description="Harvest flows even when they were loaded before."),
    "check_new_runs": Param(False, type="boolean",
                            description="List the evaluations of every loaded flow again and process the flows that gained runs "
                                        "(one request per measure and 100 loaded flows; descriptions come from the cache)."),
})
def openml_extraction(run_folder: Any) -> Harvested:
    @staged_task(run_folders=("run_folder",), pool=OPENML_POOL.name)
    def openml_raw_flows(run_folder: str, params: dict[str, Any] | None = None) -> int:
        from mlentory.sources.openml import extraction

        return extraction.harvest_flows(run_folder, extraction.openml_client(run_folder), params["num_flows"], params["flow_ids"],
                                        params["full_refresh"], params["check_new_runs"])

    @staged_task(run_folders=("run_folder",), pool=OPENML_POOL.name)
    def openml_evaluations(run_folder: str, params: dict[str, Any] | None = None) -> int:
        from mlentory.sources.openml import extraction

        return extraction.harvest_evaluations(run_folder, extraction.openml_client(run_folder), params["measures"])

    @staged_task(run_folders=("run_folder",))
    def openml_raw_models(run_folder: str, params: dict[str, Any] | None = None) -> dict[str, int]:
        from mlentory.sources.openml import extraction

        return extraction.merge_flows(run_folder, params["full_refresh"])

    # A flow's runs are part of its revision: evaluations are listed before the flows are merged.
    merged = openml_raw_models(run_folder)
    openml_raw_flows(run_folder) >> openml_evaluations(run_folder) >> merged
    return Harvested(records=merged)
