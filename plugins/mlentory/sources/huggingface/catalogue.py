"""The Hub catalogue's own state: the listing's cursor, and the models whose card text has not arrived.

- **Every listed model.** With ``every_listed_model`` the first harvest enumerates the Hub's whole
  listing (newest modification first, 1,000 models a request: some 2,900 requests for 2.9 million
  models). The newest modification it saw is the cursor: later runs list only back to it (less
  ``CURSOR_OVERLAP``, for an index that lags), and what the last complete listing reported (how many
  models, when) is kept for the coverage.
- **The card backlog.** A model is catalogued from its listing entry at once; its card text arrives
  when its README is read, from the cards dump where that has the same revision, else through the
  file resolver (5,000 requests per 5 minutes on a free token: 2.9 million cards take two days). A
  run reads at most ``max_card_fetches`` cards, oldest-missing first; the rest wait in
  ``state/cards_missing.jsonl`` with the model's raw record, and the run that reads a card processes
  its model again with it. Models whose repository has no README are kept there too (``pending``
  false), so the coverage can tell "no card" from "card not read yet".

The card tasks write what changes to the run folder (``catalogue/``); the extraction's last task
commits it to the source's state (``commit``): a run whose extraction fails changes neither the
cursor nor the backlog, and one whose transformation fails is taken up by the next (its run folder
waits).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from mlentory.pipeline import storage
from mlentory.pipeline.run_folder import JsonlWriter, RunFolder, jsonl_lines, jsonl_writer, read_json, read_jsonl, write_json
from mlentory.pipeline.state import exclusive, source_dir

log = logging.getLogger(__name__)

STAGE = "extraction"
# Listed again before the cursor: a model whose modification the Hub's listing shows late is not missed.
CURSOR_OVERLAP = timedelta(hours=1)
LISTING_STATE = "hub_listing.json"
MISSING_STATE = "cards_missing.jsonl"
_T = TypeVar("_T")
COVERAGE_FILE = "coverage.json"  # in the run's extraction folder: the coverage the run report states


def _state(run: RunFolder, name: str) -> Path:
    return source_dir(run) / "state" / name


def _run_file(run: RunFolder, name: str) -> Path:
    return run.file(STAGE, "catalogue", name)


# -- the listing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListingPlan:
    """What this run lists: ``limit`` models (None: all) back to ``since`` (None: no bound)."""

    mode: str  # "latest": the newest ``num_models``; "every": the whole listing; "since": back to the cursor
    limit: int | None
    since: str | None


def listing_plan(run: RunFolder, num_models: int, every_listed_model: bool, full_refresh: bool) -> ListingPlan:
    if not every_listed_model:
        return ListingPlan("latest", num_models, None)
    cursor = read_json(storage.refresh(_state(run, LISTING_STATE)), {}).get("cursor")
    if cursor is None or full_refresh:
        return ListingPlan("every", None, None)
    return ListingPlan("since", None, (datetime.fromisoformat(cursor) - CURSOR_OVERLAP).isoformat())


def record_listing(run: RunFolder, plan: ListingPlan, listed: int, newest: str | None) -> None:
    """What the listing did, for ``commit`` (``newest``: the newest modification it saw)."""
    write_json(_run_file(run, "listing.json"), {"mode": plan.mode, "since": plan.since, "listed": listed, "newest": newest,
                                                "at": datetime.now(UTC).isoformat()})


def listing_was_complete(run: RunFolder) -> bool:
    """Whether this run listed every model the Hub lists (what it does not list may be withdrawn)."""
    return read_json(_run_file(run, "listing.json"), {}).get("mode") == "every"


# -- the cards -----------------------------------------------------------------------------------

class _Missing(msgspec.Struct):
    id: str
    since: str
    pending: bool
    sha: str | None = None  # the revision whose card is wanted


class _DumpRow(msgspec.Struct):
    id: str
    last_modified: str | None = None


@dataclass
class Wanted:
    """A card to read: of a model of this run (``from_backlog`` false) or of the backlog."""

    id: str
    sha: str | None
    since: str
    from_backlog: bool


class CardPlan:
    """Which cards a run reads, which it leaves for later, from this run's models and the backlog."""

    def __init__(self, run: RunFolder, max_fetches: int) -> None:
        self.run = run
        self.max_fetches = max_fetches
        self.now = datetime.now(UTC).isoformat()
        # id -> entry: ids and dates only, the records stay on disk
        self.backlog: dict[str, _Missing] = {e.id: e for e in typed_lines(storage.refresh(_state(run, MISSING_STATE)), _Missing)}

    def since(self, model_id: str) -> str:
        """When the model's card went missing: a model listed again keeps its place in the queue."""
        entry = self.backlog.get(model_id)
        return entry.since if entry is not None and entry.pending else self.now

    def choose(self, wanted_this_run: list[Wanted], this_run: set[str]) -> tuple[list[Wanted], list[Wanted]]:
        """(read now, left for later): every pending card, oldest-missing first, at most ``max_fetches`` now."""
        waiting = [Wanted(e.id, e.sha, e.since, from_backlog=True) for e in self.backlog.values() if e.pending and e.id not in this_run]
        queue = sorted([*waiting, *wanted_this_run], key=lambda w: w.since)
        return queue[: self.max_fetches], queue[self.max_fetches:]



