"""One rule for text from elsewhere on a terminal or in a file (fedapay_payouts/_visible.py), used by the bulk
command, the contract command and the spec pipeline alike: the contract command and the pipeline let a bidi
override through (U+202E shows a reply's or a page's text reversed), the bulk command a lone surrogate."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fedapay_bulk.terminal import shown
from fedapay_contract.visible import visible as contract_visible
from fedapay_payouts._visible import visible
from printable import printable, printable_lines  # scripts/ (pytest's pythonpath)

UNSAFE = ["\x1b[2J", "\x00", "\x07", "\x7f", "\x9b", "\u202e", "\u200b", "\u2028", "\u2029", "\ud800", "\ufffe"]


@pytest.mark.parametrize("escape", [visible, shown, contract_visible, printable, printable_lines],
                         ids=["visible", "bulk", "contract", "pipeline line", "pipeline lines"])
@pytest.mark.parametrize("unsafe", UNSAFE)
def test_every_consumer_shows_an_unsafe_character_as_an_escape(escape: Callable[[str], str], unsafe: str) -> None:
    out = escape(f"ok {unsafe} ok")
    assert unsafe not in out
    assert out.startswith("ok \\")
    assert out.isprintable()


def test_what_is_kept_is_what_each_consumer_needs() -> None:
    text = "line one\tcol\nline two é\u00a0€"
    assert visible(text) == "line one\\x09col\\x0aline two é\u00a0€"  # one line: bulk's cells, a page's names
    assert contract_visible(text) == text  # a multi-line failure message and the JUnit file
    assert printable_lines(text) == "line one\\x09col\nline two é\u00a0€"  # the report's own lines
    assert shown(text) == printable(text) == visible(text)
