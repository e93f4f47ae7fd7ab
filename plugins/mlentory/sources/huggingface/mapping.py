"""The Hub's mapping onto the shared transformation: its records (a model with its card), property
groups, linkers and model IRIs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlentory.fair4ml import iris
from mlentory.pipeline.run_folder import RunFolder
from mlentory.pipeline.source import SourceMapping
from mlentory.sources.huggingface.cards import ParsedCard, card_from_record
from mlentory.sources.huggingface.extraction import iter_raw_models_with_cards, iter_record_lines
from mlentory.sources.huggingface.hub import model_revision
from mlentory.sources.huggingface.linking import LINKERS
from mlentory.sources.huggingface.properties import GROUPS_MENTIONING, PROPERTY_GROUPS


def records(run: RunFolder) -> Iterator[dict[str, Any]]:
    for model, card in iter_raw_models_with_cards(run):
        yield {"id": model["id"], "revision": model_revision(model), "model": model, "card": card}


def record_arguments(row: dict[str, Any]) -> tuple[dict[str, Any], ParsedCard | None]:
    return row["model"], card_from_record(row["card"])


MAPPING = SourceMapping(
    property_groups=PROPERTY_GROUPS,
    groups_mentioning=GROUPS_MENTIONING,
    records=records,
    record_arguments=record_arguments,
    record_lines=iter_record_lines,
    model_iri=iris.hf_model_iri,
    linkers=LINKERS,
)
