"""The builders of every source's DAGs: the extraction's shared tail around the source's own harvest
tasks, and the whole transformation and loading DAGs. A source's DAG files make one call each.

The tasks import the stages when they run: a DAG file is parsed every 30 s and must cost little
beyond importing Airflow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from airflow.sdk import DAG, Asset, Param, dag, task

from mlentory.pipeline.dag_arguments import dag_arguments, extraction_schedule
from mlentory.pipeline.run_folder import MAX_REFERENCE_CHARS
from mlentory.pipeline.source import EntityKind, Source
from mlentory.pipeline.storage import data_root, staged_task
from mlentory.settings import DEFAULT_CHUNK_SIZE, ES_INDEX_PATTERN, ES_MODELS_INDEX
from mlentory.stores.clients import graph_store, search_client


@dataclass(frozen=True)
class Harvested:
    """What a source's harvest tasks give the shared extraction tail: the task after which the run's
    records are final (mentions are collected after it), and any others the extraction's end waits for."""

    records: Any
    also_before_finish: Sequence[Any] = ()


def extraction_dag(source: Source, doc_md: str | None, params: dict[str, Param]) -> Callable[[Callable[[Any], Harvested]], DAG]:
    """``<key>_extraction``, around the source's own harvest tasks: the decorated function is given the
    run folder (an XComArg of ``<key>_run_folder``) and wires the harvests; then ``<key>_record_chunks``
    and ``<key>_mentions`` (mapped over the chunks),
    one identification task per entity kind of the manifest (in its pool), and ``<key>_raw_models_ready``
    (the source's ``finish_extraction``), whose ``raw`` asset event starts the transformation."""

    def build(harvests: Callable[[Any], Harvested]) -> DAG:
        @dag(schedule=extraction_schedule(source), **dag_arguments(source, "extraction", doc_md, params))
        def extraction() -> None:
            run_folder = run_folder_task(source)()
            harvested = harvests(run_folder)
            ready = extraction_ready_task(source)(run_folder)
            chunks = record_chunks_task(source)(run_folder)
            harvested.records >> chunks
            mentions = mentions_task(source).expand_kwargs(chunks)
            for waited in harvested.also_before_finish:
                waited >> ready
            lookup_jobs = lookup_tasks_task(source)(run_folder) if any(kind.partitioned for kind in source.entity_kinds) else None
            for kind in source.entity_kinds:
                if kind.partitioned:  # mapped over partitions of the mentioned keys
                    mentions >> lookup_jobs >> entity_identification_task(source, kind).expand_kwargs(lookup_jobs) >> ready
                else:
                    mentions >> entity_identification_task(source, kind)(run_folder) >> ready

        return extraction()

    return build


def run_folder_task(source: Source) -> Any:  # an Airflow task
    """``<key>_run_folder``: a new run folder of the source under the data root."""

    @staged_task(task_id=f"{source.key}_run_folder", run_listing=True)
    def run_folder() -> str:
        from mlentory.pipeline.extraction import create_run_folder

        return create_run_folder(data_root(), source.key)

    return run_folder


def run_folder_param(verb: str, previous: str) -> Param:
    # Checked again by the task (``RunFolder.resolve``) before it touches the file system: a run's
    # conf is validated against the form only when triggered through the UI or the REST API.
    return Param(None, type=["null", "string"], maxLength=MAX_REFERENCE_CHARS,
                 description=f"Run folder to {verb} (again); empty: every folder the {previous} events name "
                             f"or that still waits, else the newest one that finished {previous}.")


def run_folders_task(source: Source, asset: Asset, after_stage: str, stage: str) -> Any:  # an Airflow task
    """The first task of a transformation or loading run: the run folders it works on."""

    @staged_task(task_id=f"{source.key}_{stage}_run_folders", run_listing=True)
    def run_folders(params: Any = None, triggering_asset_events: Any = None, run_id: str | None = None) -> list[str]:
        from mlentory.pipeline.run_folder import resolve_run_folders

        return resolve_run_folders(params, triggering_asset_events, asset, source.key, after_stage=after_stage, stage=stage,
                                   run_id=run_id or "")

    return run_folders


def record_chunks_task(source: Source) -> Any:  # an Airflow task
    """``<key>_record_chunks``: the run's records, joined as the mapping reads them, written once
    into chunks for the mapped mentions and the transformation."""

    @staged_task(run_folders=("run_folder",), task_id=f"{source.key}_record_chunks")
    def record_chunks(run_folder: str) -> list[dict[str, Any]]:
        from mlentory.pipeline import extraction

        return extraction.plan_record_chunks(source, run_folder)

    return record_chunks


