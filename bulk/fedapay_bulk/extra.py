"""The `bulk` extra: which modules it brings, and the one line that says how to install it when one is missing.

The package installs without the extra (the client needs neither); `fedapay-payouts bulk` and the package's
own names (`fedapay_bulk.pay_file`...) check here first, as `fedapay-mock` and `fedapay-contract` do for
theirs, so a plain install meets an install command, not a traceback through our imports.
"""

from __future__ import annotations

import importlib.util

# phonenumbers parses every row's number (`phones.py`); rich draws the progress bar (`progress.py`).
BULK_EXTRA_MODULES = ("phonenumbers", "rich")
INSTALL_HINT = "pip install 'fedapay-payouts[bulk]'"


class BulkExtraMissing(ImportError):
    """A module of the `bulk` extra cannot be imported; the message is the install command."""


def require_bulk_extra() -> None:
    """Raise `BulkExtraMissing`, naming the module and the extra, unless every module the command needs imports."""
    for name in BULK_EXTRA_MODULES:
        # Found, not imported (as fedapay-contract checks its extra): rich is imported only for a terminal's bar.
        if importlib.util.find_spec(name) is None:
            raise BulkExtraMissing(
                f"the bulk command needs the `bulk` extra (`{name}` is missing): {INSTALL_HINT}", name=name
            )
