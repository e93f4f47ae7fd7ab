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
    assert basic["url"] == "https://www.openml.org/f/101" and basic["dateCreated"] == "2024-10-01T10:00:00+00:00"
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
    assert partial["trainedOn"] == []  # the tasks' procedures are unknown: nothing is said about training
    assert p.run_evaluations(FLOW, []) == {"hasEvaluation": [], "evaluatedOn": [], "trainedOn": [], "mlTask": [], "evaluationMetrics": []}


def test_a_known_estimation_procedure_says_what_the_model_was_trained_on_and_how_it_was_measured():
    """The transformation gives each evaluation its task's procedure (``mapping.with_procedure``)."""
    from mlentory.sources.openml.mapping import with_procedure

    task = {"found": True, "task_type": "Supervised Classification", "estimation_procedure": "crossvalidation",
            "estimation_parameters": {"number_repeats": "1", "number_folds": "10", "stratified_sampling": "true"}}
    evaluations = [with_procedure(EVALUATIONS[0], task), with_procedure({**EVALUATIONS[1], "task_id": 302, "data_id": 62}, None)]
    partial = p.run_evaluations(FLOW, evaluations)
    assert partial["trainedOn"] == [{"kind": "datasets", "key": "61"}]  # not 62: its task could not be read
    assert partial["evaluatedOn"] == [{"kind": "datasets", "key": "62"}, {"kind": "datasets", "key": "61"}]
    by_run = {e["@id"]: e for e in partial["hasEvaluation"]}
    assert [m["measurementTechnique"] for m in by_run["https://www.openml.org/r/5002"]["evaluationMetrics"]] == ["10-fold cross-validation, 1 repeat, stratified"]
    assert "measurementTechnique" not in by_run["https://www.openml.org/r/5001"]["evaluationMetrics"][0]
    holdout = {"estimation_procedure": "holdout", "estimation_parameters": {"number_repeats": "1", "percentage": "33"}}
    assert p.measurement_technique(holdout) == "holdout, 1 repeat, 33% held out"


def test_linking_a_task_gives_its_type_and_a_failed_lookup_a_stub():
    [iri], [(kind, term)] = LINKERS["tasks"]({"kind": "tasks", "key": "301"}, {"found": True, "task_type": "Supervised Classification"})
    assert kind == "tasks" and term.name == "Supervised Classification" and iri.endswith("openml-task-type/supervised-classification")
    [iri], [(kind, stub)] = LINKERS["tasks"]({"kind": "tasks", "key": "301"}, {})
    assert iri == "https://www.openml.org/t/301" and stub.name == "OpenML task 301" and kind == "stubs"
    [iri], [(kind, dataset)] = LINKERS["datasets"]({"kind": "datasets", "key": "61"}, {})
    assert iri == "https://www.openml.org/d/61" and dataset.name == "OpenML dataset 61" and dataset.license == [] and kind == "stubs"


def test_a_dataset_keeps_its_licence_citation_and_creators_and_names_its_papers_as_every_source_does():
    """Shapes of penguins (42585) and emotions (40589) in ``../shared/realdata/openml``."""
    info = {"found": True, "name": "penguins", "version": 1, "licence": "CC0", "upload_date": "2022-04-27T12:40:03",
            "creator": ["Kristen Gorman", "Allison Horst"], "citation": None,
            "paper_url": "https://doi.org/10.1371/journal.pone.0090081", "description": "Data on penguins."}
    [iri], records = LINKERS["datasets"]({"kind": "datasets", "key": "42585"}, info)
    by_kind = {kind: record for kind, record in records}
    dataset = by_kind["datasets"]
    assert iri == "https://www.openml.org/d/42585" and dataset.version == "1" and dataset.credit_text == ["Kristen Gorman", "Allison Horst"]
    assert dataset.license == ["https://spdx.org/licenses/CC0-1.0"]
    assert dataset.citation == ["https://doi.org/10.1371/journal.pone.0090081"]
    # The IRI a Hub card citing the same DOI gets; a DOI alone only names the paper (a stub).
    from mlentory.fair4ml.linking import link_article
    from mlentory.fair4ml.papers import doi_mention

    assert dataset.reference_publication == link_article(doi_mention("10.1371/JOURNAL.PONE.0090081"), {})[0] == ["https://doi.org/10.1371/journal.pone.0090081"]
    assert by_kind["stubs"].id == "https://doi.org/10.1371/journal.pone.0090081"
    emotions = {"found": True, "name": "emotions", "licence": "Public", "creator": "Trohidis, K.; Tsoumakas, G.",
                "citation": "http://ismir2008.ismir.net/papers/ISMIR2008_275.pdf arXiv: https://arxiv.org/abs/2106.09685v2"}
    _, records = LINKERS["datasets"]({"kind": "datasets", "key": "40589"}, emotions)
    dataset = records[0][1]
    assert dataset.credit_text == ["Trohidis, K.; Tsoumakas, G."] and dataset.reference_publication == ["https://arxiv.org/abs/2106.09685"]


