"""The graph's nodes, listed per model chunk and made in partitions of their IRIs.

Before the parallel entity and model loads, every node a loading run writes or links to is made by
one writer per IRI, so that no two transactions ever create the same node. Reading every record of
the run for that took one task time in proportion to the run (13 CPU-s per 100,000 models): the
transformation's chunk tasks, which hold the records anyway, list each chunk's nodes by IRI partition
(``transformation/nodes/<partition>/<chunk>.json``), as do the merge tasks of the entity records
(``entities-<IRI partition>.json``), and the loading's node tasks each make the nodes of their
partitions, reading those lists only: no two tasks make the same node.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from mlentory.fair4ml.jsonld import read_jsonld
from mlentory.pipeline.run_folder import RunFolder, read_json, write_json
from mlentory.settings import GRAPH_NODE_PARTITIONS
from mlentory.stores.graph import linked_nodes

TRANSFORMATION = "transformation"
NODES_DIR = "nodes"


def node_partition(iri: str) -> int:
    """The IRI's partition: the same in every process and run (not Python's salted ``hash``)."""
    return zlib.crc32(iri.encode("utf-8")) % GRAPH_NODE_PARTITIONS


def _list_file(run: RunFolder, partition: int, name: str) -> Path:
    return run.file(TRANSFORMATION, NODES_DIR, f"{partition:02d}", f"{name}.json")


def _chunk_lists(chunk: int) -> str:
    return f"{chunk:05d}"


def _entity_lists(iri_partition: int) -> str:
    return f"entities-{iri_partition:02d}"


def _write_lists(run: RunFolder, name: str, records: Iterable[dict[str, Any]]) -> int:
    by_partition: list[set[str]] = [set() for _ in range(GRAPH_NODE_PARTITIONS)]
    for record in records:
        for iri in linked_nodes(record):
            by_partition[node_partition(iri)].add(iri)
    for partition, iris in enumerate(by_partition):
        write_json(_list_file(run, partition, name), sorted(iris))
    return sum(map(len, by_partition))


def write_node_lists(run: RunFolder, chunk: int, records: Iterable[dict[str, Any]]) -> int:
    """The IRIs the chunk's ``records`` write or link to, a list per partition (every partition's,
    though empty: a missing list means a chunk transformed before the lists). Returns the IRIs."""
    return _write_lists(run, _chunk_lists(chunk), records)


def write_entity_node_lists(run: RunFolder, iri_partition: int, records: Iterable[dict[str, Any]]) -> int:
    """The same for the entity records of one IRI partition (written by its merge task): an entity
    links to nodes of other partitions too (a dataset to its creator)."""
    return _write_lists(run, _entity_lists(iri_partition), records)


def _listed(run: RunFolder, names: list[str], partitions: list[int], records: Callable[[], Iterable[dict[str, Any]]]) -> Iterator[str]:
    """The IRIs in ``partitions`` the lists ``names`` hold; where one is missing (a folder transformed
    before the lists), those ``records`` link to."""
    lists = [read_json(_list_file(run, partition, name)) for name in names for partition in partitions]
    if all(found is not None for found in lists):
        for found in lists:
            yield from found
        return
    wanted = set(partitions)
    for record in records():
        yield from (iri for iri in linked_nodes(record) if node_partition(iri) in wanted)


def chunk_nodes(run: RunFolder, chunk: int, partitions: list[int], records: Path) -> Iterator[str]:
    """The chunk's IRIs in ``partitions``, from its lists; from its ``records`` where a list is missing."""
    return _listed(run, [_chunk_lists(chunk)], partitions, lambda: read_jsonld(records))


def entity_nodes(run: RunFolder, partitions: list[int], entity_files: list[Path]) -> Iterator[str]:
    """The IRIs in ``partitions`` the run's entity records write or link to, from their lists; from
    every entity record (in ``entity_files``) where a list is missing."""
    return _listed(run, [_entity_lists(q) for q in range(GRAPH_NODE_PARTITIONS)], partitions,
                   lambda: (record for path in entity_files for record in read_jsonld(path)))
