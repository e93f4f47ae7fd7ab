"""One graph and one search across the three sources: the Hub's, OpenML's and the zoo's fixture
models loaded into the same stores by their own DAGs. What two sources name (a paper, a licence, a
language) is one node, a source that only names it never overwrites what another described, and
one search returns models of every source with their source."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import FIXTURE_SNAPSHOT, clear, query, start_replay, use_data_root
from pipeline import run_pipeline, run_source_chain

PAPER = "https://arxiv.org/abs/2101.00001"


@contextmanager
def replay_of(snapshot: Path) -> Iterator[None]:
    server = start_replay(snapshot)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def three_sources(stores, tmp_path_factory):
    clear(stores)
    use_data_root(tmp_path_factory.mktemp("cross-source") / "data")
    # The zoo harvests while arXiv knows nothing of the paper it cites: it can only name it.
    without_arxiv = tmp_path_factory.mktemp("cross-source-snapshot") / "snapshot"
    shutil.copytree(FIXTURE_SNAPSHOT, without_arxiv, ignore=shutil.ignore_patterns("arxiv"))
    with replay_of(without_arxiv):
        run_source_chain("ai4life", {"num_resources": 10}, max_error_rate=0.5)
    with replay_of(FIXTURE_SNAPSHOT):  # the Hub's run describes the paper (arXiv answers)
        run_pipeline({"num_models": 5, "ancestor_generations": 2})
        run_source_chain("openml", {"num_flows": 10})
    with replay_of(without_arxiv):  # the zoo again: its stub of the paper must not replace the description
        run_source_chain("ai4life", {"num_resources": 10, "full_refresh": True}, max_error_rate=0.5)
    return stores


def test_a_paper_two_sources_cite_is_one_node_described_by_the_source_that_knows_it(three_sources):
    rows = query(three_sources, "MATCH (p {uri: $u})<-[:codemeta__referencePublication]-(m) "
                                "RETURN p.schema__name AS title, count(p) AS nodes, collect(DISTINCT m.mlentory__source) AS sources", u=PAPER)
    assert len(rows) == 1 and sorted(rows[0]["sources"]) == ["ai4life", "huggingface"]
    assert rows[0]["title"] == "Pretraining Small Language Models on Web Text"  # arXiv's title, never a bare "arXiv:2101.00001"
    assert query(three_sources, "MATCH (p:Resource {uri: $u}) RETURN count(p) AS c", u=PAPER) == [{"c": 1}]


def test_licences_and_languages_are_shared_nodes(three_sources):
    licence = query(three_sources, "MATCH (l {uri: 'https://spdx.org/licenses/CC-BY-4.0'})<-[:schema__license]-(m) "
                                   "RETURN collect(DISTINCT m.mlentory__source) AS sources")
    assert sorted(licence[0]["sources"]) == ["ai4life", "huggingface"]
    english = query(three_sources, "MATCH (l {uri: 'http://lexvo.org/id/iso639-3/eng'})<-[:schema__inLanguage]-(m) "
                                   "RETURN collect(DISTINCT m.mlentory__source) AS sources")
    assert sorted(english[0]["sources"]) == ["huggingface", "openml"]


def test_the_zoos_model_on_the_hub_is_linked_to_the_hubs_description_not_to_a_second_node(three_sources):
    rows = query(three_sources, "MATCH (z {uri: 'https://bioimage.io/#/artifacts/fixture-shark'})-[:schema__sameAs]->(h) "
                                "RETURN h.uri AS uri, h.mlentory__source AS source, h.mlentory__sourceSha IS NOT NULL AS described")
    assert rows == [{"uri": "https://huggingface.co/acme-ai/vision-det", "source": "huggingface", "described": True}]
    assert query(three_sources, "MATCH (h:Resource {uri: 'https://huggingface.co/acme-ai/vision-det'}) RETURN count(h) AS c") == [{"c": 1}]


def test_one_search_returns_models_of_every_source_with_their_source(three_sources):
    es = three_sources.es()
    es.indices.refresh(index="mlentory_models")
    hits = es.search(index="mlentory_models", size=50, query={"multi_match": {
        "query": "classification segmentation denoising", "fields": ["name", "description", "keywords.text", "ml_task_names.text"]}})["hits"]["hits"]
    assert {h["_source"]["source"] for h in hits} == {"ai4life", "huggingface", "openml"}
    counts = es.search(index="mlentory_models", size=0, aggs={"sources": {"terms": {"field": "source"}}})["aggregations"]["sources"]["buckets"]
    assert {b["key"]: b["doc_count"] for b in counts} == {"ai4life": 2, "huggingface": 8, "openml": 2}
