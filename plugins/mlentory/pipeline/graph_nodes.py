"""The graph's nodes, listed per model chunk and made in partitions of their IRIs.

Before the parallel entity and model loads, every node a loading run writes or links to is made by
one writer per IRI, so that no two transactions ever create the same node. Reading every record of
the run for that took one task time in proportion to the run (13 CPU-s per 100,000 models): the
transformation's chunk tasks, which hold the records anyway, list each chunk's nodes by IRI partition
(``transformation/nodes/<partition>/<chunk>.json``), and the loading's node tasks each make the nodes
of their partitions, reading those lists only: no two tasks make the same node.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from mlentory.fair4ml.jsonld import read_jsonld
from mlentory.pipeline.run_folder import RunFolder, read_json, write_json
from mlentory.settings import GRAPH_NODE_PARTITIONS, NODES_PER_NODE_TASK
from mlentory.stores.graph import linked_nodes

TRANSFORMATION = "transformation"
NODES_DIR = "nodes"


def node_partition(iri: str) -> int:
    """The IRI's partition: the same in every process and run (not Python's salted ``hash``)."""
    return zlib.crc32(iri.encode("utf-8")) % GRAPH_NODE_PARTITIONS


def _list_file(run: RunFolder, partition: int, chunk: int) -> Path:
    return run.file(TRANSFORMATION, NODES_DIR, f"{partition:02d}", f"{chunk:05d}.json")


def write_node_lists(run: RunFolder, chunk: int, records: Iterable[dict[str, Any]]) -> int:
    """The IRIs the chunk's ``records`` write or link to, a list per partition (every partition's,
    though empty: a missing list means a chunk transformed before the lists). Returns the IRIs."""
    by_partition: list[set[str]] = [set() for _ in range(GRAPH_NODE_PARTITIONS)]
    for record in records:
        for iri in linked_nodes(record):
            by_partition[node_partition(iri)].add(iri)
    for partition, iris in enumerate(by_partition):
        write_json(_list_file(run, partition, chunk), sorted(iris))
    return sum(map(len, by_partition))


def node_task_partitions(models: int) -> list[list[int]]:
    """The partitions each of a loading run's node tasks makes: one task per ``NODES_PER_NODE_TASK``
    models, at most one per partition."""
    tasks = min(GRAPH_NODE_PARTITIONS, max(1, math.ceil(models / NODES_PER_NODE_TASK)))
    return [list(range(task, GRAPH_NODE_PARTITIONS, tasks)) for task in range(tasks)]


def chunk_nodes(run: RunFolder, chunk: int, partitions: list[int], records: Path) -> Iterator[str]:
    """The chunk's IRIs in ``partitions``, from its lists; from its ``records`` where a list is missing."""
    lists = [read_json(_list_file(run, partition, chunk)) for partition in partitions]
    if all(found is not None for found in lists):
        for found in lists:
            yield from found
        return
    wanted = set(partitions)
    for record in read_jsonld(records):
        yield from (iri for iri in linked_nodes(record) if node_partition(iri) in wanted)
