"""What the DAG files share: default arguments, the data root, run-folder resolution and store clients."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Asset, Variable

from mlentory.errors import PermanentFailure
from mlentory.pipeline.run_folder import RunFolder
from mlentory.settings import DATA_ROOT_VARIABLE, DEFAULT_DATA_ROOT, ELASTICSEARCH_CONN_ID, NEO4J_CONN_ID, TASK_EXECUTION_TIMEOUT_S

log = logging.getLogger(__name__)

START_DATE = pendulum.datetime(2025, 1, 1, tz="UTC")
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "mlentory",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(seconds=TASK_EXECUTION_TIMEOUT_S),
}


def data_root() -> str:
    """Set the Airflow Variable ``mlentory_data_root`` (or ``AIRFLOW_VAR_MLENTORY_DATA_ROOT``) to move it."""
    return Variable.get(DATA_ROOT_VARIABLE, default=str(DEFAULT_DATA_ROOT))


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
    given = (params or {}).get("run_folder") or None
    if given:
        folder = RunFolder.resolve(given, root, source, after_stage)
        folder.claim(stage, run_id)
        return [str(folder.path)]
    try:
        events = list(triggering_asset_events[asset]) if triggering_asset_events else []
    except KeyError:
        events = []
    named = [event.extra["run_folder"] for event in events if isinstance(event.extra, dict) and event.extra.get("run_folder")]
    folders: dict[Path, RunFolder] = {}
    for name in named:
        try:
            folder = RunFolder.resolve(str(name), root, source, after_stage)
        except PermanentFailure as exc:  # an event anyone with API access could write: refused, the others go on
            log.error("an asset event of %s names a run folder that is refused: %s", asset.name, exc)
            continue
        if folder.is_done(stage):
            log.info("%s: %s already finished by an earlier run", folder.name, stage)
        else:
            folders[folder.path] = folder
    for folder in RunFolder.waiting(root, source, after_stage, stage):
        folders.setdefault(folder.path, folder)
    if not folders and not events:
        folders = {Path(): RunFolder.resolve(None, root, source, after_stage)}
    if not folders and named:
        log.warning("none of the %d run folders the asset events of %s name needs %s", len(named), asset.name, stage)
    chosen = sorted(folders.values(), key=lambda folder: folder.name)  # names start with the creation time
    for folder in chosen:
        folder.claim(stage, run_id)
    log.info("%s of %d run folders: %s", stage, len(chosen), ", ".join(folder.name for folder in chosen))
    return [str(folder.path) for folder in chosen]


def neo4j_driver():  # noqa: ANN201 - neo4j.Driver, imported lazily with the provider
    from airflow.providers.neo4j.hooks.neo4j import Neo4jHook

    return Neo4jHook(conn_id=NEO4J_CONN_ID).get_conn()


def elasticsearch_client():  # noqa: ANN201 - elasticsearch.Elasticsearch
    from airflow.providers.elasticsearch.hooks.elasticsearch import ElasticsearchSQLHook

    return ElasticsearchSQLHook(elasticsearch_conn_id=ELASTICSEARCH_CONN_ID).get_conn().es
