"""The host name a local Celery worker reports to Airflow (``[core] hostname_callable``): the local
stack runs two workers on one machine, and each task instance should say which one ran it."""

from __future__ import annotations

import os
import socket


def worker_name() -> str:
    return os.environ.get("MLENTORY_WORKER_NAME") or socket.getfqdn()
