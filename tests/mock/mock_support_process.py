"""Run the mock as a separate process through its console script or `python -m`, for the tests.

A thin name over `fedapay_mock.server.spawn_mock`: the CLI binds port 0 and prints its URL.
"""

from __future__ import annotations

from fedapay_mock.server import SpawnedMock, spawn_mock

MockProcess = spawn_mock

__all__ = ["MockProcess", "SpawnedMock"]
