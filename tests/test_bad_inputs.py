"""Every source's bad-input corpus (``bad_corpora.py``: malformed records in the source's real shapes),
served by the replay next to the good fixture and run through the source's three DAGs with an error
budget of 1: no task crashes, each bad record is loaded with what can be read or listed with its
reason, and no good record is lost. One run per source (a module-scoped fixture parametrized over the
registered sources); the shared checks run for every source, a source's own checks name it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bad_corpora import CASES, CORPORA, HF, LEGACY_NAME, OML, ZOO
from conftest import fresh_world, query, start_replay
from pipeline import lines, normalized_records, per_source, run_dag, source_keys, source_of, xcom

for_source, for_every_source = per_source("bad_run")  # one run per source, shared by its tests


@pytest.fixture(scope="module")
def bad_run(request, stores, tmp_path_factory) -> dict[str, Any]:
    key = request.param
    corpus = CORPORA[key]
    snapshot = fresh_world(stores, tmp_path_factory, f"bad-{key}")
    corpus.add(snapshot)
    replay = start_replay(snapshot, **corpus.replay)
    try:
        run_folder = xcom(run_dag(f"{key}_extraction", {**corpus.extraction, "max_error_rate": 1.0}), f"{key}_run_folder")
        run_dag(f"{key}_transformation", {"run_folder": run_folder, "max_error_rate": 1.0, **corpus.transformation})
        run_dag(f"{key}_loading", {"run_folder": run_folder, "max_error_rate": 1.0})
    finally:
        replay.shutdown()
        replay.server_close()
    return {"key": key, "source": source_of(key), "corpus": corpus, "run_folder": Path(run_folder), "stores": stores}


def transformed(run_folder: Path) -> dict[str, dict[str, Any]]:
    """The run's normalized models, by identifier."""
    return normalized_records(run_folder)


