"""MLentory as an Airflow provider (the ``apache_airflow_provider`` entry point of pyproject.toml):
the connection types of the sources' hooks and of arXiv, each with the form the UI's connection
editor shows (its extra fields, hidden and relabelled fields). Built from the sources' manifests,
so a new source's connection type appears with it."""

from __future__ import annotations

from typing import Any

from mlentory.pipeline.source import ConnectionType

PACKAGE_NAME = "mlentory-airflow"  # the distribution's name (pyproject.toml): Airflow checks they agree


def connection_types() -> list[ConnectionType]:
    from mlentory.enrichment import ARXIV_CONNECTION
    from mlentory.sources import SOURCES

    return [*(source.connection for source in SOURCES if source.connection), ARXIV_CONNECTION]


def connection_type_info(connection: ConnectionType) -> dict[str, Any]:
    """One entry of ``connection-types``, in the shape of a provider.yaml's (``conn-fields``,
    ``ui-field-behaviour``)."""
    return {
        "connection-type": connection.conn_type,
        "hook-class-name": connection.hook_class_name,
        "hook-name": connection.hook_name,
        "conn-fields": {name: {"label": field.label, "description": field.description, "schema": dict(field.schema)}
                        for name, field in connection.extra_fields.items()},
        "ui-field-behaviour": {"hidden-fields": list(connection.hidden_fields), "relabeling": dict(connection.relabeling),
                               "placeholders": dict(connection.placeholders)},
    }


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": PACKAGE_NAME,
        "name": "MLentory",
        "description": "Harvests ML model metadata from the HuggingFace Hub, OpenML and the BioImage Model Zoo into a FAIR4ML "
                       "knowledge graph and search index.",
        "connection-types": [connection_type_info(connection) for connection in connection_types()],
    }
