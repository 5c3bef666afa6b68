"""An invalid spec names the failing keyword, its JSON path and where it came from, with the upstream changes.

Before, regenerate said "spec/openapi.yaml is not valid OpenAPI:" and ~500 characters of the whole schema's
JSON, naming neither the page, the overlay nor the keyword, and did not print what changed upstream.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from spec_validity import Problem, json_path, problems

from tests.spine.spine_support import edit_page, git_status, regenerate

REPLY_AMOUNT = "                  amount:\n                    type: integer\n"
REPLY_AMOUNT_PLACE = "$.components.schemas.Payout.properties.amount"
PAGE_AMOUNT_PLACE = (
    "$.paths['/payouts'].post.responses['201'].content['application/json'].schema.properties.amount"
)


def _report(root: Path) -> dict[str, Any]:
    return json.loads((root / "build/regenerate-report.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("added", "keyword", "problem"),
    [
        ("maximum: 1e400", "maximum", "infinity (as YAML reads 1e400 or .nan) is not a number JSON can hold"),
        ("minLength: -1", "minLength", "-1 is less than the minimum of 0"),
    ],
)
def test_a_pages_invalid_keyword_is_named_at_its_place_with_its_page_and_the_upstream_changes(
    git_copy: Path, added: str, keyword: str, problem: str
) -> None:
    edit_page(git_copy, REPLY_AMOUNT, REPLY_AMOUNT + f"                    {added}\n")

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 1, result.stdout + result.stderr
    err = result.stderr.splitlines()
    assert err[0] == (
        "regenerate: FAILED: spec/openapi.yaml is not valid OpenAPI (1 problem(s) shown, each at its JSON path; fix"
        " the page or the overlay named):"
    )
    assert err[1].startswith(f"  {REPLY_AMOUNT_PLACE}.{keyword}: `{keyword}`: {problem}")
    assert err[1].endswith(f"(from spec/source/create-payout.page.txt fence 1 at {PAGE_AMOUNT_PLACE}.{keyword})")
    assert '{"description"' not in result.stderr  # no schema JSON
    # The upstream changes and diff, as for an overlay that no longer applies.
    assert err[2] == "regenerate: what changed upstream:"
    assert "POST /payouts response 201.amount" in err[4]
    assert f"+                    {added}" in err
    assert err[-1] == "regenerate: nothing was written."
    report = _report(git_copy)
    assert report["status"] == "failed"
    assert f"{REPLY_AMOUNT_PLACE}.{keyword}" in report["failures"][0]
    assert [change["where"] for change in report["upstream_changes"]] == ["POST /payouts response 201.amount"]
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"


def test_an_overlays_invalid_value_names_the_overlay_action(git_copy: Path) -> None:
    (git_copy / "spec/overlays/15-bad-bound.yaml").write_text(
        "overlay: 1.0.0\ninfo: {title: a bad bound, version: 1.0.0}\nactions:\n"
        "  - target: $.components.schemas.Payout.properties.reference\n    update: {maxLength: -3}\n",
        encoding="utf-8",
    )

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 1, result.stdout + result.stderr
    expected = (
        "  $.components.schemas.Payout.properties.reference.maxLength: `maxLength`: -3 is less than the minimum of 0"
        " (set by spec/overlays/15-bad-bound.yaml action 1)"
    )
    assert expected in result.stderr.splitlines()
    assert "  (no upstream change: the overlays make this on their own)" in result.stderr.splitlines()


def test_problems_name_the_deepest_keyword_not_the_whole_schema() -> None:
    document = {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": {"type": "object", "properties": {"n": {"type": "integer",
                                                                                  "maxItems": -2}}}}}}}}}},
    }

    assert problems(document) == [
        Problem(("paths", "/x", "get", "responses", "200", "content", "application/json", "schema", "properties",
                 "n", "maxItems"), "-2 is less than the minimum of 0"),
    ]


def test_a_json_path_quotes_what_is_not_a_name_and_escapes_control_characters() -> None:
    assert json_path(("paths", "/payouts", "post", "responses", "201", "x\x1b[2J", 0)) == (
        "$.paths['/payouts'].post.responses['201']['x\\x1b[2J'][0]"
    )