def mentions_task(source: Source) -> Any:  # an Airflow task, mapped over the record chunks
    """``<key>_mentions``: every entity one chunk's records mention, per kind, for the
    identification tasks that follow."""

    @staged_task(run_folders=("run_folder",), task_id=f"{source.key}_mentions", max_active_tis_per_dag=4)
    def mentions(run_folder: str, chunk: int) -> dict[str, int]:
        from mlentory.pipeline import extraction

        return extraction.collect_chunk_mentions(source, run_folder, chunk)

    return mentions


def lookup_tasks_task(source: Source) -> Any:  # an Airflow task
    """``<key>_lookup_tasks``: the tasks of the partitioned kinds' lookups (``plan_lookup_tasks``)."""

    @staged_task(run_folders=("run_folder",), task_id=f"{source.key}_lookup_tasks")
    def lookup_tasks(run_folder: str) -> list[dict[str, Any]]:
        from mlentory.pipeline import extraction

        return extraction.plan_lookup_tasks(run_folder)

    return lookup_tasks


def entity_identification_task(source: Source, kind: EntityKind) -> Any:  # an Airflow task
    """``<key>_<kind>``: the extraction's identification of one entity kind (the source's
    ``identify_entities_with_connections``), emitting the kind's asset with its count; in the pool
    of the API it calls, if any. A partitioned kind's is mapped: each task over some ``partitions``
    of the mentioned keys."""
    entities = source.assets.entities(kind.name)

    @staged_task(task_id=f"{source.key}_{kind.name}", run_folders=("run_folder",), outlets=[entities],
                 pool=kind.pool.name if kind.pool else None)
    def identify(run_folder: str, partitions: list[int] | None = None, outlet_events: Any = None) -> int:
        if partitions is None:  # a source without partitioned kinds need not take the argument (tests/toy's)
            count = source.extraction.identify_entities_with_connections(run_folder, kind.name)
        else:
            count = source.extraction.identify_entities_with_connections(run_folder, kind.name, partitions)
        outlet_events[entities].extra = {"run_folder": run_folder, "count": count, **({} if partitions is None else {"partitions": partitions})}
        return count

    return identify


def extraction_ready_task(source: Source) -> Any:  # an Airflow task
    """``<key>_raw_models_ready``: the extraction's end (the source's ``finish_extraction``); its
    ``raw`` asset event, carrying the run folder and counts, starts the transformation."""
    raw = source.assets.raw

    @staged_task(run_folders=("run_folder",), task_id=f"{source.key}_raw_models_ready", outlets=[raw])
    def ready(run_folder: str, params: Any = None, outlet_events: Any = None) -> dict[str, Any]:
        summary = source.extraction.finish_extraction(run_folder, params["max_error_rate"])
        outlet_events[raw].extra = summary
        return summary

    return ready


