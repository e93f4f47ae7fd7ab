"""End to end: the three DAGs against the local graph and index servers with the recorded Hub snapshot,
then assertions on what Neo4j and Elasticsearch hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURE_SNAPSHOT, clear, query, start_replay, use_data_root
from pipeline import run_pipeline

from mlentory.stores.search_index import document_id

HF = "https://huggingface.co/"
SENTIMENT = HF + "acme-ai/sentiment-lm"
ALL_MODELS = {
    "acme-ai/old-base", "acme-ai/base-lm", "acme-ai/sentiment-lm", "jdoe/sentiment-lm-gguf",
    "acme-ai/vision-det", "lab-x/speech-asr", "lab-x/broken-card", "community/merged-lm",
}


@pytest.fixture(scope="module")
def loaded(stores, tmp_path_factory):
    clear(stores)
    use_data_root(tmp_path_factory.mktemp("e2e") / "data")
    replay = start_replay(FIXTURE_SNAPSHOT, page_size=3)
    try:
        # The 5 latest models, one by id (a duplicate of a latest one) and one that does not exist;
        # two generations of ancestors bring in sentiment-lm, base-lm and old-base.
        run_folder = Path(run_pipeline({"num_models": 5, "model_ids": ["acme-ai/vision-det", "ghost/does-not-exist"],
                                        "ancestor_generations": 2, "max_error_rate": 0.2}))
        yield {"run_folder": run_folder, "stats": dict(replay.stats), "stores": stores}
    finally:
        replay.shutdown()
        replay.server_close()



def test_graph_holds_every_model_once(loaded):
    rows = query(loaded["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__sourceSha IS NOT NULL RETURN m.schema__identifier AS id")
    assert sorted(r["id"] for r in rows) == sorted(ALL_MODELS)
    assert query(loaded["stores"], "MATCH (n:Resource) WITH n.uri AS uri, count(*) AS c WHERE c > 1 RETURN uri") == []


def test_a_vanished_base_model_is_a_named_stub_and_a_warning(loaded):
    [stub] = query(loaded["stores"], "MATCH (m:fair4ml__MLModel {uri: $u}) RETURN properties(m) AS p", u=HF + "jdoe/vanished-model")
    assert stub["p"]["schema__name"] == "jdoe/vanished-model" and stub["p"]["schema__url"] == HF + "jdoe/vanished-model"
    assert "mlentory__sourceSha" not in stub["p"]
    warnings = [json.loads(line) for line in (loaded["run_folder"] / "warnings.jsonl").read_text().splitlines()]
    assert [(w["id"], w["what"]) for w in warnings] == [("jdoe/vanished-model", "base model lookup"), ("lab-x/broken-card", "card metadata")]
    report = json.loads((loaded["run_folder"] / "loading" / "report.json").read_text())
    assert report["warnings"] == 2 and report["warnings_by_kind"] == {"base model lookup": 1, "card metadata": 1}
    # A stub never replaces a model loaded in full: base-lm's stub was written before its record.
    [base] = query(loaded["stores"], "MATCH (m:Resource {uri: $u}) RETURN m.mlentory__sourceSha AS sha", u=HF + "acme-ai/base-lm")
    assert base["sha"]


def test_evaluations_are_nodes_a_single_query_can_filter(loaded):
    rows = query(loaded["stores"],
                 "MATCH (m:fair4ml__MLModel)-[:fair4ml__hasEvaluation]->(e:fair4ml__MLModelEvaluation)-[:fair4ml__evaluationDataset]->(d:Resource {uri: $d}), "
                 "(e)-[:fair4ml__evaluationMetrics]->(v:schema__PropertyValue) "
                 "WHERE v.schema__propertyID = 'accuracy' AND v.schema__value > 0.9 RETURN m.uri AS m, e.mlentory__datasetSplit AS split",
                 d=HF + "datasets/stanfordnlp/imdb")
    assert rows == [{"m": SENTIMENT, "split": "test"}]


def test_graph_entity_counts(loaded):
    rows = query(loaded["stores"], "MATCH (n:Resource) UNWIND labels(n) AS label RETURN label, count(*) AS c")
    counts = {r["label"]: r["c"] for r in rows}
    assert counts["schema__Dataset"] == 4
    assert counts["schema__ScholarlyArticle"] == 3
    assert counts["schema__Organization"] == 3 and counts["schema__Person"] == 1
    assert counts["schema__Language"] == 3  # en, fr, de
    assert counts["schema__DefinedTerm"] == 49 + 5  # keywords (every tag) + tasks
    assert counts["schema__CreativeWork"] == 7  # licenses, SPDX and others
    assert counts["fair4ml__MLModelEvaluation"] == 1 and counts["schema__PropertyValue"] == 1


def test_one_model_properties(loaded):
    [model] = query(loaded["stores"], "MATCH (m:Resource {uri: $uri}) RETURN properties(m) AS p, labels(m) AS l", uri=SENTIMENT)
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


def test_one_model_relationships(loaded):
    rows = query(loaded["stores"], "MATCH (:Resource {uri: $uri})-[r]->(x) RETURN type(r) AS t, x.uri AS u", uri=SENTIMENT)
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


def test_linked_entities_are_enriched(loaded):
    [article] = query(loaded["stores"], "MATCH (a:schema__ScholarlyArticle {uri: 'https://arxiv.org/abs/2101.00001'}) RETURN properties(a) AS p")
    assert article["p"]["schema__name"] == "Pretraining Small Language Models on Web Text"
    assert article["p"]["schema__author"] == ["Ada Lovelace", "Alan Turing"]
    assert article["p"]["schema__sameAs"] == ["https://doi.org/10.48550/arxiv.2101.00001"]
    [dataset] = query(loaded["stores"], "MATCH (d:schema__Dataset {uri: $u})-[:schema__license]->(l) RETURN d.schema__name AS n, l.uri AS l",
                      u=HF + "datasets/acme-ai/web-corpus")
    assert dataset == {"n": "ACME Web Corpus", "l": "https://spdx.org/licenses/CC-BY-4.0"}
    [person] = query(loaded["stores"], "MATCH (p:schema__Person) RETURN p.schema__name AS n")
    assert person["n"] == "Jane Doe"


def test_lineage_across_generations(loaded):
    rows = query(loaded["stores"], "MATCH p = (:Resource {uri: $u})-[:schema__isBasedOn*1..3]->(root) RETURN root.uri AS root ORDER BY length(p)",
                 u=HF + "jdoe/sentiment-lm-gguf")
    assert [r["root"] for r in rows] == [SENTIMENT, HF + "acme-ai/base-lm", HF + "acme-ai/old-base"]
    # A base model that vanished from the Hub is still a node the merge points at.
    assert query(loaded["stores"], "MATCH (:Resource {uri: $u})-[:schema__isBasedOn]->(b) RETURN b.uri AS b ORDER BY b",
                 u=HF + "community/merged-lm") == [{"b": HF + "acme-ai/base-lm"}, {"b": HF + "jdoe/vanished-model"}]


def test_neosemantics_configuration_nodes(loaded):
    [config] = query(loaded["stores"], "MATCH (c:_GraphConfig) RETURN c._handleVocabUris AS v")
    assert config["v"] == "SHORTEN"
    [prefixes] = query(loaded["stores"], "MATCH (p:_NsPrefDef) RETURN p.fair4ml AS f, p.schema AS s")
    assert prefixes == {"f": "https://w3id.org/fair4ml#", "s": "http://schema.org/"}


def test_index_holds_every_model_with_iri_derived_ids(loaded):
    es = loaded["stores"].es()
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


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("licenses", "mit", {"acme-ai/sentiment-lm"}),
    ("licenses", "apache-2.0", {"acme-ai/base-lm", "acme-ai/old-base", "lab-x/speech-asr"}),
    ("ml_tasks", "automatic-speech-recognition", {"lab-x/speech-asr"}),
    ("languages", "de", {"lab-x/speech-asr"}),
    ("trained_on", "stanfordnlp/imdb", {"acme-ai/sentiment-lm"}),
    ("shared_by", "jdoe", {"jdoe/sentiment-lm-gguf"}),
])
def test_index_filters_on_codes(loaded, field, value, expected):
    hits = loaded["stores"].es().search(index="mlentory_models", query={"term": {field: value}}, size=50)["hits"]["hits"]
    assert {h["_source"]["identifier"] for h in hits} == expected


def test_index_full_text_search_over_tasks_and_keywords(loaded):
    es = loaded["stores"].es()

    def found(text: str) -> set[str]:
        query = {"multi_match": {"query": text, "fields": ["name^2", "ml_task_names.text^3", "keywords.text"]}}
        return {h["_source"]["identifier"] for h in es.search(index="mlentory_models", query=query)["hits"]["hits"]}

    assert found("sentiment") == {"acme-ai/sentiment-lm", "jdoe/sentiment-lm-gguf"}
    assert found("analysis") == {"acme-ai/sentiment-lm"}  # only in its keyword "sentiment-analysis"
    assert found("speech recognition") == {"lab-x/speech-asr"}  # its task's name


def test_index_search_hit(loaded):
    es = loaded["stores"].es()
    hits = es.search(index="mlentory_models", query={"bool": {
        "must": {"multi_match": {"query": "speech recognition German", "fields": ["name", "description", "intended_use"]}},
        "filter": {"term": {"ml_tasks": "automatic-speech-recognition"}}}})["hits"]["hits"]
    assert [h["_source"]["identifier"] for h in hits] == ["lab-x/speech-asr"]


def test_missing_model_is_listed_in_the_error_file_and_the_rest_loaded(loaded):
    errors = [json.loads(line) for line in (loaded["run_folder"] / "errors.jsonl").read_text().splitlines()]
    assert [(e["stage"], e["id"]) for e in errors] == [("extraction", "ghost/does-not-exist")]
    assert "RepositoryNotFound" in errors[0]["reason"]
    report = json.loads((loaded["run_folder"] / "loading" / "report.json").read_text())
    assert report["models_loaded"] == len(ALL_MODELS) and report["models_failed"] == 0


def test_normalized_records_are_json_ld(loaded):
    import rdflib

    documents = sorted((loaded["run_folder"] / "transformation" / "models").glob("*.jsonld"))
    graph = rdflib.Graph()
    for path in documents:
        graph.parse(path, format="json-ld")
    fair4ml = rdflib.Namespace("https://w3id.org/fair4ml#")
    assert len(set(graph.subjects(rdflib.RDF.type, fair4ml.MLModel))) == len(ALL_MODELS)


def test_harvest_is_cheap_on_the_hub_api(loaded):
    # 5 latest in 2 pages of 3, 2 by id, 3 ancestors (+1 missing), 4 datasets, 4 accounts (+1 user fallback):
    # one request per listing page and per entity, none per model of the listing.
    stats = loaded["stats"]
    assert stats["api"] == 2 + 2 + 4 + 4 + 5
    assert stats["resolve"] == 7  # cards of the 7 models that have a README, through the resolver
    assert stats["arxiv"] == 1  # the three papers in one batched request


def test_the_run_report_counts_every_stage(loaded):
    """The run folder's report: records in and out per stage, errors by reason, the API requests
    each extraction task sent (as the replay counted them), durations, field coverage."""
    run_folder, stats = loaded["run_folder"], loaded["stats"]
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


@pytest.mark.parametrize("rdf_format", ["ntriples", "turtle"])
def test_the_export_holds_the_graphs_triples(loaded, rdf_format):
    """The RDF dump, read back from the graph without n10s, parses with rdflib and holds the triples
    the graph holds and the FAIR4ML JSON-LD gives."""
    import rdflib

    from mlentory.pipeline.loading import export_run

    with loaded["stores"].driver() as driver:
        done = export_run(str(loaded["run_folder"]), driver, rdf_format)
    dump = rdflib.Graph().parse(done["rdf"], format="nt" if rdf_format == "ntriples" else "turtle")
    assert len(dump) == done["triples"] > 0
    schema, fair4ml = rdflib.Namespace("http://schema.org/"), rdflib.Namespace("https://w3id.org/fair4ml#")
    sentiment = rdflib.URIRef(SENTIMENT)
    # What the graph holds of one model, triple by triple.
    [node] = query(loaded["stores"], "MATCH (m:Resource {uri: $u}) RETURN properties(m) AS p, labels(m) AS labels", u=SENTIMENT)
    assert (sentiment, rdflib.RDF.type, fair4ml.MLModel) in dump
    assert (sentiment, schema.name, rdflib.Literal(node["p"]["schema__name"])) in dump
    for keyword in node["p"].get("schema__keywords") or []:
        assert (sentiment, schema.keywords, rdflib.Literal(keyword)) in dump
    targets = query(loaded["stores"], "MATCH (:Resource {uri: $u})-[r]->(t) RETURN type(r) AS type, t.uri AS target", u=SENTIMENT)
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


def test_metadata_completeness_is_a_filter_and_counted_per_source_in_the_report(loaded):
    records = {r["identifier"]: r for path in (loaded["run_folder"] / "transformation" / "models").glob("*.jsonld")
               for r in json.loads(path.read_text())["@graph"]}
    with_minimum = {i for i, r in records.items() if r.get("license") and r.get("mlTask") and r.get("description")}
    assert 0 < len(with_minimum) < len(records)  # the fixture has both kinds
    es = loaded["stores"].es()
    es.indices.refresh(index="mlentory_models")
    query_filter = {"bool": {"filter": [{"term": {"metadata_fields": name}} for name in ("license", "task", "description")]}}
    hits = es.search(index="mlentory_models", size=100, query=query_filter)["hits"]["hits"]
    assert {h["_source"]["identifier"] for h in hits} == with_minimum
    flagged = es.search(index="mlentory_models", size=100, query={"term": {"minimum_metadata": True}})["hits"]["hits"]
    assert {h["_source"]["identifier"] for h in flagged} == with_minimum
    doc = es.get(index="mlentory_models", id=document_id(SENTIMENT))["_source"]
    assert doc["metadata_fields"] == ["name", "description", "license", "task", "creator", "dates", "keywords", "training_data", "evaluations",
                                      "code", "readme"] and doc["metadata_completeness"] == 1.0
    report = json.loads((loaded["run_folder"] / "report.json").read_text())["metadata_completeness"]["huggingface"]
    assert report["models"] == len(records) and report["minimum_metadata"] == len(with_minimum)
    assert report["fields"]["license"] == sum(1 for r in records.values() if r.get("license"))
    assert "## Metadata completeness of the 8 loaded huggingface models" in (loaded["run_folder"] / "report.md").read_text()
