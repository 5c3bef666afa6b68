"""Benchmark (not a test): the client's cost over raw httpx, and its import time over httpx's.

    .venv/bin/python benchmarks/client/bench_client.py [--sync-pairs 300] [--async-pairs 31] [--import-runs 30]
        [--throughput-runs 3] [--only throughput] [--write-results]

`--write-results` also writes the printed tables to benchmarks/client/RESULTS.md, whose first line
names the command that produced it, the date and the load average: the README links there instead of
copying figures by hand.

- per-call time of `client.payouts.create(...)` vs raw `httpx` posting the same JSON (same headers,
  a fresh Idempotency-Key each, reading the JSON reply) on a reused connection, against the same
  mock running in another process: sync, and async with 32 requests in flight (the async client is
  given an `httpx.AsyncClient`, so that row also covers the injected-client path);
- the same raw call plus the generated `Payout.from_dict` on the reply: the generated layer's share;
- throughput under concurrency: payouts/s of create + send_now with 1, 8, 32 and 64 callers in
  flight (asyncio tasks on one `AsyncFedaPay` with its own pool: one connection per place of
  `max_in_flight`), for the client as it is (`max_in_flight` at its default), the client with no
  effective cap (`max_in_flight=1000`: a connection per caller) and raw
  httpx (one `httpx.AsyncClient`, default limits, the same two POSTs): runs interleaved, median of
  `--throughput-runs`, each side's ratio to its own figure at 8 in flight;
- `import fedapay_payouts` vs `import httpx`, each in a fresh interpreter of a throwaway venv that
  has only the runtime dependencies (no click/rich, which make httpx load its CLI), both reading
  compiled bytecode as installed packages do.

What the client does per call that raw httpx does not: argument checks, a typed `Payout` from the
reply, the retry bookkeeping. What it saves: JSON through orjson (`_json.py`); requests assembled
from a URL and headers merged once instead of `httpx.Client.build_request`'s per-call URL parse and
header merge (`_assemble.py`); `httpx.Client.send` without its no-op auth flow, redirect loop and
cookie-jar bookkeeping for replies that set no cookie, on its own pool and on an injected client
(`_client._send_through`); and for the sync client on its own pool, one socket write per request
instead of two (`_socket_deadline.py`).

The machine is noisy, so the two variants run in interleaved pairs (alternating which goes first)
and the figure is the median of the per-pair ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from fedapay_mock.server import spawn_mock
from fedapay_payouts import AsyncFedaPay, CustomerParams, FedaPay, Payout
from fedapay_payouts._client import DEFAULT_MAX_IN_FLIGHT

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk_sandbox_benchmark"
CUSTOMER: CustomerParams = {"firstname": "Ada", "lastname": "Lovelace",
                            "phone_number": {"number": "+22997808080", "country": "bj"}}
PAYLOAD: dict[str, Any] = {"amount": 1000, "currency": {"iso": "XOF"}, "mode": "mtn_open", "customer": CUSTOMER}
HEADERS = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json", "User-Agent": "bench"}
IN_FLIGHT = 32
IMPORT_VENV = Path(tempfile.gettempdir()) / "importbench"  # runtime dependencies only
RESULTS = Path(__file__).with_name("RESULTS.md")
LINES: list[str] = []  # everything printed, for --write-results


def emit(line: str = "") -> None:
    """Print a line of the results and keep it for RESULTS.md."""
    print(line)
    LINES.extend(line.split("\n"))


def write_results(started: float) -> None:
    """RESULTS.md: the command, date and load average on the first line, then the tables as printed."""
    command = "python " + shlex.join([str(Path(sys.argv[0]).resolve().relative_to(ROOT)), *sys.argv[1:]])
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    header = (f"Produced by `{command}` on {when} (load average {load} at the end, {os.cpu_count()} cores; "
              f"{time.perf_counter() - started:.0f} s).")
    RESULTS.write_text(header + "\n\n```\n" + "\n".join(LINES) + "\n```\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


def pairs(a: Callable[[], float], b: Callable[[], float], count: int) -> tuple[float, float, float]:
    """Run a and b in `count` interleaved pairs; (median a, median b, median of the a/b ratios)."""
    times_a: list[float] = []
    times_b: list[float] = []
    for index in range(count):
        if index % 2:
            tb, ta = b(), a()
        else:
            ta, tb = a(), b()
        times_a.append(ta)
        times_b.append(tb)
    ratios = [x / y for x, y in zip(times_a, times_b, strict=True)]
    return statistics.median(times_a), statistics.median(times_b), statistics.median(ratios)


def bench_sync(root: str, batch: int, count: int) -> list[tuple[str, tuple[float, float, float]]]:
    """The client vs raw httpx (its own pool, then an injected `httpx.Client`); then, to show where
    the time goes, raw httpx plus the generated model."""
    reset = httpx.Client()
    reset.post(root + "/_mock/reset", json={})
    with FedaPay(API_KEY, base_url=root + "/v1") as client, httpx.Client(headers=HEADERS, timeout=30) as raw, \
            httpx.Client(timeout=30) as mine, FedaPay(API_KEY, base_url=root + "/v1", http_client=mine) as injected:
        url = root + "/v1/payouts"

        def ours(which: FedaPay = client) -> float:
            started = time.perf_counter()
            for _ in range(batch):
                which.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER)
            return (time.perf_counter() - started) / batch

        def theirs(model: bool = False) -> float:
            started = time.perf_counter()
            for _ in range(batch):
                reply = raw.post(url, json=PAYLOAD, headers={"Idempotency-Key": str(uuid.uuid4())})
                reply.raise_for_status()
                data = reply.json()
                if model:
                    Payout.from_dict(data["v1/payout"])
            return (time.perf_counter() - started) / batch

        ours(), ours(injected), theirs(), theirs(model=True)  # warm up: connections, caches, lazy imports
        rows = [
            (f"sync: create vs raw httpx POST ({count} pairs)", pairs(ours, theirs, count)),
            (f"  same, injected httpx.Client ({count} pairs)", pairs(lambda: ours(injected), theirs, count)),
            (f"  raw + generated from_dict vs raw ({count} pairs)",
             pairs(lambda: theirs(model=True), theirs, count)),
        ]
    reset.close()
    return rows


def bench_async(root: str, batch: int, count: int) -> tuple[float, float, float]:
    async def main() -> tuple[float, float, float]:
        limits = httpx.Limits(max_connections=IN_FLIGHT)
        calls = batch
        async with httpx.AsyncClient(limits=limits, timeout=30) as mine, \
                AsyncFedaPay(API_KEY, base_url=root + "/v1", http_client=mine) as client, \
                httpx.AsyncClient(headers=HEADERS, limits=limits, timeout=30) as raw, httpx.AsyncClient() as reset:
            url = root + "/v1/payouts"

            async def ours_one() -> None:
                await client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER)

            async def theirs_one() -> None:
                reply = await raw.post(url, json=PAYLOAD, headers={"Idempotency-Key": str(uuid.uuid4())})
                reply.raise_for_status()
                reply.json()

            async def run(one: Callable[[], Awaitable[None]]) -> float:
                await reset.post(root + "/_mock/reset", json={})
                queue = iter(range(calls))

                async def worker() -> None:
                    for _ in queue:
                        await one()

                started = time.perf_counter()
                await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
                return (time.perf_counter() - started) / calls

            await run(ours_one)
            await run(theirs_one)
            times: list[tuple[float, float]] = []
            for index in range(count):
                if index % 2:
                    b = await run(theirs_one)
                    a = await run(ours_one)
                else:
                    a = await run(ours_one)
                    b = await run(theirs_one)
                times.append((a, b))
            return (statistics.median(a for a, _ in times), statistics.median(b for _, b in times),
                    statistics.median(a / b for a, b in times))

    return asyncio.run(main())


LEVELS = (1, 8, 32, 64)
THROUGHPUT_SIDES = (f"client (max_in_flight={DEFAULT_MAX_IN_FLIGHT})", "client (max_in_flight=1000)", "raw httpx")


def bench_throughput(root: str, payouts: int, runs: int) -> dict[tuple[str, int], float]:
    """Payouts/s (create + send_now) at each level of callers in flight, per side; median of `runs`."""

    async def main() -> dict[tuple[str, int], float]:
        url = root + "/v1/payouts"
        async with AsyncFedaPay(API_KEY, base_url=root + "/v1") as capped, \
                AsyncFedaPay(API_KEY, base_url=root + "/v1", max_in_flight=1000) as uncapped, \
                httpx.AsyncClient(headers=HEADERS, timeout=30) as raw, httpx.AsyncClient() as control:

            def client_one(client: AsyncFedaPay) -> Callable[[], Awaitable[None]]:
                async def one() -> None:
                    payout = await client.payouts.create(amount=1000, currency="XOF", mode="mtn_open",
                                                         customer=CUSTOMER)
                    await client.payouts.send_now(payout.id)

                return one

            async def raw_one() -> None:
                reply = await raw.post(url, json=PAYLOAD, headers={"Idempotency-Key": str(uuid.uuid4())})
                reply.raise_for_status()
                started = await raw.put(url + "/start", json={"payouts": [{"id": reply.json()["v1/payout"]["id"]}]})
                started.raise_for_status()
                started.json()

            sides = dict(zip(THROUGHPUT_SIDES, (client_one(capped), client_one(uncapped), raw_one), strict=True))

            async def rate(one: Callable[[], Awaitable[None]], in_flight: int) -> float:
                await control.post(root + "/_mock/reset", json={})
                queue = iter(range(payouts))

                async def worker() -> None:
                    for _ in queue:
                        await one()

                started = time.perf_counter()
                await asyncio.gather(*(worker() for _ in range(in_flight)))
                return payouts / (time.perf_counter() - started)

            for one in sides.values():  # warm up: connections, caches, lazy imports
                await rate(one, 8)
            samples: dict[tuple[str, int], list[float]] = {}
            for run in range(runs):
                for in_flight in LEVELS:
                    order = list(sides.items()) if run % 2 == 0 else list(reversed(sides.items()))
                    for name, one in order:
                        samples.setdefault((name, in_flight), []).append(await rate(one, in_flight))
            return {key: statistics.median(values) for key, values in samples.items()}

    return asyncio.run(main())


def print_throughput(rates: dict[tuple[str, int], float], payouts: int, runs: int) -> None:
    emit(f"\nasync create + send_now, payouts/s ({payouts} payouts per run, median of {runs} runs; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
    emit(f"{'in flight':>10} " + " ".join(f"{name:>28}" for name in THROUGHPUT_SIDES) + f" {'client/raw':>11}")
    for in_flight in LEVELS:
        cells = []
        for name in THROUGHPUT_SIDES:
            value = rates[(name, in_flight)]
            cells.append(f"{value:8.0f} ({value / rates[(name, 8)]:4.2f}x of 8)".rjust(28))
        ratio = rates[(THROUGHPUT_SIDES[0], in_flight)] / rates[(THROUGHPUT_SIDES[2], in_flight)]
        emit(f"{in_flight:>10} " + " ".join(cells) + f" {ratio:10.2f}x")


def import_python() -> Path:
    """A throwaway venv with the project's runtime dependencies only (pinned by constraints.txt)."""
    python = IMPORT_VENV / "bin" / "python"
    wanted = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    stamp = IMPORT_VENV / "dependencies.txt"
    if not python.exists() or not stamp.exists() or stamp.read_text() != "\n".join(wanted):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(IMPORT_VENV)], check=True)  # noqa: S603
        subprocess.run(  # noqa: S603
            [str(python), "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"), *wanted], check=True
        )
        stamp.write_text("\n".join(wanted))
    return python


