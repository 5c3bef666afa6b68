"""Helpers for the bulk tests: payroll files, the command run in-process or as a process to kill."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fedapay_bulk.cli import main

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

API_KEY = "sk_sandbox_bulk_tests"
HEADER = ["First name", "Last name", "Email", "Phone number", "Amount", "Mode"]


def phone(index: int) -> str:
    """A distinct Benin number (10-digit plan) per index; never ending in 0000 (the mock fails those)."""
    return f"+229019{index:06d}1"


def payroll_rows(count: int) -> list[list[str]]:
    return [
        [f"First{i}", f"Last{i}", f"person{i}@example.com", phone(i), str(1000 + (i % 50) * 100), "mtn_open"]
        for i in range(count)
    ]


def write_csv(path: Path, rows: list[list[str]], header: list[str] | None = None, delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(header or HEADER)
        writer.writerows(rows)
    return path


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def run_bulk(
    mock: MockServer, *args: str, monkeypatch: Any, api_key: str = API_KEY, base_url: str | None = None
) -> Outcome:
    """The command in this process, configured through the environment like a user's shell (argparse's
    own refusals, a `SystemExit`, give their exit code too); `base_url` sends it elsewhere than the mock."""
    monkeypatch.setenv("FEDAPAY_API_KEY", api_key)
    monkeypatch.setenv("FEDAPAY_BASE_URL", base_url or mock.base_url)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        try:
            code = main(["bulk", *args], out=out, err=err)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return Outcome(code, out.getvalue(), err.getvalue())


def process_env(mock: MockServer, api_key: str = API_KEY, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDAPAY_")}
    env.update({"FEDAPAY_API_KEY": api_key, "FEDAPAY_BASE_URL": mock.base_url, "PYTHONUNBUFFERED": "1", **extra})
    return env


def spawn(mock: MockServer, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "fedapay_bulk.cli", "bulk", *args],
        env=env or process_env(mock), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def run_until(
    mock: MockServer, args: list[str], kill_when: Callable[[dict[str, Any]], bool], timeout: float = 120.0,
    env: dict[str, str] | None = None,
) -> int | None:
    """Run the command as a process; SIGKILL it as soon as `kill_when(mock.stats())` holds.

    Returns the exit code if it finished first, None if it was killed.
    """
    process = spawn(mock, *args, env=env)
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None:
            if kill_when(mock.stats()):
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
                return None
            if time.monotonic() > deadline:
                raise AssertionError("the bulk command did not finish in time")
            time.sleep(0.01)
        return process.returncode
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the command's process if it still runs, and close its error pipe."""
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)
    if process.stderr is not None:
        process.stderr.close()


@contextmanager
def first_create_under_way(mock: MockServer, *args: str, timeout: float = 30.0) -> Iterator[subprocess.Popen[bytes]]:
    """The command running as a process, yielded once it has sent its first create; stopped on the way out."""
    process = spawn(mock, *args)
    try:
        deadline = time.monotonic() + timeout
        while not mock.stats()["requests"].get("create_payout"):
            assert process.poll() is None, "the run ended before creating"
            assert time.monotonic() < deadline, "the run never created"
            time.sleep(0.01)
        yield process
    finally:
        stop(process)


def payouts_by_reference(mock: MockServer) -> dict[str, list[dict[str, Any]]]:
    """Every payout the mock holds, grouped by merchant reference (through its HTTP API)."""
    import httpx

    found: dict[str, list[dict[str, Any]]] = {}
    page = 1
    with httpx.Client(base_url=mock.base_url, headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        while True:
            reply = http.get("/payouts", params={"page": page, "per_page": 100})
            reply.raise_for_status()
            body = reply.json()
            for payout in body["v1/payouts"]:
                found.setdefault(str(payout.get("merchant_reference")), []).append(payout)
            if body["meta"]["next_page"] is None:
                return found
            page += 1
