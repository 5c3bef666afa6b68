"""Fixtures of the bulk tests: the mock comes from the installed pytest plugin (`fedapay_mock`)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_fedapay_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FEDAPAY_API_KEY", "FEDAPAY_ENVIRONMENT", "FEDAPAY_BASE_URL", "FEDAPAY_ACCOUNT_ID",
                 "FEDAPAY_MAX_RETRIES"):
        monkeypatch.delenv(name, raising=False)
