"""Entity linking in partitions (``entity_links``): the chunk tasks list their mentions by partition of
the key, the linking tasks link a partition at a time, the merge tasks merge the records by partition
of the IRI. The outcome does not depend on how the partitions are grouped into tasks; a chunk's
normalization reads the links of its own mentions, no more; two mentions in two partitions that name
one licence give one record with both names; a folder transformed before the partitions reads as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlentory.fair4ml.jsonld import read_jsonld, write_jsonld
from mlentory.fair4ml.mentions import iter_mentions
from mlentory.pipeline import entity_links, transformation
from mlentory.pipeline.entity_links import LINKED_KINDS, mention_partition
from mlentory.pipeline.run_folder import RunFolder, read_json, read_jsonl, write_json, write_jsonl
from mlentory.settings import GRAPH_NODE_PARTITIONS, LINK_PARTITIONS
from mlentory.sources import HUGGINGFACE

LICENCE_NAMES = ("Llama 3", "llama-3")  # two keys, in two partitions, of one licence IRI
# A dataset renamed on the Hub: named by its old name (looked up: found under the new one) and by its
# new name (not looked up: a stub of the same IRI), two keys in two partitions.
RENAMED, OLD_NAME = "data/set9", "alias/set9"


def _models(count: int) -> list[dict]:
    """Hub models in the listing's shape: licences (one named two ways), datasets, base models, tags."""
    models = []
    for i in range(count):
        card: dict = {"license": "mit"} if i % 3 else {"license": "other", "license_name": LICENCE_NAMES[i % 2]}
        models.append({"id": f"org{i % 4}/model-{i}", "sha": f"{i:040d}", "author": f"org{i % 4}",
                       "tags": ["transformers", f"dataset:data/set{i % 5}", f"base_model:base/b{i % 7}", f"topic{i % 6}"],
                       "card_data": {**card, "datasets": [f"data/set{i % 5}", (RENAMED, OLD_NAME)[i % 2]], "base_model": f"base/b{i % 7}"}})
    return models


def _identified_datasets() -> dict[str, dict]:
    """The extraction's lookups: three datasets found (one, the renamed, by its old name), one deferred
    (``data/set4``, never looked up: a stub), and one no record of the run names (looked up by an
    earlier run whose budget ran out: linked now)."""
    found = {key: {"found": True, "id": key, "card_data": {"pretty_name": key.upper()}} for key in ("data/set0", "data/set1", "data/set2", "data/set3")}
    return {**found, OLD_NAME: {"found": True, "id": RENAMED, "card_data": {"pretty_name": "Set Nine"}},
            "data/deferred": {"found": True, "id": "data/deferred"}}


def _transformed(root: Path, models: list[dict], link_tasks: list[list[int]], merge_tasks: list[list[int]]) -> RunFolder:
    run = RunFolder.create(root, "hf")
    write_jsonl(run.file("extraction", "models.jsonl"), models)
    write_jsonl(run.file("extraction", "cards.jsonl"), [])
    write_json(run.file("extraction", "entities", "datasets.json"), _identified_datasets())
    chunks = transformation.plan_chunks(HUGGINGFACE, str(run.path), chunk_size=10)
    for chunk in chunks:
        transformation.extract_properties(HUGGINGFACE, str(run.path), chunk)
    for partitions in link_tasks:
        transformation.link_entities(HUGGINGFACE, str(run.path), partitions)
    for partitions in merge_tasks:
        entity_links.merge_entities(str(run.path), partitions)
    for chunk in chunks:
        transformation.normalize_chunk(HUGGINGFACE, str(run.path), chunk)
    return run


def _outcome(run: RunFolder) -> tuple[list, dict]:
    models = [r for chunk in range(5) for r in read_jsonld(transformation.models_file(run, chunk))]
    return models, {kind: sorted(entity_links.read_entities(run, kind), key=lambda r: r["@id"]) for kind in LINKED_KINDS}


def _chunk_mentions(run: RunFolder, chunk: int) -> set[tuple[str, str]]:
    return {(m["kind"], m["key"]) for group in HUGGINGFACE.mapping.property_groups
            for row in read_jsonl(transformation.partial_file(run, group, chunk)) for m in iter_mentions(row["properties"])}


