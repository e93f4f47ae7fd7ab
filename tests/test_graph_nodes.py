"""The graph's nodes listed per model chunk by IRI partition (by the transformation's chunk tasks), and
made by the loading's node tasks from those lists: every node once, in exactly one partition, the same
nodes as from the records themselves; a chunk transformed before the lists falls back to its records."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlentory.fair4ml.jsonld import write_jsonld
from mlentory.pipeline.graph_nodes import chunk_nodes, node_partition, write_node_lists
from mlentory.pipeline.partitions import task_partitions
from mlentory.pipeline.run_folder import RunFolder, write_json
from mlentory.settings import GRAPH_NODE_PARTITIONS, MODELS_PER_PARTITION_TASK
from mlentory.stores.graph import linked_nodes


def _chunk(tag: str, size: int) -> list[dict]:
    """Models sharing 13 keywords and 17 base models, each with an embedded evaluation (not a node of its own)."""
    return [{"@id": f"https://huggingface.co/{tag}/m{i}", "@type": "MLModel", "name": f"{tag}/m{i}",
             "keywords": [f"https://w3id.org/mlentory/keyword/k{i % 13}"],
             "isBasedOn": [f"https://huggingface.co/base/b{i % 17}"]} for i in range(size)]


@pytest.fixture
def run(tmp_path: Path) -> RunFolder:
    return RunFolder.create(tmp_path / "data", "hf")


def _models_file(run: RunFolder, chunk: int, records: list[dict]) -> Path:
    path = run.file("transformation", "models", f"{chunk:05d}.jsonld")  # as transformation.models_file
    write_jsonld(path, records)
    return path


def test_the_lists_hold_every_node_once_in_its_own_partition(run):
    chunks = {0: _chunk("a", 300), 1: _chunk("b", 200)}
    expected = {iri for records in chunks.values() for record in records for iri in linked_nodes(record)}
    assert len(expected) == 500 + 13 + 17
    for chunk, records in chunks.items():
        write_node_lists(run, chunk, records)
    made: list[str] = []
    for partition in range(GRAPH_NODE_PARTITIONS):
        for chunk, records in chunks.items():
            listed = list(chunk_nodes(run, chunk, [partition], _models_file(run, chunk, records)))
            assert all(node_partition(iri) == partition for iri in listed)
            made += listed
    # A shared node is listed once per chunk linking to it, and made once (a set per node task).
    assert set(made) == expected
    assert sum(1 for p in range(GRAPH_NODE_PARTITIONS) for _ in chunk_nodes(run, 0, [p], Path("unused"))) == 300 + 13 + 17


def test_a_chunk_without_its_lists_gives_the_same_nodes_from_its_records(run):
    records = _chunk("c", 120)
    path = _models_file(run, 3, records)
    from_records = {p: set(chunk_nodes(run, 3, [p], path)) for p in range(GRAPH_NODE_PARTITIONS)}
    write_node_lists(run, 3, records)
    from_lists = {p: set(chunk_nodes(run, 3, [p], path)) for p in range(GRAPH_NODE_PARTITIONS)}
    assert from_records == from_lists
    assert set().union(*from_lists.values()) == {iri for record in records for iri in linked_nodes(record)}


def test_one_node_task_for_a_small_run_and_disjoint_partitions_for_a_large_one():
    assert task_partitions(0) == task_partitions(MODELS_PER_PARTITION_TASK) == [list(range(GRAPH_NODE_PARTITIONS))]
    large = task_partitions(3 * MODELS_PER_PARTITION_TASK)
    assert len(large) == 3
    assert sorted(p for task in large for p in task) == list(range(GRAPH_NODE_PARTITIONS))
    assert len(task_partitions(100 * MODELS_PER_PARTITION_TASK)) == GRAPH_NODE_PARTITIONS


def test_node_tasks_make_every_node_once_and_give_each_chunk_the_labels_it_links_to(empty_stores, run):
    """Two node tasks over disjoint partitions (as a large run maps them) make every node, and write
    each model chunk the labels of just the entities it links to; a chunk without them gets every
    entity's, as before the node tasks wrote labels."""
    from mlentory.pipeline import loading

    chunks = {0: _chunk("a", 300), 1: _chunk("b", 200)}
    keywords = [{"@id": f"https://w3id.org/mlentory/keyword/k{i}", "@type": "DefinedTerm", "name": f"Keyword {i}",
                 "termCode": f"k{i}"} for i in range(13)]
    write_jsonld(run.file("transformation", "entities", "keywords.jsonld"), keywords)
    write_json(run.file("transformation", "plan.json"), {"chunks": 2, "models": 500})
    for chunk, records in chunks.items():
        _models_file(run, chunk, records)
        write_node_lists(run, chunk, records)
    halves = [list(range(0, GRAPH_NODE_PARTITIONS, 2)), list(range(1, GRAPH_NODE_PARTITIONS, 2))]
    with empty_stores.driver() as driver:
        made = [loading.create_graph_nodes([str(run.path)], driver, half) for half in halves]
        with driver.session() as session:
            nodes = session.run("MATCH (n:Resource) RETURN count(n) AS c").single()["c"]
    assert sum(made) == nodes == 500 + 13 + 17
    every = loading.entity_labels(run)
    linked = {iri for record in chunks[1] for iri in linked_nodes(record)}
    assert loading._chunk_labels(run, 1) == {iri: label for iri, label in every.items() if iri in linked}
    assert {label.name for label in loading._chunk_labels(run, 1).values()} == {f"Keyword {i}" for i in range(13)}
    loading._labels_file(run, 0, 3).unlink()
    assert loading._chunk_labels(run, 0) == every
