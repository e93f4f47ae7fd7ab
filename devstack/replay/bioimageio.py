"""Recorded BioImage Model Zoo answers, for the project's client pointed at the replay (as a mirror
of the collection's servers).

Snapshot layout, under ``<snapshot>/bioimageio/`` (the layout of the collection's gh-pages, so
``../shared/realdata/bioimageio/collection-gh-pages-hypha`` is a snapshot as it is)::

    index.json                                          GET /collection/index.json (the published index: each version's
                                                        sha256 as recorded, except where the description is recorded as
                                                        JSON only, see below), and
                                                        GET /public/services/artifact-manager/list?parent_id=bioimage-io/bioimage.io
                                                        (the live listing, paged: made from the same items in the
                                                        shape of the artifact manager's answer)
    rdf_content/bioimage-io/<name>/<version>/rdf.yaml   GET /bioimage-io/artifacts/<name>/files/rdf.yaml?version=<version>
    rdf_content/bioimage-io/<name>/<version>/rdf_content.json   the same description as JSON (recorded so), served when no rdf.yaml;
                                                        the recording holds the description parsed, not its original
                                                        bytes, so the index served names the digest of what is served
                                                        (as the real index names its own files')
    rdf_content/bioimage-io/<name>/<version>/<file>     GET /bioimage-io/artifacts/<name>/files/<file>?version=<version>
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

INDEX_PATH = "/collection/index.json"
LIST_PATH = "/public/services/artifact-manager/list"
COLLECTION = "bioimage-io/bioimage.io"
_FILE = re.compile(r"^/bioimage-io/artifacts/([\w.:-]+)/files/([\w./-]+)$")
_VERSION = re.compile(r"^[\w.-]+$")


class BioImageIOSnapshot:
    def __init__(self, root: Path) -> None:
        self.root = root

    def handles(self, path: str) -> bool:
        return path in (INDEX_PATH, LIST_PATH) or bool(_FILE.match(path))

    def listing(self, query: dict[str, list[str]]) -> tuple[int, bytes, str]:
        """A page of the artifact manager's list of the collection's children: ``{items, total,
        offset, limit}``, each item with its id, alias, type, versions (version, comment, creation
        time) and times in seconds since the epoch, as the artifact manager gives them; no source or
        sha256 (the client derives the source; the published index is where sha256 lives)."""
        index = self.root / "index.json"
        if query.get("parent_id", [""])[0] != COLLECTION or not index.exists():
            return 404, json.dumps({"success": False, "detail": "collection not found"}).encode(), "application/json"
        try:
            offset, limit = int(query.get("offset", ["0"])[0]), int(query.get("limit", ["20"])[0])
        except ValueError:
            return 400, json.dumps({"success": False, "detail": "offset and limit must be integers"}).encode(), "application/json"
        items = [self._artifact(item) for item in json.loads(index.read_text())["items"]]
        page = items[offset:offset + limit]
        if query.get("pagination", ["false"])[0].lower() != "true":
            return 200, json.dumps(page).encode(), "application/json"
        return 200, json.dumps({"items": page, "total": len(items), "offset": offset, "limit": limit}).encode(), "application/json"

    @staticmethod
    def _artifact(item: dict) -> dict:
        def epoch(text: str) -> float:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

        versions = [{"version": v["version"], "comment": v.get("comment"), "created_at": v["created_at"]} for v in item.get("versions", [])]
        created = [epoch(v["created_at"]) for v in versions if v.get("created_at")]
        return {"id": item["id"], "alias": item["id"].split("/", 1)[-1], "type": item.get("type"), "parent_id": COLLECTION,
                "versions": versions, "created_at": min(created, default=0), "last_modified": max(created, default=0)}

    def answer(self, path: str, version: str | None) -> tuple[int, bytes, str]:
        """(HTTP status, body, content type) for a path the collection's servers answer."""
        if path == INDEX_PATH:
            index = self.root / "index.json"
            return (200, self._published_index(index), "application/json") if index.exists() else (404, b"no index", "text/plain")
        match = _FILE.match(path)
        if match is None or ".." in match.group(2) or not _VERSION.match(version or "v0"):
            return 404, b"not found", "text/plain"
        wanted = self._file(match.group(1), version or "v0", match.group(2))
        if wanted is None:
            return 404, b"not found", "text/plain"
        return 200, wanted.read_bytes(), "application/x-yaml" if wanted.suffix in (".yaml", ".json") else "text/markdown"

    def _file(self, name: str, version: str, file: str) -> Path | None:
        folder = self.root / "rdf_content" / "bioimage-io" / name / version
        if not folder.is_dir():  # a partner's resource (imjoy:vizarr) is recorded in a folder without the colon
            folder = self.root / "rdf_content" / "bioimage-io" / name.replace(":", "_") / version
        wanted = folder / file
        if not wanted.is_file() and file == "rdf.yaml":
            wanted = folder / "rdf_content.json"  # recorded as JSON, which is YAML too
        return wanted if wanted.is_file() else None

    def _published_index(self, index: Path) -> bytes:
        """The index as recorded, but where a description is recorded as JSON only (the recording
        kept it parsed, not its original bytes), the version names the sha256 of what is served."""
        document = json.loads(index.read_bytes())
        for item in document.get("items") or [] if isinstance(document, dict) else []:
            for version in item.get("versions") or [] if isinstance(item, dict) and isinstance(item.get("versions"), list) else []:
                source = version.get("source") if isinstance(version, dict) else None
                match = _FILE.match(urlsplit(source).path) if isinstance(source, str) else None
                served = self._file(match.group(1), str(version.get("version") or "v0"), "rdf.yaml") if match else None
                if served is not None and served.name == "rdf_content.json" and version.get("sha256"):
                    version["sha256"] = hashlib.sha256(served.read_bytes()).hexdigest()
        return json.dumps(document).encode()
