"""A replay server for recorded HuggingFace Hub and arXiv responses.

Snapshot layout (file names use ``__`` for the ``/`` of a repo id, as in the recordings)::

    models/<org>__<name>.json     body of GET /api/models/{id} (the full model_info)
    cards/<org>__<name>.md        README.md of the model repo
    datasets/<org>__<name>.json   body of GET /api/datasets/{id}
    accounts/<name>.json          {"type": "org" | "user", ...overview}
    arxiv/<id>.xml                one Atom <entry> per paper (id without version, "/" as "_")
    openml/                       OpenML API v1 XML answers (see ``devstack.replay.openml``)
    bioimageio/                   the BioImage Model Zoo's index and descriptions (see ``devstack.replay.bioimageio``)
    dumps/<org>__<name>/          a dataset's files (the dump of model cards; see ``devstack.replay.dump``)
    faults.json                   optional: [{"path": "/api/models/x", "status": 429, "times": 2, "retry_after": 1},
                                             {"path": "/x/resolve/", "delay": 300, "times": 1},  (a stall)
                                             {"path": "/x", "status": 302, "location": "http://elsewhere/"}]  (a redirect)

Routes mirror the real services closely enough for huggingface_hub and the arxiv client: paginated
``/api/models`` listing with ``expand[]`` projection and ``Link`` headers, ``/api/models/{id}``,
``/{id}/resolve/{rev}/README.md``, ``/api/datasets/{id}``, ``/api/datasets`` (the listing), ``/api/organizations|users/{name}/overview``
arXiv's ``/api/query?id_list=...`` and OpenML's ``/api/v1/xml/...``. ``/_replay/stats`` reports request
counts per route.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import signal
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from devstack.replay import bioimageio, dump, openml
from devstack.replay.models import snapshot_models

log = logging.getLogger(__name__)

PAGE_SIZE = 50
ATOM_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom">\n'
    "  <id>https://arxiv.org/api/replay</id>\n  <title>arXiv Query</title>\n"
    "  <updated>2026-01-01T00:00:00Z</updated>\n"
    "  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
    "  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
    "  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>\n"
)


class Snapshot:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.models = snapshot_models(root)
        self.datasets = self._load_json_dir("datasets")
        self.accounts = self._load_json_dir("accounts")
        self.openml = openml.OpenMLSnapshot(root / "openml")
        self.bioimageio = bioimageio.BioImageIOSnapshot(root / "bioimageio")
        self.dumps = dump.DumpSnapshot(root)
        faults_file = root / "faults.json"
        self.faults: list[dict[str, Any]] = json.loads(faults_file.read_text()) if faults_file.exists() else []

    def _load_json_dir(self, name: str) -> dict[str, dict[str, Any]]:
        records: dict[str, dict[str, Any]] = {}
        for path in sorted((self.root / name).glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            key = record.get("id") or record.get("name") or path.stem.replace("__", "/")
            records[key] = record
        return records

    def arxiv_entry(self, arxiv_id: str) -> str | None:
        base = arxiv_id.split("v")[0] if arxiv_id[:4].isdigit() else arxiv_id
        path = self.root / "arxiv" / f"{base.replace('/', '_')}.xml"
        return path.read_text(encoding="utf-8") if path.exists() else None


def project(record: dict[str, Any], expand: list[str]) -> dict[str, Any]:
    """What the Hub returns for ``expand[]``: only the asked properties, plus the ids."""
    if not expand:
        return record
    keep = {"_id", "id", *expand}
    return {key: value for key, value in record.items() if key in keep}


class ReplayHandler(BaseHTTPRequestHandler):
    server: ReplayServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("replay: " + format, *args)

    # -- plumbing ----------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout on a stalled answer): nobody is left to answer

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(value).encode(), "application/json; charset=utf-8", headers)

    def _not_found(self, code: str, message: str) -> None:
        self._json(404, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message})

    def _injected_fault(self, path: str) -> bool:
        """Answer with the first matching fault: a status, or a stall of ``delay`` seconds (then the
        status, or the normal answer when the fault has none)."""
        with self.server.lock:
            fault = next((f for f in self.server.snapshot.faults if path.startswith(f["path"]) and f.get("times", 1) > 0), None)
            if fault is None:
                return False
            fault["times"] = fault.get("times", 1) - 1
            self.server.stats["fault"] += 1
        if fault.get("delay"):
            time.sleep(fault["delay"])
        if "status" not in fault:
            return False
        headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
        if "location" in fault:
            headers["Location"] = fault["location"]
        self._json(fault["status"], {"error": "injected fault"}, headers)
        return True

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        if path == "/_replay/stats":
            self._json(200, dict(self.server.stats))
            return
        with self.server.lock:
            self.server.paths[path] += 1
        if self._injected_fault(path):
            return
        snapshot = self.server.snapshot
        expand = query.get("expand[]", []) + query.get("expand", [])
        with self.server.lock:
            self.server.stats["total"] += 1

        if path.startswith(openml.PREFIX):
            self._count("openml")
            status, body = snapshot.openml.answer(path)
            # OpenML's server compresses its answers; its client warns when one is not.
            gzipped = "gzip" in self.headers.get("Accept-Encoding", "")
            self._send(status, gzip.compress(body.encode()) if gzipped else body.encode(), "text/xml; charset=utf-8",
                       {"Content-Encoding": "gzip"} if gzipped else None)
        elif snapshot.bioimageio.handles(path):
            self._count("bioimageio")
            status, body, content_type = (snapshot.bioimageio.listing(query) if path == bioimageio.LIST_PATH
                                          else snapshot.bioimageio.answer(path, query.get("version", [None])[0]))
            self._send(status, body, content_type)
        elif path == "/api/models":
            self._count("api")
            self._list_models(query, expand)
        elif path == "/api/datasets":
            self._count("api")
            self._list(list(snapshot.datasets.values()), path, query, expand)
        elif path.startswith(("/api/models/", "/api/datasets/")):
            self._count("api")
            prefix = "/api/models/" if path.startswith("/api/models/") else "/api/datasets/"
            repo_id = path.removeprefix(prefix).split("/revision/")[0]
            record = (snapshot.models.get(repo_id) if prefix == "/api/models/"
                      else snapshot.datasets.get(repo_id) or snapshot.dumps.info(repo_id))
            if record is None:
                self._not_found("RepoNotFound", f"Repository not found: {repo_id}")
            else:
                self._json(200, project(record, expand))
        elif path.startswith(("/api/organizations/", "/api/users/")) and path.endswith("/overview"):
            self._count("api")
            kind = "org" if path.startswith("/api/organizations/") else "user"
            name = path.split("/")[3]
            record = snapshot.accounts.get(name)
            if record is None or record.get("type") != kind:
                self._not_found("EntityNotFound", f"{kind} not found: {name}")
            else:
                self._json(200, record)
        elif path == "/api/query":
            self._count("arxiv")
            self._arxiv(query)
        elif path.startswith("/datasets/") and "/resolve/" in path:
            self._count("resolve")
            dataset, rest = path.removeprefix("/datasets/").split("/resolve/", 1)
            found = snapshot.dumps.file(dataset, rest.split("/", 1)[-1])
            if found is None:
                self._not_found("EntryNotFound", f"{rest} not found in dataset {dataset}")
            else:
                self._send(200, found.read_bytes(), "application/octet-stream")
        elif "/resolve/" in path and path.endswith("/README.md"):
            self._count("resolve")
            repo_id = path.lstrip("/").split("/resolve/")[0]
            card = snapshot.models.card(repo_id)
            if card is None:
                self._not_found("EntryNotFound", f"README.md not found in {repo_id}")
            else:
                self._send(200, card, "text/markdown; charset=utf-8",
                           {"X-Repo-Commit": (snapshot.models.get(repo_id) or {}).get("sha", ""), "ETag": '"card"'})
        else:
            self._count("unknown")
            self._not_found("NotFound", f"no route for {path}")

    def _count(self, route: str) -> None:
        with self.server.lock:
            self.server.stats[route] += 1

    def _list_models(self, query: dict[str, list[str]], expand: list[str]) -> None:
        """The model listing, as ``_list`` pages it; its cursor is the models served so far and
        where the next page starts (``<served>:<position>``)."""
        limit = int(query["limit"][0]) if "limit" in query else None
        served_text, _, position = query.get("cursor", [""])[0].partition(":")
        served = int(served_text or 0)
        size = self.server.page_size if limit is None else max(0, min(self.server.page_size, limit - served))
        try:
            page, following = self.server.snapshot.models.page(query.get("sort", [None])[0], position or None, size)
        except ValueError as exc:
            self._json(400, {"error": str(exc)})
            return
        headers = {}
        if following is not None and size and (limit is None or served + len(page) < limit):
            params = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
            params.append(("cursor", f"{served + len(page)}:{following}"))
            host = self.headers.get("Host", f"127.0.0.1:{self.server.server_port}")
            headers["Link"] = f'<http://{host}/api/models?{urlencode(params)}>; rel="next"'
        self._json(200, [project(m, expand) for m in page], headers)

    def _list(self, records: list[dict[str, Any]], path: str, query: dict[str, list[str]], expand: list[str]) -> None:
        """A listing as the Hub pages it: ``limit`` in all (all when not given), pages of at most the
        server's page size, the next page's address in a ``Link`` header (``cursor``)."""
        sort = query.get("sort", [None])[0]
        if sort:
            records.sort(key=lambda m: str(m.get(sort) or ""), reverse=True)
        limit = int(query.get("limit", [len(records)])[0])
        cursor = int(query.get("cursor", ["0"])[0])
        page_size = min(limit, self.server.page_size)
        page = records[cursor : min(cursor + page_size, limit)]
        headers = {}
        following = cursor + len(page)
        if following < min(limit, len(records)):
            params = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
            params.append(("cursor", str(following)))
            host = self.headers.get("Host", f"127.0.0.1:{self.server.server_port}")
            headers["Link"] = f'<http://{host}{path}?{urlencode(params)}>; rel="next"'
        self._json(200, [project(m, expand) for m in page], headers)

    def _arxiv(self, query: dict[str, list[str]]) -> None:
        ids = [i for i in ",".join(query.get("id_list", [""])).split(",") if i]
        start = int(query.get("start", ["0"])[0])
        per_page = int(query.get("max_results", ["10"])[0])
        entries = [e for e in (self.server.snapshot.arxiv_entry(i) for i in ids) if e]
        page = entries[start : start + per_page]
        body = ATOM_HEAD.format(total=len(entries), start=start, per_page=per_page) + "".join(page) + "</feed>\n"
        self._send(200, body.encode("utf-8"), "application/atom+xml; charset=utf-8")


class ReplayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, snapshot_dir: Path, port: int = 0, page_size: int = PAGE_SIZE) -> None:
        super().__init__(("127.0.0.1", port), ReplayHandler)
        self.snapshot = Snapshot(snapshot_dir)
        self.page_size = page_size
        self.stats: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()  # requests per path (tests assert what was, or was not, asked for)
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def server_close(self) -> None:
        super().server_close()
        self.snapshot.dumps.close()

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, daemon=True, name="replay-server")
        thread.start()
        return thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--page-size", type=int, default=PAGE_SIZE)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    server = ReplayServer(args.snapshot, args.port, args.page_size)
    log.info("replaying %s on %s (%d models)", args.snapshot, server.url, len(server.snapshot.models))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped by its PID: the dump it made is removed too
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
