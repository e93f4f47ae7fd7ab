"""The BioImage Model Zoo's recorded descriptions in ../shared/realdata/bioimageio (not copied into
the project): the current collection (index.json and each version's description), the legacy
collection's rdf.yaml files (formats 0.2 to 0.4), and the spec's own examples. Every description
is read by the spec's library and either maps onto a valid FAIR4ML record or is listed with the
library's reason; and the current collection runs end to end through the three DAGs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import SHARED_REALDATA

from mlentory.fair4ml.mentions import WARNINGS
from mlentory.fair4ml.models import MLModel
from mlentory.pipeline.transformation import normalize_record
from mlentory.sources.bioimageio import extraction
from mlentory.sources.bioimageio import properties as p
from mlentory.sources.bioimageio.linking import dataset_records

ZOO = SHARED_REALDATA / "bioimageio"
pytestmark = pytest.mark.skipif(not ZOO.is_dir(), reason="../shared/realdata/bioimageio is not there")


def descriptions() -> list[tuple[str, dict]]:
    """(where, content) of every recorded description."""
    found = []
    for path in sorted((ZOO / "collection-gh-pages-hypha" / "rdf_content").glob("*/*/*/rdf_content.json")):
        found.append((str(path.relative_to(ZOO)), json.loads(path.read_text())))
    for pattern in ("collection-bioimage-io-gh-pages/rdfs/**/rdf.yaml", "spec-bioimage-io-examples/**/*.yaml"):
        for path in sorted(ZOO.glob(pattern)):
            content = yaml.safe_load(path.read_text())
            if isinstance(content, dict) and content.get("type"):
                found.append((str(path.relative_to(ZOO)), content))
    return found


def test_every_recorded_description_maps_or_is_listed_with_the_reason():
    outcomes: Counter[str] = Counter()
    rejected = []
    for where, content in descriptions():
        source = f"https://hypha.aicell.io/bioimage-io/artifacts/{Path(where).parent.parent.name}/files/rdf.yaml?version=v0"
        try:
            description, _ = extraction.validated(content, source)
        except extraction.Rejected as exc:
            assert str(exc).strip(), where
            rejected.append((where, content.get("type"), str(exc)))
            outcomes[f"rejected {content.get('type')}"] += 1
            continue
        resource = {"id": f"bioimage-io/{Path(where).parent.parent.name}", "type": description["type"], "version": "v0", "sha256": "0" * 64,
                    "source": source, "created_at": "2025-07-01T22:53:02Z", "description": description}
        if description["type"] == "model":
            partials = [group(resource) for group in p.PROPERTY_GROUPS.values()]
            for partial in partials:
                partial.pop(WARNINGS, None)  # the stage keeps them apart
            model = normalize_record("https://bioimage.io/#/artifacts/x", partials, {},
                                     {"identifier": resource["id"], "source": "ai4life", "sourceSha": "0" * 64})
            assert isinstance(model, MLModel) and model.name, where
        elif description["type"] == "dataset":
            assert dict(dataset_records(resource))["datasets"].name, where
        outcomes[f"mapped {description['type']}"] += 1
    print("\nBioImage Model Zoo descriptions:", dict(outcomes))
    for where, kind, reason in rejected[:10]:
        print(f"  rejected {kind} {where}: {reason[:160]}")
    # Models the spec's library reads (converted to 0.5 where they were older) are the large majority.
    assert outcomes["mapped model"] >= 3 * outcomes["rejected model"], outcomes


@pytest.fixture(scope="module")
def real_collection(stores, tmp_path_factory):
    from conftest import clear, start_replay, use_data_root
    from pipeline import run_source_chain

    clear(stores)
    use_data_root(tmp_path_factory.mktemp("realdata-ai4life") / "data")
    snapshot = tmp_path_factory.mktemp("realdata-ai4life-snapshot")
    (snapshot / "bioimageio").symlink_to(ZOO / "collection-gh-pages-hypha")
    replay = start_replay(snapshot)
    try:
        yield {"run_folder": run_source_chain("ai4life", {"num_resources": 10_000}, max_error_rate=0.2), "stores": stores}
    finally:
        replay.shutdown()
        replay.server_close()


def test_the_current_collection_runs_end_to_end(real_collection):
    from conftest import query

    index = json.loads((ZOO / "collection-gh-pages-hypha" / "index.json").read_text())
    models = {item["id"] for item in index["items"] if item["type"] == "model"}
    run_folder = real_collection["run_folder"]
    errors = [json.loads(line) for line in (run_folder / "errors.jsonl").read_text().splitlines()]
    assert all(e.get("reason") for e in errors)
    rejected = {e["id"] for e in errors if e.get("id") in models}
    loaded = {row["id"] for row in query(real_collection["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__source = 'ai4life' "
                                                                     "AND m.mlentory__sourceSha IS NOT NULL RETURN m.schema__identifier AS id")}
    assert loaded | rejected == models and not loaded & rejected  # every model loaded, or listed with the library's reason
    assert len(loaded) >= 0.9 * len(models), (len(loaded), len(models))
    report = json.loads((run_folder / "loading" / "SUCCESS.json").read_text())
    print(f"\nthe current collection: {len(models)} models, {len(loaded)} loaded, {len(rejected)} rejected; "
          f"entities {report['entities']}")
    assert report["entities"]["datasets"] >= 30  # the collection's datasets, as Datasets of their own
    # Every application and notebook of the collection whose description is recorded was read (a
    # partner's, bioimage-io/ilastik:ilastik, recorded as ilastik_ilastik, too); the others are errors.
    def recorded(item: dict) -> bool:
        folder = ZOO / "collection-gh-pages-hypha" / "rdf_content" / item["id"].replace(":", "_") / item["versions"][-1]["version"]
        return folder.is_dir()

    others = {item["id"]: recorded(item) for item in index["items"] if item["type"] in ("application", "notebook")}
    unread = {e["id"] for e in errors if e.get("id") in others and "404 Not Found" in e["reason"]}
    assert unread == {resource_id for resource_id, found in others.items() if not found}
    stores = real_collection["stores"]
    # A model names its training data by the dataset's older id: the collection's own dataset node.
    assert query(stores, "MATCH ({uri: 'https://bioimage.io/#/artifacts/hiding-tiger'})-[:fair4ml__trainedOn]->(d:schema__Dataset) "
                         "RETURN d.uri AS uri, d.schema__identifier AS id") == [
        {"uri": "https://bioimage.io/#/artifacts/luscious-sushi", "id": "bioimage-io/luscious-sushi"}]
    # Its links name applications by their older ids: recorded from their own descriptions where
    # the collection gave one (ilastik), named only where it did not (the packager).
    linked = {row["id"]: row for row in query(stores, "MATCH ({uri: 'https://bioimage.io/#/artifacts/hiding-tiger'})-[:mlentory__relatedResource]->(a) "
                                                      "RETURN a.schema__identifier AS id, labels(a) AS labels, a.schema__name AS name")}
    assert linked["bioimage-io/ilastik:ilastik"]["name"] == "ilastik" and "schema__SoftwareApplication" in linked["bioimage-io/ilastik:ilastik"]["labels"]
    assert linked["bioimage-io/imjoy:BioImageIO-Packager"]["name"] == "bioimage-io/imjoy:BioImageIO-Packager"
    assert "bioimage-io/luscious-sushi" in linked
