"""Transformation stage: raw Hub records -> validated FAIR4ML JSON-LD, in chunks.

1. ``plan_property_jobs``: split each run folder's models (with their cards) into
   ``chunks/<chunk>.jsonl``, so property extraction fans out over (run folder x property group x
   chunk) mapped tasks that each read one file.
2. ``extract_property_group``: one group on one chunk -> ``partial/<group>/<chunk>.jsonl``.
3. ``link_entities``: every mention -> IRIs, every linked entity -> a FAIR4ML record.
4. ``normalize_models``: merge the partials per model, resolve mentions, validate with pydantic,
   write ``models/<chunk>.jsonld``; a record that fails anywhere is listed in errors/, not written.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mlentory.fair4ml.iris import hf_model_iri
from mlentory.fair4ml.jsonld import read_jsonld, write_jsonld
from mlentory.fair4ml.models import ENTITY_MODELS, STUB_KINDS, MLModel
from mlentory.pipeline.quality import Progress, check_error_rate
from mlentory.pipeline.run_folder import RunFolder, read_json, read_jsonl, write_json, write_jsonl
from mlentory.settings import DEFAULT_CHUNK_SIZE, MAX_MAPPED_TASKS
from mlentory.sources.huggingface.cards import ParsedCard, card_from_record
from mlentory.sources.huggingface.extraction import STAGE as EXTRACTION
from mlentory.sources.huggingface.extraction import iter_raw_models_with_cards
from mlentory.sources.huggingface.linking import link
from mlentory.sources.huggingface.properties import PROPERTY_GROUPS, WARNINGS, is_mention, iter_mentions, unique

log = logging.getLogger(__name__)

STAGE = "transformation"
GROUP_NAMES = list(PROPERTY_GROUPS)
LINKED_KINDS = (*ENTITY_MODELS, *STUB_KINDS)


def plan_property_jobs(run_folders: list[str], chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[dict[str, Any]]:
    """One job per (run folder, property group, chunk): the mapped property-extraction tasks. The
    chunks grow when the jobs would exceed what Airflow maps (``max_map_length``)."""
    jobs = [{"run_folder": run_folder, "group": group, "chunk": chunk}
            for run_folder in run_folders for chunk in plan_chunks(run_folder, chunk_size) for group in GROUP_NAMES]
    if len(jobs) > MAX_MAPPED_TASKS:
        bigger = math.ceil(chunk_size * len(jobs) / MAX_MAPPED_TASKS)
        log.info("%d jobs exceed %d mapped tasks: chunks of %d models instead of %d", len(jobs), MAX_MAPPED_TASKS, bigger, chunk_size)
        return plan_property_jobs(run_folders, bigger)
    return jobs


def plan_chunks(run_folder: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[int]:
    """Split the extracted models (with their cards) into chunk files, one per mapped task, so that
    each task reads only its own records. A plan starts the stage afresh: what an earlier
    transformation of the folder left (other chunks, partials, models, errors) is removed."""
    run = RunFolder(Path(run_folder))
    run.clear_stage(STAGE)
    models = iter_raw_models_with_cards(run)
    chunks, total = 0, 0
    while True:
        batch = [{"model": model, "card": card} for model, card in itertools.islice(models, chunk_size)]
        if not batch and chunks:
            break
        write_jsonl(run.file(STAGE, "chunks", f"{chunks:05d}.jsonl"), batch)
        chunks, total = chunks + 1, total + len(batch)
        if len(batch) < chunk_size:
            break
    write_json(run.file(STAGE, "plan.json"), {"chunk_size": chunk_size, "chunks": chunks, "models": total})
    log.info("%d models in %d chunks of up to %d", total, chunks, chunk_size)
    return list(range(chunks))


def iter_chunk(run: RunFolder, chunk: int) -> Iterator[tuple[dict[str, Any], ParsedCard | None]]:
    for row in read_jsonl(run.file(STAGE, "chunks", f"{chunk:05d}.jsonl")):
        yield row["model"], card_from_record(row["card"])


def chunk_ids(run: RunFolder, chunk: int) -> list[str]:
    return [row["model"]["id"] for row in read_jsonl(run.file(STAGE, "chunks", f"{chunk:05d}.jsonl"))]


def extract_property_group(run_folder: str, group: str, chunk: int) -> int:
    run = RunFolder(Path(run_folder))
    extract = PROPERTY_GROUPS[group]
    rows, errors, warnings = [], [], []
    for model, card in iter_chunk(run, chunk):
        try:
            properties = extract(model, card)
        except Exception as exc:  # one bad record must not stop the others
            errors.append({"id": model["id"], "reason": f"{group}: {type(exc).__name__}: {exc}"})
            continue
        warnings += [{"id": model["id"], **note} for note in properties.pop(WARNINGS, [])]
        rows.append({"id": model["id"], "properties": properties})
    run.write_errors(STAGE, f"{group}_{chunk:05d}", errors)
    run.write_warnings(STAGE, f"{group}_{chunk:05d}", warnings)
    count = write_jsonl(run.file(STAGE, "partial", group, f"{chunk:05d}.jsonl"), rows)
    log.info("group %s chunk %d: %d records, %d errors", group, chunk, count, len(errors))
    return count


def link_entities(run_folder: str) -> dict[str, int]:
    """Resolve every mention in the partial records; write entity records and the mention -> IRI table."""
    run = RunFolder(Path(run_folder))
    identified = {
        kind: read_json(run.file(EXTRACTION, "entities", f"{kind}.json"), {}) for kind in set(ENTITY_MODELS)
    }
    links: dict[str, dict[str, list[str]]] = defaultdict(dict)
    records: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    errors = []
    for path in sorted(run.stage_dir(STAGE).glob("partial/*/*.jsonl")):
        for row in read_jsonl(path):
            for m in iter_mentions(row["properties"]):
                kind, key = m["kind"], m["key"]
                if key in links[kind]:
                    continue
                try:
                    target_iris, entity_records = link(m, identified.get(kind, {}).get(key))
                except (ValidationError, ValueError) as exc:
                    errors.append({"id": f"{kind}:{key}", "reason": f"linking: {exc}"})
                    links[kind][key] = []
                    continue
                links[kind][key] = target_iris
                for entity_kind, record in entity_records:
                    records[entity_kind][record.id] = record.to_jsonld()
    write_json(run.file(STAGE, "links.json"), links)
    counts = {}
    for kind in LINKED_KINDS:
        counts[kind] = write_jsonld(run.file(STAGE, "entities", f"{kind}.jsonld"), sorted(records[kind].values(), key=lambda r: r["@id"]))
    run.write_errors(STAGE, "linking", errors)
    log.info("linked entities: %s", counts)
    return counts


def _resolved(value: Any, links: dict[str, dict[str, list[str]]]) -> Any:
    """A partial value with its mentions replaced by IRIs, embedded records included; empty values dropped."""
    if isinstance(value, dict):
        resolved = {term: _resolved(item, links) for term, item in value.items()}
        return {term: item for term, item in resolved.items() if item not in (None, [], "")}
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            if is_mention(item):
                items += links.get(item["kind"], {}).get(item["key"], [])
            else:
                items.append(_resolved(item, links))
        return unique(items)
    return value


def normalize_record(model_id: str, partials: list[dict[str, Any]], links: dict[str, dict[str, list[str]]]) -> MLModel:
    merged: dict[str, Any] = {}
    for partial in partials:
        merged.update(_resolved(partial, links))
    return MLModel.model_validate({"@id": hf_model_iri(model_id), **merged})


def normalize_models(run_folder: str, max_error_rate: float) -> dict[str, Any]:
    run = RunFolder(Path(run_folder))
    plan = read_json(run.file(STAGE, "plan.json"))
    links = read_json(run.file(STAGE, "links.json"), {})
    progress = Progress("normalized models", plan["models"])
    # Records that failed a property group; linking errors name entities, and a retried task's own
    # earlier normalization errors are recomputed below.
    earlier = [e for e in run.errors(STAGE) if e["part"] != "normalization"]
    failed = {e["id"] for e in earlier if e["part"] != "linking"}
    errors, written = [], 0
    for chunk in range(plan["chunks"]):
        partials: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for group in GROUP_NAMES:
            for row in read_jsonl(run.file(STAGE, "partial", group, f"{chunk:05d}.jsonl")):
                partials[row["id"]].append(row["properties"])
        records = []
        for model_id in sorted(chunk_ids(run, chunk)):
            if model_id in failed:
                continue
            try:
                records.append(normalize_record(model_id, partials[model_id], links).to_jsonld())
            except ValidationError as exc:
                errors.append({"id": model_id, "reason": f"FAIR4ML validation: {exc.error_count()} errors: {json.dumps(exc.errors(include_url=False), default=str)[:800]}"})
        written += write_jsonld(run.file(STAGE, "models", f"{chunk:05d}.jsonld"), records)
        progress.advance(len(records))
    run.write_errors(STAGE, "normalization", errors)
    failed_models = failed | {e["id"] for e in errors}
    check_error_rate(STAGE, len(failed_models), plan["models"], max_error_rate)
    summary = {"run_folder": run_folder, "models": written, "chunks": plan["chunks"], "errors": len(earlier) + len(errors),
               "entities": {k: len(read_jsonld(run.file(STAGE, "entities", f"{k}.jsonld"))) for k in LINKED_KINDS}}
    run.mark_done(STAGE, summary)
    return summary
