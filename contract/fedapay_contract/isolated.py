"""Run the suite (or one part of it) in a fresh Python process, so its cases do not depend on its neighbours.

Schemathesis' generation is derandomized, yet what it draws also depends on the process it runs in:
after other runs in the same process (other parts, broken variants, any test) the same part produces
a few percent more or fewer cases. Under pytest-xdist which tests share a worker changes from run to
run, so each run of the suite gets a process of its own, started with a fixed environment: the same
part then draws the same cases in every run, on any worker, with or without `-n`.

The server stays in the calling process; the child gets what it needs on stdin (so the API key is in
no command line and no environment) and prints its `RunReport` as one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from fedapay_contract.suite import (
    CI_PARTS,
    ENV_MAX_EXAMPLES,
    ENV_SEED,
    Mode,
    Part,
    RunReport,
    run_suite,
)

REPORT_PREFIX = "FEDAPAY_CONTRACT_REPORT "
PARTS = {part.name: part for part in CI_PARTS}
# The child's whole environment: a fixed hash seed, and the deep mode's settings when they are set.
PASSED_ON = (ENV_SEED, ENV_MAX_EXAMPLES)


class IsolatedRunFailed(RuntimeError):
    pass


def child_environment() -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    env.update({name: os.environ[name] for name in PASSED_ON if name in os.environ})
    return env


def run_suite_isolated(
    *,
    base_url: str,
    api_key: str,
    mode: Mode,
    target: str,
    part: Part | None = None,
    timeout: float,
    not_implemented: Sequence[str] = (),
    seed: int | None = None,
    max_examples: int | None = None,
    stop_once_failed: frozenset[str] = frozenset(),
) -> RunReport:
    """`run_suite` in a new interpreter; its report, timed from the start of that interpreter."""
    if part is not None and PARTS.get(part.name) != part:
        raise ValueError(f"only the parts in CI_PARTS can run isolated, not {part.name!r}")
    request = {
        "base_url": base_url,
        "api_key": api_key,
        "mode": mode.value,
        "target": target,
        "part": part.name if part is not None else None,
        "not_implemented": list(not_implemented),
        "seed": seed,
        "max_examples": max_examples,
        "stop_once_failed": sorted(stop_once_failed),
    }
    started_wall, started = time.time(), time.perf_counter()
    done = subprocess.run(
        # -P: not the working directory first on sys.path (a user's project could shadow a module).
        [sys.executable, "-P", "-m", "fedapay_contract.isolated"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=child_environment(),
        timeout=timeout,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(REPORT_PREFIX)]
    if done.returncode != 0 or len(lines) != 1:
        raise IsolatedRunFailed(
            f"the suite's process for {target!r} exited with {done.returncode}:\n{done.stderr[-4000:]}"
        )
    report = RunReport.from_dict(json.loads(lines[0].removeprefix(REPORT_PREFIX)))
    # What the part cost, including the interpreter's start.
    report.started, report.duration = started_wall, time.perf_counter() - started
    return report


def main() -> int:
    request: dict[str, Any] = json.loads(sys.stdin.read())
    name = request["part"]
    report = run_suite(
        base_url=request["base_url"],
        api_key=request["api_key"],
        mode=Mode(request["mode"]),
        target=request["target"],
        part=PARTS[name] if name is not None else None,
        not_implemented=request.get("not_implemented", []),
        seed=request.get("seed"),
        max_examples=request.get("max_examples"),
        stop_once_failed=frozenset(request.get("stop_once_failed", [])),
    )
    sys.stdout.write(REPORT_PREFIX + json.dumps(report.to_dict()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
