"""A page's key or text holding a format or control character is refused at extract time, in one escaped line.

Before, a description holding U+202E (a bidi override) was escaped in the printed report but written raw into
spec/openapi.yaml, the mock's copy, openapi.json and the generated model's docstring; a key holding one was
generated without it, so the field never matched the wire.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_pages import PageError, refuse_hidden

from tests.spine.spine_support import edit_page, git_status, regenerate

FEES = "                  fees:\n                    type: integer\n                    description: Payout fees.\n"
PAGE = "spec/source/create-payout.page.txt: fence 1"
REPLY = "/paths/~1payouts/post/responses/201/content/application~1json/schema/properties"


@pytest.mark.parametrize(
    ("added", "place", "shown", "found"),
    [
        ('                    description: "Name \\u202Egnp.exe"\n', "fees/description", "Name \\u202egnp.exe",
         "\\u202e"),
        ('                    description: "Fees\\u200B"\n', "fees/description", "Fees\\u200b", "\\u200b"),
        ('                    description: "Fees\\a and \\x1b[2J"\n', "fees/description", "Fees\\x07 and \\x1b[2J",
         "\\x07, \\x1b"),
        ("                    example: 'a\u2028b'\n", "fees/example", "a\\u2028b", "\\u2028"),
    ],
)
def test_a_format_or_control_character_in_a_pages_text_is_refused(
    git_copy: Path, added: str, place: str, shown: str, found: str
) -> None:
    edit_page(git_copy, FEES, FEES.replace("                    description: Payout fees.\n", added))

    result = regenerate("--root", str(git_copy))

    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("regenerate: FAILED")]
    assert line.startswith(f"regenerate: FAILED: {PAGE}: {REPLY}/{place}: the value `{shown}` holds {found} (")
    assert line.isprintable()
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"


def test_a_format_character_in_a_pages_key_is_refused(git_copy: Path) -> None:
    edit_page(git_copy, FEES, FEES.replace("fees:", "fe\u202ees:"))

    result = regenerate("--root", str(git_copy))

    # Before: written, the generated field named `fees` without it, so the reply's `fe\u202ees` never matched it.
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"FAILED: {PAGE}: {REPLY}/fe\\u202ees: the key `fe\\u202ees` holds \\u202e (" in result.stderr
    assert "\u202e" not in result.stderr
    assert git_status(git_copy) == " M spec/source/create-payout.page.txt\n"


def test_newlines_and_tabs_stay_allowed_in_text_but_not_in_a_key() -> None:
    refuse_hidden({"a": {"description": "one\n\ttwo"}}, "page")
    with pytest.raises(PageError, match=r"^page: /a\\x0ab: the key `a\\x0ab` holds \\x0a \("):
        refuse_hidden({"a\nb": {"type": "string"}}, "page")
