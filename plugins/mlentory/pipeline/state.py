"""What earlier runs left behind for later ones: loaded revisions (incremental runs) and an API cache.

Two runs (or two tasks) may update the same file at once: every update re-reads the file and merges
into it under an exclusive lock, so no writer's entries are lost. With a data root in object storage
the lock is a Redis lock and the files are downloaded under it and uploaded after (``storage``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mlentory.pipeline import storage
from mlentory.pipeline.run_folder import UNWRITABLE, RunFolder, read_json, unwritable, write_json


@contextmanager
def exclusive(path: Path, *guarded: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` (POSIX advisory lock, released when the holder exits)
    while the files it guards (``path`` itself, else ``guarded``: files or folders) are read and
    rewritten. In a task's workspace of a data root in object storage: a Redis lock, with the
    guarded files downloaded first and what changed in them uploaded after."""
    workspace = storage.workspace_holding(path)
    if workspace is not None:
        with workspace.locked(path, guarded or (path,)):
            yield
        return
    lock = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock, "a")  # noqa: SIM115 - closed below, after the lock is released
    except OSError as exc:
        if exc.errno in UNWRITABLE:
            raise unwritable(exc, lock) from exc
        raise
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def source_dir(run: RunFolder) -> Path:
    """``<data_root>/<source>``: holds ``runs/``, ``state/`` and ``cache/`` of a source."""
    return run.path.parent.parent


ID_SHARDS = 64


def id_shard(key: str) -> int:
    """The shard (of ``ID_SHARDS``) of a record id, in every per-id state file kept in shards."""
    return int(hashlib.sha1(key.encode()).hexdigest()[:4], 16) % ID_SHARDS


