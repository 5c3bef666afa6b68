"""Benchmark helper (not a test): the mock's stack with none of the mock, its ceiling on this machine.

A bare ASGI app served by the mock's own runner (`fedapay_mock.server.serve_forever`: uvicorn with the same
settings, httptools and uvloop, each reply in one write, no access log, no proxy headers, no `Server`/`Date`
headers) that reads each request's body and answers the bytes the mock answered, with the same headers.
`run.py` starts it; what the mock loses against it is the mock's own work per request.

`--busy-us N` adds N µs of pure computation to every request (a loop on the clock, touching almost no
memory): `run.py --budget` uses it to show how much work per request the stack leaves room for.

`--at-once` also answers a whole create or start at once, as the mock does (`MockApp.serve_now`: the runner's
protocol skips uvicorn's ASGI cycle, task and messages for them): the ceiling of the path the mock's two
busiest requests now take. Without it, the ceiling is the issue's: a bare ASGI app on uvicorn and httptools.

    python benchmarks/mock/bare.py --port PORT --create REPLY_FILE --start REPLY_FILE [--busy-us N] [--at-once]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from fedapay_mock.asgi import ASGIApp, Encoded, Fields, Receive, Scope, Send
from fedapay_mock.server import serve_forever

# The mock's `X-Request-Id` (`req_` and 16 hex digits): the same header, so the same bytes on the wire.
REQUEST_ID = (b"x-request-id", b"req_" + b"0" * 16)


def bare_app(create: bytes, start: bytes, busy_seconds: float = 0.0) -> ASGIApp:
    """`POST .../payouts` gets `create` (201), anything else `start` (200), as `application/json`, with the
    mock's three headers (content type, length, request id), after `busy_seconds` of spinning."""

    replies = {"POST": (201, _headers(create), create)}
    other = (200, _headers(start), start)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if busy_seconds:
            until = time.perf_counter() + busy_seconds
            while time.perf_counter() < until:
                pass
        status, headers, body = replies.get(scope["method"], other)
        message = await receive()
        while message.get("more_body", False):
            message = await receive()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


class AtOnce:
    """`app`, plus the mock's way of answering a whole create or start at once (`MockApp.serve_now`): the same
    replies, after the same spinning."""

    direct_routes = frozenset({("POST", b"/v1/payouts"), ("PUT", b"/v1/payouts/start")})

    def __init__(self, app: ASGIApp, create: bytes, start: bytes, busy_seconds: float = 0.0) -> None:
        self.app = app
        self.replies = {"POST": (201, _headers(create), create), "PUT": (200, _headers(start), start)}
        self.busy_seconds = busy_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def serve_now(self, method: str, raw_path: bytes, query: bytes, fields: Fields, body: bytes) -> Encoded | None:
        if self.busy_seconds:
            until = time.perf_counter() + self.busy_seconds
            while time.perf_counter() < until:
                pass
        return self.replies[method]


def _headers(body: bytes) -> Fields:
    return [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), REQUEST_ID]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--create", type=Path, required=True, help="the mock's reply to a create")
    parser.add_argument("--start", type=Path, required=True, help="the mock's reply to a start")
    parser.add_argument("--busy-us", type=float, default=0.0, help="µs of computation added to every request")
    parser.add_argument("--at-once", action="store_true", help="answer a whole create or start as the mock does")
    args = parser.parse_args()
    create, start = args.create.read_bytes(), args.start.read_bytes()
    app = bare_app(create, start, args.busy_us / 1e6)
    serve_forever(AtOnce(app, create, start, args.busy_us / 1e6) if args.at_once else app, args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
