"""Re-runs: the same input gives the same graph and index; unchanged models are skipped; values that
changed upstream replace the old ones, with nothing stale left behind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURE_SNAPSHOT, clear, start_replay, use_data_root
from pipeline import run_pipeline

from mlentory.stores.search_index import document_id

SENTIMENT = "https://huggingface.co/acme-ai/sentiment-lm"
CONF = {"num_models": 9, "ancestor_generations": 2}


def graph_state(stores) -> list:
    with stores.driver() as driver, driver.session() as session:
        rows = session.run(
            "MATCH (n:Resource) OPTIONAL MATCH (n)-[r]->(m) "
            "RETURN n.uri AS uri, properties(n) AS props, labels(n) AS labels, collect([type(r), m.uri]) AS rels"
        ).data()
    return sorted(
        (r["uri"], json.dumps(r["props"], sort_keys=True), sorted(r["labels"]), sorted(map(tuple, r["rels"]))) for r in rows
    )


def index_state(stores) -> dict:
    es = stores.es()
    es.indices.refresh(index="mlentory_models")
    hits = es.search(index="mlentory_models", size=100, query={"match_all": {}})["hits"]["hits"]
    return {h["_id"]: h["_source"] for h in hits}


class Hub:
    """A private copy of the recorded snapshot that a test can change, served afresh after each change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        shutil.copytree(FIXTURE_SNAPSHOT, root)
        self.server = start_replay(root, page_size=3)

    def restart(self) -> None:
        self.stop()
        self.server = start_replay(self.root, page_size=3)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hub(stores, tmp_path_factory):
    clear(stores)
    use_data_root(tmp_path_factory.mktemp("rerun") / "data")
    hub = Hub(tmp_path_factory.mktemp("rerun-hub") / "snapshot")
    yield hub
    hub.stop()


@pytest.fixture(scope="module")
def first_run(hub, stores):
    run_folder = run_pipeline(CONF)
    return {"run_folder": Path(run_folder), "graph": graph_state(stores), "index": index_state(stores)}


def extraction_summary(run_folder: str) -> dict:
    return json.loads((Path(run_folder) / "extraction" / "SUCCESS.json").read_text())


def test_full_refresh_rerun_is_idempotent(first_run, hub, stores):
    assert extraction_summary(first_run["run_folder"])["models"] == 9
    run_folder = run_pipeline({**CONF, "full_refresh": True})
    assert extraction_summary(run_folder)["models"] == 9
    assert graph_state(stores) == first_run["graph"]
    assert index_state(stores) == first_run["index"]


def test_unchanged_models_are_skipped(first_run, hub, stores):
    hub.restart()  # fresh request counters
    run_folder = run_pipeline(CONF)
    summary = extraction_summary(run_folder)
    assert summary["models"] == 0 and summary["skipped_unchanged"] == 9
    # Only the listing (3 pages of 3) was asked for: no card, dataset, account or paper requests.
    assert dict(hub.server.stats) == {"total": 3, "api": 3}
    assert graph_state(stores) == first_run["graph"]


def test_upstream_change_replaces_old_values(first_run, hub, stores):
    record_path = hub.root / "models" / "acme-ai__sentiment-lm.json"
    record = json.loads(record_path.read_text())
    record.update({
        "sha": "9" * 40,
        "lastModified": "2025-06-01T00:00:00.000Z",
        "tags": [t for t in record["tags"] if not t.startswith(("dataset:", "license:"))] + ["license:apache-2.0"],
        "cardData": {**{k: v for k, v in record["cardData"].items() if k != "datasets"}, "license": "apache-2.0"},
    })
    record_path.write_text(json.dumps(record))
    card_path = hub.root / "cards" / "acme-ai__sentiment-lm.md"
    card = card_path.read_text().replace("license: mit", "license: apache-2.0").replace("datasets:\n- stanfordnlp/imdb\n", "")
    card = card.split("## Bias, Risks, and Limitations")[0] + "## How to use" + card.split("## How to use")[1]
    card_path.write_text(card)
    hub.restart()

    run_folder = run_pipeline(CONF)
    assert extraction_summary(run_folder)["models"] == 1  # only the changed model is processed

    with stores.driver() as driver, driver.session() as session:
        props = session.run("MATCH (m:Resource {uri: $u}) RETURN properties(m) AS p", u=SENTIMENT).single()["p"]
        rels = {(r["t"], r["u"]) for r in session.run("MATCH (:Resource {uri: $u})-[r]->(x) RETURN type(r) AS t, x.uri AS u", u=SENTIMENT)}
        count = session.run("MATCH (m:Resource {uri: $u}) RETURN count(m) AS c", u=SENTIMENT).single()["c"]
        evaluations = session.run("MATCH (e:fair4ml__MLModelEvaluation) OPTIONAL MATCH (e)-[:fair4ml__evaluationMetrics]->(v) "
                                  "RETURN count(DISTINCT e) AS e, count(v) AS v").single()
    assert count == 1
    assert (evaluations["e"], evaluations["v"]) == (2, 3)  # re-written in place, none left behind (and the iris classifier's, 2 values)
    assert props["mlentory__sourceSha"] == "9" * 40
    assert "fair4ml__modelRisksBiasLimitations" not in props  # the section was removed upstream
    assert ("schema__license", "https://spdx.org/licenses/Apache-2.0") in rels
    assert ("schema__license", "https://spdx.org/licenses/MIT") not in rels
    assert not any(t == "fair4ml__trainedOn" for t, _ in rels)
    assert ("fair4ml__evaluatedOn", "https://huggingface.co/datasets/stanfordnlp/imdb") in rels  # model-index unchanged

    document = stores.es().get(index="mlentory_models", id=document_id(SENTIMENT))["_source"]
    assert document["licenses"] == ["Apache-2.0"] and document["trained_on"] == []
    assert document["risks_bias_limitations"] is None
    assert len(index_state(stores)) == 9


