"""Run the suite (or one part of it) in a process of its own, so its cases do not depend on its neighbours.

Schemathesis' generation is derandomized, yet what it draws also depends on the process it runs in:
after other runs in the same process (other parts, broken variants, any test) the same part produces
a few percent more or fewer cases. Under pytest-xdist which tests share a worker changes from run to
run, so each run of the suite gets a process of its own, in a fixed environment: the same part then
draws the same cases in every run, on any worker, with or without `-n`.

That process is forked from a zygote: an interpreter started with that fixed environment, which
imports the suite, schemathesis and Hypothesis (`PRELOADED`), never runs anything, and forks one
child per run. Every child starts from the same pristine state, as a new interpreter would, without
paying 0.6 s of imports and start-up each time (a broken variant caught in 3 cases used to cost
0.8 s of CPU, now 0.2 s). The zygote also applies `tuning` (same cases, less CPU). Zygotes are
reused by later runs in the same process and closed when it exits (`close_zygotes`). Where `os.fork`
is missing, each run gets a new interpreter instead (the same protocol, one run per interpreter).

The server stays in the calling process; the child gets what it needs on stdin (so the API key is in
no command line and no environment) and prints its `RunReport` as one JSON line.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Sequence
from typing import IO, Any

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
# The zygote's answer once a child has ended: its exit status (os.waitstatus_to_exitcode).
DONE_PREFIX = "FEDAPAY_CONTRACT_DONE "
ZYGOTE_FLAG = "--zygote"
PARTS = {part.name: part for part in CI_PARTS}
# The child's whole environment: a fixed hash seed, and the deep mode's settings when they are set.
PASSED_ON = (ENV_SEED, ENV_MAX_EXAMPLES)
# Hypothesis' folder (caches of constants and Unicode tables): a user's own is kept, else a temporary one,
# so a run leaves no `.hypothesis/` in the working directory.
HYPOTHESIS_STORAGE = "HYPOTHESIS_STORAGE_DIRECTORY"
# What reaching a remote server may need (a proxy, a company's CA): passed on to runs against one, never to
# runs against a mock on this machine (a proxy would get the requests to 127.0.0.1).
NETWORK_SETTINGS = (
    *(name for base in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY") for name in (base, base.lower())),
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)
# Seconds a run may take past its time limit (winding down) before its process is killed.
GRACE = 30.0
# What a run imports on first use (schemathesis loads its OpenAPI, engine and transport modules lazily),
# imported by the zygote once instead of by every child. Third-party modules only: Hypothesis draws
# constants from the project's own modules that are loaded (`hypothesis.internal.conjecture.providers`),
# so the set of those must stay what a run loads itself. Speed only: what is missing here a child imports.
PRELOADED = (
    "hypothesis",
    "hypothesis.stateful",
    "pyrate_limiter",
    "schemathesis.core.error_feedback.pipeline",
    "schemathesis.engine.core",
    "schemathesis.engine.run.analysis",
    "schemathesis.engine.run.auth_bootstrap",
    "schemathesis.engine.run.probes",
    "schemathesis.engine.run.stateful",
    "schemathesis.engine.run.stateful._executor",
    "schemathesis.engine.run.unit",
    "schemathesis.engine.run.unit._case",
    "schemathesis.generation.hypothesis.builder",
    "schemathesis.generation.jsonschema.strategy",
    "schemathesis.python._constants.orchestrator",
    "schemathesis.python.asgi",
    "schemathesis.specs.openapi._hypothesis",
    "schemathesis.specs.openapi.checks",
    "schemathesis.specs.openapi.coverage",
    "schemathesis.specs.openapi.negative",
    "schemathesis.specs.openapi.schemas",
    "schemathesis.specs.openapi.stateful",
    "schemathesis.transport.asgi",
    "schemathesis.transport.requests",
    "schemathesis.transport.wsgi",
)
# Seconds a zygote may take to end once its stdin is closed, before it is killed.
CLOSE_GRACE = 5.0


class IsolatedRunFailed(RuntimeError):
    pass


_storage_lock = threading.Lock()
_storage: list[str] = []


def hypothesis_storage() -> str:
    """The user's HYPOTHESIS_STORAGE_DIRECTORY, or this process's temporary one (removed at exit): where a run's
    Hypothesis caches go, never the working directory (`.hypothesis/` by default)."""
    own = os.environ.get(HYPOTHESIS_STORAGE, "")
    if own:
        return own
    with _storage_lock:
        if not _storage:
            _storage.append(tempfile.mkdtemp(prefix="fedapay-contract-hypothesis-"))
        return _storage[0]


def child_environment(*, remote: bool = False) -> dict[str, str]:
    """`remote`: the run goes to another machine, so the network settings (proxy, CA) are passed on too."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
           HYPOTHESIS_STORAGE: hypothesis_storage()}
    names = PASSED_ON + NETWORK_SETTINGS if remote else PASSED_ON
    env.update({name: os.environ[name] for name in names if name in os.environ})
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
    time_limit: float | None = None,
    remote: bool = False,
) -> RunReport:
    """`run_suite` in a process of its own; its report, timed from the request to the child's end.

    `timeout`: the process is killed then (IsolatedRunFailed). `time_limit`: the run itself stops then and
    reports what it ran; the process then has GRACE seconds more to end. `remote`: see `child_environment`.
    """
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
        "time_limit": time_limit,
    }
    if time_limit is not None:
        timeout = min(timeout, time_limit + GRACE)
    started_wall, started = time.time(), time.perf_counter()
    env = child_environment(remote=remote)
    zygote = _acquire(env) if hasattr(os, "fork") else Interpreter(env, one_run=True)
    try:
        status, lines, stderr = zygote.run(json.dumps(request), target, timeout)
    except BaseException:
        # Interrupted mid-run (Ctrl-C, a timeout): what the run still prints must not reach the next one.
        zygote.kill()
        raise
    finally:
        _release(zygote)
    reports = [line for line in lines if line.startswith(REPORT_PREFIX)]
    if status != 0 or len(reports) != 1:
        raise IsolatedRunFailed(f"the suite's process for {target!r} exited with {status}:\n{stderr[-4000:]}")
    report = RunReport.from_dict(json.loads(reports[0].removeprefix(REPORT_PREFIX)))
    # What the part cost, including the fork (or the interpreter's start).
    report.started, report.duration = started_wall, time.perf_counter() - started
    return report


