"""A server's text made safe to print and to write to XML: its control characters shown as escapes.

What a server sends reaches the lines the command prints (a failing check quotes the reply) and the JUnit
file. Raw, an ESC sequence drives the reader's terminal (colours, the window's title, a cleared screen) and
a NUL makes the XML unparseable. Every C0 and C1 control character but newline and tab, DEL, lone
surrogates and the two non-characters XML forbids (U+FFFE, U+FFFF) become visible escapes: `\\x1b`, `\\u009b`.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with each unsafe character (see the module) replaced by its escape; newlines and tabs kept."""
    return _UNSAFE.sub(_escape, text)
