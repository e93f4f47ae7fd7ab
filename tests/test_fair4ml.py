"""The FAIR4ML model, its JSON-LD context and the IRIs: in step with each other and with RDF."""

from __future__ import annotations

import json

import pytest
import rdflib
from pydantic import ValidationError

from mlentory.fair4ml import iris
from mlentory.fair4ml.context import is_reference, load_context, shortened, term_iri
from mlentory.fair4ml.models import ENTITY_MODELS, MLModel
from mlentory.loading.graph import graph_row

FAIR4ML = rdflib.Namespace("https://w3id.org/fair4ml#")
SCHEMA = rdflib.Namespace("http://schema.org/")
CODEMETA = rdflib.Namespace("https://w3id.org/codemeta/")


@pytest.mark.parametrize("model", sorted({MLModel, *ENTITY_MODELS.values()}, key=lambda m: m.__name__))
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
    assert term_iri("referencePublication") == "https://w3id.org/codemeta/referencePublication"
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
