"""Extraction stage: harvest raw Hub records into a run folder, then identify and enrich linked entities.

Each public function is the body of one task of the ``hf_extraction`` DAG.
"""

from __future__ import annotations

import logging
import math
import shutil
import stat
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import arxiv
import msgspec

from mlentory.enrichment.licenses import identify_license
from mlentory.errors import InvalidInput
from mlentory.pipeline import extraction as scaffolding
from mlentory.pipeline.extraction import STAGE, error_record, failure
from mlentory.pipeline.quality import Progress
from mlentory.pipeline.run_folder import (
    RunFolder,
    count_jsonl,
    dumps,
    inside,
    jsonl_lines,
    jsonl_writer,
    loads,
    read_fields,
    read_json,
    read_jsonl,
    write_json,
    write_jsonl,
)
from mlentory.pipeline.state import LoadedRevisions, source_dir
from mlentory.pools import ARXIV_POOL
from mlentory.settings import MAX_MAPPED_TASKS
from mlentory.sources.huggingface import HF_POOL, catalogue, listing
from mlentory.sources.huggingface import SOURCE as HUGGINGFACE
from mlentory.sources.huggingface.cards import ParsedCard, card_from_record, card_record
from mlentory.sources.huggingface.hub import (
    REPO_ID,
    HubClient,
    MalformedEntry,
    is_not_found,
    model_revision,
    model_statistics,
    modification_revision,
)
from mlentory.sources.huggingface.properties import OPENML_DATASET_KEY, base_models, hf_tasks

log = logging.getLogger(__name__)

CARD_FETCH_THREADS = 8
# Card reads whose resolver requests are reserved at once (``HubClient.reserve_resolver``).
CARD_BATCH = 200



def harvest_latest_models(run_folder: str, hub: HubClient, limit: int, every_listed_model: bool = False, full_refresh: bool = False) -> int:
    """The ``limit`` most recently modified models, in one paginated, expanded listing; with
    ``every_listed_model``, every model the Hub lists the first time (and with ``full_refresh``),
    then those modified since the last complete listing (``catalogue.listing_plan``). The listing
    task and its parse tasks (``listing``) in one call; returns the records."""
    jobs = listing.list_latest_pages(run_folder, hub, limit, every_listed_model, full_refresh)
    return sum(listing.parse_listed_pages(job["run_folder"], job["pages"]) for job in jobs)


MAX_IDS_FILE_BYTES = 10_000_000


@dataclass(frozen=True)
class RequestedId:
    model_id: str
    origin: str  # where it was named: "model_ids[2]" or "model_ids_file line 7"
    from_file: bool


def read_model_ids(model_ids: list[str] | None, ids_file: str | None, inputs_dir: Path) -> tuple[list[RequestedId], list[dict[str, Any]]]:
    """Ids from the param list and from a file in the source's ``inputs/`` folder (one id per line,
    ``#`` comments allowed), and warnings for what is not an id.

    The file must be a regular file inside ``inputs_dir``: a param must not make the worker read
    anything else it can read (secrets, /proc, a FIFO that never ends). A line that is not a repo id
    is never sent anywhere nor shown: a warning names only its line number.
    """
    requested: dict[str, RequestedId] = {}
    warnings: list[dict[str, Any]] = []
    for index, value in enumerate(model_ids or []):
        value = value.strip() if isinstance(value, str) else ""
        if REPO_ID.match(value):
            requested.setdefault(value, RequestedId(value, f"model_ids[{index}]", from_file=False))
        elif value:
            warnings.append({"input": f"model_ids[{index}]", "what": "model id", "reason": "not a Hub repo id; ignored"})
    if ids_file:
        path = inside(inputs_dir, ids_file, "model_ids_file")
        if not path.exists():
            raise InvalidInput(f"model_ids_file {path.name!r} is not in {inputs_dir.resolve()}")
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise InvalidInput(f"model_ids_file {path.name!r} is not a regular file")
        if status.st_size > MAX_IDS_FILE_BYTES:
            raise InvalidInput(f"model_ids_file {path.name!r} is larger than {MAX_IDS_FILE_BYTES:,} bytes")
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"model_ids_file {path.name!r} is not UTF-8 text") from None
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if REPO_ID.match(line):
                requested.setdefault(line, RequestedId(line, f"model_ids_file line {number}", from_file=True))
            elif line:
                warnings.append({"input": f"model_ids_file line {number}", "what": "model id", "reason": "not a Hub repo id; ignored (not shown)"})
    return list(requested.values()), warnings


