"""Every registered source end to end: its three DAGs (``dag.test``) on the project's fixture snapshot,
served by the replay to its real client, into the local graph and index (the stand-ins).

One chain per source (a module-scoped fixture parametrized over the registered sources): the tests
every source must pass are parametrized over all of them (``for_every_source``); a source's own
tests name it (``for_source``) and share its chain."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_SNAPSHOT, clear, query, start_replay, use_data_root
from pipeline import normalized_records, per_source, run_dag, source_keys, source_of, xcom

from mlentory.fair4ml.metrics import term_records as metric_term_records
from mlentory.stores.search_index import document_id

HF = "https://huggingface.co/"
SENTIMENT = HF + "acme-ai/sentiment-lm"
ALL_MODELS = {
    "acme-ai/old-base", "acme-ai/base-lm", "acme-ai/sentiment-lm", "jdoe/sentiment-lm-gguf",
    "acme-ai/vision-det", "lab-x/speech-asr", "lab-x/broken-card", "community/merged-lm",
}
OML = "https://www.openml.org/"
ZOO = "https://bioimage.io/#/artifacts/"


@dataclass(frozen=True)
class FixtureChain:
    """How a source's chain runs on the fixture snapshot."""

    extraction: dict[str, Any]
    transformation: dict[str, Any] = field(default_factory=dict)
    replay: dict[str, Any] = field(default_factory=dict)
    again: dict[str, Any] | None = None  # the second extraction's conf (default: the first's)


CHAINS = {
    # The 5 latest models, one by id (a duplicate of a latest one) and one that does not exist; two
    # generations of ancestors bring in sentiment-lm, base-lm and old-base.
    "hf": FixtureChain({"num_models": 5, "model_ids": ["acme-ai/vision-det", "ghost/does-not-exist"], "ancestor_generations": 2,
                        "max_error_rate": 0.2}, {"chunk_size": 3}, {"page_size": 3},
                       # Again without the id that does not exist: its error alone would be the whole run's.
                       again={"num_models": 5, "model_ids": ["acme-ai/vision-det"], "ancestor_generations": 2}),
    "openml": FixtureChain({"num_flows": 10}),
    # One of the three fixture models is rejected on purpose: above the default error budget.
    "ai4life": FixtureChain({"num_resources": 10, "max_error_rate": 0.5}),
}

for_source, for_every_source = per_source("chain")  # one run per source, shared by its tests


@pytest.fixture(scope="module")
def chain(request, stores, tmp_path_factory) -> dict[str, Any]:
    """The source's three DAGs on one run folder, then its extraction again (incremental: nothing new)."""
    key = request.param
    recipe = CHAINS[key]
    clear(stores)
    use_data_root(tmp_path_factory.mktemp(key) / "data")
    server = start_replay(FIXTURE_SNAPSHOT, **recipe.replay)
    try:
        run_folder = xcom(run_dag(f"{key}_extraction", recipe.extraction), f"{key}_run_folder")
        run_dag(f"{key}_transformation", {"run_folder": run_folder, **recipe.transformation})
        run_dag(f"{key}_loading", {"run_folder": run_folder})
        stats = dict(server.stats)
        again = xcom(run_dag(f"{key}_extraction", recipe.again or recipe.extraction), f"{key}_run_folder")
        stats_again = {name: count - stats.get(name, 0) for name, count in server.stats.items()}
    finally:
        server.shutdown()
        server.server_close()
    return {"source": source_of(key), "run_folder": Path(run_folder), "again": Path(again), "stores": stores, "stats": stats,
            "stats_again": stats_again}


def test_every_registered_source_has_a_fixture_chain():
    assert set(CHAINS) == set(source_keys())


def normalized_models(run_folder: Path) -> dict[str, dict[str, Any]]:
    return normalized_records(run_folder, by="@id")


