"""The FAIR4ML model, its JSON-LD context and the IRIs: in step with each other and with RDF."""

from __future__ import annotations

import json

import pytest
import rdflib
from pydantic import ValidationError

from mlentory.fair4ml import iris
from mlentory.fair4ml.context import is_reference, load_context, shortened, term_curie, term_iri
from mlentory.fair4ml.models import ENTITY_MODELS, LicenceFinding, MLModel, MLModelEvaluation, PropertyValue
from mlentory.stores.graph import graph_row, graph_rows

FAIR4ML = rdflib.Namespace("https://w3id.org/fair4ml#")
SCHEMA = rdflib.Namespace("http://schema.org/")
CODEMETA = rdflib.Namespace("https://codemeta.github.io/terms/")


@pytest.mark.parametrize("model", sorted({MLModel, MLModelEvaluation, PropertyValue, LicenceFinding, *ENTITY_MODELS.values()},
                                          key=lambda m: m.__name__))
def test_every_field_is_a_context_term_with_a_description(model):
    context = load_context()
    assert model.jsonld_type in context
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        alias = field.alias or name
        assert alias == "@id" or alias in context, f"{model.__name__}.{name} ({alias}) is not in the JSON-LD context"
        assert field.description, f"{model.__name__}.{name} has no description"


def test_fair4ml_terms_use_the_fair4ml_namespace():
    assert term_iri("fineTunedFrom") == "https://w3id.org/fair4ml#fineTunedFrom"
    assert term_iri("intendedUse") == "https://w3id.org/fair4ml#intendedUse"
    assert term_iri("referencePublication") == "https://codemeta.github.io/terms/referencePublication"
    assert term_iri("license") == "http://schema.org/license"
    assert is_reference("trainedOn") and not is_reference("name") and not is_reference("url")
    assert shortened("fineTunedFrom") == "fair4ml__fineTunedFrom"


def test_a_record_expands_to_the_right_rdf_triples():
    model = MLModel.model_validate({
        "@id": "https://huggingface.co/a/child", "source": "huggingface", "name": "a/child",
        "fineTunedFrom": ["https://huggingface.co/a/base"], "trainedOn": ["https://huggingface.co/datasets/d"],
        "referencePublication": ["https://arxiv.org/abs/2101.00001"], "intendedUse": "Testing.",
        "dateModified": "2025-01-15T12:00:00Z",
    })
    graph = rdflib.Graph().parse(data=json.dumps({"@context": load_context(), **model.to_jsonld()}), format="json-ld")
    child = rdflib.URIRef("https://huggingface.co/a/child")
    assert (child, rdflib.RDF.type, FAIR4ML.MLModel) in graph
    assert (child, FAIR4ML.fineTunedFrom, rdflib.URIRef("https://huggingface.co/a/base")) in graph
    assert (child, FAIR4ML.trainedOn, rdflib.URIRef("https://huggingface.co/datasets/d")) in graph
    assert (child, CODEMETA.referencePublication, rdflib.URIRef("https://arxiv.org/abs/2101.00001")) in graph
    assert (child, FAIR4ML.intendedUse, rdflib.Literal("Testing.")) in graph
    assert graph.value(child, SCHEMA.dateModified).datatype == rdflib.XSD.dateTime


def test_validation_rejects_non_iris_and_unknown_fields():
    with pytest.raises(ValidationError):
        MLModel.model_validate({"@id": "not an iri", "source": "huggingface"})
    with pytest.raises(ValidationError):
        MLModel.model_validate({"@id": "https://huggingface.co/a/b", "source": "huggingface", "fineTunedFrom": ["a/b"]})
    with pytest.raises(ValidationError):
        MLModel.model_validate({"@id": "https://huggingface.co/a/b", "source": "huggingface", "madeUp": 1})


def test_iris_are_deterministic_and_shared_across_sources():
    assert iris.arxiv_iri("2101.00001v3") == iris.arxiv_iri("2101.00001") == "https://arxiv.org/abs/2101.00001"
    assert iris.hf_dataset_iri("stanfordnlp/imdb") == "https://huggingface.co/datasets/stanfordnlp/imdb"
    assert iris.spdx_license_iri("Apache-2.0") == "https://spdx.org/licenses/Apache-2.0"
    assert iris.keyword_iri("Text Classification") == iris.keyword_iri("text-classification")


def test_graph_row_follows_neosemantics_naming():
    row = graph_row({"@id": "https://huggingface.co/a/b", "@type": "MLModel", "name": "a/b",
                     "keywords": ["https://w3id.org/mlentory/keyword/x"], "downloads": 3})
    assert row.label == "fair4ml__MLModel"
    assert row.props == {"uri": "https://huggingface.co/a/b", "schema__name": "a/b", "mlentory__downloads": 3}
    assert row.relationships == {"schema__keywords": ["https://w3id.org/mlentory/keyword/x"]}


