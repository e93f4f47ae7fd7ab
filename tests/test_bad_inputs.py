"""A corpus of malformed source records, served by the replay next to the good ones and run through
all three DAGs: each bad record is loaded correctly or listed with its reason, no task crashes, and
no good record is lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_SNAPSHOT, fresh_world, start_replay
from pipeline import run_dag, xcom

HF = "https://huggingface.co/"
GOOD = sorted(p.stem.replace("__", "/") for p in (FIXTURE_SNAPSHOT / "models").glob("*.json"))
ALIAS_BOMB = "---\na: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n" \
             "d: [*c, *c, *c, *c, *c, *c, *c, *c]\n---\n# bomb\n"

LEGACY_NAME = "legacy-" + "very-long-repository-name-" * 4 + "x" * 4  # bad/<this>: 119 characters
# name -> (fields of the API record, card text or bytes or None)
CASES: dict[str, tuple[dict[str, Any], str | bytes | None]] = {
    "no-id": ({"id": None}, None),
    "int-id": ({"id": 42}, None),
    "spaced-id": ({"id": "bad id/with spaces"}, None),
    "card-data-string": ({"cardData": "license: mit"}, None),
    "card-data-list": ({"cardData": ["license", "mit"]}, None),
    "last-modified": ({"lastModified": "last tuesday"}, None),
    "created-at": ({"createdAt": 12345}, None),
    "siblings": ({"siblings": [{"size": 1}]}, None),
    "safetensors": ({"safetensors": {"parameters": "many", "total": "lots"}}, None),
    "transformers-info": ({"transformersInfo": ["auto_model"]}, None),
    "license-dict": ({"cardData": {"license": {"name": "mit"}}}, None),
    "license-list-odd": ({"cardData": {"license": ["mit", "not-a-licence", 5, None, "apache-2.0 OR mit"]}}, None),
    "license-names-mismatch": ({"cardData": {"license": "other", "license_name": ["a", "b"], "license_link": "LICENSE"}}, None),
    "pipeline-tag-list": ({"pipeline_tag": ["text-classification", "fill-mask"]}, None),
    "author-int": ({"author": 7}, None),
    "base-model-invalid": ({"cardData": {"base_model": "not a/valid//id"}, "tags": ["base_model:not a/valid//id"]}, None),
    "base-model-self": ({"tags": ["base_model:bad/base-model-self", "base_model:finetune:bad/base-model-self"]}, None),
    "cycle-a": ({"tags": ["base_model:bad/cycle-b", "base_model:finetune:bad/cycle-b"]}, None),
    "cycle-b": ({"tags": ["base_model:bad/cycle-a", "base_model:merge:bad/cycle-a"]}, None),
    "base-model-empty-tag": ({"tags": ["base_model:", "base_model:finetune:"]}, None),
    "tags-string": ({"tags": "nlp,bert"}, None),
    "tags-odd-items": ({"tags": [1, None, {"a": 1}, "ok-tag"]}, None),
    "thousands-of-tags": ({"tags": [f"tag-{i}" for i in range(3_000)]}, None),
    "language-invalid": ({"cardData": {"language": ["xx-YY-ZZ", "english!", 5, "en"]}}, None),
    "language-dict": ({"cardData": {"language": {"en": True}}}, None),
    "datasets-odd": ({"cardData": {"datasets": [{"name": "x"}, 3, "ok/dataset"]}}, None),
    "model-index-string": ({"cardData": {"model-index": "results"}}, None),
    "model-index-results-dict": ({"cardData": {"model-index": [{"results": {"a": 1}}]}}, None),
    "model-index-odd-metric": ({"cardData": {"model-index": [{"results": [{"dataset": "glue", "task": "x",
                                                                           "metrics": [{"value": {"a": 1}}, {"type": 5, "value": True}]}]}]}}, None),
    "config-string": ({"config": "bert"}, None),
    "config-odd": ({"config": {"model_type": 5, "architectures": "Bert"}}, None),
    "downloads-string": ({"downloads": "many", "likes": -3.5}, None),
    "gated-odd": ({"gated": "sometimes"}, None),
    "private-string": ({"private": "no"}, None),
    "used-storage-string": ({"usedStorage": "big"}, None),
    "relation-odd": ({"cardData": {"base_model": "acme-ai/base-lm", "base_model_relation": ["finetune"]}}, None),
    "co2-string": ({"cardData": {"co2_eq_emissions": "a lot"}}, None),
    "metrics-dict": ({"cardData": {"metrics": {"accuracy": 0.9}}}, None),
    "doi-empty": ({"tags": ["doi:", "arxiv:notanid", "arxiv:"]}, None),
    "sha-null": ({"sha": None}, None),
    "library-odd": ({"library_name": ["transformers"], "cardData": {"library_name": 5}}, None),
    "card-huge": ({}, "---\nlicense: mit\n---\n# huge\n\n" + ("A line of text about the model. " * 40 + "\n\n") * 4_000),
    "card-binary": ({}, bytes(range(256)) * 200),
    "card-invalid-utf8": ({}, b"---\nlicense: mit\n---\n# m\n\nCaf\xe9 \xff\xfe model description that is long enough to be prose here.\n"),
    "card-alias-bomb": ({}, ALIAS_BOMB),
    "card-python-tag": ({}, "---\nlicense: !!python/object/apply:os.system ['echo pwned']\n---\n# m\n"),
    "card-unterminated": ({}, "---\nlicense: mit\ntags: [a, b\n# never closed\n"),
    "card-list-front-matter": ({}, "---\n- a\n- b\n---\n# m\n"),
    "card-headings-only": ({}, "#\n##\n###   \n## Usage\n## Limitations\n"),
    "card-template-only": ({}, "---\nlicense: mit\n---\n# Model Card for Model ID\n\n## Uses\n\n[More Information Needed]\n"),
    "card-empty": ({}, ""),
    # The Hub lists older repositories with names longer than the 96 characters new names may have.
    LEGACY_NAME: ({}, "---\nlicense: mit\n---\n# legacy\n\nA legacy model whose repository name is longer than new names may be today.\n"),
    "placeholders": ({"cardData": {"license": "mit", "datasets": ["None"], "language": "N/A", "base_model": "-", "library_name": "TBD"}}, None),
}


def model_body(name: str, fields: dict[str, Any], index: int) -> dict[str, Any]:
    model_id = f"bad/{name}"
    body = {"_id": f"bad{index}", "id": model_id, "modelId": model_id, "author": "bad", "sha": f"{index:040d}",
            "lastModified": f"2030-01-{1 + index % 28:02d}T00:00:00.000Z", "createdAt": "2024-01-01T00:00:00.000Z",
            "private": False, "gated": False, "downloads": 1, "likes": 1, "tags": [], "library_name": "transformers",
            "siblings": [{"rfilename": "README.md"}], "cardData": {"license": "mit"}}
    return {**body, **fields}


@pytest.fixture(scope="module")
def bad_run(stores, tmp_path_factory):
    snapshot = fresh_world(stores, tmp_path_factory, "bad")
    for index, (name, (fields, card)) in enumerate(CASES.items()):
        (snapshot / "models" / f"bad__{name}.json").write_text(json.dumps(model_body(name, fields, index)))
        if card is not None:
            target = snapshot / "cards" / f"bad__{name}.md"
            target.write_bytes(card) if isinstance(card, bytes) else target.write_text(card)
    replay = start_replay(snapshot, page_size=20)
    try:
        conf = {"num_models": 500, "model_ids": GOOD, "ancestor_generations": 2, "max_error_rate": 1.0}
        extraction = run_dag("hf_extraction", conf)
        run_folder = xcom(extraction, "hf_run_folder")
        run_dag("hf_transformation", {"run_folder": run_folder, "chunk_size": 100, "max_error_rate": 1.0})
        run_dag("hf_loading", {"run_folder": run_folder, "max_error_rate": 1.0})
        yield {"run_folder": Path(run_folder), "stores": stores}
    finally:
        replay.shutdown()
        replay.server_close()


def transformed(run_folder: Path) -> dict[str, dict[str, Any]]:
    return {r["identifier"]: r for path in (run_folder / "transformation" / "models").glob("*.jsonld")
            for r in json.loads(path.read_text())["@graph"]}


def loaded_ids(stores, run_folder: Path) -> set[str]:
    """The models of the run that are in the graph as full records (a stub has no creation date)."""
    with stores.driver() as driver, driver.session() as session:
        in_graph = set(session.run("MATCH (m:fair4ml__MLModel) WHERE m.schema__dateCreated IS NOT NULL OR m.mlentory__sourceSha IS NOT NULL "
                                   "RETURN m.schema__identifier").value())
    return in_graph & set(transformed(run_folder))


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 50


def test_no_good_record_is_lost(bad_run):
    assert set(GOOD) <= loaded_ids(bad_run["stores"], bad_run["run_folder"])
    es = bad_run["stores"].es()
    es.indices.refresh(index="mlentory_models")
    indexed = {h["_source"]["identifier"] for h in es.search(index="mlentory_models", size=500, query={"match_all": {}})["hits"]["hits"]}
    assert set(GOOD) <= indexed


def test_every_bad_record_is_loaded_or_listed_with_its_reason(bad_run):
    errors = [json.loads(line) for line in (bad_run["run_folder"] / "errors.jsonl").read_text().splitlines()]
    assert all(e.get("reason") for e in errors)
    listed = {e["id"] for e in errors if "id" in e}
    loaded = loaded_ids(bad_run["stores"], bad_run["run_folder"])
    by_position = {e["input"] for e in errors if "input" in e and e["input"].startswith("listing entry ")}
    with_their_id = [name for name, (fields, _) in CASES.items() if "id" not in fields]
    assert [name for name in with_their_id if f"bad/{name}" not in loaded | listed] == []
    # Records without a usable id are listed by their position in the listing.
    assert len(by_position) >= sum(1 for fields, _ in CASES.values() if "id" in fields)


def test_loaded_bad_records_hold_only_sane_values(bad_run):
    records = transformed(bad_run["run_folder"])
    bomb = records.get("bad/card-alias-bomb")
    assert bomb is not None and len(json.dumps(bomb)) < 10_000
    if "bad/language-invalid" in records:
        assert records["bad/language-invalid"].get("inLanguage") == ["http://lexvo.org/id/iso639-3/eng"]
    cycle = records.get("bad/cycle-a")
    assert cycle is not None and cycle["isBasedOn"] == [HF + "bad/cycle-b"]
    assert HF + "bad/base-model-self" not in records["bad/base-model-self"].get("isBasedOn", [])


def test_what_loads_with_a_gap_is_a_warning(bad_run):
    warnings = {(w.get("id"), w["what"]) for w in map(json.loads, (bad_run["run_folder"] / "warnings.jsonl").read_text().splitlines())}
    assert ("bad/card-invalid-utf8", "model card") in warnings
    assert {("bad/card-alias-bomb", "card metadata"), ("bad/card-python-tag", "card metadata")} <= warnings
    assert {("bad/model-index-string", "model-index"), ("bad/model-index-results-dict", "model-index"),
            ("bad/model-index-odd-metric", "model-index")} <= warnings


def test_a_legacy_id_longer_than_new_names_is_harvested_with_its_card(bad_run):
    model_id = f"bad/{LEGACY_NAME}"
    assert len(model_id) == 119
    record = transformed(bad_run["run_folder"])[model_id]
    assert record["description"].startswith("A legacy model whose repository name is longer")
    assert model_id in loaded_ids(bad_run["stores"], bad_run["run_folder"])


def test_placeholders_are_no_values(bad_run):
    record = transformed(bad_run["run_folder"])["bad/placeholders"]
    assert not {"trainedOn", "inLanguage", "isBasedOn"} & set(record)
    assert record.get("softwareRequirements", []) == ["transformers"]


def test_an_error_row_names_the_record_and_the_exception(bad_run):
    errors = [json.loads(line) for line in (bad_run["run_folder"] / "errors.jsonl").read_text().splitlines()]
    [spaced] = [e for e in errors if "bad id/with spaces" in e.get("reason", "")]
    assert spaced["reason"].startswith("ValueError: ") and "is not a Hub repo id" in spaced["reason"]
