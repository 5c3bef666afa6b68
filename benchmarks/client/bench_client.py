"""Benchmark (not a test): the client's cost over raw httpx, and its import time over httpx's.

    .venv/bin/python benchmarks/client/bench_client.py [--sync-pairs 300] [--async-pairs 31] [--import-runs 30]

- per-call time of `client.payouts.create(...)` vs raw `httpx` posting the same JSON (same headers,
  a fresh Idempotency-Key each, reading the JSON reply) on a reused connection, against the same
  mock running in another process: sync, and async with 32 requests in flight (the async client is
  given an `httpx.AsyncClient`, so that row also covers the injected-client path);
- the same raw call plus the generated `Payout.from_dict` on the reply: the generated layer's share;
- `import fedapay_payouts` vs `import httpx`, each in a fresh interpreter of a throwaway venv that
  has only the runtime dependencies (no click/rich, which make httpx load its CLI), both reading
  compiled bytecode as installed packages do.

What the client does per call that raw httpx does not: argument checks, a typed `Payout` from the
reply, the retry bookkeeping. What it saves: JSON through orjson (`_json.py`) and, on its own
connection pool, requests assembled from a URL and headers prepared once instead of
`httpx.Client.build_request`'s per-call URL parse and header/cookie merge (`_client.py`).

The machine is noisy, so the two variants run in interleaved pairs (alternating which goes first)
and the figure is the median of the per-pair ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk_sandbox_benchmark"
CUSTOMER: CustomerParams = {"firstname": "Ada", "lastname": "Lovelace",
                            "phone_number": {"number": "+22997808080", "country": "bj"}}
PAYLOAD: dict[str, Any] = {"amount": 1000, "currency": {"iso": "XOF"}, "mode": "mtn_open", "customer": CUSTOMER}
HEADERS = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json", "User-Agent": "bench"}
IN_FLIGHT = 32
IMPORT_VENV = Path(tempfile.gettempdir()) / "importbench"  # runtime dependencies only


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
    reset.post(root + "/_mock/reset")
    with FedaPay(API_KEY, base_url=root + "/v1") as client, httpx.Client(headers=HEADERS, timeout=30) as raw, \
            FedaPay(API_KEY, base_url=root + "/v1", http_client=httpx.Client(timeout=30)) as injected:
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
        injected._http.close()
    reset.close()
    return rows


def bench_async(root: str, batch: int, count: int) -> tuple[float, float, float]:
    async def main() -> tuple[float, float, float]:
        limits = httpx.Limits(max_connections=IN_FLIGHT)
        calls = batch
        async with AsyncFedaPay(API_KEY, base_url=root + "/v1",
                                http_client=httpx.AsyncClient(limits=limits, timeout=30)) as client, \
                httpx.AsyncClient(headers=HEADERS, limits=limits, timeout=30) as raw, httpx.AsyncClient() as reset:
            url = root + "/v1/payouts"

            async def ours_one() -> None:
                await client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER)

            async def theirs_one() -> None:
                reply = await raw.post(url, json=PAYLOAD, headers={"Idempotency-Key": str(uuid.uuid4())})
                reply.raise_for_status()
                reply.json()

            async def run(one: Callable[[], Awaitable[None]]) -> float:
                await reset.post(root + "/_mock/reset")
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
            await client._http.aclose()
            return (statistics.median(a for a, _ in times), statistics.median(b for _, b in times),
                    statistics.median(a / b for a, b in times))

    return asyncio.run(main())


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
    args = parser.parse_args()

    with spawn_mock(module=True, cwd=str(ROOT)) as mock:  # the package's runner, in its own process
        root = mock.root_url
        print(f"mock in process {mock.process.pid} at {root}")
        rows = [
            *bench_sync(root, args.sync_batch, args.sync_pairs),
            (f"async, {IN_FLIGHT} in flight ({args.async_pairs} pairs)",
             bench_async(root, args.async_batch, args.async_pairs)),
        ]
    print(f"{'measurement':50} {'client':>10} {'raw httpx':>10} {'median ratio':>13}")
    for label, (ours, theirs, ratio) in rows:
        print(f"{label:50} {ours * 1e6:8.0f}µs {theirs * 1e6:8.0f}µs {ratio:12.3f}x")
    for label, (ours, theirs, ratio) in bench_import(args.import_runs).items():
        print(f"{label:50} {ours * 1e3:8.1f}ms {theirs * 1e3:8.1f}ms {ratio:12.3f}x")


if __name__ == "__main__":
    main()
