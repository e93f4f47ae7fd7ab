"""The BioImage Model Zoo's bad-input corpus: malformed index items and descriptions served by the
replay next to the good fixture, through the three ai4life DAGs. Each bad resource is loaded with
what can be read or listed with its reason; no task crashes and no good model is lost."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import yaml
from conftest import FIXTURE_SNAPSHOT, fresh_world, query, start_replay
from pipeline import lines, run_source_chain

ZOO = "https://bioimage.io/#/artifacts/"
SHARK = yaml.safe_load((FIXTURE_SNAPSHOT / "bioimageio" / "rdf_content" / "bioimage-io" / "fixture-shark" / "v0" / "rdf.yaml").read_text())
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b]\n"


def shark(**changes: Any) -> str:
    content = json.loads(json.dumps(SHARK, default=str))
    for key, value in changes.items():
        if value is None:
            content.pop(key, None)
        else:
            content[key] = value
    return yaml.safe_dump(content, allow_unicode=True)


# name -> the rdf.yaml served for it (bytes or text), or None for no file at all (a 404)
DESCRIPTIONS: dict[str, str | bytes | None] = {
    "not-yaml": b"\x00\x01\x02 binary \xff\xfe",
    "yaml-list": "- a\n- b\n",
    "alias-bomb": ALIAS_BOMB,
    "python-tag": "type: model\nname: !!python/object/apply:os.system ['echo pwned']\n",
    "empty": "",
    "huge": "type: model\ndescription: " + "x" * 2_100_000 + "\n",
    "no-type": shark(type=None),
    "future-format": shark(format_version="9.9.9"),
    "authors-string": shark(authors="Ada Lovelace"),
    "cite-dict": shark(cite={"text": "x", "doi": "10.1/x"}),
    "tags-string": shark(tags="nuclei,segmentation"),
    "odd-training-data": shark(training_data="fixture-cells"),
    "odd-parent": shark(parent={"id": 5}),
    "git-repo-not-url": shark(git_repo="not a url"),
    "unknown-weights": shark(weights={"magic_format": {"source": "w.bin", "sha256": "0" * 64}}),
    "documentation-traversal": shark(documentation="../../../../etc/passwd.md"),
    "missing-file": None,
    "odd-licence": shark(license="Proprietary-but-nice"),
    "bad-timestamp": shark(timestamp="yesterday"),
    "orcid-odd": shark(authors=[{"name": "X", "orcid": "not-an-orcid"}, {"name": "", "github_user": ""}]),
    "huge-tags": shark(tags=[f"t{i}" for i in range(3_000)]),
}

# extra index items that are malformed themselves
BAD_ITEMS: list[Any] = [
    {"type": "model", "versions": []},  # no id
    {"id": 42, "type": "model"},
    {"id": "bioimage-io/no-versions", "type": "model"},
    {"id": "bioimage-io/versions-odd", "type": "model", "versions": "v0"},
    {"id": "bioimage-io/no-source", "type": "model", "versions": [{"version": "v0", "sha256": "1" * 64}]},
    "a string item",
    {"id": "bioimage-io/fixture-shark", "type": "model", "versions": []},  # listed twice, the second time without versions
]


def item(name: str, position: int, body: str | bytes | None) -> dict[str, Any]:
    served = body.encode() if isinstance(body, str) else body or b""
    return {"id": f"bioimage-io/{name}", "type": "model", "versions": [
        {"version": "v0", "created_at": f"2026-0{1 + position % 9}-01T00:00:00Z", "sha256": hashlib.sha256(served).hexdigest(),
         "source": f"https://hypha.aicell.io/bioimage-io/{'artifacts'}/{name}/files/rdf.yaml?version=v0"}]}


@pytest.fixture(scope="module")
def bad_zoo(stores, tmp_path_factory):
    snapshot = fresh_world(stores, tmp_path_factory, "bad-zoo")
    zoo = snapshot / "bioimageio"
    index = json.loads((zoo / "index.json").read_text())
    for position, (name, body) in enumerate(DESCRIPTIONS.items()):
        index["items"].append(item(name, position, body))
        if body is not None:
            folder = zoo / "rdf_content" / "bioimage-io" / name / "v0"
            folder.mkdir(parents=True)
            (folder / "rdf.yaml").write_bytes(body) if isinstance(body, bytes) else (folder / "rdf.yaml").write_text(body)
    index["items"] += BAD_ITEMS
    (zoo / "index.json").write_text(json.dumps(index))
    replay = start_replay(snapshot)
    try:
        yield {"run_folder": run_source_chain("ai4life", {"num_resources": 100}, max_error_rate=1.0), "stores": stores}
    finally:
        replay.shutdown()
        replay.server_close()


def loaded(stores) -> set[str]:
    rows = query(stores, "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__source = 'ai4life' AND m.mlentory__sourceSha IS NOT NULL "
                         "RETURN m.schema__identifier AS id")
    return {row["id"] for row in rows}


def test_the_corpus_is_large_enough():
    assert len(DESCRIPTIONS) + len(BAD_ITEMS) >= 25


def test_no_good_model_is_lost(bad_zoo):
    assert {"bioimage-io/fixture-shark", "bioimage-io/fixture-legacy"} <= loaded(bad_zoo["stores"])


def test_every_bad_resource_is_loaded_or_listed_with_its_reason(bad_zoo):
    errors = lines(bad_zoo["run_folder"] / "errors.jsonl")
    assert all(e.get("reason") for e in errors)
    listed = {e.get("id") for e in errors}
    models = loaded(bad_zoo["stores"])
    assert [name for name in DESCRIPTIONS if f"bioimage-io/{name}" not in models | listed] == []
    for unreadable in ("not-yaml", "yaml-list", "alias-bomb", "python-tag", "empty", "huge", "missing-file"):
        assert f"bioimage-io/{unreadable}" in listed and f"bioimage-io/{unreadable}" not in models
    by_position = [e for e in errors if "input" in e and e["input"].startswith("index item")]
    assert len(by_position) >= 2  # items without a usable id are named by their position
    assert "bioimage-io/fixture-shark" not in listed  # listed again without versions: the first entry is kept


def test_what_loads_holds_only_sane_values(bad_zoo):
    stores = bad_zoo["stores"]
    # The traversal is only a URL on the same server (never a file of this machine), and the bad date is left out.
    [docs] = query(stores, "MATCH (m {uri: $u}) RETURN m.codemeta__readme AS readme", u=ZOO + "documentation-traversal") or [{"readme": None}]
    assert docs["readme"] is None or docs["readme"].startswith("https://hypha.aicell.io/")
    people = query(stores, "MATCH ({uri: $u})-[:schema__creator]->(p) RETURN p.uri AS uri", u=ZOO + "orcid-odd")
    assert all(not row["uri"].startswith("https://orcid.org/not") for row in people)
