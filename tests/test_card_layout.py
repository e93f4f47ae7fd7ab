"""A card is read once, when it arrives: its record keeps the body's layout (boilerplate lines,
sections by line numbers), and the later steps rebuild from it exactly the card that reading it
again would give, on every card the project has and on the recorded ones."""

from __future__ import annotations

import pytest
from conftest import FIXTURE_SNAPSHOT, SHARED_REALDATA

from mlentory.sources.huggingface.cards import card_from_record, card_record, parse_card

REALDATA_CARDS = SHARED_REALDATA / "huggingface" / "model_cards"
EDGE_CASES = {
    "empty": "",
    "front matter only": "---\nlicense: mit\n---\n",
    "malformed front matter": "---\nlicense: [mit\n---\n# Model\nText.\n",
    "heading in code": "Intro\n\n```\n# not a heading\n```\n## Usage\nRun it.\n",
    "comment across lines": "# Model\n<!-- a\ncomment -->\nText after.\n<!-- Provide a longer summary. -->\n",
    "template placeholders": "# Model Card\n\n- **Developed by:** [More Information Needed]\n\n## Uses\n\n[More Information Needed]\n",
    "unclosed fence": "# A\n```\n# B\ntext\n",
    "carriage returns": "# A\r\ntext\r\n## B\r\nmore\r\n",
}


def _cards() -> dict[str, str]:
    cards = {path.name: path.read_text(encoding="utf-8") for path in sorted((FIXTURE_SNAPSHOT / "cards").glob("*.md"))}
    cards.update(EDGE_CASES)
    return cards


@pytest.mark.parametrize("name", sorted(_cards()))
def test_the_card_rebuilt_from_its_layout_is_the_card_read_again(name):
    text = _cards()[name]
    assert card_from_record(card_record("acme-ai/model", None, text)) == parse_card(text)


def test_the_recorded_cards_rebuild_as_they_read():
    if not REALDATA_CARDS.is_dir():
        pytest.skip(f"the recorded cards are not here ({REALDATA_CARDS}): ../shared/realdata is absent")
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(REALDATA_CARDS.rglob("*")) if p.is_file()]
    assert len(texts) >= 40
    differing = [t[:60] for t in texts if card_from_record(card_record("acme-ai/model", None, t)) != parse_card(t)]
    assert differing == []


def test_a_card_record_of_an_earlier_version_is_read_from_its_text():
    text = _cards()["template placeholders"]
    record = {key: value for key, value in card_record("acme-ai/model", None, text).items() if key != "layout"}
    assert card_from_record(record) == parse_card(text)
