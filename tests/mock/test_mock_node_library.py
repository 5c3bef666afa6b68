"""FedaPay's official Node library (npm `fedapay`, pinned in node/package-lock.json) against the mock.

Every Payout method the library exposes, one step each, checking the values it hands back. The test
installs the package itself (`npm ci`) when `node/node_modules` is missing, and fails, never skips,
without Node or npm.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from typing import Any

import pytest

from tests.mock.official_libraries import HERE, LibraryRun, check_step, run_library, steps

NODE_DIR = HERE / "node"

EXPECTED: dict[str, dict[str, Any]] = {
    "create": {
        "ids": [1, 2, 3, 4, 5, 6, 7],
        "klass": "v1/payout",
        "status": "pending",
        "amount": 2000,
        "merchant_reference": "node-ref-0",
        "description": "Node library check",
    },
    "retrieve": {"id": 1, "amount": 2000, "status": "pending", "reference": "1000000000001", "commission": 100},
    "all": {"ids": [7, 6], "total_count": 7, "next_page": 2},
    "update": {"description": "Updated by Node", "amount": 2500, "amount_transferred": 2353},
    # save() PUTs every field back as JSON, nulls and read-only fields included.
    "save_unchanged_on_server": {
        "updated_at_kept": True,
        "amount": 2000,
        "description": "Node library check",
        "library_error": None,
    },
    "save_changed_on_server": {"stored": "Saved by Node"},
    "save_refreshes": {"amount": 3000, "amount_transferred": 2825},
    "send_now": {"status": "started", "started": True},
    "schedule": {"status": "scheduled", "scheduled_at": "2099-11-23T18:42:30.000Z"},
    "schedule_all": {"statuses": ["scheduled"], "scheduled_at": "2099-01-01T10:00:00.000Z"},
    "send_all_now": {"ids": [5, 6], "statuses": ["started", "started"]},
    "delete": {"retrieve_after": 404},
    "error_422": {"status": 422},
}
LIBRARY_BUGS = {
    "save_refreshes": "Node save() reads the reply under a wrong key ('v1 / resource') and never refreshes the object",
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is required for the Node library test and was not found on PATH")
    return path


def _install() -> None:
    """`npm ci` once, under a file lock: pytest-xdist workers share this folder, and `npm ci` empties
    `node_modules` first, so a second install running beside the first breaks the first's test."""
    with (NODE_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (NODE_DIR / "node_modules" / "fedapay" / "package.json").is_file():
            return
        done = subprocess.run(
            [_tool("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def node_run() -> LibraryRun:
    node = _tool("node")
    _install()
    return run_library([node, "check.js"], NODE_DIR)


@pytest.mark.parametrize("step", steps(EXPECTED, LIBRARY_BUGS))
def test_node_library_step(node_run: LibraryRun, step: str) -> None:
    check_step(node_run, step, EXPECTED[step])


def test_node_library_requests_reached_the_mock_as_each_operation(node_run: LibraryRun) -> None:
    assert node_run.stats["requests"] == {
        "create_payout": 8,
        "retrieve_payout": 7,
        "list_payouts": 1,
        "update_payout": 4,
        "start_payouts": 4,
        "delete_payout": 1,
    }
    assert node_run.stats["by_status"] == {"started": 3, "scheduled": 2, "pending": 1}
