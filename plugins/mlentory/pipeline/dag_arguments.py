"""What every MLentory DAG shares besides its tasks: start date, default task arguments, schedules
from the environment, and the arguments of a source's DAGs (id, queue, tags, error budget)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Param

from mlentory.pipeline.report import note_task_start, record_task_requests
from mlentory.pipeline.source import Source
from mlentory.settings import TASK_EXECUTION_TIMEOUT_S

START_DATE = pendulum.datetime(2025, 1, 1, tz="UTC")
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "mlentory",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(seconds=TASK_EXECUTION_TIMEOUT_S),
}


def scheduled(name: str, default: str | None) -> str | None:
    """``MLENTORY_SCHEDULE_<NAME>`` (a cron expression or a preset such as ``@daily``; ``none``: only
    when triggered), else ``default``. Read from the environment, not a Variable: the DAG processor
    parses the files every 30 s, and a Variable would cost a database query each time."""
    schedule = os.environ.get(f"MLENTORY_SCHEDULE_{name.upper()}", default or "").strip()
    return None if schedule.lower() in ("", "none") else schedule


def extraction_schedule(source: Source) -> str | None:
    """When the source's extraction runs (``scheduled``, by its key, else its manifest's default);
    its transformation and loading follow through the Assets."""
    return scheduled(source.key, source.default_schedule)


def dag_arguments(source: Source, stage: str, doc_md: str | None, params: dict[str, Param]) -> dict[str, Any]:
    """What every DAG of every source shares besides its schedule: its id, one active run at a
    time, no catchup, the default task arguments (with the Celery queue of the source's tasks, so
    that workers of its own can serve it), tags, and an error budget param."""
    return {
        "dag_id": f"{source.key}_{stage}",
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "default_args": {**DEFAULT_ARGS, "queue": source.queue,
                         # The extraction's tasks call the APIs: each try's requests go into the run report.
                         **({"on_execute_callback": note_task_start, "on_success_callback": record_task_requests,
                             "on_failure_callback": record_task_requests} if stage == "extraction" else {})},
        "tags": ["mlentory", source.name, stage],
        "doc_md": doc_md,
        "params": {**params, "max_error_rate": Param(0.1, type="number", minimum=0, maximum=1,
                                                     description="Fail the run when more than this share of the records fail.")},
    }
