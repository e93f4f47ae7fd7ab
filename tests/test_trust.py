"""Trust boundaries: what a param, an asset event or an input file can make a run read or write.

Whoever can trigger a DAG or create an asset event names run folders, id files and an index; none of
them may reach outside the source's data root or the configured index, and the content of a file
that is not an id list never shows up in an error, a log or a request."""

from __future__ import annotations

import logging
import os

import pytest
from airflow.sdk.exceptions import AirflowFailException

from mlentory.errors import InvalidInput
from mlentory.pipeline import loading as stage
from mlentory.pipeline.quality import ErrorRateExceeded, check_error_rate
from mlentory.pipeline.run_folder import RunFolder, RunFolderNotFound, runs_dir
from mlentory.sources.huggingface import extraction


def finished_run(data_root, source="hf") -> RunFolder:
    run = RunFolder.create(data_root, source)
    run.mark_done("extraction", {"models": 0})
    return run


def test_a_run_folder_outside_the_data_root_is_refused_even_with_a_success_marker(tmp_path):
    data_root, elsewhere = tmp_path / "data", tmp_path / "prepared" / "hf" / "runs" / "20250101T000000000000Z_0e0e0e0e"
    finished_run(data_root)
    elsewhere.mkdir(parents=True)
    RunFolder(elsewhere).mark_done("extraction", {"models": 1})
    for given in (str(elsewhere), "../../../prepared/hf/runs/20250101T000000000000Z_0e0e0e0e", "/etc/20250101T000000000000Z_0e0e0e0e"):
        with pytest.raises(InvalidInput, match="run_folder must lie inside"):
            RunFolder.resolve(given, data_root, "hf", "extraction")


def test_a_symlink_under_the_runs_folder_that_leads_outside_is_refused(tmp_path):
    data_root, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    finished_run(data_root)
    elsewhere.mkdir()
    RunFolder(elsewhere).mark_done("extraction", {})
    (runs_dir(data_root, "hf") / "20990101T000000000000Z_1e1e1e1e").symlink_to(elsewhere)
    with pytest.raises(InvalidInput):
        RunFolder.resolve("20990101T000000000000Z_1e1e1e1e", data_root, "hf", "extraction")


def test_a_run_folder_of_this_source_is_accepted_by_path_or_by_name(tmp_path):
    run = finished_run(tmp_path / "data")
    assert RunFolder.resolve(str(run.path), tmp_path / "data", "hf", "extraction").path == run.path.resolve()
    assert RunFolder.resolve(run.name, tmp_path / "data", "hf", "extraction").path == run.path.resolve()
    with pytest.raises(RunFolderNotFound, match="no finished transformation"):
        RunFolder.resolve(run.name, tmp_path / "data", "hf", "transformation")
    with pytest.raises(InvalidInput, match="run folder's name"):
        RunFolder.resolve("state", tmp_path / "data", "hf", "extraction")
    with pytest.raises(RunFolderNotFound, match="not a run folder"):
        RunFolder.resolve("20250101T000000000000Z_0123abcd", tmp_path / "data", "hf", "extraction")


