"""The Hub's public daily dump of model cards with metadata, for a bulk first harvest.

The dump (by default the Hub dataset ``settings.HF_DUMP_DATASET``, ``librarian-bots/model_cards_with_metadata``) holds one row per
model with ``modelId``, ``author``, ``last_modified``, ``downloads``, ``likes``, ``library_name``,
``tags``, ``pipeline_tag``, ``createdAt`` and ``card`` (the README, front matter included), in
parquet files. Its cost on the Hub: one API request (the dataset's file list at a revision, pinned
to a commit so every file is of the same day) and one file-resolver request per parquet file,
whatever the number of models.

Each file is streamed to the run folder and read in record batches (never a whole file in memory);
each row becomes the raw model record the API harvest writes (``hub.raw_model_record``'s fields,
those the dump does not have left empty) and the card record ``fetch_model_cards`` writes, so the
transformation and loading are the same whichever way a model came.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from huggingface_hub import hf_hub_url
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from mlentory.http_retry import with_retries
from mlentory.sources.huggingface.cards import card_record
from mlentory.sources.huggingface.hub import REPO_ID, HubClient, MalformedEntry

log = logging.getLogger(__name__)

COLUMNS = ("modelId", "author", "last_modified", "downloads", "likes", "library_name", "tags", "pipeline_tag", "createdAt", "card")
BATCH_ROWS = 2_000
MAX_CARD_CHARS = 1_000_000  # the largest real cards are some 200 kB


@dataclass(frozen=True)
class DumpFiles:
    dataset: str
    commit: str  # the revision resolved to a commit: every file read at the same one
    files: tuple[str, ...]


def dump_files(hub: HubClient, dataset: str, revision: str) -> DumpFiles:
    """The dump's parquet files at ``revision`` (one API request)."""
    info = with_retries()(hub.api.dataset_info)(dataset, revision=revision)
    files = tuple(sorted(s.rfilename for s in info.siblings or [] if s.rfilename.endswith(".parquet")))
    if not files:
        raise ValueError(f"dataset {dataset} at {revision} has no parquet file")
    return DumpFiles(dataset, info.sha or revision, files)


@with_retries()
def download(hub: HubClient, dump: DumpFiles, filename: str, target: Path) -> Path:
    """One parquet file through the file resolver, streamed to ``target`` (a retry starts it again)."""
    url = hf_hub_url(dump.dataset, filename, repo_type="dataset", revision=dump.commit, endpoint=hub.endpoint)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    with get_session().stream("GET", url, headers=build_hf_headers(token=hub.api.token), follow_redirects=True) as response:
        hf_raise_for_status(response)
        with partial.open("wb") as handle:
            for chunk in response.iter_bytes(1 << 20):
                handle.write(chunk)
    partial.replace(target)
    return target


def _iso(value: Any) -> str | None:
    """A dump date (a timestamp column, or ISO text in older dumps) as ISO 8601 in UTC."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, str) and value.strip():
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).isoformat()
    return None


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else None


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def dump_row_records(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A dump row as the raw model record and the card record of the API harvest (``ValueError``
    for a row that names no model). The dump has no commit sha: the model's revision is its last
    modification (``dump_revision``)."""
    model_id = row.get("modelId")
    if not isinstance(model_id, str) or not REPO_ID.match(model_id):
        raise ValueError(f"modelId of type {type(model_id).__name__} is not a Hub repo id")
    text = row.get("card") if isinstance(row.get("card"), str) and row["card"].strip() else None
    card = card_record(model_id, None, text[:MAX_CARD_CHARS]) if text else None
    metadata = (card or {}).get("metadata") if isinstance((card or {}).get("metadata"), dict) else None
    tags = row.get("tags")
    record = {
        "id": model_id,
        "author": _text(row.get("author")) or (model_id.split("/")[0] if "/" in model_id else None),
        "sha": None,
        "last_modified": _iso(row.get("last_modified")),
        "created_at": _iso(row.get("createdAt")),
        "private": False,  # the dump holds public models only
        "gated": None,
        "disabled": None,
        "downloads": _count(row.get("downloads")),
        "likes": _count(row.get("likes")),
        "library_name": _text(row.get("library_name")),
        "pipeline_tag": _text(row.get("pipeline_tag")),
        "tags": [str(t) for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
        "card_data": metadata,
        "config": None,
        "transformers_info": None,
        "siblings": None,
        "safetensors": None,
        "used_storage": None,
        "model_index": None,  # the card's own, in card_data
        "from_dump": True,
    }
    return record, card


def read_dump_file(path: Path, start_position: int = 0) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None] | MalformedEntry]:
    """Rows of one parquet file, batch by batch, as (raw model record, card record); a row that
    cannot be read is a ``MalformedEntry`` (by its position; its id when it has a usable one)."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    columns = [c for c in COLUMNS if c in parquet.schema_arrow.names]
    if "modelId" not in columns:
        raise ValueError(f"{path.name}: no modelId column (columns: {', '.join(parquet.schema_arrow.names)[:300]})")
    position = start_position
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
        for row in batch.to_pylist():
            try:
                yield dump_row_records(row)
            except Exception as exc:
                yield MalformedEntry.of(position, row, row.get("modelId"), exc)
            position += 1
