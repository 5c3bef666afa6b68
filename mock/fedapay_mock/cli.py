"""`fedapay-mock` / `python -m fedapay_mock`: serve the mock on HOST:PORT until interrupted."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

DEFAULT_PORT = 4010


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedapay-mock",
        description="A FedaPay payouts mock server (serves http://HOST:PORT/v1/...). See docs/mock.md.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("FEDAPAY_MOCK_API_KEY"),
        help="accept only this secret key (or set FEDAPAY_MOCK_API_KEY); default: any sk_sandbox_/sk_live_ key",
    )
    parser.add_argument(
        "--webhook-url", default=os.environ.get("FEDAPAY_MOCK_WEBHOOK_URL"), help="POST status changes here"
    )
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("FEDAPAY_MOCK_WEBHOOK_SECRET"),
        help="secret that signs webhook events (or set FEDAPAY_MOCK_WEBHOOK_SECRET)",
    )
    parser.add_argument(
        "--settle-seconds", type=float, default=0.2, help="mock-clock seconds from started to sent/failed"
    )
    parser.add_argument(
        "--freeze-clock", action="store_true", help="the mock clock moves only through POST /_mock/clock"
    )
    parser.add_argument("--max-body-bytes", type=int, default=1024 * 1024, help="larger request bodies get 413")
    parser.add_argument("--spec", default=None, help="OpenAPI file to serve (default: the project's spec/openapi.yaml)")
    parser.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import uvicorn

    from .app import create_app

    try:
        app = create_app(
            api_key=args.api_key,
            settle_seconds=args.settle_seconds,
            webhook_url=args.webhook_url,
            webhook_secret=args.webhook_secret,
            freeze_clock=args.freeze_clock,
            max_body_bytes=args.max_body_bytes,
            spec_path=args.spec,
        )
    except ValueError as exc:
        print(f"fedapay-mock: {exc}", file=sys.stderr)
        return 2
    print(f"fedapay-mock: serving http://{args.host}:{args.port}/v1", file=sys.stderr, flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        lifespan="on",
        server_header=False,
        date_header=False,
    )
    return 0