def loaded_ids(bad_run: dict[str, Any]) -> set[str]:
    """The run's models that are in the graph as full records of the source."""
    records = transformed(bad_run["run_folder"])
    rows = query(bad_run["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.uri IN $iris AND m.mlentory__source = $source RETURN m.uri AS uri",
                 iris=[record["@id"] for record in records.values()], source=bad_run["source"].name)
    in_graph = {row["uri"] for row in rows}
    return {identifier for identifier, record in records.items() if record["@id"] in in_graph}


def graph(stores, cypher: str, **params) -> list:  # noqa: ANN001
    with stores.driver() as driver, driver.session() as session:
        return session.run(cypher, **params).value()


def test_every_registered_source_has_a_corpus_large_enough():
    assert set(CORPORA) == set(source_keys())
    assert {key: corpus.size >= corpus.minimum_size for key, corpus in CORPORA.items()} == dict.fromkeys(CORPORA, True)


@for_every_source
def test_no_good_record_is_lost(bad_run):
    good = bad_run["corpus"].good
    assert good <= loaded_ids(bad_run)
    es = bad_run["stores"].es()
    es.indices.refresh(index="mlentory_models")
    hits = es.search(index="mlentory_models", size=1000, query={"term": {"source": bad_run["source"].name}})["hits"]["hits"]
    assert good <= {hit["_source"]["identifier"] for hit in hits}


@for_every_source
def test_every_bad_record_is_loaded_or_listed_with_its_reason(bad_run):
    errors = lines(bad_run["run_folder"] / "errors.jsonl")
    assert errors and all(error.get("reason") for error in errors)
    listed = {str(error["id"]) for error in errors if "id" in error}
    loaded = loaded_ids(bad_run)
    assert [record_id for record_id in bad_run["corpus"].bad_ids if record_id not in loaded | listed] == []
    # Every row names its subject (a record id, an entity, a graph node, or a position in an input).
    assert all({"id", "iri", "input"} & set(error) or {"kind", "key"} <= set(error) for error in errors), errors


# The Hub's own.

@for_source("hf")
def test_loaded_bad_records_hold_only_sane_values(bad_run):
    records = transformed(bad_run["run_folder"])
    bomb = records.get("bad/card-alias-bomb")
    assert bomb is not None and len(json.dumps(bomb)) < 10_000
    if "bad/language-invalid" in records:
        assert records["bad/language-invalid"].get("inLanguage") == ["http://lexvo.org/id/iso639-3/eng"]
    cycle = records.get("bad/cycle-a")
    assert cycle is not None and cycle["isBasedOn"] == [HF + "bad/cycle-b"]
    assert HF + "bad/base-model-self" not in records["bad/base-model-self"].get("isBasedOn", [])


@for_source("hf")
def test_what_loads_with_a_gap_is_a_warning(bad_run):
    warnings = {(w.get("id"), w["what"]) for w in map(json.loads, (bad_run["run_folder"] / "warnings.jsonl").read_text().splitlines())}
    assert ("bad/card-invalid-utf8", "model card") in warnings
    assert {("bad/card-alias-bomb", "card metadata"), ("bad/card-python-tag", "card metadata")} <= warnings
    assert {("bad/model-index-string", "model-index"), ("bad/model-index-results-dict", "model-index"),
            ("bad/model-index-odd-metric", "model-index")} <= warnings


@for_source("hf")
def test_a_legacy_id_longer_than_new_names_is_harvested_with_its_card(bad_run):
    model_id = f"bad/{LEGACY_NAME}"
    assert len(model_id) == 119
    record = transformed(bad_run["run_folder"])[model_id]
    assert record["description"].startswith("A legacy model whose repository name is longer")
    assert model_id in loaded_ids(bad_run)


@for_source("hf")
def test_placeholders_are_no_values(bad_run):
    record = transformed(bad_run["run_folder"])["bad/placeholders"]
    assert not {"trainedOn", "inLanguage", "isBasedOn"} & set(record)
    assert record.get("softwareRequirements", []) == ["transformers"]


@for_source("hf")
def test_an_error_row_names_the_record_and_the_exception(bad_run):
    errors = [json.loads(line) for line in (bad_run["run_folder"] / "errors.jsonl").read_text().splitlines()]
    [spaced] = [e for e in errors if "bad id/with spaces" in e.get("reason", "")]
    assert spaced["reason"].startswith("ValueError: ") and "is not a Hub repo id" in spaced["reason"]


@for_source("hf")
def test_records_without_a_usable_id_are_listed_by_their_position_in_the_listing(bad_run):
    errors = lines(bad_run["run_folder"] / "errors.jsonl")
    by_position = {e["input"] for e in errors if "input" in e and e["input"].startswith("listing entry ")}
    assert len(by_position) >= sum(1 for fields, _ in CASES.values() if "id" in fields)


# OpenML's own.


@for_source("openml")
def test_unreadable_flows_are_listed_and_good_flows_keep_every_run(bad_run):
    listed = {str(e.get("id")) for e in lines(bad_run["run_folder"] / "errors.jsonl")}
    loaded = loaded_ids(bad_run)
    for unreadable in ("9003", "9013", "9015"):
        assert unreadable in listed and unreadable not in loaded
    runs = graph(bad_run["stores"], "MATCH ({uri: $u})-[:fair4ml__hasEvaluation]->(e) RETURN e.uri", u=OML + "f/101")
    assert sorted(runs) == [OML + "r/5001", OML + "r/5002"]

@for_source("openml")
def test_bad_values_are_left_out_not_invented(bad_run):
    stores = bad_run["stores"]
    values = graph(stores, "MATCH ({uri: $u})-[:fair4ml__hasEvaluation]->(e)-[:fair4ml__evaluationMetrics]->(v) RETURN v.schema__value",
                   u=OML + "f/102")
    assert all(isinstance(v, (int, float)) and v == v and abs(v) != float("inf") for v in values)  # no text, NaN or infinity
    # A task with an unknown procedure still evaluates; only a known procedure says what the model was trained on.
    assert graph(stores, "MATCH ({uri: $u})-[:fair4ml__trainedOn]->(d) RETURN d.uri", u=OML + "f/9007") == []
    assert graph(stores, "MATCH ({uri: $u})-[:fair4ml__trainedOn]->(d) RETURN d.uri", u=OML + "f/102") == [OML + "d/61"]
    # The dataset of odd values keeps what it can: its papers, the same IRIs the Hub gives them.
    papers = graph(stores, "MATCH ({uri: $u})-[:codemeta__referencePublication]->(p) RETURN p.uri ORDER BY p.uri", u=OML + "d/63")
    assert papers == ["https://arxiv.org/abs/2101.00001", "https://doi.org/10.1000/odd"]
    [many] = graph(stores, "MATCH (d {uri: $u}) RETURN d.schema__creditText", u=OML + "d/64")
    assert len(many) == 50 and many[:2] == ["Person 0", "Person 1"]


@for_source("openml")
def test_failed_lookups_are_warnings_with_reasons(bad_run):
    warnings = lines(bad_run["run_folder"] / "warnings.jsonl")
    by_key = {(w.get("kind"), w.get("key")): w for w in warnings}
    assert "not found" in by_key[("tasks", "99999")]["reason"]
    assert "unreadable" in by_key[("tasks", "302")]["reason"] and "unreadable" in by_key[("datasets", "62")]["reason"]


# The BioImage Model Zoo's own.


@for_source("ai4life")
def test_unreadable_descriptions_and_items_are_listed(bad_run):
    errors = lines(bad_run["run_folder"] / "errors.jsonl")
    listed, models = {e.get("id") for e in errors}, loaded_ids(bad_run)
    for unreadable in ("not-yaml", "yaml-list", "alias-bomb", "python-tag", "empty", "huge", "missing-file"):
        assert f"bioimage-io/{unreadable}" in listed and f"bioimage-io/{unreadable}" not in models
    by_position = [e for e in errors if "input" in e and e["input"].startswith("index item")]
    assert len(by_position) >= 2  # items without a usable id are named by their position
    assert "bioimage-io/fixture-shark" not in listed  # listed again without versions: the first entry is kept

@for_source("ai4life")
def test_what_loads_holds_only_sane_values(bad_run):
    stores = bad_run["stores"]
    # The traversal is only a URL on the same server (never a file of this machine), and the bad date is left out.
    [docs] = query(stores, "MATCH (m {uri: $u}) RETURN m.codemeta__readme AS readme", u=ZOO + "documentation-traversal") or [{"readme": None}]
    assert docs["readme"] is None or docs["readme"].startswith("https://hypha.aicell.io/")
    people = query(stores, "MATCH ({uri: $u})-[:schema__creator]->(p) RETURN p.uri AS uri", u=ZOO + "orcid-odd")
    assert all(not row["uri"].startswith("https://orcid.org/not") for row in people)
