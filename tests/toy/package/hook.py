"""The toy catalogue's hook: which file of <data root>/toy/inputs/ is the catalogue."""

from __future__ import annotations

from mlentory.connections import ConnectionHook
from mlentory.sources.toy import CATALOGUE, SOURCE


class ToyHook(ConnectionHook, connection=SOURCE.connection):
    def get_conn(self) -> str:
        conn = self.connection()
        return (conn.extra_dejson.get("catalogue") if conn else None) or CATALOGUE
