"""Airflow hook for OpenML: the server and the API key come from the ``openml_default`` connection."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from mlentory.connections import ConnectionHook, base_url
from mlentory.pipeline.budget import Allowance, shared_budget
from mlentory.sources.openml import REQUESTS, SOURCE, WINDOW_SECONDS
from mlentory.sources.openml.client import OpenMLClient, OpenMLSettings

PUBLIC_SERVER = "https://www.openml.org"
API_PATH = "/api/v1/xml"


class OpenMLHook(ConnectionHook, connection=SOURCE.connection):
    """Host (optional) is the OpenML server (default the public one); password (optional) the API key,
    which reading needs not; extra (optional) the request budget shared by every task (``requests``
    per ``window_seconds``). The client's cache lives under ``cache_dir``."""

    def __init__(self, cache_dir: str | Path, conn_id: str | None = None) -> None:
        super().__init__(conn_id)
        self.cache_dir = Path(cache_dir)

    @cached_property
    def client(self) -> OpenMLClient:

        conn = self.connection()
        server = (base_url(conn) or PUBLIC_SERVER).rstrip("/")
        extra = conn.extra_dejson if conn is not None else {}
        budget = shared_budget(Allowance("openml", int(extra.get("requests", REQUESTS)), float(extra.get("window_seconds", WINDOW_SECONDS))))
        return OpenMLClient(OpenMLSettings(server=server + API_PATH, api_key=(conn.password if conn else None) or None,
                                           cache_dir=self.cache_dir, budget=budget, connection=self.conn_id))

    def get_conn(self) -> OpenMLClient:
        return self.client
