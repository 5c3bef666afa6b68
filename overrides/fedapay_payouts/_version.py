"""The release number, written here only (hatch reads it for the distribution's metadata), and the User-Agent
built from it: FedaPay's support can tell which library, Python and platform sent a request."""

from __future__ import annotations

import platform
import re

__version__ = "0.1.0"


def _token(text: str) -> str:
    """A header-safe token: printable ASCII without spaces or parentheses (platform strings are not guaranteed)."""
    return re.sub(r"[^\x21-\x7e]|[()]", "_", text) or "unknown"


def user_agent() -> str:
    """`fedapay-payouts-python/<version> <implementation>/<python version> (<system> <machine>)`."""
    python = f"{_token(platform.python_implementation())}/{_token(platform.python_version())}"
    return f"fedapay-payouts-python/{__version__} {python} ({_token(platform.system())} {_token(platform.machine())})"
