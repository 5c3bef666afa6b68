"""Benchmark helper (not a test): the mock's stack with none of the mock, its ceiling on this machine.

A bare ASGI app served by the mock's own runner (`fedapay_mock.server.serve_forever`: uvicorn with the same
settings, httptools and uvloop, no access log, no `Server`/`Date` headers) that reads each request's body and
answers the bytes the mock answered, with the same headers. `run.py` starts it; what the mock loses against it
is the mock's own work per request.

    python benchmarks/mock/bare.py --port PORT --create REPLY_FILE --start REPLY_FILE
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fedapay_mock.asgi import ASGIApp, Receive, Scope, Send
from fedapay_mock.server import serve_forever

# The mock's `X-Request-Id` (`req_` and 16 hex digits): the same header, so the same bytes on the wire.
REQUEST_ID = (b"x-request-id", b"req_" + b"0" * 16)


def bare_app(create: bytes, start: bytes) -> ASGIApp:
    """`POST .../payouts` gets `create` (201), anything else `start` (200), as `application/json`, with the
    mock's three headers (content type, length, request id)."""

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
    args = parser.parse_args()
    serve_forever(bare_app(args.create.read_bytes(), args.start.read_bytes()), args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
