"""The mock's options, typed, with every default written once (the CLI, `create_app` and `run_mock` read them here).

Kept free of heavy imports so the CLI can build its help from the defaults before loading the app.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass, field
from typing import TypedDict
from urllib.parse import urlsplit

DEFAULT_MAX_BODY = 1024 * 1024
# FedaPay's rule: at most this many payouts to one mobile-money number within 24 hours (docs/mock.md).
MAX_PAYOUTS_PER_NUMBER = 3
# `\Z`, not `$`: `$` also matches before a final newline, so "sk_sandbox_abc\n" was taken at start and then
# matched by no request's header (every request got 401).
KEY_RE = re.compile(r"(?i:bearer) +(sk_(?:sandbox|live)_[A-Za-z0-9_\-]+)\Z")


@dataclass(frozen=True)
class MockOptions:
    """Everything the mock accepts. Secrets are kept out of the repr."""

    api_key: str | None = field(default=None, repr=False)
    settle_seconds: float = 0.2
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    freeze_clock: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY
    spec_path: str | None = None
    # FedaPay's rules: None lifts the per-number limit, False lets any payout be deleted.
    max_payouts_per_number: int | None = MAX_PAYOUTS_PER_NUMBER
    delete_only_unsent: bool = True

    def __post_init__(self) -> None:
        # Every number checked here, whoever builds the options (CLI, create_app, run_mock, the fixture): NaN
        # compares false with everything, so a plain `< 0` let it through and payouts never settled.
        if not _is_number(self.settle_seconds) or not (math.isfinite(self.settle_seconds) and self.settle_seconds >= 0):
            raise ValueError(f"settle_seconds must be a finite number >= 0, not {_shown(self.settle_seconds)}")
        if not _is_whole(self.max_body_bytes) or self.max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be a whole number >= 1, not {_shown(self.max_body_bytes)}")
        if (self.webhook_url is None) != (self.webhook_secret is None):
            raise ValueError("webhook_url and webhook_secret go together")
        limit = self.max_payouts_per_number
        if limit is not None and (not _is_whole(limit) or limit < 1):
            raise ValueError(
                f"max_payouts_per_number must be a whole number >= 1 or None (no limit), not {_shown(limit)}"
            )
        for name in ("api_key", "webhook_url", "webhook_secret"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string or None")  # never the value: it may be a secret
        if self.webhook_url is not None and not _is_webhook_url(self.webhook_url):
            # Not quoted: a receiver's URL may carry a token.
            raise ValueError("webhook_url must be an http:// or https:// URL with a host")
        if self.webhook_secret is not None:
            # The client's own rule (WebhookVerifier refuses any other secret): events it can never verify are
            # refused here, at start, not sent. Imported here so the CLI's help stays light.
            from fedapay_payouts._config import Secret

            problem = Secret(self.webhook_secret).form_problem()
            if problem is not None:
                raise ValueError(f"webhook_secret {problem}")
        if self.spec_path is not None and not isinstance(self.spec_path, str | os.PathLike):
            raise ValueError(f"spec_path must be a path (str or os.PathLike) or None, not {_shown(self.spec_path)}")
        for name in ("freeze_clock", "delete_only_unsent"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, not {_shown(getattr(self, name))}")
        if self.api_key is not None and not KEY_RE.match(f"Bearer {self.api_key}"):
            raise ValueError("api_key must look like sk_sandbox_... or sk_live_...")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_webhook_url(url: str) -> bool:
    """http(s), a host, and no whitespace or control character: a URL the sender can POST to."""
    if not url.isascii() or any(char.isspace() or not char.isprintable() for char in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _shown(value: object) -> str:
    """A refused value, short (it may be anything a caller passed)."""
    return repr(value)[:40]


class MockSettings(TypedDict, total=False):
    """`MockOptions` as keyword arguments of `create_app` / `run_mock` (types only: defaults stay above)."""

    api_key: str | None
    settle_seconds: float
    webhook_url: str | None
    webhook_secret: str | None
    freeze_clock: bool
    max_body_bytes: int
    spec_path: str | None
    max_payouts_per_number: int | None
    delete_only_unsent: bool


def resolve(options: MockOptions | None, settings: MockSettings) -> MockOptions:
    """`options` (default: every default) with `settings` applied on top, checked once."""
    base = options if options is not None else MockOptions()
    return dataclasses.replace(base, **settings) if settings else base
