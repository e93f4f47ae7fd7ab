"""Licence findings along the model tree through the Hub's three DAGs (``pipeline.licence_graph``):
on the fixture with its old base model under the Llama 3 licence, the Apache-licensed fine-tune of it
gets a finding in the graph (pointing at both models and both licences), a filter field in the index
and a count in the report; when the base is relicensed upstream (a new commit of the base only), the
next run judges the fine-tune again, though the fine-tune itself is unchanged, and the finding goes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from conftest import FIXTURE_SNAPSHOT, clear, query, start_replay, use_data_root
from pipeline import run_pipeline

from mlentory.pipeline.run_folder import read_json

BASE, DERIVED = "acme-ai/old-base", "acme-ai/base-lm"
HUB = "https://huggingface.co/"


def relicense(snapshot: Path, model_id: str, licence: str, sha: str) -> None:
    """The model's licence changed upstream, in its card and the Hub's record of it, in a new commit
    (the listing's newest)."""
    recorded = snapshot / "models" / f"{model_id.replace('/', '__')}.json"
    record = json.loads(recorded.read_text())
    record.update(sha=sha, lastModified=f"2026-12-0{sha[0]}T00:00:00.000Z",
                  tags=[tag for tag in record["tags"] if not tag.startswith("license:")] + [f"license:{licence}"],
                  cardData={**record["cardData"], "license": licence})
    recorded.write_text(json.dumps(record))
    card = snapshot / "cards" / f"{model_id.replace('/', '__')}.md"
    card.write_text(re.sub(r"^license: .*$", f"license: {licence}", card.read_text(), count=1, flags=re.MULTILINE))


def _run(snapshot: Path) -> Path:
    """The chain in one chunk: in chunks, a fine-tune's task may run before its base's (mapped tasks
    run in any order), and then the findings task, not the chunk, writes the finding into the
    document (``test_the_findings_tasks_update_only_the_documents_whose_rules_differ_from_what_they_carry``)."""
    server = start_replay(snapshot)
    try:
        return Path(run_pipeline({"num_models": 5, "ancestor_generations": 2}, chunk_size=100))
    finally:
        server.shutdown()
        server.server_close()


def findings(stores) -> list[dict]:  # noqa: ANN001
    return query(stores, "MATCH (f:mlentory__LicenceFinding)-[:mlentory__findingFor]->(m:Resource) "
                         "MATCH (f)-[:mlentory__findingBase]->(b:Resource) OPTIONAL MATCH (f)-[:mlentory__baseLicense]->(l:Resource) "
                         "RETURN m.uri AS model, b.uri AS base, f.mlentory__findingRule AS rule, l.uri AS base_licence, "
                         "f.mlentory__judgedBy AS judged_by, f.mlentory__findingClause AS clause ORDER BY model, rule")


def indexed_findings(stores) -> dict[str, list[str]]:  # noqa: ANN001
    es = stores.es()
    es.indices.refresh(index="mlentory_models")
    hits = es.search(index="mlentory_models", size=50, query={"match_all": {}})["hits"]["hits"]
    return {hit["_source"]["identifier"]: hit["_source"].get("licence_findings") for hit in hits}


def test_a_fine_tune_of_a_llama_licensed_base_under_apache_is_found_and_unfound_when_the_base_is_relicensed(stores, tmp_path):
    clear(stores)
    use_data_root(tmp_path / "data")
    snapshot = tmp_path / "snapshot"
    shutil.copytree(FIXTURE_SNAPSHOT, snapshot)
    relicense(snapshot, BASE, "llama3", "2" * 40)
    first = _run(snapshot)

    [found] = findings(stores)
    assert (found["model"], found["base"], found["rule"]) == (HUB + DERIVED, HUB + BASE, "terms-not-carried")
    assert found["base_licence"] == "https://w3id.org/mlentory/license/llama3" and "section 1(b)(i)" in found["clause"]
    assert found["judged_by"].startswith("mlentory model licence terms")
    # Along the tree: every model based, at any depth, on the base's descendants with a finding.
    descendants = query(stores, "MATCH (d:Resource)-[:schema__isBasedOn*1..]->(:Resource {uri: $base}) "
                                "MATCH (f:mlentory__LicenceFinding)-[:mlentory__findingFor]->(d) RETURN DISTINCT d.uri AS uri", base=HUB + BASE)
    assert descendants == [{"uri": HUB + DERIVED}]
    # The index: a filter field on the models with a finding (and emptied on those that had one).
    indexed = indexed_findings(stores)
    assert indexed[DERIVED] == ["terms-not-carried"]
    assert not indexed["acme-ai/sentiment-lm"] and not indexed["jdoe/sentiment-lm-gguf"]  # MIT from Apache; a licence of its own
    assert indexed[BASE] is None  # no base: not judged
    # Written with the document by the chunk's task (its base in the graph by then), not updated afterwards.
    from mlentory.stores.search_index import document_id
    assert stores.es().get(index="mlentory_models", id=document_id(HUB + DERIVED))["_version"] == 1
    assert stores.es().count(index="mlentory_models", query={"term": {"licence_findings": "terms-not-carried"}})["count"] == 1
    report = read_json(first / "loading" / "report.json")["licence_findings"]
    assert report == {"models judged": 3, "models with a finding": 1, "terms-not-carried": 1}  # the three with a base

    # Upstream, the base is relicensed under Apache 2.0: only the base changes, yet its fine-tune is judged again.
    relicense(snapshot, BASE, "apache-2.0", "3" * 40)
    second = _run(snapshot)
    assert read_json(second / "loading" / "report.json")["models_loaded"] == 1  # the base alone
    assert findings(stores) == []
    assert indexed_findings(stores)[DERIVED] == []
    assert read_json(second / "loading" / "report.json")["licence_findings"] == {"models judged": 1}


def test_the_findings_tasks_update_only_the_documents_whose_rules_differ_from_what_they_carry():
    from mlentory.fair4ml.models import LicenceFinding
    from mlentory.pipeline.licence_graph import INDEX_FIELD, _changed_fields

    def found(model: str, *rules: str) -> list[LicenceFinding]:
        return [LicenceFinding(id=f"{HUB}{model}#{rule}", name=rule, finding_for=HUB + model, finding_base=HUB + BASE, finding_rule=rule)
                for rule in rules]

    findings = {
        "same-as-indexed": found("same-as-indexed", "no-licence"),
        "base-loaded-after-its-chunk": found("base-loaded-after-its-chunk", "non-commercial-base"),
        "base-relicensed-in-the-run": [],
        "indexed-earlier-now-found": found("indexed-earlier-now-found", "terms-not-carried"),
        "indexed-earlier-had-one": [],
        "indexed-earlier-never-had-one": [],
    }
    written = {"same-as-indexed": ["no-licence"], "base-loaded-after-its-chunk": [], "base-relicensed-in-the-run": ["no-licence"]}
    changed = _changed_fields(findings, had={"indexed-earlier-had-one", "base-relicensed-in-the-run"}, written=written)
    assert changed == {
        "base-loaded-after-its-chunk": {INDEX_FIELD: ["non-commercial-base"]},
        "base-relicensed-in-the-run": {INDEX_FIELD: []},
        "indexed-earlier-now-found": {INDEX_FIELD: ["terms-not-carried"]},
        "indexed-earlier-had-one": {INDEX_FIELD: []},
    }
