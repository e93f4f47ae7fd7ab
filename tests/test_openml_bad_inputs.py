"""OpenML's bad-input corpus: malformed flows, run evaluations, tasks and datasets served by the
replay (in OpenML's XML, to the real ``openml`` client) next to the good fixture, through the three
OpenML DAGs. Each bad record is loaded with what can be read or listed with its reason; no task
crashes and no good record is lost."""

from __future__ import annotations

import re

import pytest
from conftest import FIXTURE_SNAPSHOT, fresh_world, start_replay
from pipeline import lines, run_source_chain

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


@pytest.fixture(scope="module")
def bad_openml(stores, tmp_path_factory):
    snapshot = fresh_world(stores, tmp_path_factory, "bad-openml")
    for folder, name, documents in (("flows", "flow.xml", FLOWS), ("runs", "run.xml", RUNS), ("tasks", "task.xml", TASKS),
                                    ("datasets", "description.xml", DATASETS)):
        for item, text in documents.items():
            (snapshot / "openml" / folder / str(item)).mkdir(parents=True)
            (snapshot / "openml" / folder / str(item) / name).write_text(text)
    replay = start_replay(snapshot)
    try:
        yield {"run_folder": run_source_chain("openml", {"num_flows": 100}, max_error_rate=1.0), "stores": stores}
    finally:
        replay.shutdown()
        replay.server_close()


def graph(stores, cypher: str, **params) -> list:
    with stores.driver() as driver, driver.session() as session:
        return session.run(cypher, **params).value()


def test_the_corpus_covers_every_kind_of_record():
    assert len(FLOWS) + len(RUNS) + len(TASKS) + len(DATASETS) >= 30


def test_no_good_record_is_lost(bad_openml):
    stores = bad_openml["stores"]
    assert {OML + "f/101", OML + "f/102"} <= set(graph(stores, "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__sourceSha IS NOT NULL RETURN m.uri"))
    runs = graph(stores, "MATCH ({uri: $u})-[:fair4ml__hasEvaluation]->(e) RETURN e.uri", u=OML + "f/101")
    assert sorted(runs) == [OML + "r/5001", OML + "r/5002"]
    es = stores.es()
    es.indices.refresh(index="mlentory_models")
    indexed = {h["_source"]["identifier"] for h in es.search(index="mlentory_models", size=100, query={"term": {"source": "openml"}})["hits"]["hits"]}
    assert {"101", "102"} <= indexed


def test_every_bad_flow_is_loaded_or_listed_with_its_reason(bad_openml):
    errors = lines(bad_openml["run_folder"] / "errors.jsonl")
    assert all(e.get("reason") for e in errors)
    listed = {str(e.get("id")) for e in errors}
    loaded = set(graph(bad_openml["stores"], "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__sourceSha IS NOT NULL RETURN m.schema__identifier"))
    assert [flow_id for flow_id in FLOWS if str(flow_id) not in loaded | listed] == []
    for unreadable in (9003, 9013, 9015):
        assert str(unreadable) in listed and str(unreadable) not in loaded


def test_bad_values_are_left_out_not_invented(bad_openml):
    stores = bad_openml["stores"]
    values = graph(stores, "MATCH ({uri: $u})-[:fair4ml__hasEvaluation]->(e)-[:fair4ml__evaluationMetrics]->(v) RETURN v.schema__value",
                   u=OML + "f/102")
    assert all(isinstance(v, (int, float)) and v == v and abs(v) != float("inf") for v in values)  # no text, NaN or infinity
    # A task with an unknown procedure still evaluates; only a known procedure says what the model was trained on.
    assert graph(stores, "MATCH ({uri: $u})-[:fair4ml__trainedOn]->(d) RETURN d.uri", u=OML + "f/9007") == []
    assert graph(stores, "MATCH ({uri: $u})-[:fair4ml__trainedOn]->(d) RETURN d.uri", u=OML + "f/102") == [OML + "d/61"]
    # The dataset of odd values keeps what it can: its papers, the same IRIs the Hub gives them.
    papers = graph(stores, "MATCH ({uri: $u})-[:codemeta__referencePublication]->(p) RETURN p.uri ORDER BY p.uri", u=OML + "d/63")
    assert papers == ["https://arxiv.org/abs/2101.00001", "https://doi.org/10.1000/odd"]
    [many] = graph(stores, "MATCH (d {uri: $u}) RETURN d.schema__creditText", u=OML + "d/64")
    assert len(many) == 50 and many[:2] == ["Person 0", "Person 1"]


def test_failed_lookups_are_warnings_with_reasons(bad_openml):
    warnings = lines(bad_openml["run_folder"] / "warnings.jsonl")
    by_key = {(w.get("kind"), w.get("key")): w for w in warnings}
    assert "not found" in by_key[("tasks", "99999")]["reason"]
    assert "unreadable" in by_key[("tasks", "302")]["reason"] and "unreadable" in by_key[("datasets", "62")]["reason"]
