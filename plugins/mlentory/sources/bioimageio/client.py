"""The AI4Life / BioImage Model Zoo over HTTP: the collection's index and each resource version's
description (``rdf.yaml``) and documentation.

- The collection's index, in either of its two forms (``index_url``):
  - the published one (``index.json`` of the collection's gh-pages: one item per resource with its
    type and versions, each version with its ``rdf.yaml`` source URL and sha256), one request for
    the whole collection, refreshed by the collection's back office;
  - the live one, the artifact manager's list of the collection's children
    (``.../public/services/artifact-manager/list?parent_id=bioimage-io/bioimage.io``), paged
    (``offset``/``limit``/``pagination``, answering ``{items, total, offset, limit}``), whose
    versions carry no source or sha256: the source is the artifact's ``rdf.yaml`` of that version,
    and the revision the version with the artifact's last modification.
  Both come out the same: items ``{"id", "type", "versions": [{"version", "created_at", "source",
  "sha256", "revision"}]}``; ``revision`` is what incremental runs compare (the sha256 where known).
- A version's description is fetched only when its revision is new (the cross-run cache keeps
  descriptions by revision, so an unchanged version costs nothing).
- ``mirror``: a server that answers for every host the collection names (a recorded snapshot on
  loopback in tests and the demo): a URL keeps its path and query and takes the mirror's scheme
  and host.
- Only URLs of the collection's origins are fetched (``outbound``): the index's, the mirror's, the
  connection's ``allowed_origins`` (named: may be private addresses), and the zoo's own servers
  (``ZOO_ORIGINS``: public addresses only). A description's files are fetched relative to it; an
  index item or a description naming another host, another scheme or a private address is refused
  (``RefusedURL``), and so is any redirect that would lead there.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx

from mlentory.http_retry import with_retries
from mlentory.outbound import Origins, origins_of
from mlentory.pipeline.budget import RequestBudget
from mlentory.settings import HTTP_CONNECT_TIMEOUT_S, HTTP_READ_TIMEOUT_S

log = logging.getLogger(__name__)

PUBLISHED_INDEX = "https://bioimage-io.github.io/collection/index.json"
LIVE_INDEX = "https://hypha.aicell.io/public/services/artifact-manager/list?parent_id=bioimage-io/bioimage.io"
LIST_PATH = "/public/services/artifact-manager/list"
# Where the zoo itself serves its index and descriptions: the published index (GitHub Pages), the
# artifact manager, its S3 bucket, and Zenodo (older versions' descriptions and documentation).
ZOO_ORIGINS = ("https://bioimage-io.github.io", "https://hypha.aicell.io", "https://uk1s3.embassy.ebi.ac.uk", "https://zenodo.org")
MAX_LIST_PAGES = 1_000  # at the default page size, a million resources: a listing that never ends is an error
MAX_INDEX_BYTES = 50_000_000
MAX_DESCRIPTION_BYTES = 2_000_000  # the largest real rdf.yaml is some 100 kB
MAX_DOCUMENTATION_BYTES = 1_000_000


# Zenodo's API serves a record's file at ``/api/records/<id>/files/<name>/content``: a file named
# beside the description is ``.../files/<path>/content``, not ``.../files/rdf.yaml/<path>``.
_ZENODO_FILE = re.compile(r"^(?P<files>https?://[^/]+/api/records/\d+/files/)[^/?#]+/content$")


def file_url(source: str, path: str) -> str:
    """A file a description names, relative to the description's own URL and of the same version
    (the artifact server's ``?version=v0`` is kept; Zenodo's ``/content`` form is kept)."""
    zenodo = _ZENODO_FILE.match(source)
    if zenodo and not urlsplit(path).scheme:
        name = path.strip().removeprefix("./")
        return f"{zenodo.group('files')}{name}/content" if name and name not in (".", "") else zenodo.group("files")
    url = urljoin(source, path)
    parts, query = urlsplit(url), urlsplit(source).query
    return urlunsplit((*parts[:3], parts.query or query, "")) if not urlsplit(path).scheme else url


class TooLarge(ValueError):
    """An answer larger than anything of its kind should be."""


@dataclass(frozen=True)
class BioImageIOSettings:
    index_url: str = PUBLISHED_INDEX  # or LIVE_INDEX
    mirror: str | None = None  # e.g. http://127.0.0.1:8765
    page_size: int = 1_000  # of the live listing
    allowed_origins: tuple[str, ...] = ()  # more servers of the collection (the connection's extra)
    connection: str = "bioimageio_default"

    def origins(self) -> Origins:
        """The origins the collection is fetched from: the ones the connection names (its mirror, its
        index unless it is one of the zoo's own, its ``allowed_origins``) and the zoo's servers."""
        own_index = self.index_url in (PUBLISHED_INDEX, LIVE_INDEX)
        named = origins_of([self.mirror, *([] if own_index else [self.index_url]), *self.allowed_origins])
        return Origins(self.connection, named=named, known=origins_of(ZOO_ORIGINS))


def is_live_listing(index_url: str) -> bool:
    return urlsplit(index_url).path.rstrip("/").endswith(LIST_PATH)


def _iso(value: Any) -> str | None:
    """A date of the artifact manager: seconds since the epoch, or ISO text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
    return str(value) if value else None


def listed_item(item: Any, server: str) -> Any:
    """An item of the live listing in the published index's form (anything else is returned as it
    is, for the extraction to refuse with its reason)."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or "/" not in item["id"]:
        return item
    workspace, alias = item["id"].split("/", 1)
    changed = _iso(item.get("last_modified"))
    versions = []
    for version in item.get("versions") or []:
        if not isinstance(version, dict) or not isinstance(version.get("version"), str):
            continue
        created = _iso(version.get("created_at"))
        versions.append({"version": version["version"], "comment": version.get("comment"), "created_at": created,
                         "source": f"{server}/{workspace}/artifacts/{alias}/files/rdf.yaml?version={version['version']}",
                         "revision": f"{item['id']}/{version['version']}@{changed or created}"})
    return {"id": item["id"], "type": item.get("type"), "versions": versions}


class BioImageIOClient:
    def __init__(self, settings: BioImageIOSettings, budget: RequestBudget | None = None) -> None:
        """``budget``: every request (a redirect too) first waits for room in it."""
        self.settings = settings
        self.origins = settings.origins()
        # The origin is checked before the budget is spent: a refused request costs nothing.
        hooks = {"request": [self.origins.request_hook(), *([lambda _request: budget.acquire()] if budget is not None else [])]}
        self.http = httpx.Client(timeout=httpx.Timeout(HTTP_READ_TIMEOUT_S, connect=HTTP_CONNECT_TIMEOUT_S), follow_redirects=True,
                                 headers={"User-Agent": "mlentory-airflow (+https://w3id.org/mlentory)"}, event_hooks=hooks)
        self.requests = 0

    def url(self, url: str) -> str:
        """Where ``url`` is fetched from: itself, or the same path and query on the mirror."""
        if not self.settings.mirror:
            return url
        mirror, parts = urlsplit(self.settings.mirror), urlsplit(url)
        return urlunsplit((mirror.scheme, mirror.netloc, parts.path, parts.query, ""))

    @with_retries()
    def _get(self, url: str, limit: int) -> bytes:
        # The client's hook checks every request it sends. With a mirror that is the mirror's: the
        # URL's own origin is checked here (its host is not contacted, so its addresses are not).
        if self.settings.mirror:
            self.origins.check(url, check_addresses=False)
        self.requests += 1
        with self.http.stream("GET", self.url(url)) as response:
            response.raise_for_status()
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise TooLarge(f"{url}: more than {limit:,} bytes")
            return body

    def index(self) -> list[Any]:
        """The collection's items: ``{"id", "type", "versions": [{"version", "created_at", "source", "sha256", "revision"}]}``."""
        if is_live_listing(self.settings.index_url):
            return self._listed_index()
        items, _ = self._page(self.settings.index_url)
        for item in items:
            for version in item.get("versions") or [] if isinstance(item, dict) else []:
                if isinstance(version, dict) and version.get("sha256"):
                    version["revision"] = version["sha256"]
        return items

    def _page(self, url: str) -> tuple[list[Any], int | None]:
        """The items of an index document, and the total it announces."""
        document = json.loads(self._get(url, MAX_INDEX_BYTES))
        items = document.get("items") if isinstance(document, dict) else None
        if not isinstance(items, list):
            raise ValueError(f"{url}: no list of items")
        total = document.get("total")
        return items, total if isinstance(total, int) and not isinstance(total, bool) else None

    def _listed_index(self) -> list[Any]:
        """Every page of the artifact manager's list, until it has given as many items as its total."""
        base = urlsplit(self.settings.index_url)
        query = [(k, v) for k, v in parse_qsl(base.query) if k not in ("offset", "limit", "pagination")]
        items: list[Any] = []
        requests_before = self.requests
        for _ in range(MAX_LIST_PAGES):
            page_query = urlencode([*query, ("offset", len(items)), ("limit", self.settings.page_size), ("pagination", "true")])
            page, total = self._page(urlunsplit((*base[:3], page_query, "")))
            items += page
            if not page or total is None or len(items) >= total:
                break
        else:
            raise ValueError(f"{self.settings.index_url}: more than {MAX_LIST_PAGES} pages")
        server = f"{base.scheme}://{base.netloc}"
        log.info("live listing: %d items in %d requests", len(items), self.requests - requests_before)
        return [listed_item(item, server) for item in items]

    def description(self, source: str) -> bytes:
        return self._get(source, MAX_DESCRIPTION_BYTES)

    def documentation(self, source: str, documentation: str) -> bytes:
        return self._get(file_url(source, documentation), MAX_DOCUMENTATION_BYTES)

    def close(self) -> None:
        self.http.close()
