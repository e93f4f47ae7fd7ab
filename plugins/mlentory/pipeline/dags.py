"""What the DAG files share: default arguments, the data root, run-folder resolution, store clients,
and the builders of every source's transformation and loading DAGs.

The builders import the stages inside the tasks: a DAG file is parsed every 30 s and must cost
little beyond importing Airflow.
"""

from __future__ import annotations

import importlib
import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, Param, Variable, dag
from airflow.sdk import task as airflow_task

from mlentory.errors import PermanentFailure
from mlentory.pipeline import storage
from mlentory.pipeline.report import note_task_start, record_task_requests
from mlentory.pipeline.run_folder import MAX_REFERENCE_CHARS, RunFolder
from mlentory.pipeline.source import Source
from mlentory.settings import (
    DATA_ROOT_VARIABLE,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_DATA_ROOT,
    DEFAULT_SCHEDULES,
    ELASTICSEARCH_CONN_ID,
    ES_INDEX_PATTERN,
    ES_MODELS_INDEX,
    NEO4J_CONN_ID,
    TASK_EXECUTION_TIMEOUT_S,
)
from mlentory.stalls import with_stall_allowance

log = logging.getLogger(__name__)

START_DATE = pendulum.datetime(2025, 1, 1, tz="UTC")
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "mlentory",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(seconds=TASK_EXECUTION_TIMEOUT_S),
}


def configured_data_root() -> str:
    """A local folder every worker shares, or object storage (``s3://bucket/prefix``, reached with the
    ``mlentory_storage`` connection): the Airflow Variable ``mlentory_data_root`` (or
    ``AIRFLOW_VAR_MLENTORY_DATA_ROOT``)."""
    return Variable.get(DATA_ROOT_VARIABLE, default=str(DEFAULT_DATA_ROOT))


def data_root() -> str:
    """The folder a task works in: the configured data root, or with one in object storage the task's
    workspace standing in for it (``storage``)."""
    workspace = storage.current_workspace()
    return str(workspace.local) if workspace else configured_data_root()


def task(python_callable: Any = None, **kwargs: Any) -> Any:
    """Airflow's ``@task``, for tasks that work on the data root: with one in object storage each runs
    in a workspace of its own, given its run folders' local copies (``storage.staged``); each with a
    stall allowance of its own for its requests to the sources (``http_retry``)."""
    if python_callable is not None:
        return airflow_task(storage.staged(configured_data_root)(with_stall_allowance(python_callable)))
    return lambda func: airflow_task(**kwargs)(storage.staged(configured_data_root)(with_stall_allowance(func)))


