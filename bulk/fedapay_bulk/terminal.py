"""Text from the file (cells, headers) or from FedaPay (statuses, messages) shown on a terminal: control
characters and line breaks escaped, never interpreted.

A payroll file and a server's reply are data from elsewhere: an escape sequence in a cell must not move the
cursor, erase lines, retitle the window or hide what the command prints about money, and a line break in a
payout's status must not start a line of its own that passes for the command's (a forged summary).
"""

from __future__ import annotations

import unicodedata


def shown(text: str) -> str:
    """`text` with every control or format character (C0, C1, DEL, bidi overrides...) as a visible escape."""
    return "".join(_escape(ch) if _hidden(ch) else ch for ch in text)


def _hidden(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
