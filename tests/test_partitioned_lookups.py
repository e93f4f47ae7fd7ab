"""The Hub's accounts, mentioned in proportion to the models, are looked up by mapped tasks over
partitions of their keys: however the partitions are grouped into tasks, every account is asked for
once, what the tasks found together is what one task finds, and an account deferred by an earlier run
is completed by the task of its partition."""

from __future__ import annotations

from typing import Any

from mlentory.fair4ml.mentions import mention_partition
from mlentory.pipeline.extraction import MENTIONS, RECORD_CHUNKS, plan_lookup_tasks, read_identified
from mlentory.pipeline.run_folder import RunFolder, write_json
from mlentory.settings import LINK_PARTITIONS
from mlentory.sources.huggingface.extraction import identify_entities

ACCOUNTS = [f"org{i}" for i in range(40)]


class HubAccounts:
    """The Hub's account lookups, counted, with room in the request budget for ``room`` of them
    (None: no budget). Where a HubClient would ask the replay, it answers here: what is tested is
    which task asks for which account, not the HTTP client."""

    ACCOUNT_REQUESTS = 2

    def __init__(self, room: int | None = None) -> None:
        self.asked: list[str] = []
        self.room = room

    def account(self, name: str) -> dict[str, Any]:
        self.asked.append(name)
        return {"name": name, "kind": "Organization" if name.startswith("org") else "Person", "fullname": name.upper()}

    def lookup_room(self, wanted: int, requests_each: int = 1) -> int | None:
        if self.room is None:
            return None
        granted = min(wanted, self.room)
        self.room -= granted
        return granted


def _run_with_mentions(root: Any) -> RunFolder:
    """A run whose three record chunks mention the accounts, some in two chunks."""
    run = RunFolder.create(root, "hf")
    chunks = [ACCOUNTS[:20], ACCOUNTS[10:30], [*ACCOUNTS[25:], "user-a"]]
    write_json(run.file("extraction", RECORD_CHUNKS, "plan.json"), {"chunk_size": 20, "chunks": len(chunks), "records": 60})
    for chunk, keys in enumerate(chunks):
        write_json(run.file("extraction", MENTIONS, f"{chunk:05d}.json"), {"organisations": keys, "keywords": ["nlp"]})
    return run


def test_the_lookup_tasks_over_any_grouping_of_the_partitions_find_what_one_task_finds(tmp_path):
    outcomes = []
    for groups in ([list(range(LINK_PARTITIONS))], [[0, 2, 4, 6], [1, 3, 5, 7]], [[p] for p in reversed(range(LINK_PARTITIONS))]):
        run = _run_with_mentions(tmp_path / str(len(groups)))
        hub = HubAccounts()
        counts = [identify_entities(str(run.path), "organisations", hub=hub, partitions=group) for group in groups]
        assert sorted(hub.asked) == sorted([*ACCOUNTS, "user-a"])  # each asked once, by the task of its partition
        assert sum(counts) == len(ACCOUNTS) + 1
        for group in groups:  # a task's own partitions, and only those
            assert set(read_identified(run, "organisations", group)) == {
                key for key in [*ACCOUNTS, "user-a"] if mention_partition("organisations", key) in group}
        assert sorted(p.name for p in run.file("extraction", "entities", "organisations").iterdir()) == [
            f"{p:02d}.json" for p in range(LINK_PARTITIONS)]
        outcomes.append(read_identified(run, "organisations"))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert outcomes[0]["user-a"] == {"found": True, "name": "user-a", "kind": "Person", "fullname": "USER-A"}


def test_an_account_deferred_earlier_is_completed_by_its_partitions_task_only(tmp_path):
    run = _run_with_mentions(tmp_path)
    deferred_earlier = "someone-no-model-mentions-now"
    write_json(tmp_path / "hf" / "state" / "deferred_accounts.json", {deferred_earlier: "2026-11-01T00:00:00+00:00"})
    home = mention_partition("organisations", deferred_earlier)
    elsewhere = [p for p in range(LINK_PARTITIONS) if p != home]
    hub = HubAccounts(room=1_000)
    identify_entities(str(run.path), "organisations", hub=hub, partitions=elsewhere)
    assert deferred_earlier not in hub.asked  # not this task's: still queued
    identify_entities(str(run.path), "organisations", hub=hub, partitions=[home])
    assert hub.asked.count(deferred_earlier) == 1 and deferred_earlier in read_identified(run, "organisations", [home])
    assert (tmp_path / "hf" / "state" / "deferred_accounts.json").read_text().strip() == "{}"


def test_a_budget_spent_defers_the_rest_of_each_tasks_accounts_with_a_warning_per_task(tmp_path):
    run = _run_with_mentions(tmp_path)
    hub = HubAccounts(room=5)
    halves = [[0, 2, 4, 6], [1, 3, 5, 7]]
    for half in halves:
        identify_entities(str(run.path), "organisations", hub=hub, partitions=half)
    assert len(hub.asked) == 5 and len(read_identified(run, "organisations")) == 5
    deferred = [w for w in run.warnings() if w.get("deferred")]
    assert len(deferred) == len(ACCOUNTS) + 1 - 5
    assert {w["part"] for w in deferred} <= {"entities_accounts_p00-02-04-06", "entities_accounts_p01-03-05-07"}


def test_the_lookups_fan_out_with_the_run_size(tmp_path):
    """One task per 50,000 records, at most one per partition; every partition in exactly one task."""
    tasks = []
    for records in (0, 60, 50_001, 10**6):
        run = RunFolder.create(tmp_path / str(records), "hf")
        write_json(run.file("extraction", RECORD_CHUNKS, "plan.json"), {"records": records})
        jobs = plan_lookup_tasks(str(run.path))
        assert sorted(p for job in jobs for p in job["partitions"]) == list(range(LINK_PARTITIONS))
        tasks.append(len(jobs))
    assert tasks == [1, 1, 2, LINK_PARTITIONS]