def transformation_dag(source: Source, doc_md: str | None = None) -> DAG:
    """``<key>_transformation``: every run folder its ``raw`` asset events name -> FAIR4ML JSON-LD,
    (run folder x chunk) in parallel mapped tasks, each running every property group, then the
    mentions linked in mapped tasks over partitions of their keys, then each chunk's models normalized
    while the entity records are merged in partitions of their IRIs; emits ``normalized``."""
    key, assets = source.key, source.assets

    @dag(schedule=[assets.raw], **dag_arguments(source, "transformation", doc_md, {
        "run_folder": run_folder_param("transform", "extraction"),
        "chunk_size": Param(DEFAULT_CHUNK_SIZE, type="integer", minimum=1, maximum=1_000_000,
                            description="Records per mapped task (one task per chunk runs every property group)."),
    }))
    def transformation() -> None:
        @staged_task(run_folders=("folders",), task_id=f"{key}_property_chunks")
        def property_jobs(folders: list[str], params: Any = None) -> list[dict[str, Any]]:
            from mlentory.pipeline import transformation as stage

            return stage.plan_property_jobs(source, folders, params["chunk_size"])

        @staged_task(run_folders=("run_folder",), task_id=f"{key}_properties", max_active_tis_per_dag=4)
        def properties(run_folder: str, chunk: int) -> int:
            from mlentory.pipeline import transformation as stage

            return stage.extract_properties(source, run_folder, chunk)

        @staged_task(run_folders=("folders",), task_id=f"{key}_link_tasks")
        def link_jobs(folders: list[str]) -> list[dict[str, Any]]:
            from mlentory.pipeline import entity_links

            return entity_links.plan_link_tasks(folders)

        @staged_task(run_folders=("run_folder",), task_id=f"{key}_entity_linking", max_active_tis_per_dag=4)
        def entity_linking(run_folder: str, partitions: list[int]) -> dict[str, int]:
            from mlentory.pipeline import transformation as stage

            return stage.link_entities(source, run_folder, partitions)

        @staged_task(run_folders=("run_folder",), task_id=f"{key}_entity_merge", max_active_tis_per_dag=4)
        def entity_merge(run_folder: str, partitions: list[int]) -> dict[str, int]:
            from mlentory.pipeline import entity_links

            return entity_links.merge_entities(run_folder, partitions)

        @staged_task(run_folders=("run_folder",), task_id=f"{key}_normalize_chunk", max_active_tis_per_dag=4)
        def normalize_chunk(run_folder: str, chunk: int) -> int:
            from mlentory.pipeline import transformation as stage

            return stage.normalize_chunk(source, run_folder, chunk)

        @staged_task(run_folders=("run_folder",), task_id=f"{key}_models_normalized", outlets=[assets.normalized])
        def models_normalized(run_folder: str, params: Any = None, outlet_events: Any = None,
                              triggering_asset_events: Any = None) -> dict[str, Any]:
            from mlentory.pipeline import transformation as stage
            from mlentory.pipeline.quality import cascade_error_rate

            budget = cascade_error_rate(params["max_error_rate"], bool(triggering_asset_events), run_folder, "extraction")
            summary = stage.normalize_models(source, run_folder, budget)
            outlet_events[assets.normalized].extra = summary
            return summary

        folders = run_folders_task(source, assets.raw, "extraction", "transformation")()
        jobs = property_jobs(folders)
        partials = properties.expand_kwargs(jobs)
        links = link_jobs(folders)
        jobs >> links
        linked = entity_linking.expand_kwargs(links)
        partials >> linked >> [normalize_chunk.expand_kwargs(jobs), entity_merge.expand_kwargs(links)] >> models_normalized.expand(run_folder=folders)

    return transformation()


