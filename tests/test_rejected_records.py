"""A record rejected once is remembered until it changes, for every source: it is listed as a
warning by later runs and does not count against their error budgets again, so a few bad records
cannot fail every run and keep the good ones from ever loading. The budget a cascade applies is the
one its extraction was triggered with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURE_SNAPSHOT, fresh_world, query, start_replay
from pipeline import dag_bag, declared_defaults, lines, run_dag, xcom

from mlentory.pipeline import extraction as scaffolding
from mlentory.pipeline import transformation
from mlentory.pipeline.quality import ErrorRateExceeded, cascade_error_rate
from mlentory.pipeline.run_folder import RunFolder, write_jsonl
from mlentory.pipeline.state import RejectedRecords
from mlentory.sources import HUGGINGFACE
from mlentory.sources.huggingface.hub import model_revision

OML = "https://www.openml.org/f/"
GOOD_FLOW = (FIXTURE_SNAPSHOT / "openml" / "flows" / "102" / "flow.xml").read_text()
UNREADABLE_FLOWS = {9003: GOOD_FLOW.replace("<oml:id>102<", "<oml:id>9003<")[:120], 9013: "",
                    9015: "<html><body>502 Bad Gateway</body></html>"}
GOOD_COPIES = {flow_id: GOOD_FLOW.replace("<oml:id>102<", f"<oml:id>{flow_id}<") for flow_id in range(9101, 9106)}


def run_allowing_failure(dag_id: str, conf: dict):  # noqa: ANN201 - a DagRun
    return dag_bag().get_dag(dag_id).test(run_conf={**declared_defaults()[dag_id], **conf})


@pytest.fixture(scope="module")
def openml_runs(stores, tmp_path_factory):
    """Ten flows listed, three of them unreadable (30%, above the default budget of 10%): two
    harvests with the default budget, then a third after one bad flow was fixed upstream."""
    snapshot = fresh_world(stores, tmp_path_factory, "rejected-openml")
    for flow_id, text in {**UNREADABLE_FLOWS, **GOOD_COPIES}.items():
        (snapshot / "openml" / "flows" / str(flow_id)).mkdir(parents=True)
        (snapshot / "openml" / "flows" / str(flow_id) / "flow.xml").write_text(text)
    replay = start_replay(snapshot)
    try:
        first = run_allowing_failure("openml_extraction", {"num_flows": 100})
        replay.paths.clear()
        second = xcom(run_dag("openml_extraction", {"num_flows": 100}), "openml_run_folder")
        requests = dict(replay.paths)
        run_dag("openml_transformation", {"run_folder": second})
        run_dag("openml_loading", {"run_folder": second})
    finally:
        replay.shutdown()
        replay.server_close()
    return {"first": first, "second": Path(second), "requests": requests, "stores": stores}


def test_the_first_run_fails_on_the_bad_flows_and_remembers_them(openml_runs):
    assert openml_runs["first"].state == "failed"  # 3 of 10 flows unreadable, above 10%
    folder = RunFolder(Path(xcom(openml_runs["first"], "openml_run_folder")))
    rejected = RejectedRecords(folder).load()
    assert {"9003", "9013", "9015"} <= rejected.keys()
    assert all(entry["revision"].startswith("listed:") and entry["reason"] for entry in rejected.values())


def test_the_next_run_loads_every_good_flow_and_lists_the_bad_ones_without_counting_them(openml_runs):
    loaded = {row["uri"] for row in query(openml_runs["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__sourceSha IS NOT NULL "
                                                                 "RETURN m.uri AS uri")}
    assert loaded >= {OML + str(flow_id) for flow_id in (101, 102, *GOOD_COPIES)}
    second = openml_runs["second"]
    assert [e for e in lines(second / "errors.jsonl") if e["stage"] == "extraction" and e["part"] == "flows"] == []
    earlier = {w["id"]: w["reason"] for w in lines(second / "warnings.jsonl") if w.get("rejected_earlier")}
    assert set(earlier) == {"9003", "9013", "9015"} and all("rejected by an earlier run" in r for r in earlier.values())
    # Not asked for again (the good ones the failed run fetched come from the cache).
    assert not [path for path in openml_runs["requests"] if path.startswith("/api/v1/xml/flow/9")], openml_runs["requests"]


def hub_run(data_root: Path, models: list[dict]) -> RunFolder:
    run = RunFolder.create(data_root, "hf")
    write_jsonl(scaffolding.raw_file(run, "latest"), models)
    return run


def transform(run: RunFolder, max_error_rate: float) -> dict:
    from mlentory.sources.huggingface import extraction

    extraction.merge_raw_models(str(run.path), full_refresh=False)
    write_jsonl(run.file("extraction", "cards.jsonl"), [])
    for chunk in transformation.plan_chunks(HUGGINGFACE, str(run.path), chunk_size=10):
        transformation.extract_properties(HUGGINGFACE, str(run.path), chunk)
    transformation.link_entities(HUGGINGFACE, str(run.path))
    return transformation.normalize_models(HUGGINGFACE, str(run.path), max_error_rate=max_error_rate)


def test_a_record_the_transformation_rejected_is_not_taken_again_until_it_changes(tmp_path):
    good = {"id": "a/good", "sha": "1" * 40, "tags": ["license:mit"], "card_data": {"license": "mit"}}
    bad = [{"id": f"a/bad{i}", "sha": f"{i}" * 40, "tags": [], "card_data": "not a mapping"} for i in range(2, 5)]
    with pytest.raises(ErrorRateExceeded, match="3 of 4"):
        transform(hub_run(tmp_path, [good, *bad]), max_error_rate=0.1)
    again = hub_run(tmp_path, [good, *bad])
    summary = transform(again, max_error_rate=0.1)  # the same harvest: the three are not taken, nor counted
    assert summary["models"] == 1 and summary["errors"] == 0
    assert {w["id"] for w in again.warnings() if w.get("rejected_earlier")} == {"a/bad2", "a/bad3", "a/bad4"}
    # One of them changed upstream (a new revision): taken again, and rejected again with its reason.
    changed = {**bad[0], "sha": "9" * 40}
    later = hub_run(tmp_path, [good, changed, *bad[1:]])
    with pytest.raises(ErrorRateExceeded, match="1 of 2"):
        transform(later, max_error_rate=0.1)
    assert RejectedRecords(later).load()["a/bad2"]["revision"] == model_revision(changed)


def test_a_bad_index_item_the_run_did_not_ask_for_does_not_fail_a_targeted_run(stores, tmp_path_factory):
    snapshot = fresh_world(stores, tmp_path_factory, "targeted-zoo")
    index = json.loads((snapshot / "bioimageio" / "index.json").read_text())
    index["items"] += [{"type": "model", "versions": []}, {"id": "../evil", "type": "model"}, {"id": "bioimage-io/no-versions", "type": "model"},
                       {"id": "bioimage-io/typed", "type": 5, "versions": []}]
    (snapshot / "bioimageio" / "index.json").write_text(json.dumps(index))
    replay = start_replay(snapshot)
    try:
        # The default budget (10%): four bad items of six, none of them what this run asked for.
        folder = Path(xcom(run_dag("ai4life_extraction", {"num_resources": 0, "resource_ids": ["bioimage-io/fixture-shark"]}),
                           "ai4life_run_folder"))
        again = Path(xcom(run_dag("ai4life_extraction", {"num_resources": 0, "resource_ids": ["bioimage-io/fixture-shark"]}),
                          "ai4life_run_folder"))
    finally:
        replay.shutdown()
        replay.server_close()
    summary = json.loads((folder / "extraction" / "SUCCESS.json").read_text())
    assert summary["models"] == 1 and summary["errors"] == 0
    warnings = [json.loads(line) for path in (folder / "warnings").glob("*.jsonl") for line in path.read_text().splitlines()]
    not_asked = [w for w in warnings if "did not ask for" in w["reason"]]
    assert len(not_asked) == 4
    later = [json.loads(line) for path in (again / "warnings").glob("*.jsonl") for line in path.read_text().splitlines()]
    assert sum(1 for w in later if w.get("rejected_earlier")) == 4


def test_the_cascade_applies_the_budget_its_extraction_was_triggered_with(tmp_path):
    run = RunFolder.create(tmp_path, "hf")
    run.mark_done("extraction", {"max_error_rate": 0.5})
    assert cascade_error_rate(0.1, triggered_by_assets=True, run_folder=str(run.path), after_stage="extraction") == 0.5
    assert cascade_error_rate(0.1, triggered_by_assets=False, run_folder=str(run.path), after_stage="extraction") == 0.1
    for odd in (7, -1, "0.9", True, None):
        run.mark_done("extraction", {"max_error_rate": odd})
        assert cascade_error_rate(0.1, triggered_by_assets=True, run_folder=str(run.path), after_stage="extraction") == 0.1
