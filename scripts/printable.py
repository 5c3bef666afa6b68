"""A page's text made safe to print and to write (terminal, JSON report, CHANGELOG ids): the project's one rule
(`fedapay_payouts._visible`). Raw, an ESC sequence in a page drives the maintainer's terminal (a cleared screen,
a fake "regenerate: up to date, nothing written") and a line break fakes a line of the report."""

from __future__ import annotations

from fedapay_payouts._visible import visible


def printable(text: str) -> str:
    """`text` as one line: every control character (newline and tab included) escaped."""
    return visible(text)


def printable_lines(text: str) -> str:
    """`text` with every control character escaped but the newlines that separate its lines."""
    return visible(text, keep="\n")


def hidden_characters(text: str, keep: str = "") -> list[str]:
    """The characters of `text` the rule escapes (but those of `keep`), each once and escaped: `['\\u202e']`."""
    if text.isprintable():
        return []
    return [visible(ch) for ch in dict.fromkeys(text) if ch not in keep and visible(ch) != ch]
