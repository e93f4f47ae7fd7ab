"""Toy source extraction (an Airflow DAG: its own harvest, the core's tail)."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

from mlentory.pipeline.builders import Harvested, extraction_dag
from mlentory.pipeline.storage import staged_task
from mlentory.sources.toy import SOURCE, TOY_POOL


@extraction_dag(SOURCE, __doc__, {"full_refresh": Param(False, type="boolean", description="Harvest every record again.")})
def toy_extraction(run_folder: Any) -> Harvested:
    @staged_task(run_folders=("run_folder",), pool=TOY_POOL.name)
    def toy_raw_catalogue(run_folder: str) -> int:
        from mlentory.sources.toy import extraction
        from mlentory.sources.toy.hook import ToyHook

        return extraction.harvest_catalogue(run_folder, ToyHook().get_conn())

    @staged_task(run_folders=("run_folder",))
    def toy_raw_models(run_folder: str, params: dict[str, Any] | None = None) -> dict[str, int]:
        from mlentory.sources.toy import extraction

        return extraction.merge_catalogue(run_folder, params["full_refresh"])

    merged = toy_raw_models(run_folder)
    toy_raw_catalogue(run_folder) >> merged
    return Harvested(records=merged)
