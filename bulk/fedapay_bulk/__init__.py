"""fedapay_bulk: pay a payroll file through FedaPay payouts, each row exactly once, across crashes and re-runs.

`fedapay-payouts bulk FILE.csv` (see `cli.py`) reads and checks the whole file before any request
(`rows.py`, `checks.py`), records every row's progress in an SQLite journal (`journal.py`), creates
payouts concurrently with deterministic merchant references and idempotency keys, starts them in groups
(`engine.py`), and writes a report (`report.py`). Only the client's public surface is used.
"""

from .engine import BulkOptions, BulkResult, pay_file, pay_file_async
from .errors import BulkError, FileChangedError, FileInvalidError

__all__ = [
    "BulkError",
    "BulkOptions",
    "BulkResult",
    "FileChangedError",
    "FileInvalidError",
    "pay_file",
    "pay_file_async",
]
