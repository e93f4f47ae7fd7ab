"""FAIR4ML 0.1.0 records (with the schema.org and codemeta terms FAIR4ML builds on) as pydantic models.

Every field's alias is a term of the JSON-LD context in ``include/schemas/fair4ml-context.jsonld``
(a test keeps the two in step), so ``record.to_jsonld()`` is valid JSON-LD and the graph loader can
derive IRIs, relationships and labels from the context alone. Fields that hold IRIs of other
resources are typed ``list[IRI]``/``IRI`` and become graph relationships.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


def _absolute_iri(value: str) -> str:
    parts = urlsplit(value)
    if not parts.scheme or not (parts.netloc or parts.scheme == "urn") or any(c in value for c in " <>\"{}|\\^`"):
        raise ValueError(f"not an absolute IRI: {value!r}")
    return value


IRI = Annotated[str, AfterValidator(_absolute_iri)]


class FAIR4MLRecord(BaseModel):
    """Common base: an IRI, a JSON-LD type and the fields every resource may have."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", protected_namespaces=()
    )
    jsonld_type: ClassVar[str]

    id: IRI = Field(alias="@id", description="Deterministic IRI of the resource (see fair4ml.iris).")
    identifier: str | None = Field(None, description="The identifier the source uses (e.g. the Hub repo id).")
    name: str | None = Field(None, description="Human-readable name.")
    description: str | None = Field(None, description="Free-text description.")
    url: str | None = Field(None, description="Web page of the resource at its source.")

    def to_jsonld(self) -> dict[str, Any]:
        """The record as compact JSON-LD: empty values dropped, ``@type`` added."""
        body = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        body = {key: value for key, value in body.items() if value not in ([], "", {})}
        return {"@id": body.pop("@id"), "@type": self.jsonld_type, **body}


class MLModel(FAIR4MLRecord):
    """fair4ml:MLModel, a machine-learning model as shared online."""

    jsonld_type: ClassVar[str] = "MLModel"

    source: Literal["huggingface", "openml", "ai4life"] = Field(description="Platform the record was harvested from.")
    source_sha: str | None = Field(None, description="Source revision (Hub commit sha) this record describes.")
    date_created: datetime | None = Field(None, description="schema:dateCreated, when the model was first published.")
    date_modified: datetime | None = Field(None, description="schema:dateModified, the last change at the source.")
    date_published: datetime | None = Field(None, description="schema:datePublished.")
    version: str | None = Field(None, description="schema:version; on the Hub the commit sha.")
    keywords: list[IRI] = Field(default_factory=list, description="schema:keywords, DefinedTerm IRIs.")
    in_language: list[IRI] = Field(default_factory=list, description="schema:inLanguage, Language IRIs.")
    license: list[IRI] = Field(default_factory=list, description="schema:license, license IRIs (SPDX where known).")
    citation: list[str] = Field(default_factory=list, description="schema:citation, citation text such as BibTeX.")
    reference_publication: list[IRI] = Field(default_factory=list, description="codemeta:referencePublication, ScholarlyArticle IRIs.")
    is_based_on: list[IRI] = Field(default_factory=list, description="schema:isBasedOn, every base model (fine-tune, adapter, merge, quantization).")
    fine_tuned_from: list[IRI] = Field(default_factory=list, description="fair4ml:fineTunedFrom, base models this one was fine-tuned from.")
    trained_on: list[IRI] = Field(default_factory=list, description="fair4ml:trainedOn, training datasets.")
    tested_on: list[IRI] = Field(default_factory=list, description="fair4ml:testedOn, test datasets.")
    validated_on: list[IRI] = Field(default_factory=list, description="fair4ml:validatedOn, validation datasets.")
    evaluated_on: list[IRI] = Field(default_factory=list, description="fair4ml:evaluatedOn, evaluation datasets (e.g. from model-index).")
    evaluation_metrics: list[str] = Field(default_factory=list, description="fair4ml:evaluationMetrics, e.g. 'accuracy on glue (mrpc): 0.9'.")
    ml_task: list[IRI] = Field(default_factory=list, description="fair4ml:mlTask, DefinedTerm IRIs of tasks.")
    model_category: list[str] = Field(default_factory=list, description="fair4ml:modelCategory, architecture or family (e.g. 'bert').")
    intended_use: str | None = Field(None, description="fair4ml:intendedUse, from the model card.")
    model_risks_bias_limitations: str | None = Field(None, description="fair4ml:modelRisksBiasLimitations, from the model card.")
    ethical_social: str | None = Field(None, description="fair4ml:ethicalSocial, from the model card.")
    legal: str | None = Field(None, description="fair4ml:legal, from the model card.")
    usage_instructions: str | None = Field(None, description="fair4ml:usageInstructions, from the model card.")
    code_sample_snippet: str | None = Field(None, description="fair4ml:codeSampleSnippet, first code block of the usage section.")
    has_co2e_emissions: str | None = Field(None, alias="hasCO2eEmissions", description="fair4ml:hasCO2eEmissions, with unit.")
    shared_by: list[IRI] = Field(default_factory=list, description="fair4ml:sharedBy, the user or organisation that shared it.")
    code_repository: list[str] = Field(default_factory=list, description="schema:codeRepository, source-code URLs.")
    readme: str | None = Field(None, description="codemeta:readme, URL of the model card.")
    archived_at: str | None = Field(None, description="schema:archivedAt, where the files are stored.")
    is_accessible_for_free: bool | None = Field(None, description="schema:isAccessibleForFree; false when gated.")
    conditions_of_access: str | None = Field(None, description="schema:conditionsOfAccess, e.g. gating mode.")
    software_requirements: list[str] = Field(default_factory=list, description="schema:softwareRequirements, libraries.")
    storage_requirements: str | None = Field(None, description="schema:storageRequirements, storage used in bytes.")
    downloads: int | None = Field(None, description="Downloads in the last 30 days at harvest time.")
    likes: int | None = Field(None, description="Likes at harvest time.")


