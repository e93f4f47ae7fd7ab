"""JSON-LD documents on disk: records in ``@graph`` with the context inline, so any JSON-LD
processor (rdflib, pyld) can expand them without fetching anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlentory.fair4ml.context import load_context
from mlentory.pipeline.run_folder import read_json, write_json


def write_jsonld(path: Path, records: list[dict[str, Any]]) -> int:
    write_json(path, {"@context": load_context(), "@graph": records})
    return len(records)


def read_jsonld(path: Path) -> list[dict[str, Any]]:
    graph: list[dict[str, Any]] = (read_json(path) or {"@graph": []})["@graph"]
    return graph
