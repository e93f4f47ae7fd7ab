"""What the DAG files share: default arguments, the data root, run-folder resolution and store clients."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, Variable

from mlentory.run_folder import RunFolder
from mlentory.settings import DATA_ROOT_VARIABLE, DEFAULT_DATA_ROOT, ELASTICSEARCH_CONN_ID, NEO4J_CONN_ID, TASK_EXECUTION_TIMEOUT_S

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


def resolve_run_folder(params: dict[str, Any], triggering_asset_events: Any, asset: Asset, source: str, after_stage: str) -> str:
    """The run folder to work on: the ``run_folder`` param, else the one the triggering asset event
    names, else the newest run folder whose ``after_stage`` finished."""
    given = (params or {}).get("run_folder") or None
    if not given and triggering_asset_events:
        try:
            events = list(triggering_asset_events[asset])
        except KeyError:
            events = []
        for event in reversed(events):
            if (event.extra or {}).get("run_folder"):
                given = event.extra["run_folder"]
                break
    return str(RunFolder.resolve(given, data_root(), source, after_stage).path)


def neo4j_driver():  # noqa: ANN201 - neo4j.Driver, imported lazily with the provider
    from airflow.providers.neo4j.hooks.neo4j import Neo4jHook

    return Neo4jHook(conn_id=NEO4J_CONN_ID).get_conn()


def elasticsearch_client():  # noqa: ANN201 - elasticsearch.Elasticsearch
    from airflow.providers.elasticsearch.hooks.elasticsearch import ElasticsearchSQLHook

    return ElasticsearchSQLHook(elasticsearch_conn_id=ELASTICSEARCH_CONN_ID).get_conn().es
