"""OpenML over the real recorded responses in ../shared/realdata/openml (skipped when absent):

- the whole pipeline (three DAGs, the real ``openml`` client, the graph and the index) over the
  recorded flows, runs, tasks and datasets of ``openml-r``, served as they are;
- every recorded task and dataset description, in every cache layout found there (``openml-r``,
  ``openml-python``'s test and staging caches), read by the client and linked into a valid record, or
  refused with OpenML's own "unknown" error;
- every recorded JSON dataset description (``sklearn-openml-json``, the JSON API) linked with the
  same linker: their licences and names as OpenML states them.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import openml
import pytest
from conftest import SHARED_REALDATA, clear, query, start_replay, use_data_root
from pipeline import run_dag, xcom

from mlentory.sources.openml.client import OpenMLClient, OpenMLSettings, is_not_found
from mlentory.sources.openml.linking import LINKERS

OPENML_DATA = SHARED_REALDATA / "openml"
pytestmark = pytest.mark.skipif(not (OPENML_DATA / "openml-r").is_dir(),
                                reason=f"real OpenML recordings not found at {OPENML_DATA} (they live beside the project in ../shared/realdata)")
OML = "https://www.openml.org/"
NS = {"oml": "http://openml.org/openml"}


def recorded_ids(kind: str, name: str) -> list[int]:
    return sorted(int(p.parent.name) for p in (OPENML_DATA / "openml-r" / kind).glob(f"*/{name}"))


@pytest.fixture(scope="module")
def real_openml(stores, tmp_path_factory):
    clear(stores)
    use_data_root(tmp_path_factory.mktemp("realdata-openml") / "data")
    snapshot = tmp_path_factory.mktemp("realdata-openml-snapshot")
    (snapshot / "openml").symlink_to(OPENML_DATA / "openml-r")
    replay = start_replay(snapshot)
    try:
        extraction = run_dag("openml_extraction", {"num_flows": 1000, "max_error_rate": 1.0})
        run_folder = Path(xcom(extraction, "openml_run_folder"))
        run_dag("openml_transformation", {"run_folder": str(run_folder)})
        run_dag("openml_loading", {"run_folder": str(run_folder)})
        yield {"run_folder": run_folder, "stores": stores}
    finally:
        replay.shutdown()
        replay.server_close()



def test_every_recorded_flow_is_loaded_with_its_description(real_openml):
    flows = recorded_ids("flows", "flow.xml")
    rows = query(real_openml["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__source = 'openml' AND m.schema__version IS NOT NULL "
                                        "RETURN m.schema__identifier AS id, m.schema__name AS name, m.schema__dateCreated AS created")
    assert sorted(int(r["id"]) for r in rows) == flows
    for row in rows:
        flow = ET.parse(OPENML_DATA / "openml-r" / "flows" / row["id"] / "flow.xml").getroot()
        assert row["name"] == (flow.findtext("oml:custom_name", namespaces=NS) or flow.findtext("oml:name", namespaces=NS)).strip()
        assert row["created"] is not None


def test_every_recorded_run_of_a_harvested_flow_is_an_evaluation_with_its_values(real_openml):
    expected, flows = {}, set(recorded_ids("flows", "flow.xml"))
    for path in (OPENML_DATA / "openml-r" / "runs").glob("*/run.xml"):
        run = ET.parse(path).getroot()
        if int(run.findtext("oml:flow_id", namespaces=NS)) not in flows:
            continue  # a run of a flow that was not recorded: its flow is not harvested
        values = {e.findtext("oml:name", namespaces=NS): float(e.findtext("oml:value", namespaces=NS))
                  for e in run.findall("oml:output_data/oml:evaluation", NS) if "fold" not in e.attrib and e.findtext("oml:value", namespaces=NS)}
        if "predictive_accuracy" in values:
            expected[f"{OML}r/{int(run.findtext('oml:run_id', namespaces=NS))}"] = values["predictive_accuracy"]
    rows = query(real_openml["stores"], "MATCH (:fair4ml__MLModel)-[:fair4ml__hasEvaluation]->(e)-[:fair4ml__evaluationMetrics]->"
                                        "(v {schema__name: 'predictive_accuracy'}) RETURN e.uri AS run, v.schema__value AS value")
    assert expected and {r["run"]: r["value"] for r in rows} == pytest.approx(expected)
    report = json.loads((real_openml["run_folder"] / "loading" / "report.json").read_text())
    assert report["models_failed"] == 0 and report["errors"] == 0


def test_the_tasks_and_datasets_the_runs_reference_are_described(real_openml):
    rows = query(real_openml["stores"], "MATCH (:fair4ml__MLModel)-[:fair4ml__hasEvaluation]->(e)-[:fair4ml__evaluationDataset]->(d) "
                                        "MATCH (e)-[:fair4ml__mlTask]->(t) RETURN DISTINCT d.schema__name AS dataset, t.schema__name AS task")
    assert rows and all(not r["dataset"].startswith("OpenML dataset") and not r["task"].startswith("OpenML task") for r in rows)


def caches() -> list[Path]:
    """Every folder holding recorded tasks/<id>/task.xml or datasets/<id>/description.xml."""
    roots = {p.parents[2] for p in OPENML_DATA.rglob("task.xml") if p.parents[1].name == "tasks"}
    roots |= {p.parents[2] for p in OPENML_DATA.rglob("description.xml") if p.parents[1].name == "datasets"}
    return sorted(roots)


@pytest.mark.parametrize("cache", caches(), ids=lambda p: str(p.relative_to(OPENML_DATA)))
def test_every_recorded_task_and_dataset_description_is_read_and_linked(cache, tmp_path):
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "openml").symlink_to(cache)
    replay = start_replay(snapshot)
    try:
        client = OpenMLClient(OpenMLSettings(f"{replay.url}/api/v1/xml", None, tmp_path / "client-cache"))
        checked = 0
        for kind, folder, name in (("tasks", "tasks", "task.xml"), ("datasets", "datasets", "description.xml")):
            for path in sorted((cache / folder).glob(f"*/{name}")):
                key = path.parent.name
                try:
                    info = client.task(int(key)) if kind == "tasks" else client.dataset(int(key))
                except Exception as exc:  # a recorded error answer (an id OpenML does not know): refused as such
                    assert is_not_found(exc) or not key.lstrip("-").isdigit() or int(key) < 1, f"{path}: {exc}"
                    continue
                iris_, records = LINKERS[kind]({"kind": kind, "key": key}, {"found": True, **info})
                assert iris_ and records and all(r.to_jsonld()["@id"] for _, r in records)
                checked += 1
        assert checked
    finally:
        replay.shutdown()
        replay.server_close()
        openml.config.server = "https://www.openml.org/api/v1/xml"


def test_every_recorded_json_dataset_description_links(tmp_path):
    descriptions = sorted((OPENML_DATA / "sklearn-openml-json").glob("*/api-v1-jd-*.json"))
    assert descriptions
    for path in descriptions:
        info = json.loads(path.read_text())["data_set_description"]
        _, records = LINKERS["datasets"]({"kind": "datasets", "key": str(info["id"])}, {"found": True, **info})
        [(kind, dataset), *licences] = records
        assert kind == "datasets" and dataset.name == info["name"]
        assert [lic.name for _, lic in licences] and (licences[0][1].id.startswith("https://spdx.org/") or
                                                      licences[0][1].name == " ".join(info["licence"].split()))
