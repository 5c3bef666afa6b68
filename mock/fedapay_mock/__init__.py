"""fedapay_mock: a FedaPay payouts mock server derived from spec/openapi.yaml.

Public names load lazily so that `import fedapay_mock` (and its pytest plugin) works even where the
`mock` extra's dependencies are not installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import MockApp, create_app
    from .options import MockOptions, MockSettings
    from .server import MockControls, MockServer, run_mock

__all__ = ["MockApp", "MockControls", "MockOptions", "MockServer", "MockSettings", "create_app", "run_mock"]

_HOMES = {
    "MockApp": "app",
    "MockOptions": "options",
    "MockSettings": "options",
    "create_app": "app",
    "MockControls": "server",
    "MockServer": "server",
    "run_mock": "server",
}


# Not for type checkers: a module `__getattr__` they can see makes every misspelled name of the package
# `Any` (`from ... import PayoutOutcomeUnknowError` would pass mypy --strict); the TYPE_CHECKING imports
# above declare every lazy name.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module 'fedapay_mock' has no attribute {name!r}")
        import importlib

        from .extra import require_mock_extra

        # Without the `mock` extra, `from fedapay_mock import run_mock` says which extra to install
        # (MockExtraMissing, an ImportError), as the CLI and the fixture do, instead of a bare
        # ModuleNotFoundError from deep inside.
        require_mock_extra()
        return getattr(importlib.import_module(f".{home}", __name__), name)
