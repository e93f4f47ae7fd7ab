"""Benchmark of the Hub's chain at scale: N synthetic models made from the recorded ones, served by
the replay to the real clients, through the extraction, transformation and loading functions the
DAGs' tasks call, into the local graph and index.

    .venv/bin/python benchmarks/hub_chain.py --models 10000

Each stage runs in a process of its own, as a worker runs a task, calling the task bodies in the
order the DAG runs them (the mapped ones one after another); the table gives each step's time,
models per second, the stage process's peak RSS and each step's own (its peak counter reset before it,
as in a task's process of its own), and the Hub API and
file-resolver requests per model, and the stores' own ceilings on the same records (a bare batched
``UNWIND ... MERGE``, raw ``helpers.bulk``). With ``--from-dump`` the models come from the public
dump of model cards instead of the API's listing.

With ``--airflow`` the same synthetic models go through Airflow itself: the main job's stack
(``scripts/localstack.py up --sources hf``: api-server, scheduler with the LocalExecutor,
dag-processor, triggerer, the replay and the stores) runs the three DAGs, triggered through the REST
API and cascading through the Assets; the table gives each DAG run's time, each task's time (mapped
tasks summed), and the CPU each Airflow component and the tasks used.

The synthetic models: the i-th is a copy of the (i mod T)-th recorded model (T = the recorded
models with a card, from ../shared/realdata when present, else the project's fixture) under the id
``bench-<i mod 997>/<name>-<i>``, with its own sha and modification time; 1 in 5 names the one before
it as its base model (lineage within the snapshot, no lookups of models outside it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED_REALDATA = ROOT.parent / "shared" / "realdata"
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]

ACCOUNTS = 997

from mlentory.settings import GRAPH_NODE_PARTITIONS, LINK_PARTITIONS  # noqa: E402 - the project's plugins are on the path from here


def recorded_snapshot() -> Path:
    """The recorded snapshot the synthetic models are made from: realdata's when present."""
    source = ROOT / "tests" / "fixtures" / "hub_snapshot"
    if (SHARED_REALDATA / "huggingface").is_dir():
        from devstack.replay.recordings import build_snapshot

        source = Path(tempfile.mkdtemp(prefix="mlentory-bench-recorded-")) / "snapshot"
        build_snapshot(SHARED_REALDATA, source)
    return source


def templates(source: Path) -> list[tuple[dict[str, Any], str | None]]:
    """(model record, card) of every recorded model of ``source``."""
    found = []
    for path in sorted((source / "models").glob("*.json")):
        card = source / "cards" / f"{path.stem}.md"
        found.append((json.loads(path.read_text(encoding="utf-8")), card.read_text(encoding="utf-8", errors="replace") if card.exists() else None))
    return found


# The Hub's shape, which the synthetic models follow (a model's draws are fixed by its number):
# - a card: the dump of model cards holds 0.6-0.75 million rows for the 2.9 million models the Hub
#   lists, so about a quarter of the models have one;
# - tags: 45% of the Hub's models have none, and 8% have a ``model-index`` (issue 21's figures from
#   the listing); a synthetic model keeps its template's tags and model-index at those rates;
# - card length and front matter: those of the recorded cards (drawn evenly from them).
HUB_SHAPE = {"card": 0.25, "tags": 0.55, "model_index": 0.08}
# ``--recorded-shape``: every synthetic model a full copy of its template (card, tags, model-index).
RECORDED_SHAPE = {"card": 1.0, "tags": 1.0, "model_index": 1.0}


def _draw(i: int, what: str) -> float:
    """A number in [0, 1) fixed by the model's number and what is drawn (the same in every run)."""
    return int.from_bytes(hashlib.blake2b(f"{what}:{i}".encode(), digest_size=4).digest(), "big") / 2**32


def synthetic_snapshot(target: Path, models: int, shape: dict[str, float] = HUB_SHAPE) -> dict[str, int]:
    """``models`` synthetic models (and their cards) in the replay's snapshot, in its ``models.sqlite``
    (a million model files would be slow to write and the replay could not hold them), with the
    recorded datasets and papers they name (the accounts are the synthetic ones: none is recorded),
    in the ``shape`` of the Hub; returns how many have a card, tags and a model-index."""
    from devstack.replay.models import shelve

    source = recorded_snapshot()
    recorded = templates(source)
    counts = {"card": 0, "tags": 0, "model_index": 0}
    target.mkdir(parents=True)
    for shared in ("datasets", "arxiv"):
        if (source / shared).is_dir():
            shutil.copytree(source / shared, target / shared)
    shelve(target, _synthetic_models(recorded, models, shape, counts))
    if source.is_relative_to(tempfile.gettempdir()):  # the realdata snapshot built for this run
        shutil.rmtree(source.parent, ignore_errors=True)
    return counts


def _synthetic_models(recorded: list[tuple[dict[str, Any], str | None]], models: int, shape: dict[str, float],
                      counts: dict[str, int]) -> Iterator[tuple[dict[str, Any], str | None]]:
    """The synthetic models (record, card) one at a time, counting what they have in ``counts``."""
    newest = datetime(2026, 11, 1, tzinfo=UTC)
    def tagged(record: dict[str, Any]) -> list[str]:
        return [t for t in record.get("tags") or [] if not str(t).startswith("base_model:")]

    def has_index(record: dict[str, Any]) -> bool:
        return bool(record.get("model-index") or (record.get("cardData") or {}).get("model-index"))

    # The templates by what a model draws (a card, tags, a model-index, or not): e.g. a model drawn
    # with a card and tags is a copy of a recorded model that has both.
    def pool_of(card: bool, tags: bool, index: bool) -> list[tuple[dict[str, Any], str | None]]:
        return [t for t in recorded if (t[1] is not None or not card) and (bool(tagged(t[0])) or not tags) and (has_index(t[0]) or not index)]

    pools = {(c, t, x): pool_of(c, t, x) or pool_of(c, t, False) or recorded for c in (True, False) for t in (True, False) for x in (True, False)}
    names = {id(t): n for n, t in enumerate(recorded)}
    without_index: dict[int, str] = {}  # a template's card without its model-index, made once
    previous_template = 0  # the template of the model before: a base model is named after its own
    for i in range(models):
        with_card, with_tags = _draw(i, "card") < shape["card"], _draw(i, "tags") < shape["tags"]
        pool = pools[(with_card, with_tags, _draw(i, "model_index") < shape["model_index"])]
        record, card = pool[i % len(pool)]
        template = names[id(pool[i % len(pool)])]
        card = card if with_card else None
        name = record["id"].split("/")[-1]
        model_id = f"bench-{i % ACCOUNTS:03d}/{name}-{i}"
        sha = hashlib.sha1(model_id.encode()).hexdigest()
        tags = tagged(record) if with_tags else []
        card_data = dict(record.get("cardData") or {})
        card_data.pop("base_model", None)
        record = dict(record)
        if _draw(i, "model_index") >= shape["model_index"]:
            for key in ("model-index", "model_index"):
                card_data.pop(key, None)
                record.pop(key, None)
            if card:
                card = without_index.setdefault(template, _without_model_index(card))
        counts["card"] += card is not None
        counts["tags"] += bool(tags)
        counts["model_index"] += bool(card_data.get("model-index") or record.get("model-index"))
        if i % 5 == 1:
            base = f"bench-{(i - 1) % ACCOUNTS:03d}/{recorded[previous_template][0]['id'].split('/')[-1]}-{i - 1}"
            tags.append(f"base_model:finetune:{base}")
            card_data["base_model"] = base
        previous_template = template
        yield ({**record, "_id": sha[:24], "id": model_id, "modelId": model_id, "author": model_id.split("/")[0], "sha": sha,
                "lastModified": (newest - timedelta(minutes=i)).isoformat().replace("+00:00", ".000Z"), "tags": tags,
                "cardData": card_data, "siblings": [{"rfilename": "README.md"}] if card else [{"rfilename": "config.json"}]}, card)


