"""Benchmark helper (not a test): the mock's stack with none of the mock, its ceiling on this machine.

A bare ASGI app served by the mock's own runner (`fedapay_mock.server.serve_forever`: uvicorn with the same
settings, httptools and uvloop, each reply in one write, no access log, no proxy headers, no `Server`/`Date`
headers) that reads each request's body and answers the bytes the mock answered, with the same headers.
`run.py` starts it; what the mock loses against it is the mock's own work per request.

`--busy-us N` adds N µs of pure computation to every request (a loop on the clock, touching almost no
memory): `run.py --budget` uses it to show how much work per request the stack leaves room for.

    python benchmarks/mock/bare.py --port PORT --create REPLY_FILE --start REPLY_FILE [--busy-us N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from fedapay_mock.asgi import ASGIApp, Receive, Scope, Send
from fedapay_mock.server import serve_forever

# The mock's `X-Request-Id` (`req_` and 16 hex digits): the same header, so the same bytes on the wire.
REQUEST_ID = (b"x-request-id", b"req_" + b"0" * 16)


def bare_app(create: bytes, start: bytes, busy_seconds: float = 0.0) -> ASGIApp:
    """`POST .../payouts` gets `create` (201), anything else `start` (200), as `application/json`, with the
    mock's three headers (content type, length, request id), after `busy_seconds` of spinning."""

    def headers(body: bytes) -> list[tuple[bytes, bytes]]:
        return [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), REQUEST_ID]

    replies = {"POST": (201, headers(create), create)}
    other = (200, headers(start), start)

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--create", type=Path, required=True, help="the mock's reply to a create")
    parser.add_argument("--start", type=Path, required=True, help="the mock's reply to a start")
    parser.add_argument("--busy-us", type=float, default=0.0, help="µs of computation added to every request")
    args = parser.parse_args()
    app = bare_app(args.create.read_bytes(), args.start.read_bytes(), args.busy_us / 1e6)
    serve_forever(app, args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
