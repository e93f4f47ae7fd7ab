"""What a source is to the shared pipeline: its manifest (``Source``), its mapping (``SourceMapping``)
and the contract its extraction implements (``SourceExtraction``).

A ``Source`` is the whole manifest of a source, as a provider's ``provider.yaml`` is for an Airflow
provider: names, default schedule, Celery queue, connection (and its type for the UI), the API pools
its tasks run in, the entity kinds its extraction identifies (each in the pool of the API its lookups
call), and its package, whose ``mapping`` and ``extraction`` modules implement the two contracts.
Each source package declares its own in its ``__init__``; ``mlentory.sources`` lists them. It is cheap to import (the DAG processor parses DAG
files every 30 s): the mapping and the extraction, which import the source's parsers and clients,
are loaded inside tasks, on first use, by the loaders the manifest holds.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mlentory.pools import ApiPool

if TYPE_CHECKING:
    from airflow.sdk import Asset

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
    # The rows of ``records`` as JSON text, where the source can make them without decoding what
    # they carry (the join into chunks is one pass over the run); None: ``records``, encoded.
    record_lines: Callable[[RunFolder], Iterator[bytes]] | None = None
    # Whether ``records`` reads what the identification found (OpenML's evaluations carry their
    # task's estimation procedure): the record chunks the extraction joined for the mentions, before
    # the identification, are then joined again by the transformation instead of being reused.
    records_read_entities: bool = False


@runtime_checkable
class SourceExtraction(Protocol):
    """What the shared extraction tail calls of a source's extraction (a module satisfies it: the
    source's ``extraction`` module). The harvests themselves (what is asked of the source, and how)
    are the source's own tasks in its extraction DAG file; each writes ``raw/<harvest>.jsonl`` and
    one of them merges those into the run's records (``pipeline.extraction.merge_harvests``)."""

    def identify_entities_with_connections(self, run_folder: str, kind: str, partitions: list[int] | None = None) -> int:
        """Identify every ``kind`` entity the run's records mention (``mentioned_keys``), with the
        clients the kind's lookups need, made from the Airflow connections; the count identified.
        With ``partitions`` (a partitioned kind's task): only the keys of those (``write_identified``)."""
        ...

    def finish_extraction(self, run_folder: str, max_error_rate: float) -> dict[str, Any]:
        """The error budget over the records the harvests could not read, then the summary the
        ``raw`` asset event carries (``pipeline.extraction.finish_extraction``)."""
        ...


@dataclass(frozen=True)
class EntityKind:
    """An entity kind a source's extraction identifies, and the pool of the API its lookups call
    (None: answered without a request, e.g. from a vocabulary). A ``partitioned`` kind, mentioned in
    proportion to the models (the Hub's accounts), is identified by mapped tasks, each over some
    partitions of the mentioned keys (the linking's, ``mentions.mention_partition``): the source's
    ``identify_entities_with_connections`` takes them."""

    name: str
    pool: ApiPool | None = None
    partitioned: bool = False


@dataclass(frozen=True)
class ConnectionField:
    """A field of a connection's extra, shown by the UI's connection form."""

    label: str
    description: str
    schema: Mapping[str, Any]  # JSON schema of the value (type, default, ...)


@dataclass(frozen=True, eq=False)
class ConnectionType:
    """The connection a source's hook reads: its default id, its type (with the form the UI shows
    for it: ``mlentory.provider_info``) and the hook that reads it."""

    conn_id: str
    conn_type: str
    hook_class_name: str
    hook_name: str
    extra_fields: Mapping[str, ConnectionField] = field(default_factory=dict)
    hidden_fields: tuple[str, ...] = ("schema", "login")
    relabeling: Mapping[str, str] = field(default_factory=dict)
    placeholders: Mapping[str, str] = field(default_factory=dict)


# Airflow's scheme for URIs no provider handles ("x-"): an Asset with another scheme makes Airflow
# discover every provider's URI handlers when it is created, 0.6 CPU-s in each parse of a DAG file.
ASSET_SCHEME = "x-mlentory"


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
        from airflow.sdk import Asset

        return Asset(name=f"{self.key}_{kind}", uri=f"{ASSET_SCHEME}://{self.key}/entities/{kind}", group=self.key)


@dataclass(frozen=True, eq=False)  # one object per source: compared and hashed by identity
class Source:
    key: str  # folders under the data root, DAG ids and asset names: "hf" -> hf_extraction, hf_raw_models
    name: str  # the records' and the index's ``source``: "huggingface"
    title: str  # for people: "HuggingFace Hub"
    # The source's package (its ``__name__``): its ``mapping`` module defines ``MAPPING``, its
    # ``extraction`` module implements ``SourceExtraction``. Both are imported on first use, inside
    # tasks, so that the manifest costs nothing to import; each is checked against its contract then.
    package: str
    # When the extraction runs by default (``MLENTORY_SCHEDULE_<KEY>`` overrides it; None: only when triggered).
    default_schedule: str | None = None
    connection: ConnectionType | None = None
    pools: tuple[ApiPool, ...] = ()  # the pools of the APIs its tasks call (shared ones such as arXiv included)
    entity_kinds: tuple[EntityKind, ...] = ()

    @cached_property
    def assets(self) -> SourceAssets:
        # Imported here: the manifest is read while Airflow loads its configuration (provider info).
        from airflow.sdk import Asset

        key = self.key
        return SourceAssets(
            key=key,
            raw=Asset(name=f"{key}_raw_models", uri=f"{ASSET_SCHEME}://{key}/raw_models", group=key),
            normalized=Asset(name=f"{key}_models_normalized", uri=f"{ASSET_SCHEME}://{key}/models_normalized", group=f"{key}_transformation"),
            graph=Asset(name=f"{key}_models_graph", uri=f"{ASSET_SCHEME}://{key}/models_graph", group=f"{key}_loading"),
            index=Asset(name=f"{key}_models_index", uri=f"{ASSET_SCHEME}://{key}/models_index", group=f"{key}_loading"),
            loaded=Asset(name=f"{key}_models_loaded", uri=f"{ASSET_SCHEME}://{key}/models_loaded", group=f"{key}_loading"),
        )

    @cached_property
    def mapping(self) -> SourceMapping:
        mapping = getattr(importlib.import_module(f"{self.package}.mapping"), "MAPPING", None)
        if not isinstance(mapping, SourceMapping):
            raise TypeError(f"{self.package}.mapping defines no MAPPING = SourceMapping(...)")
        return mapping

    @cached_property
    def extraction(self) -> SourceExtraction:
        module = importlib.import_module(f"{self.package}.extraction")
        if not isinstance(module, SourceExtraction):
            raise TypeError(f"{self.package}.extraction does not implement SourceExtraction "
                            "(identify_entities_with_connections, finish_extraction)")
        return module

    @property
    def queue(self) -> str:
        """The Celery queue of the source's tasks (``MLENTORY_QUEUE_<KEY>``, else ``default``), so that
        workers of its own can serve it."""
        return os.environ.get(f"MLENTORY_QUEUE_{self.key.upper()}", "default")

    def entity_kind(self, name: str) -> EntityKind:
        for kind in self.entity_kinds:
            if kind.name == name:
                return kind
        raise LookupError(f"the source {self.key} identifies no entity kind {name!r}")
