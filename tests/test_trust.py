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
    data_root, elsewhere = tmp_path / "data", tmp_path / "prepared" / "hf" / "runs" / "20250101T000000Z_evil0000"
    finished_run(data_root)
    elsewhere.mkdir(parents=True)
    RunFolder(elsewhere).mark_done("extraction", {"models": 1})
    for given in (str(elsewhere), "../../../prepared/hf/runs/20250101T000000Z_evil0000", "/etc"):
        with pytest.raises(InvalidInput, match="run_folder must lie inside"):
            RunFolder.resolve(given, data_root, "hf", "extraction")


def test_a_symlink_under_the_runs_folder_that_leads_outside_is_refused(tmp_path):
    data_root, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    finished_run(data_root)
    elsewhere.mkdir()
    RunFolder(elsewhere).mark_done("extraction", {})
    (runs_dir(data_root, "hf") / "20990101T000000Z_link0000").symlink_to(elsewhere)
    with pytest.raises(InvalidInput):
        RunFolder.resolve("20990101T000000Z_link0000", data_root, "hf", "extraction")


def test_a_run_folder_of_this_source_is_accepted_by_path_or_by_name(tmp_path):
    run = finished_run(tmp_path / "data")
    assert RunFolder.resolve(str(run.path), tmp_path / "data", "hf", "extraction").path == run.path.resolve()
    assert RunFolder.resolve(run.name, tmp_path / "data", "hf", "extraction").path == run.path.resolve()
    with pytest.raises(RunFolderNotFound, match="no finished transformation"):
        RunFolder.resolve(run.name, tmp_path / "data", "hf", "transformation")
    with pytest.raises(RunFolderNotFound, match="not a run folder"):
        RunFolder.resolve("state", tmp_path / "data", "hf", "extraction")


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
    assert [e["input"] for e in run.errors("extraction")] == ["model_ids_file line 5"]


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
