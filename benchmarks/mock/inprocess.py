"""Benchmark helper (not a test): the mock's own work per request, in-process, with no server and no socket.

Drives the ASGI app directly (the scope uvicorn would pass, a `receive` that returns the body, a `send` that
keeps the messages) with the same create and start requests as `run.py`, the collector tuned as the served
mock tunes it. Requests run in batches of 200; the report gives the fastest batch (the least disturbed by
other processes: on a shared machine the wrk figures move by 20-30 %, this one by a few per cent) and the
median, in µs per request.

`--cold KIB` copies that many KiB between two requests (untimed), evicting the caches as the server's own
work (the kernel's network path, uvloop, httptools, uvicorn) and other processes do between two requests
of a served mock: with 1024 the figures come near the served ones (create about 11 µs warm, 27 µs cold on
this machine), so a change that touches less memory per request shows here, not only under wrk.

`--opcodes` counts the bytecodes the mock runs per request instead (a trace on every instruction: slow,
but the same count on every run, whatever the machine's load), and the functions that run the most of them.

    .venv/bin/python benchmarks/mock/inprocess.py [--requests 100000] [--profile] [--cold 1024] [--opcodes]
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import pstats
import re
import statistics
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from types import FrameType
from typing import Any

from fedapay_mock import gc_tuning
from fedapay_mock.app import MockApp, create_app
from fedapay_mock.asgi import Message

HERE = Path(__file__).resolve().parent
BATCH = 200
CREATE = re.search(r"wrk.body = '(.*)'", (HERE / "create.lua").read_text()).group(1).encode()  # type: ignore[union-attr]


def scope(method: str, path: str, body: bytes) -> dict[str, Any]:
    """What uvicorn passes for one of wrk's requests."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 4010),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:4010"),
            (b"content-length", b"%d" % len(body)),
            (b"content-type", b"application/json"),
            (b"authorization", b"Bearer sk_sandbox_benchmark"),
        ],
        "state": {},
    }


def run(app: MockApp, method: str, path: str, bodies: list[bytes], cold: int = 0) -> tuple[list[float], set[int]]:
    """Seconds per request of each batch, and the statuses answered; `cold`: bytes copied before each
    request, outside the timed part."""
    statuses: set[int] = set()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    source, target = memoryview(bytearray(b"x" * cold)), memoryview(bytearray(cold))
    clock = time.perf_counter
    per_request: list[float] = []
    for first in range(0, len(bodies), BATCH):
        batch = bodies[first : first + BATCH]
        scopes = [scope(method, path, body) for body in batch]
        spent = 0.0
        started = clock()
        for request_scope, body in zip(scopes, batch, strict=True):
            if cold:
                target[:] = source  # evict the caches, untimed
                started = clock()
            message = {"type": "http.request", "body": body, "more_body": False}

            async def receive(message: Message = message) -> Message:
                return message

            call: Coroutine[Any, Any, None] = app(request_scope, receive, send)
            try:  # noqa: SIM105 (contextlib.suppress would add its own cost to every timed request)
                call.send(None)  # nothing in the request path waits: one step runs it to the end
            except StopIteration:
                pass
            if cold:
                spent += clock() - started
        per_request.append((spent if cold else clock() - started) / len(batch))
    return per_request, statuses


def count_opcodes(app: MockApp, method: str, path: str, bodies: list[bytes]) -> collections.Counter[str]:
    """Bytecodes run per function (file:name) over `bodies`, this module's own left out."""
    counts: collections.Counter[str] = collections.Counter()

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        code = frame.f_code
        if event == "opcode" and code.co_filename != __file__:
            counts[f"{Path(code.co_filename).name}:{code.co_name}"] += 1
        return trace

    sys.settrace(trace)
    try:
        run(app, method, path, bodies)
    finally:
        sys.settrace(None)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000, help="requests of each operation")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions (slower)")
    parser.add_argument("--cold", type=int, default=0, metavar="KIB", help="KiB copied between requests (untimed)")
    parser.add_argument("--opcodes", action="store_true", help="count bytecodes per request (deterministic; slow)")
    args = parser.parse_args()
    app = create_app(max_payouts_per_number=None)
    gc_tuning.tune()
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    starts = [b'{"payouts":[{"id":%d}]}' % n for n in range(1, args.requests + 1)]
    if args.opcodes:
        sample = min(args.requests, 1000)
        run(app, "POST", "/v1/payouts", [CREATE] * (sample + 100))  # warm: the first requests fill caches
        run(app, "PUT", "/v1/payouts/start", starts[:100])
        for name, method, path, bodies in (
            ("create", "POST", "/v1/payouts", [CREATE] * sample),
            ("start", "PUT", "/v1/payouts/start", starts[100 : 100 + sample]),
        ):
            counts = count_opcodes(app, method, path, bodies)
            print(f"{name:6} {sum(counts.values()) / sample:6.0f} bytecodes/request; the most:")
            for function, n in counts.most_common(8):
                print(f"         {n / sample:6.0f}  {function}")
        return 0
    for name, method, path, bodies in (
        ("create", "POST", "/v1/payouts", [CREATE] * args.requests),
        ("start", "PUT", "/v1/payouts/start", starts),
    ):
        times, statuses = run(app, method, path, bodies, args.cold * 1024)
        print(
            f"{name:6} fastest batch {min(times) * 1e6:6.2f} µs/request, median {statistics.median(times) * 1e6:6.2f}"
            f"  (statuses {sorted(statuses)})"
        )
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
