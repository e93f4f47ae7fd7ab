"""Transformation stage, for every source: raw records -> validated FAIR4ML JSON-LD, in chunks.

What is the source's own (its property groups, linkers and IRIs) comes from its ``SourceMapping``.

1. ``plan_property_jobs``: split each run folder's models (with their cards) into
   ``chunks/<chunk>.jsonl``, so property extraction fans out over (run folder x chunk) mapped tasks
   that each read one file.
2. ``extract_properties``: every property group on one chunk, each record read and its arguments
   built (a card parsed) once -> ``partial/<group>/<chunk>.jsonl`` per group.
3. ``link_entities``: every mention -> IRIs, every linked entity -> a FAIR4ML record, in partitions
   of the mentions' keys, then the records merged in partitions of their IRIs (``entity_links``).
4. ``normalize_chunk``: merge the partials per model, resolve mentions, validate with pydantic,
   write ``models/<chunk>.jsonld``; a record that fails anywhere is listed in errors/, not written.
   ``normalize_models`` ends the stage.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mlentory.fair4ml.jsonld import write_jsonld
from mlentory.fair4ml.mentions import WARNINGS, is_mention, unique
from mlentory.fair4ml.models import MLModel
from mlentory.pipeline import entity_links
from mlentory.pipeline.extraction import RECORD_CHUNKS, record_chunk_file, record_chunks
from mlentory.pipeline.extraction import STAGE as EXTRACTION
from mlentory.pipeline.graph_nodes import write_node_lists
from mlentory.pipeline.quality import Progress, check_error_rate
from mlentory.pipeline.run_folder import RunFolder, dumps, jsonl_lines, read_json, read_jsonl, write_chunks, write_json, write_jsonl
from mlentory.pipeline.source import Source, SourceMapping
from mlentory.pipeline.state import RejectedRecords
from mlentory.placeholders import is_placeholder
from mlentory.settings import DEFAULT_CHUNK_SIZE, GRAPH_NODE_PARTITIONS, LINK_PARTITIONS, MAX_MAPPED_TASKS

log = logging.getLogger(__name__)

STAGE = "transformation"


def plan_property_jobs(source: Source, run_folders: list[str], chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[dict[str, Any]]:
    """One job per (run folder, chunk): the mapped property-extraction tasks, each running every
    group (a task per group re-read and re-parsed every record once per group). The chunks grow when
    the jobs would exceed what Airflow maps (``max_map_length``)."""
    jobs = [{"run_folder": run_folder, "chunk": chunk} for run_folder in run_folders for chunk in plan_chunks(source, run_folder, chunk_size)]
    if len(jobs) > MAX_MAPPED_TASKS:
        bigger = math.ceil(chunk_size * len(jobs) / MAX_MAPPED_TASKS)
        log.info("%d jobs exceed %d mapped tasks: chunks of %d models instead of %d", len(jobs), MAX_MAPPED_TASKS, bigger, chunk_size)
        return plan_property_jobs(source, run_folders, bigger)
    return jobs


def plan_chunks(source: Source, run_folder: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[int]:
    """Split the extracted records (as the source's ``records`` gives them, joined once by the
    extraction's ``plan_record_chunks`` where it ran) into chunk files, one per mapped task, so that
    each task reads only its own records. A plan starts the stage afresh: what an earlier
    transformation of the folder left (other chunks, partials, models, errors) is removed."""
    run = RunFolder(Path(run_folder))
    run.clear_stage(STAGE)
    extracted = None if source.mapping.records_read_entities else record_chunks(run)
    if extracted is not None and (linked := _link_record_chunks(run, extracted, chunk_size)) is not None:
        chunks, total = linked
    elif extracted is not None:  # the extraction's chunks of the joined records, re-chunked as they are (not decoded)
        lines: Iterator[bytes | str] = (line for chunk in range(extracted) for line in jsonl_lines(record_chunk_file(run, chunk)))
        chunks, total = write_chunks(lines, lambda chunk: chunk_file(run, chunk), chunk_size)
    else:
        chunks, total = write_chunks((dumps(record) for record in source.mapping.records(run)), lambda chunk: chunk_file(run, chunk), chunk_size)
    write_json(run.file(STAGE, "plan.json"), {"chunk_size": chunk_size, "chunks": chunks, "models": total})
    log.info("%d models in %d chunks of up to %d", total, chunks, chunk_size)
    return list(range(chunks))


def _link_record_chunks(run: RunFolder, extracted: int, chunk_size: int) -> tuple[int, int] | None:
    """The extraction's record chunks taken as they are when they have the size asked for (the
    default's, usually): each a hard link (a copy where the file system has none), not re-read line
    by line, which at a million models was a serial pass over gigabytes. None when the sizes differ.
    Neither stage ever rewrites a chunk file in place (a plan removes its folder first), so the two
    names never see each other's writes."""
    plan = read_json(run.file(EXTRACTION, RECORD_CHUNKS, "plan.json")) or {}
    if plan.get("chunk_size") != chunk_size or not isinstance(plan.get("records"), int):
        return None
    for chunk in range(extracted):
        source, target = record_chunk_file(run, chunk), chunk_file(run, chunk)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    return extracted, plan["records"]


def chunk_file(run: RunFolder, chunk: int) -> Path:
    return run.file(STAGE, "chunks", f"{chunk:05d}.jsonl")


def partial_file(run: RunFolder, group: str, chunk: int) -> Path:
    return run.file(STAGE, "partial", group, f"{chunk:05d}.jsonl")


def models_file(run: RunFolder, chunk: int) -> Path:
    return run.file(STAGE, "models", f"{chunk:05d}.jsonld")


def iter_chunk(mapping: SourceMapping, run: RunFolder, chunk: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(record id, the arguments of the property groups) for each record of the chunk."""
    for row in read_jsonl(chunk_file(run, chunk)):
        yield row["id"], mapping.record_arguments(row)


def chunk_revisions(run: RunFolder, chunk: int) -> dict[str, str | None]:
    """Record id -> its revision at the source, for the records of the chunk."""
    return {row["id"]: row.get("revision") for row in read_jsonl(chunk_file(run, chunk))}


def extract_properties(source: Source, run_folder: str, chunk: int) -> int:
    """Every property group on one chunk: each record is read and its arguments built once for all
    groups. Returns the records read."""
    run = RunFolder(Path(run_folder))
    extractors = source.mapping.property_groups
    rows: dict[str, list[dict[str, Any]]] = {group: [] for group in extractors}
    errors: dict[str, list[dict[str, Any]]] = {group: [] for group in extractors}
    warnings: dict[str, list[dict[str, Any]]] = {group: [] for group in extractors}
    mentions = entity_links.ChunkMentions()  # for the linking tasks: they need not read every partial
    records = 0
    for record_id, arguments in iter_chunk(source.mapping, run, chunk):
        records += 1
        for group, extract in extractors.items():
            try:
                properties = extract(*arguments)
            except Exception as exc:  # one bad record must not stop the others
                errors[group].append({"id": record_id, "reason": f"{group}: {type(exc).__name__}: {exc}"})
                continue
            warnings[group] += [{"id": record_id, **note} for note in properties.pop(WARNINGS, [])]
            rows[group].append({"id": record_id, "properties": properties})
            mentions.add(properties)
    mentions.write(run, chunk)
    for group in extractors:
        run.write_errors(STAGE, f"{group}_{chunk:05d}", errors[group])
        run.write_warnings(STAGE, f"{group}_{chunk:05d}", warnings[group])
        write_jsonl(partial_file(run, group, chunk), rows[group])
    log.info("chunk %d: %d records through %d groups, %d errors", chunk, records, len(extractors), sum(map(len, errors.values())))
    return records


def link_entities(source: Source, run_folder: str, partitions: list[int] | None = None) -> dict[str, int]:
    """Resolve the mentions of the partial records in ``partitions`` of their keys: the mention -> IRIs
    tables and the entity records (``entity_links``). With ``partitions`` None, every partition in
    turn, then the records merged: the whole step in one call."""
    if partitions is not None:
        return entity_links.link_partitions(source, run_folder, partitions)
    entity_links.link_partitions(source, run_folder, list(range(LINK_PARTITIONS)))
    return entity_links.merge_entities(run_folder, list(range(GRAPH_NODE_PARTITIONS)))


def _resolved(value: Any, links: dict[str, dict[str, list[str]]]) -> Any:
    """A partial value with its mentions replaced by IRIs, embedded records included; empty values
    and placeholders dropped."""
    if isinstance(value, dict):
        resolved = {term: _resolved(item, links) for term, item in value.items()}
        return {term: item for term, item in resolved.items() if item not in (None, [], "")}
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            if is_mention(item):
                items += links.get(item["kind"], {}).get(item["key"], [])
            elif (resolved_item := _resolved(item, links)) is not None:
                items.append(resolved_item)
        return unique(items)
    if isinstance(value, str) and is_placeholder(value):
        return None  # "None", "N/A", "-", "TBD": a placeholder of any source is no value of any field
    return value


def normalize_record(model_iri: str, partials: list[dict[str, Any]], links: dict[str, dict[str, list[str]]],
                     provenance: dict[str, Any] | None = None) -> MLModel:
    """The partials merged, mentions resolved, validated. ``provenance`` (``identifier``, ``source``,
    ``sourceSha``) is set by the stage, not by a property group: the incremental state is keyed by
    the source record's id and compares its revision, one meaning from the raw record to the graph."""
    merged: dict[str, Any] = {}
    for partial in partials:
        merged.update(_resolved(partial, links))
    return MLModel.model_validate({"@id": model_iri, **merged, **(provenance or {})})


def normalized_chunk_file(run: RunFolder, chunk: int) -> Path:
    """What ``normalize_chunk`` did with a chunk: the revisions of the models it could not normalize."""
    return run.file(STAGE, "normalized", f"{chunk:05d}.json")


def _failed_in_property_groups(run: RunFolder) -> tuple[list[dict[str, Any]], set[str]]:
    """Errors of the property groups and linking (not of a normalization), and the records they name."""
    earlier = [e for e in run.errors(STAGE) if not e["part"].startswith("normalization")]
    return earlier, {e["id"] for e in earlier if "id" in e}


def _failed_in_chunk(source: Source, run: RunFolder, chunk: int) -> set[str]:
    """The records of one chunk that failed a property group (its own error files only: a mapped
    task does not read every other chunk's)."""
    return {e["id"] for group in source.mapping.property_groups
            for e in read_jsonl(run.error_file(STAGE, f"{group}_{chunk:05d}")) if "id" in e}


def normalize_chunk(source: Source, run_folder: str, chunk: int) -> int:
    """One chunk's partials merged per model, mentions resolved, validated as FAIR4ML: the chunk's
    models file. A mapped task each (N workers divide the stage's time); ``normalize_models`` ends the
    stage. Returns the models written."""
    run = RunFolder(Path(run_folder))
    links = entity_links.chunk_links(run, chunk)
    failed = _failed_in_chunk(source, run, chunk)
    partials: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for group in source.mapping.property_groups:
        for row in read_jsonl(partial_file(run, group, chunk)):
            partials[row["id"]].append(row["properties"])
    records, errors, revisions_of_failed = [], [], {}
    revisions = chunk_revisions(run, chunk)
    for model_id in sorted(revisions):
        if model_id in failed:
            revisions_of_failed[model_id] = revisions[model_id]
            continue
        provenance = {"identifier": model_id, "source": source.name, "sourceSha": revisions[model_id]}
        try:
            records.append(normalize_record(source.mapping.model_iri(model_id), partials[model_id], links, provenance).to_jsonld())
        except ValidationError as exc:
            errors.append({"id": model_id, "reason": f"FAIR4ML validation: {exc.error_count()} errors: {json.dumps(exc.errors(include_url=False), default=str)[:800]}"})
            revisions_of_failed[model_id] = revisions[model_id]
    written = write_jsonld(models_file(run, chunk), records)
    write_node_lists(run, chunk, records)  # for the loading's node tasks: they need not read every record
    run.write_errors(STAGE, f"normalization_{chunk:05d}", errors)
    write_json(normalized_chunk_file(run, chunk), {"models": written, "failed_revisions": revisions_of_failed})
    return written


def normalize_models(source: Source, run_folder: str, max_error_rate: float) -> dict[str, Any]:
    """The stage's end: every chunk normalized (those no mapped task did are done here, in turn),
    the records that failed remembered, the error budget checked, the stage marked done."""
    run = RunFolder(Path(run_folder))
    plan = read_json(run.file(STAGE, "plan.json"))
    progress = Progress("normalized models", plan["models"])
    written, revisions_of_failed = 0, {}
    for chunk in range(plan["chunks"]):
        done = read_json(normalized_chunk_file(run, chunk))
        if done is None:
            normalize_chunk(source, run_folder, chunk)
            done = read_json(normalized_chunk_file(run, chunk))
        written += done["models"]
        revisions_of_failed.update(done["failed_revisions"])
        progress.advance(done["models"])
    earlier, failed = _failed_in_property_groups(run)
    errors = [e for e in run.errors(STAGE) if e["part"].startswith("normalization")]
    failed_models = failed | {e["id"] for e in errors}
    # A record the mapping cannot turn into FAIR4ML fails the same way until it changes: later runs
    # do not take it again (``merge_harvests``), so it does not count against their budgets.
    reasons = {e["id"]: e["reason"] for e in [*earlier, *errors] if "id" in e}
    RejectedRecords(run).add(STAGE, {model_id: (revision, reasons.get(model_id, "")) for model_id, revision in revisions_of_failed.items()})
    check_error_rate(STAGE, len(failed_models), plan["models"], max_error_rate)
    summary = {"run_folder": run_folder, "models": written, "chunks": plan["chunks"], "errors": len(earlier) + len(errors),
               "max_error_rate": max_error_rate,
               "entities": entity_links.entity_counts(run)}
    run.mark_done(STAGE, summary)
    return summary
