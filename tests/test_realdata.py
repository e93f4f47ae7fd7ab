"""The whole pipeline over the real recorded Hub data in ../shared/realdata (skipped when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SHARED_REALDATA, clear, start_replay, use_data_root
from pipeline import run_pipeline

from mlentory.huggingface import properties
from mlentory.huggingface.cards import parse_card
from mlentory.replay.recordings import build_snapshot

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
    failed = {e["id"] for e in errors if e["id"] in real_run["model_ids"]}
    assert all(e.get("reason") for e in errors)
    with real_run["stores"].driver() as driver, driver.session() as session:
        loaded = set(session.run("MATCH (m:fair4ml__MLModel) WHERE m.mlentory__source = 'huggingface' RETURN m.schema__identifier").value())
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
