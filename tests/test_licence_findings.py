"""Each licence finding rule (``enrichment.licence_findings``) on licence identifiers as the graph
holds them: made by the licence linking itself (``identify_license``) from what Hub cards write.
Software licences are judged by licomp-toolkit's real resources."""

from __future__ import annotations

import json

import pytest

from mlentory.enrichment.licence_findings import licence_findings, licence_terms
from mlentory.enrichment.licenses import hub_licenses, identify_license
from mlentory.settings import MODEL_LICENCE_TERMS_FILE


def ids(*card_values: str) -> list[str]:
    """The identifiers the graph's licence records get for these card ``license`` values."""
    return [info["spdx"] or info["key"].lower() for value in card_values for info in identify_license(value)]


def rules(model: list[str], base: list[str]) -> list[tuple[str, str | None]]:
    return [(finding.rule, finding.base_licence) for finding in licence_findings(model, base)]


@pytest.mark.parametrize(("model", "base", "expected"), [
    # A derived model more permissive than its non-commercial base.
    (("mit",), ("cc-by-nc-4.0",), [("non-commercial-base", "cc-by-nc-4.0")]),
    (("llama3",), ("fair-noncommercial-research-license",), [("non-commercial-base", "fair-noncommercial-research-license")]),
    (("cc-by-nc-4.0",), ("cc-by-nc-4.0",), []),
    (("cc-by-nc-sa-4.0",), ("cc-by-nc-4.0",), []),  # non-commercial kept
    # No shared derivative of a no-derivatives base, whatever its licence.
    (("cc-by-nc-nd-4.0",), ("cc-by-nc-nd-4.0",), [("no-derivatives-base", "cc-by-nc-nd-4.0")]),
    (("apache-2.0",), ("cc-by-nd-4.0",), [("no-derivatives-base", "cc-by-nd-4.0")]),
    # A share-alike base: the derivative keeps an accepted licence.
    (("apache-2.0",), ("cc-by-sa-4.0",), [("share-alike-not-kept", "cc-by-sa-4.0")]),
    (("cc-by-sa-4.0",), ("cc-by-sa-3.0",), []),  # a later version with the same elements
    (("cc-by-sa-3.0",), ("cc-by-sa-4.0",), [("share-alike-not-kept", "cc-by-sa-4.0")]),  # not an earlier one
    (("mit",), ("cc-by-nc-sa-4.0",), [("non-commercial-base", "cc-by-nc-sa-4.0"), ("share-alike-not-kept", "cc-by-nc-sa-4.0")]),
    # Terms that bind derivatives: the Open RAIL family carries each other's use restrictions, Llama and Gemma their own.
    (("apache-2.0",), ("creativeml-openrail-m",), [("terms-not-carried", "creativeml-openrail-m")]),
    (("openrail++",), ("creativeml-openrail-m",), []),
    (("mit",), ("llama3.1",), [("terms-not-carried", "llama3.1")]),
    (("llama3",), ("llama3",), []),
    (("llama3.1",), ("llama3",), [("terms-not-carried", "llama3")]),  # another agreement
    (("apache-2.0",), ("gemma",), [("terms-not-carried", "gemma")]),
    # A derived model with no licence (or "unknown") while its base has one; a base with none is not judged.
    ((), ("apache-2.0",), [("no-licence", None)]),
    (("unknown",), ("llama2",), [("no-licence", None)]),
    (("mit",), (), []),
    (("mit",), ("unknown",), []),
    # A licence of the card's own ("other") cannot be judged, on either side.
    (("other",), ("llama2",), []),
    (("mit",), ("other",), []),
    # A dual-licensed base offers a choice: honouring one of its licences is enough.
    (("mit",), ("mit", "cc-by-nc-4.0"), []),
    (("mit",), ("cc-by-nc-4.0", "cc-by-nc-sa-4.0"),
     [("non-commercial-base", "cc-by-nc-4.0"), ("non-commercial-base", "cc-by-nc-sa-4.0"), ("share-alike-not-kept", "cc-by-nc-sa-4.0")]),
    # Software licences by licomp-toolkit: copyleft into a permissive licence, not the other way.
    (("mit",), ("gpl-3.0",), [("incompatible-licence", "gpl-3.0")]),
    (("apache-2.0",), ("agpl-3.0",), [("incompatible-licence", "agpl-3.0")]),
    (("apache-2.0",), ("mit",), []),
    (("gpl-3.0",), ("mit",), []),
    (("mit",), ("apache-2.0",), []),
])
def test_each_rule_on_licences_as_the_graph_holds_them(model, base, expected):
    assert rules(ids(*model), ids(*base)) == [(rule, licence and ids(licence)[0].lower()) for rule, licence in expected]


def test_a_finding_cites_its_rule_both_licences_and_who_judged_it():
    [finding] = licence_findings(ids("apache-2.0"), ids("creativeml-openrail-m"))
    assert finding.model_licences == ("apache-2.0",) and finding.base_licence == "creativeml-openrail-m"
    assert "paragraph 4(a)" in finding.clause and finding.url == "https://huggingface.co/spaces/CompVis/stable-diffusion-license"
    assert finding.by.startswith("mlentory model licence terms")
    [software] = licence_findings(ids("mit"), ids("gpl-3.0"))
    assert software.by.startswith("licomp-toolkit (licomp_") and "gpl-3.0" in software.explanation
    assert json.loads(json.dumps(software.as_dict()))["model_licences"] == ["mit"]


def test_the_terms_table_names_only_licences_the_hub_or_spdx_knows_and_cites_a_clause_for_each():
    table = json.loads(MODEL_LICENCE_TERMS_FILE.read_text())["licences"]
    assert table == licence_terms()
    for licence, terms in table.items():
        assert licence in hub_licenses(), licence  # every key is an id a card can write
        assert terms["clause"] and terms.get("url", "").startswith("https://"), licence
        assert {"non_commercial", "no_derivatives", "share_alike", "binds_derivatives"} & set(terms), licence
        for accepted in (*terms.get("share_alike", ()), *terms.get("carried_by", ())):
            assert accepted.removesuffix("-only").removesuffix("-or-later") in hub_licenses(), (licence, accepted)
