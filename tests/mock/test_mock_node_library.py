"""FedaPay's official Node library (npm `fedapay`, pinned in node/package-lock.json) against the mock.

It creates, retrieves, lists, sends now, schedules and deletes payouts. The test installs the package
itself (`npm ci`) when `node/node_modules` is missing, and fails, never skips, without Node or npm.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from fedapay_mock import run_mock

NODE_DIR = Path(__file__).with_name("node")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is required for the Node library test and was not found on PATH")
    return path


def _install() -> None:
    if (NODE_DIR / "node_modules" / "fedapay" / "package.json").is_file():
        return
    done = subprocess.run(
        [_tool("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def test_the_official_node_library_drives_the_whole_lifecycle() -> None:
    node = _tool("node")
    _install()
    with run_mock(freeze_clock=True, settle_seconds=60) as mock:
        done = subprocess.run(
            [node, "check.js", mock.root_url], cwd=NODE_DIR, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        stats = mock.stats()
    assert summary["created"] == [1, 2, 3]
    assert summary["created_klass"] == "v1/payout"
    assert (summary["retrieved_id"], summary["retrieved_amount"], summary["created_status"]) == (1, 2000, "pending")
    assert summary["created_commission"] == 100
    assert summary["listed_ids"] == [3, 2]
    assert (summary["listed_total"], summary["listed_next_page"]) == (3, 2)
    assert summary["sent_now_status"] == "started"
    assert summary["scheduled_status"] == "scheduled"
    assert summary["scheduled_at"] == summary["scheduled_for"]
    assert summary["deleted_status"] == 404
    assert stats["by_status"] == {"started": 1, "scheduled": 1}
    assert (stats["created"], stats["started"], stats["scheduled"], stats["deleted"]) == (3, 2, 1, 1)
    assert stats["requests"] == {
        "create_payout": 3,
        "retrieve_payout": 2,
        "list_payouts": 1,
        "start_payouts": 2,
        "delete_payout": 1,
    }
