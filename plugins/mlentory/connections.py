"""Reading Airflow Connections that name an HTTP service (the Hub, arXiv)."""

from __future__ import annotations

from airflow.exceptions import AirflowNotFoundException
from airflow.sdk import BaseHook, Connection


def optional_connection(conn_id: str) -> Connection | None:
    """The connection, or None when it is not defined (the public service is then used)."""
    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def base_url(conn: Connection | None) -> str | None:
    """``schema://host:port`` of a connection whose host names a service; None without a host."""
    if conn is None or not conn.host:
        return None
    url = conn.host if "://" in conn.host else f"{conn.schema or 'https'}://{conn.host}"
    return f"{url}:{conn.port}" if conn.port else url
