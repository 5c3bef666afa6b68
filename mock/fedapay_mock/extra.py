"""The `mock` extra: which modules it brings, and the one line that says how to install it when one is missing.

The package installs without the extra (the client does not need a server); the fixtures and the CLI check
here first so a plain install meets an install command, not a traceback through our imports.
"""

from __future__ import annotations

import importlib

# Imported by the mock when it serves: uvicorn runs it on httptools' parser (`http_protocol.py`), yaml reads
# the spec, jsonschema_rs checks bodies.
MOCK_EXTRA_MODULES = ("uvicorn", "httptools", "yaml", "jsonschema_rs")
INSTALL_HINT = "pip install 'fedapay-payouts[mock]'"


class MockExtraMissing(ImportError):
    """A module of the `mock` extra cannot be imported; the message is the install command."""


def require_mock_extra() -> None:
    """Raise `MockExtraMissing`, naming the module and the extra, unless every module the mock needs imports."""
    for name in MOCK_EXTRA_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            raise MockExtraMissing(
                f"the FedaPay mock needs the `mock` extra (`{name}` is missing): {INSTALL_HINT}", name=name
            ) from None
