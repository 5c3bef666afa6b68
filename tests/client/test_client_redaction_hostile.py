"""Issue 9, class 11: a server echoing the API key cannot make it appear in any text the client produces.

A raw loopback server puts the caller's key (whole, cut, or percent-encoded) in a plain-text error
body, `X-Request-Id`, the reason phrase, a malformed status or header line, or a field of a 2xx
payout. No piece of the key of 8 characters or more may reach `str(e)`, `repr(e)`, the formatted
traceback (its `__cause__` chain included), the response's repr, or any log record at DEBUG
(the client's, httpx's and httpcore's), sync and async.
"""

from __future__ import annotations

import logging
import traceback
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from fedapay_payouts import APIStatusError, FedaPayError, RetryPolicy

from tests.client.client_support import CUSTOMER
from tests.client.hostile_server import HostileServer, Received, head, payout, raw
from tests.client.twin_support import Twin

PIECE = 8
# Random after its public prefix, so that the check below does not trip on ordinary words ("_client_").
API_KEY = "sk_sandbox_7fQk2Lx9Rt4Wm8Zp3Vb6Nc1Hd5"


def pieces(secret: str) -> set[str]:
    forms = {secret, urllib.parse.quote(secret, safe="")}
    return {form[i : i + PIECE] for form in forms for i in range(len(form) - PIECE + 1)}


def leaks(text: str, secret: str = API_KEY) -> list[str]:
    """Pieces of the key in `text`, in any case (httpx lowercases header names: a lowercased key shows most of it)."""
    folded = text.casefold()
    return sorted(piece for piece in pieces(secret) if piece.casefold() in folded)


def texts_of(error: BaseException) -> dict[str, str]:
    texts = {
        "str": str(error),
        "repr": repr(error),
        "traceback": "".join(traceback.format_exception(error)),
    }
    response = getattr(error, "response", None)
    if isinstance(response, httpx.Response):
        texts["response repr"] = repr(response)
        texts["response headers"] = repr(response.headers)
        texts["response body"] = response.text  # the reply the error carries: README, "masked in error bodies"
    if isinstance(error, APIStatusError):
        texts["attributes"] = repr((error.message, error.errors, error.request_id))
    return texts


def library_locals(error: BaseException) -> str:
    """The locals of the library's own frames in `error`'s traceback and its chain, as a traceback printed with
    its locals shows them (error trackers, `rich`, `traceback.TracebackException(capture_locals=True)`)."""
    shown: list[str] = []
    chain: list[BaseException | None] = [error]
    seen: set[int] = set()
    while chain:
        current = chain.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            if "fedapay_payouts" in tb.tb_frame.f_code.co_filename:
                shown += [f"{name}={value!r}" for name, value in tb.tb_frame.f_locals.items()]
            tb = tb.tb_next
        # The chain a printed traceback follows: the cause, else the context unless suppressed (`from None`).
        chain.append(current.__cause__ or (None if current.__suppress_context__ else current.__context__))
    return "\n".join(shown)


def json_reply(status: int, reason: str, body: Any, headers: dict[str, str] | None = None) -> bytes:
    content = orjson.dumps(body) if not isinstance(body, bytes) else body
    return head(status, reason, {"Content-Type": "application/json", **(headers or {})}, len(content)) + content


def text_reply(status: int, reason: str, text: str, headers: dict[str, str] | None = None) -> bytes:
    content = text.encode()
    return head(status, reason, {"Content-Type": "text/plain", **(headers or {})}, len(content)) + content


Echo = Callable[[str], bytes]  # the key -> the raw reply

