"""Benchmark (not a test): the mock against Prism 5.16.0 on create payout and start, same spec, same load.

Load generator: wrk (Debian package; installed with apt-get when missing). Prism comes from
`benchmarks/mock/package.json` (`npm ci` when node_modules is missing) and runs with `-v silent`.
Variants alternate within a round (ABBA over rounds) and the report gives medians over rounds.

    .venv/bin/python benchmarks/mock/run.py [--duration 10] [--rounds 2] [--connections 50]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fedapay_mock.server import free_port, spawn_mock

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SPEC = REPO / "spec" / "openapi.yaml"
PRISM = HERE / "node_modules" / ".bin" / "prism"
AUTH = {"Authorization": "Bearer sk_sandbox_benchmark"}


@dataclass
class Result:
    server: str
    operation: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int


def ensure_tools() -> None:
    if shutil.which("wrk") is None:
        print("installing wrk (apt-get)", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)  # noqa: S607
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)  # noqa: S607
    if not PRISM.exists():
        print("installing Prism (npm ci)", flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)  # noqa: S607


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers=AUTH), timeout=1)  # noqa: S310 (loopback)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


@contextlib.contextmanager
def serving(kind: str) -> Iterator[str]:
    """The mock (the package's runner, in its own process) or Prism on a loopback port; yields the base URL.

    The mock lifts FedaPay's per-number limit: every benchmark payout goes to the same number."""
    if kind == "mock":
        with spawn_mock("--max-payouts-per-number", "none") as mock:
            yield mock.base_url
        return
    port = free_port()
    command = [str(PRISM), "mock", str(SPEC), "-h", "127.0.0.1", "-p", str(port), "-v", "silent"]
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        wait_ready(base + "/payouts", proc)
        yield base
    finally:
        stop_server(proc)


def started_so_far(base: str) -> int:
    root = base.removesuffix("/v1")
    with urllib.request.urlopen(root + "/_mock/stats", timeout=10) as reply:  # noqa: S310 (loopback)
        started: int = json.load(reply)["started"]
        return started


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(server: str, operation: str, url: str, args: argparse.Namespace, first_id: int = 1) -> Result:
    script = HERE / ("create.lua" if operation == "create" else "start.lua")
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "-s",
        str(script),
        url,
        "--",
        str(args.threads),
        str(first_id),
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Result(
        server=server,
        operation=operation,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(latency["50"]),
        p99_ms=_ms(latency["99"]),
        requests=int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def run_round(order: list[str], args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    for operation in ("create", "start"):
        for server in order:
            with serving(server) as base:
                if operation == "start" and server == "mock":
                    # Every start needs its own pending payout: create them first (not measured).
                    fill = argparse.Namespace(**{**vars(args), "duration": (args.duration + args.warmup) * 2})
                    made = wrk(server, "create", base + "/payouts", fill).requests
                    print(f"  (created {made} pending payouts for the start run)", flush=True)
                path = "/payouts" if operation == "create" else "/payouts/start"
                # Warm up (JIT, caches, connections) without measuring.
                warm = argparse.Namespace(**{**vars(args), "duration": args.warmup})
                wrk(server, operation, base + path, warm)
                first_id = 1
                if operation == "start" and server == "mock":
                    # Continue after the payouts the warm-up started (plus the requests it had in flight).
                    first_id = started_so_far(base) + args.connections + 1
                result = wrk(server, operation, base + path, args, first_id)
            print(
                f"  {server:5} {operation:6} {result.rps:9.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
                f"p99 {result.p99_ms:7.2f} ms  ({result.requests} requests, non-2xx {result.non_2xx}, "
                f"socket errors {result.errors})",
                flush=True,
            )
            results.append(result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per variant")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds before each variant")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    ensure_tools()
    all_results: list[Result] = []
    for number in range(args.rounds):
        order = ["mock", "prism"] if number % 2 == 0 else ["prism", "mock"]
        print(f"round {number + 1}: {' then '.join(order)}", flush=True)
        all_results.extend(run_round(order, args))
    print("\nmedians over rounds")
    print(f"{'operation':10} {'server':6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for operation in ("create", "start"):
        for server in ("mock", "prism"):
            mine = [r for r in all_results if r.server == server and r.operation == operation]
            row = {
                "rps": statistics.median(r.rps for r in mine),
                "p50_ms": statistics.median(r.p50_ms for r in mine),
                "p99_ms": statistics.median(r.p99_ms for r in mine),
                "non_2xx": float(sum(r.non_2xx for r in mine)),
            }
            summary.setdefault(operation, {})[server] = row
            print(f"{operation:10} {server:6} {row['rps']:9.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f}")
        ratio = summary[operation]["mock"]["rps"] / summary[operation]["prism"]["rps"]
        print(f"{operation:10} mock/prism req/s ratio: {ratio:.2f}x")
    if args.json is not None:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": None}, "summary": summary}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
