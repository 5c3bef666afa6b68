"""pytest fixtures that serve the FedaPay mock (registered through the `pytest11` entry point).

Nothing heavy is imported until a fixture runs, so installing the package without the `mock` extra
never breaks pytest; without it, a fixture fails with one line naming the extra to install.

`fedapay_mock` gives each test a server started with the options *it* sees (`fedapay_mock_options`, which a
folder's `conftest.py` may override): one server per distinct options, started at first use and kept for the
session, so an override in one folder never leaks into another. `fedapay_mock_server` stays the session's
server (session scope, the session's options), as the interface has always had it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .extra import MockExtraMissing, require_mock_extra

if TYPE_CHECKING:
    from .options import MockOptions
    from .server import MockServer


def _missing_extra() -> str | None:
    try:
        require_mock_extra()
    except MockExtraMissing as missing:
        return str(missing)
    return None


class MockServers:
    """The session's mock servers, one per distinct `MockOptions`, each started at first use."""

    def __init__(self) -> None:
        self._servers: dict[MockOptions, MockServer] = {}
        self._stack = contextlib.ExitStack()

    def __len__(self) -> int:
        return len(self._servers)

    def server(self, options: MockOptions | dict[str, Any]) -> MockServer:
        """The running server with these options (a dict: `MockOptions`' fields), started if none is."""
        from .options import MockOptions
        from .server import run_mock

        if not isinstance(options, MockOptions):
            options = MockOptions(**options)
        found = self._servers.get(options)
        if found is None:
            found = self._servers[options] = self._stack.enter_context(run_mock(options))
        return found

    def close(self) -> None:
        self._stack.close()
        self._servers.clear()


@pytest.fixture(scope="session")
def fedapay_mock_options() -> MockOptions | dict[str, Any]:
    """Options for the mock server of the tests that see this fixture: FedaPay's defaults (its rules on).
    Override it (in a `conftest.py`, any scope) with a `MockOptions` or a dict of its fields
    (`{"max_payouts_per_number": None}`); the override applies where pytest applies it, and nowhere else."""
    from .options import MockOptions

    return MockOptions()


@pytest.fixture(scope="session")
def fedapay_mock_servers() -> Iterator[MockServers]:
    """Every mock server of the session (one per distinct options), all stopped when it ends."""
    problem = _missing_extra()
    if problem:
        pytest.fail(problem, pytrace=False)
    servers = MockServers()
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture(scope="session")
def fedapay_mock_server(
    fedapay_mock_servers: MockServers, fedapay_mock_options: MockOptions | dict[str, Any]
) -> MockServer:
    """The session's running mock server, on 127.0.0.1 and a free port, not reset (see `fedapay_mock`).
    Session-scoped, so a session fixture of yours can use it; pytest resolves it once, from the first test
    that asks, so it has the options that test sees. `fedapay_mock` always has the options of its own test."""
    return fedapay_mock_servers.server(fedapay_mock_options)


@pytest.fixture
def fedapay_mock(fedapay_mock_servers: MockServers, fedapay_mock_options: MockOptions | dict[str, Any]) -> MockServer:
    """This test's mock server, with the options this test sees, emptied (state, faults, counters, clock,
    webhooks) before the test: the session's server (`fedapay_mock_server`) when the options are the session's,
    else the one server of the session with those options."""
    server = fedapay_mock_servers.server(fedapay_mock_options)
    server.reset()
    return server
