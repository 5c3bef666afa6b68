"""The ASGI application: routing from the spec, auth, faults, controls under `/_mock/`.

A plain ASGI callable rather than a framework router: the hot path is a dict lookup or one regex,
one header scan, one orjson parse, one precompiled validation and one orjson dump.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from .clock import MockClock
from .faults import Fault, FaultBoard, parse_fault, parse_prefer
from .handlers import HANDLERS, Handler, Rejected, Reply, Request, not_implemented
from .shape import payout_shape
from .spec import Operation, load_spec
from .store import MAX_PAYOUTS_PER_NUMBER, PayoutStore, iso
from .validation import OperationValidators, compile_validators
from .webhooks import WebhookSender
from .wire import MalformedJSONError, dumps, error_body, loads

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

API_PREFIX = "/v1"
CONTROL_PREFIX = "/_mock/"
DEFAULT_MAX_BODY = 1024 * 1024
TICK_SECONDS = 0.05
_BEARER = re.compile(r"^(?i:bearer) +(sk_(?:sandbox|live)_[A-Za-z0-9_\-]+)$")
_JSON_HEADERS = [(b"content-type", b"application/json")]
logger = logging.getLogger("fedapay_mock")


@dataclass
class MockOptions:
    """Everything `create_app` accepts. Secrets are kept out of the repr."""

    api_key: str | None = field(default=None, repr=False)
    settle_seconds: float = 0.2
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    freeze_clock: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY
    spec_path: str | None = None
    # FedaPay's rules (docs/mock.md): None lifts the per-number limit, False allows deleting any payout.
    max_payouts_per_number: int | None = MAX_PAYOUTS_PER_NUMBER
    delete_only_unsent: bool = True

    def __post_init__(self) -> None:
        if self.settle_seconds < 0:
            raise ValueError("settle_seconds must be >= 0")
        if self.max_body_bytes < 1:
            raise ValueError("max_body_bytes must be >= 1")
        if (self.webhook_url is None) != (self.webhook_secret is None):
            raise ValueError("webhook_url and webhook_secret go together")
        if self.max_payouts_per_number is not None and self.max_payouts_per_number < 1:
            raise ValueError("max_payouts_per_number must be >= 1 or None (no limit)")
        if self.api_key is not None and not _BEARER.match(f"Bearer {self.api_key}"):
            raise ValueError("api_key must look like sk_sandbox_... or sk_live_...")


@dataclass(frozen=True)
class _Route:
    regex: re.Pattern[str]
    literal: str | None
    by_method: dict[str, tuple[Operation, OperationValidators, Handler]]
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
        self.operation_ids = frozenset(op.operation_id for op in self.spec.operations)
        self.webhooks: WebhookSender | None = None
        if options.webhook_url is not None and options.webhook_secret is not None:
            self.webhooks = WebhookSender(options.webhook_url, options.webhook_secret)
            self.store.listeners.append(self.webhooks.enqueue)
        self._ticker: asyncio.Task[None] | None = None
        self._routes: list[_Route] = []
        self._literal: dict[str, _Route] = {}
        grouped: dict[str, list[Operation]] = {}
        for op in self.spec.operations:
            grouped.setdefault(op.path, []).append(op)
        for path, ops in grouped.items():
            by_method = {
                op.method: (op, validators[op.operation_id], HANDLERS.get(op.operation_id) or not_implemented(op))
                for op in ops
            }
            route = _Route(
                regex=ops[0].path_regex,
                literal=None if "{" in path else path,
                by_method=by_method,
                allow=", ".join(sorted(by_method)).encode(),
            )
            self._routes.append(route)
            if route.literal is not None:
                self._literal[route.literal] = route

    def __repr__(self) -> str:
        return f"MockApp({self.options!r})"

    # -- ASGI -----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if self._ticker is None and self.webhooks is not None:
                self._start_background()
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

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

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if path.startswith(CONTROL_PREFIX):
            body = await self._read_body(receive, self.options.max_body_bytes)
            if body is None:
                await self._too_large(send)
                return
            reply = self._control(scope["method"], path, body)
            await self._reply(send, reply)
            return
        if not path.startswith(API_PREFIX + "/"):
            await self._reply(send, Reply(404, error_body("Not found.", {"path": [f"no route {path[:100]}"]})))
            return
        sub = path[len(API_PREFIX) :]
        route = self._literal.get(sub.rstrip("/") or "/")
        match = None
        if route is None:
            for candidate in self._routes:
                if candidate.literal is None:
                    match = candidate.regex.match(sub)
                    if match is not None:
                        route = candidate
                        break
        if route is None:
            await self._reply(send, Reply(404, error_body("Not found.", {"path": [f"no route {path[:100]}"]})))
            return
        method: str = scope["method"]
        entry = route.by_method.get(method)
        if entry is None:
            await self._reply(
                send,
                Reply(405, error_body(f"Method {method[:10]} not allowed."), [(b"allow", route.allow)]),
            )
            return
        operation, validators, handler = entry
        store = self.store
        store.count_request(operation.operation_id)

        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers[name.decode("latin-1")] = value.decode("latin-1")

        if not self._authorized(headers.get("authorization")):
            await self._reply(
                send,
                Reply(
                    401,
                    error_body("Missing or invalid API key.", {"Authorization": ["a valid secret key is required"]}),
                    [(b"www-authenticate", b"Bearer")],
                ),
            )
            return

        prefer = headers.get("prefer")
        fault: Fault | None = parse_prefer(prefer) if prefer else None
        if fault is None:
            fault = self.faults.take(operation.operation_id)

        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.options.max_body_bytes:
            await self._too_large(send)
            return
        body = await self._read_body(receive, self.options.max_body_bytes)
        if body is None:
            await self._too_large(send)
            return

        if fault is not None and fault.kind in ("status", "drop_before_store"):
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.kind == "drop_before_store":
                await _drop(send)
                return
            assert fault.status is not None
            extra = [(b"retry-after", str(fault.retry_after).encode())] if fault.retry_after is not None else []
            await self._reply(
                send, Reply(fault.status, error_body(f"Simulated HTTP {fault.status} (test control)."), extra)
            )
            return

        query = (
            dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
            if scope["query_string"]
            else {}
        )
        request = Request(validators, match.groupdict() if match is not None else {}, query, headers, body)
        try:
            reply = handler(store, request)
        except Rejected as rejected:
            reply = rejected.reply

        if fault is not None:
            if fault.kind == "drop_after_store":
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                await _drop(send)
                return
            if fault.delay:
                await asyncio.sleep(fault.delay)
        await self._reply(send, reply)

    def _authorized(self, header: str | None) -> bool:
        if header is None:
            return False
        found = _BEARER.match(header)
        if found is None:
            return False
        expected = self.options.api_key
        return expected is None or hmac.compare_digest(found.group(1).encode(), expected.encode())

    @staticmethod
    async def _read_body(receive: Receive, limit: int | None) -> bytes | None:
        """The whole request body, or None once it passes `limit` bytes."""
        message = await receive()
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            return body if limit is None or len(body) <= limit else None
        chunks = [body]
        size = len(body)
        while message.get("more_body", False):
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if limit is not None and size > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _too_large(self, send: Send) -> None:
        limit = self.options.max_body_bytes
        reply = Reply(
            413,
            error_body("The request body is too large.", {"body": [f"must be at most {limit} bytes"]}),
            [(b"connection", b"close")],
        )
        await self._reply(send, reply)

    @staticmethod
    async def _reply(send: Send, reply: Reply) -> None:
        if reply.payload is None:
            await send({"type": "http.response.start", "status": reply.status, "headers": reply.headers})
            await send({"type": "http.response.body", "body": b""})
            return
        content = dumps(reply.payload)
        headers = [*_JSON_HEADERS, (b"content-length", str(len(content)).encode()), *reply.headers]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    # -- test controls --------------------------------------------------------------------------

    def _control(self, method: str, path: str, body: bytes) -> Reply:
        name = path[len(CONTROL_PREFIX) :].rstrip("/")
        allowed = {"faults": ("GET", "POST"), "stats": ("GET",), "clock": ("GET", "POST"), "reset": ("POST",)}
        if name not in allowed:
            return Reply(404, error_body("Not found.", {"path": [f"no control {name[:50]}"]}))
        if method not in allowed[name]:
            return Reply(
                405, error_body(f"Method {method[:10]} not allowed."), [(b"allow", ", ".join(allowed[name]).encode())]
            )
        if name == "stats":
            stats = self.store.stats()
            stats["not_implemented"] = list(self.not_implemented)
            if self.webhooks is not None:
                stats["webhooks"] = {"delivered": self.webhooks.delivered, "failed": self.webhooks.failed}
            return Reply(200, stats)
        if name == "reset":
            self.store.reset()
            self.faults.reset()
            self.clock.reset()
            return Reply(200, {"reset": True})
        if method == "GET":
            if name == "faults":
                return Reply(200, {"armed": self.faults.pending()})
            return Reply(200, {"now": iso(self.clock.now()), "frozen": self.clock.frozen})
        try:
            payload = loads(body) if body.strip() else {}
        except MalformedJSONError:
            return Reply(400, error_body("The body is not valid JSON.", {"body": ["is not valid JSON"]}))
        if name == "faults":
            try:
                operation, fault, times = parse_fault(payload, self.operation_ids)
            except ValueError as exc:
                field_name, _, problem = str(exc).partition(": ")
                return Reply(422, error_body("The fault is invalid.", {field_name: [problem]}))
            self.faults.arm(operation, fault, times)
            return Reply(200, {"armed": self.faults.pending()})
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
        return Reply(200, {"now": iso(self.clock.now()), "frozen": self.clock.frozen})


def _currency_ids(document: dict[str, Any]) -> dict[str, int]:
    """Currency code -> id, in the order of the spec's enum (none: ids are given as codes arrive)."""
    schemas = document.get("components", {}).get("schemas", {})
    iso = schemas.get("CurrencyInput", {}).get("properties", {}).get("iso", {})
    codes = iso.get("enum") if isinstance(iso, dict) else None
    return {str(code): n for n, code in enumerate(codes or [], start=1)}


def create_app(**options: Any) -> MockApp:
    """Build the mock as an ASGI app; see `MockOptions` for the options."""
    return MockApp(MockOptions(**options))
