"""Where a harvest may send requests: only to the origins its source's connection names, or that the
public service it stands for is known to serve from; never to one a record names.

A record is data, never an instruction. A zoo description naming its documentation at
``http://169.254.169.254/latest/meta-data/`` (a cloud's metadata service), or an index item whose
``source`` is an internal host, must not make a worker fetch it and carry the answer into the graph.
Every client of a source checks each URL against its :class:`Origins` twice: before it asks (so the
refusal is reported with the record, as a warning with its reason), and on every request it actually
sends, redirects included (a hook of its HTTP client), so a server that redirects cannot lead it
elsewhere either.

- An origin is ``scheme://host:port``; only ``http`` and ``https`` are fetched, never a URL carrying
  credentials (``user:password@``).
- **Named** origins are the ones the source's connection gives (its host, a mirror, its extra's
  ``index_url`` or ``allowed_origins``): the operator chose them, so they may be private or
  loopback addresses (the local stack's replay on 127.0.0.1 is one).
- **Known** origins are the public service's own (``https://huggingface.co``, the zoo's artifact
  servers, ...), and hosts under its domains (``known_domains``: the Hub's CDN that its file resolver
  redirects to): they are fetched only where their name resolves to public addresses, so a poisoned
  name or a DNS rebinding to a private network is refused. (The name is resolved again by the HTTP
  client when it connects; a resolver that answers differently within that moment is not covered.)
- Everything else is refused: another host, another port of a named host, a private, loopback,
  link-local or otherwise non-public address given literally.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

FETCHED_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RefusedURL(ValueError):
    """A URL a harvest may not fetch (the reason is the message). Never retried: it would be refused
    the same way every time."""


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url`` (lowercase, the default port written out), or ValueError."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not host:
        raise ValueError("no host")
    port = parts.port or _DEFAULT_PORTS.get(scheme)  # ValueError for a port out of range
    return f"{scheme}://{host}:{port}" if ":" not in host else f"{scheme}://[{host}]:{port}"


def origins_of(values: Iterable[Any]) -> frozenset[str]:
    """The origins of the URLs ``values`` holds (empty and unreadable ones skipped, and logged)."""
    found = set()
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        try:
            found.add(origin(value))
        except ValueError as exc:
            log.warning("not an origin a request may go to (%s): %s", exc, ascii(value[:100]))
    return frozenset(found)


def listed(value: Any) -> list[str]:
    """A connection extra's list of URLs: a JSON list, or text separated by commas or spaces."""
    if isinstance(value, str):
        return [item for item in value.replace(",", " ").split() if item]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list | tuple) else []


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _literal_address(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


@dataclass(frozen=True)
class Origins:
    """The origins one source's clients may fetch from (see the module)."""

    connection: str  # the connection whose settings name them, for the refusal's message
    named: frozenset[str] = frozenset()
    known: frozenset[str] = frozenset()
    known_domains: tuple[str, ...] = ()  # e.g. ".hf.co": https hosts under it, at public addresses
    resolve: Any = field(default=socket.getaddrinfo, repr=False, compare=False)

    def refusal(self, url: Any, check_addresses: bool = True) -> str | None:
        """Why ``url`` may not be fetched, or None when it may. ``check_addresses=False`` for a URL
        that is not itself contacted (a mirror answers for it): only its origin is checked."""
        if not isinstance(url, str) or not url.strip():
            return "no URL"
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in FETCHED_SCHEMES:
            return f"{ascii(parts.scheme[:20]) if parts.scheme else 'a URL without a scheme'} is not fetched (only http and https)"
        if parts.username is not None or parts.password is not None:
            return "a URL carrying credentials is not fetched"
        try:
            where = origin(url)
        except ValueError as exc:
            return f"no origin can be read ({exc})"
        if where in self.named:
            return None
        host = (parts.hostname or "").lower()
        known = where in self.known or (parts.scheme.lower() == "https" and any(
            host.endswith(domain) for domain in self.known_domains))
        literal = _literal_address(host)
        private_literal = f"{where} is a private, loopback or link-local address the {self.connection} connection does not name"
        if not known:
            return private_literal if literal is not None and not _public(literal) else f"{where} is not an origin the {self.connection} connection names"
        if literal is not None:
            return None if _public(literal) else private_literal
        return self._resolves_privately(host, where) if check_addresses else None

    def _resolves_privately(self, host: str, where: str) -> str | None:
        try:
            addresses = {info[4][0] for info in self.resolve(host, None, proto=socket.IPPROTO_TCP)}
        except (OSError, UnicodeError):
            return None  # not resolvable: the request itself fails, as a network error
        private = sorted(address for address in addresses if not _public(address))
        if private:
            return f"{where} resolves to a private, loopback or link-local address ({private[0]}) the {self.connection} connection does not name"
        return None

    def check(self, url: Any, check_addresses: bool = True) -> None:
        """RefusedURL with the reason, unless ``url`` may be fetched."""
        reason = self.refusal(url, check_addresses)
        if reason is not None:
            raise RefusedURL(f"not fetched: {reason}")

    def request_hook(self) -> Any:
        """A request hook for an httpx (or httpx2) client: every request it sends, each redirect
        too, is checked before it leaves."""

        def check_request(request: Any) -> None:
            self.check(str(request.url))

        return check_request