class Interpreter:
    """`python -m fedapay_contract.isolated` with `env`: a zygote, or (`one_run`) a process for one run.

    Requests go one JSON line at a time on stdin; the answer is what the run printed on stdout up to
    the `DONE_PREFIX` line. stderr goes to a temporary file (read only when a run fails), so a chatty
    run can never fill a pipe nobody reads.
    """

    def __init__(self, env: dict[str, str], *, one_run: bool = False) -> None:
        self.env = env
        self.one_run = one_run
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        command = [sys.executable, "-P", "-m", "fedapay_contract.isolated"]
        # -P: not the working directory first on sys.path (a user's project could shadow a module).
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            command if one_run else [*command, ZYGOTE_FLAG],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            # Its own process group: a timeout kills the zygote and the child it forked, together.
            start_new_session=True,
        )
        self._pending = b""
        self.broken = False

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return not self.broken and self._process.poll() is None

    def run(self, request: str, target: str, timeout: float) -> tuple[int, list[str], str]:
        """Send one request; (exit status of the run, its stdout lines, its stderr)."""
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._stderr.seek(0, os.SEEK_END)
        stderr_start = self._stderr.tell()
        try:
            self._process.stdin.write(request.encode() + b"\n")
            self._process.stdin.flush()
            if self.one_run:
                self._process.stdin.close()
        except OSError:
            self.broken = True
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            while not self.broken:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.kill()
                    raise subprocess.TimeoutExpired(f"the suite's process for {target!r}", timeout)
                chunk = os.read(self._process.stdout.fileno(), 1 << 16)
                if not chunk:  # the process ended without saying DONE
                    self.broken = True
                    break
                self._pending += chunk
                *complete, self._pending = self._pending.split(b"\n")
                for raw in complete:
                    line = raw.decode(errors="replace")
                    if line.startswith(DONE_PREFIX):
                        return int(line.removeprefix(DONE_PREFIX)), lines, self._stderr_since(stderr_start)
                    lines.append(line)
        status = self._process.wait() if self.one_run else -1
        return (status if status != 0 else -1), lines, self._stderr_since(stderr_start)

    def _stderr_since(self, start: int) -> str:
        self._stderr.seek(start)
        return self._stderr.read().decode(errors="replace")

    def kill(self) -> None:
        """Kill the process and what it forked (its process group); only while it is not reaped yet, as
        afterwards its id may name another process."""
        self.broken = True
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self.close()

    def close(self) -> None:
        """End the process (EOF on its stdin; killed if it does not end within CLOSE_GRACE) and reap it."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(CLOSE_GRACE)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()


_lock = threading.Lock()
_idle: list[Interpreter] = []
_started: list[Interpreter] = []


def _acquire(env: dict[str, str]) -> Interpreter:
    """An idle zygote started with `env`, or a new one (runs in threads side by side get one each).

    Idle zygotes stay for every environment a run can still ask for: runs against this machine and runs
    against a remote server (its network settings) take turns without starting a zygote at each turn.
    One whose environment no run can ask for any more (FEDAPAY_CONTRACT_SEED changed since) is closed.
    """
    wanted = (child_environment(remote=False), child_environment(remote=True))
    stale: list[Interpreter] = []
    found: Interpreter | None = None
    with _lock:
        for zygote in list(_idle):
            if found is None and zygote.env == env and zygote.alive:
                _idle.remove(zygote)
                found = zygote
            elif zygote.env not in wanted or not zygote.alive:
                _idle.remove(zygote)
                stale.append(zygote)
    for zygote in stale:
        _forget(zygote)
    if found is not None:
        return found
    zygote = Interpreter(env)
    with _lock:
        _started.append(zygote)
    return zygote


def _release(interpreter: Interpreter) -> None:
    if interpreter.one_run or not interpreter.alive:
        _forget(interpreter)
        return
    with _lock:
        _idle.append(interpreter)


def _forget(interpreter: Interpreter) -> None:
    interpreter.close()
    with _lock:
        if interpreter in _started:
            _started.remove(interpreter)


def running_zygotes() -> list[int]:
    """The process ids of the zygotes this process started that still run (idle or busy)."""
    with _lock:
        return [zygote.pid for zygote in _started if zygote.alive]


@atexit.register
def close_zygotes() -> None:
    """End every zygote this process started and reap it (their CPU time then counts as this process's)."""
    with _lock:
        zygotes = list(_started)
        _started.clear()
        _idle.clear()
    for zygote in zygotes:
        zygote.close()
    with _storage_lock:
        folders = list(_storage)
        _storage.clear()
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _run_request(line: str) -> None:
    request: dict[str, Any] = json.loads(line)
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
        time_limit=request.get("time_limit"),
    )
    # A newline first: whatever the run printed without one stays on its own line.
    sys.stdout.write("\n" + REPORT_PREFIX + json.dumps(report.to_dict()) + "\n")


