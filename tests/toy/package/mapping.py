"""The toy source's mapping: one property group over its records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlentory.fair4ml.linking import SHARED_LINKERS
from mlentory.fair4ml.mentions import Partial, mention
from mlentory.pipeline.extraction import MODELS_FILE, STAGE
from mlentory.pipeline.run_folder import RunFolder, read_jsonl
from mlentory.pipeline.source import SourceMapping

TOY_BASE = "https://toy.example/models/"


def records(run: RunFolder) -> Iterator[dict[str, Any]]:
    for record in read_jsonl(run.file(STAGE, MODELS_FILE)):
        yield {"id": record["id"], "revision": record["version"], "record": record}


def basic(record: dict[str, Any]) -> Partial:
    return {"name": record["title"], "url": TOY_BASE + record["id"],
            "keywords": [mention("keywords", tag) for tag in record["tags"]],
            "license": [mention("licenses", record["licence"])]}


MAPPING = SourceMapping(
    property_groups={"basic": basic},
    groups_mentioning={"keywords": ("basic",), "licenses": ("basic",)},
    records=records,
    record_arguments=lambda row: (row["record"],),
    model_iri=lambda record_id: TOY_BASE + record_id,
    linkers=SHARED_LINKERS,
)
