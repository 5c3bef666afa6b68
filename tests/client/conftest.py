from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.client.client_support import Api
from tests.client.hostile_server import HostileServer
from tests.client.twin_support import Twin

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, fedapay_mock: MockServer) -> Iterator[Api]:
    """The test runs twice: with `FedaPay`, and with `AsyncFedaPay` on its own event loop."""
    harness = Api(request.param, fedapay_mock.base_url)
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture(autouse=True)
def _no_fedapay_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FEDAPAY_API_KEY", "FEDAPAY_ENVIRONMENT", "FEDAPAY_BASE_URL", "FEDAPAY_ACCOUNT_ID",
                 "FEDAPAY_MAX_RETRIES", "FEDAPAY_LOG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def hostile_server() -> Iterator[HostileServer]:
    """A loopback server answering each request with scripted raw bytes (see `hostile_server.py`)."""
    server = HostileServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(params=["sync", "async"])
def twin(request: pytest.FixtureRequest, hostile_server: HostileServer) -> Twin:
    """The test runs twice, with `FedaPay` and `AsyncFedaPay`, each on the hostile server."""
    return Twin(request.param, hostile_server.base_url)
