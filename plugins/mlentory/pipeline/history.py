"""The dated history of every model: what each load changed, so that a model's state at a past date
can be read back (``state_at``), at a cost that follows the changes, not the catalogue.

Per source, under its data root folder:
- ``history/<YYYY-MM-DD>.jsonl``: one row per model a load (or a refresh) changed: ``{"id", "at",
  "changed": {term: new value or null when the term is gone}, "new": true}`` for a first load,
  ``{"id", "at", "changed": {...}}`` afterwards (only the terms whose value changed: a reloaded model
  whose record is the same adds nothing), ``{"id", "at", "withdrawn": "..."}`` for a withdrawal;
  counts refreshed in place are rows with ``changed`` holding only them;
- ``state/digests/<shard>.json``: each model's last value digest per term (what the next load
  compares with), in 64 shards so a load rewrites only the shards of the models it touched.

Reading back folds a model's rows up to the date asked. Appending is the only write to the
history itself; the rows of one day are one file.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from mlentory.pipeline.run_folder import RunFolder, read_json, read_jsonl, write_json
from mlentory.pipeline.state import exclusive, source_dir

SHARDS = 64
UNTRACKED = {"@id", "@type"}


def _digest(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


def _shard(model_id: str) -> int:
    return int(hashlib.sha1(model_id.encode()).hexdigest()[:4], 16) % SHARDS


def _history_dir(root: Path) -> Path:
    return root / "history"


def _digest_file(root: Path, shard: int) -> Path:
    return root / "state" / "digests" / f"{shard:02d}.json"


def _append(root: Path, rows: list[dict[str, Any]], at: datetime) -> None:
    if not rows:
        return
    path = _history_dir(root) / f"{at.date().isoformat()}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:  # appended whole rows; the lock keeps writers apart
        handle.write("".join(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) + "\n" for row in rows))


def record_loads(run: RunFolder, records: Iterable[dict[str, Any]], at: datetime) -> int:
    """The loaded records (JSON-LD, with their ``identifier``) compared term by term with each
    model's last load; a row of the changed terms for each model that changed. Returns the rows."""
    root = source_dir(run)
    by_shard: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_shard[_shard(record["identifier"])].append(record)
    rows = []
    with exclusive(root / "state" / "history.lock"):
        for shard, shard_records in sorted(by_shard.items()):
            digests = read_json(_digest_file(root, shard), {})
            for record in shard_records:
                model_id = record["identifier"]
                values = {term: value for term, value in record.items() if term not in UNTRACKED}
                now = {term: _digest(value) for term, value in values.items()}
                before = digests.get(model_id)
                changed = {term: values.get(term) for term in sorted(set(now) | set(before or {})) if now.get(term) != (before or {}).get(term)}
                if changed:
                    rows.append({"id": model_id, "at": at.isoformat(), "changed": changed, **({"new": True} if before is None else {})})
                digests[model_id] = now
            write_json(_digest_file(root, shard), digests)
        _append(root, rows, at)
    return len(rows)


def record_changes(run: RunFolder, changes: dict[str, dict[str, Any]], at: datetime, withdrawn: bool = False) -> int:
    """Changes made in place, by model id: counts refreshed (``{id: {"downloads": 3}}``), or a
    withdrawal (``withdrawn``: ``{id: {"withdrawn": date}}``). Counts equal to the last ones add no row."""
    root = source_dir(run)
    rows = []
    with exclusive(root / "state" / "history.lock"):
        by_shard: dict[int, list[str]] = defaultdict(list)
        for model_id in changes:
            by_shard[_shard(model_id)].append(model_id)
        for shard, model_ids in sorted(by_shard.items()):
            digests = read_json(_digest_file(root, shard), {})
            for model_id in model_ids:
                known = digests.setdefault(model_id, {})
                changed = {term: value for term, value in changes[model_id].items() if known.get(term) != _digest(value)}
                known.update({term: _digest(value) for term, value in changed.items()})
                if changed:
                    rows.append({"id": model_id, "at": at.isoformat(), **({"withdrawn": changed["withdrawn"]} if withdrawn else {"changed": changed})})
            write_json(_digest_file(root, shard), digests)
        _append(root, rows, at)
    return len(rows)


def state_at(source_root: Path, model_id: str, when: datetime) -> dict[str, Any] | None:
    """The model's record as the graph held it at ``when`` (its JSON-LD terms), with ``withdrawn``
    when it had been withdrawn by then; None when it had not been loaded yet."""
    state: dict[str, Any] | None = None
    for path in sorted(_history_dir(source_root).glob("*.jsonl")):
        if path.stem > when.date().isoformat():
            break
        for row in read_jsonl(path):
            if row["id"] != model_id or datetime.fromisoformat(row["at"]) > when:
                continue
            if row.get("new"):
                state = {}
            if state is None:
                continue  # a change to a model loaded before the history began
            if "withdrawn" in row:
                state["withdrawn"] = row["withdrawn"]
            for term, value in row.get("changed", {}).items():
                if value is None:
                    state.pop(term, None)
                else:
                    state[term] = value
    return state
