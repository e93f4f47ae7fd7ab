"""The toy catalogue's hook: which file of <data root>/toy/inputs/ is the catalogue."""

from __future__ import annotations

from airflow.sdk import BaseHook

from mlentory.connections import optional_connection
from mlentory.sources.toy import CATALOGUE, SOURCE


class ToyHook(BaseHook):
    conn_name_attr = "toy_conn_id"
    default_conn_name = "toy_default"
    conn_type = SOURCE.connection.conn_type
    hook_name = SOURCE.connection.hook_name

    def __init__(self, toy_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.toy_conn_id = toy_conn_id

    def get_conn(self) -> str:
        conn = optional_connection(self.toy_conn_id)
        return (conn.extra_dejson.get("catalogue") if conn else None) or CATALOGUE