def test_a_dataset_keeps_its_language_tags_contributors_uploader_and_whole_description():
    """The shape of anneal (dataset 2 in ``../shared/realdata/openml``): ``oml:language`` "english",
    ``oml:tag``s, ``oml:contributor``s, ``oml:uploader``; a description longer than 2,000 characters."""
    description = "**Author**: Unknown. **Source**: UCI. The original Annealing dataset from UCI. " + "The data has 38 attributes. " * 120
    info = {"found": True, "name": "anneal", "version": "2", "licence": "Public", "language": "english", "description": description,
            "creator": ["Jan N. van Rijn"], "contributor": ["Bernd Bischl", "Luis Torgo", "None"], "tags": ["study_1", "uci"],
            "uploader": "1", "uploader_name": "Jan van Rijn"}
    _, records = LINKERS["datasets"]({"kind": "datasets", "key": "2"}, info)
    dataset = records[0][1]
    assert dataset.description == description.strip() and len(description) > 2_000
    assert dataset.in_language == ["http://lexvo.org/id/iso639-3/eng"]
    assert dataset.keywords == ["https://w3id.org/mlentory/keyword/study-1", "https://w3id.org/mlentory/keyword/uci"]
    assert dataset.contributor == ["https://w3id.org/mlentory/openml/person/bernd-bischl", "https://w3id.org/mlentory/openml/person/luis-torgo"]
    assert dataset.publisher == ["https://www.openml.org/u/1"]
    named = {record.id: (kind, record.name) for kind, record in records}
    assert named["https://www.openml.org/u/1"] == ("organisations", "Jan van Rijn")
    assert named["https://w3id.org/mlentory/openml/person/luis-torgo"] == ("organisations", "Luis Torgo")
    assert named["http://lexvo.org/id/iso639-3/eng"] == ("languages", "English")
    # An uploader the extraction could not name is linked by its id, as a stub.
    _, records = LINKERS["datasets"]({"kind": "datasets", "key": "2"}, {**info, "uploader_name": None})
    assert ("stubs", "OpenML user 1") in {(kind, record.name) for kind, record in records}


def test_a_hub_card_naming_an_openml_dataset_links_to_the_node_the_openml_source_describes():
    from mlentory.fair4ml import iris
    from mlentory.sources.huggingface import linking as hf_linking
    from mlentory.sources.huggingface import properties as hf

    model = {"id": "acme/tabular", "tags": [], "card_data": {"datasets": ["https://www.openml.org/d/61", "openml:31", "stanfordnlp/imdb"]}}
    trained = hf.datasets(model, None)["trainedOn"]
    assert [m["key"] for m in trained] == ["openml:61", "openml:31", "stanfordnlp/imdb"]
    [iri], [(kind, record)] = hf_linking.LINKERS["datasets"](trained[0], {})
    assert iri == iris.openml_dataset_iri(61) == LINKERS["datasets"]({"kind": "datasets", "key": "61"}, {})[0][0]
    assert kind == "stubs"  # named by the Hub; described by the OpenML source, whose record it never replaces
    assert iris.openml_dataset_id("https://www.openml.org/search?type=data&sort=runs&id=61&status=active") == "61"
    assert iris.openml_dataset_id("https://www.openml.org/t/61") is None and iris.openml_dataset_id("openml/credit-g") is None
