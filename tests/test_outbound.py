"""No request to a host nobody named: every source's clients fetch only from the origins their
connection names (and the public service's own), never from a URL a record gives, nor through a
redirect; and the zoo's descriptions are the ones its index names (sha256), by ids of the collection.

A *canary* server on loopback, which no connection names, counts every request it receives: the
hostile records below point at it, and it must receive none while the good records are all loaded."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml
from conftest import FIXTURE_SNAPSHOT, fresh_world, query, start_replay
from pipeline import lines, run_source_chain

from mlentory.outbound import Origins, RefusedURL, origin, origins_of

ZOO = "https://bioimage.io/#/artifacts/"
METADATA_SERVICE = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


class Canary:
    """An HTTP server on loopback that answers every request with a secret and counts it."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                hits.append(self.path)
                body = b"type: model\nname: canary secret\ndescription: AKIA-CANARY-SECRET\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.hits = hits
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canary():
    server = Canary()
    yield server
    server.stop()


# The rule itself --------------------------------------------------------------------------------------

def resolver(addresses: dict[str, str]):  # noqa: ANN201 - a getaddrinfo stand-in
    def resolve(host: str, *args: Any, **kwargs: Any) -> list[tuple]:
        if host not in addresses:
            raise OSError("unknown host")
        return [(2, 1, 6, "", (addresses[host], 0))]

    return resolve


def test_only_named_origins_and_the_services_public_ones_are_fetched():
    origins = Origins("zoo_default", named=origins_of(["http://127.0.0.1:8765", "https://mirror.example.org"]),
                      known=origins_of(["https://hypha.aicell.io"]), known_domains=(".hf.co",),
                      resolve=resolver({"hypha.aicell.io": "3.5.140.2", "cdn.hf.co": "18.1.2.3", "evil.hf.co": "10.0.0.7"}))
    allowed = ["http://127.0.0.1:8765/bioimage-io/artifacts/x/files/rdf.yaml?version=v0",  # named: loopback allowed
               "https://MIRROR.example.org:443/a", "https://hypha.aicell.io/bioimage-io/x", "https://cdn.hf.co/repos/ab/cd"]
    for url in allowed:
        assert origins.refusal(url) is None, url
    refused = {
        "http://127.0.0.1:8766/x": "does not name",  # another port of a named host
        METADATA_SERVICE: "private, loopback or link-local",
        "http://[::1]:8765/x": "private, loopback or link-local",
        "http://[::ffff:169.254.169.254]/": "private, loopback or link-local",
        "http://10.1.2.3/x": "private, loopback or link-local",
        "file:///etc/passwd": "is not fetched",
        "gopher://127.0.0.1:8765/x": "is not fetched",
        "//127.0.0.1:8765/x": "without a scheme",
        "http://user:pw@127.0.0.1:8765/x": "credentials",
        "http://hypha.aicell.io/x": "not an origin",  # the known origin is https only
        "https://evil.hf.co/x": "resolves to a private",  # a known domain whose name points inside
        "https://example.com/x": "not an origin",
        "http://127.0.0.1:99999/": "no origin",
    }
    for url, reason in refused.items():
        assert reason in (origins.refusal(url) or ""), (url, origins.refusal(url))
    assert origins.refusal(42) == "no URL"
    with pytest.raises(RefusedURL, match="not fetched: .*zoo_default"):
        origins.check("https://example.com/")
    assert origin("HTTPS://Hypha.AICell.io/x?y") == "https://hypha.aicell.io:443"


