"""License identification against the SPDX list bundled with ``license-expression``."""

from __future__ import annotations

import functools
from typing import Any

from license_expression import Licensing, get_spdx_licensing


@functools.cache
def _licensing() -> Licensing:
    return get_spdx_licensing()


def identify_license(key: str) -> list[dict[str, Any]]:
    """The license(s) a source's license string stands for.

    ``"apache-2.0"`` -> Apache-2.0; ``"apache-2.0 OR mit"`` -> both; ``"other:<name>|<link>"`` (a
    Hub card's ``license_name``/``license_link``) and unknown ids (``llama3``) -> non-SPDX licenses.
    """
    if key.startswith("other:"):
        name, _, link = key.removeprefix("other:").partition("|")
        return [{"key": key, "spdx": None, "name": name, "url": link or None}]
    info = _licensing().validate(key)
    if info.errors or not info.normalized_expression:
        return [{"key": key, "spdx": None, "name": key, "url": None}]
    expression = _licensing().parse(info.normalized_expression)
    return [
        {"key": key, "spdx": symbol.key, "name": symbol.key, "url": f"https://spdx.org/licenses/{symbol.key}.html"}
        for symbol in _licensing().license_symbols(expression, unique=True)
    ]
