"""Hooks take endpoints and credentials from Airflow Connections, and fall back to the public services."""

from __future__ import annotations

import json

from huggingface_hub import constants

from mlentory.enrichment.arxiv_papers import DEFAULT_API_URL, ArxivHook
from mlentory.sources.huggingface.hook import HuggingFaceHubHook


def test_hub_endpoint_and_token_come_from_the_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_HUGGINGFACE_DEFAULT", json.dumps(
        {"conn_type": "generic", "host": "hub.example.org", "port": 8443, "schema": "https", "password": "hf-secret-token"}))
    client = HuggingFaceHubHook().get_conn()
    assert client.endpoint == "https://hub.example.org:8443"
    assert client.api.token == "hf-secret-token"


def test_without_a_connection_the_public_hub_is_used_anonymously(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_HUGGINGFACE_DEFAULT", raising=False)
    client = HuggingFaceHubHook().get_conn()
    assert client.endpoint == constants.ENDPOINT
    assert client.api.token is None


def test_arxiv_url_from_the_connection_or_the_public_api(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ARXIV_DEFAULT", json.dumps({"conn_type": "http", "host": "http://127.0.0.1", "port": 9}))
    assert ArxivHook().get_conn().query_url_format == "http://127.0.0.1:9/api/query?{}"
    monkeypatch.delenv("AIRFLOW_CONN_ARXIV_DEFAULT")
    assert ArxivHook().api_url() == DEFAULT_API_URL


def test_the_graph_store_writes_to_the_database_the_neo4j_connection_names(monkeypatch):
    """A Neo4j connection's ``schema`` names its database (as the provider's hook reads it): every
    session the loader opens is on it, not on the server's default database."""
    from mlentory.stores.clients import graph_store
    from mlentory.stores.graph import GraphLoader

    monkeypatch.setenv("AIRFLOW_CONN_NEO4J_DEFAULT", json.dumps(
        {"conn_type": "neo4j", "host": "127.0.0.1", "port": 9, "schema": "catalogue", "login": "neo4j", "password": "secret"}))
    store = graph_store()
    try:
        assert store.database == "catalogue"
        for session in (GraphLoader(store)._session(), store.session()):  # opening one needs no server; its first query would
            with session:
                assert session._config.database == "catalogue"  # the driver keeps the session's database here
    finally:
        store.driver.close()
    monkeypatch.setenv("AIRFLOW_CONN_NEO4J_DEFAULT", json.dumps({"conn_type": "neo4j", "host": "127.0.0.1", "port": 9}))
    default = graph_store()
    assert default.database is None
    default.driver.close()
