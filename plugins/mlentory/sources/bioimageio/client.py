"""The AI4Life / BioImage Model Zoo over HTTP: the collection's index and each resource version's
description (``rdf.yaml``) and documentation.

- The published index (``index.json`` of the collection's gh-pages: one item per resource with its
  type and versions, each version with its ``rdf.yaml`` source URL and sha256) costs one request
  for the whole collection.
- A version's description is fetched only when its sha256 is new (the cross-run cache keeps
  descriptions by sha256, so an unchanged version costs nothing).
- ``mirror``: a server that answers for every host the collection names (a recorded snapshot on
  loopback in tests and the demo): a URL keeps its path and query and takes the mirror's scheme
  and host.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from mlentory.http_retry import with_retries
from mlentory.settings import HTTP_CONNECT_TIMEOUT_S, HTTP_READ_TIMEOUT_S

log = logging.getLogger(__name__)

PUBLISHED_INDEX = "https://bioimage-io.github.io/collection/index.json"
MAX_DESCRIPTION_BYTES = 2_000_000  # the largest real rdf.yaml is some 100 kB
MAX_DOCUMENTATION_BYTES = 1_000_000


def file_url(source: str, path: str) -> str:
    """A file a description names, relative to the description's own URL and of the same version
    (the artifact server's ``?version=v0`` is kept)."""
    url = urljoin(source, path)
    parts, query = urlsplit(url), urlsplit(source).query
    return urlunsplit((*parts[:3], parts.query or query, "")) if not urlsplit(path).scheme else url


class TooLarge(ValueError):
    """An answer larger than anything of its kind should be."""


@dataclass(frozen=True)
class BioImageIOSettings:
    index_url: str = PUBLISHED_INDEX
    mirror: str | None = None  # e.g. http://127.0.0.1:8765


class BioImageIOClient:
    def __init__(self, settings: BioImageIOSettings) -> None:
        self.settings = settings
        self.http = httpx.Client(timeout=httpx.Timeout(HTTP_READ_TIMEOUT_S, connect=HTTP_CONNECT_TIMEOUT_S), follow_redirects=True,
                                 headers={"User-Agent": "mlentory-airflow (+https://w3id.org/mlentory)"})
        self.requests = 0

    def url(self, url: str) -> str:
        """Where ``url`` is fetched from: itself, or the same path and query on the mirror."""
        if not self.settings.mirror:
            return url
        mirror, parts = urlsplit(self.settings.mirror), urlsplit(url)
        return urlunsplit((mirror.scheme, mirror.netloc, parts.path, parts.query, ""))

    @with_retries()
    def _get(self, url: str, limit: int) -> bytes:
        self.requests += 1
        with self.http.stream("GET", self.url(url)) as response:
            response.raise_for_status()
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise TooLarge(f"{url}: more than {limit:,} bytes")
            return body

    def index(self) -> list[dict[str, Any]]:
        """The collection's items: ``{"id", "type", "versions": [{"version", "sha256", "source", "created_at"}]}``."""
        import json

        document = json.loads(self._get(self.settings.index_url, 50_000_000))
        items = document.get("items") if isinstance(document, dict) else None
        if not isinstance(items, list):
            raise ValueError(f"{self.settings.index_url}: no list of items")
        return items

    def description(self, source: str) -> bytes:
        return self._get(source, MAX_DESCRIPTION_BYTES)

    def documentation(self, source: str, documentation: str) -> bytes:
        return self._get(file_url(source, documentation), MAX_DOCUMENTATION_BYTES)

    def close(self) -> None:
        self.http.close()
