"""The OpenML replay answers the real ``openml`` client as OpenML's API does: flow listing in pages,
flow descriptions, evaluation lists per flow (run aggregates, not folds), uploader names, task and
dataset descriptions, and OpenML's "no results" error for an empty page. On the project's fixture,
and on the recorded OpenML responses in ../shared/realdata when they are there."""

from __future__ import annotations

from pathlib import Path

import openml
import pytest
from conftest import FIXTURE_SNAPSHOT, SHARED_REALDATA

from devstack.replay.server import ReplayServer


@pytest.fixture
def openml_at(tmp_path):
    servers = []

    def serve(snapshot: Path) -> ReplayServer:
        server = ReplayServer(snapshot)
        server.start_in_thread()
        servers.append(server)
        openml.config.server = f"{server.url}/api/v1/xml"
        openml.config.set_root_cache_directory(str(tmp_path / "openml-cache"))
        openml.config.connection_n_retries = 1
        return server

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_real_client_reads_the_fixture(openml_at):
    server = openml_at(FIXTURE_SNAPSHOT)
    flows = openml.flows.list_flows(size=1, offset=1)
    assert list(flows) == [102] and flows[102]["name"] == "sklearn.impute.SimpleImputer"
    assert openml.flows.list_flows(size=10, offset=2) == {}  # OpenML's "no results" error, understood as an empty page
    flow = openml.flows.get_flow(101)
    assert flow.upload_date == "2024-10-01T10:00:00" and flow.uploader == "2" and "sklearn==1.5.2" in flow.dependencies
    assert flow.components["imputer"].flow_id == 102 and flow.tags == ["openml-python", "sklearn"]
    evaluations = openml.evaluations.list_evaluations("predictive_accuracy", flows=[101], output_format="dict")
    assert {(e["run_id"], e["task_id"], e["data_id"], e["value"], e["uploader_name"]) for e in evaluations.values()} == {
        (5001, 301, 61, 0.9612, "Jan van Rijn"), (5002, 301, 61, 0.9587, "Jan van Rijn")}
    dataset = openml.datasets.get_dataset(61, download_data=False, download_qualities=False, download_features_meta_data=False)
    assert (dataset.name, dataset.licence, dataset.creator) == ("iris", "CC0", "R.A. Fisher")
    assert server.stats["openml"] >= 6


@pytest.mark.skipif(not (SHARED_REALDATA / "openml" / "openml-r").is_dir(), reason="../shared/realdata/openml/openml-r is not there")
def test_the_real_client_reads_the_recorded_openml_responses(openml_at, tmp_path):
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "openml").symlink_to(SHARED_REALDATA / "openml" / "openml-r")
    openml_at(snapshot)
    flows = openml.flows.list_flows()
    assert set(flows) == {2, 16, 17, 26}
    assert openml.flows.get_flow(17).dependencies == "R_3.3.2, OpenML_1.3, mlr_2.11, rpart_4.1.10"
    evaluations = openml.evaluations.list_evaluations("predictive_accuracy", flows=[16, 17], output_format="dict")
    assert {e["flow_id"] for e in evaluations.values()} == {16, 17} and all(0 < e["value"] < 1 for e in evaluations.values())
