"""Benchmark (not a test): the mock against Prism 5.16.0 and against its own stack's ceiling, on create payout
and start, same load.

Four servers: the mock; Prism (same spec, `-v silent`, from `benchmarks/mock/package.json`, `npm ci` when
node_modules is missing); `bare.py`, the mock's stack (the same runner: uvicorn, httptools, uvloop, same
settings) answering the mock's own reply bytes with no work at all from a bare ASGI app, the ceiling as the
issue defines it; and `bare.py --at-once`, the same bare app answering a whole create or start at once as the
mock now does (`MockApp.serve_now`: no ASGI cycle, task or messages for them), the ceiling of the path the
mock's two measured requests take. The mock skips part of what the first ceiling pays for, so mock/ceiling
no longer counts the mock's own work alone: mock/ceiling answered at once does (both are printed).
Load generator: wrk (Debian package; installed with apt-get when missing). Variants alternate within a
round (the order reversed every other round) and the report gives medians over rounds, the ratios
mock/Prism and mock/ceiling, and each server's CPU time per request (user + system, from /proc, and the
user part alone: the kernel's share is about the same for the mock and the ceiling, the difference is user
time). The ratios are paired: computed within each round (the servers measured minutes apart, under the
same load), then the median of those per-round ratios, so a load change between rounds does not move the
verdict.

`--budget 10,15` adds, for each N, the bare stack doing N µs of pure computation per request (`bare.py
--busy-us N`), with its share of the ceiling paired per round like the mock's: how much own work per request
the stack leaves room for at a given share (on this 2-core machine the share falls faster than the work
grows: wrk and the server share the cores, and a slower server makes the kernel wake wrk more often).

    .venv/bin/python benchmarks/mock/run.py [--duration 10] [--rounds 2] [--connections 50] [--budget 10,15]
        [--write-results]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
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
RESULTS = HERE / "RESULTS.md"
AUTH = {"Authorization": "Bearer sk_sandbox_benchmark"}
SERVERS = ("mock", "prism", "bare", "at-once")
LABELS = {
    "mock": "mock",
    "prism": "Prism 5.16.0",
    "bare": "ceiling (bare stack)",
    "at-once": "ceiling answered at once",
}
# The ratio columns: the mock's share of each other server.
RATIO_HEADERS = {"prism": "mock/Prism", "bare": "mock/ceiling", "at-once": "mock/ceiling answered at once"}
BUDGET_PREFIX = "bare+"  # `bare+10`: the bare stack with 10 µs of computation per request


def label(server: str) -> str:
    if server.startswith(BUDGET_PREFIX):
        return f"ceiling + {server.removeprefix(BUDGET_PREFIX)} µs of work"
    return LABELS[server]
TICK = os.sysconf("SC_CLK_TCK")


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
    cpu_us: float  # the server's CPU time (user + system) per measured request
    user_us: float = 0.0  # of which in user space (the Python side: where the mock and the ceiling differ)
    round: int = 0  # which round measured it (ratios are paired within a round)


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


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU time of a process so far, in seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def mock_replies() -> tuple[bytes, bytes]:
    """What the mock answers to the benchmark's create and to a start: the bytes the bare stack sends."""
    body = re.search(r"wrk.body = '(.*)'", (HERE / "create.lua").read_text()).group(1).encode()  # type: ignore[union-attr]
    with spawn_mock("--max-payouts-per-number", "none") as mock:
        created = _call(mock.base_url + "/payouts", "POST", body)
        started = _call(mock.base_url + "/payouts/start", "PUT", b'{"payouts":[{"id":1}]}')
    return created, started


