"""arXiv metadata for cited papers, in batches of up to 100 ids per request (arXiv's own client)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

import arxiv
import requests

from mlentory.connections import ConnectionHook, base_url
from mlentory.enrichment import ARXIV_CONNECTION
from mlentory.outbound import Origins, origins_of
from mlentory.pipeline.budget import Allowance, RequestBudget, shared_budget
from mlentory.settings import ARXIV_REQUESTS, ARXIV_WINDOW_SECONDS, HTTP_CONNECT_TIMEOUT_S, HTTP_READ_TIMEOUT_S
from mlentory.stalls import timed_against_allowance

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://export.arxiv.org"
BATCH = 100
_VERSION = re.compile(r"v\d+$")


# arXiv's API: a request goes nowhere else (the links records give are data, never followed).
ARXIV_ORIGINS = ("https://export.arxiv.org", "http://export.arxiv.org")


class SessionWithTimeouts(requests.Session):
    """The arxiv client's session waits forever by default; every request gets timeouts, and first
    waits for its turn in ``budget`` (arXiv's one request per 3 s, for every task and DAG at once:
    the client paces only its own requests). With ``origins``, every request it sends, a redirect
    too, must go to one of them (``outbound``)."""

    def __init__(self, read_seconds: float = HTTP_READ_TIMEOUT_S, budget: RequestBudget | None = None,
                 origins: Origins | None = None) -> None:
        super().__init__()
        self.timeouts = (HTTP_CONNECT_TIMEOUT_S, read_seconds)
        self.budget = budget
        self.origins = origins

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeouts)
        if self.budget is not None:
            self.budget.acquire()
        return super().request(*args, **kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        # ``requests`` sends every hop of a redirect through here; each is one try against the
        # task's stall allowance (the arxiv client retries on its own).
        if self.origins is not None:
            self.origins.check(request.url)
        return timed_against_allowance(super().send)(request, **kwargs)


class ArxivHook(ConnectionHook, connection=ARXIV_CONNECTION):
    """The ``arxiv_default`` connection's host, when set, replaces the public API (recordings, mirrors)."""

    def api_url(self) -> str:
        return base_url(self.connection()) or DEFAULT_API_URL

    def get_conn(self) -> arxiv.Client:
        # arXiv asks for 3 s between requests; the client enforces it and retries.
        client = arxiv.Client(page_size=BATCH, delay_seconds=3.0, num_retries=3)
        client.query_url_format = self.api_url().rstrip("/") + "/api/query?{}"
        budget = shared_budget(Allowance("arxiv", ARXIV_REQUESTS, ARXIV_WINDOW_SECONDS))
        origins = Origins(self.conn_id, named=origins_of([self.api_url()]), known=origins_of(ARXIV_ORIGINS))
        client._session = SessionWithTimeouts(budget=budget, origins=origins)  # the client has no timeout option of its own
        return client


def article_record(result: arxiv.Result) -> dict[str, Any]:
    return {
        "arxiv_id": _VERSION.sub("", result.get_short_id()),
        "title": " ".join(result.title.split()),
        "summary": " ".join(result.summary.split()),
        "authors": [author.name for author in result.authors],
        "published": result.published.isoformat() if result.published else None,
        "doi": result.doi,
        "primary_category": result.primary_category,
        "url": result.entry_id,
    }


def fetch_articles(client: arxiv.Client, arxiv_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """arXiv id (without version) -> article record; ids arXiv does not know are left out."""
    ids = sorted(set(arxiv_ids))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        search = arxiv.Search(id_list=batch, max_results=len(batch))
        for result in client.results(search):
            record = article_record(result)
            found[record["arxiv_id"]] = record
        log.info("arXiv: %d/%d ids looked up, %d found", min(start + BATCH, len(ids)), len(ids), len(found))
    return found