def test_the_outcome_does_not_depend_on_how_the_partitions_are_grouped_into_tasks(tmp_path):
    models = _models(50)
    one_task = _transformed(tmp_path / "one", models, [list(range(LINK_PARTITIONS))], [list(range(GRAPH_NODE_PARTITIONS))])
    # A task per partition, run in reverse order: as mapped tasks may run.
    many = _transformed(tmp_path / "many", models, [[p] for p in reversed(range(LINK_PARTITIONS))],
                        [[p] for p in reversed(range(GRAPH_NODE_PARTITIONS))])
    assert _outcome(one_task) == _outcome(many)
    records, entities = _outcome(many)
    assert len(records) == 50
    described = {r["identifier"]: r["name"] for r in entities["datasets"]}
    assert described == {"data/set0": "DATA/SET0", "data/set1": "DATA/SET1", "data/set2": "DATA/SET2", "data/set3": "DATA/SET3",
                         RENAMED: "Set Nine", "data/deferred": "data/deferred"}
    stubs = {r["@id"] for r in entities["stubs"]}
    assert any(iri.endswith("/data/set4") for iri in stubs)  # not looked up: named only
    assert not stubs & {r["@id"] for r in entities["datasets"]}  # the renamed one's stub left out: it is described
    assert mention_partition("datasets", RENAMED) != mention_partition("datasets", OLD_NAME)
    assert entity_links.entity_counts(many) == {kind: len(found) for kind, found in entities.items()}
    assert transformation.normalize_models(HUGGINGFACE, str(many.path), 0.0)["entities"] == entity_links.entity_counts(many)


def test_a_chunk_reads_the_links_of_its_own_mentions_and_they_resolve_as_the_whole_table(tmp_path):
    run = _transformed(tmp_path, _models(50), [[0, 2, 4, 6], [1, 3, 5, 7]], [list(range(GRAPH_NODE_PARTITIONS))])
    everything: set[tuple[str, str]] = set()
    for chunk in range(5):
        mentions = _chunk_mentions(run, chunk)
        links = entity_links.chunk_links(run, chunk)
        assert {(kind, key) for kind, keys in links.items() for key in keys} == mentions
        whole = entity_links.links_of(run, mentions)  # from the partitions' whole tables
        assert {pair: links[pair[0]][pair[1]] for pair in mentions} == whole
        everything |= mentions
    # Fifty models name few distinct entities: each chunk's share is small, and the partitions all hold some.
    assert {mention_partition(kind, key) for kind, key in everything} == set(range(LINK_PARTITIONS))


def test_two_mentions_in_two_partitions_of_one_licence_give_one_record_with_both_names(tmp_path):
    keys = [f"name:{name}" for name in LICENCE_NAMES]
    assert len({mention_partition("licenses", key) for key in keys}) == 2
    run = _transformed(tmp_path, _models(12), [[p] for p in range(LINK_PARTITIONS)], [list(range(GRAPH_NODE_PARTITIONS))])
    [licence] = [r for r in entity_links.read_entities(run, "licenses") if r["@id"].endswith("/llama-3")]
    assert {licence["name"], *licence.get("alternateName", [])} == set(LICENCE_NAMES)
    models = {r["identifier"]: r for r in read_jsonld(transformation.models_file(run, 0))}
    assert licence["@id"] in models["org0/model-0"]["license"] and licence["@id"] in models["org3/model-3"]["license"]


def test_a_folder_transformed_before_the_partitions_reads_as_before(tmp_path):
    run = RunFolder.create(tmp_path, "hf")
    links = {"datasets": {"data/set0": ["https://huggingface.co/datasets/data/set0"]}}
    write_json(run.file("transformation", "links.json"), links)
    record = {"@id": "https://huggingface.co/datasets/data/set0", "@type": "Dataset", "name": "data/set0"}
    write_jsonld(run.file("transformation", "entities", "datasets.jsonld"), [record])
    assert entity_links.chunk_links(run, 0) == links
    assert entity_links.links_of(run, [("datasets", "data/set0")]) == {("datasets", "data/set0"): links["datasets"]["data/set0"]}
    assert list(entity_links.read_entities(run, "datasets")) == [record]
    assert entity_links.entity_counts(run, ["datasets", "licenses"]) == {"datasets": 1, "licenses": 0}


@pytest.mark.parametrize(("models", "tasks"), [(0, 1), (50_000, 1), (120_000, 3), (10_000_000, LINK_PARTITIONS)])
def test_the_linking_tasks_grow_with_the_run(tmp_path, models, tasks):
    run = RunFolder.create(tmp_path, "hf")
    write_json(run.file("transformation", "plan.json"), {"chunk_size": 2_000, "chunks": 1, "models": models})
    jobs = entity_links.plan_link_tasks([str(run.path)])
    assert len(jobs) == tasks
    assert sorted(p for job in jobs for p in job["partitions"]) == list(range(LINK_PARTITIONS))


def test_the_entity_loads_cover_every_kind_and_partition_once_and_one_folder_is_not_read_for_superseded_records(tmp_path):
    from mlentory.pipeline import loading

    run = RunFolder.create(tmp_path, "hf")
    write_json(run.file("transformation", "plan.json"), {"chunk_size": 2_000, "chunks": 60, "models": 120_000})
    jobs = loading.plan_loading([str(run.path)])  # no model file exists: a single folder's are not read
    assert read_json(run.file("loading", "superseded.json")) == []
    covered = sorted((job["kind"], p) for job in jobs for p in job["partitions"])
    assert covered == sorted((kind, p) for kind in LINKED_KINDS for p in range(GRAPH_NODE_PARTITIONS))
    assert len(jobs) == 3 * len(LINKED_KINDS)  # 120,000 models: three groups of partitions per kind
