"""The ASGI application: routing from the spec, auth, faults, controls under `/_mock/`.

A plain ASGI callable rather than a framework router: the hot path is a dict lookup or one regex,
one header scan, one orjson parse, one precompiled validation and one orjson dump.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Unpack
from urllib.parse import parse_qsl

from . import gc_tuning
from .asgi import Encoded, Fields, Receive, Scope, Send
from .clock import MockClock
from .faults import Fault, FaultBoard, parse_fault, parse_prefer
from .handlers import (
    API_KEY_BYTES,
    DIRECT,
    HANDLERS,
    Direct,
    Handler,
    Rejected,
    Reply,
    Request,
    dispatch,
    not_implemented,
    refusal,
    unserved,
)
from .options import MockOptions, MockSettings, resolve
from .shape import payout_shape
from .spec import Operation, load_spec
from .store import PayoutStore, StoreError, iso
from .validation import OperationValidators, compile_validators
from .webhooks import WebhookSender
from .wire import MalformedJSONError, dumps, error_body, loads

API_PREFIX = "/v1"
CONTROL_PREFIX = "/_mock/"
TICK_SECONDS = 0.05
# Faults that replace the work: nothing is stored or changed.
BEFORE_WORK = frozenset({"status", "drop_before_store"})
_JSON_CONTENT_TYPE = (b"content-type", b"application/json")
_JSON_HEADERS = [_JSON_CONTENT_TYPE]

UNAUTHORIZED = Reply(
    401,
    error_body("Missing or invalid API key.", {"Authorization": ["a valid secret key is required"]}),
    [(b"www-authenticate", b"Bearer")],
)
# Headers the mock reads that a request may give once (RFC 9110: a list-valued field may repeat, these may
# not): repeated, one copy would silently win (a bad key then a good one was served; a create with two
# Idempotency-Keys was stored under the last, and a retry with the first made a second payout).
_SINGLE_HEADERS = {b"authorization": "Authorization", b"idempotency-key": "Idempotency-Key",
                   b"content-type": "Content-Type"}
logger = logging.getLogger("fedapay_mock")
_ACCEPTED_MAX = 64


def _repeated(header_list: Fields, headers: dict[bytes, bytes]) -> Reply | None:
    """400 naming a header of `_SINGLE_HEADERS` the request gives more than once; None otherwise (the common
    case costs one comparison: no name repeats when the mapping is as long as the list)."""
    if len(headers) == len(header_list):
        return None
    seen: set[bytes] = set()
    for name, _ in header_list:
        if name in _SINGLE_HEADERS:
            if name in seen:
                shown = _SINGLE_HEADERS[name]
                return Reply(400, error_body(f"The {shown} header is given more than once.",
                                             {shown: ["must be given once"]}))
            seen.add(name)
    return None

# The operation's id, its validators, its handler, and its direct handler (or None) with the status of a success.
_Entry = tuple[str, OperationValidators, Handler, Direct | None, int]


@dataclass(frozen=True)
class _Route:
    regex: re.Pattern[str]
    literal: str | None
    by_method: dict[str, _Entry]
    allow: bytes


class DroppedConnection(Exception):
    """Raised inside the app when a fault asked to drop the connection and the server gave no transport."""


async def _drop(send: Send) -> None:
    """Close the connection without a reply (uvicorn exposes its transport on the bound `send`)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None and hasattr(transport, "abort"):
        transport.abort()
        for _ in range(100):
            if getattr(cycle, "disconnected", True):
                break
            await asyncio.sleep(0)
        return
    # Any other server: start a reply that can never complete, then fail so the server closes.
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})
    raise DroppedConnection


