"""The run report's counts by reason: a reason's kind keeps what went wrong and drops what names one
record, on reasons as the sources' tasks write them (taken from runs over the recordings)."""

from __future__ import annotations

import pytest

from mlentory.pipeline.report import by_reason, reason_kind


@pytest.mark.parametrize(("reason", "kind"), [
    ("'https://hypha.aicell.io/bioimage-io/artifacts/fearless-badger/files/README.md?version=v0': HTTPStatusError: "
     "Client error '404 Not Found' for url 'http://127.0.0.1:47585/bioimage-io/artifacts/fearless-badger/files/README.md?version=v0'",
     "HTTPStatusError: Client error '404 Not Found' for url …"),
    ("not convertible to the latest format (documentation: Value error, Expected suffix .md, but got .txt)",
     "not convertible to the latest format"),
    ("ilastik/torch-em-3d-unet-notebook: not a resource of the collection", "not a resource of the collection"),
    ("not a language code or name: 'code'; not recorded as a language", "not a language code or name: …; not recorded as a language"),
    ("front matter not read: ParserError: while parsing a flow sequence\n  in \"<unicode string>\", line 1, column 10\n"
     "did not find expected ',' or ']'", "front matter not read: ParserError: while parsing a flow sequence"),
    ("not found on the Hub (deleted, renamed or private); linked as a stub", "not found on the Hub (deleted, renamed or private); linked as a stub"),
    ("not found at the source (404)", "not found at the source (404)"),
    ("outputs[0].data_range [None, None] read as unbounded (JSON has no infinity)",
     "outputs[0].data_range [None, None] read as unbounded (JSON has no infinity)"),
])
def test_a_reasons_kind_names_no_record(reason: str, kind: str) -> None:
    assert reason_kind(reason) == kind


def test_records_that_went_wrong_alike_are_counted_together() -> None:
    warnings = [{"what": "documentation", "reason": f"'https://hypha.aicell.io/bioimage-io/artifacts/{name}/files/README.md': HTTPStatusError: "
                 f"Client error '404 Not Found' for url 'http://127.0.0.1:1/{name}'"} for name in ("a", "b", "c")]
    warnings += [{"part": "related_00000", "reason": "zero/x: not a resource of the collection"}]
    assert by_reason(warnings) == {"documentation: HTTPStatusError: Client error '404 Not Found' for url …": 3,
                                   "related_00000: not a resource of the collection": 1}
