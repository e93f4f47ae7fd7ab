"""Freshness between two runs of the Hub's chain on the fixture, one model changed upstream in
between: unchanged models still get their downloads and likes (updated in place, without their
transformation), and each change is in the history, from which a past state reads back."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from conftest import FIXTURE_SNAPSHOT, clear, query, start_replay, use_data_root
from pipeline import run_pipeline

from mlentory.pipeline.run_folder import read_json, read_jsonl


def _run(snapshot: Path) -> Path:
    server = start_replay(snapshot)
    try:
        return Path(run_pipeline({"num_models": 5, "ancestor_generations": 0}))
    finally:
        server.shutdown()
        server.server_close()


def two_runs(stores, tmp_path: Path, change: dict) -> tuple[str, dict, datetime, Path]:  # noqa: ANN001
    """A run, then ``change`` made to the recorded model of the first model it loaded, then a
    second run. Returns the model's id, its record before, the time between the runs, the second run."""
    clear(stores)
    use_data_root(tmp_path / "data")
    snapshot = tmp_path / "snapshot"
    shutil.copytree(FIXTURE_SNAPSHOT, snapshot)
    first = _run(snapshot)
    between = datetime.now(UTC)
    model_id = next(read_jsonl(first / "extraction" / "models.jsonl"))["id"]
    recorded = snapshot / "models" / f"{model_id.replace('/', '__')}.json"
    record = json.loads(recorded.read_text())
    recorded.write_text(json.dumps({**record, **change}))
    return model_id, record, between, _run(snapshot)


def test_counts_of_unchanged_models_are_refreshed_without_transforming_them(stores, tmp_path):
    model_id, _, _, second = two_runs(stores, tmp_path, {"downloads": 987654, "likes": 4321})  # same sha: not a new revision
    assert read_json(second / "extraction" / "SUCCESS.json")["models"] == 0  # nothing to transform
    assert read_json(second / "transformation" / "SUCCESS.json")["models"] == 0
    report = read_json(second / "loading" / "report.json")
    assert report["statistics_refreshed"] == 5 and report["models_loaded"] == 0
    iri = f"https://huggingface.co/{model_id}"
    [node] = query(stores, "MATCH (m {uri: $u}) RETURN m.mlentory__downloads AS downloads, m.mlentory__likes AS likes, "
                           "m.schema__name AS name", u=iri)
    assert node == {"downloads": 987654, "likes": 4321, "name": model_id}  # the counts, and nothing else lost
    es = stores.es()
    hits = es.search(index="mlentory_models", query={"term": {"identifier": model_id}})["hits"]["hits"]
    assert [(h["_source"]["downloads"], h["_source"]["likes"], h["_source"]["name"]) for h in hits] == [(987654, 4321, model_id)]
    # The history has the first load of each model and, since, only the counts of this one.
    history = [row for path in sorted((tmp_path / "data" / "hf" / "history").rglob("*.jsonl")) for row in read_jsonl(path)]
    assert sum(1 for row in history if row.get("new")) == 5
    assert [row["changed"] for row in history if not row.get("new")] == [{"downloads": 987654, "likes": 4321}]
    # The change feed, run by run: five models added, then this one's counts changed in place.
    from mlentory.pipeline import feed

    root = tmp_path / "data" / "hf"
    first, last = feed.published_runs(root)
    assert (first["added"], first["changed"], last["added"], last["changed"], last["withdrawn"]) == (5, 0, 0, 1, 0)
    assert report["feed"] == {"manifest": f"feed/{second.name}.json", "added": 0, "changed": 1, "withdrawn": 0}
    entries = list(feed.read_entries(root))
    assert [entry["change"] for entry in entries] == ["added"] * 5 + ["changed"]
    assert {entry["iri"] for entry in entries[:5]} == {f"https://huggingface.co/{e['id']}" for e in entries[:5]}
    assert [(e["id"], e["iri"], e["terms"], e["run"]) for e in feed.read_entries(root, after=first["run"])] == [
        (model_id, iri, ["downloads", "likes"], second.name)]  # a follower's cursor: only what came after it
    newest = feed.last_entries(root, 2)  # the newest run's entry, and one of the run before it
    assert newest[-1] == entries[-1] and newest[0] in entries[:5]


def test_a_models_state_at_a_past_date_is_read_back_from_its_history(stores, tmp_path):
    from mlentory.pipeline.history import state_at

    model_id, record, between, second = two_runs(stores, tmp_path, {"sha": "f" * 40, "likes": 7})  # a new commit
    assert json.loads((second / "loading" / "report.json").read_text())["models_changed"] == 1
    root = tmp_path / "data" / "hf"
    before, now = state_at(root, model_id, between), state_at(root, model_id, datetime.now(UTC))
    assert before["version"] == record["sha"] and before["likes"] == record["likes"] and before["name"] == model_id
    assert now["version"] == "f" * 40 and now["likes"] == 7 and now["name"] == model_id
    assert state_at(root, model_id, datetime(2020, 1, 1, tzinfo=UTC)) is None  # not loaded yet then
    changed = [row["changed"] for path in sorted((root / "history").rglob("*.jsonl")) for row in read_jsonl(path) if not row.get("new")]
    # Only what the commit changed: the revision, the links pinned to it, and the count.
    assert [sorted(row) for row in changed] == [["archivedAt", "likes", "readme", "sourceSha", "version"]]
    # The feed names the same terms for the model: a follower knows what to fetch again.
    from mlentory.pipeline import feed

    first = feed.published_runs(root)[0]["run"]
    assert [(e["id"], e["change"], e["terms"]) for e in feed.read_entries(root, after=first)] == [
        (model_id, "changed", ["archivedAt", "likes", "readme", "sourceSha", "version"])]


def test_each_model_chunk_task_makes_its_share_of_the_report_and_the_end_adds_them_up_once(stores, tmp_path):
    """The loading's mapped chunk tasks account for their own models (counts, coverage, revisions,
    history digests), the history tasks record the history once, the report adds the chunks up: run
    again, it records nothing twice, and a chunk whose account is missing is accounted for by the end itself."""
    from mlentory.pipeline import loading

    clear(stores)
    use_data_root(tmp_path / "data")
    run = _run(FIXTURE_SNAPSHOT)
    chunks = read_json(run / "transformation" / "plan.json")["chunks"]
    accounts = [read_json(run / "loading" / "accounts" / f"{chunk:05d}.json") for chunk in range(chunks)]
    assert chunks == 2 and all(accounts)  # five models in chunks of 3, each accounted for by its task
    report = read_json(run / "loading" / "report.json")
    assert sum(a["loaded"] for a in accounts) == report["models_loaded"] == report["models_changed"] == 5
    assert not (run / "loading" / "history").exists()  # the chunks' digests, recorded and removed
    history = sorted((tmp_path / "data" / "hf" / "history").rglob("*.jsonl"))
    rows = [row for path in history for row in read_jsonl(path)]
    (run / "loading" / "accounts" / "00001.json").unlink()
    again = loading.finish_loading(str(run), 1.0)
    # The run's report: what its history tasks recorded (5 changed), the chunk accounted for again adding nothing.
    assert (again["models_loaded"], again["models_catalogued"], again["models_changed"]) == (5, 5, 5)
    assert sorted((tmp_path / "data" / "hf" / "history").rglob("*.jsonl")) == history
    assert [row for path in history for row in read_jsonl(path)] == rows  # nothing recorded twice
