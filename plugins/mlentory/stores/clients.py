"""The stores' clients from their Airflow connections, made with the providers' own hooks (imported
when called: the DAG files import this module's callers cheaply)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlentory.settings import ELASTICSEARCH_CONN_ID, ES_REQUEST_TIMEOUT_S, NEO4J_CONN_ID

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from mlentory.stores.graph import GraphStore


def graph_store() -> GraphStore:
    """The graph store of the ``neo4j_default`` connection: its driver, and the database its
    ``schema`` names (the hook's own ``run`` reads it so; its driver does not carry it)."""
    from airflow.providers.neo4j.hooks.neo4j import Neo4jHook

    from mlentory.stores.graph import GraphStore

    hook = Neo4jHook(conn_id=NEO4J_CONN_ID)
    return GraphStore(hook.get_conn(), hook.get_connection(NEO4J_CONN_ID).schema or None)


def search_client() -> Elasticsearch:
    """The Elasticsearch client of the ``elasticsearch_default`` connection, patient with a busy index:
    a bulk request or a refresh of a large index may take longer than the client's default 10 s (a
    first load of 100,000 models through Airflow timed out so), and every write the loading sends is
    safe to send again (documents by id, deletes and updates by id or query)."""
    from airflow.providers.elasticsearch.hooks.elasticsearch import ElasticsearchSQLHook

    client: Elasticsearch = ElasticsearchSQLHook(elasticsearch_conn_id=ELASTICSEARCH_CONN_ID).get_conn().es
    return client.options(request_timeout=ES_REQUEST_TIMEOUT_S, retry_on_timeout=True, max_retries=3)