def test_a_transient_card_failure_is_not_recorded_as_loaded_and_is_retried(first_run, hub, stores):
    from mlentory.pipeline.run_folder import RunFolder
    from mlentory.pipeline.state import LoadedRevisions

    speech = "https://huggingface.co/lab-x/speech-asr"
    record_path = hub.root / "models" / "lab-x__speech-asr.json"
    record = json.loads(record_path.read_text())
    record.update({"sha": "7" * 40, "lastModified": "2025-07-01T00:00:00.000Z"})  # a new revision upstream
    record_path.write_text(json.dumps(record))
    (hub.root / "faults.json").write_text(json.dumps([{"path": "/lab-x/speech-asr/resolve/", "status": 500, "times": 50, "retry_after": 0}]))
    hub.restart()
    faulty = Path(run_pipeline(CONF))
    assert LoadedRevisions(RunFolder(faulty)).load().get("lab-x/speech-asr") != "7" * 40  # not recorded: its card failed
    report = json.loads((faulty / "loading" / "report.json").read_text())
    assert report["models_retried_next_run"] == 1

    (hub.root / "faults.json").unlink()
    hub.restart()
    healed = Path(run_pipeline(CONF))
    assert extraction_summary(str(healed))["models"] == 1  # the same revision is processed again, with its card
    assert LoadedRevisions(RunFolder(healed)).load()["lab-x/speech-asr"] == "7" * 40
    with stores.driver() as driver, driver.session() as session:
        props = session.run("MATCH (m:Resource {uri: $u}) RETURN properties(m) AS p", u=speech).single()["p"]
    assert props["mlentory__sourceSha"] == "7" * 40 and props["fair4ml__intendedUse"]


def test_a_model_reloaded_without_its_card_is_rebuilt_by_the_next_run(first_run, hub, stores):
    """A clean load, then a full_refresh reload of the same revision whose card answers 500: the
    earlier entry in the loaded revisions must not make the next ordinary run skip the model."""
    from mlentory.pipeline.run_folder import RunFolder
    from mlentory.pipeline.state import LoadedRevisions

    def sentiment() -> tuple[dict, dict]:
        with stores.driver() as driver, driver.session() as session:
            props = session.run("MATCH (m:Resource {uri: $u}) RETURN properties(m) AS p", u=SENTIMENT).single()["p"]
        stores.es().indices.refresh(index="mlentory_models")
        return props, stores.es().get(index="mlentory_models", id=document_id(SENTIMENT))["_source"]

    clean_props, clean_document = sentiment()
    assert clean_props.get("fair4ml__intendedUse") and clean_document.get("intended_use")
    (hub.root / "faults.json").write_text(json.dumps([{"path": "/acme-ai/sentiment-lm/resolve/", "status": 500, "times": 50, "retry_after": 0}]))
    hub.restart()
    faulty = Path(run_pipeline({**CONF, "full_refresh": True}))
    assert "acme-ai/sentiment-lm" not in LoadedRevisions(RunFolder(faulty)).load()  # the clean load's entry is gone
    faulty_props, faulty_document = sentiment()
    assert not faulty_props.get("fair4ml__intendedUse") and not faulty_document.get("intended_use")  # reloaded without the card

    (hub.root / "faults.json").unlink()
    hub.restart()
    healed = Path(run_pipeline(CONF))
    assert extraction_summary(str(healed))["models"] == 1  # not skipped as unchanged
    healed_props, healed_document = sentiment()
    assert healed_props == clean_props and healed_document == clean_document  # the card's fields are back, in both stores
