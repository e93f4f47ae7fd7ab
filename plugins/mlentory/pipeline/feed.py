"""The change feed: per source, what each loading run changed in the catalogue — the models added,
changed (which terms) or withdrawn — so that a catalogue front end or a mirror follows the catalogue
without diffing it.

Under the source's data root folder, beside its history (which it is written with, row for row):
- ``feed/<run>/<shard>.jsonl``: the run's entries of one shard of the model ids, each
  ``{"at", "id", "iri", "change": "added" | "changed" | "withdrawn", "terms": [...]}``, appended by
  the tasks that record the history (in parallel, a shard each, under the shard's lock);
- ``feed/<run>.json``: the run's manifest, written by the loading's report once every entry is in:
  its entries' files and counts. A run without a manifest is not published yet (or failed): a
  follower reads only published runs, in the order of their names (the run folders' creation time).

An entry is written at least once: a history task that fails midway may write some of its entries
again when retried. A follower keeps the last run it read (its cursor) and asks for the runs after it (``published_runs``,
``read_entries``). The loading run's ``loaded`` asset event names the manifest, so a DAG scheduled on
it reads just that run. Housekeeping removes the runs older than the feed's retention
(``remove_old_feed_runs``): the feed's size follows the changes of that many days.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mlentory.pipeline.run_folder import RunFolder, read_json, read_jsonl, write_json
from mlentory.pipeline.state import exclusive, source_dir

log = logging.getLogger(__name__)

CHANGES = ("added", "changed", "withdrawn")


def feed_dir(source_root: Path) -> Path:
    return source_root / "feed"


def part_file(run: RunFolder, shard: int) -> Path:
    """The run's entries of one shard of the model ids."""
    return feed_dir(source_dir(run)) / run.path.name / f"{shard:02d}.jsonl"


def _lock(source_root: Path) -> Path:
    """The lock of the feed's manifests (a run's publication, housekeeping); entries are under the history's."""
    return feed_dir(source_root) / "manifests"


def manifest_file(source_root: Path, run_name: str) -> Path:
    return feed_dir(source_root) / f"{run_name}.json"


def entry(model_id: str, iri: str | None, at: datetime, changed: dict[str, Any], new: bool) -> dict[str, Any]:
    """The feed's entry of one history row: a model loaded for the first time is added; one whose
    ``withdrawn`` term gained a date was withdrawn; any other row changed the terms it names (a
    withdrawn model that came back changes ``withdrawn`` to nothing)."""
    change = "added" if new else "withdrawn" if changed.get("withdrawn") is not None else "changed"
    return {"at": at.isoformat(), "id": model_id, **({"iri": iri} if iri else {}), "change": change, "terms": sorted(changed)}


def publish(run: RunFolder, by_shard: dict[int, Counter[str]], published: datetime | None = None) -> dict[str, Any]:
    """The run's manifest: its entries' files (of the shards whose counts the history tasks left in
    the run folder: what the feed's own folder holds need not be read) and their counts. Returns its
    counts (the loading report's ``feed``) with the manifest's path from the source's folder."""
    root = source_dir(run)
    counts = sum(by_shard.values(), Counter[str]())
    manifest = {
        "run": run.path.name, "published": (published or datetime.now(UTC)).isoformat(),
        "files": [f"{run.path.name}/{shard:02d}.jsonl" for shard in sorted(by_shard)],
        **{change: counts.get(change, 0) for change in CHANGES},
    }
    path = manifest_file(root, run.path.name)
    with exclusive(_lock(root), path):
        write_json(path, manifest)
    return {"manifest": str(path.relative_to(root)), **{change: manifest[change] for change in CHANGES}}


def published_runs(source_root: Path, after: str | None = None) -> list[dict[str, Any]]:
    """The manifests of the published runs, oldest first; with ``after`` (a run's name: a follower's
    cursor) only those after it."""
    folder = feed_dir(source_root)
    if not folder.is_dir():
        return []
    manifests = (read_json(path) for path in sorted(folder.glob("*.json")) if after is None or path.stem > after)
    return [manifest for manifest in manifests if manifest]


def read_entries(source_root: Path, after: str | None = None) -> Iterator[dict[str, Any]]:
    """Every entry of the published runs after ``after`` (all: None), run by run, each with its run."""
    for manifest in published_runs(source_root, after):
        for name in manifest["files"]:
            for row in read_jsonl(feed_dir(source_root) / name):
                yield {"run": manifest["run"], **row}


def last_entries(source_root: Path, count: int) -> list[dict[str, Any]]:
    """The newest ``count`` entries of the feed (of its newest published runs), oldest first."""
    taken: list[dict[str, Any]] = []
    for manifest in reversed(published_runs(source_root)):
        rows = [{"run": manifest["run"], **row} for name in manifest["files"] for row in read_jsonl(feed_dir(source_root) / name)]
        taken = sorted(rows, key=lambda row: (row["at"], row["id"])) + taken
        if len(taken) >= count:
            break
    return taken[-count:] if count > 0 else []


def remove_old_feed_runs(data_root: str | Path, retention_days: float, dry_run: bool = False,
                         now: datetime | None = None) -> dict[str, list[str]]:
    """Every source's feed runs published before the cutoff (``retention_days`` ago), and runs never
    published whose entries are that old (a loading that never reached its report). The newest
    published run is always kept. Returns the runs removed, per source."""
    if retention_days < 1:
        raise ValueError("the feed's retention must be at least 1 day: a follower polls at most daily")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    removed: dict[str, list[str]] = {}
    sources = sorted({path.parent for path in Path(data_root).glob("*/runs")} | {path.parent for path in Path(data_root).glob("*/feed")})
    for source_root in sources:
        folder = feed_dir(source_root)
        # The whole feed under one lock (with a data root in object storage: downloaded, and what is
        # removed here deleted there); the history tasks and the report of a running load write
        # files of their own run, which is never the one removed.
        with exclusive(_lock(source_root), folder):
            gone = _old_runs(folder, cutoff) if folder.is_dir() else []
            if not dry_run:
                for name in gone:
                    (folder / f"{name}.json").unlink(missing_ok=True)  # unpublished first: a follower never reads half a run
                    shutil.rmtree(folder / name, ignore_errors=True)
        if gone:
            removed[source_root.name] = gone
            log.info("%s: %d feed runs %s (before %s)", source_root.name, len(gone), "would be removed" if dry_run else "removed", cutoff.isoformat())
    return removed


def _old_runs(folder: Path, cutoff: datetime) -> list[str]:
    """The feed's runs published before ``cutoff``, or never published and last written before it;
    never the newest published one."""
    manifests = {path.stem: read_json(path) or {} for path in folder.glob("*.json")}
    newest = max(manifests, default=None)
    old = []
    for name in sorted(set(manifests) | {path.name for path in folder.iterdir() if path.is_dir()}):
        published = manifests.get(name, {}).get("published")
        when = datetime.fromisoformat(published) if published else _newest_change(folder / name)
        if name != newest and when is not None and when < cutoff:
            old.append(name)
    return old


def _newest_change(folder: Path) -> datetime | None:
    if not folder.is_dir():
        return None
    times = [path.stat().st_mtime for path in folder.iterdir()] or [folder.stat().st_mtime]
    return datetime.fromtimestamp(max(times), UTC)
