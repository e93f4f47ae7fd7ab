"""The bad-input corpora of every source, in each source's real shapes: records a copy of the fixture
snapshot serves next to the good ones (``test_bad_inputs.py`` runs them through the source's DAGs)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from conftest import FIXTURE_SNAPSHOT

HF = "https://huggingface.co/"
GOOD_HF = sorted(p.stem.replace("__", "/") for p in (FIXTURE_SNAPSHOT / "models").glob("*.json"))
CARD_ALIAS_BOMB = "---\na: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n" \
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
    "card-alias-bomb": ({}, CARD_ALIAS_BOMB),
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


OML = "https://www.openml.org/"
GOOD_FLOW = (FIXTURE_SNAPSHOT / "openml" / "flows" / "102" / "flow.xml").read_text()
GOOD_RUN = (FIXTURE_SNAPSHOT / "openml" / "runs" / "5001" / "run.xml").read_text()
GOOD_TASK = (FIXTURE_SNAPSHOT / "openml" / "tasks" / "301" / "task.xml").read_text()
GOOD_DATASET = (FIXTURE_SNAPSHOT / "openml" / "datasets" / "61" / "description.xml").read_text()


def element(xml: str, name: str, value: str | None) -> str:
    """The document with ``<oml:name>`` set to ``value`` (removed when None)."""
    pattern = re.compile(rf"\s*<oml:{name}>.*?</oml:{name}>", re.DOTALL)
    return pattern.sub("" if value is None else f"\n  <oml:{name}>{value}</oml:{name}>", xml, count=1)


def flow(flow_id: int, **fields: str | None) -> str:
    xml = element(GOOD_FLOW, "id", str(flow_id))
    for name, value in fields.items():
        xml = element(xml, name, value)
    return xml


# flow id -> its flow.xml: the flows the listing names
FLOWS: dict[int, str] = {
    9001: flow(9001, name=None),  # the client requires a name
    9002: flow(9002, upload_date="yesterday"),
    9003: flow(9003)[:120],  # cut short: not XML
    9004: flow(9004, description="A long description. " * 50_000),
    9005: flow(9005, version=None),
    9006: flow(9006, uploader=None),
    9007: flow(9007, language="Klingon-ish &amp; more"),
    9008: flow(9008, dependencies="\n".join(f"lib{i}>=1.0" for i in range(3_000))),
    9009: flow(9009, external_version=None, dependencies=None),
    9010: flow(9010, tag=""),
    9011: flow(9011, name="x" * 5_000),
    9012: flow(9012, upload_date="0000-00-00 00:00:00"),
    9013: "",  # an empty answer
    9014: flow(9014, class_name=None, description=None, language=None),
    9015: "<html><body>502 Bad Gateway</body></html>",
    9016: flow(9016, tag="</oml:tag>" + "".join(f"<oml:tag>t{i}</oml:tag>" for i in range(2_000)) + "<oml:tag>"),
    9017: flow(9017, description="control \x01\x02 characters &#x7; and entities &amp;&lt;"),
    9018: flow(9018, custom_name="", name="  "),
    9019: flow(9019, dependencies="<![CDATA[ <not a tag> ]]>"),
    9020: flow(9020, uploader="not-a-number"),
}


def run(run_id: int, flow_id: int, task_id: int = 301, data_id: str | None = "61", value: str = "0.5") -> str:
    xml = element(GOOD_RUN, "run_id", str(run_id))
    xml = element(xml, "flow_id", str(flow_id))
    xml = element(xml, "task_id", str(task_id))
    xml = xml.replace("<oml:value>0.9612</oml:value>", f"<oml:value>{value}</oml:value>", 1)
    xml = xml.replace("<oml:did>61</oml:did>", f"<oml:did>{data_id}</oml:did>")
    return xml if data_id is not None else re.sub(r"<oml:input_data>.*?</oml:input_data>", "<oml:input_data/>", xml, flags=re.DOTALL)


# run id -> its run.xml: each evaluation of a good flow (102) or a bad one
RUNS: dict[int, str] = {
    8001: run(8001, 102, value="n/a"),  # not a number
    8002: run(8002, 102, value="NaN"),
    8003: run(8003, 9002, data_id=None),  # no dataset
    8004: run(8004, 9005, task_id=99_999),  # a task OpenML does not know
    8005: run(8005, 9006, task_id=302),  # an unreadable task
    8006: run(8006, 9007, task_id=303, data_id="62"),  # a task with an unknown procedure, on an unreadable dataset
    8007: run(8007, 9008, task_id=304, data_id="63"),  # a task without a dataset, on a dataset of odd values
    8008: run(8008, 99_998),  # the run of a flow that is not listed
    8009: run(8009, 9010, value="1e309"),  # overflows a float
    8010: run(8010, 9011, value=""),  # no value
    8011: run(8011, 9012, task_id=305, data_id="64"),  # a procedure without parameters; a dataset of many creators
    8012: run(8012, 9014, data_id="not-an-id"),
}
TASKS = {
    302: GOOD_TASK[:150],
    303: GOOD_TASK.replace("<oml:type>crossvalidation</oml:type>", "<oml:type>magic</oml:type>").replace("<oml:task_id>301", "<oml:task_id>303"),
    304: re.sub(r'<oml:input name="source_data">.*?</oml:input>', "", GOOD_TASK, flags=re.DOTALL).replace("<oml:task_id>301", "<oml:task_id>304"),
    305: re.sub(r"<oml:parameter .*?</oml:parameter>", "", GOOD_TASK, flags=re.DOTALL).replace("<oml:task_id>301", "<oml:task_id>305"),
}
DATASETS = {
    62: GOOD_DATASET[:200],
    63: element(element(element(element(element(GOOD_DATASET, "id", "63"), "upload_date", "sometime in 1936"), "licence", "Public"),
                        "citation", "See 10.1000/ODD and https://arxiv.org/abs/2101.00001 and ( 10.1000/odd )."), "version", "x"),
    64: element(element(element(GOOD_DATASET, "id", "64"), "creator", "</oml:creator>" + "".join(f"<oml:creator>Person {i}</oml:creator>" for i in range(50))
                        + "<oml:creator>"), "description", "Data. " * 100_000),
}


ZOO = "https://bioimage.io/#/artifacts/"
SHARK = yaml.safe_load((FIXTURE_SNAPSHOT / "bioimageio" / "rdf_content" / "bioimage-io" / "fixture-shark" / "v0" / "rdf.yaml").read_text())
YAML_ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b]\n"


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
    "alias-bomb": YAML_ALIAS_BOMB,
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


def add_hf(snapshot: Path) -> None:
    for index, (name, (fields, card)) in enumerate(CASES.items()):
        (snapshot / "models" / f"bad__{name}.json").write_text(json.dumps(model_body(name, fields, index)))
        if card is not None:
            target = snapshot / "cards" / f"bad__{name}.md"
            target.write_bytes(card) if isinstance(card, bytes) else target.write_text(card)


def add_openml(snapshot: Path) -> None:
    for folder, name, documents in (("flows", "flow.xml", FLOWS), ("runs", "run.xml", RUNS), ("tasks", "task.xml", TASKS),
                                    ("datasets", "description.xml", DATASETS)):
        for entry, text in documents.items():
            (snapshot / "openml" / folder / str(entry)).mkdir(parents=True)
            (snapshot / "openml" / folder / str(entry) / name).write_text(text)


def add_zoo(snapshot: Path) -> None:
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


@dataclass(frozen=True)
class BadCorpus:
    """A source's corpus: how it is added to the snapshot, how the extraction is asked for it, the good
    records that must load, and the bad records named by a usable id (each loaded or listed)."""

    add: Callable[[Path], None]
    size: int
    minimum_size: int
    extraction: dict[str, Any]
    good: frozenset[str]
    bad_ids: tuple[str, ...]
    replay: dict[str, Any] = field(default_factory=dict)
    transformation: dict[str, Any] = field(default_factory=dict)


CORPORA = {
    "hf": BadCorpus(add_hf, len(CASES), 50, {"num_models": 500, "model_ids": GOOD_HF, "ancestor_generations": 2},
                    frozenset(GOOD_HF), tuple(f"bad/{name}" for name, (fields, _) in CASES.items() if "id" not in fields),
                    replay={"page_size": 20}, transformation={"chunk_size": 100}),
    "openml": BadCorpus(add_openml, len(FLOWS) + len(RUNS) + len(TASKS) + len(DATASETS), 30, {"num_flows": 100},
                        frozenset({"101", "102"}), tuple(str(flow_id) for flow_id in FLOWS)),
    "ai4life": BadCorpus(add_zoo, len(DESCRIPTIONS) + len(BAD_ITEMS), 25, {"num_resources": 100},
                         frozenset({"bioimage-io/fixture-shark", "bioimage-io/fixture-legacy"}),
                         tuple(f"bioimage-io/{name}" for name in DESCRIPTIONS)),
}
