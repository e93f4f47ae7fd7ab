"""Extraction stage: harvest raw Hub records into a run folder, then identify and enrich linked entities.

Each public function is the body of one task of the ``hf_extraction`` DAG.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import arxiv
import msgspec

from mlentory.enrichment.licenses import identify_license
from mlentory.errors import InvalidInput
from mlentory.http_retry import with_retries
from mlentory.pipeline import extraction as scaffolding
from mlentory.pipeline.extraction import STAGE, error_record, failure
from mlentory.pipeline.quality import Progress
from mlentory.pipeline.run_folder import JsonlWriter, RunFolder, inside, jsonl_writer, loads, read_jsonl, write_json, write_jsonl
from mlentory.pipeline.state import LoadedRevisions, source_dir
from mlentory.pools import ARXIV_POOL
from mlentory.sources.huggingface import HF_POOL
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



def harvest_latest_models(run_folder: str, hub: HubClient, limit: int) -> int:
    """The ``limit`` most recently modified models, in one paginated, expanded listing."""
    run = RunFolder(Path(run_folder))
    progress = Progress("latest models listed", limit)

    def logged(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for index, record in enumerate(records, start=1):
            if index % 1_000 == 0:
                progress.advance(1_000)
            yield record

    malformed: list[dict[str, Any]] = []

    def entries() -> Iterator[dict[str, Any]]:
        malformed.clear()  # a retry starts the listing again from the first page
        for entry in hub.latest_models(limit) if limit > 0 else []:
            if isinstance(entry, MalformedEntry):
                malformed.append(entry.error_row("listing entry"))
            else:
                yield entry

    # Streamed to disk; a retry (rate limit, network) rewrites the file from the first page.
    count = with_retries()(write_jsonl)(scaffolding.raw_file(run, "latest"), logged(entries()))
    malformed, known = scaffolding.rejected_once(run, malformed)
    run.write_errors(STAGE, "models_latest", malformed)
    run.write_warnings(STAGE, "models_latest", known)
    log.info("listed %d latest models from %s (%d malformed entries listed as errors)", count, hub.endpoint, len(malformed))
    return count


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
                                      same_revision=modification_revision, statistics=model_statistics)


def add_ancestor_models(run_folder: str, hub: HubClient, generations: int, full_refresh: bool) -> int:
    """Follow ``base_model`` links ``generations`` steps up, fetching base models not harvested yet.

    Base models already loaded by an earlier run are not fetched again (unless ``full_refresh``);
    their nodes exist, and the new models link to them by IRI.
    """
    run = RunFolder(Path(run_folder))
    models_file = run.file(STAGE, "models.jsonl")
    # Only ids and the bases they name are held: the records stay on disk.
    harvested, bases = set(), set()
    for model in read_jsonl(models_file):
        harvested.add(model["id"])
        bases.update(base for base, _ in base_models(model))
    known = harvested | (set() if full_refresh else set(LoadedRevisions(run).load()))
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
        with jsonl_writer(models_file) as writer:
            for model in read_jsonl(models_file):
                writer.write(model)
            for model in added:
                writer.write(model)
    run.write_warnings(STAGE, "ancestors", missing)
    return len(added)


def find_withdrawn_models(run_folder: str, hub: HubClient, max_checks: int) -> int:
    """Models loaded before that the whole dump no longer lists, asked for one by one (at most
    ``max_checks`` a run, in id order): those the Hub answers "not found" (deleted, or made private)
    are withdrawn (``withdrawn.jsonl``). Only after a complete dump: a partial listing says nothing
    of what it does not list."""
    from mlentory.pipeline.extraction import WITHDRAWN_FILE

    run = RunFolder(Path(run_folder))
    if not run.file(STAGE, DUMP_COMPLETE).exists():
        return 0
    listed = {r["id"] for harvest in (DUMP, "latest", "by_id") for r in read_jsonl(scaffolding.raw_file(run, harvest))}
    candidates = sorted(set(LoadedRevisions(run).load()) - listed)
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


def fetch_model_cards(run_folder: str, hub: HubClient) -> int:
    """README.md of every model that has one, at the harvested revision, via the file resolver;
    a model from the dump has its card from the dump (no request)."""
    run = RunFolder(Path(run_folder))
    from_dump: set[str] = set()
    models = []  # (id, sha) only: the records stay on disk
    for model in read_jsonl(run.file(STAGE, "models.jsonl")):
        if model.get("from_dump"):
            from_dump.add(model["id"])
        elif model.get("siblings") is None or "README.md" in model["siblings"]:
            models.append({"id": model["id"], "sha": model.get("sha")})
    errors: list[dict[str, Any]] = []
    undecodable: list[dict[str, Any]] = []
    progress = Progress("model cards", len(models))

    def fetch(model: dict[str, Any]) -> dict[str, Any] | None:
        try:
            text = hub.model_card(model["id"], model.get("sha"))
        except Exception as exc:  # a model without its card is still worth loading, and is retried by the next run
            errors.append(error_record(model["id"], exc) | {"what": "model card", "retry": True})
            return None
        if text is not None and "\ufffd" in text:
            undecodable.append({"id": model["id"], "what": "model card", "reason": "README is not valid UTF-8; undecodable bytes replaced"})
        return card_record(model["id"], model.get("sha"), text) if text is not None else None

    unread_metadata: list[dict[str, Any]] = []

    def kept(card: dict[str, Any], writer: JsonlWriter) -> None:
        writer.write(card)
        if card.get("metadata_error"):
            unread_metadata.append({"id": card["id"], "what": "card metadata",
                                    "reason": f"front matter not read: {card['metadata_error'][:300]}; the card's text is used"})

    with jsonl_writer(run.file(STAGE, "cards.jsonl")) as writer:
        for card in read_jsonl(scaffolding.raw_file(run, DUMP_CARDS)):
            if card["id"] in from_dump:
                kept(card, writer)
        with ThreadPoolExecutor(CARD_FETCH_THREADS) as pool:
            for index, card in enumerate(pool.map(fetch, models), start=1):
                if card:
                    kept(card, writer)
                if index % 200 == 0 or index == len(models):
                    progress.advance(index - progress.done)
    run.write_errors(STAGE, "model_cards", errors)
    run.write_warnings(STAGE, "model_cards", undecodable + unread_metadata)
    return writer.count


class _CardId(msgspec.Struct):
    id: str


def iter_raw_models_with_cards(run: RunFolder) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every extracted model with its card record (None when it has no card). The cards are found
    by their place in the file (read only for their ids first), never held all at once: a full-Hub
    run's cards are gigabytes."""
    path = run.file(STAGE, "cards.jsonl")
    offsets: dict[str, int] = {}
    if path.exists():
        with path.open("rb") as handle:
            position = 0
            for line in handle:
                if line.strip():
                    offsets[msgspec.json.decode(line, type=_CardId).id] = position
                position += len(line)
    with path.open("rb") if offsets else nullcontext() as cards:
        for model in read_jsonl(run.file(STAGE, "models.jsonl")):
            offset = offsets.get(model["id"])
            if offset is None:
                yield model, None
            else:
                cards.seek(offset)
                yield model, loads(cards.readline())


