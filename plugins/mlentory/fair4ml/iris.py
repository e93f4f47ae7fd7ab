"""Deterministic IRIs: the same model, dataset or article gets the same IRI in every run and source.

Where the thing has a canonical web identity (a Hub page, an arXiv abstract, an SPDX license page)
that IRI is used, so that records from other sources that cite the same thing link to the same node.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

from mlentory.settings import MLENTORY_IRI_BASE

HF_BASE = "https://huggingface.co/"
# Term sets: the vocabularies that tasks and keywords belong to.
HF_TASKS_SET = f"{HF_BASE}tasks"
KEYWORDS_SET = f"{MLENTORY_IRI_BASE}keyword/"

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


def language_iri(iso639_3: str) -> str:
    return f"http://lexvo.org/id/iso639-3/{iso639_3}"


def task_iri(task: str) -> str:
    return f"{MLENTORY_IRI_BASE}task/{slug(task)}"


def keyword_iri(keyword: str) -> str:
    return f"{MLENTORY_IRI_BASE}keyword/{slug(keyword)}"
