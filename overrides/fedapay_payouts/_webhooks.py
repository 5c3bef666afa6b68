"""Webhook verification: `X-FEDAPAY-SIGNATURE: t=<unix seconds>,s=<hex>[,s=<hex>...]`.

`s` is HMAC-SHA256 over `"<t>.<raw body>"` with the endpoint's secret. Several `s` may be present
(while a secret is being rolled); one match is enough. The timestamp must be within `tolerance`
seconds (300 by default) of now, against replays. Comparisons run in constant time. Pass the raw
body bytes exactly as received: a re-serialized JSON body will not verify.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from ._exceptions import WebhookVerificationError

if TYPE_CHECKING:
    from fedapay_payouts_api.models.payout import Payout

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "WebhookEvent",
    "WebhookVerifier",
    "construct_webhook_event",
    "verify_webhook_signature",
]

SIGNATURE_HEADER: Final = "X-FEDAPAY-SIGNATURE"
DEFAULT_TOLERANCE: Final = 300.0


class WebhookEvent:
    """A verified webhook: `name` (e.g. `payout.sent`), `object`, `entity`, `account`; `data` is the whole body."""

    __slots__ = ("account", "data", "entity", "name", "object")

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        name = data.get("name")
        self.name: str | None = name if isinstance(name, str) else None
        obj = data.get("object")
        self.object: str | None = obj if isinstance(obj, str) else None
        entity = data.get("entity")
        self.entity: dict[str, Any] = entity if isinstance(entity, dict) else {}
        account = data.get("account")
        self.account: dict[str, Any] | None = account if isinstance(account, dict) else None

    @property
    def payout(self) -> Payout | None:
        """The entity as a generated `Payout` when it is one (bare or under `v1/payout`), else None."""
        from fedapay_payouts_api.models.payout import Payout

        entity = self.entity.get("v1/payout", self.entity)
        if not isinstance(entity, dict) or (entity.get("klass") != "v1/payout" and self.object != "payout"):
            return None
        try:
            return Payout.from_dict(entity)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def __repr__(self) -> str:
        return f"WebhookEvent(name={self.name!r}, object={self.object!r}, entity_id={self.entity.get('id')!r})"


def _parse_header(header: str | None) -> tuple[int, list[str]]:
    if not header or not isinstance(header, str):
        raise WebhookVerificationError(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise WebhookVerificationError(f"{SIGNATURE_HEADER}: the timestamp t is not a number") from None
        elif key == "s" and value:
            signatures.append(value.strip())
    if timestamp is None:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER}: no timestamp (t=...)")
    if not signatures:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER}: no signature (s=...)")
    return timestamp, signatures


def _as_bytes(payload: bytes | str) -> bytes:
    if isinstance(payload, bytes | bytearray | memoryview):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode()
    raise WebhookVerificationError("the payload must be the raw request body (bytes or str)")


def verify_webhook_signature(
    payload: bytes | str,
    signature_header: str | None,
    secret: str,
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Raise `WebhookVerificationError` unless the header signs this payload with this secret, recently enough."""
    if not isinstance(secret, str) or not secret:
        raise WebhookVerificationError("the webhook secret is empty")
    body = _as_bytes(payload)
    timestamp, signatures = _parse_header(signature_header)
    expected = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    matched = False
    for signature in signatures:  # every candidate, each in constant time
        matched |= hmac.compare_digest(expected, signature.lower())
    if not matched:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER}: no signature matches this payload and secret")
    if tolerance is not None:
        age = (time.time() if now is None else now) - timestamp
        if abs(age) > tolerance:
            raise WebhookVerificationError(
                f"{SIGNATURE_HEADER}: timestamp is {age:.0f} s from now, outside the {tolerance:.0f} s tolerance"
            )


def construct_webhook_event(
    payload: bytes | str,
    signature_header: str | None,
    secret: str,
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> WebhookEvent:
    """Verify the signature, then parse the body into a `WebhookEvent`."""
    verify_webhook_signature(payload, signature_header, secret, tolerance=tolerance, now=now)
    try:
        data = json.loads(_as_bytes(payload))
    except ValueError:
        raise WebhookVerificationError("the webhook body is not JSON") from None
    if not isinstance(data, dict):
        raise WebhookVerificationError("the webhook body is not a JSON object")
    return WebhookEvent(data)


class WebhookVerifier:
    """Holds a webhook secret (never shown) and the tolerance, for use across requests."""

    __slots__ = ("_secret", "tolerance")

    def __init__(self, secret: str, *, tolerance: float | None = DEFAULT_TOLERANCE) -> None:
        if not isinstance(secret, str) or not secret:
            raise WebhookVerificationError("the webhook secret is empty")
        self._secret = secret
        self.tolerance = tolerance

    def verify(self, payload: bytes | str, signature_header: str | None, *, now: float | None = None) -> None:
        verify_webhook_signature(payload, signature_header, self._secret, tolerance=self.tolerance, now=now)

    def construct_event(
        self, payload: bytes | str, headers_or_signature: Mapping[str, str] | str | None, *, now: float | None = None
    ) -> WebhookEvent:
        """Verify and parse; pass the request's headers (any case) or the signature header's value."""
        header = headers_or_signature
        if isinstance(header, Mapping):
            header = next((v for k, v in header.items() if k.lower() == SIGNATURE_HEADER.lower()), None)
        return construct_webhook_event(payload, header, self._secret, tolerance=self.tolerance, now=now)

    def __repr__(self) -> str:
        return f"WebhookVerifier(secret='[secure]', tolerance={self.tolerance!r})"