class MockApp:
    """The FedaPay payouts mock as an ASGI 3 application."""

    def __init__(self, options: MockOptions) -> None:
        self.options = options
        self.spec = load_spec(options.spec_path)
        problem = unserved(self.spec.operations)
        if problem is not None:
            raise ValueError(f"{self.spec.source} is not a spec the mock can serve: {problem}")
        validators = compile_validators(self.spec)
        # An operation the spec gained before the mock did: answered 501, so the mock still starts and
        # every other operation still works (and the contract suite can say what is missing).
        self.not_implemented = tuple(op.operation_id for op in self.spec.operations if op.operation_id not in HANDLERS)
        for operation_id in self.not_implemented:
            logger.warning("fedapay_mock: the spec's operation %s has no handler: it answers 501", operation_id)
        self.clock = MockClock(frozen=options.freeze_clock)
        self.store = PayoutStore(
            self.clock,
            settle_seconds=options.settle_seconds,
            currencies=_currency_ids(self.spec.document),
            shape=payout_shape(self.spec),
            max_payouts_per_number=options.max_payouts_per_number,
            delete_only_unsent=options.delete_only_unsent,
        )
        self.faults = FaultBoard()
        self._api_key = options.api_key.encode() if options.api_key is not None else None
        self._accepted: set[bytes] = set()  # `Authorization` headers already accepted (no `api_key` only)
        self.operation_ids = frozenset(op.operation_id for op in self.spec.operations)
        self.webhooks: WebhookSender | None = None
        if options.webhook_url is not None and options.webhook_secret is not None:
            self.webhooks = WebhookSender(options.webhook_url, options.webhook_secret)
            self.store.listeners.append(self.webhooks.enqueue)
        self._ticker: asyncio.Task[None] | None = None
        self._too_large = Reply(
            413,
            error_body("The request body is too large.", {"body": [f"must be at most {options.max_body_bytes} bytes"]}),
            [(b"connection", b"close")],
        )
        self._controls = self._control_table()
        self._templated: list[_Route] = []
        self._literal: dict[str, _Route] = {}
        # The literal paths as sent (`POST /v1/payouts`, the raw bytes): one lookup routes the common requests.
        # Keyed on `raw_path`, not the decoded `path`: `/v1%2Fpayouts` is no path of the spec.
        self._exact: dict[tuple[str, bytes | None], _Entry] = {}
        self._max_body = options.max_body_bytes
        # A `Content-Length` of fewer digits than the limit is within it: only longer ones are read as numbers.
        self._max_body_digits = len(str(options.max_body_bytes))
        grouped: dict[str, list[Operation]] = {}
        for op in self.spec.operations:
            grouped.setdefault(op.path, []).append(op)
        for path, ops in grouped.items():
            by_method = {
                op.method: (
                    op.operation_id,
                    validators[op.operation_id],
                    HANDLERS.get(op.operation_id) or not_implemented(op),
                    *DIRECT.get(op.operation_id, (None, 0)),
                )
                for op in ops
            }
            route = _Route(
                regex=ops[0].path_regex,
                literal=None if "{" in path else path,
                by_method=by_method,
                allow=", ".join(sorted(by_method)).encode(),
            )
            if route.literal is not None:
                self._literal[route.literal] = route
                for method, entry in by_method.items():
                    self._exact[(method, (API_PREFIX + route.literal).encode())] = entry
            else:
                self._templated.append(route)
        # The requests `serve_now` may answer (method, path as sent): the server's protocol reads this.
        self.direct_routes = frozenset(key for key, entry in self._exact.items() if entry[3] is not None)

    def __repr__(self) -> str:
        return f"MockApp({self.options!r})"

    # -- ASGI -----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The request path, inline (each call and await is a visible share of a request): route, count,
        authenticate, pick the fault, read the body, dispatch, reply."""
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        if self._ticker is None and self.webhooks is not None:  # a server that sent no lifespan events
            self._start_background()
        found = self._exact.get((scope["method"], scope.get("raw_path")))
        if found is None:
            method: str = scope["method"]
            path: str = scope["path"]
            if _encoded_slash(scope):
                await _reply(send, _no_route(path))
                return
            if path.startswith(CONTROL_PREFIX):
                await self._serve_control(method, path, scope["headers"], receive, send)
                return
            routed = self._route(method, path)
            if isinstance(routed, Reply):
                await _reply(send, routed)
                return
            found, path_params = routed
        else:
            path_params = {}
        operation_id, validators, handler, direct, direct_status = found
        self.store.count_request(operation_id)
        # Names as the server gives them (lower case, ASGI); the last of a repeated header wins. Values
        # are decoded only where read.
        headers: dict[bytes, bytes] = dict(scope["headers"])
        refused = _repeated(scope["headers"], headers) or self._refused(headers)
        if refused is not None:
            await _reply(send, refused)
            return
        # The body, in one message as a small body comes.
        message = await receive()
        if message["type"] != "http.request":  # `http.disconnect`: the client left, or its body was too slow (408)
            return
        body: bytes = message.get("body", b"")
        if message.get("more_body", False) or len(body) > self._max_body:
            try:
                whole = await _read_more(receive, body, self._max_body)
            except ClientGone:
                return
            if whole is None:
                await _reply(send, self._too_large)
                return
            body = whole
        query = _query(scope) if scope["query_string"] else {}
        # The fault, once the request is accepted for work (authenticated, its body within the limit): a
        # refused request consumes none.
        prefer = headers.get(b"prefer")
        fault = parse_prefer(prefer.decode("latin-1")) if prefer else None
        if fault is None:
            fault = self.faults.take(operation_id)
        if fault is not None:
            if fault.kind in BEFORE_WORK:
                await self._fail_before_work(send, fault)
                return
            reply = dispatch(handler, self.store, Request(validators, path_params, query, headers, body))
            # Encoded before the pause: the payouts a reply holds are the store's own (`PayoutStore`), which
            # other requests may change meanwhile; the reply says what this request did.
            content = None if reply.payload is None else dumps(reply.payload)
            await _pause(fault)
            if fault.kind == "drop_after_store":
                await _drop(send)
                return
        elif direct is not None:
            status, response_headers, content = self._run_direct(
                direct, direct_status, validators, query, headers, body
            )
            await send({"type": "http.response.start", "status": status, "headers": response_headers})
            await send({"type": "http.response.body", "body": content})
            return
        else:
            reply = dispatch(handler, self.store, Request(validators, path_params, query, headers, body))
            content = None if reply.payload is None else dumps(reply.payload)
        if content is None:
            await _reply(send, reply)
            return
        response_headers = [_JSON_CONTENT_TYPE, (b"content-length", b"%d" % len(content)), _request_id()]
        if reply.headers:
            response_headers += reply.headers
        await send({"type": "http.response.start", "status": reply.status, "headers": response_headers})
        await send({"type": "http.response.body", "body": content})

    def serve_now(
        self, method: str, raw_path: bytes, query_string: bytes, header_list: Fields, body: bytes
    ) -> Encoded | None:
        """The reply to a whole request, at once and without the ASGI cycle, for the busiest operations (create,
        start) when no fault applies; None for any other request, which then takes the ASGI path (`__call__`).

        The runner's protocol calls it when a request of `direct_routes` is complete (`http_protocol.py`): it
        saves uvicorn's task, coroutine and messages on every such request. Same steps, same reply as `__call__`."""
        found = self._exact.get((method, raw_path))
        if found is None or found[3] is None:
            return None
        operation_id, validators, _handler, direct, direct_status = found
        headers: dict[bytes, bytes] = dict(header_list)
        if b"prefer" in headers or self.faults.armed_for(operation_id):
            return None  # a fault to apply (its pauses and drops need the ASGI path): nothing done yet
        if self._ticker is None and self.webhooks is not None:
            self._start_background()
        self.store.count_request(operation_id)
        refused = _repeated(header_list, headers) or self._refused(headers)
        if refused is not None:
            return _encoded(refused)
        if len(body) > self._max_body:
            return _encoded(self._too_large)
        query = _query_string(query_string) if query_string else {}
        assert direct is not None
        return self._run_direct(direct, direct_status, validators, query, headers, body)

    def _refused(self, headers: dict[bytes, bytes]) -> Reply | None:
        """401 for a request without a valid key, 413 for one whose `Content-Length` passes the limit (its body
        unread); None when the request may be served."""
        if not self._authorized(headers.get(b"authorization")):
            return UNAUTHORIZED
        declared = headers.get(b"content-length", b"")
        if (
            len(declared) >= self._max_body_digits
            and declared.isdigit()
            and (len(declared) > 19 or int(declared) > self._max_body)
        ):
            return self._too_large
        return None

    def _run_direct(
        self,
        direct: Direct,
        status: int,
        validators: OperationValidators,
        query: dict[str, str],
        headers: dict[bytes, bytes],
        body: bytes,
    ) -> Encoded:
        """One of the busiest operations, without the `Request` and `Reply` objects: its reply."""
        try:
            content = dumps(direct(self.store, validators, query, headers, body))
        except (Rejected, StoreError) as exc:
            return _encoded(refusal(exc))
        return status, [_JSON_CONTENT_TYPE, (b"content-length", b"%d" % len(content)), _request_id()], content

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.webhooks is not None:
                    self._start_background()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stop_background()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _start_background(self) -> None:
        """With webhooks on, deliver events and settle due payouts even when nobody asks."""
        if self._ticker is not None or self.webhooks is None:
            return
        self.webhooks.start()
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self.store.settle()

    async def _stop_background(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self.webhooks is not None:
            await self.webhooks.stop()

    # -- the request path: route, authenticate, pick the fault, read the body, dispatch, reply ------

    def _route(self, method: str, path: str) -> Reply | tuple[_Entry, dict[str, str]]:
        """The operation for `method path` and its path parameters, or the 404/405 reply."""
        if not path.startswith(API_PREFIX + "/"):
            return _no_route(path)
        sub = path[len(API_PREFIX) :]
        # One trailing slash at most, as the templated routes allow (`/payouts//` is no path of the spec).
        route = self._literal.get(sub[:-1] if sub.endswith("/") and len(sub) > 1 else sub)
        params: dict[str, str] = {}
        if route is None:
            for candidate in self._templated:
                match = candidate.regex.match(sub)
                if match is not None:
                    route, params = candidate, match.groupdict()
                    break
            else:
                return _no_route(path)
        entry = route.by_method.get(method)
        if entry is None:
            return _not_allowed(method, route.allow)
        return entry, params

    def _authorized(self, header: bytes | None) -> bool:
        if header is None:
            return False
        if header in self._accepted:
            return True
        found = API_KEY_BYTES.match(header)
        if found is None:
            return False
        expected = self._api_key
        if expected is not None:
            return hmac.compare_digest(found.group(1), expected)
        # Any well-formed key is accepted, so there is no secret to compare in constant time: the verdict
        # for this exact header is remembered (a client sends the same one every time), a few at a time.
        if len(self._accepted) >= _ACCEPTED_MAX:
            self._accepted.clear()
        self._accepted.add(header)
        return True

    async def _fail_before_work(self, send: Send, fault: Fault) -> None:
        """A `status` or `drop_before_store` fault: nothing is done, after the fault's delay."""
        await _pause(fault)
        if fault.kind == "drop_before_store":
            await _drop(send)
            return
        assert fault.status is not None
        extra = [(b"retry-after", str(fault.retry_after).encode())] if fault.retry_after is not None else []
        await _reply(send, Reply(fault.status, error_body(f"Simulated HTTP {fault.status} (test control)."), extra))

    # -- test controls, routed from `self._controls` -------------------------------------------------

    async def _serve_control(
        self, method: str, path: str, headers: list[tuple[bytes, bytes]], receive: Receive, send: Send
    ) -> None:
        """A control, for a test's own code only: a request a web page sent (it carries `Origin`) is 403, and a
        POST must say `application/json` (415), which a page can only send after a CORS preflight the mock
        never answers. Without both, any page open in the tester's browser could move the clock, arm faults
        or reset the mock with a "simple" cross-origin POST (`text/plain`, no preflight)."""
        try:
            body = await _read_body(receive, self.options.max_body_bytes)
        except ClientGone:
            return
        if body is None:
            await _reply(send, self._too_large)
            return
        name = path[len(CONTROL_PREFIX) :].rstrip("/")
        by_method = self._controls.get(name)
        if any(header == b"origin" for header, _ in headers):
            reply = _FROM_A_PAGE
        elif by_method is None:
            reply = Reply(404, error_body("Not found.", {"path": [f"no control {name[:50]}"]}))
        elif method not in by_method:
            reply = _not_allowed(method, ", ".join(sorted(by_method)).encode())
        elif method == "POST" and not _says_json(headers):
            reply = _NOT_JSON
        else:
            reply = by_method[method](body)
        await _reply(send, reply)

    def _control_table(self) -> dict[str, dict[str, Callable[[bytes], Reply]]]:
        return {
            "faults": {"GET": self._get_faults, "POST": self._arm_fault},
            "stats": {"GET": self._get_stats},
            "clock": {"GET": self._get_clock, "POST": self._advance_clock},
            "reset": {"POST": self._reset},
        }

    def _get_faults(self, body: bytes) -> Reply:
        return Reply(200, {"armed": self.faults.pending()})

    def _arm_fault(self, body: bytes) -> Reply:
        payload = _control_json(body)
        if isinstance(payload, Reply):
            return payload
        try:
            operation, fault, times = parse_fault(payload, self.operation_ids)
        except ValueError as exc:
            field_name, _, problem = str(exc).partition(": ")
            return Reply(422, error_body("The fault is invalid.", {field_name: [problem]}))
        self.faults.arm(operation, fault, times)
        return self._get_faults(body)

    def _get_stats(self, body: bytes) -> Reply:
        stats = self.store.stats()
        stats["not_implemented"] = list(self.not_implemented)
        if self.webhooks is not None:
            stats["webhooks"] = {"delivered": self.webhooks.delivered, "failed": self.webhooks.failed}
        return Reply(200, stats)

    def _get_clock(self, body: bytes) -> Reply:
        return Reply(200, {"now": iso(self.clock.now()), "frozen": self.clock.frozen})

    def _advance_clock(self, body: bytes) -> Reply:
        payload = _control_json(body)
        if isinstance(payload, Reply):
            return payload
        seconds = payload.get("advance_seconds") if isinstance(payload, dict) else None
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            return Reply(
                422, error_body("The clock only moves forward.", {"advance_seconds": ["must be a number >= 0"]})
            )
        try:
            self.clock.advance(float(seconds))
        except (ValueError, OverflowError) as exc:
            return Reply(422, error_body("The clock cannot move that far.", {"advance_seconds": [str(exc)]}))
        self.store.settle()
        return self._get_clock(body)

    def _reset(self, body: bytes) -> Reply:
        self.store.reset()
        self.faults.reset()
        self.clock.reset()
        if self.webhooks is not None:
            self.webhooks.reset()
        gc_tuning.refresh()
        return Reply(200, {"reset": True})


# -- the steps' building blocks --------------------------------------------------------------------


def _query(scope: Scope) -> dict[str, str]:
    return _query_string(scope["query_string"])


def _query_string(raw: bytes) -> dict[str, str]:
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)) if raw else {}


