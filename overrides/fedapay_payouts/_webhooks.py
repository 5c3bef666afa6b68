"""Webhook verification: `X-FEDAPAY-SIGNATURE: t=<unix seconds>,s=<hex>[,s=<hex>...]`.

`s` is HMAC-SHA256 over `"<t>.<raw body>"` with the endpoint's secret. Several `s` may be present
(while a secret is being rolled); one match is enough. The timestamp must be within `tolerance`
seconds (300 by default) of now, against replays. Comparisons run in constant time. Pass the raw
body bytes exactly as received: a re-serialized JSON body will not verify.

Whatever the sender put in the header or body, verification raises only `WebhookVerificationError`
(a handler's `except WebhookVerificationError: return 400` holds). Bad settings (a secret that is not
1-1024 printable ASCII characters without spaces; `tolerance` not None or a finite number of seconds
from 0 to ten years; `now` not a finite unix time) raise `InvalidArgumentError` naming the setting,
at `WebhookVerifier` construction and in the function forms: they are the receiver's mistake.
The secret is held in `Secret` from the first line of every entry point (see `_config.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, Protocol

from ._config import Secret, check_seconds, shown
from ._exceptions import InvalidArgumentError, WebhookVerificationError
from ._wire import declared

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

Payload = bytes | bytearray | memoryview | str  # the raw request body

SIGNATURE_HEADER: Final = "X-FEDAPAY-SIGNATURE"
DEFAULT_TOLERANCE: Final = 300.0
MAX_TOLERANCE: Final = 10 * 365 * 86_400.0  # ten years: past it, pass None to turn the check off
MAX_TIMESTAMP: Final = 1e11  # about the year 5138, as `now`; a `t` has at most 11 digits
MAX_HEADER_LENGTH: Final = 8192
_TIMESTAMP: Final = re.compile(r"[0-9]{1,11}")
_SIGNATURE: Final = re.compile(r"[0-9a-fA-F]{64}")  # HMAC-SHA256 in hex


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
        """The entity as a generated `Payout` when it is one (bare or under `v1/payout`, or named a payout by the
        event's `object`), else None. A payout entity this client cannot read raises `WebhookVerificationError`:
        None would let a handler skip a signed `payout.sent` as if it were about something else."""
        from fedapay_payouts_api.models.payout import Payout

        entity = self.entity.get("v1/payout", self.entity)
        if not isinstance(entity, dict) or (entity.get("klass") != "v1/payout" and self.object != "payout"):
            return None
        if "klass" not in entity:  # the event's `object` says what it is
            entity = {**entity, "klass": "v1/payout"}
        try:
            payout = Payout.from_dict(entity)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError) as exc:
            # A KeyError names the model's own field; other errors' text may quote the sender: not shown.
            problem = f"no {exc}" if isinstance(exc, KeyError) else f"a field of the wrong type: {type(exc).__name__}"
            raise WebhookVerificationError(
                f"the event's entity is a payout this client cannot read ({problem}): answer an error "
                "so that FedaPay sends it again, and look at the payout with client.payouts.retrieve()"
            ) from None
        wrong = declared(Payout).wrong(payout)  # the types a reply's payout must have (`_wire`): `amount` an int...
        if wrong is not None:
            raise WebhookVerificationError(
                f"the event's entity is a payout this client cannot read (a {wrong} of the wrong type): answer an "
                "error so that FedaPay sends it again, and look at the payout with client.payouts.retrieve()"
            )
        return payout

    def __repr__(self) -> str:
        return (
            f"WebhookEvent(name={shown(self.name)}, object={shown(self.object)}, "
            f"entity_id={shown(self.entity.get('id'))})"
        )


def _check_settings(secret: Secret, tolerance: object, now: object) -> None:
    """Refuse bad settings with `InvalidArgumentError`: a misconfiguration, not a forged webhook."""
    problem = secret.form_problem()
    if problem is not None:
        raise InvalidArgumentError("secret", f"the webhook secret {problem}")
    if tolerance is not None:
        check_seconds(tolerance, "tolerance", maximum=MAX_TOLERANCE, allow_zero=True, hint=" or None (no check)")
    if now is not None:
        check_seconds(now, "now", maximum=MAX_TIMESTAMP, allow_zero=True, hint=" (unix time) or None")


def _parse_header(header: object) -> tuple[int, list[str]]:
    if isinstance(header, bytes | bytearray):
        try:
            header = bytes(header).decode("ascii")
        except UnicodeDecodeError:
            raise WebhookVerificationError(f"{SIGNATURE_HEADER}: not ASCII") from None
    if not header or not isinstance(header, str):
        raise WebhookVerificationError(f"no {SIGNATURE_HEADER} header")
    if len(header) > MAX_HEADER_LENGTH:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER}: longer than {MAX_HEADER_LENGTH} characters")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        value = value.strip()
        if key == "t":
            if timestamp is not None:
                raise WebhookVerificationError(f"{SIGNATURE_HEADER}: more than one timestamp (t=...)")
            if _TIMESTAMP.fullmatch(value) is None:
                raise WebhookVerificationError(f"{SIGNATURE_HEADER}: the timestamp t is not a number of seconds")
            timestamp = int(value)
        elif key == "s" and _SIGNATURE.fullmatch(value):  # anything else cannot match: skip it
            signatures.append(value.lower())
    if timestamp is None:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER}: no timestamp (t=...)")
    if not signatures:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER}: no signature (s=<64 hex digits>)")
    return timestamp, signatures


def _as_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray | memoryview):
        return bytes(payload)
    if isinstance(payload, str):
        try:
            return payload.encode()
        except UnicodeEncodeError:  # a lone surrogate: no request body decodes to that
            raise WebhookVerificationError("the payload is not valid text (it cannot be encoded as UTF-8)") from None
    raise WebhookVerificationError("the payload must be the raw request body (bytes or str)")


def verify_webhook_signature(
    payload: Payload,
    signature_header: str | bytes | None,
    secret: str | Secret,
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Raise `WebhookVerificationError` unless the header signs this payload with this secret, recently enough.

    Bad settings (an empty or malformed secret; `tolerance` or `now` not a finite number of seconds
    from 0) raise `InvalidArgumentError` instead: they are the receiver's mistake, not the sender's.
    """
    secret = secret if isinstance(secret, Secret) else Secret(secret)  # at once: no local keeps the plain text
    _check_settings(secret, tolerance, now)
    body = _as_bytes(payload)
    timestamp, signatures = _parse_header(signature_header)
    expected = hmac.new(secret.reveal().encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()
    matched = False
    for signature in signatures:  # every candidate, each in constant time
        matched |= hmac.compare_digest(expected, signature)
    if not matched:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER}: no signature matches this payload and secret")
    if tolerance is not None:
        # In whole seconds, as the timestamp is: with tolerance 0, a webhook signed this second is recent enough.
        age = math.floor(time.time() if now is None else now) - timestamp
        if abs(age) > tolerance:
            raise WebhookVerificationError(
                f"{SIGNATURE_HEADER}: timestamp is {age:.0f} s from now, outside the {tolerance:.0f} s tolerance"
            )


def construct_webhook_event(
    payload: Payload,
    signature_header: str | bytes | None,
    secret: str | Secret,
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> WebhookEvent:
    """Verify the signature, then parse the body into a `WebhookEvent`."""
    secret = secret if isinstance(secret, Secret) else Secret(secret)
    verify_webhook_signature(payload, signature_header, secret, tolerance=tolerance, now=now)
    try:
        data = json.loads(_as_bytes(payload))
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise WebhookVerificationError("the webhook body is not JSON (or is nested too deeply)") from None
    if not isinstance(data, dict):
        raise WebhookVerificationError("the webhook body is not a JSON object")
    return WebhookEvent(data)


class WebhookVerifier:
    """Holds a webhook secret (never shown) and the tolerance, for use across requests.

    Both are checked here, at construction (`InvalidArgumentError`), and again on use.
    """

    __slots__ = ("_secret", "tolerance")

    def __init__(self, secret: str | Secret, *, tolerance: float | None = DEFAULT_TOLERANCE) -> None:
        secret = secret if isinstance(secret, Secret) else Secret(secret)
        _check_settings(secret, tolerance, None)
        self._secret = secret
        self.tolerance = tolerance

    def verify(self, payload: Payload, signature_header: str | bytes | None, *, now: float | None = None) -> None:
        verify_webhook_signature(payload, signature_header, self._secret, tolerance=self.tolerance, now=now)

    def construct_event(
        self,
        payload: Payload,
        headers_or_signature: RequestHeaders | str | bytes | None,
        *,
        now: float | None = None,
    ) -> WebhookEvent:
        """Verify and parse; pass the request's headers (any case: a mapping, or any object with `items()` such
        as Flask's `request.headers` or `http.server`'s `self.headers`) or the signature header's value."""
        header = headers_or_signature
        if not isinstance(header, str | bytes | bytearray) and header is not None:
            items = getattr(header, "items", None)
            if not callable(items):  # refused like any header that proves nothing, saying what was expected
                raise WebhookVerificationError(
                    f"no {SIGNATURE_HEADER} header: pass the request's headers (a mapping, or an object with"
                    f" items()) or that header's value, not {type(header).__name__}"
                )
            header = _find_header(items())
        return construct_webhook_event(payload, header, self._secret, tolerance=self.tolerance, now=now)

    def __repr__(self) -> str:
        # getattr: a traceback printed with its locals may show a verifier whose __init__ refused its settings.
        return f"WebhookVerifier(secret='[secure]', tolerance={shown(getattr(self, 'tolerance', None))})"


class RequestHeaders(Protocol):
    """A request's headers as web frameworks hand them: a mapping, Flask's `request.headers`, `http.server`'s
    `self.headers` (each name as often as it was sent)."""

    def items(self) -> Iterable[tuple[Any, Any]]: ...


def _find_header(headers: Iterable[tuple[Any, object]]) -> str | bytes | None:
    """The signature header's value from a request's headers (their `items()`: each name as often as given);
    names compared without case."""
    wanted = SIGNATURE_HEADER.lower()
    found = [
        value for name, value in headers
        if (isinstance(name, str) and name.lower() == wanted)
        or (isinstance(name, bytes) and name.lower() == wanted.encode())
    ]
    if len(found) > 1:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER} is given {len(found)} times")
    if not found:
        return None
    value = found[0]
    if not isinstance(value, str | bytes):
        raise WebhookVerificationError(f"{SIGNATURE_HEADER} is not text")
    return value
