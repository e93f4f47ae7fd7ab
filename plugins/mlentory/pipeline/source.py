"""The interface a source implements to run on the shared pipeline.

A ``Source`` is what DAG files import: a key, a title, its assets, and where its mapping lives. It is
cheap to import (the DAG processor parses DAG files every 30 s); the mapping (property groups,
linkers, IRIs), which imports the source's parsers, is loaded inside tasks, on first use.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset

if TYPE_CHECKING:
    from mlentory.fair4ml.linking import Linker
    from mlentory.fair4ml.mentions import Partial
    from mlentory.fair4ml.models import FAIR4MLRecord
    from mlentory.pipeline.run_folder import RunFolder


@dataclass(frozen=True)
class SourceMapping:
    """How a source's raw records become FAIR4ML records, in the shared transformation stage."""

    # Group name -> a pure function of a raw record (given as ``record_arguments`` returns it) that
    # returns a partial record; the groups run as parallel mapped tasks.
    property_groups: Mapping[str, Callable[..., Partial]]
    # Entity kind -> the groups that mention it (identification runs only these).
    groups_mentioning: Mapping[str, tuple[str, ...]]
    # The extracted records to transform, each a JSON row with the record's ``id`` and ``revision``
    # (what the incremental state compares: the same value the source's extraction skips by).
    records: Callable[[RunFolder], Iterator[dict[str, Any]]]
    # A row of ``records`` -> the arguments of every property group (e.g. the record and its parsed card).
    record_arguments: Callable[[dict[str, Any]], tuple[Any, ...]]
    # The record's id -> the IRI of its model (``fair4ml.iris``).
    model_iri: Callable[[str], str]
    # Mention kind -> linker: the shared ones (papers, licences, languages, keywords) and the source's own.
    linkers: Mapping[str, Linker]
    # Entity records the source harvests on its own, not only as mentions (e.g. every dataset of a
    # collection): (kind, record) pairs; they replace a stub of the same IRI.
    entities: Callable[[RunFolder], Iterable[tuple[str, FAIR4MLRecord]]] | None = None


@dataclass(frozen=True)
class SourceAssets:
    """The stage outputs of a source that a user may want to see or trigger on (the Assets view
    groups them per source and stage); every event carries its run folder and counts."""

    key: str
    raw: Asset  # extraction finished: the harvested records and their identified entities
    normalized: Asset  # transformation finished: validated FAIR4ML records
    graph: Asset  # the records and their entities written to the graph
    index: Asset  # the model documents written to the search index
    loaded: Asset  # loading finished, with its report

    def entities(self, kind: str) -> Asset:
        """One kind of entity the extraction identified and enriched (datasets, articles, ...)."""
        return Asset(name=f"{self.key}_{kind}", uri=f"mlentory://{self.key}/entities/{kind}", group=self.key)


@dataclass(frozen=True)
class Source:
    key: str  # folders under the data root, DAG ids and asset names: "hf" -> hf_extraction, hf_raw_models
    name: str  # the records' and the index's ``source``: "huggingface"
    title: str  # for people: "HuggingFace Hub"
    mapping_module: str  # the module whose ``MAPPING`` is this source's SourceMapping
    assets: SourceAssets = field(init=False)

    def __post_init__(self) -> None:
        key = self.key
        object.__setattr__(self, "assets", SourceAssets(
            key=key,
            raw=Asset(name=f"{key}_raw_models", uri=f"mlentory://{key}/raw_models", group=key),
            normalized=Asset(name=f"{key}_models_normalized", uri=f"mlentory://{key}/models_normalized", group=f"{key}_transformation"),
            graph=Asset(name=f"{key}_models_graph", uri=f"mlentory://{key}/models_graph", group=f"{key}_loading"),
            index=Asset(name=f"{key}_models_index", uri=f"mlentory://{key}/models_index", group=f"{key}_loading"),
            loaded=Asset(name=f"{key}_models_loaded", uri=f"mlentory://{key}/models_loaded", group=f"{key}_loading"),
        ))

    @property
    def mapping(self) -> SourceMapping:
        return _mapping(self.mapping_module)


@functools.cache
def _mapping(module: str) -> SourceMapping:
    return importlib.import_module(module).MAPPING