ECHOES: dict[str, Echo] = {
    "plain-text error body, key across the 200th character": lambda key: text_reply(
        401, "Unauthorized", "x" * 180 + f" bad key {key} " + "y" * 50
    ),
    "JSON error message and errors": lambda key: json_reply(
        401, "Unauthorized", {"message": f"Invalid key {key}", "errors": {key: [f"bad {key}"]}}
    ),
    "key cut short in the message (prefix)": lambda key: json_reply(401, "Unauthorized", {"message": f"{key[:12]}..."}),
    "key cut short in the message (suffix)": lambda key: json_reply(401, "Unauthorized", {"message": f"...{key[-9:]}"}),
    "key percent-encoded in the message": lambda key: json_reply(
        401, "Unauthorized", {"message": "see /keys/" + urllib.parse.quote(key, safe="")}
    ),
    "X-Request-Id": lambda key: json_reply(401, "Unauthorized", {"message": "no"}, {"X-Request-Id": key}),
    "a header's name": lambda key: json_reply(401, "Unauthorized", {"message": "no"}, {key: "v"}),
    "reason phrase of an error": lambda key: text_reply(401, f"Invalid key {key}", ""),
    "reason phrase of a 200 with an unreadable payout": lambda key: json_reply(200, f"OK {key}", {"v1/payout": 5}),
    "a 2xx payout field": lambda key: json_reply(200, "OK", {"v1/payout": payout(5, created_at=key)}),
    "a 2xx payout id": lambda key: json_reply(200, "OK", {"v1/payout": payout(key)}),
    "malformed status line": lambda key: f"HTTP/1.1 2x0 {key}\r\n\r\n".encode(),
    "malformed header line": lambda key: f"HTTP/1.1 200 OK\r\nX-Key {key}\r\n\r\n".encode(),
    "status line of a bad protocol": lambda key: f"{key} 200 OK\r\n\r\n".encode(),
}

# One retry, so its log lines are read too; after 10 ms instead of the default 0.5 s (the wait is not under test).
ONE_QUICK_RETRY = RetryPolicy(1, initial_delay=0.01)

OPERATIONS: dict[str, Callable[[Any], Any]] = {
    "retrieve": lambda p: p.retrieve(5),
    "create": lambda p: p.create(amount=900, currency="XOF", mode="moov", customer=CUSTOMER),
}


