"""Extraction scaffolding every source shares: the run folder, merging the harvests (duplicates
dropped, unchanged records skipped), cross-run cached lookups, and the stage's end (error budget,
summary). What is harvested, and how, is the source's own.

Files, under ``<run folder>/extraction/``: ``raw/<harvest>.jsonl`` (one per harvest task),
``models.jsonl`` (the records to transform), ``skipped_unchanged.jsonl``, ``entities/<kind>.json``.
"""

from __future__ import annotations

import logging
import math
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from mlentory.enrichment.languages import identify_language
from mlentory.fair4ml.mentions import mention_partition, mentions_in
from mlentory.http_retry import is_transient
from mlentory.pipeline.partitions import task_partitions
from mlentory.pipeline.quality import check_error_rate
from mlentory.pipeline.run_folder import (
    RunFolder,
    count_jsonl,
    dumps,
    jsonl_lines,
    jsonl_writer,
    loads,
    read_fields,
    read_json,
    read_jsonl,
    write_chunks,
    write_json,
)
from mlentory.pipeline.source import Source
from mlentory.pipeline.state import UNREADABLE, UNREADABLE_TTL, ApiCache, DeferredLookups, LoadedRevisions, RejectedRecords
from mlentory.settings import DEFAULT_CHUNK_SIZE, LINK_PARTITIONS, MAX_MAPPED_TASKS

if TYPE_CHECKING:
    import arxiv

log = logging.getLogger(__name__)

# A lookup a listing answered by not holding the entity: ``{"found": False, NOT_LISTED: "dataset listing"}``.
NOT_LISTED = "not_listed_in"

STAGE = "extraction"
MODELS_FILE = "models.jsonl"