def _without_model_index(card: str) -> str:
    """The card without the ``model-index`` of its front matter (the rest of the front matter kept)."""
    import yaml

    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n", card, re.DOTALL)
    if not match:
        return card
    try:
        metadata = yaml.load(match.group(1), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return card
    if not isinstance(metadata, dict) or "model-index" not in metadata:
        return card
    metadata.pop("model-index")
    return f"---\n{yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True)}---\n{card[match.end():]}"


# -- the stages, each in a child process ---------------------------------------------------------

def timed(steps: dict[str, Any], name: str, call, *args):  # noqa: ANN001, ANN201
    """Call, adding its wall and CPU seconds (this process's) to the step ``name``, and keeping the
    step's own peak RSS: what the earlier steps freed is handed back to the system and the peak
    counter reset first, so the figure is near what the step's task would hold in a process of its own."""
    _release_and_reset_peak()
    started, cpu = time.perf_counter(), time.process_time()
    result = call(*args)
    wall_so_far, cpu_so_far = steps.get(name, (0.0, 0.0))
    steps[name] = (wall_so_far + time.perf_counter() - started, cpu_so_far + time.process_time() - cpu)
    calls, peak_so_far = STEP_DETAIL.get(name, (0, 0.0))
    STEP_DETAIL[name] = (calls + 1, max(peak_so_far, peak_rss_mb()))
    if os.environ.get("BENCH_RSS"):
        print(f"{name}: peak RSS {peak_rss_mb():.0f} MB", file=sys.stderr)
    return result


# A step's calls (a mapped step's: its partitions) and its own peak RSS (the largest of its calls').
STEP_DETAIL: dict[str, tuple[int, float]] = {}
_PROCESS_PEAK = [0.0]  # the process's peak over the steps (the kernel's counter is reset before each)


def _release_and_reset_peak() -> None:
    import ctypes
    import gc

    _PROCESS_PEAK[0] = max(_PROCESS_PEAK[0], peak_rss_mb())
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc: freed heap pages back to the system
        Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM reset to the current RSS
    except OSError:
        pass  # not glibc or not Linux: the peaks are the process's since it started, an upper bound


def peak_rss_mb() -> float:
    """This process's peak RSS (``VmHWM``: since it started, or since the last reset). Not
    ``ru_maxrss``: a child started by fork counts the parent's pages it was forked with (here the
    replay's snapshot)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_peak_rss_mb() -> float:
    return max(_PROCESS_PEAK[0], peak_rss_mb())


def extraction_stage(run_folder: str, models: int, from_dump: bool) -> dict[str, float]:
    from mlentory.pipeline.extraction import collect_chunk_mentions, plan_lookup_tasks, plan_record_chunks
    from mlentory.sources import HUGGINGFACE
    from mlentory.sources.huggingface import DUMP_DATASET as HF_DUMP_DATASET
    from mlentory.sources.huggingface import MAX_CARD_FETCHES, extraction, listing
    from mlentory.sources.huggingface.hook import HuggingFaceHubHook

    hub, steps = HuggingFaceHubHook().get_conn(), {}
    if from_dump:
        timed(steps, "dump", extraction.harvest_dump, run_folder, hub, HF_DUMP_DATASET, "main", models)
    else:
        for job in timed(steps, "listing", listing.list_latest_pages, run_folder, hub, models):
            timed(steps, "listing parse", listing.parse_listed_pages, job["run_folder"], job["pages"])
    timed(steps, "merge", extraction.merge_raw_models, run_folder, False)
    timed(steps, "ancestors", extraction.add_ancestor_models, run_folder, hub, 1, False)
    for job in timed(steps, "card plan", extraction.plan_model_cards, run_folder, MAX_CARD_FETCHES):  # the DAG's default
        timed(steps, "card chunks", extraction.read_card_chunk, job["run_folder"], hub, job["chunk"])
    timed(steps, "card end", extraction.finish_model_cards, run_folder)
    for job in timed(steps, "record chunks", plan_record_chunks, HUGGINGFACE, run_folder):
        timed(steps, "mentions", collect_chunk_mentions, HUGGINGFACE, job["run_folder"], job["chunk"])
    for kind in ("datasets", "articles", "keywords", "tasks", "licenses", "languages"):
        timed(steps, f"identify {kind}", extraction.identify_entities_with_connections, run_folder, kind)
    for job in timed(steps, "lookup plan", plan_lookup_tasks, run_folder):  # the accounts: mapped over partitions of their keys
        timed(steps, "identify organisations", extraction.identify_entities_with_connections, job["run_folder"], "organisations", job["partitions"])
    timed(steps, "finish", extraction.finish_extraction, run_folder, 1.0)
    return steps


def transformation_stage(run_folder: str) -> dict[str, float]:
    from mlentory.pipeline import entity_links, transformation
    from mlentory.sources import HUGGINGFACE

    steps: dict[str, float] = {}
    jobs = timed(steps, "plan", transformation.plan_property_jobs, HUGGINGFACE, [run_folder])
    for job in jobs:
        timed(steps, "property groups", transformation.extract_properties, HUGGINGFACE, job["run_folder"], job["chunk"])
    link_jobs = timed(steps, "plan", entity_links.plan_link_tasks, [run_folder])
    for job in link_jobs:
        timed(steps, "linking", transformation.link_entities, HUGGINGFACE, job["run_folder"], job["partitions"])
    for job in jobs:
        timed(steps, "normalize chunks", transformation.normalize_chunk, HUGGINGFACE, job["run_folder"], job["chunk"])
    for job in link_jobs:
        timed(steps, "entity merge", entity_links.merge_entities, job["run_folder"], job["partitions"])
    timed(steps, "normalize end", transformation.normalize_models, HUGGINGFACE, run_folder, 1.0)
    return steps


def loading_stage(run_folder: str, index: bool = True) -> dict[str, float]:
    from mlentory.pipeline import loading
    from mlentory.settings import ES_MODELS_INDEX
    from mlentory.stores.clients import graph_store, search_client

    steps: dict[str, float] = {}
    driver = graph_store()
    timed(steps, "graph schema", loading.prepare_graph, driver)
    for partitions in timed(steps, "plan", loading.plan_node_tasks, [run_folder]):
        timed(steps, "graph nodes", loading.create_graph_nodes, [run_folder], driver, partitions)
    for job in timed(steps, "plan", loading.plan_loading, [run_folder]):
        timed(steps, "graph entities", loading.load_entities, job["run_folder"], job["kind"], driver, job["partitions"])
    es = search_client()
    for job in timed(steps, "plan", loading.plan_model_loads, [run_folder]):  # the mapped task of a chunk: its three steps
        timed(steps, "graph models", loading.load_models, job["run_folder"], job["chunk"], driver)
        if index:  # the task judges its models' licences between the graph and the index: timed apart from the index
            rules = timed(steps, "chunk licence findings", loading.chunk_licence_rules, job["run_folder"], job["chunk"], driver)
            timed(steps, "index chunks", loading.index_chunk, job["run_folder"], job["chunk"], es, ES_MODELS_INDEX, rules)
        timed(steps, "report chunks", loading.account_chunk, job["run_folder"], job["chunk"])
    for partitions in loading.plan_node_tasks([run_folder]):  # the node tasks' plan, timed above
        timed(steps, "history", loading.record_history, [run_folder], partitions)
    if index:
        timed(steps, "index end", loading.finish_index, run_folder, es, ES_MODELS_INDEX)
    for partitions in loading.plan_node_tasks([run_folder]):  # in the history's partitions, after it and the index
        timed(steps, "licence findings", loading.find_licence_findings, [run_folder], partitions, driver, es, ES_MODELS_INDEX)
    summary = timed(steps, "report", loading.finish_loading, run_folder, 1.0)
    steps["models loaded"] = (summary["models_loaded"], 0)  # a count, not a time: reported apart
    return steps


def baselines_stage(run_folder: str) -> dict[str, float]:
    """The stores' own ceilings on the same records, as the issue defines them: a bare batched
    ``UNWIND ... MERGE`` of the same nodes (with their labels) and relationships, and raw
    ``helpers.bulk`` of the same search documents. Only the writes are timed (the rows and documents
    are built before), so the ratios against our loading are, if anything, unfavourable to us. The
    graph is emptied first: the baseline writes into an empty graph as our loading did. (A
    relationship's end is found with ``MERGE``: the local stand-in plans ``MATCH ... MATCH`` of two
    nodes several times slower.)"""
    from collections import defaultdict

    from elasticsearch.helpers import bulk

    from mlentory.fair4ml.jsonld import read_jsonld
    from mlentory.pipeline import loading
    from mlentory.pipeline.entity_links import LINKED_KINDS, read_entities
    from mlentory.pipeline.run_folder import RunFolder
    from mlentory.stores.clients import graph_store, search_client
    from mlentory.stores.graph import graph_rows
    from mlentory.stores.search_index import (
        document_id,
        ensure_index,
        evaluation_documents,
        evaluations_index,
        model_document,
        refresh_indices,
    )

    run = RunFolder(Path(run_folder))
    driver, es, steps = graph_store(), search_client(), {}
    empty_graph(driver)
    models = [r for path in run.stage_dir("transformation").glob("models/*.jsonld") for r in read_jsonld(path)]
    entities = [r for kind in LINKED_KINDS for r in read_entities(run, kind)]
    rows = [row for record in [*entities, *models] for row in graph_rows(record)]
    nodes = {row.uri: row for row in rows}  # one write per node, the last record's (as a reload would)
    targets = sorted({t for row in rows for ts in row.relationships.values() for t in ts} - set(nodes))
    by_label, pairs = defaultdict(list), defaultdict(list)
    for row in nodes.values():
        by_label[row.label].append(row.uri)
        for rel_type, ts in row.relationships.items():
            pairs[rel_type] += [{"from": row.uri, "to": t} for t in ts]
    batch = 1_000

    def batches(items: list) -> Iterator[list]:
        return (items[i:i + batch] for i in range(0, len(items), batch))

    def write(session, cypher: str, **parameters: Any) -> None:  # noqa: ANN001 - one statement, one transaction
        session.execute_write(lambda tx: tx.run(cypher, **parameters).consume())

    def write_nodes() -> None:
        with driver.session() as session:
            node_rows = [{"uri": r.uri, "props": r.props} for r in nodes.values()]
            for part in batches(node_rows):
                write(session, "UNWIND $rows AS row MERGE (n:Resource {uri: row.uri}) SET n = row.props", rows=part)
            for part in batches(targets):
                write(session, "UNWIND $uris AS uri MERGE (:Resource {uri: uri})", uris=part)
            for label, uris in by_label.items():
                for part in batches(uris):
                    write(session, f"UNWIND $uris AS uri MATCH (n:Resource {{uri: uri}}) SET n:{label}", uris=part)

    def write_relationships() -> None:
        with driver.session() as session:
            for rel_type, typed in pairs.items():
                for part in batches(typed):
                    write(session, f"UNWIND $pairs AS p MATCH (a:Resource {{uri: p.from}}) MERGE (b:Resource {{uri: p.to}}) "
                                   f"MERGE (a)-[:{rel_type}]->(b)", pairs=part)

    timed(steps, "bare UNWIND MERGE nodes", write_nodes)
    timed(steps, "bare UNWIND MERGE relationships", write_relationships)
    index = "mlentory_models_baseline"
    ensure_index(es, index)
    labels = loading.entity_labels(run)
    # The same documents the loading writes: each model's, and each of its metric values' beside it.
    actions = [action for r in models for action in (
        {"_op_type": "index", "_index": index, "_id": document_id(r["@id"]), "_source": model_document(r, labels)},
        *({"_op_type": "index", "_index": evaluations_index(index), "_id": value_id, "_source": document}
          for value_id, document in evaluation_documents(r, labels)))]

    def write_index() -> None:
        bulk(es, actions, chunk_size=500)
        refresh_indices(es, index)

    timed(steps, "raw helpers.bulk", write_index)
    return steps


def empty_graph(driver: Any) -> None:  # a neo4j Driver or the project's GraphStore
    """Every node and relationship deleted, in batches (one transaction of the whole graph is too big)."""
    with driver.session() as session:
        while session.run("MATCH (n) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS c").single()["c"]:
            pass


def reset_stores() -> dict[str, float]:
    """Empty graph and index: each round of loading and baselines starts from the same (empty) state."""
    from mlentory.settings import ES_MODELS_INDEX
    from mlentory.stores.clients import graph_store, search_client

    empty_graph(graph_store())
    es = search_client()
    for index in (ES_MODELS_INDEX, "mlentory_models_baseline"):
        es.indices.delete(index=index, ignore_unavailable=True)
    return {}


def child(stage: str, run_folder: str, models: int, from_dump: bool, index: bool = True) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    steps = {"extraction": lambda: extraction_stage(run_folder, models, from_dump), "transformation": lambda: transformation_stage(run_folder),
             "loading": lambda: loading_stage(run_folder, index), "baselines": lambda: baselines_stage(run_folder),
             "reset": reset_stores}[stage]()
    print(json.dumps({"steps": steps, "detail": STEP_DETAIL, "peak_rss_mb": process_peak_rss_mb(),
                      "task_peak_rss_mb": max((peak for _, peak in STEP_DETAIL.values()), default=0.0)}))


def run_stage(stage: str, run_folder: str, models: int, from_dump: bool, env: dict[str, str], index: bool = True) -> dict[str, Any]:
    """A stage in a child process: its steps' times, its wall time, CPU time and peak RSS."""
    started = time.perf_counter()
    command = [sys.executable, __file__, "--child", stage, "--run-folder", run_folder, "--models", str(models), *(["--from-dump"] if from_dump else []),
               *([] if index else ["--no-index"])]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{stage} failed (exit {process.returncode})")
    measured = json.loads(output.strip().splitlines()[-1])
    return {"steps": measured["steps"], "detail": measured["detail"], "wall": time.perf_counter() - started,
            "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": measured["peak_rss_mb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1_000)
    parser.add_argument("--from-dump", action="store_true", help="the models from the public dump of model cards, not the listing")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (snapshot, run folder, store data)")
    parser.add_argument("--recorded-shape", action="store_true",
                        help="every synthetic model a full copy of a recorded one (card, tags, model-index), not the Hub's shape")
    parser.add_argument("--store-rounds", type=int, default=3,
                        help="rounds of loading and the stores' ceilings, each into empty stores: the ratios are their median "
                             "(0: loading once, the ceilings not measured)")
    parser.add_argument("--warmup-rounds", type=int, default=1,
                        help="rounds of loading and the stores' ceilings run first and not counted (the first round into "
                             "just-started stores was the slowest in every run)")
    parser.add_argument("--unbudgeted", action="store_true",
                        help="no request budget (a free token's: 1,000 API and 5,000 resolver requests per 5 minutes, lookups beyond deferred)")
    parser.add_argument("--no-index", action="store_true",
                        help="with --store-rounds 0: load the graph, not the search index (the local stand-in's bulk indexing "
                             "slows with its size: a million models would take it hours; the graph, the report and the rest run)")
    parser.add_argument("--airflow", action="store_true", help="through Airflow: the main job's stack runs the three DAGs")
    parser.add_argument("--celery", action="store_true", help="with --airflow: the CeleryExecutor with two workers, Postgres and Redis")
    parser.add_argument("--object-storage", action="store_true", help="with --celery: the data root in the stack's S3-API server")
    parser.add_argument("--stack-dir", type=Path, help="with --airflow: the stack's folder (its logs, PIDs, data; default in the work folder)")
    parser.add_argument("--keep-stack", action="store_true", help="with --airflow: leave the stack running (to look at it)")
    parser.add_argument("--results-json", type=Path, help="also write the run's figures to this JSON file")
    parser.add_argument("--all-targets", action="store_true",
                        help="issue 21's targets in one command: --runs runs in process at the first of --sizes (with the stores' "
                             "ceilings), --airflow-runs through Airflow at the second, one in process at the third; then one table")
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="with --all-targets: the models of the in-process runs, the Airflow runs and the run at scale")
    parser.add_argument("--runs", type=int, default=3, help="with --all-targets: the in-process runs at the first size")
    parser.add_argument("--airflow-runs", type=int, default=3,
                        help="with --all-targets: the runs through Airflow (0: none, their targets shown as not measured)")
    parser.add_argument("--scale-results", type=Path,
                        help="with --all-targets: an earlier run at scale's --results-json, instead of running it again (hours)")
    parser.add_argument("--child", choices=("extraction", "transformation", "loading", "baselines", "reset"), help=argparse.SUPPRESS)
    parser.add_argument("--run-folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.no_index and not args.child and (args.store_rounds > 0 or args.airflow):
        parser.error("--no-index goes with --store-rounds 0 (the ceilings' rounds compare the index too), and not with --airflow")
    if args.child:
        child(args.child, args.run_folder, args.models, args.from_dump, not args.no_index)
        return
    if args.all_targets:
        sizes = [int(size) for size in args.sizes.split(",")]
        if len(sizes) != 3 or min(sizes) < 1 or args.runs < 1 or args.airflow_runs < 0:
            parser.error("--sizes takes three sizes (in process, through Airflow, at scale); --runs at least 1")
        all_targets(sizes, args.runs, args.airflow_runs, args.scale_results, args.results_json, args.store_rounds)
        return

    from devstack import servers
    from devstack.replay.server import ReplayServer

    work = Path(tempfile.mkdtemp(prefix="mlentory-bench-"))
    started = time.perf_counter()
    shape = RECORDED_SHAPE if args.recorded_shape else HUB_SHAPE
    drawn = synthetic_snapshot(work / "snapshot", args.models, shape)
    print(f"{args.models:,} synthetic models written in {time.perf_counter() - started:.1f}s ({work}): "
          + ", ".join(f"{count:,} with {what.replace('_', '-')}" for what, count in drawn.items()), flush=True)
    if args.airflow:
        try:
            figures = through_airflow(work, args.models, args.from_dump, args.unbudgeted,
                                      (*(["--celery"] if args.celery else []), *(["--object-storage"] if args.object_storage else [])),
                                      args.stack_dir, args.keep_stack)
            if args.results_json:
                args.results_json.write_text(json.dumps(figures, indent=1))
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        return
    password = "bench-" + os.urandom(8).hex()
    graph, bolt, _ = servers.start_arcadedb_on_free_ports(work / "arcadedb", password)
    index, es_port = servers.start_noida_on_free_port(work / "noida")
    replay = ReplayServer(work / "snapshot", page_size=1_000)
    replay.start_in_thread()
    try:
        def conn(**fields: object) -> str:
            return json.dumps(fields)

        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")]),
               "AIRFLOW_HOME": str(work / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
               "AIRFLOW_VAR_MLENTORY_DATA_ROOT": str(work / "data"),
               "AIRFLOW_CONN_HUGGINGFACE_DEFAULT": conn(conn_type="generic", host="127.0.0.1", port=replay.server_port, schema="http",
                                                        extra=({"api_requests": 10**9, "resolver_requests": 10**9} if args.unbudgeted else {})),
               "AIRFLOW_CONN_ARXIV_DEFAULT": conn(conn_type="http", host="127.0.0.1", port=replay.server_port, schema="http"),
               "AIRFLOW_CONN_NEO4J_DEFAULT": conn(conn_type="neo4j", host="127.0.0.1", port=bolt, login="root", password=password),
               "AIRFLOW_CONN_ELASTICSEARCH_DEFAULT": conn(conn_type="elasticsearch", host="127.0.0.1", port=es_port, schema="http")}
        sys.path[:0] = [str(ROOT / "plugins")]
        from mlentory.pipeline.run_folder import RunFolder

        run_folder = str(RunFolder.create(work / "data", "hf").path)
        stages, rounds = {}, []

        def measured(stage: str) -> dict[str, Any]:
            before = dict(replay.stats)
            result = run_stage(stage, run_folder, args.models, args.from_dump, env, not args.no_index)
            result["api"] = replay.stats["api"] - before.get("api", 0)
            result["resolve"] = replay.stats["resolve"] - before.get("resolve", 0)
            print(f"{stage} done in {result['wall']:.1f}s", flush=True)
            return result

        for stage in ("extraction", "transformation"):
            stages[stage] = measured(stage)
        if args.store_rounds <= 0:  # loading once, without the stores' ceilings (at a million models, hours saved)
            stages["loading"] = measured("loading")
        for number in range(max(0, args.warmup_rounds) + args.store_rounds if args.store_rounds > 0 else 0):
            run_stage("reset", run_folder, args.models, args.from_dump, env)
            this_round = {"loading": measured("loading"), "baselines": measured("baselines")}
            if number >= args.warmup_rounds:
                rounds.append(this_round)
            else:
                print("(a warm-up round: not counted)", flush=True)
        if rounds:
            stages.update(rounds[0])  # the first round's steps in the table; every round's ratios below it
        figures = report(args.models, stages, rounds)
        if args.results_json:
            args.results_json.write_text(json.dumps(figures, indent=1))
    finally:
        replay.shutdown()
        replay.server_close()
        servers.stop(graph.pid)
        servers.stop(index.pid)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


# -- through Airflow ----------------------------------------------------------------------------

def process_cpu_seconds(pid: int) -> tuple[float, float]:
    """(own, reaped children's) CPU seconds of a process and all its living descendants: the
    children's share is what processes that already ended (the tasks) used."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)], stats[int(entry.name)] = int(fields[1]), fields
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    own = sum(int(stats[p][11]) + int(stats[p][12]) for p in tree if p in stats) / ticks
    reaped = sum(int(stats[p][13]) + int(stats[p][14]) for p in tree if p in stats) / ticks
    return own, reaped


def through_airflow(work: Path, models: int, from_dump: bool, unbudgeted: bool, stack: tuple[str, ...] = (),
                    local: Path | None = None, keep_stack: bool = False) -> dict[str, Any]:
    """The synthetic models through the main job's stack (Airflow's scheduler runs the three DAGs),
    then the DAG runs' and tasks' times from the REST API and each component's CPU from /proc.
    ``local``: the stack's folder (default in the work folder); ``keep_stack``: leave it running."""
    import httpx

    local = local or work / "local"
    # The stack configures its own Airflow: nothing of the caller's (a test session's) may leak in.
    env = {**{key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "HF_ENDPOINT"))},
           "MLENTORY_LOCAL_DIR": str(local)}
    command = [sys.executable, str(ROOT / "scripts" / "localstack.py")]
    up = [*command, "up", "--snapshot", str(work / "snapshot"), "--models", str(models), "--sources", "hf", "--no-summary",
          *(["--from-dump"] if from_dump else []), *(["--hub-api-budget", str(10**9)] if unbudgeted else []), *stack]
    started = time.perf_counter()
    try:
        subprocess.run(up, env=env, check=True)
        job = time.perf_counter() - started
        ports = json.loads((local / "ports.json").read_text())
        password = (local / "secrets" / "airflow_admin_password").read_text()
        cpu = {path.stem: process_cpu_seconds(int(path.read_text())) for path in sorted((local / "pids").glob("*.pid"))}
        with httpx.Client(base_url=f"http://127.0.0.1:{ports['airflow']}", timeout=60) as client:
            token = client.post("/auth/token", json={"username": "admin", "password": password}).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            dag_runs, tasks = {}, {}
            for stage in ("extraction", "transformation", "loading"):
                dag_id = f"hf_{stage}"
                runs = client.get(f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 100}).json()["dag_runs"]
                dag_runs[dag_id] = runs
                for run in runs:
                    instances = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances",
                                           params={"limit": 10_000}).json()["task_instances"]
                    for instance in instances:
                        count, seconds, longest = tasks.get((dag_id, instance["task_id"]), (0, 0.0, 0.0))
                        duration = instance["duration"] or 0.0
                        tasks[(dag_id, instance["task_id"])] = (count + 1, seconds + duration, max(longest, duration))
            replay = client.get(f"http://127.0.0.1:{ports['replay']}/_replay/stats").json()
        summary = loading_summary(local, ports)
    finally:
        if keep_stack:
            print(f"the stack keeps running; stop it with: MLENTORY_LOCAL_DIR={local} {' '.join(command)} down", flush=True)
        else:
            subprocess.run([*command, "down"], env=env, check=False)
    return report_airflow(models, job, dag_runs, tasks, cpu, replay, summary)


