"""Bounded everywhere: a stalling server costs a task its stall allowance, not hours; a number a float
cannot hold is never read as another (1e-400 is not 0.0); an error row says what went wrong."""

from __future__ import annotations

import json
import shutil
import time
import xml.etree.ElementTree as ET

import pytest
from conftest import FIXTURE_SNAPSHOT
from huggingface_hub import HfApi

from devstack.replay.server import ReplayServer
from mlentory.fair4ml.mentions import WARNINGS
from mlentory.pipeline.run_folder import RunFolder, write_jsonl
from mlentory.sources.huggingface import extraction
from mlentory.sources.huggingface.cards import parse_card
from mlentory.sources.huggingface.hub import HubClient, MalformedEntry, use_http_timeouts
from mlentory.sources.huggingface.properties import evaluations
from mlentory.stalls import StallAllowanceSpent, stall_allowance


@pytest.fixture
def stalling_hub(tmp_path):
    """The fixture snapshot, every card answering only after 3 s; a client that waits 1 s."""
    root = tmp_path / "snapshot"
    shutil.copytree(FIXTURE_SNAPSHOT, root)
    (root / "faults.json").write_text(json.dumps([{"path": "/", "delay": 3, "times": 1_000}]))
    server = ReplayServer(root)
    server.start_in_thread()
    use_http_timeouts(read_seconds=1)
    yield HubClient(HfApi(endpoint=server.url, token=False)), server
    use_http_timeouts()
    server.shutdown()
    server.server_close()


def test_a_stalling_server_costs_a_task_its_stall_allowance_not_every_try_of_every_request(stalling_hub, tmp_path):
    hub, server = stalling_hub
    models = [json.loads(p.read_text()) for p in sorted((FIXTURE_SNAPSHOT / "models").glob("*.json"))]
    run = RunFolder.create(tmp_path / "data", "hf")
    write_jsonl(run.file("extraction", "models.jsonl"), [{"id": m["id"], "sha": m["sha"]} for m in models])
    started = time.monotonic()
    with stall_allowance(4) as allowance:
        extraction.fetch_model_cards(str(run.path), hub)
    elapsed = time.monotonic() - started
    # Unbounded: 8 cards x 5 tries x 1 s, plus backoff (over a minute). Bounded: the allowance and one more try.
    assert elapsed < 20, elapsed
    assert allowance.spent >= 4 and allowance.spent_at is not None
    errors = run.errors("extraction")
    assert len(errors) == len(models) and all(e["retry"] for e in errors)  # asked again by the next run
    refused = [e for e in errors if "StallAllowanceSpent" in e["reason"]]
    assert refused and all("allowance of 4 s" in e["reason"] and "spent at" in e["reason"] for e in refused)
    assert server.stats["fault"] < 10  # requests stopped once the allowance was spent
    with stall_allowance(4) as fresh:  # the next task starts with a whole allowance
        assert fresh.spent == 0
        fresh.check()
    with pytest.raises(StallAllowanceSpent):
        allowance.check()


def test_a_value_a_float_cannot_hold_is_kept_as_text_with_a_warning():
    card = parse_card("---\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-classification}\n    dataset: {type: glue, name: GLUE}\n"
                      "    metrics:\n    - {type: accuracy, value: 1.0e-400}\n    - {type: loss, value: 1e-400}\n"
                      "    - {type: f1, value: 0.0}\n    - {type: big, value: '1e400'}\n---\n# m\n")
    partial = evaluations({"id": "a/m", "tags": [], "card_data": None}, card)
    values = {m["propertyID"]: m["value"] for e in partial["hasEvaluation"] for m in e["evaluationMetrics"]}
    assert values == {"accuracy": "1.0e-400", "loss": "1e-400", "f1": 0.0, "big": "1e400"}  # never a silent 0.0 or infinity
    reasons = [w["reason"] for w in partial[WARNINGS] if w["what"] == "evaluation value"]
    assert len(reasons) == 3 and sum("it would read as 0.0" in r for r in reasons) == 2


def test_an_openml_value_that_underflows_is_left_out_with_its_reason():
    from mlentory.sources.openml.client import OML, evaluation_row

    row = ET.fromstring(f'<oml:evaluation xmlns:oml="{OML["oml"]}"><oml:run_id>1</oml:run_id><oml:flow_id>2</oml:flow_id>'
                        "<oml:value>1e-400</oml:value></oml:evaluation>")
    evaluated = evaluation_row(row, 0, {})
    assert evaluated["value"] is None and "it would read as 0.0" in evaluated["value_problem"]


def test_an_unreadable_listing_entry_is_named_with_the_exceptions_message():
    entry = MalformedEntry.of(3, {"id": 42, "lastModified": "last tuesday"}, 42, ValueError("Invalid isoformat string: 'last tuesday'"))
    row = entry.error_row("listing entry")
    assert row["input"] == "listing entry 3" and "ValueError" in row["reason"] and "last tuesday" in row["reason"]
