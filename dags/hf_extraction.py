"""HuggingFace Hub extraction (Airflow DAG): harvest model metadata, cards and linked entities into a
new run folder, then emit the ``hf_raw_models`` asset event that starts the transformation.

The harvest tasks are the Hub's own; the run folder, mentions, one identification task per entity
kind and the extraction's end are the shared tail (``builders.extraction_dag``). The tasks import
the harvesting code when they run: the DAG processor re-parses this file every 30 s.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

from mlentory.pipeline.builders import Harvested, extraction_dag
from mlentory.pipeline.storage import staged_task
from mlentory.sources.huggingface import DUMP_DATASET, HF_POOL, MAX_CARD_FETCHES, SOURCE


def hub():  # noqa: ANN201 - mlentory.sources.huggingface.hub.HubClient
    from mlentory.sources.huggingface.hook import HuggingFaceHubHook

    return HuggingFaceHubHook().get_conn()


@extraction_dag(SOURCE, __doc__, {
    "num_models": Param(50, type="integer", minimum=0, maximum=1_000_000,
                        description="How many of the most recently modified models to harvest (one listing request per 1,000 models)."),
    "every_listed_model": Param(False, type="boolean",
                                description="Catalogue every model the Hub lists: the first run enumerates the whole listing (one request "
                                            "per 1,000 models, some 2,900 for the whole Hub), later runs only the models modified since "
                                            "(num_models is then not used). Their cards follow through the card backlog (max_card_fetches)."),
    "max_card_fetches": Param(MAX_CARD_FETCHES, type="integer", minimum=0, maximum=10_000_000,
                              description="Model cards to read through the file resolver this run (a free token allows 5,000 per "
                                          "5 minutes), oldest-missing first; the others wait in the card backlog for later runs, and "
                                          "their models are catalogued meanwhile without card text."),
    "model_ids": Param(None, type=["null", "array"], items={"type": "string", "maxLength": 200}, maxItems=10_000,
                       description="Model ids to harvest as well, e.g. google-bert/bert-base-uncased."),
    "model_ids_file": Param(None, type=["null", "string"], pattern=r"^[\w.-]+(/[\w.-]+)*$", maxLength=255,
                            description="Name of a file in <data root>/hf/inputs/ with one model id per line; '#' starts a comment. "
                                        "Only files in that folder can be named."),
    "ancestor_generations": Param(1, type="integer", minimum=0, maximum=10,
                                  description="How many base_model steps to follow up from the harvested models."),
    "full_refresh": Param(False, type="boolean",
                          description="Process every model, even when its revision (sha) was loaded before."),
    "bootstrap_from_dump": Param(False, type="boolean",
                                 description="Harvest every model of the public dump of model cards as well (a first harvest of the "
                                             "whole Hub in a few requests); later runs list what changed since."),
    "dump_dataset": Param(DUMP_DATASET, type="string", pattern=r"^[\w.-]+/[\w.-]+$", maxLength=200, description="The Hub dataset of the dump."),
    "dump_revision": Param("main", type="string", pattern=r"^[\w./-]{1,100}$", description="The dump's revision (branch, tag or commit)."),
    "dump_rows": Param(None, type=["null", "integer"], minimum=0, maximum=100_000_000,
                       description="Read at most this many rows of the dump (empty: all of them)."),
    "max_withdrawal_checks": Param(1_000, type="integer", minimum=0, maximum=100_000,
                                   description="After a complete dump: how many loaded models it no longer lists to ask the Hub "
                                               "for (one request each); those gone are withdrawn."),
})
def hf_extraction(run_folder: Any) -> Harvested:
    harvest = staged_task(run_folders=("run_folder",), pool=HF_POOL.name)

    @harvest
    def hf_raw_models_latest(run_folder: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        from mlentory.sources.huggingface import listing

        return listing.list_latest_pages(run_folder, hub(), params["num_models"], params["every_listed_model"], params["full_refresh"])

    @staged_task(run_folders=("run_folder",), max_active_tis_per_dag=4)
    def hf_listed_models(run_folder: str, pages: list[int]) -> int:
        from mlentory.sources.huggingface import listing

        return listing.parse_listed_pages(run_folder, pages)

    @harvest
    def hf_raw_models_from_file(run_folder: str, params: dict[str, Any] | None = None) -> int:
        from mlentory.sources.huggingface import extraction

        return extraction.harvest_models_by_id(run_folder, hub(), params["model_ids"], params["model_ids_file"])

    @harvest
    def hf_raw_models_dump(run_folder: str, params: dict[str, Any] | None = None) -> int:
        from mlentory.sources.huggingface import extraction

        if not params["bootstrap_from_dump"]:
            return 0
        return extraction.harvest_dump(run_folder, hub(), params["dump_dataset"], params["dump_revision"], params["dump_rows"])

    @staged_task(run_folders=("run_folder",))
    def hf_raw_models(run_folder: str, params: dict[str, Any] | None = None) -> dict[str, int]:
        from mlentory.sources.huggingface import extraction

        return extraction.merge_raw_models(run_folder, params["full_refresh"])

    @harvest
    def hf_withdrawn_models(run_folder: str, params: dict[str, Any] | None = None) -> int:
        from mlentory.sources.huggingface import extraction

        return extraction.find_withdrawn_models(run_folder, hub(), params["max_withdrawal_checks"])

    @harvest
    def hf_add_ancestor_models(run_folder: str, params: dict[str, Any] | None = None) -> int:
        from mlentory.sources.huggingface import extraction

        return extraction.add_ancestor_models(run_folder, hub(), params["ancestor_generations"], params["full_refresh"])

    @staged_task(run_folders=("run_folder",))
    def hf_model_card_chunks(run_folder: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        from mlentory.sources.huggingface import extraction

        return extraction.plan_model_cards(run_folder, params["max_card_fetches"])

    @staged_task(run_folders=("run_folder",), pool=HF_POOL.name, max_active_tis_per_dag=4)
    def hf_model_cards(run_folder: str, chunk: int) -> int:
        from mlentory.sources.huggingface import extraction

        return extraction.read_card_chunk(run_folder, hub(), chunk)

    @staged_task(run_folders=("run_folder",))
    def hf_model_cards_done(run_folder: str) -> int:
        from mlentory.sources.huggingface import extraction

        return extraction.finish_model_cards(run_folder)

    merged = hf_raw_models(run_folder)
    card_chunks = hf_model_card_chunks(run_folder)
    cards = hf_model_cards_done(run_folder)
    card_chunks >> hf_model_cards.expand_kwargs(card_chunks) >> cards
    withdrawn = hf_withdrawn_models(run_folder)
    listed = hf_listed_models.expand_kwargs(hf_raw_models_latest(run_folder))  # the listing's pages, parsed in parallel
    [listed, hf_raw_models_from_file(run_folder), hf_raw_models_dump(run_folder)] >> merged
    merged >> hf_add_ancestor_models(run_folder) >> card_chunks
    merged >> withdrawn
    return Harvested(records=cards, also_before_finish=[withdrawn])
