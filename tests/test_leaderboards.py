"""Evaluations comparable across sources: every metric value names its term of the metric vocabulary
(a card's ``acc`` and OpenML's ``predictive_accuracy`` are one term; OpenML's class-weighted averages
are their own), a dataset names the same data at another source where it says so, each value is a
document of the evaluations index, and a leaderboard of one dataset by one metric ranks the models of
every source in the metric's direction."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import query

from mlentory.errors import InvalidInput
from mlentory.fair4ml import iris
from mlentory.fair4ml.models import MLModel
from mlentory.pipeline import leaderboards
from mlentory.sources.huggingface import linking as hf_linking
from mlentory.sources.huggingface import properties as hf
from mlentory.sources.openml import linking as openml_linking
from mlentory.sources.openml import properties as openml
from mlentory.stores.search_index import EntityLabel, evaluation_documents

METRIC = "https://w3id.org/mlentory/metric/"
IRIS = "https://www.openml.org/d/61"
HUB_IRIS = "https://huggingface.co/datasets/scikit-learn/iris"

# A model-index in the shapes the recorded cards write (the Open LLM Leaderboard's acc_norm, AutoTrain's
# averaged F1s, a speech card's "Test WER (+LM)", an unknown metric).
MODEL_INDEX = [{"name": "m", "results": [
    {"task": {"type": "text-classification"}, "dataset": {"type": "scikit-learn/iris", "name": "Iris", "split": "test"},
     "metrics": [{"type": "acc", "value": 0.97, "name": "accuracy"}, {"type": "f1", "value": 0.95, "name": "F1 Macro"},
                 {"type": "f1", "value": 0.96, "name": "F1 Weighted"}, {"type": "unknown", "value": 7.1, "name": "score"}]},
    {"task": {"type": "automatic-speech-recognition"}, "dataset": {"type": "common_voice", "name": "Common Voice en"},
     "metrics": [{"type": "wer", "value": 12.5, "name": "Test WER (+LM)"}, {"type": "acc_norm", "value": 61.2, "name": "normalized accuracy"}]},
]}]


def test_every_card_value_names_its_term_and_keeps_the_cards_own_name():
    partial = hf.evaluations({"id": "acme/m", "card_data": {"model-index": MODEL_INDEX}}, None)
    values = [(m["name"], m["propertyID"], m.get("metric")) for e in partial["hasEvaluation"] for m in e["evaluationMetrics"]]
    assert values == [("accuracy", "acc", f"{METRIC}accuracy"), ("F1 Macro", "f1", f"{METRIC}f1-macro"),
                      ("F1 Weighted", "f1", f"{METRIC}f1-weighted"), ("score", "unknown", None),
                      ("Test WER (+LM)", "wer", f"{METRIC}word-error-rate"), ("normalized accuracy", "acc_norm", f"{METRIC}normalized-accuracy")]


def test_openml_measures_name_their_terms_its_class_weighted_averages_their_own():
    """OpenML's f_measure, precision, recall and AUC average the classes weighted by their share: in
    the recorded run 219 f_measure is 0.7535 where the classes' plain mean is 0.5451."""
    run = {"run_id": 7, "flow_id": 101, "task_id": 301, "data_id": 61, "data_name": "iris",
           "values": {"predictive_accuracy": 0.96, "f_measure": 0.95, "area_under_roc_curve": 0.99, "kappa": 0.94,
                      "root_mean_squared_error": 0.15, "usercpu_time_millis": 12.0}}
    [evaluation] = openml.run_evaluations({"id": "101"}, [run])["hasEvaluation"]
    assert {m["name"]: m.get("metric") for m in evaluation["evaluationMetrics"]} == {
        "area_under_roc_curve": f"{METRIC}roc-auc-weighted", "f_measure": f"{METRIC}f1-weighted", "kappa": f"{METRIC}cohen-kappa",
        "predictive_accuracy": f"{METRIC}accuracy", "root_mean_squared_error": f"{METRIC}root-mean-squared-error", "usercpu_time_millis": None}