def failure(exc: BaseException) -> str:
    """The reason an error row gives for an exception: its kind and first line."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:500]


def error_record(record_id: str, exc: BaseException) -> dict[str, Any]:
    """An error or warning about the source record ``record_id``.

    Error and warning rows name their subject with one of: ``id`` (a source record's id, as in the
    raw records), ``kind`` + ``key`` (an entity a record mentions), ``iri`` (a node of the graph or a
    document of the index) or ``input`` (a position in an input, e.g. "model_ids_file line 3")."""
    return {"id": record_id, "reason": failure(exc)}


def create_run_folder(data_root: str, source_key: str) -> str:
    run = RunFolder.create(data_root, source_key)
    log.info("run folder %s", run.path)
    return str(run.path)


STATISTICS = "statistics"
SKIPPED_FILE = "skipped_unchanged.jsonl"
WITHDRAWN_FILE = "withdrawn.jsonl"  # {"id", "withdrawn" (when found gone), "reason"}: models gone from the source


def raw_file(run: RunFolder, harvest: str) -> Path:
    return run.file(STAGE, "raw", f"{harvest}.jsonl")


def raw_part_file(run: RunFolder, harvest: str, part: int) -> Path:
    """One part of a harvest written by several tasks (the Hub's listing, parsed in parallel)."""
    return run.file(STAGE, "raw", harvest, f"{part:06d}.jsonl")


def raw_records(run: RunFolder, harvest: str) -> Iterator[dict[str, Any]]:
    """A harvest's records: its parts in order where tasks wrote it in parts, else its one file."""
    for line in raw_lines(run, harvest):
        yield loads(line)


def raw_lines(run: RunFolder, harvest: str) -> Iterator[bytes]:
    """``raw_records``, not decoded."""
    folder = run.file(STAGE, "raw", harvest)
    parts = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    for path in parts or [raw_file(run, harvest)]:
        yield from jsonl_lines(path)


def _merged_rows(run: RunFolder, harvest: str, fields: type[msgspec.Struct] | None) -> Iterator[tuple[dict[str, Any], bytes | None]]:
    """A harvest's records for the merge: with ``fields``, only those decoded, and each record's line
    as it is (written out unchanged); else the whole records (and no line)."""
    if fields is None:
        for record in raw_records(run, harvest):
            yield record, None
        return
    decoder = msgspec.json.Decoder(fields)
    for line in raw_lines(run, harvest):
        found = read_fields(line, decoder)
        yield (found, line) if found is not None else (loads(line), None)  # a line msgspec cannot read: decoded and written whole


def merge_harvests(run_folder: str, harvests: Iterable[str], revision: Callable[[dict[str, Any]], str | None],
                   full_refresh: bool, same_revision: Callable[[dict[str, Any]], str | None] | None = None,
                   statistics: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                   fields: type[msgspec.Struct] | None = None) -> dict[str, int]:
    """Merge the harvests (the first one's copy of a record wins), drop duplicates, and skip records
    whose ``revision`` is the one last loaded, or whose ``same_revision`` (another way the source
    names the same revision) is (unless ``full_refresh``). A record listed twice by one harvest (a
    listing that changed between pages) is kept once, with a warning. A skipped record keeps its
    ``statistics`` (JSON-LD terms: downloads, likes), which change without a new revision: the
    loading stage updates them in place (``loading.refresh_statistics``). ``fields``: a struct of
    ``id`` and every field those three read; only these are then decoded, and a record is written
    out as its line is (a million-model run's merge decoded and encoded every whole record)."""
    run = RunFolder(Path(run_folder))
    # One pass, streamed: a record is written out when first seen, so only ids are held (a full-Hub
    # run has millions of records; holding them all cost gigabytes).
    loaded = {} if full_refresh else LoadedRevisions(run).load()
    rejected = {} if full_refresh else RejectedRecords(run).load()
    seen: set[str] = set()
    repeated: dict[str, int] = {}
    warnings: list[dict[str, Any]] = []
    with jsonl_writer(run.file(STAGE, MODELS_FILE)) as fresh, jsonl_writer(run.file(STAGE, SKIPPED_FILE)) as skipped:
        for harvest in harvests:
            seen_in_harvest: set[str] = set()
            for record, line in _merged_rows(run, harvest, fields):
                record_id = record["id"]
                if record_id in seen_in_harvest:
                    repeated[record_id] = repeated.get(record_id, 1) + 1
                seen_in_harvest.add(record_id)
                if record_id in seen:
                    continue
                seen.add(record_id)
                current, last = revision(record), loaded.get(record_id)
                if last and (last == current or (same_revision and last == same_revision(record))):
                    skipped.write({"id": record_id, "revision": current, **({STATISTICS: statistics(record)} if statistics else {})})
                elif entry := RejectedRecords.unchanged(rejected, record_id, current):
                    warnings.append(RejectedRecords.warning(record_id, entry, "record"))  # a later stage rejected it
                elif line is not None:
                    fresh.write_line(line)
                else:
                    fresh.write(record)
    run.write_warnings(STAGE, "merge", [*warnings, *(
        {"id": record_id, "what": "listing", "reason": f"listed {times} times (the listing changed between pages); kept once"}
        for record_id, times in repeated.items())])
    log.info("%d distinct records, %d unchanged since the last load skipped, %d rejected earlier and unchanged, %d to process",
             len(seen), skipped.count, len(warnings), fresh.count)
    return {"models": fresh.count, "skipped_unchanged": skipped.count, "rejected_unchanged": len(warnings)}


def rejected_once(run: RunFolder, rows: list[dict[str, Any]], stage: str = STAGE) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split a harvest's rejected entries into this run's errors and warnings: an entry an earlier run
    rejected, unchanged since (the same ``_key`` and ``_revision``), is a warning and does not count
    against the error budget again. This run's rejections are remembered (``RejectedRecords``). Rows
    without ``_revision`` (a transient failure) are errors and are not remembered."""
    remembered = RejectedRecords(run)
    earlier = remembered.load()
    errors, warnings, new = [], [], {}
    for row in rows:
        key, revision = row.get("_key"), row.get("_revision")
        shown = {name: value for name, value in row.items() if not name.startswith("_")}
        if key is not None and (entry := RejectedRecords.unchanged(earlier, key, revision)):
            warnings.append({**shown, **RejectedRecords.warning(key, entry, shown.get("what", "record")), "id": shown.get("id", key)})
            continue
        errors.append(shown)
        if key is not None and revision is not None:
            new[key] = (revision, shown.get("reason", ""))
    remembered.add(stage, new)
    return errors, warnings



@dataclass(frozen=True)
class Listing:
    """A paged listing of the source that answers many lookups at once, found or not (e.g. the Hub's
    dataset listing): cheaper than one request each from ``from_keys`` lookups on, and never
    deferred (its pages wait for the budget)."""

    answer: Callable[[list[str]], dict[str, dict[str, Any]]]  # keys -> the entities it holds, by key
    from_keys: int
    name: str = "listing"


@dataclass(frozen=True)
class CachedLookups:
    """Lookups of one kind of entity at a source, answered from a cache kept across runs (``name``,
    entries expire after ``ttl``; None: never); not-found answers are cached too.

    - Every lookup that did not find the entity is a warning of this run (the mention links to a stub).
    - A transient failure (network, 429 or 5xx after retries, ``is_transient``) is not cached: the
      next run asks again. Any other failure (a refusal, a document that cannot be read) would fail
      the same way every time: cached for ``UNREADABLE_TTL`` instead of costing a request every run.
    - ``room(n)``: how many of ``n`` lookups the API's budget lets go now, reserving their requests
      (None: no limit). The lookups beyond it are deferred (``DeferredLookups``): linked as named
      stubs in this run, looked up first by later runs and then completed, also where no model of
      that run mentions them.
    - ``listing``: answers them all in one paged listing when there are enough to look up.
    """

    run: RunFolder
    name: str
    kind: str  # the mention kind the warnings name
    ttl: timedelta | None
    fetch: Callable[[str], dict[str, Any]]
    is_not_found: Callable[[BaseException], bool]
    is_transient: Callable[[BaseException], bool] = is_transient
    threads: int = 1
    room: Callable[[int], int | None] | None = None
    listing: Listing | None = None
    partitions: tuple[int, ...] | None = None  # a partitioned kind's task: the keys of these (the queue's too)

    def look_up(self, keys: list[str]) -> dict[str, Any]:
        """Every key's answer (the deferred ones and transient failures left out), with this run's warnings written."""
        cache = ApiCache(self.run, self.name, self.ttl)
        queue = DeferredLookups(self.run, self.name) if self.room is not None else None
        queued = queue.keys() if queue is not None else []
        if self.partitions is not None:
            queued = [key for key in queued if in_partitions(self.kind, key, self.partitions)]
        mentioned = set(keys)
        keys = [*(key for key in queued if key not in mentioned), *keys]  # what waited longest first
        cached = {key: value for key in keys if (value := cache.get(key)) is not None}
        answers, deferred = self._ask([key for key in keys if key not in cached])
        found: dict[str, Any] = {}
        warnings: list[dict[str, Any]] = [self._warning(key, "deferred: the API's request budget of this window is spent; linked as a "
                                                             "named stub, completed by a later run", deferred=True)
                                          for key in deferred if key in mentioned]
        waiting = set(deferred)
        for key in keys:
            if key in waiting:
                continue
            value = cached.get(key)
            if value is None:
                answer, exc = answers[key]
                value = answer if exc is None else self._failed(exc)
                if value is None:  # transient: the models that mention it are retried by the next run
                    warnings.append(self._warning(key, failure(exc) if exc else "no answer", retry=True))
                    continue
                cache.put(key, value)
            if value.get("found") is False:
                warnings.append(self._warning(key, self._not_found_reason(value, key in cached)))
            found[key] = value
        cache.save()
        if queue is not None:
            queue.update(deferred, [key for key in queued if key in found])
            if deferred:
                log.info("%s: %d lookups deferred to later runs (the API budget of this window is spent)", self.name, len(deferred))
        self.run.write_warnings(STAGE, f"entities_{self.name}" + partitions_part(self.partitions), warnings)
        return found

    def _ask(self, missing: list[str]) -> tuple[dict[str, tuple[dict[str, Any] | None, Exception | None]], list[str]]:
        """The source's answers to the keys not cached (an answer or the exception), and the keys deferred."""
        if self.listing is not None and len(missing) >= self.listing.from_keys:
            listed = self.listing.answer(missing)
            log.info("%s: %d of %d lookups answered by the %s", self.name, len(listed), len(missing), self.listing.name)
            return {key: (listed.get(key, {"found": False, NOT_LISTED: self.listing.name}), None) for key in missing}, []
        limit = self.room(len(missing)) if self.room is not None and missing else None
        deferred = missing[limit:] if limit is not None else []
        asked = missing[:limit] if limit is not None else missing

        def attempt(key: str) -> tuple[dict[str, Any] | None, Exception | None]:
            try:
                return self.fetch(key), None
            except Exception as exc:
                return None, exc

        with ThreadPoolExecutor(max(1, self.threads)) as pool:
            return dict(zip(asked, pool.map(attempt, asked), strict=True)), deferred

    def _failed(self, exc: Exception) -> dict[str, Any] | None:
        """What a failed lookup caches: not found, or unreadable; None for a transient failure (not cached)."""
        if self.is_not_found(exc):
            return {"found": False}
        if self.is_transient(exc):
            return None
        return {"found": False, UNREADABLE: failure(exc)}

    @staticmethod
    def _not_found_reason(value: dict[str, Any], from_cache: bool) -> str:
        reason = (f"unreadable at the source: {value[UNREADABLE]}; asked again after {UNREADABLE_TTL.days} days" if value.get(UNREADABLE)
                  else f"not found at the source (not in its {value[NOT_LISTED]})" if value.get(NOT_LISTED)
                  else "not found at the source" + ("" if from_cache else " (404)"))
        return reason + (" (answer cached by an earlier run)" if from_cache else "")

    def _warning(self, key: str, reason: str, **flags: bool) -> dict[str, Any]:
        return {"kind": self.kind, "key": key, "what": f"{self.name} lookup", **flags, "reason": reason}


def identify_articles(run: RunFolder, keys: list[str], arxiv_client: arxiv.Client) -> dict[str, Any]:
    """The papers that records name, for every source: arXiv ids are looked up in batches (DOIs are
    named only: no registry is queried). Papers never change once published: cached without
    expiry. A paper arXiv does not return, or cannot be asked for (an outage), is a warning and
    links as a stub; the models still load."""
    from mlentory.enrichment.arxiv_papers import fetch_articles

    cache = ApiCache(run, "articles", ttl=None)
    arxiv_ids = [k for k in keys if not k.startswith("doi:")]  # DOIs: no registry is queried
    missing = [k for k in arxiv_ids if cache.get(k) is None]
    warnings: list[dict[str, Any]] = []
    if missing:
        try:
            for key, article in fetch_articles(arxiv_client, missing).items():
                cache.put(key, {"found": True, **article})
        except Exception as exc:
            warnings = [{"kind": "articles", "key": key, "what": "arXiv lookup", "reason": failure(exc), "retry": True} for key in missing]
        cache.save()
    failed = {w["key"] for w in warnings}
    warnings += [{"kind": "articles", "key": k, "what": "arXiv lookup", "reason": "arXiv returned no paper with this id"}
                 for k in arxiv_ids if cache.get(k) is None and k not in failed]
    run.write_warnings(STAGE, "entities_articles", warnings)
    return {k: cache.get(k) or {"found": False} for k in keys}


RECORD_CHUNKS = "chunks"  # extraction/chunks/<chunk>.jsonl: the records as the mapping gives them, read by chunk
MENTIONS = "mentions"  # extraction/mentions/<chunk>.json: the entities each chunk's records mention, per kind


def record_chunk_file(run: RunFolder, chunk: int) -> Path:
    return run.file(STAGE, RECORD_CHUNKS, f"{chunk:05d}.jsonl")


def plan_record_chunks(source: Source, run_folder: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[dict[str, Any]]:
    """The extracted records, as the source's mapping gives them (a Hub model joined with its card
    record), written once into chunk files: the mentions (``collect_chunk_mentions``, a mapped task
    per chunk) and the transformation's chunks read them instead of joining them again. The chunks
    grow when there would be more than Airflow maps."""
    run = RunFolder(Path(run_folder))
    for folder in (RECORD_CHUNKS, MENTIONS):
        shutil.rmtree(run.file(STAGE, folder), ignore_errors=True)
    estimate = _lines(run.file(STAGE, MODELS_FILE))
    chunk_size = max(chunk_size, math.ceil(estimate / MAX_MAPPED_TASKS))
    mapping = source.mapping
    lines = mapping.record_lines(run) if mapping.record_lines is not None else (dumps(record) for record in mapping.records(run))
    chunks, total = write_chunks(lines, lambda chunk: record_chunk_file(run, chunk), chunk_size)
    write_json(run.file(STAGE, RECORD_CHUNKS, "plan.json"), {"chunk_size": chunk_size, "chunks": chunks, "records": total})
    log.info("%d records in %d chunks of up to %d", total, chunks, chunk_size)
    return [{"run_folder": run_folder, "chunk": chunk} for chunk in range(chunks)]


def _lines(path: Path) -> int:
    """How many lines a file has (counted in its bytes, not decoded)."""
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(partial(handle.read, 1 << 20), b""))


def record_chunks(run: RunFolder) -> int | None:
    """How many record chunks ``plan_record_chunks`` wrote (None: it did not run)."""
    plan = read_json(run.file(STAGE, RECORD_CHUNKS, "plan.json"))
    return plan["chunks"] if plan else None


def collect_chunk_mentions(source: Source, run_folder: str, chunk: int) -> dict[str, int]:
    """Every entity one chunk's records mention, per kind (each group that mentions anything run
    once on each record), for the identification tasks (``mentioned_keys``). Where an entity comes
    from is answered by the mapping alone."""
    run = RunFolder(Path(run_folder))
    keys = _mentions(source, read_jsonl(record_chunk_file(run, chunk)), tuple(source.mapping.groups_mentioning))
    write_json(run.file(STAGE, MENTIONS, f"{chunk:05d}.json"), keys)
    return {kind: len(found) for kind, found in keys.items()}


def _mentions(source: Source, rows: Iterable[dict[str, Any]], kinds: tuple[str, ...]) -> dict[str, list[str]]:
    mapping = source.mapping
    wanted = {kind: mapping.groups_mentioning.get(kind, ()) for kind in kinds}
    groups = sorted({group for kind_groups in wanted.values() for group in kind_groups})
    keys: dict[str, dict[str, None]] = {kind: {} for kind in kinds}
    for row in rows if groups else ():
        arguments = mapping.record_arguments(row)
        for group in groups:
            try:
                partial_record = mapping.property_groups[group](*arguments)
            except Exception:  # reported by the transformation stage, which owns the record
                continue
            for kind, kind_groups in wanted.items():
                if group in kind_groups:
                    keys[kind].update(dict.fromkeys(m["key"] for m in mentions_in(partial_record, kind)))
    return {kind: list(found) for kind, found in keys.items()}


def mentioned_keys(source: Source, run: RunFolder, kind: str, partitions: Iterable[int] | None = None) -> list[str]:
    """Every ``kind`` entity the extracted records mention (of ``partitions`` only, if given: a
    partitioned kind's task), in the order first mentioned: from the chunks' mentions (a chunk no
    task did is done now), else found now over all records."""
    wanted = None if partitions is None else tuple(partitions)
    chunks = record_chunks(run)
    if chunks is None:
        found_now = _mentions(source, source.mapping.records(run), (kind,))[kind]
        return found_now if wanted is None else [key for key in found_now if in_partitions(kind, key, wanted)]
    keys: dict[str, None] = {}
    for chunk in range(chunks):
        path = run.file(STAGE, MENTIONS, f"{chunk:05d}.json")
        if not path.exists():
            collect_chunk_mentions(source, str(run.path), chunk)
        # Only this kind's list is decoded (a partitioned kind's tasks each read every chunk's file).
        raw = _KIND_LISTS.decode(path.read_bytes()).get(kind)
        chunk_keys = _KEYS.decode(raw) if raw is not None else []
        keys.update(dict.fromkeys(chunk_keys if wanted is None else (key for key in chunk_keys if in_partitions(kind, key, wanted))))
    return list(keys)


_KIND_LISTS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_KEYS = msgspec.json.Decoder(list[str])


def in_partitions(kind: str, key: str, partitions: tuple[int, ...]) -> bool:
    return mention_partition(kind, key) in partitions


def partitions_part(partitions: Iterable[int] | None) -> str:
    """The suffix of a partitioned task's error and warning parts (each task writes its own)."""
    return "" if partitions is None else "_p" + "-".join(f"{p:02d}" for p in partitions)


def plan_lookup_tasks(run_folder: str) -> list[dict[str, Any]]:
    """The tasks of a partitioned kind's lookups: (run folder, its partitions of the mentions' keys),
    one per ``MODELS_PER_PARTITION_TASK`` of the run's records, as the linking's."""
    run = RunFolder(Path(run_folder))
    records = (read_json(run.file(STAGE, RECORD_CHUNKS, "plan.json")) or {}).get("records") or _lines(run.file(STAGE, MODELS_FILE))
    return [{"run_folder": run_folder, "partitions": partitions} for partitions in task_partitions(records, LINK_PARTITIONS)]


def write_identified(run: RunFolder, kind: str, found: dict[str, Any], partitions: Iterable[int] | None = None) -> None:
    """What a kind's identification found: ``entities/<kind>.json``, or for a partitioned kind's
    task a file per partition it did (``entities/<kind>/<partition>.json``, each written, though
    empty: the linking reads the partitions of its own)."""
    if partitions is None:
        write_json(run.file(STAGE, "entities", f"{kind}.json"), found)
        return
    by_partition: dict[int, dict[str, Any]] = {partition: {} for partition in partitions}
    for key, value in found.items():
        by_partition.setdefault(mention_partition(kind, key), {})[key] = value
    for partition, entries in by_partition.items():
        write_json(identified_file(run, kind, partition), entries)


def identified_file(run: RunFolder, kind: str, partition: int) -> Path:
    return run.file(STAGE, "entities", kind, f"{partition:02d}.json")


def read_identified(run: RunFolder, kind: str, partitions: Iterable[int] | None = None) -> dict[str, Any]:
    """What the identification of ``kind`` found (``write_identified``), of ``partitions`` only if given."""
    wanted = range(LINK_PARTITIONS) if partitions is None else partitions
    if run.file(STAGE, "entities", kind).is_dir():  # a partitioned kind's: the partitions' own files
        return {key: info for partition in wanted for key, info in read_json(identified_file(run, kind, partition), {}).items()}
    found: dict[str, Any] = read_json(run.file(STAGE, "entities", f"{kind}.json"), {})
    if partitions is None:
        return found
    kept = set(wanted)
    return {key: info for key, info in found.items() if mention_partition(kind, key) in kept}


def identify_languages(run: RunFolder, keys: list[str]) -> dict[str, Any]:
    """Language names or codes -> ISO 639; a value that names no language is dropped, and said so.
    Answers are kept across runs: naming a language loads langcodes' name tables (~330 MB), which
    a run then needs only for a value no earlier run has seen."""
    cache = ApiCache(run, "languages", ttl=None)
    found = {}
    for key in keys:
        if (answer := cache.get(key)) is None:
            answer = identify_language(key)
            cache.put(key, answer)
        found[key] = answer
    cache.save()
    run.write_warnings(STAGE, "entities_languages", [
        {"kind": "languages", "key": k, "what": "language", "reason": f"{v['reason']}; not recorded as a language"}
        for k, v in found.items() if not v["found"]])
    return found


def finish_extraction(run_folder: str, max_error_rate: float, record_parts: tuple[str, ...],
                      counts: dict[str, int] | None = None) -> dict[str, Any]:
    """The error budget over the records the harvests could not read (errors of ``record_parts``),
    then the summary that the asset event carries; marks the stage finished."""
    run = RunFolder(Path(run_folder))
    models = count_jsonl(run.file(STAGE, MODELS_FILE))
    errors, warnings = run.errors(STAGE), run.warnings()
    record_errors = [e for e in errors if e["part"] in record_parts]
    check_error_rate(STAGE, len(record_errors), models + len(record_errors), max_error_rate)
    summary = {
        "run_folder": run_folder,
        "models": models,
        "max_error_rate": max_error_rate,  # the cascade's budget: the transformation and loading it triggers apply it too
        **(counts or {}),
        "skipped_unchanged": count_jsonl(run.file(STAGE, SKIPPED_FILE)),
        "errors": len(errors),
        "warnings": len(warnings),
        "deferred_lookups": sum(1 for w in warnings if w.get("deferred")),
    }
    run.mark_done(STAGE, summary)
    return summary
