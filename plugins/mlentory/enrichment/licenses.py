"""Licence identification: SPDX (the list bundled with ``license-expression``) and the Hub's own licence ids.

A source's licence string may be an SPDX id or expression (``apache-2.0``, ``mit OR apache-2.0``),
an id from the Hub's list that SPDX does not have (``llama3``, ``creativeml-openrail-m``), or
anything else. Each licence it stands for becomes one record: SPDX licences keep their SPDX id (and
so their SPDX IRI); the Hub's others keep the Hub's name and, where known, the licence's page.
"""

from __future__ import annotations

import functools
import json
import re
from typing import TypedDict

from license_expression import Licensing, get_spdx_licensing

from mlentory.settings import HF_LICENSES_FILE


class LicenseInfo(TypedDict):
    key: str
    spdx: str | None
    name: str
    url: str | None


@functools.cache
def _licensing() -> Licensing:
    return get_spdx_licensing()


@functools.cache
def hub_licenses() -> dict[str, dict[str, str]]:
    return json.loads(HF_LICENSES_FILE.read_text(encoding="utf-8"))["licenses"]


def spdx_url(spdx_id: str) -> str:
    return f"https://spdx.org/licenses/{spdx_id}.html"


def identify_license(key: str) -> list[LicenseInfo]:
    """The licence(s) an id or expression stands for; an unknown id is kept as a licence of that name."""
    key = key.strip()
    known = hub_licenses().get(key.lower())
    # The Hub's families ("bsd", "gpl", "cc") name no single licence: SPDX would pick one.
    if known and (known.get("url") or "family" in known["name"] or key.lower() in ("other", "unknown")):
        return [{"key": key, "spdx": None, "name": known["name"], "url": known.get("url")}]
    try:
        info = _licensing().validate(key)
    except Exception:  # license-expression raises on some inputs (URLs) instead of reporting them
        info = None
    if info is None or info.errors or not info.normalized_expression:
        return [{"key": key, "spdx": None, "name": known["name"] if known else key, "url": known.get("url") if known else None}]
    symbols = list(_licensing().license_symbols(_licensing().parse(info.normalized_expression), unique=True))
    return [
        {"key": key, "spdx": symbol.key,
         "name": known["name"] if known and len(symbols) == 1 else symbol.key,
         "url": spdx_url(symbol.key)}
        for symbol in symbols
    ]


_SPDX_PAGE = re.compile(r"^(?:spdx\.org/licenses|opensource\.org/licenses?)/([A-Za-z0-9.+-]+?)(?:\.html|\.php)?$")


def _page_key(url: str) -> str:
    """A licence page's address compared without scheme, ``www.``, case and trailing slash."""
    return re.sub(r"^[a-z]+://(?:www\.)?", "", url.strip().lower()).rstrip("/")


@functools.cache
def _hub_license_pages() -> dict[str, str]:
    return {_page_key(info["url"]): key for key, info in hub_licenses().items() if info.get("url")}


def known_license(text: str) -> list[LicenseInfo] | None:
    """The licence(s) a card's ``license_name`` or ``license_link`` stands for where it is a known
    one: an id of the Hub's list (``llama3``), an SPDX id or expression, or the page of such a
    licence (its SPDX page, the page the Hub's list gives); None for anything else. A known licence
    keeps its known name and link whichever card names it."""
    key = text.strip()
    if not key:
        return None
    if key.lower() in hub_licenses() and key.lower() not in ("other", "unknown"):
        return identify_license(key.lower())
    page = _page_key(key)
    if page in _hub_license_pages():
        return identify_license(_hub_license_pages()[page])
    if (spdx_page := _SPDX_PAGE.match(page)) is not None:
        key = spdx_page.group(1)
    elif "://" in key or " " in key:
        return None
    try:
        info = _licensing().validate(key, strict=True)
    except Exception:  # license-expression raises on some inputs instead of reporting them
        return None
    if info.errors or not info.normalized_expression:
        return None
    return identify_license(key)
