"""Harvests that finish close together: the scheduler gives the next transformation (or loading) run
every asset event that arrived while the previous one ran. Each run folder those events name is
processed, oldest first, and a record that two of them carry ends up as the newer one has it."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_SNAPSHOT, clear, start_replay, use_data_root
from pipeline import run_dag, xcom

from mlentory.fair4ml.jsonld import read_jsonld, write_jsonld
from mlentory.pipeline import loading as stage
from mlentory.pipeline.run_folder import RunFolder, RunFolderNotFound, resolve_run_folders
from mlentory.pipeline.state import LoadedRevisions
from mlentory.sources import HUGGINGFACE
from mlentory.stores.search_index import document_id

SENTIMENT = "https://huggingface.co/acme-ai/sentiment-lm"
HF_RAW_MODELS, HF_MODELS_NORMALIZED = HUGGINGFACE.assets.raw, HUGGINGFACE.assets.normalized
HARVESTED = [SENTIMENT, "https://huggingface.co/lab-x/speech-asr", "https://huggingface.co/community/merged-lm"]


@dataclass
class Event:
    """The part of an Airflow asset event a run reads: its ``extra``."""

    extra: dict[str, Any] = field(default_factory=dict)


def finished(data_root: Path, stage_name: str = "extraction") -> RunFolder:
    run = RunFolder.create(data_root, "hf")
    run.mark_done(stage_name, {})
    return run


def resolve(params: dict, events: Any, asset=HF_RAW_MODELS, after: str = "extraction", stage_name: str = "transformation") -> list[str]:
    return resolve_run_folders(params, events, asset, "hf", after_stage=after, stage=stage_name, run_id="test")


def test_every_run_folder_the_events_name_is_processed_oldest_first(tmp_path, caplog):
    data_root = use_data_root(tmp_path / "data")
    older, newer = finished(data_root), finished(data_root)
    unfinished = RunFolder.create(data_root, "hf")
    events = {HF_RAW_MODELS: [Event({"run_folder": str(newer.path)}), Event({"run_folder": older.name}),
                              Event({"run_folder": str(newer.path)}),  # the same folder twice: processed once
                              Event({"run_folder": "/etc/20250101T000000000000Z_0123abcd"}), Event({"run_folder": unfinished.name}), Event({"count": 3})]}
    with caplog.at_level(logging.ERROR, logger="mlentory.pipeline.run_folder"):
        folders = resolve({"run_folder": None}, events)
    assert folders == [str(older.path.resolve()), str(newer.path.resolve())]
    # The refused ones are named in the log with their reason, and cost the others nothing.
    assert caplog.text.count("refused") == 2 and "must lie inside" in caplog.text and "no finished extraction" in caplog.text
    assert older.is_claimed("transformation") and newer.is_claimed("transformation")


def test_a_folder_whose_event_no_run_consumed_is_taken_by_the_next_run(tmp_path):
    """Airflow gives a run the events up to the first one queued for it; one that comes a moment
    later waits for the next event (or was never queued, while the DAG was paused). The folder it
    names is not left behind: the next run takes every folder still waiting, once."""
    data_root = use_data_root(tmp_path / "data")
    first, overlooked, latest = finished(data_root), finished(data_root), finished(data_root)
    assert resolve({}, {HF_RAW_MODELS: [Event({"run_folder": first.name})]}) == [str(p.path.resolve()) for p in (first, overlooked, latest)]
    assert resolve({}, {HF_RAW_MODELS: [Event({"run_folder": first.name})]}) == [str(first.path.resolve())]  # named again: taken again
    RunFolder(first.path).mark_done("transformation", {})
    # The event that came late, consumed by a later run: its folder was taken already and finished.
    assert resolve({}, {HF_RAW_MODELS: [Event({"run_folder": first.name})]}) == []
    # A manual run with nothing waiting takes the newest finished folder, as before.
    assert resolve({}, None) == [str(latest.path.resolve())]


def test_the_param_wins_and_without_events_the_newest_finished_folder_is_taken(tmp_path):
    data_root = use_data_root(tmp_path / "data")
    older, newer = finished(data_root), finished(data_root)
    for folder in (older, newer):
        folder.claim("transformation", "earlier")
    RunFolder.create(data_root, "hf")  # newest, but not finished
    assert resolve({"run_folder": older.name}, {}) == [str(older.path.resolve())]
    assert resolve({"run_folder": None}, None) == [str(newer.path.resolve())]
    with pytest.raises(RunFolderNotFound, match="no finished transformation"):
        resolve({"run_folder": older.name}, None, HF_MODELS_NORMALIZED, "transformation", "loading")


def test_run_folder_names_sort_in_creation_order(tmp_path):
    created = [RunFolder.create(tmp_path, "hf").name for _ in range(50)]
    assert sorted(created) == created


def test_property_jobs_never_exceed_what_airflow_maps(tmp_path, monkeypatch):
    from mlentory.pipeline import transformation
    from mlentory.pipeline.run_folder import write_jsonl

    folders = []
    for _ in range(2):
        run = finished(tmp_path)
        write_jsonl(run.file("extraction", "models.jsonl"), [{"id": f"a/m{i}"} for i in range(100)])
        folders.append(str(run.path))
    monkeypatch.setattr(transformation, "MAX_MAPPED_TASKS", 15)
    jobs = transformation.plan_property_jobs(HUGGINGFACE, folders, chunk_size=10)  # 2 x 10 chunks = 20 > 15
    assert len(jobs) <= 15
    planned = {(job["run_folder"], job["chunk"]) for job in jobs}
    chunk_rows = [json.loads(line) for folder, chunk in planned
                  for line in (Path(folder) / "transformation" / "chunks" / f"{chunk:05d}.jsonl").read_text().splitlines()]
    assert len(chunk_rows) == 200 and len(jobs) == len(planned)  # one task per chunk runs every group
    for folder in folders:  # no chunk file of the first, too fine plan is left behind
        chunks = sorted((Path(folder) / "transformation" / "chunks").glob("*.jsonl"))
        assert len(chunks) == json.loads((Path(folder) / "transformation" / "plan.json").read_text())["chunks"]


@pytest.fixture
def two_transformed_runs(stores, tmp_path):
    """Two harvests of the same Hub that share a model, transformed; the older one's copy of that model
    is made stale (another name and revision), as if it had changed upstream between the two."""
    clear(stores)
    use_data_root(tmp_path / "data")
    hub = start_replay(FIXTURE_SNAPSHOT, page_size=3)
    try:
        folders = []
        for model_ids in (["acme-ai/sentiment-lm", "lab-x/speech-asr"], ["acme-ai/sentiment-lm", "community/merged-lm"]):
            extraction = run_dag("hf_extraction", {"num_models": 0, "model_ids": model_ids, "ancestor_generations": 0})
            folders.append(xcom(extraction, "hf_run_folder"))
            run_dag("hf_transformation", {"run_folder": folders[-1]})
    finally:
        hub.shutdown()
        hub.server_close()
    older = RunFolder(Path(folders[0]))
    [path] = older.stage_dir("transformation").glob("models/*.jsonld")
    records = read_jsonld(path)
    for record in records:
        if record["@id"] == SENTIMENT:
            record["name"], record["sourceSha"] = "stale name", "0" * 40
    write_jsonld(path, records)
    return folders


def test_two_run_folders_loaded_in_one_run_keep_the_newer_record(stores, two_transformed_runs):
    older, newer = two_transformed_runs
    driver, es = stores.driver(), stores.es()
    entity_jobs = stage.plan_loading([newer, older])  # the order the events came in does not matter
    model_jobs = stage.plan_model_loads([older, newer])
    assert [job["run_folder"] for job in model_jobs] == [older, newer]
    stage.prepare_graph(driver)
    # Mapped tasks run in any order: here the newer folder's first, so the older one would overwrite it.
    for job in reversed(entity_jobs):
        stage.load_entities(job["run_folder"], job["kind"], driver)
    for job in reversed(model_jobs):
        stage.load_models(job["run_folder"], job["chunk"], driver)
    for folder in (newer, older):
        stage.index_run_models(folder, es, "mlentory_models")
    reports = {folder: stage.finish_loading(folder, 0.1) for folder in (newer, older)}

    with driver.session() as session:
        names = session.run("MATCH (m:fair4ml__MLModel {uri: $uri}) RETURN m.schema__name AS name", uri=SENTIMENT).value()
        harvested = session.run("MATCH (m:fair4ml__MLModel) WHERE m.uri IN $uris AND m.schema__description IS NOT NULL "
                                "RETURN count(m) AS c", uris=HARVESTED).single()["c"]
    driver.close()
    es.indices.refresh(index="mlentory_models")
    assert names == ["acme-ai/sentiment-lm"]
    assert es.get(index="mlentory_models", id=document_id(SENTIMENT))["_source"]["name"] == "acme-ai/sentiment-lm"
    assert harvested == 3  # every model of both harvests is there, fully described
    # The older folder's copy is superseded: not loaded, not recorded as loaded, counted as such.
    assert (reports[older]["models_loaded"], reports[older]["models_superseded"]) == (1, 1)
    assert (reports[newer]["models_loaded"], reports[newer]["models_superseded"]) == (2, 0)
    newer_sha = next(r["sourceSha"] for p in RunFolder(Path(newer)).stage_dir("transformation").glob("models/*.jsonld")
                     for r in read_jsonld(p) if r["@id"] == SENTIMENT)
    assert LoadedRevisions(RunFolder(Path(newer))).load()["acme-ai/sentiment-lm"] == newer_sha != "0" * 40
