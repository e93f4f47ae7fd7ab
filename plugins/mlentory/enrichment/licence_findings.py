"""Licence findings along the model tree: where a derived model's declared licence may not honour its
base model's. Each finding is a *possible* conflict, for a person to check, with the rule it comes
from, both licences and the clause the rule cites — never a legal verdict.

Licences are compared by the identifiers the graph's licence records hold (SPDX ids, the Hub's ids),
in lower case. Two resources judge them:
- model and content licences (Creative Commons, Open RAIL, Llama, Gemma, non-commercial research
  licences) by ``include/schemas/model_licence_terms.json``, which cites each rule's clause:
  ``non-commercial-base``: a derived model under a licence that allows commercial use, from a base
  that does not; ``no-derivatives-base``: any shared derivative of a base that allows none;
  ``share-alike-not-kept``: a derivative of a share-alike base under a licence the base does not
  accept; ``terms-not-carried``: a derivative of a base whose terms bind derivatives (use
  restrictions, its agreement) under a licence that does not carry them;
- software licences (GPL, AGPL, MPL, ... against any SPDX licence) by licomp-toolkit's resources
  (OSADL's matrix, reclicense): ``incompatible-licence`` where they answer "no" for the base's
  licence as inbound and the derived model's as outbound. licomp-toolkit was chosen over flict (its
  predecessor, by the same author) because it is maintained, queries several resources and says
  which one answered; it does not know model licences, hence the table.
And ``no-licence``: a derived model that declares none while its base declares one.

A base with several licences is read as offering a choice (dual licensing): a derived model
conflicts only when it conflicts with each of them. "other" (a licence of the card's own) and
"unknown" cannot be judged: no finding rests on them, and "unknown" counts as no licence.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass
from typing import Any

from mlentory.settings import MODEL_LICENCE_TERMS_FILE

UNJUDGED = frozenset({"other", "unknown"})
TABLE = "mlentory model licence terms (include/schemas/model_licence_terms.json)"


@dataclass(frozen=True)
class LicenceFinding:
    rule: str
    base_licence: str | None  # the base's licence the rule is about (None: no-licence)
    model_licences: tuple[str, ...]
    explanation: str
    clause: str
    url: str | None
    by: str  # the resource that judged it

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "model_licences": list(self.model_licences)}


@functools.cache
def licence_terms() -> dict[str, dict[str, Any]]:
    return json.loads(MODEL_LICENCE_TERMS_FILE.read_text(encoding="utf-8"))["licences"]


def licence_findings(model_licences: list[str], base_licences: list[str]) -> list[LicenceFinding]:
    """The possible conflicts between a derived model's licences and its base's (identifiers)."""
    model = tuple(sorted({licence.lower() for licence in model_licences} - {"unknown"}))
    base = sorted({licence.lower() for licence in base_licences} - {"unknown"})
    if not base:
        return []
    if not model:
        return [LicenceFinding("no-licence", None, (), f"the model declares no licence; its base declares {', '.join(base)}",
                               "a derived model is distributed under its base's licence terms, which it should state", None, TABLE)]
    by_base = [_findings_for(model, licence) for licence in base]
    if not all(by_base):  # one of the base's licences (a dual licence) is honoured, or cannot be judged
        return []
    return [finding for findings in by_base for finding in findings]


def _findings_for(model: tuple[str, ...], base: str) -> list[LicenceFinding]:
    if base in UNJUDGED or set(model) <= UNJUDGED:
        return []
    terms = licence_terms().get(base)
    if terms is None:
        return _software_findings(model, base)
    known = [licence for licence in model if licence not in UNJUDGED]
    found = []

    def finding(rule: str, explanation: str) -> None:
        found.append(LicenceFinding(rule, base, model, explanation, terms["clause"], terms.get("url"), TABLE))

    if terms.get("non_commercial") and not any(licence_terms().get(licence, {}).get("non_commercial") for licence in known):
        finding("non-commercial-base", f"the base's licence {base} allows no commercial use; the model's {', '.join(model)} does")
    if terms.get("no_derivatives"):
        finding("no-derivatives-base", f"the base's licence {base} allows no shared derivatives; this model is one")
    if terms.get("share_alike") and not any(licence in terms["share_alike"] for licence in known):
        finding("share-alike-not-kept", f"a derivative of a {base} model must be shared under {' or '.join(terms['share_alike'])}, "
                                        f"not {', '.join(model)}")
    if terms.get("binds_derivatives") and not any(licence in terms["carried_by"] for licence in known):
        finding("terms-not-carried", f"the terms of {base} bind derivatives; {', '.join(model)} does not carry them")
    return found


def _software_findings(model: tuple[str, ...], base: str) -> list[LicenceFinding]:
    """licomp-toolkit's answer for a base licence it knows, the model's as outbound."""
    inbound, outbound = _licomp_id(base), [_licomp_id(licence) for licence in model]
    if inbound is None or None in outbound:
        return []
    answer = _licomp_verdict(" OR ".join(sorted(outbound)), inbound)  # type: ignore[arg-type]
    if answer is None:
        return []
    resources = ", ".join(answer[1])
    return [LicenceFinding("incompatible-licence", base, model,
                           f"licomp-toolkit ({resources}): {base} cannot be redistributed under {', '.join(model)}",
                           "the base's licence, as the resource reads it, does not allow the derived model's licence", None,
                           f"licomp-toolkit ({resources})")]


@functools.cache
def _licomp_licences() -> dict[str, str]:
    """The licences licomp-toolkit's resources know, by lower-cased SPDX id."""
    return {name.lower(): name for name in _checker()[0].supported_licenses()}


def _licomp_id(licence: str) -> str | None:
    """The SPDX id licomp knows for ``licence`` (a deprecated ``GPL-3.0`` as ``GPL-3.0-only``)."""
    known = _licomp_licences()
    return known.get(licence) or known.get(f"{licence}-only")


@functools.cache
def _checker() -> tuple[Any, Any]:
    from licomp_toolkit.toolkit import ExpressionExpressionChecker, LicompToolkit

    return LicompToolkit(), ExpressionExpressionChecker()


@functools.cache
def _licomp_verdict(outbound: str, inbound: str) -> tuple[str, tuple[str, ...]] | None:
    """("no", the resources that said so) where licomp's resources find ``outbound`` unable to carry
    ``inbound`` (library use, binary distribution: a model shared as files); None otherwise."""
    report = _checker()[1].check_compatibility(outbound, inbound, "library", "binary-distribution", detailed_report=True)
    if report.get("compatibility") != "no":
        return None
    resources = {entry.get("resource_name") for entry in _walk_compatibilities(report) if entry.get("compatibility_status") == "no"}
    return "no", tuple(sorted(name for name in resources if name))


def _walk_compatibilities(node: Any) -> list[dict[str, Any]]:
    """Every resource's answer in licomp's nested report."""
    if isinstance(node, dict):
        found = [node] if "resource_name" in node else []
        return found + [entry for value in node.values() for entry in _walk_compatibilities(value)]
    if isinstance(node, list):
        return [entry for value in node for entry in _walk_compatibilities(value)]
    return []