def loading_dag(source: Source, doc_md: str | None = None) -> DAG:
    """``<key>_loading``: every run folder its ``normalized`` asset events name -> the graph and the
    index, entity kinds and model chunks in parallel mapped tasks (a model chunk's task loads it into
    the graph and the index and makes its share of the report); emits ``loaded``."""
    key, assets = source.key, source.assets

    @dag(schedule=[assets.normalized], **dag_arguments(source, "loading", doc_md, {
        "run_folder": run_folder_param("load", "transformation"),
        "index": Param(ES_MODELS_INDEX, type="string", pattern=ES_INDEX_PATTERN,
                       description=f"Elasticsearch index of the model documents: {ES_MODELS_INDEX}, or "
                                   f"{ES_MODELS_INDEX}_<suffix> (e.g. a new index for a reindex)."),
        "export": Param("none", type="string", enum=["none", "ntriples", "turtle"],
                        values_display={"none": "no export", "ntriples": "N-Triples (export/graph.nt)", "turtle": "Turtle (export/graph.ttl)"},
                        description="Also write what the run loaded, read back from the graph, as an RDF dump in this format, "
                                    "with the FAIR4ML JSON-LD, into the run folder's export/."),
    }))
    def loading() -> None:
        @task(task_id=f"{key}_rdf_store_ready")  # the graph alone: no run folder
        def rdf_store_ready() -> None:
            from mlentory.pipeline import loading as stage

            stage.prepare_graph(graph_store())

        @staged_task(run_folders=("folders",), task_id=f"{key}_graph_node_tasks")
        def node_jobs(folders: list[str]) -> list[dict[str, Any]]:
            from mlentory.pipeline import loading as stage

            return [{"partitions": partitions} for partitions in stage.plan_node_tasks(folders)]

        @staged_task(run_folders=("folders",), task_id=f"{key}_graph_nodes", max_active_tis_per_dag=2)
        def graph_nodes(folders: list[str], partitions: list[int]) -> int:
            from mlentory.pipeline import loading as stage

            return stage.create_graph_nodes(folders, graph_store(), partitions)

        @staged_task(run_folders=("folders",), task_id=f"{key}_loading_plan")
        def entity_jobs(folders: list[str]) -> list[dict[str, Any]]:
            from mlentory.pipeline import loading as stage

            return stage.plan_loading(folders)

        @staged_task(run_folders=("folders",), task_id=f"{key}_model_chunks")
        def model_jobs(folders: list[str]) -> list[dict[str, Any]]:
            from mlentory.pipeline import loading as stage

            return stage.plan_model_loads(folders)

        @staged_task(run_folders=("run_folder",), task_id=f"{key}_load_entities", max_active_tis_per_dag=2)
        def load_entities(run_folder: str, kind: str, partitions: list[int]) -> int:
            from mlentory.pipeline import loading as stage

            return stage.load_entities(run_folder, kind, graph_store(), partitions)

        @staged_task(run_folders=("run_folder",), task_id=f"{key}_load_models", max_active_tis_per_dag=2)
        def load_models(run_folder: str, chunk: int, params: Any = None) -> int:
            from mlentory.pipeline import loading as stage

            return stage.load_model_chunk(run_folder, chunk, graph_store(), search_client(), params["index"])

        @staged_task(run_folders=("folders",), task_id=f"{key}_history", max_active_tis_per_dag=2)
        def record_history(folders: list[str], partitions: list[int]) -> int:
            from mlentory.pipeline import loading as stage

            return stage.record_history(folders, partitions)

        @staged_task(run_folders=("folders",), task_id=f"{key}_licence_findings", max_active_tis_per_dag=2)
        def licence_findings(folders: list[str], partitions: list[int], params: Any = None) -> dict[str, int]:
            from mlentory.pipeline import loading as stage

            return stage.find_licence_findings(folders, partitions, graph_store(), search_client(), params["index"])

        @staged_task(run_folders=("run_folder",), task_id=f"{key}_index_models_elasticsearch", outlets=[assets.index])
        def index_models(run_folder: str, params: Any = None, outlet_events: Any = None) -> int:
            from mlentory.pipeline import loading as stage

            documents = stage.finish_index(run_folder, search_client(), params["index"])
            outlet_events[assets.index].extra = {"run_folder": run_folder, "index": params["index"], "documents": documents}
            return documents

        @staged_task(run_folders=("run_folder",), task_id=f"{key}_freshness")
        def freshness(run_folder: str, params: Any = None) -> dict[str, int]:
            from mlentory.pipeline import loading as stage

            return stage.apply_freshness(source, run_folder, graph_store(), search_client(), params["index"])

        @staged_task(run_folders=("run_folder",), task_id=f"{key}_loading_report", outlets=[assets.graph, assets.loaded])
        def loading_report(run_folder: str, params: Any = None, outlet_events: Any = None,
                           triggering_asset_events: Any = None) -> dict[str, Any]:
            from mlentory.pipeline import loading as stage
            from mlentory.pipeline.quality import cascade_error_rate

            budget = cascade_error_rate(params["max_error_rate"], bool(triggering_asset_events), run_folder, "transformation")
            summary = stage.finish_loading(run_folder, budget)
            outlet_events[assets.graph].extra = {"run_folder": run_folder, "models": summary["models_loaded"], "entities": summary["entities"]}
            outlet_events[assets.loaded].extra = summary
            return summary

        @staged_task(run_folders=("run_folder",), task_id=f"{key}_export")
        def export(run_folder: str, params: Any = None) -> dict[str, Any]:
            from mlentory.pipeline import loading as stage

            return stage.export_run(run_folder, graph_store(), params["export"])

        folders = run_folders_task(source, assets.normalized, "transformation", "loading")()
        entities = load_entities.expand_kwargs(entity_jobs(folders))
        models = load_models.expand_kwargs(model_jobs(folders))
        indexed = index_models.expand(run_folder=folders)
        refreshed = freshness.expand(run_folder=folders)
        exports = export.expand(run_folder=folders)
        reports = loading_report.expand(run_folder=folders)  # the last task: its log shows the run's report
        partitions = node_jobs(folders)
        nodes = graph_nodes.partial(folders=folders).expand_kwargs(partitions)
        histories = record_history.partial(folders=folders).expand_kwargs(partitions)  # in the node tasks' partitions
        findings = licence_findings.partial(folders=folders).expand_kwargs(partitions)  # the same shards, after their history
        rdf_store_ready() >> nodes >> entities >> models >> indexed >> findings >> refreshed >> exports >> reports
        models >> histories >> findings

    return loading()
