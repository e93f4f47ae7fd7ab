"""Recorded BioImage Model Zoo answers, for the project's client pointed at the replay (as a mirror
of the collection's servers).

Snapshot layout, under ``<snapshot>/bioimageio/`` (the layout of the collection's gh-pages, so
``../shared/realdata/bioimageio/collection-gh-pages-hypha`` is a snapshot as it is)::

    index.json                                          GET /collection/index.json (the published index)
    rdf_content/bioimage-io/<name>/<version>/rdf.yaml   GET /bioimage-io/artifacts/<name>/files/rdf.yaml?version=<version>
    rdf_content/bioimage-io/<name>/<version>/rdf_content.json   the same description as JSON (recorded so), served when no rdf.yaml
    rdf_content/bioimage-io/<name>/<version>/<file>     GET /bioimage-io/artifacts/<name>/files/<file>?version=<version>
"""

from __future__ import annotations

import re
from pathlib import Path

INDEX_PATH = "/collection/index.json"
_FILE = re.compile(r"^/bioimage-io/artifacts/([\w.-]+)/files/([\w./-]+)$")
_VERSION = re.compile(r"^[\w.-]+$")


class BioImageIOSnapshot:
    def __init__(self, root: Path) -> None:
        self.root = root

    def handles(self, path: str) -> bool:
        return path == INDEX_PATH or bool(_FILE.match(path))

    def answer(self, path: str, version: str | None) -> tuple[int, bytes, str]:
        """(HTTP status, body, content type) for a path the collection's servers answer."""
        if path == INDEX_PATH:
            index = self.root / "index.json"
            return (200, index.read_bytes(), "application/json") if index.exists() else (404, b"no index", "text/plain")
        match = _FILE.match(path)
        if match is None or ".." in match.group(2) or not _VERSION.match(version or "v0"):
            return 404, b"not found", "text/plain"
        folder = self.root / "rdf_content" / "bioimage-io" / match.group(1) / (version or "v0")
        wanted = folder / match.group(2)
        if not wanted.is_file() and match.group(2) == "rdf.yaml":
            wanted = folder / "rdf_content.json"  # recorded as JSON, which is YAML too
        if not wanted.is_file():
            return 404, b"not found", "text/plain"
        return 200, wanted.read_bytes(), "application/x-yaml" if wanted.suffix in (".yaml", ".json") else "text/markdown"
