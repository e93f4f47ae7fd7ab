"""Evaluations in both stores: every result of a card's model-index is one evaluation node in the
graph and its values are in the search index, the same values in both (results told apart only by
the dataset's name, or only by the task's name, included)."""

from __future__ import annotations

from conftest import evaluation_values
from test_fidelity import CARD_2021, HUMANEVALPACK_CARD, SPACY_CARD, card_model, resolved

from mlentory.settings import ES_MODELS_INDEX
from mlentory.stores.graph import GraphLoader
from mlentory.stores.search_index import ensure_index, index_models


def test_graph_and_index_hold_every_result_and_the_same_values(empty_stores):
    records = [resolved(*card_model(model_id, text)).to_jsonld() for model_id, text in (
        ("bigcode/octocoder", HUMANEVALPACK_CARD), ("spacy/en_core_web_sm", SPACY_CARD), ("m3hrdadfi/wav2vec2-large-xlsr-turkish", CARD_2021))]
    with empty_stores.driver() as driver:
        GraphLoader(driver).ensure_schema()
        assert GraphLoader(driver).load(records) == (3, [])
    es = empty_stores.es()
    ensure_index(es, ES_MODELS_INDEX)
    assert index_models(es, ES_MODELS_INDEX, records, {}) == (3, [])

    graph, index = evaluation_values(empty_stores)
    assert graph == index
    assert {model: len(values) for model, values in graph.items()} == {
        "https://huggingface.co/bigcode/octocoder": 3, "https://huggingface.co/spacy/en_core_web_sm": 4,
        "https://huggingface.co/m3hrdadfi/wav2vec2-large-xlsr-turkish": 1}
    # One query asks for a value above 40 on the dataset (no labels given here: the dataset by its IRI).
    hits = es.search(index=ES_MODELS_INDEX, query={"nested": {"path": "evaluation_values", "query": {"bool": {"filter": [
        {"term": {"evaluation_values.dataset": "https://huggingface.co/datasets/bigcode/humanevalpack"}}, {"range": {"evaluation_values.value": {"gt": 40}}}]}}}})
    assert [h["_source"]["identifier"] for h in hits["hits"]["hits"]] == ["bigcode/octocoder"]
