"""Every source's pipeline over the real recorded responses in ../shared/realdata (not copied into the
project; a source whose recordings are absent is skipped with the reason): its three DAGs over its
recordings, served as they are by the replay to its real client, into the graph and the index.

One run per source (a module-scoped fixture parametrized over the registered sources): the checks
every source must pass run for all of them; a source's own checks name it. The record-level checks
that need no run are in test_realdata_openml.py and test_realdata_bioimageio.py (and the card-level
one below)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED_REALDATA, clear, evaluation_values, query, start_replay, use_data_root
from pipeline import normalized_records, per_source, run_dag, source_keys, source_of, xcom

from devstack.replay.recordings import build_snapshot
from mlentory.enrichment.languages import identify_language
from mlentory.pipeline.extraction import read_identified
from mlentory.pipeline.run_folder import RunFolder
from mlentory.sources.huggingface import properties
from mlentory.sources.huggingface.cards import parse_card
from mlentory.sources.huggingface.coverage import coverage_of_run
from mlentory.sources.huggingface.extraction import iter_models_with_cards

HF = "https://huggingface.co/"
OML = "https://www.openml.org/"
NS = {"oml": "http://openml.org/openml"}
HUB_DATA, OPENML_DATA, ZOO = SHARED_REALDATA / "huggingface", SHARED_REALDATA / "openml", SHARED_REALDATA / "bioimageio"
ZOO_COLLECTION = ZOO / "collection-gh-pages-hypha"
ALL_CARDS = sorted((HUB_DATA / "model_cards").glob("*/*/README.md")) if HUB_DATA.is_dir() else []


def recorded_ids(kind: str, name: str) -> list[int]:
    return sorted(int(p.parent.name) for p in (OPENML_DATA / "openml-r" / kind).glob(f"*/{name}"))


def hub_snapshot(snapshot: Path) -> tuple[list[str], dict[str, Any]]:
    built = build_snapshot(SHARED_REALDATA, snapshot)
    return sorted(p.stem.replace("__", "/") for p in (snapshot / "models").glob("*.json")), built


def linked_snapshot(folder: str, recordings: Path) -> Callable[[Path], tuple[list[str], dict[str, Any]]]:
    def lay_out(snapshot: Path) -> tuple[list[str], dict[str, Any]]:
        snapshot.mkdir(parents=True, exist_ok=True)
        (snapshot / folder).symlink_to(recordings)
        return [], {}

    return lay_out


@dataclass(frozen=True)
class Recordings:
    """A source's recordings: where they are, how a replay snapshot is laid out from them (and the
    models it holds), the models that must load or be listed, and how the run is asked for."""

    where: Path
    snapshot: Callable[[Path], tuple[list[str], dict[str, Any]]]
    recorded_models: Callable[[list[str]], list[str]]
    extraction: Callable[[list[str]], dict[str, Any]]
    loaded_share: float  # at least this share of the recorded models loads (the rest listed with a reason)
    budget: dict[str, Any] = field(default_factory=dict)  # the error budget of all three DAGs
    transformation: dict[str, Any] = field(default_factory=dict)
    replay: dict[str, Any] = field(default_factory=dict)


RECORDINGS = {
    "hf": Recordings(HUB_DATA, hub_snapshot, lambda ids: ids,
                     lambda ids: {"num_models": len(ids), "model_ids": ids, "ancestor_generations": 1}, 1.0,
                     transformation={"chunk_size": 3}, replay={"page_size": 10}),
    "openml": Recordings(OPENML_DATA / "openml-r", linked_snapshot("openml", OPENML_DATA / "openml-r"),
                         lambda _: [str(i) for i in recorded_ids("flows", "flow.xml")],
                         lambda _: {"num_flows": 1000, "max_error_rate": 1.0}, 1.0),
    "ai4life": Recordings(ZOO_COLLECTION, linked_snapshot("bioimageio", ZOO_COLLECTION),
                          lambda _: sorted(item["id"] for item in json.loads((ZOO_COLLECTION / "index.json").read_text())["items"]
                                           if item["type"] == "model"),
                          lambda _: {"num_resources": 10_000}, 0.9, budget={"max_error_rate": 0.2}),
}

for_source, for_every_source = per_source("real_run")  # one run per source, shared by its tests


@pytest.fixture(scope="module")
def real_run(request, stores, tmp_path_factory) -> dict[str, Any]:
    key = request.param
    recordings = RECORDINGS[key]
    if not recordings.where.is_dir():
        pytest.skip(f"real recordings of {key} not found at {recordings.where} (they live beside the project in ../shared/realdata)")
    clear(stores)
    use_data_root(tmp_path_factory.mktemp(f"realdata-{key}") / "data")
    snapshot = tmp_path_factory.mktemp(f"realdata-{key}-snapshot") / "snapshot"
    model_ids, built = recordings.snapshot(snapshot)
    replay = start_replay(snapshot, **recordings.replay)
    try:
        extraction = run_dag(f"{key}_extraction", {**recordings.extraction(model_ids), **recordings.budget})
        run_folder = xcom(extraction, f"{key}_run_folder")
        run_dag(f"{key}_transformation", {"run_folder": run_folder, **recordings.transformation, **recordings.budget})
        run_dag(f"{key}_loading", {"run_folder": run_folder, **recordings.budget})
        stats = dict(replay.stats)
    finally:
        replay.shutdown()
        replay.server_close()
    return {"key": key, "source": source_of(key), "run_folder": Path(run_folder), "stores": stores, "model_ids": model_ids,
            "recorded": recordings.recorded_models(model_ids), "built": built, "stats": stats}


def test_every_registered_source_has_recordings():
    assert set(RECORDINGS) == set(source_keys())


def full_records_of(real_run: dict[str, Any]) -> set[str]:
    """The identifiers of the run's normalized models that are in the graph as models of the source."""
    records = {iri: record["identifier"] for iri, record in normalized_records(real_run["run_folder"], by="@id").items()}
    rows = query(real_run["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.uri IN $iris AND m.mlentory__source = $source RETURN m.uri AS uri",
                 iris=list(records), source=real_run["source"].name)
    return {records[row["uri"]] for row in rows}


@for_every_source
def test_every_recorded_model_is_loaded_or_listed_with_its_reason(real_run):
    errors = [json.loads(line) for line in (real_run["run_folder"] / "errors.jsonl").read_text().splitlines()]
    assert all(error.get("reason") for error in errors)
    recorded = set(real_run["recorded"])
    listed, loaded = {error["id"] for error in errors if error.get("id") in recorded}, full_records_of(real_run) & recorded
    assert loaded | listed == recorded and not loaded & listed
    assert len(loaded) >= RECORDINGS[real_run["key"]].loaded_share * len(recorded), (len(loaded), len(recorded), sorted(listed)[:10])


@for_every_source
def test_the_index_holds_the_graphs_models_of_the_source(real_run):
    es = real_run["stores"].es()
    es.indices.refresh(index="mlentory_models")
    hits = es.search(index="mlentory_models", size=10_000, query={"term": {"source": real_run["source"].name}})["hits"]["hits"]
    assert {hit["_source"]["identifier"] for hit in hits} == full_records_of(real_run)


@for_every_source
def test_the_report_counts_the_catalogued_models_as_the_index_holds_them(real_run):
    """Models with no revision at their source (recorded cards without a model record) count too."""
    report = json.loads((real_run["run_folder"] / "loading" / "report.json").read_text())
    retried = report["models_retried_next_run"]  # loaded, not recorded: the next run takes them again
    assert report["models_catalogued"] + retried == len(full_records_of(real_run)), (report["models_catalogued"], retried)


@for_every_source
def test_graph_and_index_hold_the_same_evaluation_values(real_run):
    graph, index = evaluation_values(real_run["stores"])
    differing = {model: (sorted(set(graph.get(model, [])) - set(index.get(model, []))), sorted(set(index.get(model, [])) - set(graph.get(model, []))))
                 for model in set(graph) | set(index) if graph.get(model) != index.get(model)}
    assert differing == {}


@for_every_source
def test_every_value_names_its_metric_term_in_graph_and_evaluations_index_alike(real_run):
    """Each metric value links to its term of the metric vocabulary where the vocabulary knows its
    name (every accuracy, whatever the source calls it, is ``accuracy``), and is one document of the
    evaluations index with the same term."""
    from mlentory.stores.search_index import document_id

    rows = query(real_run["stores"], "MATCH (m:fair4ml__MLModel)-[:fair4ml__hasEvaluation]->(e)-[:fair4ml__evaluationMetrics]->(v) "
                                     "OPTIONAL MATCH (v)-[:mlentory__metric]->(t:schema__DefinedTerm) "
                                     "RETURN v.uri AS value, v.schema__name AS name, v.schema__propertyID AS type, t.schema__termCode AS term")
    es = real_run["stores"].es()
    es.indices.refresh(index="mlentory_evaluations")
    documents = {hit["_id"]: hit["_source"] for hit in es.search(index="mlentory_evaluations", size=10_000, query={"match_all": {}})["hits"]["hits"]}
    assert {document_id(row["value"]): row["term"] for row in rows} == {key: doc["metric_term"] for key, doc in documents.items()}
    accuracies = [row for row in rows if str(row["type"]).lower() in ("acc", "accuracy", "predictive_accuracy")]
    assert all(row["term"] == "accuracy" for row in accuracies), accuracies
    if real_run["key"] != "ai4life":  # the zoo's descriptions report no evaluations
        assert accuracies and sum(row["term"] is not None for row in rows) / len(rows) >= 0.5


# The Hub's own.

@for_source("hf")
def test_real_model_mapping(real_run):
    with real_run["stores"].driver() as driver, driver.session() as session:
        rels = {(r["t"], r["u"]) for r in session.run(
            "MATCH (:Resource {uri: $u})-[r]->(x) RETURN type(r) AS t, x.uri AS u", u=HF + "facebook/bart-large-mnli")}
        props = session.run("MATCH (m:Resource {uri: $u}) RETURN properties(m) AS p", u=HF + "facebook/bart-large-mnli").single()["p"]
    assert ("fair4ml__trainedOn", HF + "datasets/multi_nli") in rels
    assert ("schema__license", "https://spdx.org/licenses/MIT") in rels
    assert ("codemeta__referencePublication", "https://arxiv.org/abs/1910.13461") in rels
    assert ("fair4ml__mlTask", "https://w3id.org/mlentory/task/zero-shot-classification") in rels
    assert props["mlentory__sourceSha"] == "d7645e127eaf1aefc7862fd59a17a5aa8558b8ce"
    assert props["fair4ml__modelCategory"][0] == "bart"
    [dataset] = session_data(real_run, "MATCH (d:schema__Dataset {uri: $u}) RETURN d.schema__description AS d", u=HF + "datasets/multi_nli")
    assert dataset["d"] and "Multi-Genre Natural Language Inference" in dataset["d"]


def session_data(real_run, cypher, **params):
    with real_run["stores"].driver() as driver, driver.session() as session:
        return session.run(cypher, **params).data()


@for_source("hf")
def test_real_fine_tune_lineage(real_run):
    rows = session_data(real_run, "MATCH (m:fair4ml__MLModel)-[:fair4ml__fineTunedFrom]->(b) RETURN m.schema__identifier AS m, b.uri AS b")
    assert rows, "the recorded models include fine-tunes (e.g. Llama 3.1 Instruct from its base)"
    assert all(r["b"].startswith(HF) for r in rows)


@pytest.mark.parametrize("readme", ALL_CARDS, ids=[p.parent.name for p in ALL_CARDS])
def test_every_recorded_card_maps(readme: Path):
    card = parse_card(readme.read_text())
    model = {"id": readme.parent.name.replace("__", "/"), "tags": [], "card_data": None}
    for group in ("card_sections", "citations", "licenses", "keywords_languages", "datasets", "lineage"):
        properties.PROPERTY_GROUPS[group](model, card)
    assert card.metadata_error is None
    assert card.metadata or card.body


def real_records(real_run) -> dict[str, dict]:
    return normalized_records(real_run["run_folder"])


@for_source("hf")
def test_every_recorded_card_went_through_the_pipeline(real_run):
    assert real_run["built"]["cards"] == len(ALL_CARDS) and real_run["built"]["card_only_models"] > 0
    records = real_records(real_run)
    assert set(real_run["model_ids"]) <= set(records)


@for_source("hf")
def test_field_coverage_report(real_run):
    coverage = coverage_of_run(real_run["run_folder"])
    print("\nFAIR4ML field coverage of the recorded Hub data\n" + coverage.table())
    assert coverage.ratio >= 0.98, coverage.missing
    assert sum(coverage.expected.values()) > 1_000  # the report covers the corpus, not a handful of values


@for_source("hf")
def test_no_invented_language(real_run):
    run = RunFolder(real_run["run_folder"])
    records = real_records(real_run)
    for model, card in iter_models_with_cards(run):
        languages = [identify_language(v) for v in properties.card_languages(properties.card_data(model, card))]
        stated = {info["alpha3"] for info in languages if info["found"]}
        found = {iri.rsplit("/", 1)[1] for iri in records[model["id"]].get("inLanguage", [])}
        assert found <= stated, model["id"]


@for_source("hf")
def test_no_fine_tune_without_a_stated_fine_tune_and_every_result_an_evaluation(real_run):
    run = RunFolder(real_run["run_folder"])
    records = real_records(real_run)
    for model, card in iter_models_with_cards(run):
        record = records[model["id"]]
        stated = {HF + base for base, relation in properties.base_models(model, card) if relation == "finetune"}
        assert set(record.get("fineTunedFrom", [])) <= stated, model["id"]
        written = written_metric_values(properties.card_data(model, card))
        recorded = sorted(str(m["value"]) for e in record.get("hasEvaluation", []) for m in e.get("evaluationMetrics", []))
        assert recorded == written, model["id"]
        # Every result its own evaluation: none shares an IRI with another.
        assert len({e["@id"] for e in record.get("hasEvaluation", [])}) == len(record.get("hasEvaluation", [])), model["id"]


def written_metric_values(data: dict) -> list[str]:
    """Every metric value the card's model-index (or 2021 model_index) writes, read here on its own:
    one mapping or a list at each level, ``metrics`` or the 2021 ``metric``."""
    def items(value):  # noqa: ANN001, ANN202
        return value if isinstance(value, list) else [] if value is None else [value]

    values = []
    for entry in items(data.get("model-index") or data.get("model_index")):
        for result in items(entry.get("results")) if isinstance(entry, dict) else []:
            for metric in (items(result.get("metrics")) + items(result.get("metric"))) if isinstance(result, dict) else []:
                value = metric.get("value") if isinstance(metric, dict) else None
                if isinstance(value, (int, float, str)) and not isinstance(value, bool) and str(value).strip() not in ("", "None", "null", "-"):
                    values.append(str(float(str(value).rstrip("%")) if isinstance(value, str) and _is_number(value.rstrip("%")) else value))
    return sorted(values)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@for_source("hf")
def test_the_recorded_cards_evaluation_values_are_in_the_graph(real_run):
    graph, _ = evaluation_values(real_run["stores"])
    assert sum(map(len, graph.values())) > 20  # the recorded cards' model-index values, not a handful


def _strings(value) -> list[str]:  # noqa: ANN001
    """Every text anywhere in a JSON value."""
    pending, found = [value], []
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found.append(item)
        else:
            pending.extend(item.values() if isinstance(item, dict) else item if isinstance(item, list) else ())
    return found


@for_source("hf")
def test_no_placeholder_guidance_or_error_output_as_a_value(real_run):
    for record in real_records(real_run).values():
        for text in _strings(record):
            assert text.strip().lower().strip(".[]*_ ") not in ("none", "null", "n/a", "unknown", "tbd", "-", "more information needed"), (record["identifier"], text)
            for line in text.splitlines():
                assert not re.match(r"^\s*[*_](?:this section|it is (?:useful|relevant) for)", line, re.IGNORECASE), (record["identifier"], line)
        snippet = record.get("codeSampleSnippet") or ""
        assert not snippet.startswith("Traceback") and not re.match(r"^\w*(Error|Exception):", snippet), record["identifier"]


@for_source("hf")
def test_no_template_placeholder_in_any_value(real_run):
    for record in real_records(real_run).values():
        text = json.dumps(record).lower()
        assert "more information needed" not in text, record["identifier"]
        assert "mlco2.github.io" not in text and "1910.09700" not in text, record["identifier"]


@for_source("hf")
def test_every_failed_lookup_is_listed(real_run):
    warnings = [json.loads(line) for line in (real_run["run_folder"] / "warnings.jsonl").read_text().splitlines()]
    assert all(w.get("reason") and w.get("what") for w in warnings)
    entities = real_run["run_folder"] / "extraction" / "entities"
    not_found = {("datasets lookup", k) for k, v in json.loads((entities / "datasets.json").read_text()).items() if not v.get("found")}
    not_found |= {("accounts lookup", k) for k, v in read_identified(RunFolder(real_run["run_folder"]), "organisations").items() if not v.get("found")}
    not_found |= {("arXiv lookup", k) for k, v in json.loads((entities / "articles.json").read_text()).items()
                  if not v.get("found") and not k.startswith("doi:")}
    assert not_found and not_found <= {(w["what"], w["key"]) for w in warnings if "key" in w}
    report = json.loads((real_run["run_folder"] / "loading" / "report.json").read_text())
    assert report["warnings"] == len(warnings)


@for_every_source
def test_the_report_counts_the_warnings_by_kind_of_reason_naming_no_record(real_run):
    """The report (and the main job) count warnings by what they concern and the kind of their
    reason: every warning counted once, records that went wrong alike in one count, no count naming
    one record (its id, its key, a URL)."""
    run_folder = real_run["run_folder"]
    warnings = [json.loads(line) for line in (run_folder / "warnings.jsonl").read_text().splitlines()]
    report = json.loads((run_folder / "report.json").read_text())
    counted = {f"{stage}: {reason}": count for stage, data in report["stages"].items() for reason, count in data["warnings_by_reason"].items()}
    assert sum(counted.values()) == len(warnings)
    named = {str(w[field]) for w in warnings for field in ("id", "key") if len(str(w.get(field) or "")) > 4}
    assert not [reason for reason in counted if "://" in reason or any(name in reason for name in named)], counted
    if len(warnings) >= 50:
        assert len(counted) <= len(warnings) / 5, counted


# OpenML's own.

@for_source("openml")
def test_every_recorded_flow_is_loaded_with_its_description(real_run):
    flows = recorded_ids("flows", "flow.xml")
    rows = query(real_run["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__source = 'openml' AND m.schema__version IS NOT NULL "
                                        "RETURN m.schema__identifier AS id, m.schema__name AS name, m.schema__dateCreated AS created")
    assert sorted(int(r["id"]) for r in rows) == flows
    for row in rows:
        flow = ET.parse(OPENML_DATA / "openml-r" / "flows" / row["id"] / "flow.xml").getroot()
        assert row["name"] == (flow.findtext("oml:custom_name", namespaces=NS) or flow.findtext("oml:name", namespaces=NS)).strip()
        assert row["created"] is not None


@for_source("openml")
def test_every_recorded_run_of_a_harvested_flow_is_an_evaluation_with_its_values(real_run):
    expected, flows = {}, set(recorded_ids("flows", "flow.xml"))
    for path in (OPENML_DATA / "openml-r" / "runs").glob("*/run.xml"):
        run = ET.parse(path).getroot()
        if int(run.findtext("oml:flow_id", namespaces=NS)) not in flows:
            continue  # a run of a flow that was not recorded: its flow is not harvested
        values = {e.findtext("oml:name", namespaces=NS): float(e.findtext("oml:value", namespaces=NS))
                  for e in run.findall("oml:output_data/oml:evaluation", NS) if "fold" not in e.attrib and e.findtext("oml:value", namespaces=NS)}
        if "predictive_accuracy" in values:
            expected[f"{OML}r/{int(run.findtext('oml:run_id', namespaces=NS))}"] = values["predictive_accuracy"]
    rows = query(real_run["stores"], "MATCH (:fair4ml__MLModel)-[:fair4ml__hasEvaluation]->(e)-[:fair4ml__evaluationMetrics]->"
                                        "(v {schema__name: 'predictive_accuracy'}) RETURN e.uri AS run, v.schema__value AS value")
    assert expected and {r["run"]: r["value"] for r in rows} == pytest.approx(expected)
    report = json.loads((real_run["run_folder"] / "loading" / "report.json").read_text())
    assert report["models_failed"] == 0 and report["errors"] == 0


@for_source("openml")
def test_the_tasks_and_datasets_the_runs_reference_are_described(real_run):
    rows = query(real_run["stores"], "MATCH (:fair4ml__MLModel)-[:fair4ml__hasEvaluation]->(e)-[:fair4ml__evaluationDataset]->(d) "
                                        "MATCH (e)-[:fair4ml__mlTask]->(t) RETURN DISTINCT d.schema__name AS dataset, t.schema__name AS task")
    assert rows and all(not r["dataset"].startswith("OpenML dataset") and not r["task"].startswith("OpenML task") for r in rows)


# The BioImage Model Zoo's own.

@for_source("ai4life")
def test_the_current_collection_runs_end_to_end(real_run):
    index = json.loads((ZOO / "collection-gh-pages-hypha" / "index.json").read_text())
    models = {item["id"] for item in index["items"] if item["type"] == "model"}
    run_folder = real_run["run_folder"]
    errors = [json.loads(line) for line in (run_folder / "errors.jsonl").read_text().splitlines()]
    assert all(e.get("reason") for e in errors)
    rejected = {e["id"] for e in errors if e.get("id") in models}
    loaded = {row["id"] for row in query(real_run["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__source = 'ai4life' "
                                                                     "AND m.mlentory__sourceSha IS NOT NULL RETURN m.schema__identifier AS id")}
    assert loaded | rejected == models and not loaded & rejected  # every model loaded, or listed with the library's reason
    assert len(loaded) >= 0.9 * len(models), (len(loaded), len(models))
    report = json.loads((run_folder / "loading" / "SUCCESS.json").read_text())
    print(f"\nthe current collection: {len(models)} models, {len(loaded)} loaded, {len(rejected)} rejected; "
          f"entities {report['entities']}")
    assert report["entities"]["datasets"] >= 30  # the collection's datasets, as Datasets of their own
    # Every application and notebook of the collection whose description is recorded was read (a
    # partner's, bioimage-io/ilastik:ilastik, recorded as ilastik_ilastik, too); the others are errors.
    def recorded(item: dict) -> bool:
        folder = ZOO / "collection-gh-pages-hypha" / "rdf_content" / item["id"].replace(":", "_") / item["versions"][-1]["version"]
        return folder.is_dir()

    others = {item["id"]: recorded(item) for item in index["items"] if item["type"] in ("application", "notebook")}
    unread = {e["id"] for e in errors if e.get("id") in others and "404 Not Found" in e["reason"]}
    assert unread == {resource_id for resource_id, found in others.items() if not found}
    stores = real_run["stores"]
    # A model names its training data by the dataset's older id: the collection's own dataset node.
    assert query(stores, "MATCH ({uri: 'https://bioimage.io/#/artifacts/hiding-tiger'})-[:fair4ml__trainedOn]->(d:schema__Dataset) "
                         "RETURN d.uri AS uri, d.schema__identifier AS id") == [
        {"uri": "https://bioimage.io/#/artifacts/luscious-sushi", "id": "bioimage-io/luscious-sushi"}]
    # Its links name applications by their older ids: recorded from their own descriptions where
    # the collection gave one (ilastik), named only where it did not (the packager).
    linked = {row["id"]: row for row in query(stores, "MATCH ({uri: 'https://bioimage.io/#/artifacts/hiding-tiger'})-[:mlentory__relatedResource]->(a) "
                                                      "RETURN a.schema__identifier AS id, labels(a) AS labels, a.schema__name AS name")}
    assert linked["bioimage-io/ilastik:ilastik"]["name"] == "ilastik" and "schema__SoftwareApplication" in linked["bioimage-io/ilastik:ilastik"]["labels"]
    assert linked["bioimage-io/imjoy:BioImageIO-Packager"]["name"] == "bioimage-io/imjoy:BioImageIO-Packager"
    assert "bioimage-io/luscious-sushi" in linked


@for_source("hf")
def test_the_rows_joined_from_the_raw_lines_are_the_records(real_run):
    """The join into chunks puts each model's and card's line into its row as it is: decoded, the
    rows are the mapping's records, on every recorded model."""
    from mlentory.pipeline.run_folder import loads
    from mlentory.sources.huggingface.extraction import iter_record_lines
    from mlentory.sources.huggingface.mapping import records

    run = RunFolder(real_run["run_folder"])
    joined = [loads(line) for line in iter_record_lines(run)]
    assert len(joined) > 50 and any(row["card"] for row in joined) and any(row["card"] is None for row in joined)
    assert joined == list(records(run))


@for_source("hf")
def test_the_bases_read_from_the_lineage_fields_alone_are_those_of_the_whole_models(real_run):
    """The ancestors' step decodes only what names a base model: on every recorded model, the same
    bases as the whole record gives."""
    import msgspec

    from mlentory.pipeline.run_folder import jsonl_lines, loads
    from mlentory.sources.huggingface.extraction import _LINEAGE
    from mlentory.sources.huggingface.properties import base_models

    lines = list(jsonl_lines(real_run["run_folder"] / "extraction" / "models.jsonl"))
    bases = [(base_models(msgspec.to_builtins(_LINEAGE.decode(line))), base_models(loads(line))) for line in lines]
    assert len(lines) > 50 and sum(1 for lite, _ in bases if lite) >= 5
    assert all(lite == whole for lite, whole in bases)


@for_every_source
def test_the_nodes_a_record_links_to_are_its_graph_rows_targets(real_run):
    """``linked_nodes`` walks a record without building its graph rows: on every real record of
    every source, the same IRIs as the rows' relationships give (the record's own, not its embedded)."""
    from mlentory.stores.graph import graph_rows, linked_nodes

    records = list(real_records(real_run).values())
    assert records
    for record in records:
        rows = graph_rows(record)
        embedded = {row.uri for row in rows[1:]}
        targets = {target for row in rows for found in row.relationships.values() for target in found if target not in embedded}
        assert linked_nodes(record) == {rows[0].uri} | targets, record["@id"]