def _call(url: str, method: str, body: bytes) -> bytes:
    headers = {**AUTH, "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 (loopback)
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 (loopback)
        content: bytes = reply.read()
        return content


@contextlib.contextmanager
def serving(kind: str, replies: Path) -> Iterator[tuple[str, int]]:
    """The mock (the package's runner, in its own process), Prism or the bare stack on a loopback port;
    yields the base URL and the server's process id.

    The mock lifts FedaPay's per-number limit: every benchmark payout goes to the same number."""
    if kind == "mock":
        with spawn_mock("--max-payouts-per-number", "none") as mock:
            yield mock.base_url, mock.process.pid
        return
    port = free_port()
    if kind == "prism":
        command = [str(PRISM), "mock", str(SPEC), "-h", "127.0.0.1", "-p", str(port), "-v", "silent"]
        base = f"http://127.0.0.1:{port}"
    else:
        command = [sys.executable, str(HERE / "bare.py"), "--port", str(port)]
        command += ["--create", str(replies / "create.json"), "--start", str(replies / "start.json")]
        if kind == "at-once":
            command.append("--at-once")
        if kind.startswith(BUDGET_PREFIX):
            command += ["--busy-us", kind.removeprefix(BUDGET_PREFIX)]
        base = f"http://127.0.0.1:{port}/v1"
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        wait_ready(base + "/payouts", proc)
        yield base, proc.pid
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


def wrk(
    server: str, operation: str, url: str, args: argparse.Namespace, first_id: int = 1, pid: int | None = None
) -> Result:
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
    user_before, system_before = cpu_split(pid) if pid is not None else (0.0, 0.0)
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    user_after, system_after = cpu_split(pid) if pid is not None else (0.0, 0.0)
    user = user_after - user_before
    cpu = user + system_after - system_before
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Result(
        server=server,
        operation=operation,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(latency["50"]),
        p99_ms=_ms(latency["99"]),
        requests=requests,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(n) for n in errors.groups()) if errors else 0,
        cpu_us=cpu * 1e6 / requests if requests else 0.0,
        user_us=user * 1e6 / requests if requests else 0.0,
    )


def run_round(number: int, order: list[str], args: argparse.Namespace, replies: Path) -> list[Result]:
    results: list[Result] = []
    for operation in ("create", "start"):
        for server in order:
            with serving(server, replies) as (base, pid):
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
                result = wrk(server, operation, base + path, args, first_id, pid)
                result.round = number
            print(
                f"  {server:5} {operation:6} {result.rps:9.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
                f"p99 {result.p99_ms:7.2f} ms  CPU {result.cpu_us:6.1f} us/req (user {result.user_us:5.1f})  "
                f"({result.requests} requests, "
                f"non-2xx {result.non_2xx}, socket errors {result.errors})",
                flush=True,
            )
            results.append(result)
    return results


