"""AI4Life / BioImage Model Zoo extraction (Airflow DAG): the collection's index, then the newest
models whose latest version was not loaded yet (and resources named by id) and the collection's
datasets, each version's description read and converted by the spec's own library, into a new run
folder; then the ``ai4life_raw_models`` asset event that starts the transformation.

The zoo's request budget: one request for the index, one per new resource version (its
``rdf.yaml``, kept by sha256 for good) and one per new version's documentation.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

from mlentory.pipeline.builders import Harvested, extraction_dag
from mlentory.pipeline.storage import staged_task
from mlentory.sources.bioimageio import BIOIMAGEIO_POOL, SOURCE


@extraction_dag(SOURCE, __doc__, {
    "num_resources": Param(50, type="integer", minimum=0, maximum=100_000,
                           description="How many of the newest models whose latest version was not loaded yet to harvest."),
    "resource_ids": Param(None, type=["null", "array"], items={"type": "string", "pattern": r"^[\w./:-]{1,200}$"}, maxItems=10_000,
                          description="Resources of the collection to harvest as well, e.g. bioimage-io/affable-shark."),
    "full_refresh": Param(False, type="boolean", description="Harvest models even when their latest version was loaded before."),
})
def ai4life_extraction(run_folder: Any) -> Harvested:
    @staged_task(run_folders=("run_folder",), pool=BIOIMAGEIO_POOL.name)
    def ai4life_raw_resources(run_folder: str, params: dict[str, Any] | None = None) -> int:
        from mlentory.sources.bioimageio import extraction

        return extraction.harvest_resources(run_folder, extraction.bioimageio_client(), params["num_resources"], params["resource_ids"],
                                            params["full_refresh"])

    @staged_task(run_folders=("run_folder",))
    def ai4life_raw_models(run_folder: str, params: dict[str, Any] | None = None) -> dict[str, int]:
        from mlentory.sources.bioimageio import extraction

        return extraction.merge_resources(run_folder, params["full_refresh"])

    merged = ai4life_raw_models(run_folder)
    ai4life_raw_resources(run_folder) >> merged
    return Harvested(records=merged)
