"""The collection's live index, the artifact manager's paged list, read by the client against the
replay (which serves the fixture's and the recorded collection's items in the list's shape): the
same resources, versions and description sources as the published index.json, page by page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURE_SNAPSHOT, SHARED_REALDATA, start_replay

from mlentory.pipeline.extraction import create_run_folder
from mlentory.pipeline.run_folder import read_jsonl
from mlentory.sources.bioimageio import extraction
from mlentory.sources.bioimageio.client import LIVE_INDEX, PUBLISHED_INDEX, BioImageIOClient, BioImageIOSettings

RECORDED = SHARED_REALDATA / "bioimageio" / "collection-gh-pages-hypha"


@pytest.fixture
def replay_of():
    servers = []

    def start(snapshot: Path):
        servers.append(start_replay(snapshot))
        return servers[-1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def client(server, index_url: str, page_size: int = 1_000) -> BioImageIOClient:
    return BioImageIOClient(BioImageIOSettings(index_url=index_url, mirror=f"http://127.0.0.1:{server.server_port}", page_size=page_size))


def versions(items: list[dict]) -> dict[str, list[tuple]]:
    return {i["id"]: [(v["version"], v["created_at"], v["source"]) for v in i["versions"]] for i in items}


def test_the_live_listing_is_read_page_by_page_into_the_published_indexs_form(replay_of):
    server = replay_of(FIXTURE_SNAPSHOT)
    live = client(server, LIVE_INDEX, page_size=2)
    items = live.index()
    assert live.requests == 3  # 5 items, 2 a page
    published = client(server, PUBLISHED_INDEX).index()
    assert versions(items) == versions(published)
    # No sha256 in the list: the revision is the version with the artifact's last change, one per resource.
    [shark] = [i for i in items if i["id"] == "bioimage-io/fixture-shark"]
    assert shark["versions"][0]["revision"] == "bioimage-io/fixture-shark/v0@2025-07-01T22:53:02Z"
    assert "sha256" not in shark["versions"][0]


def test_a_harvest_from_the_live_listing_is_the_published_harvest_and_keeps_descriptions_by_revision(replay_of, tmp_path):
    server = replay_of(FIXTURE_SNAPSHOT)
    harvests = {}
    for name, index_url in (("published", PUBLISHED_INDEX), ("live", LIVE_INDEX)):
        run_folder = create_run_folder(str(tmp_path / name), "ai4life")
        extraction.harvest_resources(run_folder, client(server, index_url, page_size=2), 10, None, False)
        harvests[name] = {r["id"]: r for r in read_jsonl(Path(run_folder) / "extraction" / "raw" / "resources.jsonl")}
    assert harvests["live"].keys() == harvests["published"].keys() == {
        "bioimage-io/fixture-shark", "bioimage-io/fixture-legacy", "bioimage-io/fixture-cells", "bioimage-io/fixture-viewer"}
    for resource_id, live in harvests["live"].items():
        assert live["description"] == harvests["published"][resource_id]["description"]
    again = client(server, LIVE_INDEX, page_size=2)
    run_folder = create_run_folder(str(tmp_path / "live"), "ai4life")
    extraction.harvest_resources(run_folder, again, 10, None, False)
    assert again.requests == 3  # the pages only: every description is known by its revision


def test_a_listing_that_is_not_one_is_refused_with_its_address(replay_of):
    server = replay_of(FIXTURE_SNAPSHOT)
    wrong = client(server, LIVE_INDEX.replace("bioimage-io/bioimage.io", "bioimage-io/nothing"))
    with pytest.raises(Exception, match="404"):
        wrong.index()


@pytest.mark.skipif(not RECORDED.is_dir(), reason="../shared/realdata/bioimageio is not there")
def test_the_recorded_collection_listed_live_gives_every_recorded_source(replay_of, tmp_path):
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "bioimageio").symlink_to(RECORDED)
    server = replay_of(snapshot)
    live = client(server, LIVE_INDEX, page_size=50)
    items = live.index()
    recorded = json.loads((RECORDED / "index.json").read_text())["items"]
    assert live.requests == -(-len(recorded) // 50) and len(items) == len(recorded) > 100
    # The source the client derives for each version is the one the back office recorded.
    assert versions(items) == {i["id"]: [(v["version"], v["created_at"], v["source"]) for v in i["versions"]] for i in recorded}
