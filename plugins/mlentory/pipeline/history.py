"""The dated history of every model: what each load changed, so that a model's state at a past date
can be read back (``state_at``), at a cost that follows the changes, not the catalogue.

Per source, under its data root folder:
- ``history/<YYYY-MM-DD>/<shard>.jsonl``: one row per model a load (or a refresh) changed: ``{"id",
  "at", "changed": {term: new value or null when the term is gone}, "new": true}`` for a first load,
  ``{"id", "at", "changed": {...}}`` afterwards (only the terms whose value changed: a reloaded model
  whose record is the same adds nothing); counts refreshed in place and withdrawals are rows with
  ``changed`` holding only them (``withdrawn``: the date);
- ``state/digests/<shard>.json``: each model's last value digest per term (what the next load
  compares with).

Both in 64 shards of the model ids, each with a lock of its own, so that a load rewrites only the
shards of the models it touched, and the loading's history tasks record their shards in parallel
(``record_spilled``). Reading back folds a model's rows up to the date asked, from its shard's files
(and a day's single file, ``history/<YYYY-MM-DD>.jsonl``, as loads wrote it before the shards).
Appending is the only write to the history itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from mlentory.pipeline import feed
from mlentory.pipeline.run_folder import RunFolder, dumps, read_json, read_jsonl, write_json
from mlentory.pipeline.state import ID_SHARDS, exclusive, id_shard, source_dir

SHARDS = ID_SHARDS  # the shards of the loaded revisions: a history task records both of its shards
UNTRACKED = {"@id", "@type"}


def _digest(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


def _history_dir(root: Path) -> Path:
    return root / "history"


def _digest_file(root: Path, shard: int) -> Path:
    return root / "state" / "digests" / f"{shard:02d}.json"


def _day_file(root: Path, at: datetime, shard: int) -> Path:
    return _history_dir(root) / at.date().isoformat() / f"{shard:02d}.jsonl"


@contextlib.contextmanager
def _appender(path: Path) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Append whole rows to ``path`` (opened only once a row comes: a load that changed nothing
    leaves no empty day file); the caller's lock keeps writers apart."""
    handle: IO[str] | None = None

    def append(row: dict[str, Any]) -> None:
        nonlocal handle
        if handle is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("a", encoding="utf-8")
        handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) + "\n")

    try:
        yield append
    finally:
        if handle is not None:
            handle.close()


def spill_loads(run: RunFolder, records: Iterable[dict[str, Any]], part: str) -> None:
    """The loaded records (JSON-LD, with their ``identifier``) of one part of a load (a chunk, one
    task each), with their terms' digests, into one file per digest shard (``loading/history/<shard>/
    <part>.jsonl``) for ``record_spilled``: the digests, most of the cost, are made by the tasks
    that fan out, and the records are streamed, never held."""
    folder = _spill_dir(run)
    for stale in folder.glob(f"*/{part}.jsonl"):  # a retried part starts afresh
        stale.unlink()
    writers: dict[int, Any] = {}
    try:
        for record in records:
            shard = id_shard(record["identifier"])
            if shard not in writers:
                (folder / f"{shard:02d}").mkdir(parents=True, exist_ok=True)
                writers[shard] = (folder / f"{shard:02d}" / f"{part}.jsonl").open("w", encoding="utf-8")
            values = {t: v for t, v in record.items() if t not in UNTRACKED}
            writers[shard].write(dumps({"id": record["identifier"], "iri": record.get("@id"), "values": values,
                                        "digests": {term: _digest(value) for term, value in values.items()}}) + "\n")
    finally:
        for handle in writers.values():
            handle.close()


def record_spilled(run: RunFolder, at: datetime, shards: Iterable[int] | None = None) -> int:
    """Every part ``spill_loads`` wrote to ``shards`` (all: None) compared, shard by shard, with
    each model's last load; a row of the changed terms for each model that changed. Returns the
    rows, and leaves their count per shard for ``changes_recorded``. A shard's spill is removed once
    recorded: a retry finds nothing left to record twice."""
    folder = _spill_dir(run)
    wanted = None if shards is None else set(shards)

    def rows(shard: Path) -> Iterator[tuple[str, dict[str, Any], dict[str, str], str | None]]:
        for part in sorted(shard.glob("*.jsonl")):
            for row in read_jsonl(part):
                yield row["id"], row["values"], row["digests"], row.get("iri")

    recorded = 0
    for spilled in sorted(folder.glob("[0-9][0-9]")):
        shard = int(spilled.name)
        if wanted is None or shard in wanted:
            changes = _record(run, {shard: rows(spilled)}, at, whole_records=True)
            # Added to what the run recorded of the shard before (a chunk accounted for again by the
            # report's end spills its models again: they record nothing new).
            write_json(_recorded_file(run, shard), _recorded(run, shard) + changes)
            shutil.rmtree(spilled, ignore_errors=True)
            recorded += changes.total()
    with contextlib.suppress(OSError):  # the last shard's task removes the emptied folder (not a folder another still fills)
        folder.rmdir()
    return recorded


def changes_recorded(run: RunFolder) -> int:
    """The rows ``record_spilled`` recorded for the run (the loads' changes), in all its shards."""
    return sum(_recorded(run, int(path.stem)).total() for path in run.file("loading", "history_recorded").glob("*.json"))