def _prepare() -> None:
    """What every run's process does before its run: the imports a run needs, and `tuning`."""
    from fedapay_contract import draws, tuning

    for name in PRELOADED:
        importlib.import_module(name)
    draws.without_local_constants()
    tuning.cache_fixed_dictionaries()
    tuning.tune_gc()
    tuning.run_threads_on_large_chunks()


def zygote_main() -> int:
    """Prepare, then fork one child per request line until stdin ends; say DONE with each child's status."""
    from fedapay_contract import tuning

    _prepare()
    tuning.precompute_constants()  # here only: a zygote's children share it; a lone run computes it if it needs it
    # What the imports left behind is permanent: children neither scan it nor copy its pages (gc docs).
    gc.collect()
    gc.freeze()
    with open(os.devnull, "rb") as devnull:
        for line in sys.stdin:
            if threading.active_count() != 1:  # a fork copies only the calling thread
                raise RuntimeError("the zygote must have one thread when it forks")
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # the child: run, say the report, leave without the zygote's exit handlers
                code = 0
                try:
                    os.dup2(devnull.fileno(), sys.stdin.fileno())
                    _run_request(line)
                except BaseException:  # noqa: BLE001 - the zygote reports the status; stderr has the reason
                    traceback.print_exc()
                    code = 1
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(f"\n{DONE_PREFIX}{os.waitstatus_to_exitcode(status)}\n")
            sys.stdout.flush()
    return 0


def main() -> int:
    """One run: the request on stdin, the report and DONE on stdout (the protocol of a zygote's child)."""
    _prepare()
    _run_request(sys.stdin.read())
    sys.stdout.write(f"\n{DONE_PREFIX}0\n")
    return 0


if __name__ == "__main__":
    sys.exit(zygote_main() if sys.argv[1:] == [ZYGOTE_FLAG] else main())
