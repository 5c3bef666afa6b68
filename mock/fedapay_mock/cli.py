"""`fedapay-mock` / `python -m fedapay_mock`: serve the mock on HOST:PORT until interrupted.

Every default comes from `MockOptions` (fedapay_mock/options.py); this module only maps flags to it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence

from .extra import MockExtraMissing, require_mock_extra
from .options import MockOptions

DEFAULT_PORT = 4010
_DEFAULTS = MockOptions()
# Where the guide is for someone who installed the wheel (docs/ is not in it; the README is its description).
GUIDE = (
    "Every option is below. Guide: the package's description (its README, section 'The mock server'; "
    "on PyPI or `importlib.metadata.metadata('fedapay-payouts')['Description']`) and docs/mock.md in the "
    "source distribution."
)


def _whole(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` (to `high`), refused in one line otherwise."""
    bounds = f"from {low} to {high}" if high is not None else f">= {low}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number {bounds}, not {text[:20]!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {value}")
        return value

    return parse


_port = _whole(0, 65535)  # `--port`: 0 is a free port
_positive = _whole(1)  # `--max-body-bytes`, and `--max-payouts-per-number` unless `none`


def _limit(text: str) -> int | None:
    """`--max-payouts-per-number`: a whole number >= 1, or `none` (no limit)."""
    return None if text.strip().lower() == "none" else _positive(text)


def _seconds(text: str) -> float:
    """`--settle-seconds`: a finite number >= 0 (not nan, not inf)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds >= 0, not {text[:20]!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedapay-mock",
        description=f"A FedaPay payouts mock server (serves http://HOST:PORT/v1/...). {GUIDE}",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: a free port, printed)"
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("FEDAPAY_MOCK_API_KEY", _DEFAULTS.api_key),
        help="accept only this secret key (or set FEDAPAY_MOCK_API_KEY); default: any sk_sandbox_/sk_live_ key",
    )
    parser.add_argument(
        "--webhook-url",
        default=os.environ.get("FEDAPAY_MOCK_WEBHOOK_URL", _DEFAULTS.webhook_url),
        help="POST status changes here",
    )
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("FEDAPAY_MOCK_WEBHOOK_SECRET", _DEFAULTS.webhook_secret),
        help="secret that signs webhook events (or set FEDAPAY_MOCK_WEBHOOK_SECRET)",
    )
    parser.add_argument(
        "--settle-seconds",
        type=_seconds,
        default=_DEFAULTS.settle_seconds,
        help=f"mock-clock seconds from started to sent/failed (default {_DEFAULTS.settle_seconds:g})",
    )
    parser.add_argument(
        "--freeze-clock", action="store_true", help="the mock clock moves only through POST /_mock/clock"
    )
    parser.add_argument(
        "--max-body-bytes",
        type=_positive,
        default=_DEFAULTS.max_body_bytes,
        help=f"larger request bodies get 413 (default {_DEFAULTS.max_body_bytes})",
    )
    parser.add_argument(
        "--spec", default=_DEFAULTS.spec_path, help="OpenAPI file to serve (default: the copy fedapay_mock ships)"
    )
    parser.add_argument(
        "--max-payouts-per-number",
        type=_limit,
        default=_DEFAULTS.max_payouts_per_number,
        metavar="N|none",
        help=f"FedaPay's limit of payouts to one number within 24 hours (default {_DEFAULTS.max_payouts_per_number})",
    )
    parser.add_argument(
        "--allow-delete-after-send",
        action="store_true",
        help="let any payout be deleted (default: only one not yet sent, as FedaPay)",
    )
    parser.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    return parser


def options_from(args: argparse.Namespace) -> MockOptions:
    """The `MockOptions` the parsed flags describe (raises ValueError when they do not go together)."""
    return MockOptions(
        api_key=args.api_key,
        settle_seconds=args.settle_seconds,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        freeze_clock=args.freeze_clock or _DEFAULTS.freeze_clock,
        max_body_bytes=args.max_body_bytes,
        spec_path=args.spec,
        max_payouts_per_number=args.max_payouts_per_number,
        delete_only_unsent=_DEFAULTS.delete_only_unsent and not args.allow_delete_after_send,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        require_mock_extra()
    except MockExtraMissing as missing:
        print(f"fedapay-mock: {missing}", file=sys.stderr)
        return 2
    import yaml

    from .app import create_app
    from .server import serve_forever

    try:
        options = options_from(args)
    except ValueError as exc:  # the options' own check (argparse's types check the others), naming the option
        print(f"fedapay-mock: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    try:
        app = create_app(options)
    except ValueError as exc:  # a bad option or spec: one line (a message of several is joined)
        print(f"fedapay-mock: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except OSError as exc:  # --spec: missing, a folder, unreadable
        print(f"fedapay-mock: --spec: cannot read {args.spec}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"fedapay-mock: --spec: {args.spec} is not valid YAML ({problem})", file=sys.stderr)
        return 2
    try:
        serve_forever(app, args.host, args.port, log_level=args.log_level)
    except OSError as exc:
        print(f"fedapay-mock: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0