def iter_models_with_cards(run: RunFolder) -> Iterator[tuple[dict[str, Any], ParsedCard | None]]:
    for model, card in iter_raw_models_with_cards(run):
        yield model, card_from_record(card)


LOOKUP_THREADS = 8  # the Hub's lookups, at once: they wait on the network, not the CPU


# From how many datasets to look up one run reads the Hub's dataset listing instead (about 1,000 a
# request, some 500 requests for the whole Hub) rather than asking for each (a request each).
DATASET_LISTING_FROM = 1_000


def hub_lookups(run: RunFolder, name: str, kind: str, ttl: timedelta | None, fetch: Callable[[str], dict[str, Any]],
                room: Callable[[int], int | None] | None = None, listing: scaffolding.Listing | None = None) -> scaffolding.CachedLookups:
    """Cached lookups at the Hub, ``LOOKUP_THREADS`` at a time."""
    return scaffolding.CachedLookups(run, name, kind, ttl, fetch, is_not_found, threads=LOOKUP_THREADS, room=room, listing=listing)


def _listed_datasets(hub: HubClient, keys: list[str]) -> dict[str, dict[str, Any]]:
    return {key: {"found": True, **record} for key, record in hub.datasets_listed(keys).items()}


def _identify_tasks(keys: list[str]) -> dict[str, Any]:
    tasks = hf_tasks()
    return {
        k: {"name": tasks[k][0], "modality": tasks[k][1], "known": True} if k in tasks else {"name": k, "modality": None, "known": False}
        for k in keys
    }


