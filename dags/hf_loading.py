"""HuggingFace loading: FAIR4ML records -> Neo4j knowledge graph (n10s shape) and Elasticsearch index.

One run loads every run folder its triggering transformation events name; a record that two of them
carry is loaded from the newer one only."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from mlentory.pipeline import loading as stage
from mlentory.pipeline.assets import HF_MODELS_LOADED, HF_MODELS_NORMALIZED
from mlentory.pipeline.dags import DEFAULT_ARGS, START_DATE, elasticsearch_client, neo4j_driver, resolve_run_folders
from mlentory.settings import ES_INDEX_PATTERN, ES_MODELS_INDEX


@dag(
    schedule=[HF_MODELS_NORMALIZED],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["mlentory", "huggingface", "loading"],
    doc_md=__doc__,
    params={
        "run_folder": Param(None, type=["null", "string"],
                            description="Run folder to load (again); empty: every folder the transformation events name or that still waits, else the newest transformed one."),
        "index": Param(ES_MODELS_INDEX, type="string", pattern=ES_INDEX_PATTERN,
                       description=f"Elasticsearch index of the model documents: {ES_MODELS_INDEX}, or {ES_MODELS_INDEX}_<suffix> (e.g. a new index for a reindex)."),
        "max_error_rate": Param(0.1, type="number", minimum=0, maximum=1,
                                description="Fail the run when more than this share of the models fail to load."),
    },
)
def hf_loading() -> None:
    @task
    def hf_loading_run_folders(params: dict[str, Any] | None = None, triggering_asset_events: Any = None, run_id: str | None = None) -> list[str]:
        return resolve_run_folders(params, triggering_asset_events, HF_MODELS_NORMALIZED, "hf", after_stage="transformation", stage="loading", run_id=run_id or "")

    @task
    def hf_rdf_store_ready() -> None:
        stage.prepare_graph(neo4j_driver())

    @task
    def hf_loading_plan(run_folders: list[str]) -> list[dict[str, Any]]:
        return stage.plan_loading(run_folders)

    @task
    def hf_model_chunks(run_folders: list[str]) -> list[dict[str, Any]]:
        return stage.plan_model_loads(run_folders)

    @task(max_active_tis_per_dag=2)
    def hf_load_entities(run_folder: str, kind: str) -> int:
        return stage.load_entities(run_folder, kind, neo4j_driver())

    @task(max_active_tis_per_dag=2)
    def hf_load_models(run_folder: str, chunk: int) -> int:
        return stage.load_models(run_folder, chunk, neo4j_driver())

    @task
    def hf_index_models_elasticsearch(run_folder: str, params: dict[str, Any] | None = None) -> int:
        return stage.index_run_models(run_folder, elasticsearch_client(), params["index"])

    @task(outlets=[HF_MODELS_LOADED])
    def hf_loading_report(run_folder: str, params: dict[str, Any] | None = None, outlet_events: Any = None) -> dict[str, Any]:
        summary = stage.finish_loading(run_folder, params["max_error_rate"])
        outlet_events[HF_MODELS_LOADED].extra = summary
        return summary

    run_folders = hf_loading_run_folders()
    entities = hf_load_entities.expand_kwargs(hf_loading_plan(run_folders))
    models = hf_load_models.expand_kwargs(hf_model_chunks(run_folders))
    indexed = hf_index_models_elasticsearch.expand(run_folder=run_folders)
    reports = hf_loading_report.expand(run_folder=run_folders)
    hf_rdf_store_ready() >> entities >> models >> indexed >> reports


hf_loading()