@for_every_source
def test_every_normalized_model_is_one_graph_node_and_one_index_document_of_its_source(chain):
    source, models = chain["source"], normalized_models(chain["run_folder"])
    assert models
    rows = query(chain["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.uri IN $iris RETURN m.uri AS iri, m.mlentory__source AS source, "
                                  "m.schema__name AS name, count(*) AS nodes", iris=list(models))
    assert {row["iri"] for row in rows} == set(models)
    assert all(row["nodes"] == 1 and row["source"] == source.name for row in rows), rows
    documents = chain["stores"].es().mget(index="mlentory_models", ids=[document_id(iri) for iri in models])["docs"]
    assert all(doc["found"] for doc in documents), [doc["_id"] for doc in documents if not doc["found"]]
    # The graph and the index say the same of each model.
    indexed = {doc["_source"]["iri"]: doc["_source"] for doc in documents}
    assert set(indexed) == set(models) and {doc["source"] for doc in indexed.values()} == {source.name}
    assert {iri: doc["name"] for iri, doc in indexed.items()} == {row["iri"]: row["name"] for row in rows}


@for_every_source
def test_the_run_report_counts_what_the_stores_hold(chain):
    run_folder = chain["run_folder"]
    report = json.loads((run_folder / "loading" / "report.json").read_text())
    assert (report["models_loaded"], report["models_failed"]) == (len(normalized_models(run_folder)), 0)
    errors = (run_folder / "errors.jsonl").read_text().splitlines() if (run_folder / "errors.jsonl").exists() else []
    assert report["errors"] == len(errors)
    summary = json.loads((run_folder / "loading" / "SUCCESS.json").read_text())
    assert summary["models_loaded"] == report["models_loaded"]  # what the asset event carries


@for_every_source
def test_a_second_extraction_finds_nothing_new(chain):
    summary = json.loads((chain["again"] / "extraction" / "SUCCESS.json").read_text())
    assert summary["models"] == 0, summary


# The Hub's own.

@for_source("hf")
def test_graph_holds_every_model_once(chain):
    rows = query(chain["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__sourceSha IS NOT NULL RETURN m.schema__identifier AS id")
    assert sorted(r["id"] for r in rows) == sorted(ALL_MODELS)
    assert query(chain["stores"], "MATCH (n:Resource) WITH n.uri AS uri, count(*) AS c WHERE c > 1 RETURN uri") == []


@for_source("hf")
def test_a_vanished_base_model_is_a_named_stub_and_a_warning(chain):
    [stub] = query(chain["stores"], "MATCH (m:fair4ml__MLModel {uri: $u}) RETURN properties(m) AS p", u=HF + "jdoe/vanished-model")
    assert stub["p"]["schema__name"] == "jdoe/vanished-model" and stub["p"]["schema__url"] == HF + "jdoe/vanished-model"
    assert "mlentory__sourceSha" not in stub["p"]
    warnings = [json.loads(line) for line in (chain["run_folder"] / "warnings.jsonl").read_text().splitlines()]
    assert [(w["id"], w["what"]) for w in warnings] == [("jdoe/vanished-model", "base model lookup"), ("lab-x/broken-card", "card metadata")]
    report = json.loads((chain["run_folder"] / "loading" / "report.json").read_text())
    assert report["warnings"] == 2 and report["warnings_by_kind"] == {"base model lookup": 1, "card metadata": 1}
    # A stub never replaces a model loaded in full: base-lm's stub was written before its record.
    [base] = query(chain["stores"], "MATCH (m:Resource {uri: $u}) RETURN m.mlentory__sourceSha AS sha", u=HF + "acme-ai/base-lm")
    assert base["sha"]


@for_source("hf")
def test_evaluations_are_nodes_a_single_query_can_filter(chain):
    rows = query(chain["stores"],
                 "MATCH (m:fair4ml__MLModel)-[:fair4ml__hasEvaluation]->(e:fair4ml__MLModelEvaluation)-[:fair4ml__evaluationDataset]->(d:Resource {uri: $d}), "
                 "(e)-[:fair4ml__evaluationMetrics]->(v:schema__PropertyValue) "
                 "WHERE v.schema__propertyID = 'accuracy' AND v.schema__value > 0.9 RETURN m.uri AS m, e.mlentory__datasetSplit AS split",
                 d=HF + "datasets/stanfordnlp/imdb")
    assert rows == [{"m": SENTIMENT, "split": "test"}]


@for_source("hf")
def test_graph_entity_counts(chain):
    rows = query(chain["stores"], "MATCH (n:Resource) UNWIND labels(n) AS label RETURN label, count(*) AS c")
    counts = {r["label"]: r["c"] for r in rows}
    assert counts["schema__Dataset"] == 4
    assert counts["schema__ScholarlyArticle"] == 3
    assert counts["schema__Organization"] == 3 and counts["schema__Person"] == 1
    assert counts["schema__Language"] == 3  # en, fr, de
    assert counts["schema__DefinedTerm"] == 50 + 5 + len(metric_term_records())  # keywords (every tag) + tasks + the metric vocabulary
    assert counts["schema__CreativeWork"] == 8  # licenses, SPDX and others
    assert counts["fair4ml__MLModelEvaluation"] == 1 and counts["schema__PropertyValue"] == 1


@for_source("hf")
def test_one_model_properties(chain):
    [model] = query(chain["stores"], "MATCH (m:Resource {uri: $uri}) RETURN properties(m) AS p, labels(m) AS l", uri=SENTIMENT)
    props = model["p"]
    assert "fair4ml__MLModel" in model["l"]
    assert props["schema__name"] == "acme-ai/sentiment-lm"
    assert props["schema__url"] == SENTIMENT
    assert props["fair4ml__intendedUse"].startswith("Intended for sentiment analysis of English movie reviews")
    assert "IMDB" in props["fair4ml__modelRisksBiasLimitations"]
    assert props["fair4ml__modelCategory"] == ["gpt2", "GPT2ForSequenceClassification"]
    assert props["fair4ml__evaluationMetrics"] == ["accuracy"]
    assert props["schema__citation"][0].startswith("@inproceedings{hopper2021sentiment")
    assert props["mlentory__sourceSha"] == "3" * 40
    assert props["schema__dateModified"].startswith("2025-01-15T12:00:00")


@for_source("hf")
def test_one_model_relationships(chain):
    rows = query(chain["stores"], "MATCH (:Resource {uri: $uri})-[r]->(x) RETURN type(r) AS t, x.uri AS u", uri=SENTIMENT)
    rels = {(r["t"], r["u"]) for r in rows if r["t"] not in ("schema__keywords", "fair4ml__hasEvaluation")}
    keywords = {r["u"].removeprefix("https://w3id.org/mlentory/keyword/") for r in rows if r["t"] == "schema__keywords"}
    assert {"gpt2", "sentiment-analysis", "generated-from-trainer", "text-classification", "en", "license-mit"} <= keywords
    assert len([r for r in rows if r["t"] == "fair4ml__hasEvaluation"]) == 1
    assert rels == {
        ("fair4ml__fineTunedFrom", HF + "acme-ai/base-lm"),
        ("schema__isBasedOn", HF + "acme-ai/base-lm"),
        ("fair4ml__trainedOn", HF + "datasets/stanfordnlp/imdb"),
        ("fair4ml__evaluatedOn", HF + "datasets/stanfordnlp/imdb"),
        ("fair4ml__mlTask", "https://w3id.org/mlentory/task/text-classification"),
        ("fair4ml__sharedBy", HF + "acme-ai"),
        ("schema__license", "https://spdx.org/licenses/MIT"),
        ("schema__inLanguage", "http://lexvo.org/id/iso639-3/eng"),
        ("codemeta__referencePublication", "https://arxiv.org/abs/2102.00002"),
    }


@for_source("hf")
def test_linked_entities_are_enriched(chain):
    [article] = query(chain["stores"], "MATCH (a:schema__ScholarlyArticle {uri: 'https://arxiv.org/abs/2101.00001'}) RETURN properties(a) AS p")
    assert article["p"]["schema__name"] == "Pretraining Small Language Models on Web Text"
    assert article["p"]["schema__author"] == ["Ada Lovelace", "Alan Turing"]
    assert article["p"]["schema__sameAs"] == ["https://doi.org/10.48550/arxiv.2101.00001"]
    [dataset] = query(chain["stores"], "MATCH (d:schema__Dataset {uri: $u})-[:schema__license]->(l) RETURN d.schema__name AS n, l.uri AS l",
                      u=HF + "datasets/acme-ai/web-corpus")
    assert dataset == {"n": "ACME Web Corpus", "l": "https://spdx.org/licenses/CC-BY-4.0"}
    [person] = query(chain["stores"], "MATCH (p:schema__Person) RETURN p.schema__name AS n")
    assert person["n"] == "Jane Doe"


@for_source("hf")
def test_lineage_across_generations(chain):
    rows = query(chain["stores"], "MATCH p = (:Resource {uri: $u})-[:schema__isBasedOn*1..3]->(root) RETURN root.uri AS root ORDER BY length(p)",
                 u=HF + "jdoe/sentiment-lm-gguf")
    assert [r["root"] for r in rows] == [SENTIMENT, HF + "acme-ai/base-lm", HF + "acme-ai/old-base"]
    # A base model that vanished from the Hub is still a node the merge points at.
    assert query(chain["stores"], "MATCH (:Resource {uri: $u})-[:schema__isBasedOn]->(b) RETURN b.uri AS b ORDER BY b",
                 u=HF + "community/merged-lm") == [{"b": HF + "acme-ai/base-lm"}, {"b": HF + "jdoe/vanished-model"}]


@for_source("hf")
def test_neosemantics_configuration_nodes(chain):
    [config] = query(chain["stores"], "MATCH (c:_GraphConfig) RETURN c._handleVocabUris AS v")
    assert config["v"] == "SHORTEN"
    [prefixes] = query(chain["stores"], "MATCH (p:_NsPrefDef) RETURN p.fair4ml AS f, p.schema AS s")
    assert prefixes == {"f": "https://w3id.org/fair4ml#", "s": "http://schema.org/"}


@for_source("hf")
def test_index_holds_every_model_with_iri_derived_ids(chain):
    es = chain["stores"].es()
    assert es.count(index="mlentory_models")["count"] == len(ALL_MODELS)
    doc = es.get(index="mlentory_models", id=document_id(SENTIMENT))["_source"]
    assert doc["iri"] == SENTIMENT
    assert doc["licenses"] == ["MIT"] and doc["license_names"] == ["MIT"]
    assert doc["ml_tasks"] == ["text-classification"] and doc["ml_task_names"] == ["Text Classification"]
    assert doc["trained_on"] == ["stanfordnlp/imdb"] and doc["trained_on_names"] == ["IMDB"]
    assert doc["fine_tuned_from"] == ["acme-ai/base-lm"] and doc["based_on"] == ["acme-ai/base-lm"]
    assert doc["shared_by"] == ["acme-ai"] and doc["shared_by_names"] == ["ACME AI Research"]
    assert doc["languages"] == ["en"] and doc["language_names"] == ["English"]
    assert doc["evaluations"] == ["Accuracy (accuracy): 0.934 on stanfordnlp/imdb test: Text Classification on imdb (test)"]
    [value] = doc["evaluation_values"]
    assert (value["dataset"], value["dataset_split"], value["task"], value["metric_type"], value["value"]) == (
        "stanfordnlp/imdb", "test", "text-classification", "accuracy", 0.934)
    gguf = es.get(index="mlentory_models", id=document_id(HF + "jdoe/sentiment-lm-gguf"))["_source"]
    assert gguf["quantized_from"] == ["acme-ai/sentiment-lm"] and gguf["fine_tuned_from"] == []


@for_source("hf")
@pytest.mark.parametrize(("field", "value", "expected"), [
    ("licenses", "mit", {"acme-ai/sentiment-lm"}),
    ("licenses", "apache-2.0", {"acme-ai/base-lm", "lab-x/speech-asr"}),
    ("licenses", "cc-by-nc-4.0", {"acme-ai/old-base"}),
    ("ml_tasks", "automatic-speech-recognition", {"lab-x/speech-asr"}),
    ("languages", "de", {"lab-x/speech-asr"}),
    ("trained_on", "stanfordnlp/imdb", {"acme-ai/sentiment-lm"}),
    ("shared_by", "jdoe", {"jdoe/sentiment-lm-gguf"}),
])
def test_index_filters_on_codes(chain, field, value, expected):
    hits = chain["stores"].es().search(index="mlentory_models", query={"term": {field: value}}, size=50)["hits"]["hits"]
    assert {h["_source"]["identifier"] for h in hits} == expected


@for_source("hf")
def test_index_full_text_search_over_tasks_and_keywords(chain):
    es = chain["stores"].es()

    def found(text: str) -> set[str]:
        query = {"multi_match": {"query": text, "fields": ["name^2", "ml_task_names.text^3", "keywords.text"]}}
        return {h["_source"]["identifier"] for h in es.search(index="mlentory_models", query=query)["hits"]["hits"]}

    assert found("sentiment") == {"acme-ai/sentiment-lm", "jdoe/sentiment-lm-gguf"}
    assert found("analysis") == {"acme-ai/sentiment-lm"}  # only in its keyword "sentiment-analysis"
    assert found("speech recognition") == {"lab-x/speech-asr"}  # its task's name


@for_source("hf")
def test_index_search_hit(chain):
    es = chain["stores"].es()
    hits = es.search(index="mlentory_models", query={"bool": {
        "must": {"multi_match": {"query": "speech recognition German", "fields": ["name", "description", "intended_use"]}},
        "filter": {"term": {"ml_tasks": "automatic-speech-recognition"}}}})["hits"]["hits"]
    assert [h["_source"]["identifier"] for h in hits] == ["lab-x/speech-asr"]


@for_source("hf")
def test_missing_model_is_listed_in_the_error_file_and_the_rest_loaded(chain):
    errors = [json.loads(line) for line in (chain["run_folder"] / "errors.jsonl").read_text().splitlines()]
    assert [(e["stage"], e["id"]) for e in errors] == [("extraction", "ghost/does-not-exist")]
    assert "RepositoryNotFound" in errors[0]["reason"]
    report = json.loads((chain["run_folder"] / "loading" / "report.json").read_text())
    assert report["models_loaded"] == len(ALL_MODELS) and report["models_failed"] == 0


@for_source("hf")
def test_normalized_records_are_json_ld(chain):
    import rdflib

    documents = sorted((chain["run_folder"] / "transformation" / "models").glob("*.jsonld"))
    graph = rdflib.Graph()
    for path in documents:
        graph.parse(path, format="json-ld")
    fair4ml = rdflib.Namespace("https://w3id.org/fair4ml#")
    assert len(set(graph.subjects(rdflib.RDF.type, fair4ml.MLModel))) == len(ALL_MODELS)


@for_source("hf")
def test_harvest_is_cheap_on_the_hub_api(chain):
    # 5 latest in 2 pages of 3, 2 by id, 3 ancestors (+1 missing), 4 datasets, 4 accounts (+1 user fallback):
    # one request per listing page and per entity, none per model of the listing.
    stats = chain["stats"]
    assert stats["api"] == 2 + 2 + 4 + 4 + 5
    assert stats["resolve"] == 7  # cards of the 7 models that have a README, through the resolver
    assert stats["arxiv"] == 1  # the three papers in one batched request


@for_source("hf")
def test_the_run_report_counts_every_stage(chain):
    """The run folder's report: records in and out per stage, errors by reason, the API requests
    each extraction task sent (as the replay counted them), durations, field coverage."""
    run_folder, stats = chain["run_folder"], chain["stats"]
    report = json.loads((run_folder / "report.json").read_text())
    stages = report["stages"]
    assert set(stages) == {"extraction", "transformation", "loading"}
    assert stages["extraction"]["records_out"] == len(ALL_MODELS) == stages["transformation"]["records_in"]
    assert stages["transformation"]["records_out"] == len(ALL_MODELS) == stages["loading"]["records_in"]
    assert stages["loading"]["records_out"] == report["models_loaded"] == len(ALL_MODELS)
    # The model that does not exist: one error of the harvest by id, by the kind of its failure.
    assert stages["extraction"]["errors_by_reason"] == {"models_by_id: RepositoryNotFoundError": 1}, stages["extraction"]["errors_by_reason"]
    assert stages["transformation"]["errors_by_reason"] == stages["loading"]["errors_by_reason"] == {}
    assert stages["extraction"]["api_requests"] == {"arxiv": stats["arxiv"], "huggingface_api": stats["api"],
                                                    "huggingface_resolver": stats["resolve"]}
    assert all(stage["seconds"] is not None and stage["seconds"] >= 0 for stage in stages.values())
    coverage = report["field_coverage"]
    assert coverage["identifier"] == coverage["name"] == 1.0
    assert 0 < coverage["fineTunedFrom"] < 1  # 4 of the 8 models name a base model
    markdown = (run_folder / "report.md").read_text()
    assert "| extraction | " in markdown and "models_by_id: RepositoryNotFoundError" in markdown and "| identifier | 100% |" in markdown
    loaded_summary = json.loads((run_folder / "loading" / "SUCCESS.json").read_text())
    assert loaded_summary["report"]["stages"] == stages  # what the asset event carries


@for_source("hf")
@pytest.mark.parametrize("rdf_format", ["ntriples", "turtle"])
def test_the_export_holds_the_graphs_triples(chain, rdf_format):
    """The RDF dump, read back from the graph without n10s, parses with rdflib and holds the triples
    the graph holds and the FAIR4ML JSON-LD gives."""
    import rdflib

    from mlentory.pipeline.loading import export_run

    with chain["stores"].driver() as driver:
        done = export_run(str(chain["run_folder"]), driver, rdf_format)
    dump = rdflib.Graph().parse(done["rdf"], format="nt" if rdf_format == "ntriples" else "turtle")
    assert len(dump) == done["triples"] > 0
    schema, fair4ml = rdflib.Namespace("http://schema.org/"), rdflib.Namespace("https://w3id.org/fair4ml#")
    sentiment = rdflib.URIRef(SENTIMENT)
    # What the graph holds of one model, triple by triple.
    [node] = query(chain["stores"], "MATCH (m:Resource {uri: $u}) RETURN properties(m) AS p, labels(m) AS labels", u=SENTIMENT)
    assert (sentiment, rdflib.RDF.type, fair4ml.MLModel) in dump
    assert (sentiment, schema.name, rdflib.Literal(node["p"]["schema__name"])) in dump
    for keyword in node["p"].get("schema__keywords") or []:
        assert (sentiment, schema.keywords, rdflib.Literal(keyword)) in dump
    targets = query(chain["stores"], "MATCH (:Resource {uri: $u})-[r]->(t) RETURN type(r) AS type, t.uri AS target", u=SENTIMENT)
    assert targets
    about = {(p, o) for p, o in dump.predicate_objects(sentiment) if isinstance(o, rdflib.URIRef) and p != rdflib.RDF.type}
    assert len(about) == len({(row["type"], row["target"]) for row in targets})
    assert (sentiment, fair4ml.fineTunedFrom, rdflib.URIRef(HF + "acme-ai/base-lm")) in dump
    # Every model's triples equal those of its FAIR4ML JSON-LD (the other file of the export).
    records = rdflib.Graph().parse(done["jsonld"], format="json-ld")
    assert done["records"] > len(ALL_MODELS)
    for model in ALL_MODELS:
        subject = rdflib.URIRef(HF + model)
        from_graph, from_jsonld = set(dump.predicate_objects(subject)), set(records.predicate_objects(subject))
        assert from_graph == from_jsonld, (model, from_graph ^ from_jsonld)


def test_an_existing_index_gets_new_mapping_fields(stores):
    import copy

    from mlentory.stores import search_index

    es = stores.es()
    index = "mlentory_mapping_upgrade_test"
    es.indices.delete(index=index, ignore_unavailable=True)
    body = json.loads(search_index.ES_MODELS_MAPPING_FILE.read_text())
    old = copy.deepcopy(body["mappings"])
    del old["properties"]["keywords"]["fields"]
    es.indices.create(index=index, mappings=old)
    try:
        assert search_index.ensure_index(es, index) == "updated"
        mapping = es.indices.get_mapping(index=index)[index]["mappings"]["properties"]
        assert mapping["keywords"]["fields"] == {"text": {"type": "text"}}
        assert search_index.ensure_index(es, index) == "unchanged"
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)


@for_source("hf")
def test_metadata_completeness_is_a_filter_and_counted_per_source_in_the_report(chain):
    records = normalized_records(chain["run_folder"])
    with_minimum = {i for i, r in records.items() if r.get("license") and r.get("mlTask") and r.get("description")}
    assert 0 < len(with_minimum) < len(records)  # the fixture has both kinds
    es = chain["stores"].es()
    es.indices.refresh(index="mlentory_models")
    query_filter = {"bool": {"filter": [{"term": {"metadata_fields": name}} for name in ("license", "task", "description")]}}
    hits = es.search(index="mlentory_models", size=100, query=query_filter)["hits"]["hits"]
    assert {h["_source"]["identifier"] for h in hits} == with_minimum
    flagged = es.search(index="mlentory_models", size=100, query={"term": {"minimum_metadata": True}})["hits"]["hits"]
    assert {h["_source"]["identifier"] for h in flagged} == with_minimum
    doc = es.get(index="mlentory_models", id=document_id(SENTIMENT))["_source"]
    assert doc["metadata_fields"] == ["name", "description", "license", "task", "creator", "dates", "keywords", "training_data", "evaluations",
                                      "code", "readme"] and doc["metadata_completeness"] == 1.0
    report = json.loads((chain["run_folder"] / "report.json").read_text())["metadata_completeness"]["huggingface"]
    assert report["models"] == len(records) and report["minimum_metadata"] == len(with_minimum)
    assert report["fields"]["license"] == sum(1 for r in records.values() if r.get("license"))
    assert "## Metadata completeness of the 8 loaded huggingface models" in (chain["run_folder"] / "report.md").read_text()


# OpenML's own.

@for_source("openml")
def test_flows_are_models_with_their_source(chain):
    rows = query(chain["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__source = 'openml' AND m.schema__version IS NOT NULL "
                                       "RETURN m.uri AS uri, m.schema__name AS name, m.schema__identifier AS id ORDER BY uri")
    assert rows == [{"uri": OML + "f/101", "name": "sklearn.Pipeline(SimpleImputer,RandomForestClassifier)", "id": "101"},
                    {"uri": OML + "f/102", "name": "sklearn.impute.SimpleImputer", "id": "102"}]
    [pipeline] = query(chain["stores"], "MATCH (m {uri: $u}) RETURN m.schema__softwareRequirements AS req", u=OML + "f/101")
    assert "sklearn==1.5.2" in pipeline["req"] and "numpy>=1.19.5" in pipeline["req"]
    parts = query(chain["stores"], "MATCH ({uri: $u})-[:schema__isBasedOn]->(c) RETURN c.uri AS c", u=OML + "f/101")
    assert parts == [{"c": OML + "f/102"}]
    # The language of its description: the same node as for a Hub model in English.
    languages = query(chain["stores"], "MATCH ({uri: $u})-[:schema__inLanguage]->(l) RETURN l.uri AS l", u=OML + "f/101")
    assert languages == [{"l": "http://lexvo.org/id/iso639-3/eng"}]


@for_source("openml")
def test_run_evaluations_with_task_type_dataset_and_measures(chain):
    rows = query(chain["stores"],
                 "MATCH ({uri: $u})-[:fair4ml__hasEvaluation]->(e)-[:fair4ml__evaluationMetrics]->(v {schema__name: 'predictive_accuracy'}) "
                 "MATCH (e)-[:fair4ml__evaluationDataset]->(d) MATCH (e)-[:fair4ml__mlTask]->(t) "
                 "RETURN e.uri AS run, v.schema__value AS value, d.schema__name AS dataset, t.schema__name AS task ORDER BY run",
                 u=OML + "f/101")
    assert rows == [{"run": OML + "r/5001", "value": 0.9612, "dataset": "iris", "task": "Supervised Classification"},
                    {"run": OML + "r/5002", "value": 0.9587, "dataset": "iris", "task": "Supervised Classification"}]
    [iris] = query(chain["stores"], "MATCH (d {uri: $u})-[:schema__license]->(l) RETURN l.uri AS licence", u=OML + "d/61")
    assert iris["licence"] == "https://spdx.org/licenses/CC0-1.0"
    # Task 301 is 10-fold cross-validation on iris: the flow was trained on it, and each value says how it was measured.
    trained = query(chain["stores"], "MATCH ({uri: $u})-[:fair4ml__trainedOn]->(d) RETURN d.uri AS d", u=OML + "f/101")
    assert trained == [{"d": OML + "d/61"}]
    techniques = query(chain["stores"], "MATCH ({uri: $u})-[:fair4ml__hasEvaluation]->()-[:fair4ml__evaluationMetrics]->(v) "
                                             "RETURN DISTINCT v.schema__measurementTechnique AS t", u=OML + "f/101")
    assert techniques == [{"t": "10-fold cross-validation, 1 repeat, stratified"}]
    # The paper its citation names: the DOI's IRI, as a Hub card citing it would give.
    [paper] = query(chain["stores"], "MATCH (d {uri: $u})-[:codemeta__referencePublication]->(p) "
                                          "RETURN p.uri AS uri, labels(p) AS labels, d.schema__creditText AS creator", u=OML + "d/61")
    assert paper["uri"] == "https://doi.org/10.1111/j.1469-1809.1936.tb02137.x" and "schema__ScholarlyArticle" in paper["labels"]
    assert paper["creator"] == ["R.A. Fisher"]
    [user] = query(chain["stores"], "MATCH ({uri: $u})-[:fair4ml__sharedBy]->(p:schema__Person) RETURN p.schema__name AS name",
                   u=OML + "f/101")
    assert user["name"] == "Jan van Rijn"
    # The dataset's language, tags, contributors and uploader (named by the one user/list request of the run).
    rows = query(chain["stores"], "MATCH ({uri: $u})-[r]->(x) WHERE type(r) IN ['schema__inLanguage', 'schema__keywords', "
                                       "'schema__contributor', 'schema__publisher'] RETURN type(r) AS r, x.schema__name AS name", u=OML + "d/61")
    assert sorted((row["r"], row["name"]) for row in rows) == [
        ("schema__contributor", "Michael Marshall"), ("schema__inLanguage", "English"), ("schema__keywords", "uci"), ("schema__publisher", "Jan van Rijn")]


@for_source("openml")
def test_the_index_names_the_source(chain):
    es = chain["stores"].es()
    es.indices.refresh(index="mlentory_models")
    hits = es.search(index="mlentory_models", query={"term": {"source": "openml"}})["hits"]["hits"]
    assert sorted(h["_source"]["name"] for h in hits) == ["sklearn.Pipeline(SimpleImputer,RandomForestClassifier)", "sklearn.impute.SimpleImputer"]


@for_source("openml")
def test_the_api_budget_and_incremental_runs(chain):
    stats = {"openml": chain["stats"]["openml"] + chain["stats_again"]["openml"]}
    # Run 1: 1 listing + 2 flows + 5 measures x 1 batch (+ 1 user list for the measures with rows) + 1 task + 1 dataset
    # (+ 1 user list for its uploader);
    # run 2: 1 listing and nothing else (both flows are loaded, their descriptions cached).
    assert stats["openml"] <= 1 + 2 + 5 + 5 + 1 + 1 + 1 + 1, stats
    summary = json.loads((chain["again"] / "extraction" / "SUCCESS.json").read_text())
    assert summary["models"] == 0


@for_source("openml")
def test_a_loaded_flow_that_gained_a_run_is_processed_again_with_check_new_runs(chain, tmp_path):
    """The highest run id is part of a flow's revision: with ``check_new_runs`` the loaded flows'
    evaluations are listed again (their descriptions come from the cache) and only the flow with a
    new run is processed; it is loaded with all three of its runs."""
    import shutil

    snapshot = tmp_path / "snapshot"
    shutil.copytree(FIXTURE_SNAPSHOT, snapshot)
    new_run = (snapshot / "openml" / "runs" / "5002" / "run.xml").read_text().replace("<oml:run_id>5002<", "<oml:run_id>5003<")
    (snapshot / "openml" / "runs" / "5003").mkdir()
    (snapshot / "openml" / "runs" / "5003" / "run.xml").write_text(new_run.replace("0.9587", "0.9700"))
    use_data_root(chain["run_folder"].parents[2])  # the data root (and its state) of the runs above
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
    runs = query(chain["stores"], "MATCH ({uri: $u})-[:fair4ml__hasEvaluation]->(e) RETURN e.uri AS run ORDER BY run", u=OML + "f/101")
    assert [r["run"] for r in runs] == [OML + "r/5001", OML + "r/5002", OML + "r/5003"]


# The BioImage Model Zoo's own.

@for_source("ai4life")
def test_models_of_both_formats_are_loaded_and_the_rejected_one_is_listed(chain):
    rows = query(chain["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__source = 'ai4life' AND m.mlentory__sourceSha IS NOT NULL "
                                    "RETURN m.uri AS uri, m.schema__name AS name, m.schema__identifier AS id ORDER BY uri")
    assert rows == [{"uri": ZOO + "fixture-legacy", "name": "FixtureLegacyDenoiser", "id": "bioimage-io/fixture-legacy"},
                    {"uri": ZOO + "fixture-shark", "name": "FixtureNucleiSegmentation", "id": "bioimage-io/fixture-shark"}]
    errors = [json.loads(line) for line in (chain["run_folder"] / "errors.jsonl").read_text().splitlines()]
    [rejected] = [e for e in errors if e.get("id") == "bioimage-io/fixture-rejected"]
    assert "Either 'doi' or 'url' is required" in rejected["reason"]


@for_source("ai4life")
def test_relations_people_papers_and_the_collections_dataset(chain):
    stores = chain["stores"]
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


@for_source("ai4life")
def test_an_older_id_names_the_collections_node_and_links_become_related_resources(chain):
    stores = chain["stores"]
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


@for_source("ai4life")
def test_the_index_names_the_source_and_an_unchanged_collection_costs_one_request(chain):
    es = chain["stores"].es()
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
    assert (chain["stats"]["bioimageio"], chain["stats_again"]["bioimageio"]) == (1 + 5 + 3, 1), chain["stats"]
    summary = json.loads((chain["again"] / "extraction" / "SUCCESS.json").read_text())
    assert summary["models"] == 0 and summary["datasets"] == 1 and summary["applications and notebooks"] == 1
