"""CHANGELOG.md's Unreleased section is found by its whole heading line: `### Unreleased` elsewhere is not it."""

from __future__ import annotations

from changelog import record, unacknowledged, unreleased

RELEASED = "# Changelog\n\n## 1.0.0\n\n### Unreleased\n\n- `type-changed Payout.id` acknowledged long ago\n"


def test_a_subsection_called_unreleased_is_not_the_unreleased_section() -> None:
    assert unreleased(RELEASED) == ""
    assert unacknowledged(RELEASED, ["type-changed Payout.id"]) == ["type-changed Payout.id"]


def test_recording_adds_a_real_unreleased_section_and_leaves_the_release_alone() -> None:
    text = record(RELEASED, ["`type-changed Payout.id` (create_payout)"], "ids are strings now")
    assert text.startswith(RELEASED)
    assert text.count("\n## Unreleased\n") == 1
    assert unreleased(text).strip().endswith("- `type-changed Payout.id` (create_payout): ids are strings now")
    assert unacknowledged(text, ["type-changed Payout.id"]) == []


def test_the_heading_line_may_end_with_spaces() -> None:
    text = "# Changelog\n\n## Unreleased  \n\n- `x` done\n\n## 1.0.0\n\n- `y`\n"
    assert unacknowledged(text, ["x", "y"]) == ["y"]
