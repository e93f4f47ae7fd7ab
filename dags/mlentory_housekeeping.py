"""Housekeeping (Airflow DAG): remove run folders older than the retention from the data root, never
one that a DAG may still use (one written into since the cutoff), nor a source's newest loaded one;
and the change feed's runs older than its own retention, never a source's newest. The state (loaded
revisions, history, caches) is kept."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag

from mlentory.pipeline.dag_arguments import DEFAULT_ARGS, START_DATE, scheduled
from mlentory.pipeline.storage import data_root, staged_task
from mlentory.settings import DEFAULT_FEED_RETENTION_DAYS, DEFAULT_RETENTION_DAYS, HOUSEKEEPING_SCHEDULE


@dag(
    dag_id="mlentory_housekeeping",
    schedule=scheduled("HOUSEKEEPING", HOUSEKEEPING_SCHEDULE),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["mlentory", "maintenance"],
    doc_md=__doc__,
    params={
        "retention_days": Param(DEFAULT_RETENTION_DAYS, type="number", minimum=1, maximum=36_500,
                                description="Remove run folders created, and last written, more than this many days ago."),
        "feed_retention_days": Param(DEFAULT_FEED_RETENTION_DAYS, type="number", minimum=1, maximum=36_500,
                                     description="Remove the change feed's runs published more than this many days ago "
                                                 "(a follower must read the feed more often than this)."),
        "dry_run": Param(False, type="boolean", description="Only list what would be removed."),
    },
)
def mlentory_housekeeping() -> None:
    @staged_task(run_listing=True)
    def remove_old_run_folders(params: dict[str, Any] | None = None) -> dict[str, Any]:
        from mlentory.pipeline import housekeeping

        return housekeeping.remove_old_run_folders(data_root(), params["retention_days"], params["dry_run"])

    @staged_task(run_listing=True)
    def remove_old_feed_runs(params: dict[str, Any] | None = None) -> dict[str, list[str]]:
        from mlentory.pipeline import feed

        return feed.remove_old_feed_runs(data_root(), params["feed_retention_days"], params["dry_run"])

    remove_old_run_folders()
    remove_old_feed_runs()


mlentory_housekeeping()
