"""The Hub's public dump of model cards with metadata, made from a snapshot's own recorded models and
cards, and served by the replay as the Hub serves a dataset's files.

Snapshot layout::

    dumps/<owner>__<name>/<path>.parquet     GET /datasets/<owner>/<name>/resolve/<revision>/<path>.parquet
                                             and the dataset's info (its files as siblings) at
                                             GET /api/datasets/<owner>/<name>[/revision/<revision>]

A snapshot without a recorded dump gets one made from its own models and cards (in a temporary
folder, on the first request for the dump), so the bulk harvest runs on any snapshot.

The parquet files have the dump's schema: ``modelId``, ``author``, ``last_modified``, ``downloads``,
``likes``, ``library_name``, ``tags``, ``pipeline_tag``, ``createdAt``, ``card``.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from devstack.replay.models import SHELF_FILE, snapshot_models

DUMPS = "dumps"
DUMP_DATASET = "librarian-bots/model_cards_with_metadata"


def _timestamp(text: Any) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) and text else None


def _row(model: dict[str, Any], card: bytes | None) -> dict[str, Any]:
    return {
        "modelId": model.get("id") or model.get("modelId"), "author": model.get("author"),
        "last_modified": _timestamp(model.get("lastModified")), "downloads": model.get("downloads"), "likes": model.get("likes"),
        "library_name": model.get("library_name"), "tags": model.get("tags") or [], "pipeline_tag": model.get("pipeline_tag"),
        "createdAt": _timestamp(model.get("createdAt")),
        "card": card.decode("utf-8", errors="replace") if card is not None else None,
    }


def iter_dump_rows(snapshot: Path) -> Iterator[dict[str, Any]]:
    """One dump row per model of the snapshot (its recorded files or its ``models.sqlite``), one at a time."""
    for model, card in snapshot_models(snapshot):
        yield _row(model, card)


def dump_rows(snapshot: Path) -> list[dict[str, Any]]:
    """One dump row per recorded model of the snapshot (``models/*.json``, ``cards/*.md``)."""
    return list(iter_dump_rows(snapshot))


def write_dump(snapshot: Path, rows: Iterable[dict[str, Any]], dataset: str = DUMP_DATASET, rows_per_file: int = 100_000,
               row_group_size: int = 10_000) -> list[Path]:
    """``rows`` as the dump's parquet files (``data/train-0000k-of-0000n.parquet``) in the snapshot,
    written a row group at a time (a million rows with their cards do not fit in memory at once)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([
        ("modelId", pa.string()), ("author", pa.string()), ("last_modified", pa.timestamp("us", tz="UTC")),
        ("downloads", pa.int64()), ("likes", pa.int64()), ("library_name", pa.string()), ("tags", pa.list_(pa.string())),
        ("pipeline_tag", pa.string()), ("createdAt", pa.timestamp("us", tz="UTC")), ("card", pa.string()),
    ])
    folder = snapshot / DUMPS / dataset.replace("/", "__") / "data"
    folder.mkdir(parents=True, exist_ok=True)
    # The files are named for their count, known at the end: written under their number first.
    written: list[Path] = []
    rows = iter(rows)
    while True:
        path = folder / f"part-{len(written):05d}.parquet"
        in_file = 0
        with pq.ParquetWriter(path, schema) as writer:
            while in_file < rows_per_file:
                group = list(islice(rows, min(row_group_size, rows_per_file - in_file)))
                if not group:
                    break
                writer.write_table(pa.Table.from_pylist(group, schema=schema), row_group_size=row_group_size)
                in_file += len(group)
        if in_file == 0 and written:
            path.unlink()
            break
        written.append(path)
        if in_file < rows_per_file:
            break
    named = [path.rename(folder / f"train-{number:05d}-of-{len(written):05d}.parquet") for number, path in enumerate(written)]
    return named


class DumpSnapshot:
    def __init__(self, root: Path) -> None:
        self.snapshot = root
        self.root = root / DUMPS
        self.made: Path | None = None  # the dump made from the snapshot's models, when it records none
        self.lock = threading.Lock()

    def folder(self, dataset: str) -> Path | None:
        if "/" not in dataset or ".." in dataset:
            return None
        folder = self.root / dataset.replace("/", "__")
        if folder.is_dir():
            return folder
        if dataset != DUMP_DATASET or not ((self.snapshot / "models").is_dir() or (self.snapshot / SHELF_FILE).exists()):
            return None
        with self.lock:
            if self.made is None:
                made = Path(tempfile.mkdtemp(prefix="mlentory-replay-dump-"))
                write_dump(made, iter_dump_rows(self.snapshot), dataset)
                self.made = made / DUMPS / dataset.replace("/", "__")
        return self.made

    def close(self) -> None:
        """The dump made from the snapshot's models removed (a temporary folder of its own)."""
        with self.lock:
            if self.made is not None:
                shutil.rmtree(self.made.parents[1], ignore_errors=True)  # made/dumps/<dataset>
                self.made = None

    def info(self, dataset: str) -> dict[str, Any] | None:
        """The dataset's info as the Hub gives it, its parquet files as siblings; its commit a hash of them."""
        folder = self.folder(dataset)
        if folder is None:
            return None
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet"))
        commit = hashlib.sha1("".join(f"{f}:{(folder / f).stat().st_size}" for f in files).encode()).hexdigest()
        return {"_id": commit[:24], "id": dataset, "author": dataset.split("/")[0], "sha": commit, "private": False, "gated": False,
                "disabled": False, "tags": [], "siblings": [{"rfilename": f} for f in files]}

    def file(self, dataset: str, path: str) -> Path | None:
        folder = self.folder(dataset)
        wanted = folder / path if folder and ".." not in path else None
        return wanted if wanted and wanted.is_file() else None
