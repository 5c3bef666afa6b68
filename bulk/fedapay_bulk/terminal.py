"""Text from the file (cells, headers) or from FedaPay (statuses, messages) shown on a terminal: control
characters and line breaks escaped, never interpreted.

A payroll file and a server's reply are data from elsewhere: an escape sequence in a cell must not move the
cursor, erase lines, retitle the window or hide what the command prints about money, and a line break in a
payout's status must not start a line of its own that passes for the command's (a forged summary).
"""

from __future__ import annotations

from fedapay_payouts._visible import visible


def shown(text: str) -> str:
    """`text` with every control or format character (C0, C1, DEL, bidi overrides, line breaks) as a visible
    escape: the project's one rule (`fedapay_payouts._visible`)."""
    return visible(text)
