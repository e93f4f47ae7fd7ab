"""HuggingFace Hub extraction: harvest model metadata, cards and linked entities into a new run folder."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from mlentory.enrichment.arxiv_papers import ArxivHook
from mlentory.fair4ml.models import ENTITY_KINDS
from mlentory.pipeline.dags import DEFAULT_ARGS, START_DATE, data_root
from mlentory.sources import HUGGINGFACE
from mlentory.sources.huggingface import extraction
from mlentory.sources.huggingface.hook import HuggingFaceHubHook

HUB_CALLS = ("datasets", "organisations")  # identification tasks that call the Hub API


@dag(
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["mlentory", "huggingface", "extraction"],
    doc_md=__doc__,
    params={
        "num_models": Param(50, type="integer", minimum=0, maximum=1_000_000,
                            description="How many of the most recently modified models to harvest (one listing request per 1,000 models)."),
        "model_ids": Param(None, type=["null", "array"], items={"type": "string"},
                           description="Model ids to harvest as well, e.g. google-bert/bert-base-uncased."),
        "model_ids_file": Param(None, type=["null", "string"], pattern=r"^[\w.-]+(/[\w.-]+)*$", maxLength=255,
                                description="Name of a file in <data root>/hf/inputs/ with one model id per line; '#' starts a comment. "
                                            "Only files in that folder can be named."),
        "ancestor_generations": Param(1, type="integer", minimum=0, maximum=10,
                                      description="How many base_model steps to follow up from the harvested models."),
        "full_refresh": Param(False, type="boolean",
                              description="Process every model, even when its revision (sha) was loaded before."),
        "max_error_rate": Param(0.1, type="number", minimum=0, maximum=1,
                                description="Fail the run when more than this share of the models fail."),
    },
)
def hf_extraction() -> None:
    @task
    def hf_run_folder() -> str:
        return extraction.create_run_folder(data_root())

    @task
    def hf_raw_models_latest(run_folder: str, params: dict[str, Any] | None = None) -> int:
        return extraction.harvest_latest_models(run_folder, HuggingFaceHubHook().get_conn(), params["num_models"])

    @task
    def hf_raw_models_from_file(run_folder: str, params: dict[str, Any] | None = None) -> int:
        return extraction.harvest_models_by_id(
            run_folder, HuggingFaceHubHook().get_conn(), params["model_ids"], params["model_ids_file"]
        )

    @task
    def hf_raw_models(run_folder: str, params: dict[str, Any] | None = None) -> dict[str, int]:
        return extraction.merge_raw_models(run_folder, params["full_refresh"])

    @task
    def hf_add_ancestor_models(run_folder: str, params: dict[str, Any] | None = None) -> int:
        return extraction.add_ancestor_models(
            run_folder, HuggingFaceHubHook().get_conn(), params["ancestor_generations"], params["full_refresh"]
        )

    @task
    def hf_model_cards(run_folder: str) -> int:
        return extraction.fetch_model_cards(run_folder, HuggingFaceHubHook().get_conn())

    @task
    def hf_identify(run_folder: str, kind: str) -> int:
        hub = HuggingFaceHubHook().get_conn() if kind in HUB_CALLS else None
        arxiv_client = ArxivHook().get_conn() if kind == "articles" else None
        return extraction.identify_entities(run_folder, kind, hub=hub, arxiv_client=arxiv_client)

    @task(outlets=[HUGGINGFACE.assets.raw])
    def hf_raw_models_ready(run_folder: str, params: dict[str, Any] | None = None, outlet_events: Any = None) -> dict[str, Any]:
        summary = extraction.finish_extraction(run_folder, params["max_error_rate"])
        outlet_events[HUGGINGFACE.assets.raw].extra = summary
        return summary

    run_folder = hf_run_folder()
    harvested = [hf_raw_models_latest(run_folder), hf_raw_models_from_file(run_folder)]
    merged = hf_raw_models(run_folder)
    ancestors = hf_add_ancestor_models(run_folder)
    cards = hf_model_cards(run_folder)
    ready = hf_raw_models_ready(run_folder)
    harvested >> merged >> ancestors >> cards
    for kind in ENTITY_KINDS:
        cards >> hf_identify.override(task_id=f"hf_{kind}")(run_folder, kind) >> ready


hf_extraction()