def import_seconds(python: Path, statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True,  # noqa: S603
                         env=import_env())
    return float(out.stdout)


def import_env() -> dict[str, str]:
    """Both sides read compiled bytecode, as an installed package does (pip compiles at install time).

    The sources stay untouched: bytecode goes to a cache folder of the throwaway venv.
    """
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'overrides'}:{ROOT / 'generated'}",
            "PYTHONPYCACHEPREFIX": str(IMPORT_VENV / "pycache"), "PYTHONDONTWRITEBYTECODE": "1"}


def compile_bytecode(python: Path) -> None:
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],  # noqa: S603
                          check=True, capture_output=True, text=True).stdout.strip()
    env = {**import_env(), "PYTHONDONTWRITEBYTECODE": ""}
    subprocess.run([str(python), "-m", "compileall", "-q", str(ROOT / "overrides"), str(ROOT / "generated"), site,  # noqa: S603
                    str(Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}")],
                   check=False, env=env, stdout=subprocess.DEVNULL)


def bench_import(count: int) -> dict[str, tuple[float, float, float]]:
    python = import_python()
    compile_bytecode(python)
    import_seconds(python, "import fedapay_payouts, fedapay_payouts_api.models")  # warm the disk cache
    results = {}
    for label, statement in [
        ("import fedapay_payouts vs import httpx", "import fedapay_payouts"),
        ("same + first use (models loaded) vs httpx", "import fedapay_payouts; fedapay_payouts.Payout"),
    ]:
        def ours(statement: str = statement) -> float:
            return import_seconds(python, statement)

        results[label] = pairs(ours, lambda: import_seconds(python, "import httpx"), count)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sync-pairs", type=int, default=300, help="interleaved sync pairs (short: less drift)")
    parser.add_argument("--sync-batch", type=int, default=10, help="calls per sync sample")
    parser.add_argument("--async-pairs", type=int, default=31, help="interleaved async pairs")
    parser.add_argument("--async-batch", type=int, default=320, help="calls per async sample")
    parser.add_argument("--import-runs", type=int, default=30, help="interleaved interpreter pairs for import time")
    parser.add_argument("--throughput-runs", type=int, default=3, help="runs per side and level of concurrency")
    parser.add_argument("--throughput-payouts", type=int, default=600, help="payouts created and sent per run")
    parser.add_argument("--only", choices=["latency", "throughput", "import"], help="run one part only")
    parser.add_argument("--write-results", action="store_true", help=f"also write the tables to {RESULTS.name}")
    args = parser.parse_args()
    started = time.perf_counter()

    rows: list[tuple[str, tuple[float, float, float]]] = []
    rates: dict[tuple[str, int], float] = {}
    # The package's runner, in its own process; FedaPay's limit of payouts per number off (every payout
    # of the throughput runs goes to one number: a start past the limit would be refused).
    with spawn_mock("--max-payouts-per-number", "none", module=True, cwd=str(ROOT)) as mock:
        root = mock.root_url
        emit(f"mock in process {mock.process.pid} at {root}; load average {os.getloadavg()[0]:.2f} at the start")
        if args.only in (None, "latency"):
            rows = [
                *bench_sync(root, args.sync_batch, args.sync_pairs),
                (f"async, {IN_FLIGHT} in flight ({args.async_pairs} pairs)",
                 bench_async(root, args.async_batch, args.async_pairs)),
            ]
        if args.only in (None, "throughput"):
            rates = bench_throughput(root, args.throughput_payouts, args.throughput_runs)
    emit(f"{'measurement':50} {'client':>10} {'raw httpx':>10} {'median ratio':>13}")
    for label, (ours, theirs, ratio) in rows:
        emit(f"{label:50} {ours * 1e6:8.0f}µs {theirs * 1e6:8.0f}µs {ratio:12.3f}x")
    if args.only in (None, "import"):
        for label, (ours, theirs, ratio) in bench_import(args.import_runs).items():
            emit(f"{label:50} {ours * 1e3:8.1f}ms {theirs * 1e3:8.1f}ms {ratio:12.3f}x")
    if rates:
        print_throughput(rates, args.throughput_payouts, args.throughput_runs)
    if args.write_results:
        write_results(started)


if __name__ == "__main__":
    main()
