"""Hostile webhooks and bad webhook settings (issue 9, classes 13 and 14).

Whatever a sender puts in the signature header or the body, verification raises only
`WebhookVerificationError` (fuzzed with Hypothesis), so a handler's `except WebhookVerificationError:
return 400` holds. Bad settings (secret, tolerance, now) raise `InvalidArgumentError` naming them, at
`WebhookVerifier` construction and in the function forms. The secret never sits as a plain local or
attribute in a library frame.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import pytest
from fedapay_payouts import (
    InvalidArgumentError,
    WebhookVerificationError,
    WebhookVerifier,
    construct_webhook_event,
    verify_webhook_signature,
)
from fedapay_payouts._config import Secret
from hypothesis import given, settings
from hypothesis import strategies as st

SECRET = "whsec_Hostile7Secret3Value9"
NOW = 1_700_000_000
BODY = json.dumps({"name": "payout.sent", "object": "payout", "entity": {"id": 9}}).encode()


def sign(body: bytes, timestamp: int | str = NOW, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


Verify = Callable[[Any, Any], object]
VERIFIERS: dict[str, Verify] = {
    "verify_webhook_signature": lambda body, header: verify_webhook_signature(body, header, SECRET, now=NOW),
    "construct_webhook_event": lambda body, header: construct_webhook_event(body, header, SECRET, now=NOW),
    "WebhookVerifier.verify": lambda body, header: WebhookVerifier(SECRET).verify(body, header, now=NOW),
    "WebhookVerifier.construct_event": lambda body, header: WebhookVerifier(SECRET).construct_event(
        body, header, now=NOW),
    "WebhookVerifier.construct_event(headers)": lambda body, header: WebhookVerifier(SECRET).construct_event(
        body, {"Content-Type": "application/json", "X-Fedapay-Signature": header}, now=NOW),
}

# --- class 14: hostile header and body ------------------------------------------------------------

odd_values = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["é", "\udc80", "\x00", "\uff11\uff12\uff13", "\u0663", "1_0", "+1", "-1", " 1", "1e3", "0x10",
                     "9" * 5000, "nan", "A" * 64 + "é", "\uff46" * 64, sign(BODY).upper() + "\x00", sign(BODY)[:63]]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
header_parts = st.one_of(
    st.builds("{}={}".format, st.sampled_from(["t", "s", "v1", "T", " t", "s "]), odd_values),
    st.text(max_size=8),
    st.just(f"s={sign(BODY)}"),  # a real signature beside a broken timestamp
)
headers = st.one_of(
    st.lists(header_parts, max_size=5).map(",".join),
    st.text(),
    st.binary(max_size=40),
    st.none(),
    st.sampled_from(["t=1,s=é", f"t={NOW},s=é", f"t={NOW},t={NOW},s={sign(BODY)}", "t=" + "1" * 400,
                     f"t={NOW}," + ",".join([f"s={'0' * 64}"] * 2000), b"t=1,s=\xe9", 17, ["t=1", "s=a"]]),
)
bodies = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=32),  # includes lone surrogates
    st.just(BODY),
    st.sampled_from(["\udc80", "{\"a\": \"\ud800\"}", b"\xff\xfe", 17, None, ["x"]]),
)


@pytest.mark.parametrize("verify", list(VERIFIERS.values()), ids=list(VERIFIERS))
@settings(deadline=None, max_examples=300)
@given(body=bodies, header=headers)
def test_any_unsigned_header_and_body_end_as_a_verification_error(verify: Verify, body: Any, header: Any) -> None:
    # Today `t=1,s=é` raises TypeError, a str body with a lone surrogate UnicodeEncodeError.
    with pytest.raises(WebhookVerificationError):
        verify(body, header)


json_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))
json_values = st.recursive(
    json_leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
signed_bodies = st.one_of(
    st.binary(max_size=64),
    st.builds(lambda data: json.dumps(data).encode(), json_values),
    st.builds(lambda entity: json.dumps({"name": "payout.sent", "object": "payout", "entity": entity}).encode(),
              json_values | st.dictionaries(st.sampled_from(["id", "klass", "status", "amount", "created_at",
                                                             "v1/payout"]), json_values, max_size=6)),
    st.sampled_from([
        b"[" * 200_000 + b"]" * 200_000,  # today RecursionError
        b'{"a":' * 200_000 + b"1" + b"}" * 200_000,
        b'{"name": "x", "entity": {"id": ' + b"[" * 900 + b"]" * 900 + b"}}",
        b"1" * 5000, b'{"x": ' + b"9" * 5000 + b"}", b"NaN", b'{"a": 1, "a": 2}', b"\xef\xbb\xbf{}", b"\xff",
    ]),
)


@settings(deadline=None, max_examples=200)
@given(body=signed_bodies, timestamp_text=st.sampled_from([str(NOW), f"0{NOW}", f" {NOW} "]))
def test_a_signed_hostile_body_gives_an_event_or_a_verification_error(body: bytes, timestamp_text: str) -> None:
    header = f"t={timestamp_text},s={sign(body, timestamp_text.strip().lstrip('0'))}"
    try:
        event = WebhookVerifier(SECRET).construct_event(body, {"x-fedapay-signature": header}, now=NOW)
    except WebhookVerificationError:
        return
    # Whatever the signed body holds, reading the event raises nothing but WebhookVerificationError: a payout
    # entity the client cannot read says so (None would let a handler skip a signed payout.sent).
    assert isinstance(event.data, dict)
    problem: WebhookVerificationError | None = None
    try:
        payout = event.payout
    except WebhookVerificationError as exc:
        problem, payout = exc, None
    assert problem is None or "a payout this client cannot read" in str(problem)
    assert payout is None or payout.id is not None
    assert repr(event).startswith("WebhookEvent(")
    assert len(repr(event)) < 400


def test_a_deeply_nested_signed_body_is_a_verification_error() -> None:
    body = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(WebhookVerificationError, match="nested too deeply"):
        construct_webhook_event(body, f"t={NOW},s={sign(body)}", SECRET, now=NOW)
    text = "{\"name\": \"payout.sent\", \"x\": \"\udc80\"}"  # a str body that no request decodes to
    with pytest.raises(WebhookVerificationError, match="UTF-8"):
        construct_webhook_event(text, f"t={NOW},s={'0' * 64}", SECRET, now=NOW)


def test_valid_signatures_still_verify_in_every_accepted_form() -> None:
    upper = sign(BODY).upper()
    event = construct_webhook_event(bytearray(BODY), f" t={NOW} , s={upper} ".encode(), SECRET, now=NOW + 299)
    assert event.name == "payout.sent"
    verify_webhook_signature(memoryview(BODY), f"t={NOW},s=é,s=zz,s={sign(BODY)}", SECRET, now=NOW, tolerance=0)
    # Two signature headers that differ only in case: ambiguous, refused (today the first one wins).
    twice = {"X-FEDAPAY-SIGNATURE": f"t={NOW},s={sign(BODY)}", "x-fedapay-signature": f"t={NOW},s={'0' * 64}"}
    with pytest.raises(WebhookVerificationError, match="2 times"):
        WebhookVerifier(SECRET).construct_event(BODY, twice, now=NOW)


# --- class 14: bad settings -------------------------------------------------------------------------

bad_tolerances = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, "300", b"300", True, False, [300], 10**400, 3.2e8]),
    st.floats(max_value=-1e-9), st.integers(max_value=-1), st.text(max_size=5), st.complex_numbers(),
)
bad_secrets = st.one_of(
    st.sampled_from(["", " ", "whsec_x\n", " whsec_x", "whsec\x00x", "whsec_é", "whsec_\udc80", "x" * 1025, None,
                     b"whsec_bytes", 12345, ["whsec"]]),
    st.builds("{}{}{}".format, st.just("whsec_"), st.sampled_from(["\n", "\r\n", " ", "\t", "\u200b", "\ud800"]),
              st.just("rest")),
)
bad_nows = st.one_of(st.sampled_from([math.nan, math.inf, -math.inf, "1700000000", -1, True, 10**30]),
                     st.floats(max_value=-1e-9))
SETTINGS_USES: dict[str, Callable[[Any, Any, Any], object]] = {
    "WebhookVerifier()": lambda secret, tolerance, now: WebhookVerifier(secret, tolerance=tolerance),
    "verify_webhook_signature": lambda secret, tolerance, now: verify_webhook_signature(
        BODY, f"t={NOW},s={sign(BODY)}", secret, tolerance=tolerance, now=now),
    "construct_webhook_event": lambda secret, tolerance, now: construct_webhook_event(
        BODY, f"t={NOW},s={sign(BODY)}", secret, tolerance=tolerance, now=now),
}


@pytest.mark.parametrize("use", list(SETTINGS_USES.values()), ids=list(SETTINGS_USES))
@settings(deadline=None, max_examples=150)
@given(data=st.data())
def test_bad_settings_are_refused_naming_them(use: Callable[[Any, Any, Any], object], data: st.DataObject) -> None:
    # Today tolerance=nan turns the timestamp check off without a word, and tolerance="300" raises TypeError.
    setting = data.draw(st.sampled_from(["secret", "tolerance"] if use is SETTINGS_USES["WebhookVerifier()"]
                                        else ["secret", "tolerance", "now"]), label="setting")
    values: dict[str, Any] = {"secret": SECRET, "tolerance": 300, "now": NOW}
    values[setting] = data.draw({"secret": bad_secrets, "tolerance": bad_tolerances, "now": bad_nows}[setting],
                                label=setting)
    with pytest.raises(InvalidArgumentError) as caught:
        use(values["secret"], values["tolerance"], values["now"])
    assert caught.value.argument == setting
    if setting == "secret" and isinstance(values["secret"], str) and values["secret"].strip():
        assert values["secret"].strip() not in str(caught.value)


def test_a_verifier_with_nan_tolerance_cannot_be_built_and_stale_events_stay_refused() -> None:
    stale = f"t={NOW},s={sign(BODY)}"
    with pytest.raises(InvalidArgumentError, match="tolerance"):
        WebhookVerifier(SECRET, tolerance=math.nan)
    verifier = WebhookVerifier(SECRET)
    verifier.tolerance = math.nan  # changed later: checked again on use
    with pytest.raises(InvalidArgumentError, match="tolerance"):
        verifier.verify(BODY, stale, now=NOW + 10_000)
    with pytest.raises(WebhookVerificationError, match="outside the 300 s tolerance"):
        WebhookVerifier(SECRET).verify(BODY, stale, now=NOW + 10_000)


# --- class 13: the secret is never a plain local or attribute ------------------------------------


def holds_secret(value: object) -> bool:
    if isinstance(value, str):
        return SECRET in value
    if isinstance(value, bytes | bytearray):
        return SECRET.encode() in value
    return False


def plain_holders(frame: FrameType) -> list[str]:
    """The names, among the frame's locals and their attributes one level down, holding the plain secret."""
    found = []
    for name, value in frame.f_locals.items():
        if holds_secret(value):
            found.append(name)
        if isinstance(value, Secret):  # the wrapper: the one holder allowed
            continue
        attributes = {slot: getattr(value, slot, None) for slot in getattr(type(value), "__slots__", ())}
        attributes.update(getattr(value, "__dict__", {}) if not isinstance(value, type) else {})
        found += [f"{name}.{attribute}" for attribute, inner in attributes.items() if holds_secret(inner)]
    return found


