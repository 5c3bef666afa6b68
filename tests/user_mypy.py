"""mypy as a user runs it on a file of their own, with one cache shared by every such run of a test session.

A cold mypy spends about 2.8 s of CPU on the standard library's stubs, httpx, attrs and our packages before
it reaches the user's few lines; a run that finds them cached spends about 0.2 s. The cache lives in the
session's temporary root, which pytest-xdist's workers share: it starts empty on every test run, so it never
outlives the code it describes (and mypy compares each cached module's source hash anyway). Runs share it
only when their options match, so a file needing more than `--strict` says so in a `# mypy:` comment, and
only when they see the same packages (a run with its own MYPYPATH gets a cache of its own).
`--no-sqlite-cache`: files written with atomic renames, safe for two workers at once; the default SQLite
store serialises concurrent writers and can time out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

# The session's temporary root, not a worker's: tmp_path_factory.getbasetemp() is `.../popen-gwN` under xdist.
_SHARED = "user-mypy-cache"


def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    cache = root / _SHARED
    cache.mkdir(exist_ok=True)
    return cache


def run_user_mypy(
    cache: Path, cwd: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m mypy --strict ARGS` in `cwd`, with `env` (default: ours without MYPYPATH, as a user's shell)."""
    if env is None:
        env = {k: v for k, v in os.environ.items() if k != "MYPYPATH"}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-sqlite-cache", "--cache-dir", str(cache), *args],
        capture_output=True, text=True, check=False, env=dict(env), cwd=cwd, timeout=300,
    )