def resolve_run_folders(params: dict[str, Any], triggering_asset_events: Any, asset: Asset, source: str,
                        after_stage: str, stage: str, run_id: str = "") -> list[str]:
    """The run folders a ``stage`` run works on, oldest first, each claimed for it.

    - the ``run_folder`` param: that folder alone (also to redo a stage);
    - else every run folder the triggering asset events name, and every folder still waiting for
      this stage (its event fell outside the window Airflow gave a run, or came while the DAG was
      paused): none is dropped. Folders this stage already finished are not done twice;
    - else (a manual run with nothing waiting) the newest folder whose ``after_stage`` finished.
    """
    root = data_root()
    given = (params or {}).get("run_folder")
    if given not in (None, ""):  # refused at once, not after retries: the same param fails every try
        folder = RunFolder.resolve(storage.to_local(given), root, source, after_stage)
        folder.claim(stage, run_id)
        return [str(folder.path)]
    try:
        events = list(triggering_asset_events[asset]) if triggering_asset_events else []
    except KeyError:
        events = []
    folders: dict[Path, RunFolder] = {}
    named = 0
    for position, event in enumerate(events):
        extra = event.extra if isinstance(event.extra, dict) else {}
        if extra.get("run_folder") in (None, ""):
            continue
        named += 1
        # An event anyone with API access could write: a bad one is refused alone, the others go on.
        try:
            folder = RunFolder.resolve(storage.to_local(extra["run_folder"]), root, source, after_stage)
        except (PermanentFailure, OSError, ValueError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            log.error("asset event %d of %s (%s) names a run folder that is refused: %s", position + 1, asset.name,
                      getattr(event, "source_dag_id", None) or "REST API", exc)
            continue
        if folder.is_done(stage):
            log.info("%s: %s already finished by an earlier run", folder.name, stage)
        else:
            folders[folder.path] = folder
    for folder in RunFolder.waiting(root, source, after_stage, stage):
        folders.setdefault(folder.path, folder)
    if not folders and not events:
        newest = RunFolder.resolve(None, root, source, after_stage)
        folders[newest.path] = newest
    if not folders and named:
        log.warning("none of the %d run folders the asset events of %s name needs %s", named, asset.name, stage)
    chosen = sorted(folders.values(), key=lambda folder: folder.name)  # names start with the creation time
    for folder in chosen:
        folder.claim(stage, run_id)
    log.info("%s of %d run folders: %s", stage, len(chosen), ", ".join(folder.name for folder in chosen))
    return [str(folder.path) for folder in chosen]


def neo4j_driver():  # noqa: ANN201 - stores.graph.GraphStore, imported lazily with the provider
    """The graph store of the ``neo4j_default`` connection: its driver, and the database its
    ``schema`` names (the hook's own ``run`` reads it so; its driver does not carry it)."""
    from airflow.providers.neo4j.hooks.neo4j import Neo4jHook

    from mlentory.stores.graph import GraphStore

    hook = Neo4jHook(conn_id=NEO4J_CONN_ID)
    return GraphStore(hook.get_conn(), hook.get_connection(NEO4J_CONN_ID).schema or None)


def elasticsearch_client():  # noqa: ANN201 - elasticsearch.Elasticsearch
    from airflow.providers.elasticsearch.hooks.elasticsearch import ElasticsearchSQLHook

    return ElasticsearchSQLHook(elasticsearch_conn_id=ELASTICSEARCH_CONN_ID).get_conn().es


def scheduled(name: str, default: str) -> str | None:
    """``MLENTORY_SCHEDULE_<NAME>`` (a cron expression or a preset such as ``@daily``; ``none``: only
    when triggered), else ``default``. Read from the environment, not a Variable: the DAG processor
    parses the files every 30 s, and a Variable would cost a database query each time."""
    schedule = os.environ.get(f"MLENTORY_SCHEDULE_{name.upper()}", default).strip()
    return None if schedule.lower() in ("", "none") else schedule


def extraction_schedule(source: Source) -> str | None:
    """When the source's extraction runs (``scheduled``, by its key); its transformation and loading
    follow through the Assets."""
    return scheduled(source.key, DEFAULT_SCHEDULES[source.key])


def dag_arguments(source: Source, stage: str, doc_md: str | None, params: dict[str, Param]) -> dict[str, Any]:
    """What every DAG of every source shares besides its schedule: its id, one active run at a
    time, no catchup, the default task arguments (with the Celery queue of the source's tasks,
    ``MLENTORY_QUEUE_<KEY>``, so that workers of its own can serve it), tags, and an error budget param."""
    return {
        "dag_id": f"{source.key}_{stage}",
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "default_args": {**DEFAULT_ARGS, "queue": os.environ.get(f"MLENTORY_QUEUE_{source.key.upper()}", "default"),
                         # The extraction's tasks call the APIs: each try's requests go into the run report.
                         **({"on_execute_callback": note_task_start, "on_success_callback": record_task_requests,
                             "on_failure_callback": record_task_requests} if stage == "extraction" else {})},
        "tags": ["mlentory", source.name, stage],
        "doc_md": doc_md,
        "params": {**params, "max_error_rate": Param(0.1, type="number", minimum=0, maximum=1,
                                                     description="Fail the run when more than this share of the records fail.")},
    }


def run_folder_param(verb: str, previous: str) -> Param:
    # Checked again by the task (``RunFolder.resolve``) before it touches the file system: a run's
    # conf is validated against the form only when triggered through the UI or the REST API.
    return Param(None, type=["null", "string"], maxLength=MAX_REFERENCE_CHARS,
                 description=f"Run folder to {verb} (again); empty: every folder the {previous} events name "
                             f"or that still waits, else the newest one that finished {previous}.")


def run_folders_task(source: Source, asset: Asset, after_stage: str, stage: str):  # noqa: ANN201 - an Airflow task
    """The first task of a transformation or loading run: the run folders it works on."""

    @task(task_id=f"{source.key}_{stage}_run_folders")
    def run_folders(params: dict[str, Any] | None = None, triggering_asset_events: Any = None, run_id: str | None = None) -> list[str]:
        return resolve_run_folders(params, triggering_asset_events, asset, source.key, after_stage=after_stage, stage=stage,
                                   run_id=run_id or "")

    return run_folders


def mentions_task(source: Source):  # noqa: ANN201 - an Airflow task
    """``<key>_mentions``: every entity the run's records mention, per kind, in one pass, for the
    identification tasks that follow."""

    @task(task_id=f"{source.key}_mentions")
    def mentions(run_folder: str) -> dict[str, int]:
        from mlentory.pipeline import extraction

        return extraction.collect_mentions(source, run_folder)

    return mentions


def entity_identification_task(source: Source, kind: str, extraction_module: str, pool: str | None = None):  # noqa: ANN201 - an Airflow task
    """``<key>_<kind>``: the extraction's identification of one entity kind (the module's
    ``identify_entities_with_connections``), emitting the kind's asset with its count; in the
    ``pool`` of the API it calls, if any."""
    entities = source.assets.entities(kind)

    @task(task_id=f"{source.key}_{kind}", outlets=[entities], **({"pool": pool} if pool else {}))
    def identify(run_folder: str, outlet_events: Any = None) -> int:
        count = importlib.import_module(extraction_module).identify_entities_with_connections(run_folder, kind)
        outlet_events[entities].extra = {"run_folder": run_folder, "count": count}
        return count

    return identify


def extraction_ready_task(source: Source, extraction_module: str):  # noqa: ANN201 - an Airflow task
    """``<key>_raw_models_ready``: the extraction's end (the module's ``finish_extraction``); its
    ``raw`` asset event, carrying the run folder and counts, starts the transformation."""
    raw = source.assets.raw

    @task(task_id=f"{source.key}_raw_models_ready", outlets=[raw])
    def ready(run_folder: str, params: dict[str, Any] | None = None, outlet_events: Any = None) -> dict[str, Any]:
        summary = importlib.import_module(extraction_module).finish_extraction(run_folder, params["max_error_rate"])
        outlet_events[raw].extra = summary
        return summary

    return ready


def transformation_dag(source: Source, doc_md: str | None = None) -> DAG:
    """``<key>_transformation``: every run folder its ``raw`` asset events name -> FAIR4ML JSON-LD,
    (run folder x chunk) in parallel mapped tasks, each running every property group; emits ``normalized``."""
    key, assets = source.key, source.assets

    @dag(schedule=[assets.raw], **dag_arguments(source, "transformation", doc_md, {
        "run_folder": run_folder_param("transform", "extraction"),
        "chunk_size": Param(DEFAULT_CHUNK_SIZE, type="integer", minimum=1, maximum=1_000_000,
                            description="Records per mapped task (one task per chunk runs every property group)."),
    }))
    def transformation() -> None:
        @task(task_id=f"{key}_property_chunks")
        def property_jobs(folders: list[str], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
            from mlentory.pipeline import transformation as stage

            return stage.plan_property_jobs(source, folders, params["chunk_size"])

        @task(task_id=f"{key}_properties", max_active_tis_per_dag=4)
        def properties(run_folder: str, chunk: int) -> int:
            from mlentory.pipeline import transformation as stage

            return stage.extract_properties(source, run_folder, chunk)

        @task(task_id=f"{key}_entity_linking")
        def entity_linking(run_folder: str) -> dict[str, int]:
            from mlentory.pipeline import transformation as stage

            return stage.link_entities(source, run_folder)

        @task(task_id=f"{key}_models_normalized", outlets=[assets.normalized])
        def models_normalized(run_folder: str, params: dict[str, Any] | None = None, outlet_events: Any = None,
                              triggering_asset_events: Any = None) -> dict[str, Any]:
            from mlentory.pipeline import transformation as stage
            from mlentory.pipeline.quality import cascade_error_rate

            budget = cascade_error_rate(params["max_error_rate"], bool(triggering_asset_events), run_folder, "extraction")
            summary = stage.normalize_models(source, run_folder, budget)
            outlet_events[assets.normalized].extra = summary
            return summary

        folders = run_folders_task(source, assets.raw, "extraction", "transformation")()
        partials = properties.expand_kwargs(property_jobs(folders))
        partials >> entity_linking.expand(run_folder=folders) >> models_normalized.expand(run_folder=folders)

    return transformation()


def loading_dag(source: Source, doc_md: str | None = None) -> DAG:
    """``<key>_loading``: every run folder its ``normalized`` asset events name -> the graph and the
    index, entity kinds and model chunks in parallel mapped tasks; emits ``loaded``."""
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
        @task(task_id=f"{key}_rdf_store_ready")
        def rdf_store_ready() -> None:
            from mlentory.pipeline import loading as stage

            stage.prepare_graph(neo4j_driver())

        @task(task_id=f"{key}_graph_nodes")
        def graph_nodes(folders: list[str]) -> int:
            from mlentory.pipeline import loading as stage

            return stage.create_graph_nodes(folders, neo4j_driver())

        @task(task_id=f"{key}_loading_plan")
        def entity_jobs(folders: list[str]) -> list[dict[str, Any]]:
            from mlentory.pipeline import loading as stage

            return stage.plan_loading(folders)

        @task(task_id=f"{key}_model_chunks")
        def model_jobs(folders: list[str]) -> list[dict[str, Any]]:
            from mlentory.pipeline import loading as stage

            return stage.plan_model_loads(folders)

        @task(task_id=f"{key}_load_entities", max_active_tis_per_dag=2)
        def load_entities(run_folder: str, kind: str) -> int:
            from mlentory.pipeline import loading as stage

            return stage.load_entities(run_folder, kind, neo4j_driver())

        @task(task_id=f"{key}_load_models", max_active_tis_per_dag=2)
        def load_models(run_folder: str, chunk: int) -> int:
            from mlentory.pipeline import loading as stage

            return stage.load_models(run_folder, chunk, neo4j_driver())

        @task(task_id=f"{key}_index_models_elasticsearch", outlets=[assets.index])
        def index_models(run_folder: str, params: dict[str, Any] | None = None, outlet_events: Any = None) -> int:
            from mlentory.pipeline import loading as stage

            documents = stage.index_run_models(run_folder, elasticsearch_client(), params["index"])
            outlet_events[assets.index].extra = {"run_folder": run_folder, "index": params["index"], "documents": documents}
            return documents

        @task(task_id=f"{key}_freshness")
        def freshness(run_folder: str, params: dict[str, Any] | None = None) -> dict[str, int]:
            from mlentory.pipeline import loading as stage

            return stage.apply_freshness(source, run_folder, neo4j_driver(), elasticsearch_client(), params["index"])

        @task(task_id=f"{key}_loading_report", outlets=[assets.graph, assets.loaded])
        def loading_report(run_folder: str, params: dict[str, Any] | None = None, outlet_events: Any = None,
                           triggering_asset_events: Any = None) -> dict[str, Any]:
            from mlentory.pipeline import loading as stage
            from mlentory.pipeline.quality import cascade_error_rate

            budget = cascade_error_rate(params["max_error_rate"], bool(triggering_asset_events), run_folder, "transformation")
            summary = stage.finish_loading(run_folder, budget)
            outlet_events[assets.graph].extra = {"run_folder": run_folder, "models": summary["models_loaded"], "entities": summary["entities"]}
            outlet_events[assets.loaded].extra = summary
            return summary

        @task(task_id=f"{key}_export")
        def export(run_folder: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
            from mlentory.pipeline import loading as stage

            return stage.export_run(run_folder, neo4j_driver(), params["export"])

        folders = run_folders_task(source, assets.normalized, "transformation", "loading")()
        entities = load_entities.expand_kwargs(entity_jobs(folders))
        models = load_models.expand_kwargs(model_jobs(folders))
        indexed = index_models.expand(run_folder=folders)
        refreshed = freshness.expand(run_folder=folders)
        exports = export.expand(run_folder=folders)
        reports = loading_report.expand(run_folder=folders)  # the last task: its log shows the run's report
        rdf_store_ready() >> graph_nodes(folders) >> entities >> models >> indexed >> refreshed >> exports >> reports

    return loading()
