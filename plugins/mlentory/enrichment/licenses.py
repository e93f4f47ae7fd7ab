"""Licence identification: SPDX (the list bundled with ``license-expression``) and the Hub's own licence ids.

A source's licence string may be an SPDX id or expression (``apache-2.0``, ``mit OR apache-2.0``),
an id from the Hub's list that SPDX does not have (``llama3``, ``creativeml-openrail-m``), or
anything else. Each licence it stands for becomes one record: SPDX licences keep their SPDX id (and
so their SPDX IRI); the Hub's others keep the Hub's name and, where known, the licence's page.
"""

from __future__ import annotations

import functools
import json
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
