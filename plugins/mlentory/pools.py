"""The Airflow pools of the external APIs: one per API, whose slots the tasks of every DAG that call it
share, so that concurrent DAGs do not crowd its budget (the request budgets decide how many
requests; the pools how many tasks wait on them).

Each source's manifest names its pools; the shared ones (arXiv, which every source's papers are
looked up in) are here. ``python -m mlentory.pools FILE`` writes them in the format of ``airflow
pools import`` (the compose stack's airflow-init imports that file); the local stack creates them
through the REST API.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ApiPool:
    name: str
    slots: int
    description: str


ARXIV_POOL = ApiPool("arxiv_api", 1, "Tasks that call the arXiv API (one request per 3 s for everyone)")


def api_pools() -> dict[str, ApiPool]:
    """Every pool a registered source's tasks run in, by name; two sources naming one pool must
    agree on it."""
    from mlentory.sources import SOURCES

    pools: dict[str, ApiPool] = {}
    for source in SOURCES:
        for pool in source.pools:
            if pools.setdefault(pool.name, pool) != pool:
                raise ValueError(f"the pool {pool.name} is declared twice, differently: {pools[pool.name]} and {pool}")
    return pools


def pools_file_content() -> dict[str, dict[str, Any]]:
    """The pools in the format of ``airflow pools import``."""
    return {pool.name: {"slots": pool.slots, "description": pool.description, "include_deferred": False} for pool in api_pools().values()}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m mlentory.pools FILE  (writes the API pools for `airflow pools import FILE`)", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(json.dumps(pools_file_content(), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