def test_a_dataset_is_the_same_data_at_another_source_only_where_it_says_so():
    hub = {"found": True, "id": "scikit-learn/iris", "tags": ["doi:10.57967/hf/0123", "size_categories:n<1K"],
           "card_data": {"pretty_name": "Iris", "source_datasets": ["https://www.openml.org/search?type=data&status=active&id=61"]},
           "description": "The Iris data set."}
    _, [(_, record), *_] = hf_linking.LINKERS["datasets"]({"kind": "datasets", "key": "scikit-learn/iris"}, hub)
    assert record.same_dataset == [IRIS, "https://doi.org/10.57967/hf/0123"]
    assert hf_linking.same_data({**hub, "tags": [], "card_data": {}, "description": "Like OpenML's iris, with more rows."}) == []
    # OpenML: the Hub dataset its origin names, the DOI its origin is; never another OpenML data set.
    assert openml_linking.same_data({"original_data_url": f"{HUB_IRIS}/tree/main"}) == [HUB_IRIS]
    assert openml_linking.same_data({"original_data_url": "https://doi.org/10.5281/zenodo.1234"}) == ["https://doi.org/10.5281/zenodo.1234"]
    assert openml_linking.same_data({"original_data_url": "http://www.openml.org/d/2", "description": "From UCI."}) == []


def test_each_value_is_a_document_naming_the_same_data_at_every_source():
    partial = hf.evaluations({"id": "acme/m", "card_data": {"model-index": MODEL_INDEX}}, None)
    evaluations = [{**e, "evaluationDataset": [HUB_IRIS] if "iris" in e["name"].lower() else [], "mlTask": []} for e in partial["hasEvaluation"]]
    record = {"@id": "https://huggingface.co/acme/m", "identifier": "acme/m", "name": "m", "source": "huggingface", "hasEvaluation": evaluations}
    documents = dict(evaluation_documents(record, {HUB_IRIS: EntityLabel("scikit-learn/iris", "Iris", (IRIS,))}))
    assert len(documents) == 6
    accuracy = next(d for d in documents.values() if d["metric"] == "accuracy")
    assert accuracy["datasets"] == [HUB_IRIS, IRIS] and accuracy["dataset"] == "scikit-learn/iris" and accuracy["dataset_name"] == "Iris"
    assert (accuracy["metric_term"], accuracy["higher_is_better"], accuracy["value"], accuracy["dataset_split"]) == ("accuracy", True, 0.97, "test")
    wer = next(d for d in documents.values() if d["metric_type"] == "wer")
    assert (wer["metric_term"], wer["higher_is_better"], wer["datasets"]) == ("word-error-rate", False, [])
    assert next(d for d in documents.values() if d["metric"] == "score")["metric_term"] is None


def test_a_leaderboard_is_asked_for_by_names_a_user_writes():
    assert leaderboards.metric_of("acc").id == "accuracy" and leaderboards.metric_of("F1 Macro").id == "f1-macro"
    assert leaderboards.metric_of("word-error-rate").higher_is_better is False
    assert leaderboards.dataset_of("openml:61") == IRIS and leaderboards.dataset_of("scikit-learn/iris") == HUB_IRIS
    assert leaderboards.dataset_of("https://www.openml.org/search?type=data&id=61") == IRIS
    for metric in ("no such metric", ""):
        with pytest.raises(InvalidInput):
            leaderboards.metric_of(metric)
    for dataset in ("", "a b", "x" * 400, "<script>"):
        with pytest.raises(InvalidInput):
            leaderboards.dataset_of(dataset)


# -- the stores: one leaderboard over two sources ----------------------------------------------------

def _hub_model(model_id: str, accuracy: float, wer: float | None = None) -> dict:
    results = [{"task": {"type": "tabular-classification"}, "dataset": {"type": "scikit-learn/iris", "name": "Iris"},
                "metrics": [{"type": "accuracy", "value": accuracy}]}]
    if wer is not None:
        results.append({"task": {"type": "automatic-speech-recognition"}, "dataset": {"type": "scikit-learn/iris"},
                        "metrics": [{"type": "wer", "value": wer}]})
    partial = hf.evaluations({"id": model_id, "card_data": {"model-index": [{"name": model_id, "results": results}]}}, None)
    for evaluation in partial["hasEvaluation"]:
        evaluation.update(evaluationDataset=[HUB_IRIS], mlTask=[])
    return MLModel.model_validate({"@id": iris.hf_model_iri(model_id), "identifier": model_id, "name": model_id, "source": "huggingface",
                                   "hasEvaluation": partial["hasEvaluation"]}).to_jsonld()


