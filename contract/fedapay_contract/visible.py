"""A server's text made safe to print and to write to XML (the JUnit file): the project's one rule
(`fedapay_payouts._visible`), with the newlines and tabs of a multi-line message kept."""

from __future__ import annotations

from fedapay_payouts._visible import visible as _visible


def visible(text: str) -> str:
    """`text` with each unsafe character escaped (ESC, NUL, bidi overrides...); newlines and tabs kept."""
    return _visible(text, keep="\n\t")
