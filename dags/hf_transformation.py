"""HuggingFace transformation: raw Hub records -> validated FAIR4ML JSON-LD, property groups in parallel.

One run transforms every run folder its triggering extraction events name (extractions that finish
while a transformation runs are taken together by the next run), each into its own folder."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from mlentory.pipeline.assets import HF_MODELS_NORMALIZED, HF_RAW_MODELS
from mlentory.pipeline.dags import DEFAULT_ARGS, START_DATE, resolve_run_folders
from mlentory.settings import DEFAULT_CHUNK_SIZE
from mlentory.sources.huggingface import transformation


@dag(
    schedule=[HF_RAW_MODELS],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["mlentory", "huggingface", "transformation"],
    doc_md=__doc__,
    params={
        "run_folder": Param(None, type=["null", "string"],
                            description="Run folder to transform (again); empty: every folder the extraction events name or that still waits, else the newest extracted one."),
        "chunk_size": Param(DEFAULT_CHUNK_SIZE, type="integer", minimum=1,
                            description="Models per mapped task (groups x chunks tasks run in parallel)."),
        "max_error_rate": Param(0.1, type="number", minimum=0, maximum=1,
                                description="Fail the run when more than this share of the models fail."),
    },
)
def hf_transformation() -> None:
    @task
    def hf_transformation_run_folders(params: dict[str, Any] | None = None, triggering_asset_events: Any = None, run_id: str | None = None) -> list[str]:
        return resolve_run_folders(params, triggering_asset_events, HF_RAW_MODELS, "hf", after_stage="extraction", stage="transformation", run_id=run_id or "")

    @task
    def hf_property_chunks(run_folders: list[str], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return transformation.plan_property_jobs(run_folders, params["chunk_size"])

    @task(max_active_tis_per_dag=4)
    def hf_properties(run_folder: str, group: str, chunk: int) -> int:
        return transformation.extract_property_group(run_folder, group, chunk)

    @task
    def hf_entity_linking(run_folder: str) -> dict[str, int]:
        return transformation.link_entities(run_folder)

    @task(outlets=[HF_MODELS_NORMALIZED])
    def hf_models_normalized(run_folder: str, params: dict[str, Any] | None = None, outlet_events: Any = None) -> dict[str, Any]:
        summary = transformation.normalize_models(run_folder, params["max_error_rate"])
        outlet_events[HF_MODELS_NORMALIZED].extra = summary
        return summary

    run_folders = hf_transformation_run_folders()
    partials = hf_properties.expand_kwargs(hf_property_chunks(run_folders))
    partials >> hf_entity_linking.expand(run_folder=run_folders) >> hf_models_normalized.expand(run_folder=run_folders)


hf_transformation()
