"""Run one of FedaPay's official libraries against a fresh mock and collect what each step handed back.

Each library's script (`php/check.php`, `ruby/check.rb`, `node/check.js`) drives the library's public
Payout API, one step per method, and prints one JSON line: `{step: {"ok": true, ...values} | {"ok":
false, "error": ...}}`. A step's failure does not stop the others, so a test per step gives a pass table.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fedapay_mock import run_mock

HERE = Path(__file__).parent
REPO = HERE.parent.parent
VENDOR_ENV = "FEDAPAY_VENDOR_DIR"
TIMEOUT = 120


def vendor_dir() -> Path | None:
    """`$FEDAPAY_VENDOR_DIR`, else `../shared/vendor` next to the repository (or next to an enclosing folder,
    as for a git worktree), else None."""
    configured = os.environ.get(VENDOR_ENV)
    if configured:
        return Path(configured) if Path(configured).is_dir() else None
    for folder in (REPO, *REPO.parents):
        candidate = folder.parent / "shared" / "vendor"
        if candidate.is_dir():
            return candidate
    return None


def require(program: str, library: str, debian: str) -> str:
    """The program's path, or a skip that says how to get it and the library's sources."""
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} not found: install it to test FedaPay's {library} library (apt-get install {debian})")
    vendor = vendor_dir()
    if vendor is None or not (vendor / library).is_dir():
        pytest.skip(
            f"FedaPay's {library} sources not found: put them in ../shared/vendor/{library} next to the repository "
            f"or set {VENDOR_ENV}"
        )
    return path


@dataclass
class LibraryRun:
    steps: dict[str, dict[str, Any]]
    stats: dict[str, Any]


def run_library(command: list[str], cwd: Path) -> LibraryRun:
    """Run `command` + the mock's root URL against a fresh frozen-clock mock; the steps and the mock's stats."""
    with run_mock(freeze_clock=True, settle_seconds=60) as mock:
        done = subprocess.run(
            [*command, mock.root_url], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        stats = mock.stats()
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.strip().splitlines()
    assert lines, f"the script printed nothing; stderr: {done.stderr[-4000:]}"
    steps: dict[str, dict[str, Any]] = json.loads(lines[-1])
    return LibraryRun(steps, stats)


def check_step(run: LibraryRun, name: str, expected: dict[str, Any]) -> None:
    """The step ran without error and handed back every expected value."""
    got = run.steps.get(name)
    assert got is not None, f"step {name} did not run"
    assert got["ok"], f"step {name} failed: {got.get('error')} (HTTP {got.get('status')})"
    assert {key: got.get(key) for key in expected} == expected


def steps(expected: dict[str, Any], library_bugs: dict[str, str]) -> list[Any]:
    """Each step as a pytest parameter; a step broken by the library's own bug is a strict xfail naming it."""
    return [
        pytest.param(name, marks=pytest.mark.xfail(reason=library_bugs[name], strict=True))
        if name in library_bugs
        else name
        for name in expected
    ]
