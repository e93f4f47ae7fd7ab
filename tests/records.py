"""Recorded Hub responses turned into the raw records the pipeline keeps (the client's own parsing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlentory.sources.huggingface.cards import ParsedCard, parse_card
from mlentory.sources.huggingface.hub import raw_model_record


def raw_model(snapshot: Path, file_stem: str) -> dict[str, Any]:
    return raw_model_record(json.loads((snapshot / "models" / f"{file_stem}.json").read_text()))


def card(snapshot: Path, file_stem: str) -> ParsedCard | None:
    path = snapshot / "cards" / f"{file_stem}.md"
    return parse_card(path.read_text()) if path.exists() else None
