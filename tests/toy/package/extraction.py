"""The toy source's extraction: one harvest (the catalogue's records), its merge, and the contract
the shared tail calls (``identify_entities_with_connections``, ``finish_extraction``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlentory.enrichment.licenses import identify_license
from mlentory.pipeline import extraction as scaffolding
from mlentory.pipeline.extraction import STAGE, raw_file
from mlentory.pipeline.run_folder import RunFolder, inside, read_jsonl, write_json, write_jsonl
from mlentory.sources.toy import SOURCE

HARVEST = "catalogue"


def harvest_catalogue(run_folder: str, catalogue: str) -> int:
    run = RunFolder(Path(run_folder))
    path = inside(run.path.parent.parent / "inputs", catalogue, "catalogue")
    return write_jsonl(raw_file(run, HARVEST), read_jsonl(path))


def merge_catalogue(run_folder: str, full_refresh: bool) -> dict[str, int]:
    return scaffolding.merge_harvests(run_folder, [HARVEST], lambda record: record["version"], full_refresh)


def identify_entities_with_connections(run_folder: str, kind: str) -> int:
    run = RunFolder(Path(run_folder))
    keys = scaffolding.mentioned_keys(SOURCE, run, kind)
    found: dict[str, Any] = {k: identify_license(k) for k in keys} if kind == "licenses" else {k: {"name": k} for k in keys}
    write_json(run.file(STAGE, "entities", f"{kind}.json"), found)
    return len(found)


def finish_extraction(run_folder: str, max_error_rate: float) -> dict[str, Any]:
    return scaffolding.finish_extraction(run_folder, max_error_rate, record_parts=(HARVEST,))