def feed_counts(run: RunFolder) -> dict[int, Counter[str]]:
    """The run's rows by shard and the feed's kind of change (added, changed, withdrawn): the loads'
    and the changes made in place (``record_changes``)."""
    by_shard: dict[int, Counter[str]] = defaultdict(Counter)
    for folder in ("history_recorded", "history_in_place"):
        for path in run.file("loading", folder).glob("*.json"):
            by_shard[int(path.stem)] += _recorded(run, int(path.stem), folder)
    return {shard: counts for shard, counts in by_shard.items() if counts.total()}


def _recorded(run: RunFolder, shard: int, folder: str = "history_recorded") -> Counter[str]:
    counts = read_json(_recorded_file(run, shard, folder), {})
    # A run folder from before the feed holds the rows' number alone: its models' kinds are unknown.
    return Counter(counts) if isinstance(counts, dict) else Counter({"changed": counts})


def shards_of(partitions: Iterable[int], partition_count: int) -> list[int]:
    """The history's shards a task over ``partitions`` (of ``partition_count``) records."""
    wanted = set(partitions)
    return [shard for shard in range(SHARDS) if shard % partition_count in wanted]


def _spill_dir(run: RunFolder) -> Path:
    return run.file("loading", "history")


def _recorded_file(run: RunFolder, shard: int, folder: str = "history_recorded") -> Path:
    return run.file("loading", folder, f"{shard:02d}.json")


def record_changes(run: RunFolder, changes: dict[str, dict[str, Any]], at: datetime, iris: Mapping[str, str] | None = None) -> int:
    """Changes made in place, by model id: counts refreshed (``{id: {"downloads": 3}}``) or a
    withdrawal (``{id: {"withdrawn": date}}``). Values equal to the last ones add no row. ``iris``:
    the models' IRIs, for the feed. Returns the rows recorded."""
    by_shard: dict[int, list[tuple[str, dict[str, Any], None, str | None]]] = defaultdict(list)
    for model_id, values in changes.items():
        by_shard[id_shard(model_id)].append((model_id, values, None, (iris or {}).get(model_id)))
    recorded = Counter[str]()
    for shard, rows in by_shard.items():
        changed = _record(run, {shard: rows}, at, whole_records=False)
        # The freshness task records changes in place twice (the counts, then the withdrawals): both
        # counted. It alone writes these files of its run folder: no lock needed.
        write_json(_recorded_file(run, shard, "history_in_place"), _recorded(run, shard, "history_in_place") + changed)
        recorded += changed
    return recorded.total()


def _record(run: RunFolder, by_shard: Mapping[int, Iterable[tuple[str, dict[str, Any], dict[str, str] | None, str | None]]], at: datetime,
            whole_records: bool) -> Counter[str]:
    """A row per model whose values differ from its last digests, and the digests updated; each
    shard's rows appended as it is done, each with its entry in the change feed. With
    ``whole_records`` the values are the model's whole record (a term not among them is gone, and a
    model never seen is new); else only these terms changed. The values' digests come with them where
    made already. Returns the rows by the feed's kind of change."""
    root = source_dir(run)
    counts: Counter[str] = Counter()
    for shard in sorted(by_shard):
        # The shard's lock guards its digests, its file of the day and its part of the run's feed (all
        # a load reads and rewrites of it): tasks recording other shards go on meanwhile.
        feed_part = feed.part_file(run, shard)
        with exclusive(_digest_file(root, shard), _digest_file(root, shard), _day_file(root, at, shard), feed_part):
            digests = read_json(_digest_file(root, shard), {})
            # Each row appended as it is made: a first load's rows are whole records, and holding a
            # shard's (15,600 models at a million) held hundreds of MB. A task that fails midway
            # leaves some rows its retry appends again: folding the same change twice changes nothing.
            with _appender(_day_file(root, at, shard)) as append, _appender(feed_part) as announce:
                for model_id, values, made, iri in by_shard[shard]:
                    before = digests.get(model_id)
                    now, known = made if made is not None else {term: _digest(value) for term, value in values.items()}, before or {}
                    terms = set(now) | set(known) if whole_records else set(now)
                    changed = {term: values.get(term) for term in sorted(terms) if now.get(term) != known.get(term)}
                    digests[model_id] = now if whole_records else {**known, **now}
                    if changed:
                        new = whole_records and before is None
                        append({"id": model_id, "at": at.isoformat(), "changed": changed, **({"new": True} if new else {})})
                        announced = feed.entry(model_id, iri, at, changed, new)
                        announce(announced)
                        counts[announced["change"]] += 1
            write_json(_digest_file(root, shard), digests)
    return counts


def state_at(source_root: Path, model_id: str, when: datetime) -> dict[str, Any] | None:
    """The model's record as the graph held it at ``when`` (its JSON-LD terms), with ``withdrawn``
    when it had been withdrawn by then; None when it had not been loaded yet."""
    state: dict[str, Any] | None = None
    history, shard = _history_dir(source_root), id_shard(model_id)
    days = sorted({path.name.removesuffix(".jsonl") for path in history.glob("*")}) if history.is_dir() else []
    # A day's single file (as loads wrote it before the shards) comes before the day's shard files.
    paths = [path for day in days if day <= when.date().isoformat()
             for path in (history / f"{day}.jsonl", history / day / f"{shard:02d}.jsonl") if path.is_file()]
    for path in paths:
        for row in read_jsonl(path):
            if row["id"] != model_id or datetime.fromisoformat(row["at"]) > when:
                continue
            if row.get("new"):
                state = {}
            if state is None:
                continue  # a change to a model loaded before the history began
            for term, value in row.get("changed", {}).items():
                if value is None:
                    state.pop(term, None)
                else:
                    state[term] = value
    return state
