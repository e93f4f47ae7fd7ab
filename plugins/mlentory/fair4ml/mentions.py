"""Partial records and mentions: what a source's property groups return.

A property group of any source reads one raw record and returns a *partial* record keyed by JSON-LD
terms. A value that points at another resource is a *mention* (``{"kind": "datasets", "key":
"stanfordnlp/imdb"}``, with extra fields where the linker needs them); entity linking turns it into
IRIs. A partial may carry notes on what could not be read (``[{"what", "reason"}]``) under
``WARNINGS``: the transformation lists them as warnings of the record; they are no FAIR4ML property.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from mlentory.settings import LINK_PARTITIONS

Partial = dict[str, Any]
Mention = dict[str, Any]
WARNINGS = "_warnings"


def mention(kind: str, key: str, **extra: Any) -> Mention:
    return {"kind": kind, "key": key, **{k: v for k, v in extra.items() if v is not None}}


def mention_partition(kind: str, key: str) -> int:
    """The mention's partition (of ``LINK_PARTITIONS``), for the lookups of a partitioned kind and the
    linking: the same in every process and run (not Python's salted ``hash``)."""
    return zlib.crc32(f"{kind}\n{key}".encode()) % LINK_PARTITIONS


def is_mention(value: Any) -> bool:
    return isinstance(value, dict) and "kind" in value and "key" in value and "@id" not in value


def unique(values: Iterable[Any]) -> list[Any]:
    """The values in their first order, each once; mentions and records (dicts) compare by content.
    Linear: a model may carry thousands of tags."""
    seen: dict[Any, Any] = {}
    for value in values:
        key = json.dumps(value, sort_keys=True, default=str) if isinstance(value, (dict, list)) else value
        seen.setdefault(key, value)
    return list(seen.values())


def iter_mentions(value: Any) -> Iterable[Mention]:
    """Every mention in a partial record, embedded records included."""
    if is_mention(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_mentions(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_mentions(item)


def mentions_in(partial: Partial, kind: str) -> list[Mention]:
    return [m for m in iter_mentions(partial) if m["kind"] == kind]


def iso_datetime(value: Any) -> str | None:
    """A date or date-time as sources write them (``2014-04-06T23:23:39``, ``2014-04-06 23:23:39``,
    ``2024-10-01T10:00:00.000Z``) in ISO 8601; None for anything that names no real moment (a
    record keeps its other values rather than failing validation over one date)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()
