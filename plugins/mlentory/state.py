"""What earlier runs left behind for later ones: loaded revisions (incremental runs) and an API cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mlentory.run_folder import RunFolder, read_json, write_json


def source_dir(run: RunFolder) -> Path:
    """``<data_root>/<source>``: holds ``runs/``, ``state/`` and ``cache/`` of a source."""
    return run.path.parent.parent


class LoadedRevisions:
    """Model id -> the source revision (sha) last loaded into the graph and the index.

    Written only by a successful loading stage, so a failed run never causes a later skip.
    """

    def __init__(self, run: RunFolder) -> None:
        self.path = source_dir(run) / "state" / "loaded_revisions.json"

    def load(self) -> dict[str, str]:
        return read_json(self.path, {})

    def update(self, revisions: dict[str, str]) -> None:
        write_json(self.path, {**self.load(), **revisions})


class ApiCache:
    """Responses that change rarely (datasets, accounts, papers), kept across runs to spare the rate limit."""

    def __init__(self, run: RunFolder, name: str, ttl: timedelta | None) -> None:
        self.path = source_dir(run) / "cache" / f"{name}.json"
        self.ttl = ttl
        self.entries: dict[str, dict[str, Any]] = read_json(self.path, {})

    def get(self, key: str) -> Any | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if self.ttl is not None and datetime.fromisoformat(entry["at"]) < datetime.now(UTC) - self.ttl:
            return None
        return entry["value"]

    def put(self, key: str, value: Any) -> None:
        self.entries[key] = {"at": datetime.now(UTC).isoformat(), "value": value}

    def save(self) -> None:
        write_json(self.path, self.entries)