@contextmanager
def watch_library_frames() -> Iterator[list[str]]:
    """Every library frame, when it raises and when it returns, is checked for the plain secret.

    `Secret.__init__` is the one place allowed to hold it (it is the wrapper). Entry into a function
    is not checked: a public function receives the caller's str and wraps it on its first line.
    """
    leaks: list[str] = []

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        code = frame.f_code
        if "fedapay_payouts" not in code.co_filename or code.co_qualname == "Secret.__init__":
            return None
        if event in ("return", "exception"):
            leaks.extend(f"{code.co_qualname} ({event}): {holder}" for holder in plain_holders(frame))
        return tracer

    sys.settrace(tracer)
    try:
        yield leaks
    finally:
        sys.settrace(None)


SCENARIOS: dict[str, Callable[[], object]] = {
    "valid": lambda: construct_webhook_event(BODY, f"t={NOW},s={sign(BODY)}", SECRET, now=NOW),
    "tampered": lambda: verify_webhook_signature(BODY + b" ", f"t={NOW},s={sign(BODY)}", SECRET, now=NOW),
    "stale": lambda: verify_webhook_signature(BODY, f"t={NOW},s={sign(BODY)}", SECRET, now=NOW + 9999),
    "bad header": lambda: construct_webhook_event(BODY, "t=soon", SECRET, now=NOW),
    "bad body": lambda: construct_webhook_event(b"nope", f"t={NOW},s={sign(b'nope')}", SECRET, now=NOW),
    "bad tolerance": lambda: verify_webhook_signature(BODY, "t=1,s=2", SECRET, tolerance=math.nan),
    "verifier valid": lambda: WebhookVerifier(SECRET).construct_event(BODY, {"X-FEDAPAY-SIGNATURE":
                                                                             f"t={NOW},s={sign(BODY)}"}, now=NOW),
    "verifier tampered": lambda: WebhookVerifier(SECRET).verify(BODY, f"t={NOW},s={'0' * 64}", now=NOW),
    "verifier bad tolerance": lambda: WebhookVerifier(SECRET, tolerance=-1),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS.values()), ids=list(SCENARIOS))
def test_no_library_frame_or_attribute_holds_the_plain_webhook_secret(scenario: Callable[[], object]) -> None:
    with watch_library_frames() as leaks:
        try:
            result = scenario()
        except (WebhookVerificationError, InvalidArgumentError) as error:
            result = error
            printed = "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format())
            assert SECRET not in printed
    assert leaks == []
    assert SECRET not in repr(result)


def test_a_verifier_keeps_the_secret_wrapped() -> None:
    verifier = WebhookVerifier(SECRET)
    attributes = {name: getattr(verifier, name) for name in type(verifier).__slots__}
    assert not [name for name, value in attributes.items() if holds_secret(value)]  # today `_secret` is the str
    assert SECRET not in repr(verifier)
    assert SECRET not in f"{attributes['_secret']} {attributes['_secret']!r}"
