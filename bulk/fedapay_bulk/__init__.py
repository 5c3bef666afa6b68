"""fedapay_bulk: pay a payroll file through FedaPay payouts, each row exactly once, across crashes and re-runs.

`fedapay-payouts bulk FILE.csv` (see `cli.py`) reads and checks the whole file before any request
(`rows.py`, `checks.py`), records every row's progress in an SQLite journal (`journal.py`), creates
payouts concurrently with deterministic merchant references and idempotency keys, starts them in groups
(`engine.py`), and writes a report (`report.py`). Only the client's public surface is used.

The run's names are imported on first use (`__getattr__`): without the `bulk` extra, importing the package
(as the command does) works, and using them raises `BulkExtraMissing` naming the extra (`extra.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    BulkError,
    ExistingPayoutsError,
    FileChangedError,
    FileInvalidError,
    OptionsChangedError,
    ReferenceUsedError,
)
from .extra import BulkExtraMissing, require_bulk_extra

if TYPE_CHECKING:
    from .engine import BulkOptions, BulkResult, pay_file, pay_file_async

_FROM_ENGINE = frozenset({"BulkOptions", "BulkResult", "pay_file", "pay_file_async"})

__all__ = [
    "BulkError",
    "BulkExtraMissing",
    "BulkOptions",
    "BulkResult",
    "ExistingPayoutsError",
    "FileChangedError",
    "FileInvalidError",
    "OptionsChangedError",
    "ReferenceUsedError",
    "pay_file",
    "pay_file_async",
]


# Not for type checkers: a module `__getattr__` they can see makes every misspelled name of the package
# `Any` (`from ... import PayoutOutcomeUnknowError` would pass mypy --strict); the TYPE_CHECKING imports
# above declare every lazy name.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name not in _FROM_ENGINE:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        require_bulk_extra()
        from . import engine

        return getattr(engine, name)