def test_the_hub_arxiv_and_openml_clients_refuse_a_redirect_to_a_host_nobody_named(canary, tmp_path, monkeypatch):
    """Each source's client, as its hook builds it from the connection, against a server that
    redirects every request to the canary."""
    snapshot = tmp_path / "snapshot"
    import shutil

    shutil.copytree(FIXTURE_SNAPSHOT, snapshot)
    (snapshot / "faults.json").write_text(json.dumps([{"path": "/", "status": 302, "location": canary.url + "/stolen", "times": 100}]))
    replay = start_replay(snapshot)
    monkeypatch.setenv("AIRFLOW_VAR_MLENTORY_DATA_ROOT", str(tmp_path / "data"))
    try:
        from mlentory.enrichment.arxiv_papers import ArxivHook, fetch_articles
        from mlentory.sources.huggingface.hook import HuggingFaceHubHook
        from mlentory.sources.openml.hook import OpenMLHook

        hub = HuggingFaceHubHook().get_conn()
        with pytest.raises(RefusedURL):
            hub.model("acme-ai/sentiment-lm")
        with pytest.raises(RefusedURL):
            hub.model_card("acme-ai/sentiment-lm", "main")
        with pytest.raises(RefusedURL):
            fetch_articles(ArxivHook().get_conn(), ["1810.04805"])
        openml = OpenMLHook(tmp_path / "openml-cache").get_conn()
        with pytest.raises(RefusedURL):
            openml.flow(5001)
    finally:
        replay.shutdown()
        replay.server_close()
    assert canary.hits == []
    assert replay.stats["fault"] >= 4  # each client did ask its own server, which redirected


# The zoo in production mode: no mirror, the index's own origin --------------------------------------

SHARK_DIR = FIXTURE_SNAPSHOT / "bioimageio" / "rdf_content" / "bioimage-io" / "fixture-shark" / "v0"


def zoo_item(server: str, name: str, body: bytes | None, sha256: str | None = None, **changes: Any) -> dict[str, Any]:
    version = {"version": "v0", "created_at": "2026-01-01T00:00:00Z", "source": f"{server}/bioimage-io/artifacts/{name}/files/rdf.yaml?version=v0",
               "sha256": sha256 or hashlib.sha256(body or b"").hexdigest()}
    return {"id": f"bioimage-io/{name}", "type": "model", "versions": [version], **changes}


@pytest.fixture(scope="module")
def hostile_zoo(stores, tmp_path_factory):
    """The fixture's collection served as the real one is (no mirror: the connection names the index
    at the replay's own origin), with hostile items and descriptions beside the good ones."""
    canary = Canary()
    snapshot = fresh_world(stores, tmp_path_factory, "hostile-zoo")
    zoo = snapshot / "bioimageio"
    replay = start_replay(snapshot)
    server = f"http://127.0.0.1:{replay.server_port}"
    shark = (SHARK_DIR / "rdf.yaml").read_bytes()
    content = yaml.safe_load(shark)

    def description(resource: str, **changes: Any) -> bytes:
        body = yaml.safe_dump({**content, **changes}, allow_unicode=True).encode()
        folder = zoo / "rdf_content" / "bioimage-io" / resource / "v0"
        folder.mkdir(parents=True)
        (folder / "rdf.yaml").write_bytes(body)
        (folder / "documentation.md").write_bytes((SHARK_DIR / "documentation.md").read_bytes())
        return body

    index = json.loads((zoo / "index.json").read_text())
    for item in index["items"]:  # the collection's own items, at the replay's origin as their server
        for version in item["versions"]:
            version["source"] = version["source"].replace("https://hypha.aicell.io", server)
    good = {"twin-a": description("twin-a", name="Twin A"), "docs-elsewhere": description("docs-elsewhere", documentation=canary.url + "/doc.md"),
            "docs-metadata": description("docs-metadata", documentation=METADATA_SERVICE + "README.md"),
            "docs-redirected": description("docs-redirected", documentation="redirected.md")}
    copycat = description("copycat", name="Copycat")  # claims twin-a's digest: its own bytes differ
    index["items"] += [zoo_item(server, name, body) for name, body in good.items()]
    index["items"] += [
        zoo_item(server, "copycat", copycat, sha256=hashlib.sha256(good["twin-a"]).hexdigest()),
        {**zoo_item(server, "at-canary", shark), "versions": [{**zoo_item(server, "at-canary", shark)["versions"][0],
                                                               "source": canary.url + "/rdf.yaml"}]},
        {**zoo_item(server, "at-metadata", shark), "versions": [{**zoo_item(server, "at-metadata", shark)["versions"][0],
                                                                 "source": METADATA_SERVICE}]},
        {**zoo_item(server, "at-file", shark), "versions": [{**zoo_item(server, "at-file", shark)["versions"][0], "source": "file:///etc/passwd"}]},
        {**zoo_item(server, "x", shark), "id": "bioimage-io/../../etc/passwd"},
        {**zoo_item(server, "x", shark), "id": "../evil"},
        {**zoo_item(server, "x", shark), "id": "bioimage-io/" + "a" * 300},
        {**zoo_item(server, "typed-list", shark), "type": ["model"]},
        {**zoo_item(server, "typed-number", shark), "type": 7},
        {**zoo_item(server, "odd-digest", shark), "versions": [{**zoo_item(server, "odd-digest", shark)["versions"][0], "sha256": "../../x"}]},
    ]
    (zoo / "index.json").write_text(json.dumps(index))  # read at each request
    replay.snapshot.faults.append(
        {"path": "/bioimage-io/artifacts/docs-redirected/files/redirected.md", "status": 302, "location": canary.url + "/r", "times": 10})
    os.environ["AIRFLOW_CONN_BIOIMAGEIO_DEFAULT"] = json.dumps({"conn_type": "http", "extra": {"index_url": server + "/collection/index.json"}})
    try:
        run_folder = run_source_chain("ai4life", {"num_resources": 100}, max_error_rate=1.0)
    finally:
        replay.shutdown()
        replay.server_close()
        canary.stop()
        os.environ["AIRFLOW_CONN_BIOIMAGEIO_DEFAULT"] = json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": 1, "schema": "http"})
    return {"run_folder": run_folder, "stores": stores, "canary": canary.hits}