class Dataset(FAIR4MLRecord):
    """schema:Dataset, a dataset a model was trained or evaluated on."""

    jsonld_type: ClassVar[str] = "Dataset"

    date_modified: datetime | None = Field(None, description="schema:dateModified at the source.")
    license: list[IRI] = Field(default_factory=list, description="schema:license IRIs.")
    source_sha: str | None = Field(None, description="Source revision this record describes.")


class ScholarlyArticle(FAIR4MLRecord):
    """schema:ScholarlyArticle, a paper a model cites or is described in."""

    jsonld_type: ClassVar[str] = "ScholarlyArticle"

    author: list[str] = Field(default_factory=list, description="schema:author names, in order.")
    date_published: datetime | None = Field(None, description="schema:datePublished of the first version.")
    same_as: list[str] = Field(default_factory=list, description="schema:sameAs, e.g. the DOI URL.")


class DefinedTerm(FAIR4MLRecord):
    """schema:DefinedTerm, a keyword or an ML task."""

    jsonld_type: ClassVar[str] = "DefinedTerm"

    term_code: str | None = Field(None, description="schema:termCode, the code in its term set.")
    in_defined_term_set: str | None = Field(None, description="schema:inDefinedTermSet, the vocabulary's IRI.")


class License(FAIR4MLRecord):
    """schema:CreativeWork standing for a license (SPDX where the license is listed)."""

    jsonld_type: ClassVar[str] = "CreativeWork"


class Language(FAIR4MLRecord):
    """schema:Language, a natural language a model handles."""

    jsonld_type: ClassVar[str] = "Language"

    alternate_name: list[str] = Field(default_factory=list, description="schema:alternateName, other codes.")


class Agent(FAIR4MLRecord):
    """schema:Organization or schema:Person that shares models."""

    jsonld_type: ClassVar[str] = "Organization"
    kind: Literal["Organization", "Person"] = Field("Organization", exclude=True, description="JSON-LD type.")

    def to_jsonld(self) -> dict[str, Any]:
        return {**super().to_jsonld(), "@type": self.kind}


ENTITY_MODELS: dict[str, type[FAIR4MLRecord]] = {
    "datasets": Dataset,
    "articles": ScholarlyArticle,
    "keywords": DefinedTerm,
    "tasks": DefinedTerm,
    "licenses": License,
    "languages": Language,
    "organisations": Agent,
}
ENTITY_KINDS = tuple(ENTITY_MODELS)
