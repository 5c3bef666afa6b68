"""pytest fixtures that serve the FedaPay mock (registered through the `pytest11` entry point).

Nothing heavy is imported until a fixture runs, so installing the package without the `mock` extra
never breaks pytest; without it, a fixture fails with one line naming the extra to install.
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


@pytest.fixture(scope="session")
def fedapay_mock_options() -> MockOptions | dict[str, Any]:
    """Options for the session's mock server: FedaPay's defaults (its rules on). Override this fixture to
    change them, with a `MockOptions` or a dict of its fields (`{"max_payouts_per_number": None}`)."""
    from .options import MockOptions

    return MockOptions()


@pytest.fixture(scope="session")
def fedapay_mock_server(fedapay_mock_options: MockOptions | dict[str, Any]) -> Iterator[MockServer]:
    """One mock server for the whole session, on 127.0.0.1 and a free port."""
    problem = _missing_extra()
    if problem:
        pytest.fail(problem, pytrace=False)
    from .options import MockOptions
    from .server import run_mock

    options = fedapay_mock_options
    with run_mock(options if isinstance(options, MockOptions) else MockOptions(**options)) as server:
        yield server


@pytest.fixture
def fedapay_mock(fedapay_mock_server: MockServer) -> MockServer:
    """The session's mock server, emptied (state, faults, counters, clock) before this test."""
    fedapay_mock_server.reset()
    return fedapay_mock_server
