"""Reading Airflow Connections: those that name an HTTP service (the Hub, arXiv), and the Redis
server of the shared state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.exceptions import AirflowNotFoundException
from airflow.sdk import BaseHook, Connection

if TYPE_CHECKING:
    from mlentory.pipeline.source import ConnectionType


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


_redis_clients: dict[tuple[Any, ...], Any] = {}


def state_redis() -> Any | None:
    """A client of the Redis server the ``mlentory_state`` connection names (host, port, password;
    extra ``db``), which holds what every worker shares (request budgets, locks on the shared state);
    None without that connection. One client per server and process."""
    from mlentory.settings import STATE_CONN_ID

    conn = optional_connection(STATE_CONN_ID)
    if conn is None or not conn.host:
        return None
    import redis

    settings = (conn.host, conn.port or 6379, conn.password or None, int(conn.extra_dejson.get("db", 0)))
    if settings not in _redis_clients:
        host, port, password, db = settings
        _redis_clients[settings] = redis.Redis(host=host, port=port, password=password, db=db, socket_timeout=30, socket_connect_timeout=10)
    return _redis_clients[settings]



class ConnectionHook(BaseHook):
    """A hook that reads the connection a manifest declares (``pipeline.source.ConnectionType``):
    its connection id attribute, default id, type and name come from there (``connection=`` in the
    class statement); without the connection, the public service is used (``connection()`` is None)."""

    conn_name_attr = "conn_id"

    def __init_subclass__(cls, connection: ConnectionType | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if connection is not None:
            cls.default_conn_name, cls.conn_type, cls.hook_name = connection.conn_id, connection.conn_type, connection.hook_name

    def __init__(self, conn_id: str | None = None) -> None:
        super().__init__()
        self.conn_id = conn_id or self.default_conn_name

    def connection(self) -> Connection | None:
        return optional_connection(self.conn_id)
