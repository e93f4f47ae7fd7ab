"""The snapshot's models, from their recorded files or, at benchmark scale, from one SQLite file.

A recorded snapshot keeps a model per file (``models/<org>__<name>.json``, ``cards/<org>__<name>.md``)
and the replay holds them in memory. A snapshot of a million synthetic models does not fit in
memory that way (a model's parsed record is 10-20 kB), nor is a million small files quick to write:
``models.sqlite`` keeps them instead, and the replay reads a model, a card or a page of the listing
from it when asked, holding none.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

SHELF_FILE = "models.sqlite"
_SCHEMA = ("CREATE TABLE IF NOT EXISTS models (id TEXT PRIMARY KEY, last_modified TEXT NOT NULL, body TEXT NOT NULL, card BLOB);"
           "CREATE INDEX IF NOT EXISTS by_modification ON models (last_modified, id)")


def file_name(repo_id: str) -> str:
    return repo_id.replace("/", "__")


class Models(Protocol):
    """What the replay asks of the snapshot's models."""

    def get(self, model_id: str) -> dict[str, Any] | None: ...
    def card(self, model_id: str) -> bytes | None: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[tuple[dict[str, Any], bytes | None]]: ...
    def page(self, sort: str | None, cursor: str | None, size: int) -> tuple[list[dict[str, Any]], str | None]: ...


class RecordedModels:
    """The models of ``models/*.json`` and their cards (``cards/*.md``), held in memory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.records: dict[str, dict[str, Any]] = {}
        for path in sorted((root / "models").glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            self.records[record.get("id") or path.stem.replace("__", "/")] = record

    def get(self, model_id: str) -> dict[str, Any] | None:
        return self.records.get(model_id)

    def card(self, model_id: str) -> bytes | None:
        """The README as stored: bytes, since a recorded README need not be valid UTF-8."""
        path = self.root / "cards" / f"{file_name(model_id)}.md"
        return path.read_bytes() if model_id in self.records and path.exists() else None

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[tuple[dict[str, Any], bytes | None]]:
        for model_id, record in self.records.items():
            yield record, self.card(model_id)

    def page(self, sort: str | None, cursor: str | None, size: int) -> tuple[list[dict[str, Any]], str | None]:
        """``size`` models from position ``cursor``, sorted by ``sort`` (newest first), and the next
        page's cursor (None: the last page)."""
        records = list(self.records.values())
        if sort:
            records.sort(key=lambda m: (str(m.get(sort) or ""), str(m.get("id"))), reverse=True)  # ties by id, as the shelf's
        start = int(cursor or 0)
        following = start + size
        return records[start:following], str(following) if following < len(records) else None


class ShelvedModels:
    """The models of ``models.sqlite``: one row per model (its record as JSON, its card), read when
    asked. The listing pages by key (the last model's modification and id), as the Hub's cursors do:
    a page deep in a million models costs what the first one does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()  # a connection per server thread: SQLite's are not shared
        self._count: int | None = None

    @property
    def _db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        return connection

    def get(self, model_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT body FROM models WHERE id = ?", (model_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def card(self, model_id: str) -> bytes | None:
        row = self._db.execute("SELECT card FROM models WHERE id = ?", (model_id,)).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def __len__(self) -> int:
        if self._count is None:
            self._count = self._db.execute("SELECT count(*) FROM models").fetchone()[0]
        return self._count

    def __iter__(self) -> Iterator[tuple[dict[str, Any], bytes | None]]:
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)  # its own: the caller may ask for models meanwhile
        try:
            for body, card in connection.execute("SELECT body, card FROM models ORDER BY rowid"):
                yield json.loads(body), bytes(card) if card is not None else None
        finally:
            connection.close()

    def page(self, sort: str | None, cursor: str | None, size: int) -> tuple[list[dict[str, Any]], str | None]:
        if sort not in (None, "lastModified"):
            raise ValueError(f"the shelved models are listed by lastModified only, not {sort}")
        if sort is None:
            after = int(cursor or 0)
            rows = self._db.execute("SELECT rowid, body FROM models WHERE rowid > ? ORDER BY rowid LIMIT ?", (after, size)).fetchall()
            following = str(rows[-1][0]) if len(rows) == size else None
        else:
            if cursor:
                modified, model_id = cursor.split("|", 1)
                rows = self._db.execute(
                    "SELECT last_modified || '|' || id, body FROM models WHERE (last_modified, id) < (?, ?) "
                    "ORDER BY last_modified DESC, id DESC LIMIT ?", (modified, model_id, size)).fetchall()
            else:
                rows = self._db.execute("SELECT last_modified || '|' || id, body FROM models ORDER BY last_modified DESC, id DESC LIMIT ?",
                                        (size,)).fetchall()
            following = rows[-1][0] if len(rows) == size else None
        return [json.loads(body) for _, body in rows], following


def snapshot_models(root: Path) -> Models:
    """The snapshot's models: ``models.sqlite`` when it has one, else its recorded files."""
    shelf = root / SHELF_FILE
    return ShelvedModels(shelf) if shelf.exists() else RecordedModels(root)


def shelve(root: Path, models: Iterable[tuple[dict[str, Any], str | bytes | None]], batch: int = 5_000) -> int:
    """Write ``models`` (record, card) into the snapshot's ``models.sqlite``; returns how many."""
    connection = sqlite3.connect(root / SHELF_FILE)
    try:
        connection.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _SCHEMA)
        written, rows = 0, []
        for record, card in models:
            rows.append((record["id"], record.get("lastModified") or "", json.dumps(record),
                         card.encode("utf-8") if isinstance(card, str) else card))
            if len(rows) >= batch:
                written += _insert(connection, rows)
        written += _insert(connection, rows)
        connection.commit()
        return written
    finally:
        connection.close()


def _insert(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> int:
    connection.executemany("INSERT OR REPLACE INTO models (id, last_modified, body, card) VALUES (?, ?, ?, ?)", rows)
    count = len(rows)
    rows.clear()
    return count
