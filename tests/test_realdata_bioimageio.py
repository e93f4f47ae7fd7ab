"""The BioImage Model Zoo's recorded descriptions in ../shared/realdata/bioimageio (not copied into
the project): the current collection (index.json and each version's description), the legacy
collection's rdf.yaml files (formats 0.2 to 0.4), and the spec's own examples. Every description
is read by the spec's library and either maps onto a valid FAIR4ML record or is listed with the
library's reason (the current collection through the three DAGs is in test_realdata.py)."""

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
