"""`FEDAPAY_LOG=info|debug`: this package's log on stderr with no code (openai-python's `OPENAI_LOG`).

Read when a client is built (not at import: `import fedapay_payouts` never fails over a variable), and
checked like every other `FEDAPAY_*` variable: any other value raises `InvalidArgumentError` naming
FEDAPAY_LOG, rather than leaving someone who asked for a log without one and without a word.

- `info`: one line per attempt (method, path, status or error, elapsed time, attempt number, request
  id) and one per retry or retry given up;
- `debug`: also each attempt's details: the request's header names, its Idempotency-Key and
  FedaPay-Account, the reply's headers. Never a body (beneficiaries' names and phone numbers), never
  the value of another request header (a custom header may carry a credential).

It sets the level of the `fedapay_payouts` logger and gives it one handler writing to the current
`sys.stderr` (added once, however many clients are built). The redacting filter of `_redact.py` sits
on that handler too, so no record it prints shows a live client's key. Records still propagate to
your own handlers; configure `logging.getLogger("fedapay_payouts")` yourself instead when you have a
logging setup.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Final

from ._config import shown
from ._exceptions import InvalidArgumentError

__all__ = ["LEVELS", "setup_logging"]

VARIABLE: Final = "FEDAPAY_LOG"
LEVELS: Final = {"info": logging.INFO, "debug": logging.DEBUG}
FORMAT: Final = "[%(asctime)s %(name)s %(levelname)s] %(message)s"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time of each record (test runners and daemons replace it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging() -> None:
    """Apply FEDAPAY_LOG, if set (an empty value counts as unset); a value other than info/debug is refused."""
    value = os.environ.get(VARIABLE)
    if not value:
        return
    level = LEVELS.get(value.strip().lower())
    if level is None:
        raise InvalidArgumentError(
            VARIABLE, f"(from the environment) must be 'info' or 'debug' (or unset for no log), got {shown(value)}"
        )
    from ._redact import FILTER, install_log_filter

    install_log_filter()
    logger = logging.getLogger("fedapay_payouts")
    logger.setLevel(level)
    if not any(isinstance(handler, _StderrHandler) for handler in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(FILTER)
        logger.addHandler(handler)