@pytest.mark.parametrize("operation", list(OPERATIONS.values()), ids=list(OPERATIONS))
@pytest.mark.parametrize("echo", list(ECHOES.values()), ids=list(ECHOES))
def test_an_echoed_key_is_in_no_error_text_nor_log(
    twin: Twin, hostile_server: HostileServer, caplog: pytest.LogCaptureFixture, echo: Echo,
    operation: Callable[[Any], Any],
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: ours, httpx's and httpcore's records
    hostile_server.script(raw(lambda request: echo(request.api_key)))

    with pytest.raises(FedaPayError) as caught:
        twin.call(operation, retry_policy=ONE_QUICK_RETRY, api_key=API_KEY)

    assert hostile_server.received[0].api_key == API_KEY  # the server did echo the real key
    assert caplog.records, "DEBUG logging recorded the call"
    for name, text in texts_of(caught.value).items():
        assert leaks(text) == [], name
    assert leaks(caplog.text) == []
    # Nor in the library's frames: a raw transport error quoting a malformed status line, a reply as parsed.
    assert leaks(library_locals(caught.value)) == []


# The paths that keep an attempt's outcome longest: a look-up after a reply that may have acted (start,
# delete), and the raw-response wrapper that remembers each reply.
LONGER_PATHS: dict[str, Callable[[Any], Any]] = {
    "send_now (then its look-ups)": lambda p: p.send_now(5),
    "delete (then its look-up)": lambda p: p.delete(5),
    "with_raw_response.retrieve": lambda p: p.with_raw_response.retrieve(5),
    "with_raw_response.create": lambda p: p.with_raw_response.create(
        amount=900, currency="XOF", mode="moov", customer=CUSTOMER
    ),
}


@pytest.mark.parametrize("operation", list(LONGER_PATHS.values()), ids=list(LONGER_PATHS))
@pytest.mark.parametrize("echo", ["malformed status line", "a 2xx payout id"])
def test_an_echoed_key_is_in_no_library_frame_on_the_longer_paths(
    twin: Twin, hostile_server: HostileServer, echo: str, operation: Callable[[Any], Any]
) -> None:
    hostile_server.script(raw(lambda request: ECHOES[echo](request.api_key)))
    with pytest.raises(FedaPayError) as caught:
        twin.call(operation, retry_policy=ONE_QUICK_RETRY, api_key=API_KEY)
    assert leaks(library_locals(caught.value)) == []
    assert leaks(texts_of(caught.value)["traceback"]) == []


def test_httpx_info_log_of_a_successful_call_hides_a_key_in_the_reason_phrase(
    twin: Twin, hostile_server: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    hostile_server.script(raw(lambda request: json_reply(200, f"OK {request.api_key}", {"v1/payout": payout(5)})))

    result = twin.call(lambda p: p.retrieve(5), api_key=API_KEY)

    assert result.id == 5
    assert "HTTP Request: GET" in caplog.text
    assert leaks(caplog.text) == []


def test_a_key_with_characters_that_percent_encode_is_hidden_in_every_form(
    hostile_server: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    from fedapay_payouts import AuthenticationError, FedaPay

    key = "sk_sandbox_Ab/Cd+Ef=Gh9Ij/Kl+Mn=="
    quoted = urllib.parse.quote(key, safe="")

    def echo(request: Received) -> bytes:
        return json_reply(401, f"No {quoted}", {"message": f"bad {request.api_key} aka {quoted} aka {quoted[:14]}"},
                          {"X-Request-Id": quoted[-12:]})

    hostile_server.script(raw(echo))
    caplog.set_level(logging.DEBUG)
    with FedaPay(key, base_url=hostile_server.base_url, max_retries=0) as client, \
            pytest.raises(AuthenticationError) as caught:
        client.payouts.retrieve(5)

    assert caught.value.message.count("[secure]") == 3
    for name, text in texts_of(caught.value).items():
        assert leaks(text, key) == [], name
    assert leaks(caplog.text, key) == []


def test_redaction_keeps_the_rest_of_the_message(twin: Twin, hostile_server: HostileServer) -> None:
    """Redacted first, then cut: the text around the key survives up to the length limit."""
    hostile_server.script(
        raw(lambda request: text_reply(401, "Unauthorized", f"key {request.api_key} is revoked; ask support"))
    )

    with pytest.raises(APIStatusError) as caught:
        twin.call(lambda p: p.retrieve(5), max_retries=0, api_key=API_KEY)

    assert caught.value.message == "key [secure] is revoked; ask support"


def test_the_public_key_prefix_alone_is_not_masked_but_any_secret_run_is() -> None:
    from fedapay_payouts._redact import MASK, Redactor

    redactor = Redactor("sk_sandbox_Ab12Cd34Ef56Gh78")
    text = "use an sk_sandbox_ key in the sandbox_ environment"
    assert redactor.redact(text) == text  # the documented prefix is no secret
    assert redactor.redact("key sk_sandbox_Ab12Cd34Ef56Gh78 end") == f"key {MASK} end"
    assert redactor.redact("tail Ef56Gh78") == f"tail {MASK}"
    assert "Ab12Cd" not in redactor.redact("box_Ab12Cd")


def test_a_key_echoed_as_a_header_name_of_a_success_is_in_no_header_nor_log(
    twin: Twin, hostile_server: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    """httpx lowercases header names: the value masking (exact case) missed a key sent back as a name, and the
    DEBUG log and the raw reply's headers showed it lowercased."""
    caplog.set_level(logging.DEBUG)
    hostile_server.script(raw(lambda request: json_reply(200, "OK", {"v1/payout": payout(5)}, {request.api_key: "v"})))

    result = twin.call(lambda p: p.with_raw_response.retrieve(5), retry_policy=ONE_QUICK_RETRY, api_key=API_KEY)

    assert result.parse().id == 5
    assert leaks(repr(result.headers)) == []
    assert leaks(repr(result.http_response.headers.raw)) == []
    assert leaks(caplog.text) == []
