"""OpenML's property groups, pure functions of a flow record and its run evaluations (the shapes
``client.flow_record`` and ``extraction.harvest_evaluations`` write)."""

from __future__ import annotations

from mlentory.sources.openml import properties as p
from mlentory.sources.openml.linking import LINKERS

FLOW = {"id": "101", "name": "sklearn.pipeline.Pipeline(imputer=sklearn.impute.SimpleImputer)", "custom_name": "sklearn.Pipeline(SimpleImputer)",
        "version": "1", "external_version": "openml==0.15.1,sklearn==1.5.2", "description": " Pipeline of transforms. ",
        "upload_date": "2024-10-01T10:00:00", "uploader": "2", "language": "English",
        "dependencies": "sklearn==1.5.2\nnumpy>=1.19.5", "tags": ["sklearn", "openml-python", "sklearn"], "components": {"imputer": 102}}
EVALUATIONS = [
    {"run_id": 5002, "flow_id": 101, "task_id": 301, "data_id": 61, "data_name": "iris", "values": {"predictive_accuracy": 0.9587, "f_measure": None}},
    {"run_id": 5001, "flow_id": 101, "task_id": 301, "data_id": 61, "data_name": "iris", "values": {"predictive_accuracy": 0.9612}},
]


def test_basic():
    basic = p.basic(FLOW, [])
    assert basic["name"] == "sklearn.Pipeline(SimpleImputer)" and basic["description"] == "Pipeline of transforms."
    assert basic["url"] == "https://www.openml.org/f/101" and basic["dateCreated"] == "2024-10-01T10:00:00"
    assert basic["softwareRequirements"] == ["sklearn==1.5.2", "numpy>=1.19.5", "openml==0.15.1"]


def test_keywords_language_sharing_and_components():
    assert [m["key"] for m in p.keywords_languages(FLOW, [])["keywords"]] == ["sklearn", "openml-python"]
    assert p.keywords_languages(FLOW, [])["inLanguage"] == [{"kind": "languages", "key": "English"}]
    assert p.sharing(FLOW, []) == {"sharedBy": [{"kind": "organisations", "key": "2"}]}
    assert p.lineage(FLOW, []) == {"isBasedOn": [{"kind": "models", "key": "102"}]}
    assert p.lineage({**FLOW, "components": {}}, []) == {"isBasedOn": []}


def test_each_run_is_an_evaluation_with_a_value_per_measure():
    partial = p.run_evaluations(FLOW, EVALUATIONS)
    first, second = partial["hasEvaluation"]
    assert first["@id"] == "https://www.openml.org/r/5001" and second["@id"] == "https://www.openml.org/r/5002"
    assert [(m["name"], m["value"]) for m in second["evaluationMetrics"]] == [("predictive_accuracy", 0.9587)]  # no value, no metric
    assert first["evaluationDataset"] == [{"kind": "datasets", "key": "61"}] and first["mlTask"] == [{"kind": "tasks", "key": "301"}]
    assert partial["evaluatedOn"] == [{"kind": "datasets", "key": "61"}] and partial["mlTask"] == [{"kind": "tasks", "key": "301"}]
    assert p.run_evaluations(FLOW, []) == {"hasEvaluation": [], "evaluatedOn": [], "mlTask": [], "evaluationMetrics": []}


def test_linking_a_task_gives_its_type_and_a_failed_lookup_a_stub():
    [iri], [(kind, term)] = LINKERS["tasks"]({"kind": "tasks", "key": "301"}, {"found": True, "task_type": "Supervised Classification"})
    assert kind == "tasks" and term.name == "Supervised Classification" and iri.endswith("openml-task-type/supervised-classification")
    [iri], [(_, stub)] = LINKERS["tasks"]({"kind": "tasks", "key": "301"}, {})
    assert iri == "https://www.openml.org/t/301" and stub.name == "OpenML task 301"
    [iri], [(_, dataset)] = LINKERS["datasets"]({"kind": "datasets", "key": "61"}, {})
    assert iri == "https://www.openml.org/d/61" and dataset.name == "OpenML dataset 61" and dataset.license == []
