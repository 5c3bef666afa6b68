"""A page's text made safe to print and to write: its control characters shown as escapes.

Names, values and descriptions from FedaPay's pages reach the change report (terminal, JSON file, CHANGELOG
ids) and the failure messages. Raw, an ESC sequence drives the maintainer's terminal (a cleared screen, a
fake "regenerate: up to date, nothing written") and a line break fakes a line of the report. Every C0
control character (a newline too, unless the text is several lines: the report's own), DEL, the C1
controls and lone surrogates become visible escapes: `\\x1b`, `\\x0a`, `\\u009b`. The same rule as
fedapay_contract/visible.py, kept here: the pipeline does not depend on the contract package.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_UNSAFE_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` as one line: every control character (newline and tab included) escaped."""
    return _UNSAFE.sub(_escape, text)


def printable_lines(text: str) -> str:
    """`text` with every control character escaped but the newlines that separate its lines."""
    return _UNSAFE_BUT_NEWLINE.sub(_escape, text)
