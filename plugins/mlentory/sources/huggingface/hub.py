"""Calls to the HuggingFace Hub, shaped for a cheap harvest.

Costs on the Hub's API budget (about 1,000 requests per 5 minutes on a free token):
- the latest N models: one paginated ``list_models`` with the metadata expanded (1 request per
  page of up to 1,000 models) instead of one ``model_info`` per model;
- models named explicitly or reached as ancestors: one ``model_info`` each;
- model cards: through the file resolver (``/{repo}/resolve/{sha}/README.md``), which is not an API call;
- datasets and accounts: one call each per distinct id, cached across runs by the caller.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any
from urllib.parse import quote

import httpx2
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.hf_api import DatasetInfo, ModelInfo
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status, http_backoff, set_client_factory
from huggingface_hub.utils._http import default_client_factory
from huggingface_hub.utils._pagination import paginate

from mlentory.http_retry import with_retries
from mlentory.numbers import exact_float
from mlentory.outbound import Origins, origins_of
from mlentory.pipeline.budget import RequestBudget
from mlentory.pipeline.state import entry_digest
from mlentory.settings import HTTP_CONNECT_TIMEOUT_S, HTTP_READ_TIMEOUT_S

log = logging.getLogger(__name__)

# Everything the mapping reads, fetched in the same request as the listing.
MODEL_EXPAND = [
    "author", "sha", "lastModified", "createdAt", "private", "gated", "disabled", "downloads",
    "likes", "library_name", "pipeline_tag", "tags", "cardData", "config", "transformersInfo",
    "siblings", "safetensors", "usedStorage", "model-index",
]
DATASET_EXPAND = ["author", "sha", "lastModified", "createdAt", "cardData", "tags", "description", "gated", "private"]


API, RESOLVER = "api", "resolver"


def request_kind(url: httpx2.URL) -> str | None:
    """Which of the Hub's budgets a request spends: its API, its file resolver, or none (a CDN)."""
    if "/resolve/" in url.path:
        return RESOLVER
    return API if url.path.startswith("/api/") else None


# The public Hub, and the domains its file resolver redirects to (its CDN and storage bridges).
HUB_ORIGIN = "https://huggingface.co"
HUB_DOMAINS = (".huggingface.co", ".hf.co")


def hub_origins(endpoint: str | None, connection: str) -> Origins:
    """Where the Hub's client may send requests: the endpoint the connection names (a mirror may be
    on loopback), the public Hub and its CDN domains (public addresses only); nowhere else."""
    return Origins(connection, named=origins_of([endpoint]), known=origins_of([HUB_ORIGIN]), known_domains=HUB_DOMAINS)


def use_http_timeouts(read_seconds: float = HTTP_READ_TIMEOUT_S, budgets: dict[str, RequestBudget] | None = None,
                      endpoint: str | None = None, origins: Origins | None = None) -> None:
    """huggingface_hub's shared HTTP client waits forever by default; give it timeouts (a timeout is
    retried like a dropped connection, see ``http_retry``). With ``budgets`` (by ``request_kind``),
    every request the client sends to the Hub at ``endpoint``, from any call (the library's own too,
    such as its daily fetch of a registry), first waits for room in its budget; a request to another
    host (a CDN, or the public Hub when the connection names a mirror) spends none. With ``origins``,
    a request (a redirect too) to any other origin is refused before it leaves (``outbound``)."""
    hub_host = httpx2.URL(endpoint).netloc if endpoint else None

    def spend(request: httpx2.Request) -> None:
        if hub_host is not None and request.url.netloc != hub_host:
            return
        kind = request_kind(request.url)
        if kind in budgets:
            budgets[kind].acquire()

    def client_with_timeouts() -> httpx2.Client:
        client = default_client_factory()
        client.timeout = httpx2.Timeout(read_seconds, connect=HTTP_CONNECT_TIMEOUT_S)
        if origins is not None:
            client.event_hooks["request"].insert(0, origins.request_hook())
        if budgets:
            client.event_hooks["request"].append(spend)
        return client

    set_client_factory(client_with_timeouts)


