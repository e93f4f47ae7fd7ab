"""FAIR4ML properties of a Hub model, one pure function per property group.

Each group reads the raw record (``hub.raw_model_record``) and the parsed card, and returns a partial
record keyed by JSON-LD terms. Values that point at other resources are *mentions*
(``{"kind": "datasets", "key": "stanfordnlp/imdb"}``); entity linking turns them into IRIs. The
identification tasks of the extraction stage find the entities to enrich by running the same groups,
so "where does a dataset come from" is answered here and only here.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from mlentory.fair4ml.iris import hf_model_iri
from mlentory.huggingface.cards import ParsedCard, first_code_block, section_text
from mlentory.settings import HF_TASKS_FILE

Partial = dict[str, Any]
Mention = dict[str, str]

# Tags the Hub adds for its own infrastructure; they say nothing about the model.
INFRASTRUCTURE_TAGS = frozenset({
    "endpoints_compatible", "autotrain_compatible", "text-generation-inference", "has_space",
    "inference_endpoints", "deploy:azure", "model-index", "custom_code", "region:us", "region:eu",
    "safetensors", "pytorch", "tf", "jax", "rust", "onnx", "gguf", "coreml", "tflite",
})
PREFIXED_TAG = re.compile(r"^[a-z_]+:")
ARXIV_IN_TEXT = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", re.IGNORECASE)
ARXIV_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?$", re.IGNORECASE)
CODE_REPOSITORY = re.compile(r"https?://(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org)/[\w.-]+/[\w.-]+", re.IGNORECASE)
BIBTEX = re.compile(r"@(?:article|inproceedings|misc|book|incollection|techreport|phdthesis|software|online)\s*\{.*?\n\s*\}", re.DOTALL | re.IGNORECASE)
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")

CARD_SECTIONS: dict[str, tuple[str, ...]] = {
    "intendedUse": ("intended uses & limitations", "intended use", "intended uses", "uses", "direct use", "use cases", "intended use cases"),
    "modelRisksBiasLimitations": ("bias, risks, and limitations", "bias, risks and limitations", "limitations", "limitations and bias",
                                  "risks and limitations", "bias and limitations", "risks", "bias"),
    "usageInstructions": ("how to use", "usage", "how to get started with the model", "getting started", "quick start", "quickstart", "use"),
    "ethicalSocial": ("ethical considerations", "ethics", "ethical considerations and limitations", "ethics and safety", "societal impact"),
    "legal": ("legal", "terms of use", "licensing"),
}
DESCRIPTION_SECTIONS = ("model description", "model details", "model summary", "description", "overview")


def mention(kind: str, key: str) -> Mention:
    return {"kind": kind, "key": key}


@functools.cache
def hf_tasks() -> dict[str, tuple[str, str]]:
    return {k: tuple(v) for k, v in json.loads(HF_TASKS_FILE.read_text())["tasks"].items()}


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v not in (None, "")]
    return [value]


def _unique(values: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def _card_data(model: dict[str, Any], card: ParsedCard | None) -> dict[str, Any]:
    """The API's cardData, completed by the card's own front matter (which the API may trim)."""
    return {**(card.metadata if card else {}), **(model.get("card_data") or {})}


def _tag_values(model: dict[str, Any], prefix: str) -> list[str]:
    return [tag[len(prefix):] for tag in model.get("tags") or [] if isinstance(tag, str) and tag.startswith(prefix)]


# -- groups -------------------------------------------------------------------------------------

def basic(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    model_id = model["id"]
    sha = model.get("sha")
    gated = model.get("gated")
    has_readme = card is not None or "README.md" in (model.get("siblings") or [])
    library = model.get("library_name") or _card_data(model, card).get("library_name")
    return {
        "identifier": model_id,
        "name": model_id,
        "url": hf_model_iri(model_id),
        "source": "huggingface",
        "sourceSha": sha,
        "version": sha,
        "dateCreated": model.get("created_at"),
        "dateModified": model.get("last_modified"),
        "readme": f"{hf_model_iri(model_id)}/blob/{sha or 'main'}/README.md" if has_readme else None,
        "archivedAt": f"{hf_model_iri(model_id)}/tree/{sha}" if sha else None,
        "isAccessibleForFree": not gated if gated is not None else None,
        "conditionsOfAccess": f"gated ({gated}): accept the conditions on the model page" if gated else None,
        "softwareRequirements": _as_list(library),
        "storageRequirements": f"{model['used_storage']} bytes" if model.get("used_storage") else None,
        "downloads": model.get("downloads"),
        "likes": model.get("likes"),
    }


def keywords_languages(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    data = _card_data(model, card)
    tasks = hf_tasks()
    languages = [str(v) for v in _as_list(data.get("language"))]
    tags = [t for t in model.get("tags") or [] if isinstance(t, str)]
    plain = [t for t in tags + [str(t) for t in _as_list(data.get("tags"))] if not PREFIXED_TAG.match(t)]
    keywords = [
        t for t in plain
        if t not in INFRASTRUCTURE_TAGS and t not in tasks and t not in languages
        and t != model.get("library_name") and not (LANGUAGE_TAG.match(t) and len(t) <= 3)
    ]
    # Tags of 2-3 letters that are not keywords are language codes the Hub copied from the card.
    languages += [t for t in plain if LANGUAGE_TAG.match(t) and len(t) <= 3 and t not in INFRASTRUCTURE_TAGS]
    return {
        "keywords": [mention("keywords", k) for k in _unique(keywords)],
        "inLanguage": [mention("languages", lang) for lang in _unique(languages)],
    }


def task_category(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    data = _card_data(model, card)
    tasks = hf_tasks()
    found = _as_list(model.get("pipeline_tag")) + _as_list(data.get("pipeline_tag"))
    found += [t for t in model.get("tags") or [] if t in tasks]
    config = model.get("config") or {}
    categories = _as_list(config.get("model_type")) + _as_list(config.get("architectures"))
    return {
        "mlTask": [mention("tasks", t) for t in _unique(found)],
        "modelCategory": _unique(str(c) for c in categories),
    }


def licenses(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    data = _card_data(model, card)
    keys = [str(v) for v in _as_list(data.get("license"))] + _tag_values(model, "license:")
    resolved = []
    for key in _unique(k.strip().lower() for k in keys):
        if key == "other" and data.get("license_name"):
            # "other" names no license; the card's license_name does.
            resolved.append(mention("licenses", f"other:{data['license_name']}|{data.get('license_link') or ''}"))
        else:
            resolved.append(mention("licenses", key))
    return {"license": resolved}


def datasets(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    """``datasets`` in the card metadata are, by the Hub's definition, the training data; the
    datasets of ``model-index`` results are evaluation data."""
    data = _card_data(model, card)
    trained = [str(d) for d in _as_list(data.get("datasets"))] + _tag_values(model, "dataset:")
    evaluated, metrics = [], []
    for entry in _as_list(data.get("model-index") or data.get("model_index")):
        for result in _as_list(entry.get("results") if isinstance(entry, dict) else None):
            dataset = result.get("dataset") or {}
            key = dataset.get("type") or dataset.get("name")
            if key:
                evaluated.append(str(key))
            for metric in _as_list(result.get("metrics")):
                if isinstance(metric, dict) and metric.get("value") is not None:
                    label = metric.get("name") or metric.get("type")
                    split = f" ({dataset.get('split')})" if dataset.get("split") else ""
                    metrics.append(f"{label} on {dataset.get('name') or key}{split}: {metric['value']}")
    return {
        "trainedOn": [mention("datasets", d) for d in _unique(trained)],
        "evaluatedOn": [mention("datasets", d) for d in _unique(evaluated)],
        "evaluationMetrics": _unique(metrics),
    }


def base_models(model: dict[str, Any], card: ParsedCard | None = None) -> list[tuple[str, str | None]]:
    """(base model id, relation) pairs, from the card's ``base_model`` and the Hub's ``base_model:`` tags."""
    data = _card_data(model, card)
    relation = data.get("base_model_relation")
    found: dict[str, str | None] = {str(b): relation for b in _as_list(data.get("base_model")) if isinstance(b, str)}
    for value in _tag_values(model, "base_model:"):
        parts = value.split(":", 1)
        if len(parts) == 2:
            found[parts[1]] = parts[0]
        else:
            found.setdefault(parts[0], None)
    return [(base, rel) for base, rel in found.items() if base and base != model["id"]]


def lineage(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    pairs = base_models(model, card)
    # No relation stated: the Hub's default reading of base_model is a fine-tune.
    tuned = [base for base, rel in pairs if rel in (None, "finetune")]
    return {
        "isBasedOn": [mention("models", base) for base, _ in pairs],
        "fineTunedFrom": [mention("models", base) for base in tuned],
    }


def card_sections(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    if card is None:
        return {}
    data = _card_data(model, card)
    partial: Partial = {term: section_text(card, titles) for term, titles in CARD_SECTIONS.items()}
    partial["description"] = section_text(card, DESCRIPTION_SECTIONS, max_chars=2_000) or (card.lead[:2_000] or None)
    partial["codeSampleSnippet"] = first_code_block(partial.get("usageInstructions"))
    partial["codeRepository"] = _unique(m.group(0).rstrip(".") for m in CODE_REPOSITORY.finditer(card.body))[:5]
    emissions = data.get("co2_eq_emissions")
    if isinstance(emissions, dict) and emissions.get("emissions") is not None:
        partial["hasCO2eEmissions"] = f"{emissions['emissions']} g CO2e"
    elif isinstance(emissions, (int, float)):
        partial["hasCO2eEmissions"] = f"{emissions} g CO2e"
    return partial


def citations(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    arxiv_ids = _tag_values(model, "arxiv:")
    if card is not None:
        arxiv_ids += [m.group(1) for m in ARXIV_IN_TEXT.finditer(card.body)]
    arxiv_ids = [re.sub(r"v\d+$", "", a) for a in arxiv_ids if ARXIV_ID.match(a)]
    bibtex = [m.group(0).strip() for m in BIBTEX.finditer(card.body)] if card is not None else []
    return {
        "referencePublication": [mention("articles", a) for a in _unique(arxiv_ids)],
        "citation": _unique(bibtex),
    }


def sharing(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    author = model.get("author") or (model["id"].split("/")[0] if "/" in model["id"] else None)
    return {"sharedBy": [mention("organisations", author)] if author else []}


PROPERTY_GROUPS: dict[str, Callable[[dict[str, Any], ParsedCard | None], Partial]] = {
    "basic": basic,
    "keywords_languages": keywords_languages,
    "task_category": task_category,
    "licenses": licenses,
    "datasets": datasets,
    "lineage": lineage,
    "card_sections": card_sections,
    "citations": citations,
    "sharing": sharing,
}

# Which group mentions which kind of entity: identification runs only the groups it needs.
GROUPS_MENTIONING: dict[str, tuple[str, ...]] = {
    "datasets": ("datasets",),
    "articles": ("citations",),
    "keywords": ("keywords_languages",),
    "languages": ("keywords_languages",),
    "licenses": ("licenses",),
    "tasks": ("task_category",),
    "organisations": ("sharing",),
}


def mentions_in(partial: Partial, kind: str) -> list[str]:
    keys = []
    for value in partial.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and item.get("kind") == kind:
                keys.append(item["key"])
    return keys
