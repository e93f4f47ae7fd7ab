"""The change feed (``pipeline.feed``) as the history tasks and the loading's report write it: entries
appended shard by shard beside the history, published by the run's manifest; a follower reads only
published runs after its cursor; housekeeping bounds the feed by age, never removing a source's
newest run. The whole chain's feed (added, changed in place, withdrawn) is checked by
``test_statistics_refresh.py`` and ``test_hf_dump.py``."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from mlentory.pipeline import feed, history
from mlentory.pipeline.run_folder import RunFolder


def _records(count: int, likes: int = 1) -> list[dict]:
    return [{"@id": f"https://huggingface.co/org/m{i}", "@type": "MLModel", "identifier": f"org/m{i}", "name": f"org/m{i}",
             "likes": likes} for i in range(count)]


def _load(data, records: list[dict], at: datetime) -> RunFolder:  # noqa: ANN001 - a Path
    """A load as the loading runs it: the chunk spills, the history tasks record, the report publishes."""
    run = RunFolder.create(data, "hf")
    history.spill_loads(run, records, "00000")
    history.record_spilled(run, at)
    feed.publish(run, history.feed_counts(run), published=at)
    return run


def test_a_second_load_announces_only_the_terms_that_changed_and_a_follower_reads_from_its_cursor(tmp_path):
    root = tmp_path / "data" / "hf"
    at = datetime(2026, 12, 1, tzinfo=UTC)
    first = _load(tmp_path / "data", _records(40), at)
    second = _load(tmp_path / "data", [*_records(39, likes=2), {**_records(41)[40]}], at + timedelta(days=1))  # m39 gone from the load
    runs = feed.published_runs(root)
    assert [run["run"] for run in runs] == [first.path.name, second.path.name]
    assert (runs[0]["added"], runs[0]["changed"]) == (40, 0)
    assert (runs[1]["added"], runs[1]["changed"], runs[1]["withdrawn"]) == (1, 39, 0)
    later = list(feed.read_entries(root, after=first.path.name))
    assert {(e["id"], e["change"], tuple(e["terms"])) for e in later} == {
        *((f"org/m{i}", "changed", ("likes",)) for i in range(39)), ("org/m40", "added", ("identifier", "likes", "name"))}
    assert all(e["iri"] == f"https://huggingface.co/{e['id']}" and e["run"] == second.path.name for e in later)
    assert list(feed.read_entries(root, after=second.path.name)) == []  # a follower up to date reads nothing
    # The files the manifest names are the shards that changed, each written once.
    assert sorted(runs[1]["files"]) == sorted(f"{second.path.name}/{path.name}" for path in (root / "feed" / second.path.name).iterdir())


def test_a_run_is_read_only_once_published_and_changes_made_in_place_are_in_it(tmp_path):
    root = tmp_path / "data" / "hf"
    at = datetime(2026, 12, 1, tzinfo=UTC)
    _load(tmp_path / "data", _records(5), at)
    run = RunFolder.create(tmp_path / "data", "hf")
    history.record_changes(run, {"org/m1": {"likes": 9}}, at, {"org/m1": "https://huggingface.co/org/m1"})
    history.record_changes(run, {"org/m2": {"withdrawn": "2026-12-02"}, "org/m3": {"likes": 1}}, at)  # m3's likes unchanged: no entry
    assert [r["run"] for r in feed.published_runs(root)] != [run.path.name] and len(feed.published_runs(root)) == 1  # not yet
    assert all(entry["run"] != run.path.name for entry in feed.read_entries(root))
    summary = feed.publish(run, history.feed_counts(run))
    assert summary == {"manifest": f"feed/{run.path.name}.json", "added": 0, "changed": 1, "withdrawn": 1}
    assert history.changes_recorded(run) == 0  # the report's models_changed counts the loads' rows, not these
    assert [(e["id"], e["change"], e["terms"], e.get("iri")) for e in feed.read_entries(root, after=feed.published_runs(root)[0]["run"])] in (
        [("org/m1", "changed", ["likes"], "https://huggingface.co/org/m1"), ("org/m2", "withdrawn", ["withdrawn"], None)],
        [("org/m2", "withdrawn", ["withdrawn"], None), ("org/m1", "changed", ["likes"], "https://huggingface.co/org/m1")])


def test_housekeeping_removes_the_feed_runs_past_its_retention_but_never_the_newest(tmp_path):
    data, root = tmp_path / "data", tmp_path / "data" / "hf"
    now = datetime.now(UTC)
    old = _load(data, _records(3), now - timedelta(days=100))
    _load(data, _records(3, likes=2), now - timedelta(days=95))  # the newest: kept, however old
    unpublished = RunFolder.create(data, "hf")
    history.record_changes(unpublished, {"org/m0": {"likes": 7}}, now)
    stale = root / "feed" / unpublished.path.name
    long_ago = (now - timedelta(days=100)).timestamp()
    os.utime(next(stale.iterdir()), (long_ago, long_ago))  # never published, last written 100 days ago
    newest = feed.published_runs(root)[-1]["run"]
    assert feed.remove_old_feed_runs(data, 90, dry_run=True) == {"hf": sorted([old.path.name, unpublished.path.name])}
    assert len(feed.published_runs(root)) == 2  # a dry run removes nothing
    assert feed.remove_old_feed_runs(data, 90) == {"hf": sorted([old.path.name, unpublished.path.name])}
    assert [run["run"] for run in feed.published_runs(root)] == [newest]
    assert sorted(path.name for path in (root / "feed").iterdir()) == sorted([newest, f"{newest}.json", "manifests.lock"])
    assert {entry["run"] for entry in feed.read_entries(root)} == {newest}
    assert feed.remove_old_feed_runs(data, 90) == {}  # nothing more to remove
    with pytest.raises(ValueError, match="at least 1 day"):
        feed.remove_old_feed_runs(data, 0.5)