EVALUATED = {
    "@id": "https://huggingface.co/a/child", "source": "huggingface",
    "hasEvaluation": [{
        "@id": "https://w3id.org/mlentory/evaluation/e1", "evaluatedMLModel": "https://huggingface.co/a/child",
        "evaluationDataset": ["https://huggingface.co/datasets/glue"], "datasetConfig": "mrpc", "datasetSplit": "validation",
        "evaluationMetrics": [{"@id": "https://w3id.org/mlentory/evaluation/e1/metric/0", "name": "Accuracy", "propertyID": "accuracy", "value": 0.91}],
    }],
}


def test_an_evaluation_is_an_embedded_node_with_property_values_in_rdf():
    record = MLModel.model_validate(EVALUATED).to_jsonld()
    graph = rdflib.Graph().parse(data=json.dumps({"@context": load_context(), **record}), format="json-ld")
    child, evaluation = rdflib.URIRef(EVALUATED["@id"]), rdflib.URIRef("https://w3id.org/mlentory/evaluation/e1")
    metric = rdflib.URIRef("https://w3id.org/mlentory/evaluation/e1/metric/0")
    assert (child, FAIR4ML.hasEvaluation, evaluation) in graph
    assert (evaluation, rdflib.RDF.type, FAIR4ML.MLModelEvaluation) in graph
    assert (evaluation, FAIR4ML.evaluatedMLModel, child) in graph
    assert (evaluation, FAIR4ML.evaluationDataset, rdflib.URIRef("https://huggingface.co/datasets/glue")) in graph
    assert (evaluation, FAIR4ML.evaluationMetrics, metric) in graph
    assert (metric, rdflib.RDF.type, SCHEMA.PropertyValue) in graph
    assert graph.value(metric, SCHEMA.value).toPython() == 0.91
    assert str(graph.value(metric, SCHEMA.propertyID)) == "accuracy"


def test_embedded_records_become_nodes_of_their_own_in_the_graph():
    rows = graph_rows(MLModel.model_validate(EVALUATED).to_jsonld())
    assert [r.label for r in rows] == ["fair4ml__MLModel", "fair4ml__MLModelEvaluation", "schema__PropertyValue"]
    assert rows[0].relationships == {"fair4ml__hasEvaluation": ["https://w3id.org/mlentory/evaluation/e1"]}
    assert rows[1].relationships["fair4ml__evaluationMetrics"] == ["https://w3id.org/mlentory/evaluation/e1/metric/0"]
    assert rows[2].props["schema__value"] == 0.91 and rows[2].props["schema__propertyID"] == "accuracy"


def test_every_term_of_our_own_namespace_is_defined_in_the_vocabulary():
    from mlentory.settings import SCHEMAS_DIR

    vocabulary = rdflib.Graph().parse(SCHEMAS_DIR / "mlentory-terms.ttl", format="turtle")
    ours = [term for term in load_context() if not term.startswith("@") and term_curie(term).startswith("mlentory:")]
    assert "quantizedFrom" in ours and "Account" in ours
    for term in ours:
        iri = rdflib.URIRef(term_iri(term))
        assert (iri, rdflib.RDFS.comment, None) in vocabulary, f"{term} ({iri}) is not defined in mlentory-terms.ttl"
    for relation in ("quantizedFrom", "adapterOf", "mergedFrom"):
        assert (rdflib.URIRef(term_iri(relation)), rdflib.RDFS.subPropertyOf, SCHEMA.isBasedOn) in vocabulary


def test_papers_are_found_in_text_as_the_plain_patterns_find_them():
    """The fast scanners (a literal first, the pattern after) find what the patterns find."""
    from mlentory.fair4ml.papers import ARXIV_IN_TEXT, DOI, arxiv_ids_in, dois_in

    texts = ["see arxiv.org/abs/2101.00001v2 and ARXIV.ORG/pdf/2101.00002, https://arxiv.org/abs/hep-th/9901001",
             "x10.1234/abc 10.5555/x_y; (10.1000/1) doi:10.48550/arXiv.2106.09685 a10.1/b 110.12345/c",
             "İstanbul arxiv.org/abs/2101.00003", "arxiv.org/ nothing", "", "10.123/too-short-prefix"]
    for text in texts:
        assert arxiv_ids_in(text) == [m.group(1) for m in ARXIV_IN_TEXT.finditer(text)], text
        assert dois_in(text) == DOI.findall(text), text
    assert dois_in(texts[1]) == ["10.5555/x_y", "10.1000/1", "10.48550/arXiv.2106.09685"]
    assert arxiv_ids_in(texts[0]) == ["2101.00001", "2101.00002", "hep-th/9901001"]


@pytest.mark.parametrize("iri, absolute", [("https://huggingface.co/a/b", True), ("urn:uuid:1234", True), ("http://h", True),
                                           ("https://", False), ("https:///path", False), ("a/b", False), ("https://h/a b", False),
                                           ("https://h/<b>", False), ("mailto:x@y", False)])
def test_an_iri_is_absolute_with_an_authority_or_a_urn(iri, absolute):
    from mlentory.fair4ml.models import _absolute_iri

    if absolute:
        assert _absolute_iri(iri) == iri
    else:
        with pytest.raises(ValueError):
            _absolute_iri(iri)