def _read_timeout() -> float | None:
    """The shared client's read timeout: the client methods that take a ``timeout`` pass None (no
    timeout at all) unless given one, overriding the client's own."""
    return get_session().timeout.read


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _plain(value: Any) -> Any:
    """Dataclasses of huggingface_hub back to plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items() if v is not None}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


@dataclass(frozen=True)
class MalformedEntry:
    """A listing entry the client could not read: where it was, its id if it had a usable one, why,
    and a digest of it (the same entry, unchanged, is not counted as an error again)."""

    position: int
    model_id: str | None
    reason: str
    digest: str | None = None

    @classmethod
    def of(cls, position: int, entry: Any, given: Any, exc: Exception) -> MalformedEntry:
        """The entry, named by its id where that is a repo id (else by its position); the reason is
        the exception's kind and message, escaped (it may quote the entry's hostile values)."""
        usable = given if isinstance(given, str) and REPO_ID.match(given) else None
        return cls(position, usable, f"{type(exc).__name__}: {ascii(str(exc)[:300])}", entry_digest(entry))

    def error_row(self, where: str) -> dict[str, Any]:
        """Its row in the run's errors, with how it is remembered (``extraction.rejected_once``)."""
        return {**({"id": self.model_id} if self.model_id else {"input": f"{where} {self.position}"}), "what": where,
                "reason": self.reason, "_key": self.model_id or f"{where} sha256:{self.digest}", "_revision": f"entry:{self.digest}"}


# A Hub repo id: an optional namespace and a name, of the characters the Hub allows. The Hub limits
# new names to 96 characters, but lists older repositories with longer ones (119 seen): those are
# harvested too, up to a bound that keeps an id a sane key.
REPO_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]{0,199}/)?[A-Za-z0-9][\w.-]{0,199}$")


def raw_model_record(entry: dict[str, Any]) -> dict[str, Any]:
    """The raw record kept in the run folder: a Hub answer (``/api/models`` entry) as the client
    reads it, as plain JSON. A record whose id is no repo id is refused here, before any stage keys
    anything by it. The card data's model-index is kept as the Hub sent it: the client's copy
    regroups its results, or drops it whole where it cannot read one (``model_index``)."""
    info = ModelInfo(**entry)
    if not isinstance(info.id, str) or not REPO_ID.match(info.id):
        raise ValueError(f"model id {ascii(info.id)[:200]} is not a Hub repo id")
    card_data = info.card_data.to_dict() if info.card_data is not None else None
    raw_card_data = entry.get("cardData") if isinstance(entry.get("cardData"), dict) else {}
    if card_data is not None:
        card_data.pop("model-index", None)
        card_data.update({key: raw_card_data[key] for key in ("model-index", "model_index") if raw_card_data.get(key) is not None})
    return {
        "id": info.id,
        "author": info.author,
        "sha": info.sha,
        "last_modified": _iso(info.last_modified),
        "created_at": _iso(info.created_at),
        "private": info.private,
        "gated": info.gated,
        "disabled": info.disabled,
        "downloads": info.downloads,
        "likes": info.likes,
        "library_name": info.library_name,
        "pipeline_tag": info.pipeline_tag,
        "tags": list(info.tags or []),
        "card_data": card_data,
        "config": info.config,
        "transformers_info": _plain(info.transformers_info),
        "siblings": [s.rfilename for s in info.siblings] if info.siblings is not None else None,
        "safetensors": _plain(info.safetensors),
        "used_storage": info.used_storage,
        "model_index": info.model_index,
    }


def model_revision(record: dict[str, Any]) -> str | None:
    """A model's revision: the commit sha of its repository (what incremental runs compare); for a
    model known from the dump only, which has no sha, its last modification."""
    return record.get("sha") or (modification_revision(record) if record.get("from_dump") else None)


def model_statistics(record: dict[str, Any]) -> dict[str, Any]:
    """What changes without a commit: the counts the listing reports (JSON-LD terms)."""
    return {term: record[key] for term, key in (("downloads", "downloads"), ("likes", "likes")) if isinstance(record.get(key), int)}


