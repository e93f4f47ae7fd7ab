"""Field coverage: of the Hub fields that have a FAIR4ML home, how many reached the output.

For every harvested model, each source value with a home (each tag, each licence, each card
language that names a language, each ``model-index`` result, ...) counts once as *expected*, and
once as *present* when the model's FAIR4ML record holds it. The report is read by the realdata test
layer, which prints and asserts it; run it on any run folder with ``coverage_of_run``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlentory.enrichment.languages import identify_language
from mlentory.fair4ml import iris
from mlentory.fair4ml.jsonld import read_jsonld
from mlentory.fair4ml.papers import normalize_doi
from mlentory.pipeline.entity_links import read_entities
from mlentory.pipeline.run_folder import RunFolder
from mlentory.sources.huggingface import properties as p
from mlentory.sources.huggingface.cards import ParsedCard
from mlentory.sources.huggingface.extraction import iter_models_with_cards
from mlentory.sources.huggingface.model_index import read_model_index


@dataclass
class Coverage:
    expected: Counter[str] = field(default_factory=Counter)
    present: Counter[str] = field(default_factory=Counter)
    missing: dict[str, list[str]] = field(default_factory=dict)

    def check(self, source_field: str, model_id: str, value: Any, ok: bool) -> None:
        self.expected[source_field] += 1
        if ok:
            self.present[source_field] += 1
        else:
            self.missing.setdefault(source_field, []).append(f"{model_id}: {value}")

    @property
    def ratio(self) -> float:
        total = sum(self.expected.values())
        return sum(self.present.values()) / total if total else 1.0

    def table(self) -> str:
        lines = [f"{'source field':<28} {'present':>8} / {'expected':<8} share"]
        for name in sorted(self.expected):
            share = self.present[name] / self.expected[name]
            lines.append(f"{name:<28} {self.present[name]:>8} / {self.expected[name]:<8} {share:.1%}")
        lines.append(f"{'all':<28} {sum(self.present.values()):>8} / {sum(self.expected.values()):<8} {self.ratio:.1%}")
        return "\n".join(lines)


def _licence_entities(record: dict[str, Any], licences: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [licences[i] for i in record.get("license", []) if i in licences]


def check_model(coverage: Coverage, model: dict[str, Any], card: ParsedCard | None, record: dict[str, Any] | None,
                licences: dict[str, dict[str, Any]]) -> None:
    """Count one model's source values with a FAIR4ML home, and those its record holds."""
    record = record or {}
    model_id = model["id"]
    data = p.card_data(model, card)

    def has(term: str, value: Any) -> bool:
        held = record.get(term)
        return value in held if isinstance(held, list) else held == value

    coverage.check("id", model_id, model_id, record.get("identifier") == model_id)
    for name, term in (("sha", "version"), ("last_modified", "dateModified"), ("created_at", "dateCreated"),
                       ("downloads", "downloads"), ("likes", "likes"), ("used_storage", "storageRequirements")):
        if model.get(name) not in (None, ""):
            coverage.check(name, model_id, model[name], record.get(term) not in (None, ""))
    if isinstance(model.get("author"), str):
        coverage.check("author", model_id, model["author"], has("sharedBy", iris.hf_account_iri(model["author"])))
    if model.get("gated"):
        coverage.check("gated", model_id, model["gated"], bool(record.get("conditionsOfAccess")))
    for library in p.strings(model.get("library_name")):
        coverage.check("library_name", model_id, library, has("softwareRequirements", library))
    for task in p.strings(model.get("pipeline_tag")):
        coverage.check("pipeline_tag", model_id, task, has("mlTask", iris.task_iri(task)))
    for tag in p.tags(model):
        coverage.check("tags", model_id, tag, has("keywords", iris.keyword_iri(tag)))
    for category in p.strings((model.get("config") or {}).get("model_type") if isinstance(model.get("config"), dict) else None):
        coverage.check("config.model_type", model_id, category, has("modelCategory", category))
    for language in p.card_languages(data):
        info = identify_language(language)
        if info["found"]:  # a value that names no language has no FAIR4ML home
            coverage.check("card.language", model_id, language, has("inLanguage", iris.language_iri(info["alpha3"])))
    linked_licences = _licence_entities(record, licences)
    for licence in p.strings(data.get("license")):
        if licence.lower() not in ("other", "unknown"):
            coverage.check("card.license", model_id, licence, any(
                (lic.get("identifier") or "").lower() in (licence.lower(),) or lic["@id"].lower().endswith("/" + licence.lower())
                or licence.lower().replace(" ", "") in (lic.get("identifier") or "").lower() for lic in linked_licences))
    for name in p.strings(data.get("license_name")):
        coverage.check("card.license_name", model_id, name, any(name.lower() in {n.lower() for n in (lic.get("name"), lic.get("identifier"), *(lic.get("alternateName") or [])) if n}
                                                                for lic in linked_licences))
    for link in p.strings(data.get("license_link")):
        url = p.repo_file_url(model, link)
        coverage.check("card.license_link", model_id, link, any(lic.get("url") == url for lic in linked_licences))
    for dataset in p.strings(data.get("datasets")):
        if not p.is_placeholder(dataset):
            coverage.check("card.datasets", model_id, dataset, any(i.endswith("/" + dataset) for i in record.get("trainedOn", [])))
    for metric in p.strings(data.get("metrics")):
        coverage.check("card.metrics", model_id, metric, has("evaluationMetrics", metric))
    for base, _ in p.base_models(model, card):
        coverage.check("base_model", model_id, base, has("isBasedOn", iris.hf_model_iri(base)))
    index = read_model_index(data)
    results = [r for r in index.results if r.metrics or r.dataset_key]
    if results:
        evaluations = record.get("hasEvaluation", [])
        coverage.check("model-index results", model_id, len(results), len(evaluations) == len(results))
        coverage.check("model-index values", model_id, index.values, sum(len(e.get("evaluationMetrics", [])) for e in evaluations) == index.values)
    for doi in p.tag_values(model, "doi:"):
        coverage.check("doi tags", model_id, doi, has("sameAs", iris.doi_iri(normalize_doi(doi))))
    for arxiv_id in p.tag_values(model, "arxiv:"):
        if not p.is_template_paper(arxiv_id):  # the template's carbon paper has no home in the model's record
            coverage.check("arxiv tags", model_id, arxiv_id, has("referencePublication", iris.arxiv_iri(arxiv_id)))
    emissions = data.get("co2_eq_emissions")
    if isinstance(emissions, (int, float)) or isinstance(emissions, dict) and isinstance(emissions.get("emissions"), (int, float)):
        coverage.check("card.co2_eq_emissions", model_id, emissions, bool(record.get("hasCO2eEmissions")))
    if card is not None and card.body.strip():
        coverage.check("card text", model_id, "README.md", bool(record.get("description")))
        coverage.check("README.md", model_id, "README.md", bool(record.get("readme")))


def coverage_of_models(models: Iterable[tuple[dict[str, Any], ParsedCard | None]], records: dict[str, dict[str, Any]],
                       licences: dict[str, dict[str, Any]]) -> Coverage:
    coverage = Coverage()
    for model, card in models:
        check_model(coverage, model, card, records.get(iris.hf_model_iri(model["id"])), licences)
    return coverage


def coverage_of_run(run_folder: str | Path) -> Coverage:
    """Coverage of a transformed run folder: its raw models and cards against its FAIR4ML records."""
    run = RunFolder(Path(run_folder))
    records = {r["@id"]: r for path in sorted(run.stage_dir("transformation").glob("models/*.jsonld")) for r in read_jsonld(path)}
    licences = {r["@id"]: r for r in read_entities(run, "licenses")}
    return coverage_of_models(iter_models_with_cards(run), records, licences)
