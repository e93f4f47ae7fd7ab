"""Removing run folders past their retention, never one a DAG may still use.

A run folder is removed when all of these hold:
- it was created before the cutoff (``retention_days`` ago);
- nothing in it changed since the cutoff: every task that works on a folder writes into it (a claim,
  its output, its errors), so a folder untouched for the whole retention period is used by no
  running DAG, while one a run claimed or wrote into lately is kept, finished or not;
- it is not its source's newest folder whose loading finished (a manual run without a folder
  starts from the newest finished one).

The state (loaded revisions, history, caches, budgets) lies outside the run folders and is kept.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mlentory.pipeline.run_folder import RunFolder, created_at

log = logging.getLogger(__name__)


def last_change(folder: Path) -> datetime:
    """The newest modification of the folder or anything in it."""
    newest = folder.stat().st_mtime
    for path in folder.rglob("*"):
        try:
            newest = max(newest, path.stat().st_mtime)
        except FileNotFoundError:  # removed by a task meanwhile: the folder is in use anyway
            return datetime.now(UTC)
    return datetime.fromtimestamp(newest, UTC)


def remove_old_run_folders(data_root: str | Path, retention_days: float, dry_run: bool = False,
                           now: datetime | None = None) -> dict[str, Any]:
    """Remove every source's run folders past ``retention_days`` (see the module). Returns what was
    removed and kept, per source."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1: a shorter one could remove a folder between two stages")
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=retention_days)
    summary: dict[str, Any] = {"cutoff": cutoff.isoformat(), "dry_run": dry_run, "removed": {}, "kept": {}}
    for runs in sorted(Path(data_root).glob("*/runs")):
        source = runs.parent.name
        folders = [folder.path for folder in RunFolder.every(data_root, source) if created_at(folder.path) is not None]
        finished = [folder for folder in folders if RunFolder(folder).is_done("loading")]
        newest_finished = finished[-1] if finished else None
        removed, kept = [], []
        for folder in folders:
            created = created_at(folder)
            if (created is not None and created >= cutoff) or folder == newest_finished or last_change(folder) >= cutoff:
                kept.append(folder.name)
                continue
            if not dry_run:
                shutil.rmtree(folder)
            removed.append(folder.name)
        summary["removed"][source], summary["kept"][source] = removed, len(kept)
        log.info("%s: %s %d run folders older than %s, kept %d", source, "would remove" if dry_run else "removed",
                 len(removed), cutoff.date(), len(kept))
    return summary
