"""Text from elsewhere made safe to print and to write: its control and format characters shown as escapes.

A server's reply, a payroll cell or a FedaPay doc page reaches lines the project's commands print and files
they write (reports, JUnit XML, the spec change report). Raw, an ESC sequence drives the reader's terminal (a
cleared screen, the window's title, a faked "up to date"), a line break forges a line of its own, a bidi
override (U+202E) shows text in another order than it has, and a NUL makes XML unparseable. Every C0 and C1
control character, DEL, format character (bidi controls, zero-width joiners), line and paragraph separator,
lone surrogate and the two non-characters XML forbids (U+FFFE, U+FFFF) becomes a visible escape: `\\x1b`,
`\\u202e`. One rule for the client's commands (fedapay_bulk, fedapay_contract) and the spec pipeline.
"""

from __future__ import annotations

import unicodedata

__all__ = ["visible"]

_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def visible(text: str, keep: str = "") -> str:
    """`text` with each unsafe character (see the module) escaped; the characters of `keep` (say "\\n\\t", for text
    of several lines) stay as they are."""
    if text.isprintable():  # the common case, in C: nothing to escape (every unsafe character is unprintable)
        return text
    return "".join(_escape(ch) if ch not in keep and _hidden(ch) else ch for ch in text)


def _hidden(ch: str) -> bool:
    return ch in "\ufffe\uffff" or unicodedata.category(ch) in _HIDDEN_CATEGORIES


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"
