"""Deterministic IRIs: the same model, dataset or article gets the same IRI in every run and source.

Where the thing has a canonical web identity (a Hub page, an arXiv abstract, an SPDX license page)
that IRI is used, so that records from other sources that cite the same thing link to the same node.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, unquote

from mlentory.settings import MLENTORY_IRI_BASE

HF_BASE = "https://huggingface.co/"
OPENML_BASE = "https://www.openml.org/"
# Term sets: the vocabularies that tasks and keywords belong to.
HF_TASKS_SET = f"{HF_BASE}tasks"
KEYWORDS_SET = f"{MLENTORY_IRI_BASE}keyword/"
OPENML_TASK_TYPES_SET = f"{OPENML_BASE}search?type=task_type"
METRICS_SET = f"{MLENTORY_IRI_BASE}metric/"  # MLentory's metric vocabulary (include/schemas/metrics.json)

_ARXIV_VERSION = re.compile(r"v\d+$")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    return _NON_SLUG.sub("-", text.strip().lower()).strip("-")


def hf_model_iri(model_id: str) -> str:
    return HF_BASE + quote(model_id, safe="/")


def hf_dataset_iri(dataset_id: str) -> str:
    return f"{HF_BASE}datasets/{quote(dataset_id, safe='/')}"


def hf_account_iri(account: str) -> str:
    """Users and organisations share one namespace on the Hub (``/{name}``)."""
    return HF_BASE + quote(account, safe="")


def arxiv_iri(arxiv_id: str) -> str:
    """The versionless abstract page: every version of a paper is one publication."""
    return "https://arxiv.org/abs/" + _ARXIV_VERSION.sub("", arxiv_id.strip())


def doi_iri(doi: str) -> str:
    return "https://doi.org/" + doi.strip().lower()


def spdx_license_iri(spdx_id: str) -> str:
    return f"https://spdx.org/licenses/{spdx_id}"


def license_iri(name: str) -> str:
    """A license that is not in the SPDX list and has no link of its own (``llama3``, a card's ``license_name``)."""
    return f"{MLENTORY_IRI_BASE}license/{slug(name)}"


def evaluation_iri(model_iri: str, result_key: str) -> str:
    """One evaluation (a model-index result) of a model: the same result gets the same IRI in every run."""
    digest = hashlib.sha256(f"{model_iri}\n{result_key}".encode()).hexdigest()[:20]
    return f"{MLENTORY_IRI_BASE}evaluation/{digest}"


def evaluation_metric_iri(evaluation: str, position: int) -> str:
    return f"{evaluation}/metric/{position}"


def licence_finding_iri(model_iri: str, base_iri: str, rule: str, base_licence: str | None) -> str:
    """A licence finding: the same model, base, rule and base licence give the same IRI in every run."""
    digest = hashlib.sha256("\n".join((model_iri, base_iri, rule, base_licence or "")).encode()).hexdigest()[:20]
    return f"{MLENTORY_IRI_BASE}licence-finding/{digest}"


def language_iri(iso639_3: str) -> str:
    return f"http://lexvo.org/id/iso639-3/{iso639_3}"


def task_iri(task: str) -> str:
    return f"{MLENTORY_IRI_BASE}task/{slug(task)}"


def metric_iri(term: str) -> str:
    """A term of the metric vocabulary (``accuracy``, ``f1-macro``)."""
    return f"{METRICS_SET}{term}"


def keyword_iri(keyword: str) -> str:
    return f"{MLENTORY_IRI_BASE}keyword/{slug(keyword)}"


# OpenML: its pages are the web identity of its flows (models), datasets, tasks, runs and users.
def openml_flow_iri(flow_id: str | int) -> str:
    return f"{OPENML_BASE}f/{int(flow_id)}"


def openml_dataset_iri(dataset_id: str | int) -> str:
    return f"{OPENML_BASE}d/{int(dataset_id)}"


# How other sources point at an OpenML dataset: its page (``openml.org/d/61``, the older
# ``openml.org/search?type=data&id=61`` and ``api/v1/data/61``) or ``openml:61`` / ``openml:data/61``.
_OPENML_DATASET_REFERENCE = re.compile(
    r"^(?:https?://(?:www\.|api\.)?openml\.org/(?:d/|search\?(?:.*&)?type=data&(?:.*&)?id=|api/v1/(?:xml/|json/)?data/)"
    r"|openml:(?:data/)?)(\d+)(?:[/?#&].*)?$", re.IGNORECASE)


def openml_dataset_id(reference: str) -> str | None:
    """The OpenML dataset id a reference written in another source names, if it names one."""
    match = _OPENML_DATASET_REFERENCE.match(reference.strip())
    return str(int(match.group(1))) if match else None


_OPENML_DATASET_PAGE = re.compile(r"https?://(?:www\.)?openml\.org/(?:d/|search\?(?:[^\s\"'<>)]*&)?type=data&(?:[^\s\"'<>)]*&)?id=)(\d+)", re.IGNORECASE)
_HF_DATASET_PAGE = re.compile(r"https?://huggingface\.co/datasets/([\w.-]+(?:/[\w.-]+)?)", re.IGNORECASE)


def openml_dataset_pages_in(text: str) -> list[str]:
    """IRIs of OpenML data sets whose pages a text links to."""
    if "openml.org/" not in text.lower():
        return []
    return list(dict.fromkeys(openml_dataset_iri(m.group(1)) for m in _OPENML_DATASET_PAGE.finditer(text)))


def hf_dataset_pages_in(text: str) -> list[str]:
    """IRIs of Hub datasets whose pages a text links to."""
    if "huggingface.co/datasets/" not in text.lower():
        return []
    return list(dict.fromkeys(hf_dataset_iri(m.group(1).rstrip(".")) for m in _HF_DATASET_PAGE.finditer(text)))


def dataset_iri_of(reference: str) -> str:
    """The dataset a user names: its IRI as it is, an OpenML data set (``openml:61``, its page), or
    a Hub dataset id (``stanfordnlp/imdb``)."""
    reference = reference.strip()
    if openml_id := openml_dataset_id(reference):
        return openml_dataset_iri(openml_id)
    return reference if reference.startswith(("https://", "http://")) else hf_dataset_iri(reference)


def openml_task_iri(task_id: str | int) -> str:
    return f"{OPENML_BASE}t/{int(task_id)}"


def openml_run_iri(run_id: str | int) -> str:
    """A run is one evaluation of a flow on a task: its page is the evaluation's IRI."""
    return f"{OPENML_BASE}r/{int(run_id)}"


def openml_user_iri(user_id: str | int) -> str:
    return f"{OPENML_BASE}u/{int(user_id)}"


def task_type_iri(task_type: str) -> str:
    """An OpenML task type (Supervised Classification, ...), a term of its own vocabulary."""
    return f"{MLENTORY_IRI_BASE}openml-task-type/{slug(task_type)}"


# The AI4Life / BioImage Model Zoo: a resource's page on bioimage.io is its IRI. The current
# collection names resources "bioimage-io/<nickname>" (page /#/artifacts/<nickname>); older ids (a
# Zenodo DOI, "<partner>/<name>") are pages of the zoo's search.
BIOIMAGEIO_BASE = "https://bioimage.io/"
_BIOIMAGEIO_COLLECTION = "bioimage-io/"


def bioimageio_resource_iri(resource_id: str) -> str:
    resource_id = resource_id.strip()
    if resource_id.startswith(_BIOIMAGEIO_COLLECTION) or "/" not in resource_id:
        return f"{BIOIMAGEIO_BASE}#/artifacts/{quote(resource_id.removeprefix(_BIOIMAGEIO_COLLECTION), safe='')}"
    return f"{BIOIMAGEIO_BASE}#/?id={quote(resource_id, safe='/')}"


# People: an ORCID names one person whichever source mentions them; a GitHub account one account.
_ORCID = re.compile(r"^(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$", re.IGNORECASE)


def orcid_iri(orcid: str) -> str | None:
    match = _ORCID.match(orcid.strip())
    return f"https://orcid.org/{match.group(1).upper()}" if match else None


def github_account_iri(user: str) -> str:
    return f"https://github.com/{quote(user.strip(), safe='')}"


def person_iri(source_key: str, name: str) -> str:
    """A person a source names without any identifier: one node per name within that source (two
    sources' namesakes are not merged)."""
    return f"{MLENTORY_IRI_BASE}{source_key}/person/{slug(name)}"


# The same model published by two sources: where one names the other's page, both IRIs are its.
_BIOIMAGEIO_PAGE = re.compile(r"https?://(?:bioimage\.io/#/artifacts/|hypha\.aicell\.io/bioimage-io/artifacts/)([\w-]+)", re.IGNORECASE)
_HF_MODEL_PAGE = re.compile(r"https?://huggingface\.co/(?!datasets/|spaces/|docs/|papers/|blog/)([\w.-]+/[\w.-]+)", re.IGNORECASE)


def bioimageio_pages_in(text: str) -> list[str]:
    """IRIs of the zoo's resources whose pages a text links to."""
    lowered = text.lower()  # the case-insensitive pattern has no literal to scan for
    if "bioimage.io/#/artifacts/" not in lowered and "hypha.aicell.io/" not in lowered:
        return []
    return list(dict.fromkeys(bioimageio_resource_iri(m.group(1)) for m in _BIOIMAGEIO_PAGE.finditer(text)))


def model_at_source(iri: str) -> tuple[str, str] | None:
    """(source name, the source's id) of a model IRI of the Hub or the zoo; None for any other IRI."""
    if iri.startswith(BIOIMAGEIO_BASE + "#/artifacts/"):
        return "ai4life", _BIOIMAGEIO_COLLECTION + unquote(iri.removeprefix(BIOIMAGEIO_BASE + "#/artifacts/"))
    if iri.startswith(HF_BASE) and (model_id := unquote(iri.removeprefix(HF_BASE))).count("/") == 1 and not model_id.startswith("datasets/"):
        return "huggingface", model_id
    return None


def hf_model_pages_in(text: str) -> list[str]:
    """IRIs of Hub models whose pages a text links to."""
    if "huggingface.co/" not in text.lower():
        return []
    return list(dict.fromkeys(hf_model_iri(m.group(1).rstrip(".")) for m in _HF_MODEL_PAGE.finditer(text)))