def identify_entities(run_folder: str, kind: str, hub: HubClient | None = None, arxiv_client: arxiv.Client | None = None) -> int:
    """Find every ``kind`` entity the models mention and look up what is known about it."""
    run = RunFolder(Path(run_folder))
    keys = scaffolding.mentioned_keys(HUGGINGFACE, run, kind)
    identify: dict[str, Callable[[], dict[str, Any]]] = {
        # Enrichment that can wait: as many lookups as the API's budget has room for, the rest deferred.
        "datasets": lambda: hub_lookups(run, "datasets", "datasets", timedelta(days=7), lambda k: {"found": True, **hub.dataset(k)},
                                        room=hub.lookup_room, listing=scaffolding.Listing(lambda missing: _listed_datasets(hub, missing),
                                                                                          DATASET_LISTING_FROM, "dataset listing"),
                                        ).look_up([k for k in keys if not k.startswith(OPENML_DATASET_KEY)]),
        "organisations": lambda: hub_lookups(run, "accounts", "organisations", timedelta(days=30), lambda k: {"found": True, **hub.account(k)},
                                             room=lambda wanted: hub.lookup_room(wanted, hub.ACCOUNT_REQUESTS)).look_up(keys),
        "articles": lambda: scaffolding.identify_articles(run, keys, arxiv_client),
        "licenses": lambda: {k: identify_license(k) for k in keys},
        "languages": lambda: scaffolding.identify_languages(run, keys),
        "tasks": lambda: _identify_tasks(keys),
        "keywords": lambda: {k: {"name": k} for k in keys},
    }
    entities = identify[kind]()
    write_json(run.file(STAGE, "entities", f"{kind}.json"), entities)
    log.info("%s: %d mentioned, %d identified", kind, len(keys), len(entities))
    return len(entities)


def finish_extraction(run_folder: str, max_error_rate: float) -> dict[str, Any]:
    run = RunFolder(Path(run_folder))
    cards = sum(1 for _ in read_jsonl(run.file(STAGE, "cards.jsonl")))
    return scaffolding.finish_extraction(run_folder, max_error_rate, record_parts=("models_by_id", "models_latest", "models_dump"),
                                         counts={"cards": cards})


def identify_entities_with_connections(run_folder: str, kind: str) -> int:
    """``identify_entities`` with the clients the kind needs (the pool its manifest gives it names the
    API), from the Airflow connections."""
    from mlentory.enrichment.arxiv_papers import ArxivHook
    from mlentory.sources.huggingface.hook import HuggingFaceHubHook

    pool = HUGGINGFACE.entity_kind(kind).pool
    hub = HuggingFaceHubHook().get_conn() if pool == HF_POOL else None
    arxiv_client = ArxivHook().get_conn() if pool == ARXIV_POOL else None
    return identify_entities(run_folder, kind, hub=hub, arxiv_client=arxiv_client)
