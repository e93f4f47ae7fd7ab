"""FAIR4ML 0.1.0 records (with the schema.org and codemeta terms FAIR4ML builds on) as pydantic models.

Every field's alias is a term of the JSON-LD context in ``include/schemas/fair4ml-context.jsonld``
(a test keeps the two in step), so ``record.to_jsonld()`` is valid JSON-LD and the graph loader can
derive IRIs, relationships and labels from the context alone. Fields that hold IRIs of other
resources are typed ``list[IRI]``/``IRI`` and become graph relationships. Fields typed with another
record class (an evaluation and its metric values) hold *embedded* records: nodes that belong to the
record that embeds them (JSON-LD node objects; the graph loader replaces them with their owner).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# A scheme and an authority (or a URN), and none of the characters an IRI may not hold: one regex,
# as every IRI of every record passes here (urlsplit was a tenth of the transformation's time).
_ABSOLUTE_IRI = re.compile(r'(?:[A-Za-z][A-Za-z0-9+.\-]*://[^/?#\s<>"{}|\\^`]+|[Uu][Rr][Nn]:)[^\s<>"{}|\\^`]*')


def _absolute_iri(value: str) -> str:
    if not _ABSOLUTE_IRI.fullmatch(value):
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
        """The record as compact JSON-LD: empty values dropped, ``@type`` added, embedded records as node objects."""
        body = self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=set(self.embedded_fields()))
        body = {key: value for key, value in body.items() if value not in ([], "", {})}
        for name in self.embedded_fields():
            nested = [record.to_jsonld() for record in getattr(self, name)]
            if nested:
                body[type(self).model_fields[name].alias or name] = nested
        return {"@id": body.pop("@id"), "@type": self.jsonld_type, **body}

    @classmethod
    @functools.cache
    def embedded_fields(cls) -> tuple[str, ...]:
        """Fields that hold records of their own (``list[SomeRecord]``)."""
        return tuple(name for name, f in cls.model_fields.items()
                     if any(isinstance(arg, type) and issubclass(arg, FAIR4MLRecord) for arg in getattr(f.annotation, "__args__", ())))


class PropertyValue(FAIR4MLRecord):
    """schema:PropertyValue, one measured value (a metric of an evaluation)."""

    jsonld_type: ClassVar[str] = "PropertyValue"

    property_id: str | None = Field(None, alias="propertyID", description="schema:propertyID, the metric's type (e.g. 'accuracy').")
    value: float | int | str | None = Field(None, description="schema:value, a number where the source gives one.")
    verified: bool | None = Field(None, description="mlentory:verified, whether the source marks the value as verified.")
    measurement_technique: str | None = Field(None, description="schema:measurementTechnique, how the value was estimated (e.g. 10-fold cross-validation).")
    metric: IRI | None = Field(None, description="mlentory:metric, the metric's term in MLentory's metric vocabulary (``include/schemas/metrics.json``): values of one term compare across sources; none where the vocabulary does not know the source's name.")


class MLModelEvaluation(FAIR4MLRecord):
    """fair4ml:MLModelEvaluation, one evaluation of a model on one dataset (a model-index result)."""

    jsonld_type: ClassVar[str] = "MLModelEvaluation"

    evaluated_ml_model: IRI = Field(alias="evaluatedMLModel", description="fair4ml:evaluatedMLModel, the model evaluated.")
    evaluation_dataset: list[IRI] = Field(default_factory=list, description="fair4ml:evaluationDataset, the dataset evaluated on.")
    dataset_config: str | None = Field(None, description="mlentory:datasetConfig, the dataset's configuration (subset) used.")
    dataset_split: str | None = Field(None, description="mlentory:datasetSplit, the dataset split used.")
    dataset_revision: str | None = Field(None, description="mlentory:datasetRevision, the dataset revision used.")
    ml_task: list[IRI] = Field(default_factory=list, description="fair4ml:mlTask, the task evaluated.")
    evaluation_metrics: list[PropertyValue] = Field(default_factory=list, description="fair4ml:evaluationMetrics, one PropertyValue per metric.")
    evaluation_results: str | None = Field(None, description="fair4ml:evaluationResults, the results as text.")


class MLModel(FAIR4MLRecord):
    """fair4ml:MLModel, a machine-learning model as shared online."""

    jsonld_type: ClassVar[str] = "MLModel"

    source: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$",
                        description="Platform the record was harvested from: the name of its source (huggingface, openml, ai4life).")
    source_sha: str | None = Field(None, description="Source revision this record describes (the Hub's commit sha; what incremental runs compare).")
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
    fine_tuned_from: list[IRI] = Field(default_factory=list, description="fair4ml:fineTunedFrom, base models the source says this one was fine-tuned from.")
    quantized_from: list[IRI] = Field(default_factory=list, description="mlentory:quantizedFrom, base models this one is a quantization of.")
    adapter_of: list[IRI] = Field(default_factory=list, description="mlentory:adapterOf, base models this adapter (LoRA, ...) applies to.")
    merged_from: list[IRI] = Field(default_factory=list, description="mlentory:mergedFrom, models merged into this one.")
    trained_on: list[IRI] = Field(default_factory=list, description="fair4ml:trainedOn, training datasets.")
    tested_on: list[IRI] = Field(default_factory=list, description="fair4ml:testedOn, test datasets.")
    validated_on: list[IRI] = Field(default_factory=list, description="fair4ml:validatedOn, validation datasets.")
    evaluated_on: list[IRI] = Field(default_factory=list, description="fair4ml:evaluatedOn, evaluation datasets (e.g. from model-index).")
    evaluation_metrics: list[str] = Field(default_factory=list, description="fair4ml:evaluationMetrics, names of the metrics the card reports.")
    has_evaluation: list[MLModelEvaluation] = Field(default_factory=list, description="fair4ml:hasEvaluation, embedded evaluations (model-index results).")
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
    creator: list[IRI] = Field(default_factory=list, description="schema:creator, the people who made it (Person IRIs, ORCID where known).")
    maintainer: list[IRI] = Field(default_factory=list, description="schema:maintainer, the people who maintain it (Person IRIs).")
    image: list[str] = Field(default_factory=list, description="schema:image, cover images (URLs).")
    code_repository: list[str] = Field(default_factory=list, description="schema:codeRepository, source-code URLs.")
    readme: str | None = Field(None, description="codemeta:readme, URL of the model card.")
    same_as: list[str] = Field(default_factory=list, description="schema:sameAs, other identifiers of the model (its DOI), as literals.")
    same_model: list[IRI] = Field(default_factory=list, description="schema:sameAs as a relationship: the same model's node at another source (the zoo's model on the Hub).")
    related_resource: list[IRI] = Field(default_factory=list, description="mlentory:relatedResource, resources the source links the model to (the zoo's `links`: applications that run it, notebooks that train it, datasets).")
    archived_at: str | None = Field(None, description="schema:archivedAt, where the files are stored.")
    is_accessible_for_free: bool | None = Field(None, description="schema:isAccessibleForFree; gated models are free after a click-through.")
    conditions_of_access: str | None = Field(None, description="schema:conditionsOfAccess, how access is granted (gating).")
    software_requirements: list[str] = Field(default_factory=list, description="schema:softwareRequirements, libraries.")
    storage_requirements: str | None = Field(None, description="schema:storageRequirements, what the repository stores, with its unit.")
    downloads: int | None = Field(None, description="Downloads in the last 30 days at harvest time.")
    likes: int | None = Field(None, description="Likes at harvest time.")
    withdrawn: datetime | None = Field(None, description="mlentory:withdrawn, when the model was found gone from its source (set by the reconciliation, never by a mapping).")


class Dataset(FAIR4MLRecord):
    """schema:Dataset, a dataset a model was trained or evaluated on."""

    jsonld_type: ClassVar[str] = "Dataset"

    version: str | None = Field(None, description="schema:version at the source.")
    date_published: datetime | None = Field(None, description="schema:datePublished, when the source published it.")
    date_modified: datetime | None = Field(None, description="schema:dateModified at the source.")
    license: list[IRI] = Field(default_factory=list, description="schema:license IRIs.")
    in_language: list[IRI] = Field(default_factory=list, description="schema:inLanguage, the languages of the data.")
    keywords: list[IRI] = Field(default_factory=list, description="schema:keywords, the source's tags (DefinedTerm IRIs).")
    credit_text: list[str] = Field(default_factory=list, description="schema:creditText, who made the data, as the source names them (text).")
    contributor: list[IRI] = Field(default_factory=list, description="schema:contributor, people who contributed to the data (Person IRIs).")
    publisher: list[IRI] = Field(default_factory=list, description="schema:publisher, who shared the data at the source (its uploader).")
    citation: list[str] = Field(default_factory=list, description="schema:citation, how the source asks the dataset to be cited (text).")
    reference_publication: list[IRI] = Field(default_factory=list, description="codemeta:referencePublication, ScholarlyArticle IRIs of the papers that describe it.")
    source_sha: str | None = Field(None, description="Source revision this record describes.")
    same_dataset: list[IRI] = Field(default_factory=list, description="schema:sameAs as a relationship: the same data at another source (an OpenML data set the Hub dataset links to, or the DOI both name).")


class SoftwareApplication(FAIR4MLRecord):
    """schema:SoftwareApplication (an application that runs models), or schema:SoftwareSourceCode
    (a notebook that trains them): a resource a model links to."""

    jsonld_type: ClassVar[str] = "SoftwareApplication"
    kind: Literal["SoftwareApplication", "SoftwareSourceCode"] = Field("SoftwareApplication", exclude=True, description="JSON-LD type.")

    version: str | None = Field(None, description="schema:version at the source.")
    license: list[IRI] = Field(default_factory=list, description="schema:license IRIs.")
    code_repository: list[str] = Field(default_factory=list, description="schema:codeRepository, source-code URLs.")
    source_sha: str | None = Field(None, description="Source revision this record describes.")

    def to_jsonld(self) -> dict[str, Any]:
        return {**super().to_jsonld(), "@type": self.kind}


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

    alternate_name: list[str] = Field(default_factory=list, description="schema:alternateName, other names sources give the same licence.")


def merged_names(names: Iterable[str | None], known: str | None = None) -> tuple[str | None, list[str]]:
    """One name and the others (``alternateName``) of a resource that sources name differently,
    the same whatever order the names came in: its ``known`` name where it has one (a licence of
    the Hub's list or SPDX), else the longest that is no link (the most telling), ties by text order."""
    seen = sorted({n.strip() for n in (*names, known) if isinstance(n, str) and n.strip()})
    if not seen:
        return None, []
    plain = [n for n in seen if "://" not in n] or seen
    name = known or min(plain, key=lambda n: (-len(n), n))
    return name, [n for n in seen if n != name]


class Language(FAIR4MLRecord):
    """schema:Language, a natural language a model handles."""

    jsonld_type: ClassVar[str] = "Language"

    alternate_name: list[str] = Field(default_factory=list, description="schema:alternateName, other codes.")


class Agent(FAIR4MLRecord):
    """schema:Organization or schema:Person that shares models; ``Account`` (mlentory:Account) when the
    source could not say which."""

    jsonld_type: ClassVar[str] = "Organization"
    kind: Literal["Organization", "Person", "Account"] = Field("Account", exclude=True, description="JSON-LD type.")

    def to_jsonld(self) -> dict[str, Any]:
        return {**super().to_jsonld(), "@type": self.kind}


class LicenceFinding(FAIR4MLRecord):
    """mlentory:LicenceFinding, a possible conflict between a derived model's licence and its base's
    (``enrichment.licence_findings``): its rule, both licences, the clause and who judged it."""

    jsonld_type: ClassVar[str] = "LicenceFinding"

    finding_for: IRI = Field(description="mlentory:findingFor, the derived model.")
    finding_base: IRI = Field(description="mlentory:findingBase, the base model.")
    finding_rule: str = Field(description="mlentory:findingRule, the rule that found it.")
    base_license: list[IRI] = Field(default_factory=list, description="mlentory:baseLicense, the base's licence the rule is about.")
    model_license: list[IRI] = Field(default_factory=list, description="mlentory:modelLicense, the derived model's licences.")
    finding_clause: str | None = Field(None, description="mlentory:findingClause, the clause the rule comes from.")
    judged_by: str | None = Field(None, description="mlentory:judgedBy, the resource that judged the licences.")


ENTITY_MODELS: dict[str, type[FAIR4MLRecord]] = {
    "datasets": Dataset,
    "articles": ScholarlyArticle,
    "keywords": DefinedTerm,
    "tasks": DefinedTerm,
    "licenses": License,
    "languages": Language,
    "organisations": Agent,
    "software": SoftwareApplication,
}
ENTITY_KINDS = tuple(ENTITY_MODELS)
# Records of these kinds stand in for resources described elsewhere (a base model harvested in
# another run, or gone from its source; a paper known only by its DOI; an entity whose lookup
# failed): loaders write them only where no described node exists, so a stub never replaces what a
# full record wrote, whichever source or run wrote it.
STUBS = "stubs"
STUB_KINDS = ("base_models", STUBS)


@functools.cache
def embedded_terms() -> tuple[str, ...]:
    """JSON-LD terms whose values are records embedded in (owned by) the record that holds them."""
    records: list[type[FAIR4MLRecord]] = [MLModel, MLModelEvaluation, PropertyValue, *ENTITY_MODELS.values()]
    return tuple(sorted({r.model_fields[name].alias or name for r in records for name in r.embedded_fields()}))


@functools.cache
def embedding_depth() -> int:
    """How deep embedded records nest (a model's evaluation's metric values: 2)."""

    def depth(record: type[FAIR4MLRecord]) -> int:
        nested: list[type[FAIR4MLRecord]] = [
            arg for name in record.embedded_fields() for arg in getattr(record.model_fields[name].annotation, "__args__", ())
            if isinstance(arg, type) and issubclass(arg, FAIR4MLRecord)]
        return 1 + max(map(depth, nested)) if nested else 0

    records: list[type[FAIR4MLRecord]] = [MLModel, *ENTITY_MODELS.values()]
    return max(depth(r) for r in records)
