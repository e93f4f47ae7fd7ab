"""Run inside a private mount namespace whose ``<mount>`` is a small tmpfs (see test_storage_faults):
the extraction stage's own functions against a Hub replay, on a data root that fills up, then one
that is remounted read-only. Prints what it observed as JSON on the last line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "plugins"))

from huggingface_hub import HfApi  # noqa: E402

from mlentory.errors import DataRootUnwritable  # noqa: E402
from mlentory.pipeline.extraction import create_run_folder  # noqa: E402
from mlentory.pipeline.run_folder import RunFolder, RunFolderNotFound  # noqa: E402
from mlentory.pipeline.state import LoadedRevisions  # noqa: E402
from mlentory.sources.huggingface import extraction  # noqa: E402
from mlentory.sources.huggingface.hub import HubClient  # noqa: E402


def fill(path: Path, leave: int) -> None:
    """Fill the file system of ``path`` up to ``leave`` free bytes."""
    with path.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    os.truncate(path, max(0, path.stat().st_size - leave))


def finished_extraction(root: Path) -> str | None:
    try:
        return RunFolder.resolve(None, root, "hf", "extraction").name
    except RunFolderNotFound:
        return None


def harvest(run_folder: str, hub: HubClient) -> dict:
    extraction.harvest_latest_models(run_folder, hub, 8)
    extraction.harvest_models_by_id(run_folder, hub, None, None)
    extraction.merge_raw_models(run_folder, full_refresh=False)
    extraction.fetch_model_cards(run_folder, hub)
    return extraction.finish_extraction(run_folder, 0.1)


def main(mount: Path, endpoint: str) -> None:
    seen: dict = {}
    root = mount / "data"
    hub = HubClient(HfApi(endpoint=endpoint, token=False))

    # A full data root: the listing cannot be written.
    filler = mount / "filler"
    run_folder = create_run_folder(str(root), "hf")
    fill(filler, leave=2048)
    try:
        harvest(run_folder, hub)
    except DataRootUnwritable as exc:
        seen["full"] = {"error": str(exc), "errno": exc.errno}
    seen["full"]["files"] = sorted(str(p.relative_to(run_folder)) for p in Path(run_folder).rglob("*") if p.is_file())
    seen["full"]["taken_as_finished"] = finished_extraction(root)
    seen["full"]["waiting"] = [f.name for f in RunFolder.waiting(root, "hf", "extraction", "transformation")]

    # Space freed: the task's retry completes the same run folder.
    filler.unlink()
    seen["retry"] = {"summary": harvest(run_folder, hub), "taken_as_finished": finished_extraction(root),
                     "run_folder": Path(run_folder).name}
    LoadedRevisions(RunFolder(Path(run_folder))).update({"acme-ai/base-lm": "a" * 40})

    # The data root remounted read-only: no new run, no state update; what is there stays readable.
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    try:
        create_run_folder(str(root), "hf")
    except DataRootUnwritable as exc:
        seen["read_only"] = {"create": str(exc)}
    try:
        LoadedRevisions(RunFolder(Path(run_folder))).update({"acme-ai/base-lm": "b" * 40})
    except DataRootUnwritable as exc:
        seen["read_only"]["state"] = str(exc)
    seen["read_only"]["state_kept"] = LoadedRevisions(RunFolder(Path(run_folder))).load()
    seen["read_only"]["taken_as_finished"] = finished_extraction(root)
    print(json.dumps(seen))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