def modification_revision(record: dict[str, Any]) -> str | None:
    """The revision a model loaded from the dump was recorded with: a model listed later with the
    same last modification has not changed since (a commit is a modification)."""
    return f"lastModified:{record['last_modified']}" if record.get("last_modified") else None


def raw_dataset_record(info: DatasetInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "author": info.author,
        "sha": info.sha,
        "last_modified": _iso(info.last_modified),
        "created_at": _iso(info.created_at),
        "description": getattr(info, "description", None),
        "tags": list(info.tags or []),
        "card_data": info.card_data.to_dict() if info.card_data is not None else None,
    }


def is_not_found(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) in (401, 404)


class HubClient:
    def __init__(self, api: HfApi, budget: RequestBudget | None = None, resolver_budget: RequestBudget | None = None) -> None:
        self.api = api
        self.budget = budget  # the API's, for lookups that can wait (``lookup_room``)
        self.resolver_budget = resolver_budget  # the file resolver's (cards)

    def reserve_resolver(self, requests: int) -> None:
        """Take room for ``requests`` card reads from the resolver's budget in one go: each read then
        spends it without locking and rewriting the shared budget (a millisecond a request). What the
        window has no room for is waited for request by request, as before."""
        if self.resolver_budget is not None and requests > 0:
            self.resolver_budget.reserve(requests)

    # Requests an account lookup may cost: the organisation's overview answers 404 for a user.
    ACCOUNT_REQUESTS = 2

    # Requests kept aside in each reservation for what the lookups do not count: the library's own
    # (huggingface_hub fetches a registry from the Hub once a day) and answers retried after a 5xx.
    # Without them the last lookups of a batch would wait for the next window (minutes).
    LOOKUP_MARGIN = 8

    def lookup_room(self, wanted: int, requests_each: int = 1) -> int | None:
        """How many of ``wanted`` lookups of up to ``requests_each`` API requests each may be sent
        now: their requests, and a margin, are reserved in the budget at once (None: no budget)."""
        if self.budget is None:
            return None
        granted = self.budget.reserve(wanted * requests_each + self.LOOKUP_MARGIN)
        return min(wanted, max(0, granted - min(self.LOOKUP_MARGIN, granted // 10)) // requests_each)

    @property
    def endpoint(self) -> str:
        return self.api.endpoint

    def latest_models(self, limit: int | None, modified_since: str | None = None) -> Iterator[dict[str, Any] | MalformedEntry]:
        """The most recently modified models, newest first, page by page (the caller retries): the
        first ``limit`` (None: every model the Hub lists, in pages of 1,000), down to the first one
        modified before ``modified_since`` (ISO 8601; None: no such bound).

        This is ``HfApi.list_models`` with each entry parsed on its own: the client parses a page's
        entries in one go, so one malformed entry (an odd date, a sibling without a name) would lose
        every good model of the harvest. A malformed entry is yielded as a ``MalformedEntry``.
        """
        params: dict[str, Any] = {"sort": "lastModified", "expand": MODEL_EXPAND, **({"limit": limit} if limit is not None else {})}
        entries = paginate(f"{self.endpoint}/api/models", params=params, headers=self.api._build_hf_headers(), timeout=_read_timeout())
        since = datetime.fromisoformat(modified_since) if modified_since else None
        for position, entry in enumerate(islice(entries, limit)):
            try:
                record = raw_model_record(entry)
            except Exception as exc:
                yield MalformedEntry.of(position, entry, entry.get("id") if isinstance(entry, dict) else None, exc)
                continue
            if since is not None and record["last_modified"] and datetime.fromisoformat(record["last_modified"]) < since:
                return  # sorted newest first: every later entry is older still
            yield record

    def latest_model_pages(self, limit: int | None) -> Iterator[bytes]:
        """The same listing (``latest_models``), each page as the Hub sent it, not decoded: the
        caller reads what it needs of a page (its entries' modification times) and leaves the
        entries' parsing to tasks that fan out. The caller stops when it has read enough (retries:
        the caller's). ``huggingface_hub``'s ``paginate``, without its decoding."""
        params: dict[str, Any] = {"sort": "lastModified", "expand": MODEL_EXPAND, **({"limit": limit} if limit is not None else {})}
        headers = self.api._build_hf_headers()
        response = http_backoff("GET", f"{self.endpoint}/api/models", params=params, headers=headers, timeout=_read_timeout())
        hf_raise_for_status(response)
        yield response.content
        while (next_page := response.links.get("next", {}).get("url")) is not None:
            response = http_backoff("GET", next_page, headers=headers, timeout=_read_timeout())
            hf_raise_for_status(response)
            yield response.content

    @with_retries()
    def model(self, model_id: str) -> dict[str, Any]:
        """``HfApi.model_info``, keeping the raw answer beside the parsed one (the client regroups or
        drops a model-index, ``raw_model_record`` keeps it as the Hub sent it; no repo id check)."""
        return raw_model_record(self._get_json(f"/api/models/{quote(model_id, safe='/')}", {"expand": MODEL_EXPAND}))

    def datasets_listed(self, wanted: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The ``wanted`` datasets as the Hub's expanded dataset listing gives them (``HfApi.list_datasets``
        with ``expand``: one request per page of 1,000 datasets, instead of one per dataset), reading
        pages until every one was found. One the whole listing does not hold is left out: it is not a
        public dataset of the Hub. An entry the client cannot read is left out too, with a warning in
        the log (a lookup of it alone would fail the same way)."""
        wanted = set(wanted)
        found: dict[str, dict[str, Any]] = {}
        params = {"expand": DATASET_EXPAND}
        for entry in paginate(f"{self.endpoint}/api/datasets", params=params, headers=self.api._build_hf_headers(), timeout=_read_timeout()):
            if not isinstance(entry, dict) or entry.get("id") not in wanted:
                continue
            try:
                found[entry["id"]] = raw_dataset_record(DatasetInfo(**entry))
            except Exception as exc:
                log.warning("the dataset listing's entry for %s cannot be read (%s)", entry["id"], exc)
                wanted.discard(entry["id"])
            if len(found) == len(wanted):
                break
        return found

    @with_retries()
    def dataset(self, dataset_id: str) -> dict[str, Any]:
        """``HfApi.dataset_info``, without its repo id check: it refuses the longer ids of older
        repositories the Hub still serves."""
        return raw_dataset_record(DatasetInfo(**self._get_json(f"/api/datasets/{quote(dataset_id, safe='/')}", {"expand": DATASET_EXPAND})))

    def _get_json(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """One API answer as JSON; a number a float cannot hold stays its text (1e-400 is not 0.0)."""
        response = get_session().get(f"{self.endpoint}{path}", params=params, headers=self.api._build_hf_headers(), timeout=_read_timeout())
        hf_raise_for_status(response)
        return json.loads(response.content, parse_float=exact_float)

    @with_retries()
    def account(self, name: str) -> dict[str, Any]:
        """An organisation or user overview; ``kind`` tells which."""
        try:
            org = self.api.get_organization_overview(name)
            return {"name": name, "kind": "Organization", "fullname": getattr(org, "fullname", None)}
        except HfHubHTTPError as exc:
            if not is_not_found(exc):
                raise
        user = self.api.get_user_overview(name)
        return {"name": name, "kind": "Person", "fullname": getattr(user, "fullname", None)}

    @with_retries()
    def model_card(self, model_id: str, revision: str | None) -> str | None:
        """README.md at ``revision`` through the file resolver, or None when the repo has none."""
        # Not ``hf_hub_url``: it refuses the longer ids of older repositories the Hub still lists.
        url = f"{self.api.endpoint}/{quote(model_id, safe='/')}/resolve/{quote(revision or 'main', safe='')}/README.md"
        response = get_session().get(url, headers=build_hf_headers(token=self.api.token), follow_redirects=True)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise HfHubHTTPError(f"{response.status_code} fetching card of {model_id}", response=response)
        return response.text
