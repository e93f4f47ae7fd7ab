"""Evaluations in both stores, and shared nodes whichever card came last: every result of a card's model-index is one evaluation node in the
graph and its values are in the search index, the same values in both (results told apart only by
the dataset's name, or only by the task's name, included)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import evaluation_values, query
from test_fidelity import CARD_2021, HUMANEVALPACK_CARD, SPACY_CARD, card_model, resolved

from mlentory.pipeline.loading import load_entities
from mlentory.pipeline.run_folder import RunFolder
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


# -- shared nodes: a licence is the same node whichever card was read last ------------------------

LLAMA3 = "https://w3id.org/mlentory/license/llama3"
CARD_LICENCE = "https://huggingface.co/org/m/blob/main/LICENSE"


def licence_runs(tmp_path) -> list[Path]:
    """Two runs' licence records as two cards name them: one names llama3 by ``license_name`` only,
    another gives the Hub's id; two name one licence link differently."""
    from mlentory.fair4ml.jsonld import write_jsonld
    from mlentory.fair4ml.linking import link_licenses

    def records(*mentions: dict) -> list[dict]:
        return [record.to_jsonld() for m in mentions for _, record in link_licenses(m, {})[1]]

    runs = []
    for mentions in ([{"kind": "licenses", "key": "name:llama3", "name": "llama3"},
                      {"kind": "licenses", "key": CARD_LICENCE, "name": "Acme Model License", "url": CARD_LICENCE}],
                     [{"kind": "licenses", "key": "llama3"},
                      {"kind": "licenses", "key": CARD_LICENCE, "name": "acme-license", "url": CARD_LICENCE}]):
        run = RunFolder.create(tmp_path / "data", "hf")
        write_jsonld(run.file("transformation", "entities", "licenses.jsonld"), records(*mentions))
        runs.append(run.path)
    return runs


def licence_nodes(stores) -> dict:
    rows = query(stores, "MATCH (n:schema__CreativeWork) RETURN n.uri AS uri, n.schema__name AS name, n.schema__url AS url, "
                         "n.schema__alternateName AS alternates")
    return {r["uri"]: (r["name"], r["url"], sorted(r["alternates"] or [])) for r in rows}


@pytest.mark.parametrize("order", [(0, 1), (1, 0)], ids=["first-then-second", "second-then-first"])
def test_a_licence_node_is_the_same_in_any_load_order(empty_stores, tmp_path, order):
    runs = licence_runs(tmp_path)
    with empty_stores.driver() as driver:
        for position in order:
            load_entities(str(runs[position]), "licenses", driver)
    assert licence_nodes(empty_stores) == {
        LLAMA3: ("Llama 3 Community License Agreement", "https://llama.meta.com/llama3/license/", []),
        CARD_LICENCE: ("Acme Model License", CARD_LICENCE, ["acme-license"]),
    }
