"""pytest fixtures that serve the FedaPay mock (registered through the `pytest11` entry point).

Nothing heavy is imported until a fixture runs, so installing the package without the `mock` extra
never breaks pytest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .server import MockServer


@pytest.fixture(scope="session")
def fedapay_mock_options() -> dict[str, Any]:
    """Options for the session's mock server; override this fixture to change them."""
    return {}


@pytest.fixture(scope="session")
def fedapay_mock_server(fedapay_mock_options: dict[str, Any]) -> Iterator[MockServer]:
    """One mock server for the whole session, on 127.0.0.1 and a free port."""
    from .server import run_mock

    with run_mock(**fedapay_mock_options) as server:
        yield server


@pytest.fixture
def fedapay_mock(fedapay_mock_server: MockServer) -> MockServer:
    """The session's mock server, emptied (state, faults, counters, clock) before this test."""
    fedapay_mock_server.reset()
    return fedapay_mock_server