def loaded_models(stores) -> dict[str, dict[str, Any]]:
    rows = query(stores, "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__source = 'ai4life' AND m.mlentory__sourceSha IS NOT NULL "
                         "RETURN m.schema__identifier AS id, m.schema__name AS name, m.schema__description AS description")
    return {row["id"]: row for row in rows}


def test_no_request_reaches_a_host_the_connection_does_not_name(hostile_zoo):
    assert hostile_zoo["canary"] == []
    models = loaded_models(hostile_zoo["stores"])
    # Every good model is loaded, those whose documentation was refused too (without it).
    assert {"bioimage-io/fixture-shark", "bioimage-io/fixture-legacy", "bioimage-io/twin-a", "bioimage-io/docs-elsewhere",
            "bioimage-io/docs-metadata", "bioimage-io/docs-redirected"} <= models.keys()
    assert not any("CANARY" in str(row) for row in models.values())
    warnings = {(w.get("id"), w["what"]): w["reason"] for w in lines(hostile_zoo["run_folder"] / "warnings.jsonl")}
    for name in ("at-canary", "at-metadata", "at-file"):
        assert "not fetched" in warnings[(f"bioimage-io/{name}", "description")], name
        assert f"bioimage-io/{name}" not in models
    assert "private, loopback or link-local" in warnings[("bioimage-io/at-metadata", "description")]
    assert "only http and https" in warnings[("bioimage-io/at-file", "description")]
    for name in ("docs-elsewhere", "docs-metadata", "docs-redirected"):
        assert "not fetched" in warnings[(f"bioimage-io/{name}", "documentation")], name


def test_a_description_is_the_one_its_index_names(hostile_zoo):
    models = loaded_models(hostile_zoo["stores"])
    assert models["bioimage-io/twin-a"]["name"] == "Twin A"
    assert "bioimage-io/copycat" not in models  # not loaded with twin-a's description either
    errors = {e.get("id"): e["reason"] for e in lines(hostile_zoo["run_folder"] / "errors.jsonl")}
    assert "DigestMismatch" in errors["bioimage-io/copycat"] and "the index names" in errors["bioimage-io/copycat"]


def test_items_with_ids_outside_the_collection_or_odd_types_are_refused(hostile_zoo):
    errors = [e for e in lines(hostile_zoo["run_folder"] / "errors.jsonl") if e["what"] == "index item"]
    reasons = [e["reason"] for e in errors]
    assert sum("is not a resource id of the collection" in r for r in reasons) == 3
    assert sum("not text" in r for r in reasons) == 2 and any("not a SHA-256 digest" in r for r in reasons)
    assert not any("/etc/passwd" in str(e.get("id")) or "../evil" == e.get("id") for e in errors)  # named by position only
    models = loaded_models(hostile_zoo["stores"])
    assert not {"bioimage-io/typed-list", "bioimage-io/typed-number", "bioimage-io/odd-digest"} & models.keys()
    assert {"bioimage-io/fixture-shark", "bioimage-io/twin-a"} <= models.keys()