def _reason_without(exc: BaseException, model_id: str, origin: str) -> str:
    """The failure's kind and message, with the id asked for (which the message repeats in its URL)
    replaced by where it came from: an id file's lines stay out of errors and logs."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return failure(exc).replace(model_id, f"<{origin}>") + (f" (HTTP {status})" if status else "")


def harvest_models_by_id(run_folder: str, hub: HubClient, model_ids: list[str] | None, ids_file: str | None) -> int:
    run = RunFolder(Path(run_folder))
    requested, warnings = read_model_ids(model_ids, ids_file, source_dir(run) / "inputs")
    records, errors = [], []
    progress = Progress("models by id", len(requested))
    for index, wanted in enumerate(requested, start=1):
        try:
            records.append(hub.model(wanted.model_id))
        except Exception as exc:  # one missing model must not stop the others
            # An id from a file is named by its line only: the file's lines stay out of logs and errors.
            name = wanted.origin if wanted.from_file else wanted.model_id
            reason = _reason_without(exc, wanted.model_id, wanted.origin) if wanted.from_file else error_record(wanted.model_id, exc)["reason"]
            log.warning("model %s: %s", name, reason)
            errors.append({"input" if wanted.from_file else "id": name, "what": "model by id", "reason": reason})
        if index % 100 == 0 or index == len(requested):
            progress.advance(index - progress.done)
    run.write_errors(STAGE, "models_by_id", errors)
    run.write_warnings(STAGE, "model_ids", warnings)
    write_jsonl(scaffolding.raw_file(run, "by_id"), records)
    log.info("fetched %d of %d requested models (%d errors, %d ignored lines or ids)", len(records), len(requested), len(errors), len(warnings))
    return len(records)


DUMP = "dump"
DUMP_CARDS = "dump_cards"
DUMP_COMPLETE = "dump_complete.json"


def harvest_dump(run_folder: str, hub: HubClient, dataset: str, revision: str, limit: int | None) -> int:
    """Every model of the public dump of model cards (``dump``), or its first ``limit`` rows: the
    raw records to ``raw/dump.jsonl`` and their cards to ``raw/dump_cards.jsonl``, streamed file by
    file and batch by batch. One API request and one resolver request per parquet file."""
    from mlentory.sources.huggingface.dump import download, dump_files, read_dump_file

    run = RunFolder(Path(run_folder))
    dump = dump_files(hub, dataset, revision)
    malformed: list[dict[str, Any]] = []
    progress = Progress("dump rows", limit)
    position = 0
    with jsonl_writer(scaffolding.raw_file(run, DUMP)) as records, jsonl_writer(scaffolding.raw_file(run, DUMP_CARDS)) as cards:
        for filename in dump.files:
            if limit is not None and position >= limit:
                break
            local = download(hub, dump, filename, run.file(STAGE, "dump", Path(filename).name))
            for entry in read_dump_file(local, position):
                if limit is not None and position >= limit:
                    break
                position += 1
                if isinstance(entry, MalformedEntry):
                    malformed.append(entry.error_row("dump row"))
                    continue
                record, card = entry
                records.write(record)
                if card:
                    cards.write(card)
                if position % 10_000 == 0:
                    progress.advance(10_000)
            local.unlink()  # the run folder keeps the records; the file was only a way to them
    malformed, known = scaffolding.rejected_once(run, malformed)
    run.write_errors(STAGE, "models_dump", malformed)
    run.write_warnings(STAGE, "models_dump", known)
    if limit is None:  # every model of the dump: what it lacks is a candidate for withdrawal
        write_json(run.file(STAGE, DUMP_COMPLETE), {"dataset": dataset, "commit": dump.commit, "rows": position})
    log.info("dump %s@%s: %d rows in %d files, %d models (%d with a card), %d malformed rows listed as errors",
             dataset, dump.commit[:12], position, len(dump.files), records.count, cards.count, len(malformed))
    return records.count


def merge_raw_models(run_folder: str, full_refresh: bool) -> dict[str, int]:
    """Merge the harvests (a model named by id wins, then the listing, then the dump), drop
    duplicates, and skip models whose revision is already loaded: their ``sha``, or, for a model
    loaded from the dump, its last modification (a listed model not modified since is unchanged)."""
    return scaffolding.merge_harvests(run_folder, ("by_id", "latest", DUMP), model_revision, full_refresh,
                                      same_revision=modification_revision, statistics=model_statistics, fields=_MergeFields)


class _MergeFields(msgspec.Struct):
    """What the merge and the join into chunks read of a model (``model_revision``,
    ``modification_revision``, ``model_statistics``), whatever their types: the rest of its line is
    passed on as it is."""

    id: str
    sha: Any = None
    last_modified: Any = None
    from_dump: Any = None
    downloads: Any = None
    likes: Any = None


class _CardLineage(msgspec.Struct):
    base_model: Any = None
    base_model_relation: Any = None


class _Lineage(msgspec.Struct):
    """What ``base_models`` reads of a model."""

    id: str
    tags: list[Any] | None = None
    card_data: _CardLineage | None = None


_MERGE_FIELDS = msgspec.json.Decoder(_MergeFields)
_LINEAGE = msgspec.json.Decoder(_Lineage)


def add_ancestor_models(run_folder: str, hub: HubClient, generations: int, full_refresh: bool) -> int:
    """Follow ``base_model`` links ``generations`` steps up, fetching base models not harvested yet.

    Base models already loaded by an earlier run are not fetched again (unless ``full_refresh``);
    their nodes exist, and the new models link to them by IRI.
    """
    run = RunFolder(Path(run_folder))
    models_file = run.file(STAGE, "models.jsonl")
    # Only ids and the bases they name are held: the records stay on disk, and only what names a
    # base is decoded of them.
    harvested, bases = set(), set()
    for line in jsonl_lines(models_file):
        lineage = read_fields(line, _LINEAGE) or loads(line)
        harvested.add(lineage["id"])
        bases.update(base for base, _ in base_models(lineage))
    known = harvested | (set() if full_refresh else LoadedRevisions(run).among(bases - harvested))
    added, missing = [], []
    for generation in range(1, generations + 1):
        wanted = sorted(bases - known)
        known |= set(wanted)
        found = []
        for base in wanted:
            try:
                found.append({**hub.model(base), "ancestor_generation": generation})
            except Exception as exc:  # the models that name it still load, linked to a stub of it
                reason = "not found on the Hub (deleted, renamed or private)" if is_not_found(exc) else error_record(base, exc)["reason"]
                missing.append({"id": base, "what": "base model lookup", "reason": f"{reason}; linked as a stub"})
        log.info("generation %d: %d base models wanted, %d fetched", generation, len(wanted), len(found))
        added += found
        bases = {base for m in found for base, _ in base_models(m)}
        if not found:
            break
    if added:
        with jsonl_writer(models_file) as writer:  # the file replaced whole: a retry finds no half line
            for line in jsonl_lines(models_file):
                writer.write_line(line)
            for model in added:
                writer.write(model)
    run.write_warnings(STAGE, "ancestors", missing)
    return len(added)


def find_withdrawn_models(run_folder: str, hub: HubClient, max_checks: int) -> int:
    """Models loaded before that the whole dump no longer lists, asked for one by one (at most
    ``max_checks`` a run, in id order): those the Hub answers "not found" (deleted, or made private)
    are withdrawn (``withdrawn.jsonl``). Only after a complete dump or a complete listing
    (``every_listed_model``'s first): a partial listing says nothing of what it does not list."""
    from mlentory.pipeline.extraction import WITHDRAWN_FILE

    run = RunFolder(Path(run_folder))
    if not run.file(STAGE, DUMP_COMPLETE).exists() and not catalogue.listing_was_complete(run):
        return 0
    listed = {r["id"] for harvest in (DUMP, "latest", "by_id") for r in scaffolding.raw_records(run, harvest)}
    candidates = sorted(model_id for model_id in LoadedRevisions(run).ids() if model_id not in listed)
    withdrawn, still_there, unknown = [], 0, []
    checked_at = datetime.now(UTC).isoformat()
    for model_id in candidates[:max_checks]:
        try:
            hub.model(model_id)
            still_there += 1  # not in the dump (it lags, or leaves some out), but live: kept
        except Exception as exc:
            if is_not_found(exc):
                withdrawn.append({"id": model_id, "withdrawn": checked_at, "reason": "not in the complete dump; the Hub answers not found"})
            else:  # asked again by the next reconciliation
                unknown.append({"id": model_id, "what": "withdrawal check", "reason": error_record(model_id, exc)["reason"]})
    write_jsonl(run.file(STAGE, WITHDRAWN_FILE), withdrawn)
    run.write_warnings(STAGE, "withdrawal_checks", unknown + ([{"what": "withdrawal check", "reason": f"{len(candidates) - max_checks} candidates "
                                                                "left for the next reconciliation (max_withdrawal_checks)"}]
                                                              if len(candidates) > max_checks else []))
    log.info("%d loaded models not in the dump: %d checked, %d withdrawn, %d still on the Hub, %d unknown",
             len(candidates), min(len(candidates), max_checks), len(withdrawn), still_there, len(unknown))
    return len(withdrawn)


# Cards one mapped card task reads (``read_card_chunk``): the resolver's budget, not the CPU, paces
# them, so a chunk is large; the chunks grow when there would be more than Airflow maps.
CARD_CHUNK = 2_000
CARDS_DIR = "cards"  # the card tasks' files: plan.json, dump.jsonl, fetch/<chunk>.jsonl, <chunk>.jsonl, <chunk>.outcome.json
CARDS_FILE = "cards.jsonl"


class _Listed(msgspec.Struct):
    id: str
    sha: str | None = None
    last_modified: str | None = None
    siblings: list[str] | None = None
    from_dump: bool = False


class _CardNote(msgspec.Struct):
    id: str
    metadata_error: str | None = None


def _cards_file(run: RunFolder, *parts: str) -> Path:
    return run.file(STAGE, CARDS_DIR, *parts)


def _unread_metadata(model_id: str, metadata_error: str) -> dict[str, Any]:
    return {"id": model_id, "what": "card metadata", "reason": f"front matter not read: {metadata_error[:300]}; the card's text is used"}


def plan_model_cards(run_folder: str, max_fetches: int | None = None, chunk_size: int = CARD_CHUNK) -> list[dict[str, Any]]:
    """Which cards the run reads, as chunks for the mapped card tasks (``read_card_chunk``); the
    cards the dump holds are kept at once (``cards/dump.jsonl``).

    - A model from the dump has its card from the dump; a listed model whose dump row has the same
      last modification too (no request).
    - The others are read through the file resolver at the harvested revision, oldest-missing first,
      at most ``max_fetches`` (None: all); the rest wait in the backlog, and their models are
      catalogued without card text meanwhile.
    """
    run = RunFolder(Path(run_folder))
    shutil.rmtree(run.file(STAGE, CARDS_DIR), ignore_errors=True)  # a plan starts the card tasks afresh
    for kind in ("errors", "warnings"):
        for stale in (run.path / kind).glob(f"{STAGE}__model_cards_*.jsonl"):
            stale.unlink()
    plan = catalogue.CardPlan(run, max_fetches if max_fetches is not None else 1 << 62)
    from_dump: set[str] = set()
    listed: dict[str, tuple[str | None, str | None]] = {}  # id -> (sha, last modification): the records stay on disk
    without_readme: list[str] = []
    for model in catalogue.typed_lines(run.file(STAGE, scaffolding.MODELS_FILE), _Listed):
        if model.from_dump:
            from_dump.add(model.id)
        elif model.siblings is None or "README.md" in model.siblings:
            listed[model.id] = (model.sha, model.last_modified)
        else:
            without_readme.append(model.id)
    # A listed model the dump holds at the same modification: the dump's card is the current one.
    in_dump = catalogue.dump_modifications(scaffolding.raw_file(run, DUMP), set(listed))
    use_dump_card = from_dump | {i for i, modified in in_dump.items() if _not_older(modified, listed[i][1])}
    this_run = set(listed) | from_dump | set(without_readme)
    wanted = [catalogue.Wanted(i, sha, plan.since(i), from_backlog=False) for i, (sha, _) in listed.items() if i not in use_dump_card]
    now, later = plan.choose(wanted, this_run)
    dump_cards: list[str] = []
    unread_metadata: list[dict[str, Any]] = []
    dump_file = scaffolding.raw_file(run, DUMP_CARDS)
    _cards_file(run).mkdir(parents=True)
    with _cards_file(run, "dump.jsonl").open("wb") as kept:  # the dump's lines copied as they are: read for the id only
        for line in dump_file.open("rb") if dump_file.exists() else ():
            if line.strip() and (note := msgspec.json.decode(line, type=_CardNote)).id in use_dump_card and note.id in this_run:
                kept.write(line if line.endswith(b"\n") else line + b"\n")
                dump_cards.append(note.id)
                if note.metadata_error:
                    unread_metadata.append(_unread_metadata(note.id, note.metadata_error))
    chunk_size = max(chunk_size, math.ceil(len(now) / MAX_MAPPED_TASKS))
    chunks = max(1, math.ceil(len(now) / chunk_size))  # one, though empty: the task after the mapped ones runs only after one
    for chunk in range(chunks):
        write_jsonl(_cards_file(run, "fetch", f"{chunk:05d}.jsonl"), (asdict(w) for w in now[chunk * chunk_size:(chunk + 1) * chunk_size]))
    write_jsonl(_cards_file(run, "later.jsonl"), (asdict(w) for w in later))
    without = [*without_readme, *sorted(from_dump - set(dump_cards))]  # no README; the dump has no card text for it
    write_json(_cards_file(run, "plan.json"), {"chunks": chunks, "now": plan.now, "to_read": len(now), "from_dump": dump_cards,
                                               "without_card": without, "dump_warnings": unread_metadata})
    log.info("cards: %d to read in %d chunks, %d from the dump, %d left for later runs", len(now), chunks, len(dump_cards), len(later))
    return [{"run_folder": run_folder, "chunk": chunk} for chunk in range(chunks)]


def read_card_chunk(run_folder: str, hub: HubClient, chunk: int) -> int:
    """The cards of one chunk of the plan, read through the resolver (``CARD_FETCH_THREADS`` at a
    time, their requests reserved ``CARD_BATCH`` at once) and parsed once: ``cards/<chunk>.jsonl``,
    and what became of each (``cards/<chunk>.outcome.json``) for ``finish_model_cards``. Returns the
    cards read."""
    run = RunFolder(Path(run_folder))
    to_read = [catalogue.Wanted(**row) for row in read_jsonl(_cards_file(run, "fetch", f"{chunk:05d}.jsonl"))]
    errors: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    progress = Progress(f"model cards, chunk {chunk}", len(to_read))

    def fetch(model: catalogue.Wanted) -> tuple[catalogue.Wanted, dict[str, Any] | None, bool]:
        """(model, card record or None, whether the card is known: read, or the repository has none)."""
        try:
            text = hub.model_card(model.id, model.sha)
        except Exception as exc:  # a model without its card is still worth loading; the backlog keeps it
            errors.append(error_record(model.id, exc) | {"what": "model card", "retry": True})
            return model, None, False
        if text is not None and "\ufffd" in text:
            warnings.append({"id": model.id, "what": "model card", "reason": "README is not valid UTF-8; undecodable bytes replaced"})
        return model, (card_record(model.id, model.sha, text) if text is not None else None), True

    def fetched() -> Iterator[tuple[catalogue.Wanted, dict[str, Any] | None, bool]]:
        with ThreadPoolExecutor(CARD_FETCH_THREADS) as pool:
            for start in range(0, len(to_read), CARD_BATCH):
                batch = to_read[start:start + CARD_BATCH]
                hub.reserve_resolver(len(batch))
                yield from pool.map(fetch, batch)

    outcome: dict[str, list[Any]] = {"arrived": [], "without_card": [], "unread": [], "backlog_read": []}
    with jsonl_writer(_cards_file(run, f"{chunk:05d}.jsonl")) as writer:
        for index, (model, card, known) in enumerate(fetched(), start=1):
            if card:
                writer.write(card)
                outcome["arrived"].append(model.id)
                if model.from_backlog:
                    outcome["backlog_read"].append(model.id)
                if card.get("metadata_error"):
                    warnings.append(_unread_metadata(model.id, card["metadata_error"]))
            elif known:  # the repository has no README after all
                outcome["without_card"].append([model.id, model.since])
            else:
                outcome["unread"].append(asdict(model))
            if index % 200 == 0 or index == len(to_read):
                progress.advance(index - progress.done)
    run.write_errors(STAGE, f"model_cards_{chunk:05d}", errors)
    run.write_warnings(STAGE, f"model_cards_{chunk:05d}", warnings)
    write_json(_cards_file(run, f"{chunk:05d}.outcome.json"), outcome)
    return writer.count


def finish_model_cards(run_folder: str, hub: HubClient | None = None) -> int:
    """The card tasks' end: every chunk's cards and the dump's in ``cards.jsonl`` (the chunks no
    mapped task read are read here, in turn, with ``hub``), and the backlog's changes written for
    ``catalogue.commit``: the cards that arrived, the models without a card, the models left
    waiting with their records. A backlog model whose card arrived joins this run's models, to be
    processed again with it. Returns the cards the run has."""
    run = RunFolder(Path(run_folder))
    plan = read_json(_cards_file(run, "plan.json"))
    changes = catalogue.CardChanges(run)
    changes.arrived += plan["from_dump"]
    changes.counts["cards_from_dump"] = len(plan["from_dump"])
    outcomes = []
    for chunk in range(plan["chunks"]):
        if (outcome := read_json(_cards_file(run, f"{chunk:05d}.outcome.json"))) is None:
            if hub is None:
                raise RuntimeError(f"card chunk {chunk} of {run_folder} was not read")
            read_card_chunk(run_folder, hub, chunk)
            outcome = read_json(_cards_file(run, f"{chunk:05d}.outcome.json"))
        outcomes.append(outcome)
    with run.file(STAGE, CARDS_FILE).open("wb") as joined:  # byte copies: the records were written once, by their task
        for part in [_cards_file(run, "dump.jsonl"), *(_cards_file(run, f"{chunk:05d}.jsonl") for chunk in range(plan["chunks"]))]:
            with part.open("rb") as handle:
                shutil.copyfileobj(handle, joined)
    backlog_read = {model_id for outcome in outcomes for model_id in outcome["backlog_read"]}
    unread = [catalogue.Wanted(**row) for outcome in outcomes for row in outcome["unread"]]
    with changes.writer() as missing:
        for outcome in outcomes:
            changes.arrived += outcome["arrived"]
            changes.counts["cards_read"] += len(outcome["arrived"])
            for model_id, since in outcome["without_card"]:
                changes.without_card(missing, model_id, since)
        for model_id in plan["without_card"]:
            changes.without_card(missing, model_id, plan["now"])
        # The models left unread this run wait with their records (this run's from its models file;
        # the backlog's keep their entries).
        waiting = {model.id: model.since for model in unread if not model.from_backlog}
        waiting |= {row["id"]: row["since"] for row in read_jsonl(_cards_file(run, "later.jsonl")) if not row["from_backlog"]}
        for model in read_jsonl(run.file(STAGE, scaffolding.MODELS_FILE)) if waiting else ():
            if model["id"] in waiting:
                changes.pending(missing, model, waiting[model["id"]])
    later = count_jsonl(_cards_file(run, "later.jsonl"))
    changes.counts["cards_from_backlog"] = len(backlog_read)
    changes.counts["left_for_later"] = len(unread) + later
    # Their models are processed again, with the card (appended once: a retried task finds them there).
    if fresh := backlog_read - {m.id for m in catalogue.typed_lines(run.file(STAGE, scaffolding.MODELS_FILE), _CardId)} if backlog_read else set():
        with run.file(STAGE, scaffolding.MODELS_FILE).open("a", encoding="utf-8") as models:
            for model in catalogue.backlog_records(run, fresh):
                models.write(dumps(model) + "\n")
    changes.save()
    run.write_warnings(STAGE, "model_cards", plan["dump_warnings"])
    cards = len(plan["from_dump"]) + changes.counts["cards_read"]
    log.info("cards: %d read, %d from the dump, %d of them backlog models, %d left for later runs",
             changes.counts["cards_read"], len(plan["from_dump"]), len(backlog_read), changes.counts["left_for_later"])
    return cards


def fetch_model_cards(run_folder: str, hub: HubClient, max_fetches: int | None = None) -> int:
    """The card (README.md) of every model of the run that has one, and of models of earlier runs
    still waiting for theirs (the backlog: ``catalogue``), as the DAG's card tasks do it, in one
    call: the plan, each chunk in turn, the end. Returns the cards the run has."""
    for job in plan_model_cards(run_folder, max_fetches):
        read_card_chunk(run_folder, hub, job["chunk"])
    return finish_model_cards(run_folder, hub)


def _not_older(modified: str | None, than: str | None) -> bool:
    """Whether the modification ``modified`` is that of ``than`` or newer (ISO 8601, either may be missing)."""
    return bool(modified and than) and datetime.fromisoformat(modified) >= datetime.fromisoformat(than)  # type: ignore[arg-type]


class _CardId(msgspec.Struct):
    id: str


def _card_offsets(path: Path) -> dict[str, int]:
    """Model id -> where its card record starts in the cards file (only the ids decoded)."""
    offsets: dict[str, int] = {}
    if path.exists():
        with path.open("rb") as handle:
            position = 0
            for line in handle:
                if line.strip():
                    offsets[msgspec.json.decode(line, type=_CardId).id] = position
                position += len(line)
    return offsets


def iter_raw_models_with_cards(run: RunFolder) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every extracted model with its card record (None when it has no card). The cards are found
    by their place in the file (read only for their ids first), never held all at once: a full-Hub
    run's cards are gigabytes."""
    path = run.file(STAGE, CARDS_FILE)
    offsets = _card_offsets(path)
    with path.open("rb") if offsets else nullcontext() as cards:
        for model in read_jsonl(run.file(STAGE, "models.jsonl")):
            offset = offsets.get(model["id"])
            if offset is None:
                yield model, None
            else:
                cards.seek(offset)
                yield model, loads(cards.readline())


def iter_record_lines(run: RunFolder) -> Iterator[bytes]:
    """The rows of ``mapping.records`` as JSON text: each model's line and its card record's line
    put into the row as they are, only the model's id and revision decoded (the join of a
    million-model run into chunks is one pass; decoding and encoding every model and card was most
    of its cost)."""
    path = run.file(STAGE, CARDS_FILE)
    offsets = _card_offsets(path)
    encode = msgspec.json.encode
    with path.open("rb") if offsets else nullcontext() as cards:
        for line in jsonl_lines(run.file(STAGE, "models.jsonl")):
            model = read_fields(line, _MERGE_FIELDS) or loads(line)
            offset = offsets.get(model["id"])
            if offset is None:
                card = b"null"
            else:
                cards.seek(offset)
                card = cards.readline().strip()
            yield b'{"card":' + card + b',"id":' + encode(model["id"]) + b',"model":' + line + b',"revision":' + encode(model_revision(model)) + b"}"


def iter_models_with_cards(run: RunFolder) -> Iterator[tuple[dict[str, Any], ParsedCard | None]]:
    for model, card in iter_raw_models_with_cards(run):
        yield model, card_from_record(card)


LOOKUP_THREADS = 8  # the Hub's lookups, at once: they wait on the network, not the CPU


# From how many datasets to look up one run reads the Hub's dataset listing instead (about 1,000 a
# request, some 500 requests for the whole Hub) rather than asking for each (a request each).
DATASET_LISTING_FROM = 1_000


def hub_lookups(run: RunFolder, name: str, kind: str, ttl: timedelta | None, fetch: Callable[[str], dict[str, Any]],
                room: Callable[[int], int | None] | None = None, listing: scaffolding.Listing | None = None,
                partitions: tuple[int, ...] | None = None) -> scaffolding.CachedLookups:
    """Cached lookups at the Hub, ``LOOKUP_THREADS`` at a time."""
    return scaffolding.CachedLookups(run, name, kind, ttl, fetch, is_not_found, threads=LOOKUP_THREADS, room=room, listing=listing,
                                     partitions=partitions)


def _listed_datasets(hub: HubClient, keys: list[str]) -> dict[str, dict[str, Any]]:
    return {key: {"found": True, **record} for key, record in hub.datasets_listed(keys).items()}


def _identify_tasks(keys: list[str]) -> dict[str, Any]:
    tasks = hf_tasks()
    return {
        k: {"name": tasks[k][0], "modality": tasks[k][1], "known": True} if k in tasks else {"name": k, "modality": None, "known": False}
        for k in keys
    }


def identify_entities(run_folder: str, kind: str, hub: HubClient | None = None, arxiv_client: arxiv.Client | None = None,
                      partitions: list[int] | None = None) -> int:
    """Find every ``kind`` entity the models mention and look up what is known about it; of a
    partitioned kind (the accounts), only the keys of ``partitions``."""
    run = RunFolder(Path(run_folder))
    only = None if partitions is None else tuple(partitions)
    keys = scaffolding.mentioned_keys(HUGGINGFACE, run, kind, only)
    identify: dict[str, Callable[[], dict[str, Any]]] = {
        # Enrichment that can wait: as many lookups as the API's budget has room for, the rest deferred.
        "datasets": lambda: hub_lookups(run, "datasets", "datasets", timedelta(days=7), lambda k: {"found": True, **hub.dataset(k)},
                                        room=hub.lookup_room, listing=scaffolding.Listing(lambda missing: _listed_datasets(hub, missing),
                                                                                          DATASET_LISTING_FROM, "dataset listing"),
                                        ).look_up([k for k in keys if not k.startswith(OPENML_DATASET_KEY)]),
        "organisations": lambda: hub_lookups(run, "accounts", "organisations", timedelta(days=30), lambda k: {"found": True, **hub.account(k)},
                                             room=lambda wanted: hub.lookup_room(wanted, hub.ACCOUNT_REQUESTS), partitions=only).look_up(keys),
        "articles": lambda: scaffolding.identify_articles(run, keys, arxiv_client),
        "licenses": lambda: {k: identify_license(k) for k in keys},
        "languages": lambda: scaffolding.identify_languages(run, keys),
        "tasks": lambda: _identify_tasks(keys),
        "keywords": lambda: {k: {"name": k} for k in keys},
    }
    entities = identify[kind]()
    scaffolding.write_identified(run, kind, entities, only)
    log.info("%s%s: %d mentioned, %d identified", kind, "" if only is None else f" (partitions {list(only)})", len(keys), len(entities))
    return len(entities)


def finish_extraction(run_folder: str, max_error_rate: float) -> dict[str, Any]:
    """The shared end of an extraction; then the run's listing cursor and card backlog are committed
    to the source's state (``catalogue.commit``, which a retry repeats harmlessly): an extraction
    over its error budget changes neither."""
    run = RunFolder(Path(run_folder))
    cards = count_jsonl(run.file(STAGE, CARDS_FILE))
    summary = scaffolding.finish_extraction(run_folder, max_error_rate, record_parts=("models_by_id", "models_latest", "models_dump"),
                                            counts={"cards": cards})
    return {**summary, "coverage": catalogue.commit(run)}


def identify_entities_with_connections(run_folder: str, kind: str, partitions: list[int] | None = None) -> int:
    """``identify_entities`` with the clients the kind needs (the pool its manifest gives it names the
    API), from the Airflow connections; a partitioned kind's task names its ``partitions``."""
    from mlentory.enrichment.arxiv_papers import ArxivHook
    from mlentory.sources.huggingface.hook import HuggingFaceHubHook

    pool = HUGGINGFACE.entity_kind(kind).pool
    hub = HuggingFaceHubHook().get_conn() if pool == HF_POOL else None
    arxiv_client = ArxivHook().get_conn() if pool == ARXIV_POOL else None
    return identify_entities(run_folder, kind, hub=hub, arxiv_client=arxiv_client, partitions=partitions)
