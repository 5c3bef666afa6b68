"""Fixtures for the mock's own tests: a real server on loopback with a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fedapay_mock import MockServer, run_mock
from fedapay_mock.spec import Spec, load_spec

from tests.mock.mock_support import AUTH, SETTLE, ReplyChecker


@pytest.fixture(scope="session")
def spec() -> Spec:
    return load_spec()


@pytest.fixture(scope="session")
def server() -> Iterator[MockServer]:
    """One frozen-clock mock for the suite; `SETTLE` mock seconds from started to sent."""
    with run_mock(freeze_clock=True, settle_seconds=SETTLE) as mock:
        yield mock


@pytest.fixture
def mock(server: MockServer) -> MockServer:
    server.reset()
    return server


@pytest.fixture
def api(mock: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=10.0) as client:
        yield client


@pytest.fixture(scope="session")
def check(spec: Spec) -> ReplyChecker:
    return ReplyChecker(spec)