def test_the_id_file_must_be_a_regular_file_in_the_inputs_folder(tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    os.mkfifo(inputs / "pipe")
    for name, message in (("/etc/passwd", "must lie inside"), ("../secrets/password", "must lie inside"),
                          ("pipe", "not a regular file"), ("absent.txt", "is not in")):
        with pytest.raises(InvalidInput, match=message) as raised:
            extraction.read_model_ids(None, name, inputs)
        assert "root:" not in str(raised.value)


def test_lines_that_are_not_model_ids_are_never_shown_nor_requested(tmp_path, caplog):
    inputs = tmp_path / "data" / "hf" / "inputs"
    inputs.mkdir(parents=True)
    secret = "postgres://admin:s3cr3t@127.0.0.1:5432/airflow"
    (inputs / "ids.txt").write_text(f"# ids\nacme-ai/base-lm\nroot:x:0:0:root:/root:/bin/bash\n{secret}\nghost/gone  # comment\n")
    requested, warnings = extraction.read_model_ids(["google-bert/bert-base-uncased", "not an id!"], "ids.txt", inputs)
    assert [(r.model_id, r.origin) for r in requested] == [
        ("google-bert/bert-base-uncased", "model_ids[0]"), ("acme-ai/base-lm", "model_ids_file line 2"), ("ghost/gone", "model_ids_file line 5")]
    assert [w["input"] for w in warnings] == ["model_ids[1]", "model_ids_file line 3", "model_ids_file line 4"]

    class Hub:
        asked: list[str] = []

        def model(self, model_id):
            self.asked.append(model_id)
            if model_id == "ghost/gone":
                raise LookupError(f"Repository Not Found for url: https://huggingface.co/api/models/{model_id}")
            return {"id": model_id, "sha": "1" * 40}

    run = RunFolder.create(tmp_path / "data", "hf")
    with caplog.at_level(logging.INFO):
        assert extraction.harvest_models_by_id(str(run.path), Hub(), None, "ids.txt") == 1
    assert Hub.asked == ["acme-ai/base-lm", "ghost/gone"]
    written = "".join(p.read_text() for p in run.path.rglob("*.jsonl")) + caplog.text
    assert "root:x" not in written and "s3cr3t" not in written and "ghost/gone" not in written
    [error] = run.errors("extraction")
    assert error["input"] == "model_ids_file line 5" and "LookupError: Repository Not Found" in error["reason"]  # the message, not the id


def test_index_names_are_limited_to_the_configured_index_and_its_siblings(tmp_path):
    run = finished_run(tmp_path / "data")
    for name in (".security", "other_index", "mlentory_models_*", "MLENTORY_MODELS"):
        with pytest.raises(InvalidInput, match="index must be mlentory_models"):
            stage.index_run_models(str(run.path), es=None, index=name)  # refused before the store is touched


def test_deterministic_failures_are_not_retried_by_airflow():
    for failure in (InvalidInput, RunFolderNotFound, ErrorRateExceeded):
        assert issubclass(failure, AirflowFailException)
    with pytest.raises(AirflowFailException):
        check_error_rate("extraction", 5, 10, 0.1)


# Hostile asset events and params ----------------------------------------------------------------------

HOSTILE_REFERENCES = {
    "NUL": "\u0000",
    "NUL inside a name": "20250101T000000000000Z_0123\u0000abcd",
    "100,000 characters": "a" * 100_000,
    "100,000 characters ending in a name": "/" + "a/" * 50_000 + "20250101T000000000000Z_0123abcd",
    "lone surrogate": "\ud800",
    "lone surrogate in a name": "20250101T000000000000Z_0123abc\udfff",
    "a number": 12345,
    "a list": ["20250101T000000000000Z_0123abcd"],
    "a mapping": {"run_folder": "x"},
    "not a run folder's name": "state",
    "a newline": "20250101T000000000000Z_0123abcd\n/etc",
    "outside the data root": "/etc/20250101T000000000000Z_0123abcd",
}


class Event:
    def __init__(self, extra):  # noqa: ANN001
        self.extra = extra


def resolve_for_transformation(params, events):  # noqa: ANN001, ANN201
    from mlentory.pipeline.run_folder import resolve_run_folders
    from mlentory.sources import HUGGINGFACE

    asset = HUGGINGFACE.assets.raw
    return resolve_run_folders(params, {asset: events} if events is not None else None, asset, "hf",
                               after_stage="extraction", stage="transformation", run_id="test")


def test_each_hostile_asset_event_is_refused_alone_and_the_good_ones_go_on(tmp_path, caplog, monkeypatch):
    data_root = tmp_path / "data"
    monkeypatch.setenv("AIRFLOW_VAR_MLENTORY_DATA_ROOT", str(data_root))
    good, other = finished_run(data_root), finished_run(data_root)
    other.claim("transformation", "an earlier run")  # not waiting: taken only because an event names it
    events = [Event({"run_folder": value}) for value in HOSTILE_REFERENCES.values()]
    events[3:3] = [Event({"run_folder": good.name}), Event({"run_folder": str(other.path)}), Event("not a mapping"), Event(None)]
    with caplog.at_level(logging.ERROR, logger="mlentory.pipeline.run_folder"):
        folders = resolve_for_transformation({"run_folder": None}, events)
    assert folders == [str(good.path.resolve()), str(other.path.resolve())]
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == len(HOSTILE_REFERENCES)
    assert all(len(message) < 600 for message in refusals)  # never the whole hostile value
    for reason in ("must be a string", "more than 1,024", "UTF-8", "NUL or another control character",
                   "run folder's name", "must lie inside"):
        assert any(reason in message for message in refusals), reason


@pytest.mark.parametrize("name", sorted(HOSTILE_REFERENCES))
def test_a_hostile_run_folder_param_fails_at_once(tmp_path, monkeypatch, name):
    data_root = tmp_path / "data"
    monkeypatch.setenv("AIRFLOW_VAR_MLENTORY_DATA_ROOT", str(data_root))
    finished_run(data_root)
    with pytest.raises(InvalidInput):  # an AirflowFailException: no retry
        resolve_for_transformation({"run_folder": HOSTILE_REFERENCES[name]}, None)


def test_a_run_folder_reached_through_a_symlink_is_refused_on_every_path(tmp_path, monkeypatch, caplog):
    data_root = tmp_path / "data"
    monkeypatch.setenv("AIRFLOW_VAR_MLENTORY_DATA_ROOT", str(data_root))
    real = finished_run(data_root)
    real.claim("transformation", "an earlier run")
    openml_run = finished_run(data_root, "openml")  # another source's folder, and one inside this source
    runs = runs_dir(data_root, "hf")
    to_other_source, to_own = runs / "20990101T000000000000Z_aaaaaaaa", runs / "20990102T000000000000Z_bbbbbbbb"
    to_other_source.symlink_to(openml_run.path)
    to_own.symlink_to(real.path)
    loop = runs / "20990103T000000000000Z_cccccccc"
    loop.symlink_to(loop)
    for link in (to_other_source, to_own, loop):  # the param
        with pytest.raises(InvalidInput):
            resolve_for_transformation({"run_folder": link.name}, None)
    # Asset events: refused alone; waiting(): never taken; a run with nothing named: never the newest.
    with caplog.at_level(logging.ERROR, logger="mlentory.pipeline.run_folder"):
        assert resolve_for_transformation({}, [Event({"run_folder": link.name}) for link in (to_other_source, to_own, loop)]) == []
    assert caplog.text.count("refused") == 3
    assert RunFolder.waiting(data_root, "hf", "extraction", "transformation") == []
    assert RunFolder.resolve(None, data_root, "hf", "extraction").path == real.path.resolve()
    assert resolve_for_transformation({}, None) == [str(real.path.resolve())]
    assert not openml_run.is_claimed("transformation")