# Airflow's own components (their CPU is Airflow's overhead); a scheduler's or a Celery worker's
# ended children are the tasks, a DAG processor's its file parsers (Airflow's too).
AIRFLOW_COMPONENTS = {"api-server", "scheduler", "dag-processor", "triggerer"}


def loading_summary(local: Path, ports: dict[str, int]) -> dict[str, Any]:
    """The loading stage's summary of the run, from the local data root or the stack's object storage."""
    if "s3" not in ports:
        return json.loads(next((local / "data" / "hf" / "runs").glob("*/loading/SUCCESS.json")).read_text())
    from devstack import servers
    from mlentory.pipeline import storage

    os.environ["AIRFLOW_CONN_MLENTORY_STORAGE"] = json.dumps(servers.s3_connection(ports["s3"]))
    root = storage.storage_path("s3://mlentory/data/hf/runs")
    done = next(name for name in root.fs.find(root.path) if name.endswith("/loading/SUCCESS.json"))
    return storage.read_json_at("s3://mlentory/data/hf/runs", done.removeprefix(root.path.rstrip("/") + "/"))


def report_airflow(models: int, job: float, dag_runs: dict[str, list[dict[str, Any]]], tasks: dict[tuple[str, str], tuple[int, float, float]],
                   cpu: dict[str, tuple[float, float]], replay: dict[str, int], summary: dict[str, Any]) -> dict[str, Any]:
    """Print the DAG runs', tasks' and components' figures; return them (``--results-json``)."""
    def moment(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    print(f"\n{'DAG run / task':<40}{'runs':>6}{'seconds':>10}{'models/s':>10}{'longest':>10}")
    first = min(moment(run["start_date"]) for runs in dag_runs.values() for run in runs)
    last = max(moment(run["end_date"]) for runs in dag_runs.values() for run in runs)
    for dag_id, runs in dag_runs.items():
        seconds = sum((moment(run["end_date"]) - moment(run["start_date"])).total_seconds() for run in runs)
        print(f"{dag_id:<40}{len(runs):>6}{seconds:>10.1f}{models / seconds:>10,.0f}")
        for (task_dag, task_id), (count, total, longest) in sorted(tasks.items(), key=lambda item: -item[1][1]):
            if task_dag == dag_id:
                print(f"  {task_id:<38}{count:>6}{total:>10.1f}{'':>10}{longest:>10.1f}")
    chain = (last - first).total_seconds()
    print(f"{'whole chain (first start to last end)':<40}{'':>6}{chain:>10.1f}{models / chain:>10,.0f}")
    print(f"main job (start-up, parsing, triggers, waits included): {job:.1f}s")
    print(f"models loaded: {summary.get('models_loaded', 0):,} of {models:,}; "
          f"Hub API requests {replay.get('api', 0):,} ({replay.get('api', 0) / models:.4f} per model), resolver {replay.get('resolve', 0):,}")
    print("CPU seconds per component (own; of its ended children, i.e. the tasks the executor ran):")
    for name, (own, reaped) in cpu.items():
        print(f"  {name:<20}{own:>10.1f}{reaped:>10.1f}")
    tasks_cpu = sum(reaped for name, (_, reaped) in cpu.items() if name == "scheduler" or name.startswith("worker"))
    airflow_cpu = sum(own + (0.0 if name == "scheduler" or name.startswith("worker") else reaped) for name, (own, reaped) in cpu.items()
                      if name in AIRFLOW_COMPONENTS or name.startswith("worker"))
    total_cpu = sum(own + reaped for own, reaped in cpu.values())
    print(f"Airflow's own processes: {airflow_cpu:.1f} of {total_cpu:.1f} CPU-seconds ({airflow_cpu / total_cpu:.1%}); "
          f"the tasks {tasks_cpu:.1f}; the stores and the replay {total_cpu - airflow_cpu - tasks_cpu:.1f}")
    return {"mode": "airflow", "models": models, "loaded": summary.get("models_loaded", 0), "chain_seconds": chain,
            "dag_seconds": {dag_id: sum((moment(run["end_date"]) - moment(run["start_date"])).total_seconds() for run in runs)
                            for dag_id, runs in dag_runs.items()},
            "cpu_seconds": total_cpu, "airflow_cpu_seconds": airflow_cpu, "tasks_cpu_seconds": tasks_cpu,
            "task_instances": sum(count for count, _, _ in tasks.values())}


def report(models: int, stages: dict[str, dict[str, Any]], rounds: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """Print the run's table, ratios and targets; return the figures (``--results-json``)."""
    print(f"\n{'stage / step':<34}{'seconds':>10}{'models/s':>12}{'CPU s':>9}{'models/CPU-s':>14}{'peak RSS MB':>13}"
          f"{'API req/model':>15}{'resolver req':>14}")
    total = 0.0
    loaded = int(stages["loading"]["steps"].pop("models loaded")[0])
    for stage, measured in stages.items():
        if stage != "baselines":
            total += measured["wall"]
        print(f"{stage:<34}{measured['wall']:>10.1f}{models / measured['wall']:>12,.0f}{measured['cpu']:>9.1f}"
              f"{models / measured['cpu']:>14,.0f}{measured['rss_mb']:>13.0f}{measured['api'] / models:>15.4f}{measured['resolve']:>14,}")
        for step, (seconds, cpu) in sorted(measured["steps"].items(), key=lambda item: -item[1][0]):
            calls, rss_after = measured["detail"].get(step, (1, 0.0))
            print(f"  {step:<32}{seconds:>10.2f}{(models / seconds if seconds else 0):>12,.0f}{cpu:>9.2f}{(models / cpu if cpu else 0):>14,.0f}"
                  f"{rss_after:>13.0f}{'':>15}{'':>14}" + (f"  ({calls} partitions)" if calls > 1 else ""))
    print(f"{'whole chain':<34}{total:>10.1f}{models / total:>12,.0f}")
    if "index chunks" not in stages["loading"]["steps"]:
        print("(--no-index: the search index not loaded, its time and CPU not in the figures)")
    print(f"models loaded: {loaded:,} of {models:,}")
    transformation = stages["transformation"]["steps"]
    transformation_cpu = sum(cpu for _, cpu in transformation.values())
    print(f"transformation in its steps (no process start): {models / transformation_cpu:,.0f} models per CPU-second")
    graph_ratios, index_ratios = [], []
    for number, measured_round in enumerate(rounds, start=1):
        ours, ceiling = measured_round["loading"]["steps"], measured_round["baselines"]["steps"]
        graph = sum(ours[step][0] for step in ("graph nodes", "graph entities", "graph models"))
        bare = sum(seconds for step, (seconds, _) in ceiling.items() if step.startswith("bare UNWIND MERGE"))
        graph_ratios.append(bare / graph)
        indexing = ours["index chunks"][0] + ours["index end"][0]
        index_ratios.append(ceiling["raw helpers.bulk"][0] / indexing)
        print(f"round {number}: graph load {graph:.1f}s, bare UNWIND MERGE {bare:.1f}s: {graph_ratios[-1]:.0%}; "
              f"index load {indexing:.1f}s, raw helpers.bulk {ceiling['raw helpers.bulk'][0]:.1f}s: {index_ratios[-1]:.0%}")
    if rounds:
        print(f"graph load: {_median_spread(graph_ratios)} of the store's ceiling (median of {len(rounds)} rounds, each into empty stores)")
        print(f"index load: {_median_spread(index_ratios)} of the store's ceiling (median of {len(rounds)} rounds, each into empty stores)")
    own_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this process's own peak RSS: {own_rss:.0f} MB: the replay, its models on disk)")
    figures = targets(models, stages, models / transformation_cpu, statistics.median(graph_ratios) if rounds else None,
                      statistics.median(index_ratios) if rounds else None, own_rss)
    steps_cpu = {f"{stage}: {step}": cpu for stage, measured in stages.items() if stage != "baselines"
                 for step, (_, cpu) in measured["steps"].items()}
    return {"mode": "in process", "models": models, "loaded": loaded, "chain_seconds": total,
            "stage_seconds": {stage: stages[stage]["wall"] for stage in ("extraction", "transformation", "loading")},
            "transformation_rate": models / transformation_cpu, "graph_ratios": graph_ratios, "index_ratios": index_ratios,
            "own_rss_mb": own_rss, "steps_cpu": steps_cpu, **figures}


def _median_spread(values: list[float]) -> str:
    return f"{statistics.median(values):.0%} ({min(values):.0%}-{max(values):.0%})"


# The steps that run as mapped tasks, one per chunk of models: N Celery workers divide their time.
# Every other step is one task whatever the number of models (a kind's lookups are one task each,
# but the accounts', mentioned in proportion to the models).
FANS_OUT = {("extraction", "listing parse"), ("extraction", "card chunks"), ("extraction", "mentions"), ("extraction", "identify organisations"),
            ("transformation", "property groups"), ("transformation", "linking"), ("transformation", "normalize chunks"), ("transformation", "entity merge"),
            ("loading", "graph nodes"), ("loading", "graph entities"), ("loading", "graph models"), ("loading", "chunk licence findings"), ("loading", "index chunks"),
            ("loading", "report chunks"), ("loading", "history"), ("loading", "licence findings")}
# A step that fans out over a bounded number of tasks whatever N: one task per partition at most (of
# the mentions' keys, of the entities' IRIs, of the graph's nodes; the entities' loads, a task per kind
# and partition, counted as 8: their largest kind, the stubs, bounds them).
FAN_BOUND = {("extraction", "identify organisations"): LINK_PARTITIONS, ("transformation", "linking"): LINK_PARTITIONS,
             ("transformation", "entity merge"): GRAPH_NODE_PARTITIONS,
             ("loading", "graph nodes"): GRAPH_NODE_PARTITIONS, ("loading", "graph entities"): GRAPH_NODE_PARTITIONS,
             ("loading", "history"): GRAPH_NODE_PARTITIONS, ("loading", "licence findings"): GRAPH_NODE_PARTITIONS}
HUB_MODELS = 2_900_000
WORKERS = (1, 2, 8, 32)


def targets(models: int, stages: dict[str, dict[str, Any]], transformation_rate: float, graph_ratio: float | None,
            index_ratio: float | None, own_rss: float) -> dict[str, Any]:
    """Issue 21's targets against what this run measured, each missed one with its bottleneck; the
    serial fraction; and the full Hub's time on 1, 2, 8 and 32 workers from the per-model costs."""
    serial: dict[str, float] = {}
    parallel = 0.0
    bounded: dict[int, float] = {}  # CPU of the steps that fan out over at most so many tasks, by that bound
    for stage in ("extraction", "transformation", "loading"):
        for step, (_, cpu) in stages[stage]["steps"].items():
            if (stage, step) in FAN_BOUND:
                bounded[FAN_BOUND[(stage, step)]] = bounded.get(FAN_BOUND[(stage, step)], 0.0) + cpu
            if (stage, step) in FANS_OUT:
                parallel += cpu
            else:
                serial[f"{stage}: {step}"] = cpu
    serial_cpu = sum(serial.values())
    fraction = serial_cpu / (serial_cpu + parallel)
    heaviest = sorted(serial.items(), key=lambda item: -item[1])[:3]
    transformation_steps = stages["transformation"]["steps"]
    costliest = max(transformation_steps.items(), key=lambda item: item[1][1])[0]
    peak = max((stages[stage]["detail"].get(step, (1, 0.0))[1], f"{stage}: {step}")
               for stage in ("extraction", "transformation", "loading") for step in stages[stage]["steps"])
    rows = [
        ("transformation, models per CPU-second", "≥ 5,000", f"{transformation_rate:,.0f}", transformation_rate >= 5_000,
         f"its costliest step: {costliest}"),
        *((("graph load, share of bare UNWIND … MERGE", "≥ 80%", f"{graph_ratio:.0%}", graph_ratio >= 0.8, "see the rounds above"),
           ("index load, share of raw helpers.bulk", "≥ 80%", f"{index_ratio:.0%}", index_ratio >= 0.8, "see the rounds above"))
          if graph_ratio is not None and index_ratio is not None else ()),
        ("peak RSS of a task (a step's own)", "≤ 500 MB", f"{peak[0]:.0f} MB", peak[0] <= 500, f"{peak[1]}"),
        ("peak RSS of the benchmark's own process", "≤ 500 MB", f"{own_rss:.0f} MB", own_rss <= 500, "the replay"),
        ("serial fraction (CPU in steps that do not fan out)", "≤ 5%", f"{fraction:.0%}", fraction <= 0.05,
         ", ".join(f"{name} {cpu:.1f} CPU-s" for name, cpu in heaviest)),
    ]
    print(f"\n{'target (issue 21)':<52}{'required':>10}{'measured':>22}  met   bottleneck")
    for name, required, value, met, why in rows:
        print(f"{name:<52}{required:>10}{value:>22}  {'yes' if met else 'NO ':<5} {'' if met else why}")
    print(f"(at {models:,} models; the 100,000-model Airflow run is --airflow's, the 1,000,000-model run this at --models 1000000)")
    print("\nper partition (a mapped task: what a worker does at once)")
    for stage, step in sorted(FANS_OUT):
        if stage in stages and step in stages[stage]["steps"]:
            calls = stages[stage]["detail"].get(step, (1, 0.0))[0]
            items = (stages["extraction"]["resolve"], "cards") if step == "card chunks" else (models, "models")
            print(f"  {stage + ': ' + step:<34}{calls:>6} partitions of {items[0] / calls:>9,.0f} {items[1]:<6}, "
                  f"{stages[stage]['steps'][step][1] / calls:>7.2f} CPU-s each")
    per_model = (serial_cpu / models, parallel / models)
    print(f"\nthe full Hub ({HUB_MODELS:,} models) at these per-model costs: serial {per_model[0] * 1e3:.2f} ms, "
          f"fanning out {per_model[1] * 1e3:.2f} ms of CPU per model")
    hub_hours = {}
    for workers in WORKERS:
        spread = sum(cpu / models / min(workers, bound) - cpu / models / workers for bound, cpu in bounded.items())
        hub_hours[workers] = HUB_MODELS * (per_model[0] + per_model[1] / workers + spread) / 3600
        print(f"  {workers:>2} worker(s): {hub_hours[workers]:6.1f} CPU-bound hours")
    print("  (not counting the Hub's rate limits: the listing's 2,900 requests take 15 minutes of a free token's API budget, "
          "and each card the dump does not hold a resolver request, 5,000 per 5 minutes)")
    return {"serial_fraction": fraction, "serial_heaviest": heaviest, "task_peak_rss_mb": peak[0], "task_peak_step": peak[1],
            "per_model_ms": {"serial": per_model[0] * 1e3, "fanning out": per_model[1] * 1e3}, "hub_hours": hub_hours}


# -- issue 21's targets in one command ------------------------------------------------------------

CORES = os.cpu_count() or 1


def sub_run(arguments: list[str], results: Path) -> dict[str, Any]:
    """This benchmark in a process of its own (its output shown as it goes); its figures."""
    command = [sys.executable, __file__, *arguments, "--results-json", str(results)]
    print(f"\n$ {' '.join(command[1:])}", flush=True)
    subprocess.run(command, check=True)
    return json.loads(results.read_text())


def all_targets(sizes: list[int], runs: int, airflow_runs: int, scale_results: Path | None, results_json: Path | None,
                store_rounds: int = 3) -> None:
    """Every target of issue 21 from one command: ``runs`` runs in process at ``sizes[0]`` models (the
    transformation's rate, the stores' ratios with their ceilings), ``airflow_runs`` through Airflow at
    ``sizes[1]`` (time and Airflow's share of the CPU) and one at ``sizes[2]`` (completion, peak RSS,
    serial fraction, the full Hub's time); a table of medians with their spread, each missed target with
    its measured figure, its bottleneck and why."""
    small, through, scale = sizes
    with tempfile.TemporaryDirectory(prefix="mlentory-targets-") as folder:
        work = Path(folder)
        in_process = [sub_run(["--models", str(small), "--store-rounds", str(max(1, store_rounds))], work / f"small-{number}.json")
                      for number in range(runs)]
        airflow = [sub_run(["--models", str(through), "--from-dump", "--airflow"], work / f"airflow-{number}.json")
                   for number in range(airflow_runs)]
        if scale_results:
            at_scale = json.loads(scale_results.read_text())
            print(f"\n(the run at scale from {scale_results}: {at_scale['models']:,} models)")
        else:
            at_scale = sub_run(["--models", str(scale), "--store-rounds", "0", "--no-index", "--unbudgeted"], work / "scale.json")
    rows = target_rows(in_process, airflow, at_scale, through)
    print(f"\nissue 21's targets ({CORES} cores; medians of the runs with their range)")
    print(f"{'target':<58}{'required':>11}{'measured':>26}  met  bottleneck and why")
    for name, required, measured, met, why in rows:
        print(f"{name:<58}{required:>11}{measured:>26}  {'yes' if met else 'NO ':<4} {'' if met else why}")
    print(f"\nthe full Hub ({HUB_MODELS:,} models) at the {at_scale['models']:,}-model run's per-model costs "
          f"(serial {at_scale['per_model_ms']['serial']:.2f} ms, fanning out {at_scale['per_model_ms']['fanning out']:.2f} ms of CPU):")
    for workers, hours in at_scale["hub_hours"].items():
        print(f"  {workers:>2} worker(s): {hours:6.1f} CPU-bound hours")
    if results_json:
        results_json.write_text(json.dumps({"in_process": in_process, "airflow": airflow, "at_scale": at_scale,
                                            "targets": [dict(zip(("target", "required", "measured", "met", "why"), row, strict=True))
                                                        for row in rows]}, indent=1))


def _spread(values: list[float], form: str) -> str:
    text = format(statistics.median(values), form)
    return text if len(values) == 1 else f"{text} ({format(min(values), form)}–{format(max(values), form)})"


def target_rows(in_process: list[dict[str, Any]], airflow: list[dict[str, Any]], at_scale: dict[str, Any],
                through: int) -> list[tuple[str, str, str, bool, str]]:
    """(target, required, measured, met, bottleneck and why) for each of issue 21's targets; ``through``:
    the models of the runs through Airflow."""
    small, scale = in_process[0]["models"], at_scale["models"]
    rates = [run["transformation_rate"] for run in in_process]
    steps = {step: statistics.median(run["steps_cpu"].get(f"transformation: {step}", 0.0) / run["models"] * 1e3 for run in in_process)
             for step in ("property groups", "normalize chunks")}
    rows = [(f"transformation, models per CPU-second ({small:,} models)", "≥ 5,000", _spread(rates, ",.0f"), min(rates) >= 5_000,
             f"Python over each record: property groups {steps['property groups']:.2f} ms, normalization "
             f"{steps['normalize chunks']:.2f} ms of CPU a model; 5,000 allows 0.2 ms for both")]
    for store, key in (("graph load, share of bare UNWIND … MERGE", "graph_ratios"), ("index load, share of raw helpers.bulk", "index_ratios")):
        medians = [statistics.median(run[key]) for run in in_process if run[key]]
        if medians:
            rows.append((f"{store}, every run", "≥ 80%", _spread(medians, ".0%"), min(medians) >= 0.8,
                         "the stores' speed varies from round to round on the same writes: the rounds ranged "
                         + _spread([ratio for run in in_process for ratio in run[key]], ".0%").split(" ", 1)[-1].strip("()")))
    if not airflow:
        rows += [(f"{through:,} models through Airflow, seconds", "≤ 300", "not measured", False, "--airflow-runs 0"),
                 ("Airflow's own processes, share of the CPU", "≤ 15%", "not measured", False, "--airflow-runs 0")]
    else:
        rows += airflow_rows(airflow)
    rows += [
        (f"{scale:,} models in process complete", "all loaded", f"{at_scale['loaded']:,} of {scale:,}", at_scale["loaded"] == scale,
         "models missing from the graph: see the run's report"),
        (f"peak RSS of a task at {scale:,} models", "≤ 500 MB", f"{at_scale['task_peak_rss_mb']:.0f} MB", at_scale["task_peak_rss_mb"] <= 500,
         f"the step {at_scale['task_peak_step']}"),
        (f"peak RSS of the benchmark's process at {scale:,}", "≤ 500 MB", f"{at_scale['own_rss_mb']:.0f} MB", at_scale["own_rss_mb"] <= 500,
         "the replay"),
        (f"serial fraction at {scale:,} models", "≤ 5%", f"{at_scale['serial_fraction']:.1%}", at_scale["serial_fraction"] <= 0.05,
         "the largest steps that run as one task: " + ", ".join(f"{name} {cpu:.1f} CPU-s" for name, cpu in at_scale["serial_heaviest"])),
    ]
    return rows


def airflow_rows(airflow: list[dict[str, Any]]) -> list[tuple[str, str, str, bool, str]]:
    """The targets of the runs through Airflow: their time, and Airflow's own share of the CPU."""
    through = airflow[0]["models"]
    chains = [run["chain_seconds"] for run in airflow]
    needed = [run["cpu_seconds"] / CORES for run in airflow]
    shares = [run["airflow_cpu_seconds"] / run["cpu_seconds"] for run in airflow]
    slowest = max(airflow, key=lambda run: run["chain_seconds"])
    return [
        (f"{through:,} models through Airflow, seconds", "≤ 300", _spread(chains, ",.0f"), max(chains) <= 300 and min(run["loaded"] for run in airflow) == through,
         ("CPU-bound" if statistics.median(needed) > 300 else "not the CPU alone")
         + f": the runs used {_spread([run['cpu_seconds'] for run in airflow], ',.0f')} CPU-s, {_spread(needed, ',.0f')} s on {CORES} cores "
         f"even perfectly parallel (the slowest: tasks {slowest['tasks_cpu_seconds']:,.0f}, stores and replay "
         f"{slowest['cpu_seconds'] - slowest['tasks_cpu_seconds'] - slowest['airflow_cpu_seconds']:,.0f}, Airflow "
         f"{slowest['airflow_cpu_seconds']:,.0f}; {slowest['task_instances']:,} task instances, each seconds of start-up)"),
        ("Airflow's own processes, share of the CPU", "≤ 15%", _spread(shares, ".1%"), max(shares) <= 0.15,
         "the scheduler's and the API server's own CPU grows with the number of task instances"),
    ]


if __name__ == "__main__":
    main()