def _openml_flow(flow_id: int, runs: dict[int, float]) -> dict:
    partial = openml.run_evaluations({"id": str(flow_id)}, [
        {"run_id": run, "flow_id": flow_id, "task_id": 59, "data_id": 61, "data_name": "iris", "values": {"predictive_accuracy": value}}
        for run, value in runs.items()])
    for evaluation in partial["hasEvaluation"]:
        evaluation.update(evaluationDataset=[IRIS], mlTask=[])
    return MLModel.model_validate({"@id": iris.openml_flow_iri(flow_id), "identifier": f"openml:flow/{flow_id}", "name": f"flow {flow_id}",
                                   "source": "openml", "hasEvaluation": partial["hasEvaluation"]}).to_jsonld()


def test_one_leaderboard_ranks_the_models_of_both_sources(empty_stores, tmp_path):
    from mlentory.fair4ml.models import Dataset
    from mlentory.pipeline.loading import prepare_graph
    from mlentory.stores.graph import GraphLoader
    from mlentory.stores.search_index import delete_documents, ensure_index, index_models

    hub_iris = Dataset(id=HUB_IRIS, identifier="scikit-learn/iris", name="Iris", same_dataset=[IRIS]).to_jsonld()
    openml_iris = Dataset(id=IRIS, identifier="openml:data/61", name="iris").to_jsonld()
    models = [_hub_model("acme/iris-tree", 0.93), _hub_model("acme/iris-forest", 0.975, wer=3.0), _openml_flow(101, {5001: 0.96, 5002: 0.94}),
              _openml_flow(102, {5003: 0.98})]
    with empty_stores.driver() as driver:
        prepare_graph(driver)
        graph = GraphLoader(driver)
        assert graph.load([hub_iris, openml_iris, *models]) == (6, [])
        es = empty_stores.es()
        ensure_index(es, "mlentory_models")
        labels = {HUB_IRIS: EntityLabel("scikit-learn/iris", "Iris", (IRIS,)), IRIS: EntityLabel("openml:data/61", "iris")}
        assert index_models(es, "mlentory_models", models, labels) == (4, [])

        board = leaderboards.export("openml:61", "acc", 10, "mlentory_models", graph, es, str(tmp_path))
        assert [(row["rank"], row["model_identifier"], row["source"], row["value"]) for row in board["rows"]] == [
            (1, "openml:flow/102", "openml", 0.98), (2, "acme/iris-forest", "huggingface", 0.975),
            (3, "openml:flow/101", "openml", 0.96), (4, "acme/iris-tree", "huggingface", 0.93)]  # flow 101 once, by its best run
        assert board["same_data"] == [HUB_IRIS] and board["sources"] == ["huggingface", "openml"]
        assert json.loads((tmp_path / board["json"]).read_text())["rows"] == board["rows"]
        rows = list(csv.DictReader(io.StringIO((tmp_path / board["csv"]).read_text())))
        assert [row["model"] for row in rows] == [row["model"] for row in board["rows"]] and rows[0]["value"] == "0.98"
        # From the Hub's side of the same data, the same board; a lower-is-better metric ascending.
        assert leaderboards.export("scikit-learn/iris", "accuracy", 2, "mlentory_models", graph, es, str(tmp_path))["rows"] == board["rows"][:2]
        assert [row["value"] for row in leaderboards.export(HUB_IRIS, "wer", 10, "mlentory_models", graph, es, str(tmp_path))["rows"]] == [3.0]

        # The graph answers the same question in one Cypher query (the README's).
        top = query(empty_stores, TOP_10_CYPHER, dataset=IRIS, metric=f"{METRIC}accuracy")
        assert [(row["model"], row["best"]) for row in top] == [(iris.openml_flow_iri(102), 0.98), (iris.hf_model_iri("acme/iris-forest"), 0.975),
                                                                (iris.openml_flow_iri(101), 0.96), (iris.hf_model_iri("acme/iris-tree"), 0.93)]
        # The metric terms are nodes of their own.
        assert query(empty_stores, "MATCH (t:Resource {uri: $uri}) RETURN t.schema__name AS name", uri=f"{METRIC}f1-macro") == [{"name": "F1 score (macro)"}]

        # A model loaded again without a result loses its value; a withdrawn model all of its values.
        assert index_models(es, "mlentory_models", [_openml_flow(102, {})], labels) == (1, [])
        delete_documents(es, "mlentory_models", [iris.hf_model_iri("acme/iris-tree")])
        rows = leaderboards.export("openml:61", "accuracy", 10, "mlentory_models", graph, es, str(tmp_path))["rows"]
        assert [row["model_identifier"] for row in rows] == ["acme/iris-forest", "openml:flow/101"]


