"""Build a replay snapshot from the real recordings in ../shared/realdata (see its PROVENANCE.md).

Nothing is copied into the project: the snapshot is assembled in a temporary folder at test time.
The recordings have no list or dataset API responses, so (as PROVENANCE.md suggests) the listing is
served from the per-model records, and dataset API bodies are made from the legacy dataset cards and
dataset_infos.json files. arXiv entries are taken from the recorded Atom feeds. Most recorded cards
have no recorded API record: each of those is served with the smallest model record the Hub could
give for it (its id, and its card's front matter as ``cardData``; nothing else is made up), so that
every recorded card goes through the whole pipeline.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from huggingface_hub import DatasetCard, ModelCard

ATOM_ENTRY = re.compile(r"<entry>.*?</entry>", re.DOTALL)
ATOM_ID = re.compile(r"<id>https?://arxiv\.org/abs/([^<]+?)(v\d+)?</id>")


def _card_target(name: str, model_ids: set[str]) -> str | None:
    repo_id = name.replace("__", "/")
    if repo_id in model_ids:
        return repo_id
    # Legacy cards predate namespaces ("distilbert-base-uncased-..." is now "distilbert/distilbert-...").
    matches = [m for m in model_ids if m.split("/")[-1] == repo_id]
    return matches[0] if len(matches) == 1 else None


def build_snapshot(realdata: Path, dest: Path) -> dict[str, int]:
    hf = realdata / "huggingface"
    for sub in ("models", "cards", "datasets", "accounts", "arxiv"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    model_ids = set()
    for path in sorted((hf / "api_models").glob("*.json")):
        record = json.loads(path.read_text())
        model_ids.add(record["id"])
        shutil.copy(path, dest / "models" / f"{record['id'].replace('/', '__')}.json")
    cards, card_only = 0, 0
    for readme in sorted((hf / "model_cards").glob("*/*/README.md")):
        target = _card_target(readme.parent.name, model_ids)
        if target is None:
            target = readme.parent.name.replace("__", "/")
            metadata = ModelCard(readme.read_text(encoding="utf-8"), ignore_metadata_errors=True).data.to_dict()
            body = {"_id": target, "id": target, "modelId": target, "author": target.split("/")[0] if "/" in target else None,
                    "cardData": json.loads(json.dumps(metadata, default=str)), "tags": [], "siblings": [{"rfilename": "README.md"}]}
            (dest / "models" / f"{target.replace('/', '__')}.json").write_text(json.dumps(body))
            card_only += 1
        shutil.copy(readme, dest / "cards" / f"{target.replace('/', '__')}.md")
        cards += 1
    datasets = 0
    for folder in sorted((hf / "dataset_cards_legacy_datasets_repo").iterdir()):
        readme = folder / "README.md"
        if not readme.exists():
            continue
        card = DatasetCard(readme.read_text(), ignore_metadata_errors=True)
        infos_file = folder / "dataset_infos.json"
        infos = json.loads(infos_file.read_text()) if infos_file.exists() else {}
        description = next((i.get("description") for i in infos.values() if i.get("description")), None)
        body = {"id": folder.name, "author": None, "sha": None, "private": False, "gated": False, "disabled": False,
                "tags": [], "cardData": card.data.to_dict(), "description": description}
        (dest / "datasets" / f"{folder.name}.json").write_text(json.dumps(body))
        datasets += 1
    articles = 0
    for recording in sorted((realdata / "arxiv").rglob("*")):
        if recording.suffix == ".json":
            text = json.loads(recording.read_text()).get("body") or ""
        elif recording.suffix == ".xml":
            text = recording.read_text()
        else:
            continue
        for entry in ATOM_ENTRY.findall(text):
            match = ATOM_ID.search(entry)
            if match:
                (dest / "arxiv" / f"{match.group(1).replace('/', '_')}.xml").write_text(entry + "\n")
                articles += 1
    return {"models": len(model_ids) + card_only, "recorded_models": len(model_ids), "card_only_models": card_only,
            "cards": cards, "datasets": datasets, "articles": articles}