def backlog_records(run: RunFolder, ids: set[str]) -> Iterator[dict[str, Any]]:
    """The raw model records the backlog keeps for ``ids`` (one pass over its file)."""
    path = _state(run, MISSING_STATE)
    if ids and path.exists():
        for entry in read_jsonl(path):
            if entry["id"] in ids and entry.get("model"):
                yield entry["model"]


def dump_modifications(dump_file: Path, ids: set[str]) -> dict[str, str | None]:
    """The dump's last modification of each of ``ids`` it holds (read for the ids and dates only)."""
    return {row.id: row.last_modified for row in typed_lines(dump_file, _DumpRow) if row.id in ids} if ids else {}


class CardChanges:
    """What a card task changes in the backlog, written to the run folder for ``commit``: entries to
    add or replace (``missing.jsonl``) and ids whose card arrived (``arrived.json``)."""

    def __init__(self, run: RunFolder) -> None:
        self.run = run
        self.arrived: list[str] = []
        self.counts: dict[str, int] = {"cards_read": 0, "cards_from_dump": 0, "cards_from_backlog": 0, "left_for_later": 0}

    def writer(self) -> Any:  # a context manager giving a JsonlWriter
        return jsonl_writer(_run_file(self.run, "missing.jsonl"))

    @staticmethod
    def pending(writer: JsonlWriter, model: dict[str, Any], since: str) -> None:
        writer.write({"id": model["id"], "since": since, "pending": True, "sha": model.get("sha"), "model": model})

    @staticmethod
    def without_card(writer: JsonlWriter, model_id: str, since: str) -> None:
        writer.write({"id": model_id, "since": since, "pending": False})

    def save(self) -> None:
        write_json(_run_file(self.run, "arrived.json"), {"ids": self.arrived, **self.counts})


# -- the commit ----------------------------------------------------------------------------------

def commit(run: RunFolder) -> dict[str, Any]:
    """Apply what the run's listing and card tasks recorded to the source's state, and write the
    run's coverage (``coverage.json``): the listing's count, the cards read, the backlog left."""
    listing = read_json(_run_file(run, "listing.json"), None)
    listing_state = _state(run, LISTING_STATE)
    with exclusive(listing_state):
        state = read_json(listing_state, {})
        if listing is not None and listing["mode"] in ("every", "since") and listing["newest"]:
            # The newest modification a listing saw when it started: what changes during a long
            # listing moves ahead of it and is listed by the next run, from this cursor on.
            if state.get("cursor") is None or listing["newest"] > state["cursor"]:
                state["cursor"] = listing["newest"]
            if listing["mode"] == "every":
                state.update(listed=listing["listed"], listed_at=listing["at"])
            write_json(listing_state, state)
    changes = read_json(_run_file(run, "arrived.json"), None)
    missing_path = _state(run, MISSING_STATE)
    pending = without_card = 0
    with exclusive(missing_path):
        if changes is not None:
            replaced = set(changes["ids"]) | {e["id"] for e in read_jsonl(_run_file(run, "missing.jsonl"))}
            kept = (e for e in read_jsonl(missing_path) if e["id"] not in replaced)
            _rewrite(missing_path, [kept, read_jsonl(_run_file(run, "missing.jsonl"))])
        for entry in typed_lines(missing_path, _Missing):
            pending += entry.pending
            without_card += not entry.pending
    coverage = {
        "listed": state.get("listed"),  # what the last complete listing reported
        "listed_at": state.get("listed_at"),
        "listing": listing["mode"] if listing else None,
        "listed_this_run": listing["listed"] if listing else None,
        **{key: value for key, value in (changes or {}).items() if key != "ids"},
        "card_backlog": pending,
        "without_card": without_card,
    }
    write_json(run.file(STAGE, COVERAGE_FILE), coverage)
    log.info("Hub coverage: %s", {key: value for key, value in coverage.items() if value is not None})
    return coverage


def typed_lines(path: Path, kind: type[_T]) -> Iterator[_T]:
    """The JSON Lines of ``path`` decoded as ``kind`` (a msgspec struct: only its fields are read)."""
    for line in jsonl_lines(path):
        yield msgspec.json.decode(line, type=kind)


def _rewrite(path: Path, parts: Iterable[Iterable[dict[str, Any]]]) -> None:
    """Replace ``path`` with the entries of ``parts``, streamed (never the whole backlog in memory)."""
    with jsonl_writer(path) as writer:
        for part in parts:
            for entry in part:
                writer.write(entry)
