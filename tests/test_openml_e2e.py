"""OpenML end to end: the three OpenML DAGs (dag.test) against the replay, the real ``openml`` client,
the local graph and index; into the same graph and index as the Hub's models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURE_SNAPSHOT, clear, query, start_replay, use_data_root
from pipeline import run_dag, xcom

OML = "https://www.openml.org/"


@pytest.fixture(scope="module")
def openml_run(stores, tmp_path_factory):
    clear(stores)
    use_data_root(tmp_path_factory.mktemp("openml") / "data")
    server = start_replay(FIXTURE_SNAPSHOT)
    try:
        extraction = run_dag("openml_extraction", {"num_flows": 10})
        run_folder = xcom(extraction, "openml_run_folder")
        run_dag("openml_transformation", {"run_folder": run_folder})
        run_dag("openml_loading", {"run_folder": run_folder})
        again = run_dag("openml_extraction", {"num_flows": 10})  # incremental: nothing new
        stats = dict(server.stats)
    finally:
        server.shutdown()
        server.server_close()
    return {"run_folder": Path(run_folder), "stores": stores, "stats": stats, "again": Path(xcom(again, "openml_run_folder"))}



def test_flows_are_models_with_their_source(openml_run):
    rows = query(openml_run["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__source = 'openml' AND m.schema__version IS NOT NULL "
                                       "RETURN m.uri AS uri, m.schema__name AS name, m.schema__identifier AS id ORDER BY uri")
    assert rows == [{"uri": OML + "f/101", "name": "sklearn.Pipeline(SimpleImputer,RandomForestClassifier)", "id": "101"},
                    {"uri": OML + "f/102", "name": "sklearn.impute.SimpleImputer", "id": "102"}]
    [pipeline] = query(openml_run["stores"], "MATCH (m {uri: $u}) RETURN m.schema__softwareRequirements AS req", u=OML + "f/101")
    assert "sklearn==1.5.2" in pipeline["req"] and "numpy>=1.19.5" in pipeline["req"]
    parts = query(openml_run["stores"], "MATCH ({uri: $u})-[:schema__isBasedOn]->(c) RETURN c.uri AS c", u=OML + "f/101")
    assert parts == [{"c": OML + "f/102"}]
    # The language of its description: the same node as for a Hub model in English.
    languages = query(openml_run["stores"], "MATCH ({uri: $u})-[:schema__inLanguage]->(l) RETURN l.uri AS l", u=OML + "f/101")
    assert languages == [{"l": "http://lexvo.org/id/iso639-3/eng"}]


def test_run_evaluations_with_task_type_dataset_and_measures(openml_run):
    rows = query(openml_run["stores"],
                 "MATCH ({uri: $u})-[:fair4ml__hasEvaluation]->(e)-[:fair4ml__evaluationMetrics]->(v {schema__name: 'predictive_accuracy'}) "
                 "MATCH (e)-[:fair4ml__evaluationDataset]->(d) MATCH (e)-[:fair4ml__mlTask]->(t) "
                 "RETURN e.uri AS run, v.schema__value AS value, d.schema__name AS dataset, t.schema__name AS task ORDER BY run",
                 u=OML + "f/101")
    assert rows == [{"run": OML + "r/5001", "value": 0.9612, "dataset": "iris", "task": "Supervised Classification"},
                    {"run": OML + "r/5002", "value": 0.9587, "dataset": "iris", "task": "Supervised Classification"}]
    [iris] = query(openml_run["stores"], "MATCH (d {uri: $u})-[:schema__license]->(l) RETURN l.uri AS licence", u=OML + "d/61")
    assert iris["licence"] == "https://spdx.org/licenses/CC0-1.0"
    # Task 301 is 10-fold cross-validation on iris: the flow was trained on it, and each value says how it was measured.
    trained = query(openml_run["stores"], "MATCH ({uri: $u})-[:fair4ml__trainedOn]->(d) RETURN d.uri AS d", u=OML + "f/101")
    assert trained == [{"d": OML + "d/61"}]
    techniques = query(openml_run["stores"], "MATCH ({uri: $u})-[:fair4ml__hasEvaluation]->()-[:fair4ml__evaluationMetrics]->(v) "
                                             "RETURN DISTINCT v.schema__measurementTechnique AS t", u=OML + "f/101")
    assert techniques == [{"t": "10-fold cross-validation, 1 repeat, stratified"}]
    # The paper its citation names: the DOI's IRI, as a Hub card citing it would give.
    [paper] = query(openml_run["stores"], "MATCH (d {uri: $u})-[:codemeta__referencePublication]->(p) "
                                          "RETURN p.uri AS uri, labels(p) AS labels, d.schema__creditText AS creator", u=OML + "d/61")
    assert paper["uri"] == "https://doi.org/10.1111/j.1469-1809.1936.tb02137.x" and "schema__ScholarlyArticle" in paper["labels"]
    assert paper["creator"] == ["R.A. Fisher"]
    [user] = query(openml_run["stores"], "MATCH ({uri: $u})-[:fair4ml__sharedBy]->(p:schema__Person) RETURN p.schema__name AS name",
                   u=OML + "f/101")
    assert user["name"] == "Jan van Rijn"
    # The dataset's language, tags, contributors and uploader (named by the one user/list request of the run).
    rows = query(openml_run["stores"], "MATCH ({uri: $u})-[r]->(x) WHERE type(r) IN ['schema__inLanguage', 'schema__keywords', "
                                       "'schema__contributor', 'schema__publisher'] RETURN type(r) AS r, x.schema__name AS name", u=OML + "d/61")
    assert sorted((row["r"], row["name"]) for row in rows) == [
        ("schema__contributor", "Michael Marshall"), ("schema__inLanguage", "English"), ("schema__keywords", "uci"), ("schema__publisher", "Jan van Rijn")]


def test_the_index_names_the_source(openml_run):
    es = openml_run["stores"].es()
    es.indices.refresh(index="mlentory_models")
    hits = es.search(index="mlentory_models", query={"term": {"source": "openml"}})["hits"]["hits"]
    assert sorted(h["_source"]["name"] for h in hits) == ["sklearn.Pipeline(SimpleImputer,RandomForestClassifier)", "sklearn.impute.SimpleImputer"]


def test_the_api_budget_and_incremental_runs(openml_run):
    stats = openml_run["stats"]
    # Run 1: 1 listing + 2 flows + 5 measures x 1 batch (+ 1 user list for the measures with rows) + 1 task + 1 dataset
    # (+ 1 user list for its uploader);
    # run 2: 1 listing and nothing else (both flows are loaded, their descriptions cached).
    assert stats["openml"] <= 1 + 2 + 5 + 5 + 1 + 1 + 1 + 1, stats
    summary = json.loads((openml_run["again"] / "extraction" / "SUCCESS.json").read_text())
    assert summary["models"] == 0


def test_a_loaded_flow_that_gained_a_run_is_processed_again_with_check_new_runs(openml_run, tmp_path):
    """The highest run id is part of a flow's revision: with ``check_new_runs`` the loaded flows'
    evaluations are listed again (their descriptions come from the cache) and only the flow with a
    new run is processed; it is loaded with all three of its runs."""
    import shutil

    snapshot = tmp_path / "snapshot"
    shutil.copytree(FIXTURE_SNAPSHOT, snapshot)
    new_run = (snapshot / "openml" / "runs" / "5002" / "run.xml").read_text().replace("<oml:run_id>5002<", "<oml:run_id>5003<")
    (snapshot / "openml" / "runs" / "5003").mkdir()
    (snapshot / "openml" / "runs" / "5003" / "run.xml").write_text(new_run.replace("0.9587", "0.9700"))
    use_data_root(openml_run["run_folder"].parents[2])  # the data root (and its state) of the runs above
    server = start_replay(snapshot)
    try:
        unchanged = run_dag("openml_extraction", {"num_flows": 0, "check_new_runs": True})
        assert json.loads((Path(xcom(unchanged, "openml_run_folder")) / "extraction" / "SUCCESS.json").read_text())["models"] == 1
        requests = server.stats["openml"]
    finally:
        server.shutdown()
        server.server_close()
    run_folder = xcom(unchanged, "openml_run_folder")
    summary = json.loads((Path(run_folder) / "extraction" / "SUCCESS.json").read_text())
    assert (summary["models"], summary["skipped_unchanged"]) == (1, 1)
    # 1 listing + 5 measures x 1 batch of 2 flows (+ 1 user list each with rows) + the new run's task and dataset (cached): no flow/{id}.
    assert requests <= 1 + 5 + 5, requests
    run_dag("openml_transformation", {"run_folder": run_folder})
    run_dag("openml_loading", {"run_folder": run_folder})
    runs = query(openml_run["stores"], "MATCH ({uri: $u})-[:fair4ml__hasEvaluation]->(e) RETURN e.uri AS run ORDER BY run", u=OML + "f/101")
    assert [r["run"] for r in runs] == [OML + "r/5001", OML + "r/5002", OML + "r/5003"]
