"""The BioImage Model Zoo end to end: the three ai4life DAGs (dag.test) against the replay (the
collection's index and descriptions), the spec's own library, the local graph and index; into the
same graph and index as the other sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURE_SNAPSHOT, clear, query, start_replay, use_data_root
from pipeline import run_dag, xcom

ZOO = "https://bioimage.io/#/artifacts/"


@pytest.fixture(scope="module")
def zoo_run(stores, tmp_path_factory):
    clear(stores)
    use_data_root(tmp_path_factory.mktemp("ai4life") / "data")
    server = start_replay(FIXTURE_SNAPSHOT)
    try:
        # One of the three fixture models is rejected on purpose: above the default error budget.
        extraction = run_dag("ai4life_extraction", {"num_resources": 10, "max_error_rate": 0.5})
        run_folder = xcom(extraction, "ai4life_run_folder")
        run_dag("ai4life_transformation", {"run_folder": run_folder})
        run_dag("ai4life_loading", {"run_folder": run_folder})
        first = server.stats["bioimageio"]
        again = run_dag("ai4life_extraction", {"num_resources": 10, "max_error_rate": 0.5})  # incremental: nothing new
        stats = {"first": first, "again": server.stats["bioimageio"] - first}
    finally:
        server.shutdown()
        server.server_close()
    return {"run_folder": Path(run_folder), "stores": stores, "stats": stats, "again": Path(xcom(again, "ai4life_run_folder"))}



def test_models_of_both_formats_are_loaded_and_the_rejected_one_is_listed(zoo_run):
    rows = query(zoo_run["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__source = 'ai4life' AND m.mlentory__sourceSha IS NOT NULL "
                                    "RETURN m.uri AS uri, m.schema__name AS name, m.schema__identifier AS id ORDER BY uri")
    assert rows == [{"uri": ZOO + "fixture-legacy", "name": "FixtureLegacyDenoiser", "id": "bioimage-io/fixture-legacy"},
                    {"uri": ZOO + "fixture-shark", "name": "FixtureNucleiSegmentation", "id": "bioimage-io/fixture-shark"}]
    errors = [json.loads(line) for line in (zoo_run["run_folder"] / "errors.jsonl").read_text().splitlines()]
    [rejected] = [e for e in errors if e.get("id") == "bioimage-io/fixture-rejected"]
    assert "Either 'doi' or 'url' is required" in rejected["reason"]


def test_relations_people_papers_and_the_collections_dataset(zoo_run):
    stores = zoo_run["stores"]
    rels = {(r["t"], r["u"]) for r in query(stores, "MATCH ({uri: $u})-[r]->(x) RETURN type(r) AS t, x.uri AS u", u=ZOO + "fixture-shark")}
    assert {("fair4ml__trainedOn", ZOO + "fixture-cells"), ("schema__creator", "https://orcid.org/0000-0002-1825-0097"),
            ("schema__creator", "https://github.com/constantinpape"), ("schema__maintainer", "https://github.com/constantinpape"),
            ("schema__license", "https://spdx.org/licenses/CC-BY-4.0"), ("codemeta__referencePublication", "https://arxiv.org/abs/2101.00001"),
            ("codemeta__referencePublication", "https://doi.org/10.1038/nmeth.4151")} <= rels
    [dataset] = query(stores, "MATCH (d:schema__Dataset {uri: $u}) RETURN d.schema__name AS name", u=ZOO + "fixture-cells")
    assert dataset["name"] == "Fixture Nuclei Training Data"
    # One person, by ORCID, for both models and the dataset's author.
    [ada] = query(stores, "MATCH (p:schema__Person {uri: 'https://orcid.org/0000-0002-1825-0097'})<-[:schema__creator]-(m) "
                          "RETURN p.schema__name AS name, count(m) AS models")
    assert ada == {"name": "Ada Lovelace", "models": 2}


def test_an_older_id_names_the_collections_node_and_links_become_related_resources(zoo_run):
    stores = zoo_run["stores"]
    rels = {(r["t"], r["u"]) for r in query(stores, "MATCH ({uri: $u})-[r]->(x) RETURN type(r) AS t, x.uri AS u", u=ZOO + "fixture-legacy")}
    # The 0.4 model names its training data by the dataset's own older id: the same dataset node.
    assert {("fair4ml__trainedOn", ZOO + "fixture-cells"), ("mlentory__relatedResource", ZOO + "fixture-cells"),
            ("mlentory__relatedResource", ZOO + "fixture-viewer")} <= rels
    assert query(stores, "MATCH (d:schema__Dataset) WHERE d.uri STARTS WITH 'https://bioimage.io/' RETURN d.uri AS u") == [{"u": ZOO + "fixture-cells"}]
    [viewer] = query(stores, "MATCH (a:schema__SoftwareApplication {uri: $u})<-[:mlentory__relatedResource]-(m) "
                             "RETURN a.schema__name AS name, a.schema__version AS version, count(m) AS models", u=ZOO + "fixture-viewer")
    assert viewer == {"name": "Fixture Viewer", "version": "0.3.1", "models": 2}
    # The Hub's copy the shark links to: one relationship to the Hub's node (a stub until the Hub's run describes it).
    [hub] = query(stores, "MATCH ({uri: $u})-[:schema__sameAs]->(h) RETURN h.uri AS uri, h.mlentory__source AS source", u=ZOO + "fixture-shark")
    assert hub == {"uri": "https://huggingface.co/acme-ai/vision-det", "source": "huggingface"}


def test_the_index_names_the_source_and_an_unchanged_collection_costs_one_request(zoo_run):
    es = zoo_run["stores"].es()
    es.indices.refresh(index="mlentory_models")
    hits = es.search(index="mlentory_models", query={"term": {"source": "ai4life"}})["hits"]["hits"]
    assert sorted(h["_source"]["name"] for h in hits) == ["FixtureLegacyDenoiser", "FixtureNucleiSegmentation"]
    # Found by the people who made them: the ORCID person authored both.
    by_author = es.search(index="mlentory_models", query={"match": {"creator_names.text": "Lovelace"}})["hits"]["hits"]
    assert sorted(h["_source"]["identifier"] for h in by_author) == ["bioimage-io/fixture-legacy", "bioimage-io/fixture-shark"]
    [shark] = [h["_source"] for h in by_author if h["_source"]["identifier"].endswith("shark")]
    assert shark["creators"][0] == "https://orcid.org/0000-0002-1825-0097" and "Ada Lovelace" in shark["creator_names"]
    # First run: the index, 5 descriptions (3 models, 1 dataset, 1 application) and the models' 3
    # documentations (1 missing); then only the index: descriptions are kept by (id, version, sha256), the
    # rejected one remembered as rejected.
    assert zoo_run["stats"] == {"first": 1 + 5 + 3, "again": 1}, zoo_run["stats"]
    summary = json.loads((zoo_run["again"] / "extraction" / "SUCCESS.json").read_text())
    assert summary["models"] == 0 and summary["datasets"] == 1 and summary["applications and notebooks"] == 1
