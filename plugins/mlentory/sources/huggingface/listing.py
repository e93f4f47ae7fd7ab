"""The Hub's expanded listing: paged by one task, parsed by many.

The listing pages with a cursor (the Hub's ``Link`` header), so one task reads it, page after page,
as the Hub's rate limit allows. Reading each entry into a record (``raw_model_record``: the client's
``ModelInfo`` and our plain copy of it) was 68% of that task's CPU, in proportion to the models
listed. So the listing task keeps each page as the Hub sent it (``raw/latest/pages/<page>.json``),
reading of it only each entry's modification time (where a listing back to the last cursor stops,
and the next cursor); mapped tasks then parse groups of pages into records
(``raw/latest/<first page>.jsonl``), each entry on its own: one the client cannot read is an error
of its own (``MalformedEntry``), by its position in the whole listing.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from mlentory.http_retry import with_retries
from mlentory.pipeline import extraction as scaffolding
from mlentory.pipeline.extraction import STAGE
from mlentory.pipeline.quality import Progress
from mlentory.pipeline.run_folder import RunFolder, jsonl_writer, read_json, write_json, write_text
from mlentory.settings import MAX_MAPPED_TASKS
from mlentory.sources.huggingface import catalogue
from mlentory.sources.huggingface.catalogue import ListingPlan
from mlentory.sources.huggingface.hub import HubClient, MalformedEntry, raw_model_record

log = logging.getLogger(__name__)

LISTING = "latest"
# Pages a parse task reads: 50,000 models at the Hub's pages of 1,000 (one task for a small run).
PAGES_PER_PARSE_TASK = 50


class _Modified(msgspec.Struct):
    lastModified: Any = None  # noqa: N815 - the Hub's field name


def _pages_dir(run: RunFolder) -> Path:
    return run.file(STAGE, "raw", LISTING, "pages")


def _page_file(run: RunFolder, page: int) -> Path:
    return _pages_dir(run) / f"{page:06d}.json"


def _manifest_file(run: RunFolder) -> Path:
    return _pages_dir(run) / "manifest.json"


def _time(value: Any) -> datetime | None:
    """A modification time as the Hub writes it (``2024-05-01T12:00:00.000Z``); None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _modification_times(page: bytes) -> list[datetime | None]:
    """Each entry's modification time, decoding nothing else of the page (None where an entry has
    none that reads: its parse task says why, if it is malformed)."""
    try:
        values = [entry.lastModified for entry in msgspec.json.decode(page, type=list[_Modified])]
    except msgspec.ValidationError:  # an entry that is no object: the page read whole, as the client did
        entries = json.loads(page)
        if not isinstance(entries, list):
            raise ValueError("a page of the Hub's listing is not a list") from None
        values = [entry.get("lastModified") if isinstance(entry, dict) else None for entry in entries]
    return [_time(value) for value in values]


def list_latest_pages(run_folder: str, hub: HubClient, limit: int, every_listed_model: bool = False,
                      full_refresh: bool = False) -> list[dict[str, Any]]:
    """The listing task: the ``limit`` most recently modified models (with ``every_listed_model``,
    every model the first time, then back to the last complete listing: ``catalogue.listing_plan``),
    page by page as the Hub sent them. Returns the parse tasks' groups of pages (one at least)."""
    run = RunFolder(Path(run_folder))
    plan = catalogue.listing_plan(run, limit, every_listed_model, full_refresh)
    pages, listed, newest = with_retries()(_write_pages)(run, hub, plan)  # a retry starts from the first page
    catalogue.record_listing(run, plan, listed, newest)
    per_task = max(PAGES_PER_PARSE_TASK, math.ceil(pages / MAX_MAPPED_TASKS))
    groups = [list(range(first, min(first + per_task, pages))) for first in range(0, pages, per_task)] or [[]]
    log.info("listed %d models (%s) in %d pages from %s, to parse in %d tasks", listed, plan.mode, pages, hub.endpoint, len(groups))
    return [{"run_folder": run_folder, "pages": group} for group in groups]


def _write_pages(run: RunFolder, hub: HubClient, plan: ListingPlan) -> tuple[int, int, str | None]:
    """The listing's pages (and what of each is listed: ``manifest.json``); returns the pages, the
    entries listed and the newest modification seen."""
    shutil.rmtree(run.file(STAGE, "raw", LISTING), ignore_errors=True)
    since = _time(plan.since)
    offsets: list[int] = []  # each page's first entry's position in the listing
    listed, newest = 0, None
    progress = Progress(f"models listed ({plan.mode})", plan.limit)
    for page, content in enumerate(hub.latest_model_pages(plan.limit) if plan.limit is None or plan.limit > 0 else []):
        times = _modification_times(content)
        # Newest first: the first entry modified before the cursor ends the listing, with the limit.
        taken = next((index for index, when in enumerate(times) if since is not None and when is not None and when < since), len(times))
        if plan.limit is not None:
            taken = min(taken, plan.limit - listed)
        newest = newest or next((when.isoformat() for when in times[:taken] if when is not None), None)
        write_text(_page_file(run, page), content.decode("utf-8"))
        offsets.append(listed)
        listed += taken
        progress.advance(taken)
        if taken < len(times) or (plan.limit is not None and listed >= plan.limit):
            break
    write_json(_manifest_file(run), {"offsets": offsets, "listed": listed})
    return len(offsets), listed, newest


def parse_listed_pages(run_folder: str, pages: list[int]) -> int:
    """A parse task: the listed entries of ``pages`` into raw records, each on its own (one the client
    cannot read is an error, by its position in the listing, and costs no other). Returns the records."""
    run = RunFolder(Path(run_folder))
    if not pages:
        return 0
    manifest = read_json(_manifest_file(run))
    malformed: list[dict[str, Any]] = []
    with jsonl_writer(scaffolding.raw_part_file(run, LISTING, pages[0])) as records:
        for page in pages:
            first = manifest["offsets"][page]
            for index, entry in enumerate(json.loads(_page_file(run, page).read_bytes())):  # as the client reads a page
                if first + index >= manifest["listed"]:
                    break
                try:
                    records.write(raw_model_record(entry))
                except Exception as exc:  # one entry the client cannot read must not cost the others
                    given = entry.get("id") if isinstance(entry, dict) else None
                    malformed.append(MalformedEntry.of(first + index, entry, given, exc).error_row("listing entry"))
    errors, known = scaffolding.rejected_once(run, malformed)
    run.write_errors(STAGE, f"models_latest_{pages[0]:06d}", errors)
    run.write_warnings(STAGE, f"models_latest_{pages[0]:06d}", known)
    log.info("pages %d-%d: %d records, %d malformed entries listed as errors", pages[0], pages[-1], records.count, len(malformed))
    return records.count
