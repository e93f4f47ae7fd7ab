"""OpenML's recorded records in ../shared/realdata/openml (skipped when absent), one by one (the whole
pipeline over them is in test_realdata.py):

- every recorded task and dataset description, in every cache layout found there (``openml-r``,
  ``openml-python``'s test and staging caches), read by the client and linked into a valid record, or
  refused with OpenML's own "unknown" error;
- every recorded JSON dataset description (``sklearn-openml-json``, the JSON API) linked with the
  same linker: their licences and names as OpenML states them.
"""

from __future__ import annotations

import json
from pathlib import Path

import openml
import pytest
from conftest import SHARED_REALDATA, start_replay

from mlentory.sources.openml.client import OpenMLClient, OpenMLSettings, is_not_found
from mlentory.sources.openml.linking import LINKERS

OPENML_DATA = SHARED_REALDATA / "openml"
pytestmark = pytest.mark.skipif(not (OPENML_DATA / "openml-r").is_dir(),
                                reason=f"real OpenML recordings not found at {OPENML_DATA} (they live beside the project in ../shared/realdata)")


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