def _encoded_slash(scope: Scope) -> bool:
    """True when the path as sent holds `%2F`: the server decodes it into a `/` that would move segment
    boundaries (`/v1/payouts/%2F` is no id, not the list). Only paths the exact lookup missed get here."""
    raw: bytes | None = scope.get("raw_path")
    return raw is not None and b"%" in raw and b"%2f" in raw.lower()


def _no_route(path: str) -> Reply:
    return Reply(404, error_body("Not found.", {"path": [f"no route {path[:100]}"]}))


def _not_allowed(method: str, allow: bytes) -> Reply:
    return Reply(405, error_body(f"Method {method[:10]} not allowed."), [(b"allow", allow)])


_FROM_A_PAGE = Reply(
    403,
    error_body(
        "The test controls refuse requests sent by web pages.",
        {"Origin": ["must be absent: only a test's own code drives /_mock/"]},
    ),
)
_NOT_JSON = Reply(
    415,
    error_body("A control's body must be JSON.", {"Content-Type": ["must be application/json"]}),
)


def _says_json(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the request's (last) `Content-Type` is `application/json`, with any parameters, in any case."""
    content_type = b""
    for header, value in headers:
        if header == b"content-type":
            content_type = value
    return content_type.partition(b";")[0].strip().lower() == b"application/json"


def _control_json(body: bytes) -> Any:
    """A control's JSON body (empty: `{}`), or the 400 reply."""
    try:
        return loads(body) if body.strip() else {}
    except MalformedJSONError:
        return Reply(400, error_body("The body is not valid JSON.", {"body": ["is not valid JSON"]}))


async def _pause(fault: Fault | None) -> None:
    """The one wait of the request path: a fault's `delay`, if any."""
    if fault is not None and fault.delay:
        await asyncio.sleep(fault.delay)


class ClientGone(Exception):
    """The request ended before its body did (`http.disconnect`): the client left, or the server refused the
    body (too slow: 408). A body cut short is not served: a valid prefix of it would be acted on."""


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it passes `limit` bytes; `ClientGone` when it never ends."""
    message = await receive()
    if message["type"] != "http.request":
        raise ClientGone
    body: bytes = message.get("body", b"")
    if message.get("more_body", False):
        return await _read_more(receive, body, limit)
    return body if len(body) <= limit else None


async def _read_more(receive: Receive, first: bytes, limit: int) -> bytes | None:
    """The rest of a body that came in several messages, after `first`; None once it passes `limit` bytes;
    `ClientGone` when it never ends."""
    chunks = [first]
    size = len(first)
    if size > limit:
        return None
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


_REQUEST_IDS = itertools.count(1)
_REQUEST_ID_PREFIX = b"req_" + os.urandom(4).hex().encode()  # per process: ids differ across mocks and restarts
_REQUEST_ID = _REQUEST_ID_PREFIX + b"%08x"


def _request_id() -> tuple[bytes, bytes]:
    """A fresh `X-Request-Id` for each reply: what clients show support (FedaPay documents no such header;
    its Ruby library reads `Request-Id`, and the client reads both). A counter, not urandom: it is on every reply."""
    return (b"x-request-id", _REQUEST_ID % next(_REQUEST_IDS))


def _encoded(reply: Reply) -> Encoded:
    """`reply` as sent: status, headers (a fresh request id last), body."""
    if reply.payload is None:
        return reply.status, [*reply.headers, _request_id()], b""
    content = dumps(reply.payload)
    headers = [*_JSON_HEADERS, (b"content-length", b"%d" % len(content)), *reply.headers, _request_id()]
    return reply.status, headers, content


async def _reply(send: Send, reply: Reply) -> None:
    status, headers, content = _encoded(reply)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def _currency_ids(document: dict[str, Any]) -> dict[str, int]:
    """Currency code -> id, in the order of the spec's enum (none: ids are given as codes arrive)."""
    schemas = document.get("components", {}).get("schemas", {})
    iso = schemas.get("CurrencyInput", {}).get("properties", {}).get("iso", {})
    codes = iso.get("enum") if isinstance(iso, dict) else None
    return {str(code): n for n, code in enumerate(codes or [], start=1)}


def create_app(options: MockOptions | None = None, /, **settings: Unpack[MockSettings]) -> MockApp:
    """Build the mock as an ASGI app: `options` (default `MockOptions()`) with any keyword settings on top."""
    return MockApp(resolve(options, settings))
