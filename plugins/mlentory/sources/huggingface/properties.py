"""FAIR4ML properties of a Hub model, one pure function per property group.

Each group reads the raw record (``hub.raw_model_record``) and the parsed card, and returns a partial
record keyed by JSON-LD terms. Values that point at other resources are *mentions*
(``{"kind": "datasets", "key": "stanfordnlp/imdb"}``, with extra fields where the linker needs
them); entity linking turns them into IRIs. The identification tasks of the extraction stage find
the entities to enrich by running the same groups, so "where does a dataset come from" is answered
here and only here.

The rules a catalogue user can rely on (also in docs/pipeline.md):
- every tag is a keyword; languages come only from the card's ``language`` metadata and from tags the
  Hub marks as languages (``language:xx``);
- every licence is kept: SPDX and Hub licence ids, and the card's ``license_name``/``license_link``
  as a licence of its own, its link made absolute against the repository at the harvested revision;
- ``isBasedOn`` for every base model, and the relation the Hub states (``base_model:<relation>:<id>``
  tags, ``base_model_relation``) as ``fineTunedFrom``/``quantizedFrom``/``adapterOf``/``mergedFrom``:
  no relation stated, no finer claim;
- each ``model-index`` result is an embedded ``MLModelEvaluation`` with one ``PropertyValue`` per metric;
- template and placeholder text of the card never becomes a value (see ``cards``).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin

from mlentory import placeholders
from mlentory.fair4ml import iris
from mlentory.fair4ml.linking import SAME_MODELS
from mlentory.fair4ml.mentions import WARNINGS, Mention, Partial, mention, unique
from mlentory.fair4ml.metrics import metric_term_iri
from mlentory.fair4ml.papers import ARXIV_VERSION, DOI, arxiv_ids_in, arxiv_mention, doi_mention, dois_in, normalize_doi
from mlentory.numbers import as_float
from mlentory.placeholders import text_or_none
from mlentory.readme import README_SECTIONS, SHARED_HEADINGS
from mlentory.sources.huggingface import TASKS_FILE
from mlentory.sources.huggingface.cards import ParsedCard, first_code_block, prose, section_text, template_links
from mlentory.sources.huggingface.model_index import Result, problem_note, read_model_index

OPENML_DATASET_KEY = "openml:"  # a dataset mention keyed so is an OpenML dataset, not looked up on the Hub
# The Hub mints DOIs for repositories under its own prefix: such a DOI names the model, not a paper.
HUB_DOI_PREFIX = "10.57967/hf/"
CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org")
CODE_HOST_LINK = re.compile(r"https?://(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org)/([\w.-]+)/([\w.-]+)", re.IGNORECASE)
# A code link is the model's code where the card says so: a labelled line ("Repository: <link>",
# "- **Code:** <link>"), words that claim it ("our code", "the official implementation", "trained
# using"), or a repository of the model's own account or name. A coding model's card says "code"
# everywhere, so the word alone is not enough.
LABELLED_CODE_LINK = re.compile(r"^\W*(?:[-*+]\s*)?[*_]*(?:github|git repo|repository|repo|code|source code|codebase|code repository|implementation)"
                                r"(?:\s*\[optional\])?[*_]*\s*[:：]", re.IGNORECASE)
CLAIMED_CODE = re.compile(r"\b(?:our|official|this model'?s?)\s+(?:\w+\s+){0,2}?(?:code|codebase|repo|repository|github|implementation|training (?:code|scripts?))\b"
                          r"|\b(?:code|codebase|implementation|training scripts?)\s+(?:is|are|can be found|will be)\s+(?:publicly\s+)?(?:available|released|found|at|on|here)"
                          r"|\btrained (?:using|with)\b|\bgithub repo(?:sitory)?\b", re.IGNORECASE)
# "[GitHub](https://github.com/org/model)": a link named as code.
CODE_LINK_TEXT = re.compile(r"\[\s*(?:github|gitlab|code|source code|codebase|repo|repository|github repo(?:sitory)?)\s*\]\(\s*$", re.IGNORECASE)
# A note that names a library the model needs, not the model's code.
DEPENDENCY_NOTE = re.compile(r"\b(?:pip install|install(?:ed|ing)?|requires?|required|requirements?|dependenc(?:y|ies)|depends on|powered by"
                             r"|built (?:on top of|upon)|you (?:will )?need|make sure|compatible with|works with)\b", re.IGNORECASE)
# Tooling every card may link to (install from source, the library it runs on): not the model's code.
TOOLING_OWNERS = frozenset({"huggingface", "pytorch", "tensorflow", "keras-team", "ggerganov", "ggml-org", "vllm-project",
                            "oobabooga", "mlco2", "microsoft/deepspeed", "nvidia/apex", "dao-ailab", "unslothai"})
BIBTEX = re.compile(r"@(?:article|inproceedings|misc|book|incollection|techreport|phdthesis|software|online)\s*\{.*?\n\s*\}", re.DOTALL | re.IGNORECASE)
BIBTEX_FIELD = r"\b{}\s*=\s*[{{\"]\s*(.+?)\s*[}}\"]\s*,?\s*$"
LANGUAGE_TAG_PREFIX = "language:"

# How the Hub names the relation of a model to its base (``base_model:<relation>:<id>`` tags).
BASE_MODEL_RELATIONS: dict[str, str] = {
    "finetune": "fineTunedFrom",
    "quantized": "quantizedFrom",
    "adapter": "adapterOf",
    "merge": "mergedFrom",
}

# A heading that names the description itself wins over one that holds it among details ("Model Details").
MODEL_DESCRIPTION_SECTION = re.compile(r"^(?:model )?(?:description|summary|overview)$")
DESCRIPTION_SECTION = re.compile(r"^model (description|details|summary|overview|card)|^description$|^overview$|^introduction$|^about|^summary$")


@functools.cache
def hf_tasks() -> dict[str, tuple[str, str]]:
    return {k: tuple(v) for k, v in json.loads(TASKS_FILE.read_text())["tasks"].items()}


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v not in (None, "")]
    return [value]


def strings(value: Any) -> list[str]:
    """The text values of a metadata field, one or many; placeholders ("None", "N/A", "-") are none."""
    return [text for v in _as_list(value) if (text := text_or_none(v)) is not None]


def is_placeholder(value: Any) -> bool:
    """A placeholder (``placeholders``), or "other": a dataset, language or base model named "other"
    names none (a licence "other" is the Hub's licence id, read in ``licenses``)."""
    return placeholders.is_placeholder(value) or str(value).strip().lower() == "other"


def card_data(model: dict[str, Any], card: ParsedCard | None) -> dict[str, Any]:
    """The API's cardData, completed by the card's own front matter (which the API may trim) and by
    the ``model-index`` the API also returns on its own."""
    # A cardData that is no mapping fails the record here (it is listed with the reason), not silently.
    data = {**(card.metadata if card else {}), **(model.get("card_data") or {})}
    if not (data.get("model-index") or data.get("model_index")) and model.get("model_index"):
        data["model-index"] = model["model_index"]
    return data


def tags(model: dict[str, Any]) -> list[str]:
    return [t for t in model.get("tags") or [] if isinstance(t, str) and t.strip()]


def tag_values(model: dict[str, Any], prefix: str) -> list[str]:
    return [tag[len(prefix):] for tag in tags(model) if tag.startswith(prefix)]


def repo_file_url(model: dict[str, Any], link: str) -> str:
    """A link as written in the card, absolute: relative ones point into the repository at its revision."""
    return urljoin(f"{iris.hf_model_iri(model['id'])}/blob/{model.get('sha') or 'main'}/", link.strip())


# -- groups -------------------------------------------------------------------------------------

ACCESS_CONDITIONS = {
    "auto": "gated (auto): free after accepting the conditions on the model page while logged in; access is granted at once",
    "manual": "gated (manual): free after accepting the conditions on the model page; the authors approve each request",
}


def basic(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    model_id = model["id"]
    sha = model.get("sha")
    gated = model.get("gated")
    has_readme = card is not None or "README.md" in (model.get("siblings") or [])
    data = card_data(model, card)
    library = model.get("library_name") or data.get("library_name")
    model_dois = tag_values(model, "doi:") + [d for d in strings(data.get("doi")) if DOI.search(d)]
    if card is not None:
        model_dois += [d for d in dois_in(card.body) if normalize_doi(d).startswith(HUB_DOI_PREFIX)]
    return {
        "name": model_id,
        "url": iris.hf_model_iri(model_id),
        "version": sha,
        "dateCreated": model.get("created_at"),
        "dateModified": model.get("last_modified"),
        "readme": f"{iris.hf_model_iri(model_id)}/blob/{sha or 'main'}/README.md" if has_readme else None,
        "archivedAt": f"{iris.hf_model_iri(model_id)}/tree/{sha}" if sha else None,
        "sameAs": unique(iris.doi_iri(normalize_doi(d)) for d in model_dois),
        # The zoo's page of the same model, where the card links to one: one model, two nodes, linked.
        "sameModel": [mention(SAME_MODELS, page) for page in (iris.bioimageio_pages_in(card.body) if card else [])],
        # A gated model is still free: the Hub grants access after a click-through (auto) or the
        # authors' approval (manual); conditionsOfAccess says which.
        "isAccessibleForFree": (not model["private"]) if isinstance(model.get("private"), bool) else True,
        "conditionsOfAccess": ACCESS_CONDITIONS.get(str(gated), f"gated ({gated})") if gated else None,
        "softwareRequirements": strings(library),
        "storageRequirements": (f"{model['used_storage']} bytes: storage used by the model repository on the Hub (all files, as the Hub reports it)"
                                if model.get("used_storage") else None),
        "downloads": model.get("downloads"),
        "likes": model.get("likes"),
    }


def keywords_languages(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    """Every tag is a keyword (the Hub shows them all); a language is only what the card's
    ``language`` metadata or a ``language:`` tag states: short tags such as ``vit`` or ``mlx`` are
    architectures and libraries, not ISO 639 codes."""
    data = card_data(model, card)
    keywords = tags(model) + strings(data.get("tags"))
    languages = card_languages(data) + tag_values(model, LANGUAGE_TAG_PREFIX)
    return {
        "keywords": [mention("keywords", k) for k in unique(keywords)],
        "inLanguage": [mention("languages", lang) for lang in unique(languages) if not is_placeholder(lang)],
    }


def card_languages(data: dict[str, Any]) -> list[str]:
    """The card's ``language`` values; YAML 1.1 reads Norwegian (``no``) as false."""
    return [("no" if value is False else str(value).strip()) for value in _as_list(data.get("language"))
            if isinstance(value, (str, bool)) and (value is False or str(value).strip())]


def task_category(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    data = card_data(model, card)
    tasks = hf_tasks()
    found = strings(model.get("pipeline_tag")) + strings(data.get("pipeline_tag"))
    found += [t for t in tags(model) if t in tasks]
    config = model.get("config") if isinstance(model.get("config"), dict) else {}
    categories = strings(config.get("model_type")) + strings(config.get("architectures"))
    return {
        "mlTask": [mention("tasks", t) for t in unique(found)],
        "modelCategory": unique(categories),
    }


def licenses(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    """Every licence the card and the tags state, each its own mention.

    A licence id (SPDX or the Hub's list) links to the shared licence resource. The card's
    ``license_name``/``license_link`` describe the licence text of this model: they become a licence of
    their own (named, with an absolute link), beside the id; ``other``/``unknown`` say nothing more.
    """
    data = card_data(model, card)
    # "other" and "unknown" are licence ids of the Hub's list (what the card chose), not placeholders here.
    written = [str(v).strip().lower() for v in _as_list(data.get("license")) if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
    ids = [s for s in written if s in ("other", "unknown") or not placeholders.is_placeholder(s)] + [s.lower() for s in tag_values(model, "license:")]
    names, links = strings(data.get("license_name")), strings(data.get("license_link"))
    standard = [key for key in unique(ids) if key not in ("other", "unknown")]
    found = [mention("licenses", key) for key in standard]
    for index in range(max(len(names), len(links))):
        name = names[index] if index < len(names) else None
        link = repo_file_url(model, links[index]) if index < len(links) else None
        if link or (name and name.lower() not in ids):
            # A link beside one licence id is that licence's text: the linker names it after the id.
            found.append(mention("licenses", link or f"name:{name}", name=name, url=link, text_of=standard[0] if len(standard) == 1 and not name else None))
    if not found and ids:
        found = [mention("licenses", ids[0])]  # only "other"/"unknown": still what the card says
    return {"license": unique(found)}


def datasets(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    """``datasets`` in the card metadata are, by the Hub's definition, the training data; the
    datasets of ``model-index`` results are evaluation data; ``metrics`` names the metrics used."""
    data = card_data(model, card)
    trained = strings(data.get("datasets")) + tag_values(model, "dataset:")
    results = read_model_index(data).results
    evaluated = [key for result in results if (key := result.dataset_key)]
    metric_names = strings(data.get("metrics"))
    metric_names += [str(m.get("type") or m.get("name")) for r in results for m in r.metrics if m.get("type") or m.get("name")]
    return {
        "trainedOn": [dataset_mention(d) for d in unique(trained) if not is_placeholder(d)],
        "evaluatedOn": [dataset_mention(d) for d in unique(evaluated)],
        "evaluationMetrics": unique(metric_names),
    }


def dataset_mention(reference: str) -> Mention:
    """A Hub dataset id, or an OpenML dataset (its page or ``openml:<id>``): the OpenML dataset's own
    IRI, the node the OpenML source describes."""
    openml_id = iris.openml_dataset_id(reference)
    return mention("datasets", f"{OPENML_DATASET_KEY}{openml_id}" if openml_id else reference)


def _number(value: Any) -> tuple[float | int | str, str | None]:
    """A metric value as a number where it is one ("91.2", "91.2%" -> 91.2), else as given; and why
    a value that looks like a number is kept as text (one a float cannot hold: ``1e-400`` is not 0.0)."""
    if isinstance(value, bool):
        return str(value), None
    if isinstance(value, int):
        return value, None
    if isinstance(value, float):
        return (value, None) if math.isfinite(value) else (str(value), "not a finite number")
    text = str(value).strip()
    number, problem = as_float(text.rstrip("%"))
    if number is not None:
        return number, None
    return text, None if problem == "not a number" else problem


def evaluation_name(result: Result) -> str:
    """"Text Classification on GLUE MRPC (mrpc, validation)": the task, the dataset as the card names
    it, its config and split; what tells the card's results apart."""
    label = result.task.get("name") or result.task.get("type") or "evaluation"
    where = result.dataset.get("name") or result.dataset.get("type")
    detail = ", ".join(result.dataset[k] for k in ("config", "split") if result.dataset.get(k))
    return f"{label} on {where}" + (f" ({detail})" if detail else "") if where else label


def evaluations(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    """Each ``model-index`` result, as written, -> an embedded ``MLModelEvaluation`` with its metrics
    as ``PropertyValue`` records, linked to the dataset (config, split, revision kept) and the task.
    Its IRI covers all that tells the result from the card's others (``Result.identity``): two
    results on one dataset type under two names, or two tasks with no dataset, are two evaluations."""
    model_iri = iris.hf_model_iri(model["id"])
    index = read_model_index(card_data(model, card))
    records, notes, seen = [], [], Counter()
    for result in index.results:
        dataset_id = result.dataset_key
        if not result.metrics and not dataset_id:
            continue
        identity = json.dumps(result.identity(), sort_keys=True, default=str)
        seen[identity] += 1  # the same result written twice is two results still, each its own node
        evaluation_iri = iris.evaluation_iri(model_iri, identity if seen[identity] == 1 else f"{identity}#{seen[identity]}")
        metrics, summary = [], []
        for position, metric in enumerate(result.metrics):
            value, problem = _number(metric["value"])
            if problem:
                notes.append({"what": "evaluation value", "reason": f"{str(metric.get('type') or metric.get('name'))[:80]} on "
                                                                   f"{dataset_id}: {str(value)[:40]!r} is {problem}; kept as text"})
            label = str(metric.get("name") or metric.get("type") or "metric")
            metrics.append({
                "@id": iris.evaluation_metric_iri(evaluation_iri, position),
                "name": label,
                "propertyID": str(metric["type"]) if metric.get("type") else None,
                "value": value,
                "verified": metric.get("verified") if isinstance(metric.get("verified"), bool) else None,
                "metric": metric_term_iri(metric.get("type"), metric.get("name")),
            })
            summary.append(f"{label}: {value}")
        source_url = result.source.get("url")
        records.append({
            "@id": evaluation_iri,
            "name": evaluation_name(result),
            "description": f"reported by {result.source.get('name') or source_url}" if result.source else None,
            "url": source_url if source_url and source_url.startswith(("https://", "http://")) else None,
            "evaluatedMLModel": model_iri,
            "evaluationDataset": [mention("datasets", dataset_id)] if dataset_id else [],
            "datasetConfig": result.dataset.get("config"),
            "datasetSplit": result.dataset.get("split"),
            "datasetRevision": result.dataset.get("revision"),
            "mlTask": [mention("tasks", result.task["type"])] if result.task.get("type") else [],
            "evaluationMetrics": metrics,
            "evaluationResults": "; ".join(summary) or None,
        })
    partial: Partial = {"hasEvaluation": records}
    if (note := problem_note(index, len(records))) is not None:
        notes.append({"what": "model-index", "reason": note})
    if notes:
        partial[WARNINGS] = notes
    return partial


def base_models(model: dict[str, Any], card: ParsedCard | None = None) -> list[tuple[str, str | None]]:
    """(base model id, relation) pairs. The Hub's ``base_model:`` tags are its own reading of the card
    (ids resolved, relation stated), so they win; the card's ``base_model`` counts when there are none."""
    found: dict[str, str | None] = {}
    for value in tag_values(model, "base_model:"):
        relation, _, base = value.partition(":") if ":" in value else (None, "", value)
        if base:
            found[base] = relation or found.get(base)
    if not found:
        data = card_data(model, card)
        relation = data.get("base_model_relation") if isinstance(data.get("base_model_relation"), str) else None
        found = {base: relation for base in strings(data.get("base_model")) if not is_placeholder(base)}
    return [(base, rel) for base, rel in found.items() if base and base != model["id"]]


def lineage(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    """``isBasedOn`` for every base; the finer relation only where the Hub states one."""
    partial: Partial = {"isBasedOn": [], **{term: [] for term in BASE_MODEL_RELATIONS.values()}}
    for base, relation in base_models(model, card):
        partial["isBasedOn"].append(mention("models", base))
        if relation in BASE_MODEL_RELATIONS:
            partial[BASE_MODEL_RELATIONS[relation]].append(mention("models", base))
    return partial


def _lines_outside_code(body: str) -> Iterator[str]:
    in_fence = False
    for line in body.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        elif not in_fence:
            yield line


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _names_the_model(repo: str, model_name: str) -> bool:
    """``CogVideo`` for ``CogVideoX-5b``, ``UNI`` for ``UNI``: the repository is named after the model."""
    repo, model_name = _alnum(repo), _alnum(model_name)
    return repo == model_name or (len(repo) >= 4 and repo in model_name) or (len(model_name) >= 4 and model_name in repo)


def _related_owner(owner: str, author: str) -> bool:
    """``MahmoodLab`` for ``mahmoodlab``, ``lab-team`` for ``lab``: the code host account is the model's author's."""
    owner = _alnum(owner)
    return owner == author or (min(len(owner), len(author)) >= 3 and (author in owner or owner in author))


def _code_repositories(model: dict[str, Any], card: ParsedCard) -> list[str]:
    """Links to code hosts that the card presents as the model's code: a labelled line, words that
    claim it (see ``LABELLED_CODE_LINK``), or a repository of the model's name under its author's
    account. Not the model's code: links in code blocks (install
    commands), to tooling, from the template; a repository of another account that an install or
    dependency note names, or that a "[code]" link beside a technique points to; the code of a
    base model of the same name under another account."""
    lowered = card.body.lower()
    if not any(host in lowered for host in CODE_HOSTS):
        return []  # most cards link no code host: the line-by-line reading below is the costly part
    author, _, name = model["id"].rpartition("/")
    author = _alnum(str(model.get("author") or author))

    found = []
    for line in _lines_outside_code(card.body):
        if "://" not in line:
            continue
        for match in CODE_HOST_LINK.finditer(line):
            if any(link.startswith(match.group(0)) for link in template_links()):
                continue
            owner, repo = match.group(1), match.group(2).removesuffix(".git").rstrip(".")
            related = _related_owner(owner, author)
            if (owner.lower() in TOOLING_OWNERS or f"{owner}/{repo}".lower() in TOOLING_OWNERS) and not related:
                continue
            named = related and _names_the_model(repo, name)
            before = CODE_HOST_LINK.sub(" ", line[: match.start()])
            if not (named or related) and DEPENDENCY_NOTE.search(before):
                continue  # "install [flash-attention](...) first": a library the model needs
            claimed = (LABELLED_CODE_LINK.match(line) or CLAIMED_CODE.search(before) or CLAIMED_CODE.search(CODE_HOST_LINK.sub(" ", line))
                       or (CODE_LINK_TEXT.search(line[: match.start()]) and (related or _names_the_model(repo, name))))
            if named or claimed:
                host = match.group(0).split("://", 1)[1].split("/", 1)[0].removeprefix("www.")
                found.append(f"https://{host}/{owner}/{repo}")
    unique: dict[str, str] = {}
    for url in found:  # github.com/MahmoodLab/UNI and .../mahmoodlab/uni are one repository
        unique.setdefault(url.lower(), url)
    return list(unique.values())[:5]


def card_sections(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    if card is None:
        return {}
    data = card_data(model, card)
    partial: Partial = {term: section_text(card, pattern, avoid=SHARED_HEADINGS.get(term)) for term, pattern in README_SECTIONS.items()}
    partial["description"] = (prose(section_text(card, MODEL_DESCRIPTION_SECTION, max_chars=4_000), min_letters=3)
                              or prose(section_text(card, DESCRIPTION_SECTION, max_chars=4_000), min_letters=3) or prose(card.body))
    partial["codeSampleSnippet"] = first_code_block(partial.get("usageInstructions"))
    partial["codeRepository"] = _code_repositories(model, card)
    partial["hasCO2eEmissions"] = co2_emissions(data.get("co2_eq_emissions"))
    return partial


# The details the Hub's card metadata may give beside ``co2_eq_emissions.emissions`` (in grams).
CO2_DETAILS = (("training_type", "training"), ("source", "source"), ("geographical_location", "location"), ("hardware_used", "hardware"))


def co2_emissions(emissions: Any) -> str | None:
    """``co2_eq_emissions`` as text with its unit and what the card says of how it was measured."""
    if isinstance(emissions, (int, float)) and not isinstance(emissions, bool):
        return f"{emissions} g CO2e"
    if not isinstance(emissions, dict) or isinstance(emissions.get("emissions"), bool) or not isinstance(emissions.get("emissions"), (int, float)):
        return None
    details = "; ".join(f"{label}: {emissions[key]}" for key, label in CO2_DETAILS if emissions.get(key) not in (None, ""))
    return f"{emissions['emissions']} g CO2e" + (f" ({details})" if details else "")


@functools.cache
def _template_papers() -> frozenset[str]:
    return frozenset(arxiv_id for link in template_links() for arxiv_id in arxiv_ids_in(link))


def is_template_paper(arxiv_id: str) -> bool:
    return ARXIV_VERSION.sub("", arxiv_id) in _template_papers()


def _bibtex_field(entry: str, name: str) -> str | None:
    match = re.search(BIBTEX_FIELD.format(name), entry, re.IGNORECASE | re.MULTILINE)
    return " ".join(match.group(1).replace("{", "").replace("}", "").split()) if match else None


def _article_mention_for_doi(doi: str, title: str | None = None) -> Mention | None:
    if normalize_doi(doi).startswith(HUB_DOI_PREFIX):
        return None  # the model's own DOI (basic: sameAs)
    return doi_mention(doi, title)


def citations(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    """Papers: arXiv ids (tags, links, BibTeX ``eprint``) and DOIs (links, text, BibTeX ``doi``).

    The Hub tags every card that keeps the template's carbon-emissions sentence (often reworded) with
    that paper's arXiv id: a paper the template carries is never the model's reference.
    """
    arxiv_ids = tag_values(model, "arxiv:")
    if card is not None:
        arxiv_ids += arxiv_ids_in(card.body)
    found = [m for a in arxiv_ids if not is_template_paper(a) and (m := arxiv_mention(a))]
    bibtex = [m.group(0).strip() for m in BIBTEX.finditer(card.body)] if card is not None else []
    for entry in bibtex:
        eprint = _bibtex_field(entry, "eprint")
        if eprint and (m := arxiv_mention(eprint)):
            found.append(m)
        doi = _bibtex_field(entry, "doi")
        if doi and DOI.search(doi) and (m := _article_mention_for_doi(DOI.search(doi).group(1), _bibtex_field(entry, "title"))):
            found.append(m)
    if card is not None:
        found += [m for doi in dois_in(card.body) if (m := _article_mention_for_doi(doi))]
    # One mention per paper: a DOI found with its BibTeX title wins over the same DOI found bare.
    by_key: dict[tuple[str, str], Mention] = {}
    for item in found:
        key = (item["kind"], item["key"])
        by_key[key] = item if key not in by_key or len(item) > len(by_key[key]) else by_key[key]
    return {"referencePublication": list(by_key.values()), "citation": unique(bibtex)}


def sharing(model: dict[str, Any], card: ParsedCard | None) -> Partial:
    author = model.get("author") if isinstance(model.get("author"), str) else None
    author = author or (model["id"].split("/")[0] if "/" in model["id"] else None)
    return {"sharedBy": [mention("organisations", author)] if author else []}


PROPERTY_GROUPS: dict[str, Callable[[dict[str, Any], ParsedCard | None], Partial]] = {
    "basic": basic,
    "keywords_languages": keywords_languages,
    "task_category": task_category,
    "licenses": licenses,
    "datasets": datasets,
    "evaluations": evaluations,
    "lineage": lineage,
    "card_sections": card_sections,
    "citations": citations,
    "sharing": sharing,
}

# Which group mentions which kind of entity: identification runs only the groups it needs.
GROUPS_MENTIONING: dict[str, tuple[str, ...]] = {
    "datasets": ("datasets", "evaluations"),
    "articles": ("citations",),
    "keywords": ("keywords_languages",),
    "languages": ("keywords_languages",),
    "licenses": ("licenses",),
    "tasks": ("task_category", "evaluations"),
    "organisations": ("sharing",),
}

