"""The sources MLentory harvests, one package each holding only what is the source's own and
declaring its manifest (``SOURCE``); this module lists them (cheap to import: mappings and
extractions load inside tasks). A new source is its package, its three DAG files and its line here."""

from __future__ import annotations

from mlentory.pipeline.source import Source
from mlentory.sources.bioimageio import SOURCE as AI4LIFE
from mlentory.sources.huggingface import SOURCE as HUGGINGFACE
from mlentory.sources.openml import SOURCE as OPENML

SOURCES: tuple[Source, ...] = (HUGGINGFACE, OPENML, AI4LIFE)
