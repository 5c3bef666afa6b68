"""CHANGELOG.md's Unreleased section is found by its whole heading line (`### Unreleased` elsewhere is not it),
and a change id is one of its code spans, whatever backticks the id holds."""

from __future__ import annotations

import pytest
from changelog import code_span, code_spans, record, unacknowledged, unreleased

RELEASED = "# Changelog\n\n## 1.0.0\n\n### Unreleased\n\n- `type-changed Payout.id` acknowledged long ago\n"


def test_a_subsection_called_unreleased_is_not_the_unreleased_section() -> None:
    assert unreleased(RELEASED) == ""
    assert unacknowledged(RELEASED, ["type-changed Payout.id"]) == ["type-changed Payout.id"]


def test_recording_adds_a_real_unreleased_section_and_leaves_the_release_alone() -> None:
    text = record(RELEASED, [("type-changed Payout.id", "(create_payout)")], "ids are strings now")
    assert text.startswith(RELEASED)
    assert text.count("\n## Unreleased\n") == 1
    assert unreleased(text).strip().endswith("- `type-changed Payout.id` (create_payout): ids are strings now")
    assert unacknowledged(text, ["type-changed Payout.id"]) == []


def test_the_heading_line_may_end_with_spaces() -> None:
    text = "# Changelog\n\n## Unreleased  \n\n- `x` done\n\n## 1.0.0\n\n- `y`\n"
    assert unacknowledged(text, ["x", "y"]) == ["y"]


BACKTICK_ID = "constraint-added PayoutCreate.merchant_reference (pattern ^[^`]+$)"


def test_an_id_with_a_backtick_is_recorded_in_a_longer_fence_and_reads_back_acknowledged() -> None:
    text = record(RELEASED, [(BACKTICK_ID, "(create_payout)")], "no backticks in references")

    assert f"- `` {BACKTICK_ID} `` (create_payout): no backticks in references" in unreleased(text)
    assert unacknowledged(text, [BACKTICK_ID]) == []
    # Recording again adds nothing: the id is known by itself, not by a piece split off at a backtick.
    assert record(text, [(BACKTICK_ID, "(create_payout)")], "again") == text


@pytest.mark.parametrize("change_id", ["`", "a``b", "``x", "y`", " padded ", "plain"])
def test_any_id_round_trips_through_its_code_span(change_id: str) -> None:
    assert code_spans(f"- {code_span(change_id)} (op): note with a stray ` backtick") == {change_id}


def test_a_piece_of_an_id_is_not_the_id() -> None:
    """Before, splitting on backticks made `[^` and `]+$)` ids of the line, and the whole id none."""
    text = "# Changelog\n\n## Unreleased\n\n- `constraint-added PayoutCreate.merchant_reference (pattern ^[^`]+$)`\n"
    assert unacknowledged(text, [BACKTICK_ID]) == [BACKTICK_ID]
