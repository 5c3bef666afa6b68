"""Fixtures every test folder may use."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.user_mypy import shared_cache


@pytest.fixture(scope="session")
def user_mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mypy cache shared by every user-side mypy run of this test session (see `tests/user_mypy.py`)."""
    return shared_cache(tmp_path_factory)