def summarize(results: list[Result], servers: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """Medians over rounds per operation and server, and the mock's ratios to the others: each round's
    mock/other, then the median over rounds (paired, so the load of one round does not leak into another)."""
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for operation in ("create", "start"):
        for server in servers:
            mine = [r for r in results if r.server == server and r.operation == operation]
            summary.setdefault(operation, {})[server] = {
                "rps": statistics.median(r.rps for r in mine),
                "p50_ms": statistics.median(r.p50_ms for r in mine),
                "p99_ms": statistics.median(r.p99_ms for r in mine),
                "cpu_us": statistics.median(r.cpu_us for r in mine),
                "user_us": statistics.median(r.user_us for r in mine),
                "non_2xx": float(sum(r.non_2xx for r in mine)),
                "errors": float(sum(r.errors for r in mine)),
            }
        rows = summary[operation]
        pairs = [("mock", other) for other in RATIO_HEADERS if "mock" in rows and other in rows]
        pairs += [(server, "bare") for server in servers if server.startswith(BUDGET_PREFIX) and "bare" in rows]
        for server, other in pairs:
            ratios = paired_ratios(results, operation, other, server)
            rows[f"{server}/{other}"] = {"rps": statistics.median(ratios)} | {
                f"round {n}": ratio for n, ratio in enumerate(ratios, start=1)
            }
    return summary


def paired_ratios(results: list[Result], operation: str, other: str, server: str = "mock") -> list[float]:
    """`server`'s req/s over `other`'s within each round that measured both, in round order."""
    by_round: dict[int, dict[str, float]] = {}
    for r in results:
        if r.operation == operation:
            by_round.setdefault(r.round, {})[r.server] = r.rps
    return [rows[server] / rows[other] for _, rows in sorted(by_round.items()) if server in rows and other in rows]


def _cells(ratios: dict[str, float], as_share: bool) -> str:
    text = [f"{value:.0%}" if as_share else f"{value:.2f}x" for value in ratios.values()]
    return text[0] + (f" ({', '.join(text[1:])})" if len(text) > 2 else "")


def tables(summary: dict[str, dict[str, dict[str, float]]], servers: list[str], rounds: int) -> str:
    """The medians as a Markdown table, then the mock's ratios, as printed and as written to RESULTS.md."""
    lines = [
        f"Medians over {rounds} round(s):",
        "",
        "| operation | server | req/s | p50 | p99 | CPU per request | of which user | non-2xx | socket errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for operation, rows in summary.items():
        for server in servers:
            row = rows[server]
            lines.append(
                f"| {operation} | {label(server)} | {row['rps']:,.0f} | {row['p50_ms']:.2f} ms | "
                f"{row['p99_ms']:.2f} ms | {row['cpu_us']:.0f} µs | {row['user_us']:.0f} µs | {row['non_2xx']:.0f} | "
                f"{row['errors']:.0f} |"
            )
    others = [s for s in servers if s in RATIO_HEADERS]
    if "mock" in servers and others:
        header = " | ".join(RATIO_HEADERS[s] for s in others)
        lines += [
            "",
            "Ratios paired within each round (mock/other in that round), median over rounds; each round in brackets:",
            "",
            f"| operation | {header} |",
            "|---|" + "---:|" * len(others),
        ]
        for operation, rows in summary.items():
            cells = [_cells(rows[f"mock/{other}"], as_share=other != "prism") for other in others]
            lines.append(f"| {operation} | {' | '.join(cells)} |")
    budgets = [s for s in servers if s.startswith(BUDGET_PREFIX)]
    if budgets and "bare" in servers:
        lines += [
            "",
            "The room for own work: the bare stack plus N µs of computation per request, its share of the ceiling",
            "paired within each round like the mock's (the mock's own share above, for comparison):",
            "",
            "| operation | " + " | ".join(label(s) for s in budgets) + " |",
            "|---|" + "---:|" * len(budgets),
        ]
        for operation, rows in summary.items():
            cells = [_cells(rows[f"{server}/bare"], as_share=True) for server in budgets]
            lines.append(f"| {operation} | {' | '.join(cells)} |")
    return "\n".join(lines)


def _load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per variant")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds before each variant")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument(
        "--servers", default=",".join(SERVERS), help=f"comma-separated subset of {','.join(SERVERS)} (default: all)"
    )
    parser.add_argument(
        "--budget", default="", help="comma-separated µs: also the bare stack with that much work per request"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--write-results", action="store_true", help=f"also write the tables to {RESULTS.relative_to(REPO)}"
    )
    args = parser.parse_args()
    servers = [s for s in SERVERS if s in args.servers.split(",")]
    if not servers:
        parser.error(f"--servers: choose from {','.join(SERVERS)}")
    try:
        budgets = [float(n) for n in args.budget.split(",") if n.strip()]
    except ValueError:
        parser.error("--budget: comma-separated numbers of µs, like 10,15")
    if budgets and "bare" not in servers:
        parser.error("--budget needs the bare stack among --servers")
    servers += [f"{BUDGET_PREFIX}{n:g}" for n in budgets if n > 0]
    command = shlex.join(["python", str(Path(sys.argv[0]).resolve().relative_to(REPO)), *sys.argv[1:]])
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = _load()
    ensure_tools()
    all_results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        replies = Path(tmp)
        if any(s.startswith("bare") or s == "at-once" for s in servers):
            created, started_reply = mock_replies()
            (replies / "create.json").write_bytes(created)
            (replies / "start.json").write_bytes(started_reply)
        for number in range(args.rounds):
            order = servers if number % 2 == 0 else servers[::-1]
            print(f"round {number + 1}: {' then '.join(order)}", flush=True)
            all_results.extend(run_round(number, order, args, replies))
    summary = summarize(all_results, servers)
    text = tables(summary, servers, args.rounds)
    print("\n" + text)
    if args.write_results:
        head = f"`{command}`, {started}, load average {load_before} before, {_load()} after (1, 5, 15 min)"
        rounds = "\n".join(
            f"| {r.operation} | {label(r.server)} | {r.rps:,.0f} | {r.p50_ms:.2f} ms | {r.p99_ms:.2f} ms | "
            f"{r.cpu_us:.0f} µs |"
            for r in all_results
        )
        RESULTS.write_text(
            f"{head}\n\n"
            "Written by `benchmarks/mock/run.py --write-results` (what the servers are and how the load is\n"
            'applied: the script\'s docstring and README.md, "Mock server performance").\n\n'
            f"{text}\n\nEvery run, in the order run:\n\n"
            "| operation | server | req/s | p50 | p99 | CPU per request |\n|---|---|---:|---:|---:|---:|\n"
            f"{rounds}\n"
        )
        print(f"wrote {RESULTS.relative_to(REPO)}")
    if args.json is not None:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": None}, "summary": summary}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
