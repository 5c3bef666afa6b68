"""pytest fixtures that serve the FedaPay mock (registered through the `pytest11` entry point).

Nothing heavy is imported until a fixture runs, so installing the package without the `mock` extra
never breaks pytest; without it, a fixture fails with one line naming the extra to install.

`fedapay_mock` gives each test a server started with the options *it* sees (`fedapay_mock_options`, which a
folder's `conftest.py` may override): one server per distinct options, started at first use and kept for the
session, so an override in one folder never leaks into another. `fedapay_mock_server` stays the session's
server (session scope, the session's options), as the interface has always had it.
"""

from __future__ import annotations

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
    """The session's mock servers, one per distinct `MockOptions`, each started at first use.

    `server(options)` gives a server kept for the session (a fixture of yours may hold it). The servers only
    `fedapay_mock` asked for (`keep=False`) are at most `KEEP` running: the one used longest ago is stopped when
    another starts, and started again if asked for again (`fedapay_mock` resets a server before each test
    anyway). A test parametrized over many options kept a server (8 file descriptors and a thread) for each,
    and past a few dozen the process ran out of file descriptors with no word of it. Such a server a test
    stopped is started anew for the next test; a kept one a test stopped is an error naming it (whoever
    holds it would go on with a stopped server).
    """

    KEEP = 8

    def __init__(self) -> None:
        self._servers: dict[MockOptions, MockServer] = {}  # the most recently used last
        self._pinned: set[MockOptions] = set()

    def __len__(self) -> int:
        return len(self._servers)

    def server(self, options: MockOptions | dict[str, Any], *, keep: bool = True) -> MockServer:
        """The running server with these options (a dict: `MockOptions`' fields), started if none is; `keep`: never
        stopped before the session ends (`fedapay_mock` passes False)."""
        from .app import create_app
        from .options import MockOptions
        from .server import MockServer

        if not isinstance(options, MockOptions):
            options = MockOptions(**options)
        found = self._servers.pop(options, None)
        if found is not None and not found.running and options in self._pinned:
            self._servers[options] = found
            raise RuntimeError(
                f"the mock server of these options ({found.base_url}) was stopped by an earlier test, and the "
                "session (fedapay_mock_server, or a fixture of yours) still holds it: let the session stop it"
            )
        if found is None or not found.running:
            found = MockServer(create_app(options))
            found.start()
        self._servers[options] = found
        if keep:
            self._pinned.add(options)
        unpinned = [kept for kept in self._servers if kept not in self._pinned]
        for oldest in unpinned[: max(0, len(unpinned) - self.KEEP)]:
            self._servers.pop(oldest).stop()
        return found

    def close(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()
        self._pinned.clear()


def _server(servers: MockServers, options: MockOptions | dict[str, Any], *, keep: bool) -> MockServer:
    """`servers.server(options)`, or the test fails with one line naming what is wrong: never a traceback, whose
    frames would show the options (an `api_key`, a `webhook_secret`) as their arguments."""
    try:
        return servers.server(options, keep=keep)
    except (TypeError, ValueError) as exc:
        problem = f"fedapay_mock_options: {exc}"
    except RuntimeError as exc:
        problem = f"fedapay_mock: {exc}"
    pytest.fail(problem, pytrace=False)  # outside the `except`: no "During handling of the above exception"


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
    return _server(fedapay_mock_servers, fedapay_mock_options, keep=True)


@pytest.fixture
def fedapay_mock(fedapay_mock_servers: MockServers, fedapay_mock_options: MockOptions | dict[str, Any]) -> MockServer:
    """This test's mock server, with the options this test sees, emptied (state, faults, counters, clock,
    webhooks) before the test: the session's server (`fedapay_mock_server`) when the options are the session's,
    else the one server of the session with those options."""
    server = _server(fedapay_mock_servers, fedapay_mock_options, keep=False)
    server.reset()
    return server