class LoadedRevisions:
    """Model id -> the source revision (sha) last loaded into the graph and the index, in 64 shards
    of the ids (``state/loaded_revisions/<shard>.json``, each with its count and its own lock): a
    load rewrites only the shards of its models, and the loading's history tasks record theirs in
    parallel (``spill``, ``record_spilled``); the report only adds up the counts.

    Written only for models a load put completely into both stores, so a failed load never causes a
    later skip. A single ``state/loaded_revisions.json``, as runs wrote it before the shards, is
    split into them by the first write, and read beneath them until then.
    """

    def __init__(self, run: RunFolder) -> None:
        self.root = source_dir(run) / "state"
        self.folder = self.root / "loaded_revisions"
        self.legacy = self.root / "loaded_revisions.json"
        self.spill_dir = run.file("loading", "revisions")

    def _shard_file(self, shard: int) -> Path:
        return self.folder / f"{shard:02d}.json"

    def _count_file(self, shard: int) -> Path:
        return self.folder / f"{shard:02d}.count.json"

    def load(self) -> dict[str, str]:
        """Every model's revision (all shards: for a whole-catalogue pass, e.g. the incremental merge)."""
        revisions: dict[str, str] = read_json(storage.refresh(self.legacy), {})
        storage.refresh(self.folder)
        for shard in range(ID_SHARDS):
            revisions.update(read_json(self._shard_file(shard), {}))
        return revisions

    def ids(self) -> Iterator[str]:
        """Every model id recorded, a shard at a time (never all revisions held at once)."""
        yield from read_json(storage.refresh(self.legacy), {})
        storage.refresh(self.folder)
        for shard in range(ID_SHARDS):
            yield from read_json(self._shard_file(shard), {})

    def among(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` recorded (read a shard at a time)."""
        wanted = set(ids)
        return {model_id for model_id in self.ids() if model_id in wanted}

    def count(self) -> int:
        """How many models are recorded, from the shards' counts (their entries are not read)."""
        self._split_legacy()
        storage.refresh(self.folder)
        return sum(read_json(self._count_file(shard), 0) for shard in range(ID_SHARDS))

    def update(self, revisions: dict[str, str], forget: Iterable[str] = ()) -> int:
        """Record ``revisions`` as loaded, and forget ``forget``: models loaded incompletely (a card
        or a lookup failed, or the stores refused them), whose earlier entry must not make the next
        run skip them. Returns how many models are recorded now."""
        self._apply(_by_shard(revisions, forget))
        return self.count()

    def remove(self, ids: set[str]) -> None:
        """Forget models (withdrawn at the source): should one come back, it is processed again."""
        self.update({}, forget=ids)

    def _apply(self, by_shard: dict[int, tuple[dict[str, str], set[str]]]) -> None:
        self._split_legacy()
        for shard, (loaded, forget) in sorted(by_shard.items()):
            path, count = self._shard_file(shard), self._count_file(shard)
            with exclusive(path, path, count):
                recorded = {key: value for key, value in read_json(path, {}).items() if key not in forget}
                recorded.update(loaded)
                write_json(path, recorded)
                write_json(count, len(recorded))

    def _split_legacy(self) -> None:
        """The single file of before, split into the shards (its entries beneath theirs: older)."""
        if not storage.refresh(self.legacy).exists():
            return
        with exclusive(self.legacy, self.legacy, self.folder):
            legacy = read_json(self.legacy, None)
            if legacy is None:  # split by another writer meanwhile
                return
            by_shard: dict[int, dict[str, str]] = {}
            for model_id, revision in legacy.items():
                by_shard.setdefault(id_shard(model_id), {})[model_id] = revision
            for shard in range(ID_SHARDS):
                path = self._shard_file(shard)
                recorded = {**by_shard.get(shard, {}), **read_json(path, {})}
                write_json(path, recorded)
                write_json(self._count_file(shard), len(recorded))
            self.legacy.unlink()

    # A load's models, recorded by the tasks of their shards ---------------------------------------
    def spill(self, part: str, loaded: dict[str, str], forget: Iterable[str]) -> None:
        """One part of a load (a chunk, a task each): its models loaded completely (id -> revision)
        and those to forget, into one file per shard (``loading/revisions/<shard>/<part>.json`` of
        the run) for ``record_spilled``."""
        for stale in self.spill_dir.glob(f"*/{part}.json"):  # a retried part starts afresh
            stale.unlink()
        for shard, (shard_loaded, shard_forget) in _by_shard(loaded, forget).items():
            write_json(self.spill_dir / f"{shard:02d}" / f"{part}.json", {"loaded": shard_loaded, "forget": sorted(shard_forget)})

    def record_spilled(self, shards: Iterable[int] | None = None) -> set[str]:
        """Every part ``spill`` wrote to ``shards`` (all: None) recorded, shard by shard; a shard's
        spill is removed once recorded. Returns the ids recorded as loaded."""
        wanted = None if shards is None else set(shards)
        by_shard: dict[int, tuple[dict[str, str], set[str]]] = {}
        spilled = [folder for folder in sorted(self.spill_dir.glob("[0-9][0-9]")) if wanted is None or int(folder.name) in wanted]
        for folder in spilled:
            loaded, forget = by_shard.setdefault(int(folder.name), ({}, set()))
            for part in sorted(folder.glob("*.json")):
                entries = read_json(part, {})
                forget.update(entries.get("forget", ()))
                loaded.update(entries.get("loaded", {}))
        self._apply(by_shard)
        for folder in spilled:
            shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):  # the last shard's task removes the emptied folder
            self.spill_dir.rmdir()
        return {model_id for loaded, _ in by_shard.values() for model_id in loaded}


def _by_shard(loaded: dict[str, str], forget: Iterable[str]) -> dict[int, tuple[dict[str, str], set[str]]]:
    """Revisions to record and ids to forget, grouped by the shard of their id."""
    by_shard: dict[int, tuple[dict[str, str], set[str]]] = {}
    for model_id, revision in loaded.items():
        by_shard.setdefault(id_shard(model_id), ({}, set()))[0][model_id] = revision
    for model_id in forget:
        by_shard.setdefault(id_shard(model_id), ({}, set()))[1].add(model_id)
    return by_shard


def entry_digest(entry: Any) -> str:
    """A digest of a raw entry (an index item, a listing entry, a dump row) that a run could not
    read: the same entry, unchanged, is told by it."""
    return hashlib.sha256(json.dumps(entry, sort_keys=True, default=str).encode("utf-8", "replace")).hexdigest()


class RejectedRecords:
    """Records a stage rejected for what would fail the same way every time (malformed at the source,
    refused by a spec's library, not valid FAIR4ML), with the revision that was rejected. A later run
    does not take such a record again, nor count it against its error budget, until its revision
    changes (or a ``full_refresh`` run asks for everything again); it stays listed, as a warning. A
    transient failure (network, 429, 5xx) is never remembered: the next run asks again.
    ``<data_root>/<source>/state/rejected_records.json``: key -> {"revision", "stage", "reason", "at"};
    the key is the record's id, or for an entry with no usable id, a digest of it."""

    def __init__(self, run: RunFolder) -> None:
        self.path = source_dir(run) / "state" / "rejected_records.json"

    def load(self) -> dict[str, dict[str, Any]]:
        rejected: dict[str, dict[str, Any]] = read_json(storage.refresh(self.path), {})
        return rejected

    @staticmethod
    def unchanged(entries: dict[str, dict[str, Any]], key: str, revision: str | None) -> dict[str, Any] | None:
        """The entry of ``key`` if it was rejected at this very ``revision`` (None: never rejected, or changed since)."""
        entry = entries.get(key)
        return entry if entry is not None and revision is not None and entry.get("revision") == revision else None

    @staticmethod
    def warning(key: str, entry: dict[str, Any], what: str) -> dict[str, Any]:
        """The warning a run lists for a record it did not take again."""
        return {"id": key, "what": what, "rejected_earlier": True,
                "reason": f"rejected by an earlier run ({entry.get('stage')}, {str(entry.get('at'))[:10]}), unchanged since: {entry.get('reason')}"}

    def add(self, stage: str, rejected: dict[str, tuple[str | None, str]]) -> None:
        """Remember ``key -> (revision, reason)`` (a record without a revision cannot be told unchanged: not kept)."""
        kept = {key: {"revision": revision, "stage": stage, "reason": str(reason)[:500], "at": datetime.now(UTC).isoformat()}
                for key, (revision, reason) in rejected.items() if revision is not None}
        if kept:
            with exclusive(self.path):
                write_json(self.path, {**read_json(self.path, {}), **kept})

    def forget(self, keys: set[str]) -> None:
        """Records loaded since: no longer rejected, whatever their revision."""
        if keys and keys & self.load().keys():
            with exclusive(self.path):
                entries = read_json(self.path, {})
                if keys & entries.keys():
                    write_json(self.path, {key: entry for key, entry in entries.items() if key not in keys})


# A cached lookup that failed for good (``{"found": False, UNREADABLE: reason}``) is asked again after
# this long, whatever the cache's own time to live: the source (or this pipeline) may have fixed it.
UNREADABLE = "unreadable"
UNREADABLE_TTL = timedelta(days=7)


class ApiCache:
    """Responses that change rarely (datasets, accounts, papers), kept across runs to spare the rate limit."""

    def __init__(self, run: RunFolder, name: str, ttl: timedelta | None) -> None:
        self.path = source_dir(run) / "cache" / f"{name}.json"
        self.ttl = ttl
        self.entries: dict[str, dict[str, Any]] = read_json(storage.refresh(self.path), {})
        self.changed: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> Any | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        ttl = UNREADABLE_TTL if isinstance(entry["value"], dict) and entry["value"].get(UNREADABLE) else self.ttl
        if ttl is not None and datetime.fromisoformat(entry["at"]) < datetime.now(UTC) - ttl:
            return None
        return entry["value"]

    def put(self, key: str, value: Any) -> None:
        self.entries[key] = self.changed[key] = {"at": datetime.now(UTC).isoformat(), "value": value}

    def save(self) -> None:
        """Merge this run's answers into the file as it is now (another run may have added its own)."""
        with exclusive(self.path):
            self.entries = {**read_json(self.path, {}), **self.changed}
            write_json(self.path, self.entries)


class DeferredLookups:
    """Entities whose lookup a run deferred because its API budget was spent: they are linked as
    named stubs meanwhile, and later runs look them up first (oldest first) and complete them.
    ``<data_root>/<source>/state/deferred_<name>.json``: key -> when it was first deferred."""

    def __init__(self, run: RunFolder, name: str) -> None:
        self.path = source_dir(run) / "state" / f"deferred_{name}.json"

    def keys(self) -> list[str]:
        return [key for key, _ in sorted(read_json(storage.refresh(self.path), {}).items(), key=lambda item: item[1])]

    def update(self, deferred: list[str], done: list[str]) -> None:
        """Add what this run deferred, drop what it looked up (found or not)."""
        with exclusive(self.path):
            queue = read_json(self.path, {})
            now = datetime.now(UTC).isoformat()
            for key in done:
                queue.pop(key, None)
            for key in deferred:
                queue.setdefault(key, now)
            write_json(self.path, queue)
