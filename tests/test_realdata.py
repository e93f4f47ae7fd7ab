"""The whole pipeline over the real recorded Hub data in ../shared/realdata (skipped when absent)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import SHARED_REALDATA, clear, evaluation_values, start_replay, use_data_root
from pipeline import run_pipeline

from devstack.replay.recordings import build_snapshot
from mlentory.enrichment.languages import identify_language
from mlentory.fair4ml.jsonld import read_jsonld
from mlentory.pipeline.run_folder import RunFolder
from mlentory.sources.huggingface import properties
from mlentory.sources.huggingface.cards import parse_card
from mlentory.sources.huggingface.coverage import coverage_of_run
from mlentory.sources.huggingface.extraction import iter_models_with_cards

pytestmark = pytest.mark.skipif(
    not (SHARED_REALDATA / "huggingface").is_dir(),
    reason=f"real recordings not found at {SHARED_REALDATA} (they live beside the project in ../shared/realdata)",
)

HF = "https://huggingface.co/"
ALL_CARDS = sorted((SHARED_REALDATA / "huggingface" / "model_cards").glob("*/*/README.md")) if SHARED_REALDATA.is_dir() else []


@pytest.fixture(scope="module")
def real_run(stores, tmp_path_factory):
    clear(stores)
    use_data_root(tmp_path_factory.mktemp("realdata") / "data")
    snapshot = tmp_path_factory.mktemp("realdata-hub") / "snapshot"
    built = build_snapshot(SHARED_REALDATA, snapshot)
    model_ids = sorted(p.stem.replace("__", "/") for p in (snapshot / "models").glob("*.json"))
    replay = start_replay(snapshot, page_size=10)
    try:
        run_folder = Path(run_pipeline({"num_models": len(model_ids), "model_ids": model_ids, "ancestor_generations": 1}))
        yield {"run_folder": run_folder, "model_ids": model_ids, "built": built, "stores": stores, "stats": dict(replay.stats)}
    finally:
        replay.shutdown()
        replay.server_close()


def test_every_recorded_model_is_loaded_or_listed_with_a_reason(real_run):
    errors = [json.loads(line) for line in (real_run["run_folder"] / "errors.jsonl").read_text().splitlines()]
    failed = {e["id"] for e in errors if e.get("id") in real_run["model_ids"]}
    assert all(e.get("reason") for e in errors)
    with real_run["stores"].driver() as driver, driver.session() as session:
        loaded = set(session.run("MATCH (m:fair4ml__MLModel) WHERE m.schema__identifier IN $ids RETURN m.schema__identifier",
                                 ids=real_run["model_ids"]).value())
    assert set(real_run["model_ids"]) <= loaded | failed
    assert failed == set(), f"recorded models that failed: {errors}"
    assert real_run["stores"].es().count(index="mlentory_models")["count"] == len(loaded)


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
    return {r["identifier"]: r for path in sorted((real_run["run_folder"] / "transformation" / "models").glob("*.jsonld")) for r in read_jsonld(path)}


def test_every_recorded_card_went_through_the_pipeline(real_run):
    assert real_run["built"]["cards"] == len(ALL_CARDS) and real_run["built"]["card_only_models"] > 0
    records = real_records(real_run)
    assert set(real_run["model_ids"]) <= set(records)


def test_field_coverage_report(real_run):
    coverage = coverage_of_run(real_run["run_folder"])
    print("\nFAIR4ML field coverage of the recorded Hub data\n" + coverage.table())
    assert coverage.ratio >= 0.98, coverage.missing
    assert sum(coverage.expected.values()) > 1_000  # the report covers the corpus, not a handful of values


def test_no_invented_language(real_run):
    run = RunFolder(real_run["run_folder"])
    records = real_records(real_run)
    for model, card in iter_models_with_cards(run):
        languages = [identify_language(v) for v in properties.card_languages(properties.card_data(model, card))]
        stated = {info["alpha3"] for info in languages if info["found"]}
        found = {iri.rsplit("/", 1)[1] for iri in records[model["id"]].get("inLanguage", [])}
        assert found <= stated, model["id"]


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


def test_graph_and_index_hold_the_same_evaluation_values(real_run):
    graph, index = evaluation_values(real_run["stores"])
    differing = {model: (sorted(set(graph.get(model, [])) - set(index.get(model, []))), sorted(set(index.get(model, [])) - set(graph.get(model, []))))
                 for model in set(graph) | set(index) if graph.get(model) != index.get(model)}
    assert differing == {}
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


def test_no_placeholder_guidance_or_error_output_as_a_value(real_run):
    for record in real_records(real_run).values():
        for text in _strings(record):
            assert text.strip().lower().strip(".[]*_ ") not in ("none", "null", "n/a", "unknown", "tbd", "-", "more information needed"), (record["identifier"], text)
            for line in text.splitlines():
                assert not re.match(r"^\s*[*_](?:this section|it is (?:useful|relevant) for)", line, re.IGNORECASE), (record["identifier"], line)
        snippet = record.get("codeSampleSnippet") or ""
        assert not snippet.startswith("Traceback") and not re.match(r"^\w*(Error|Exception):", snippet), record["identifier"]


def test_no_template_placeholder_in_any_value(real_run):
    for record in real_records(real_run).values():
        text = json.dumps(record).lower()
        assert "more information needed" not in text, record["identifier"]
        assert "mlco2.github.io" not in text and "1910.09700" not in text, record["identifier"]


def test_every_failed_lookup_is_listed(real_run):
    warnings = [json.loads(line) for line in (real_run["run_folder"] / "warnings.jsonl").read_text().splitlines()]
    assert all(w.get("reason") and w.get("what") for w in warnings)
    entities = real_run["run_folder"] / "extraction" / "entities"
    not_found = {("datasets lookup", k) for k, v in json.loads((entities / "datasets.json").read_text()).items() if not v.get("found")}
    not_found |= {("accounts lookup", k) for k, v in json.loads((entities / "organisations.json").read_text()).items() if not v.get("found")}
    not_found |= {("arXiv lookup", k) for k, v in json.loads((entities / "articles.json").read_text()).items()
                  if not v.get("found") and not k.startswith("doi:")}
    assert not_found and not_found <= {(w["what"], w["key"]) for w in warnings if "key" in w}
    report = json.loads((real_run["run_folder"] / "loading" / "report.json").read_text())
    assert report["warnings"] == len(warnings)