TOP_10_CYPHER = """
MATCH (d:Resource {uri: $dataset})
OPTIONAL MATCH (d)-[:schema__sameAs*1..2]-(same:Resource)
WITH [d] + collect(DISTINCT same) AS datasets
UNWIND datasets AS dataset
MATCH (dataset)<-[:fair4ml__evaluationDataset]-(e)<-[:fair4ml__hasEvaluation]-(m:fair4ml__MLModel),
      (e)-[:fair4ml__evaluationMetrics]->(v)-[:mlentory__metric]->(:Resource {uri: $metric})
RETURN m.uri AS model, max(v.schema__value) AS best
ORDER BY best DESC LIMIT 10
"""


# -- the DAGs: the Hub's and OpenML's chains on the fixture, then the leaderboard DAG -------------------

def test_the_leaderboard_dag_exports_the_models_of_both_chains(stores, tmp_path):
    """The fixture's scikit-learn iris classifier (a Hub card's model-index on ``scikit-learn/iris``,
    whose description names OpenML's data set 61) and OpenML's runs on data set 61 are one
    leaderboard by accuracy; the Iris node is ``sameAs`` OpenML's."""
    from conftest import FIXTURE_SNAPSHOT, clear, start_replay, use_data_root
    from pipeline import run_dag, run_source_chain, xcom

    clear(stores)
    root = use_data_root(tmp_path / "data")
    server = start_replay(FIXTURE_SNAPSHOT)
    try:
        run_source_chain("hf", {"num_models": 0, "model_ids": ["lab-x/iris-logreg"], "ancestor_generations": 0})
        run_source_chain("openml", {"num_flows": 10})
    finally:
        server.shutdown()
        server.server_close()
    assert query(stores, "MATCH (:Resource {uri: $hub})-[:schema__sameAs]->(d:schema__Dataset) RETURN d.uri AS uri", hub=HUB_IRIS) == [{"uri": IRIS}]

    written = xcom(run_dag("mlentory_leaderboard", {"dataset": "openml:61", "metric": "acc", "size": 10}), "export_leaderboard")
    assert written["sources"] == ["huggingface", "openml"] and written["metric"] == "accuracy" and written["models"] == 2
    board = json.loads((root / written["json"]).read_text())
    assert [(row["model_identifier"], row["source"], row["value"], row["metric"]) for row in board["rows"]] == [
        ("lab-x/iris-logreg", "huggingface", 0.967, "Accuracy"), (board["rows"][1]["model_identifier"], "openml", 0.9612, "predictive_accuracy")]
    assert board["same_data"] == [HUB_IRIS]
    # The card's F1 Macro is a term of its own: no OpenML value is ranked with it.
    f1 = xcom(run_dag("mlentory_leaderboard", {"dataset": "scikit-learn/iris", "metric": "F1 Macro", "size": 10}), "export_leaderboard")
    assert (f1["models"], f1["sources"], f1["metric"]) == (1, ["huggingface"], "f1-macro")
