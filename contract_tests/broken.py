"""Deliberately broken variants of the mock: the contract suite must fail against every one.

Each variant is an ASGI middleware around the real `fedapay_mock.create_app()`: it forwards the
request to the real mock and bends the request or the reply the way a buggy server would. The
mock itself is not touched, so the variants follow it as it evolves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fedapay_contract.checks import payout_ids_in_start_body
from fedapay_mock.asgi import ASGIApp, Message, Receive, Scope, Send

JSON = object
Headers = list[tuple[bytes, bytes]]


@dataclass
class Exchange:
    """One request as the variant sees it, and the reply the real mock gave (changeable)."""

    method: str
    path: str
    request_headers: Headers
    request_body: bytes
    status: int = 0
    headers: Headers = field(default_factory=list)
    body: bytes = b""

    def json(self) -> JSON:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def set_json(self, value: JSON, status: int | None = None) -> None:
        self.body = json.dumps(value).encode()
        if status is not None:
            self.status = status
        self.set_header(b"content-type", b"application/json")

    def set_header(self, name: bytes, value: bytes | None) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name]
        if value is not None:
            self.headers.append((name, value))

    def request_json(self) -> JSON:
        try:
            return json.loads(self.request_body) if self.request_body else None
        except ValueError:
            return None


async def _call(app: ASGIApp, scope: Scope, body: bytes) -> Exchange:
    """Send one request through `app` and collect its whole reply."""
    exchange = Exchange(
        method=scope["method"],
        path=scope["path"],
        request_headers=list(scope.get("headers", [])),
        request_body=body,
    )
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
            exchange.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    exchange.body = b"".join(chunks)
    return exchange


class Rewrite:
    """Middleware: buffer each HTTP exchange with the real mock, let `before`/`after` bend it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        before: Callable[[Scope, bytes], tuple[Scope, bytes]] | None = None,
        after: Callable[[Exchange], None] | None = None,
        side_effect: Callable[[ASGIApp, Scope, Exchange], Awaitable[None]] | None = None,
        short_circuit: Callable[[Scope, bytes], Exchange | None] | None = None,
    ) -> None:
        self.app = app
        self.before = before
        self.after = after
        self.side_effect = side_effect
        self.short_circuit = short_circuit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if self.before is not None:
            scope, body = self.before(scope, body)
        exchange = self.short_circuit(scope, body) if self.short_circuit is not None else None
        if exchange is None:
            exchange = await _call(self.app, scope, body)
            if self.side_effect is not None:
                await self.side_effect(self.app, scope, exchange)
        if self.after is not None:
            self.after(exchange)
        headers = [(k, v) for k, v in exchange.headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(exchange.body)).encode()))
        await send({"type": "http.response.start", "status": exchange.status, "headers": headers})
        await send({"type": "http.response.body", "body": exchange.body})


def _is(exchange: Exchange, method: str, path: str) -> bool:
    return exchange.method == method and exchange.path.rstrip("/") == path


def _is_payout_path(path: str) -> bool:
    parts = path.strip("/").split("/")
    return len(parts) == 3 and parts[:2] == ["v1", "payouts"] and parts[2] not in ("start", "")


# --- the variants -------------------------------------------------------------------------------


def no_envelope(app: ASGIApp, api_key: str) -> ASGIApp:
    """Replies carry the bare payout / list instead of {"v1/payout": ...} / {"v1/payouts": ...}."""

    def after(exchange: Exchange) -> None:
        data = exchange.json()
        if isinstance(data, dict):
            if "v1/payout" in data:
                exchange.set_json(data["v1/payout"])
            elif "v1/payouts" in data:
                exchange.set_json(data["v1/payouts"])

    return Rewrite(app, after=after)


def auth_ignored(app: ASGIApp, api_key: str) -> ASGIApp:
    """Any request is served as if it carried the right API key (missing or wrong keys accepted)."""

    def before(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"authorization"]
        headers.append((b"authorization", f"Bearer {api_key}".encode()))
        return {**scope, "headers": headers}, body

    return Rewrite(app, before=before)


def server_error_on_unknown_id(app: ASGIApp, api_key: str) -> ASGIApp:
    """An unknown payout id crashes the server: 500 instead of 404."""

    def after(exchange: Exchange) -> None:
        if exchange.status == 404:
            exchange.set_json({"message": "Internal server error"}, status=500)

    return Rewrite(app, after=after)


DROPPED_FIELD = "currency_id"


def required_field_dropped(app: ASGIApp, api_key: str) -> ASGIApp:
    """Every payout in a reply lacks a required field (`currency_id`)."""

    def strip(payout: object) -> None:
        if isinstance(payout, dict):
            payout.pop(DROPPED_FIELD, None)

    def after(exchange: Exchange) -> None:
        data = exchange.json()
        if not isinstance(data, dict):
            return
        strip(data.get("v1/payout"))
        items = data.get("v1/payouts")
        if isinstance(items, list):
            for item in items:
                strip(item)
        if "v1/payout" in data or "v1/payouts" in data:
            exchange.set_json(data)

    return Rewrite(app, after=after)


def refused_start_changes_status(app: ASGIApp, api_key: str) -> ASGIApp:
    """A start the server refuses still starts the (pending) payouts it names: change first, validate after."""

    async def side_effect(inner: ASGIApp, scope: Scope, exchange: Exchange) -> None:
        if not _is(exchange, "PUT", "/v1/payouts/start") or 200 <= exchange.status < 300:
            return
        for payout_id in payout_ids_in_start_body(exchange.request_json()):
            body = json.dumps({"payouts": [{"id": payout_id}]}).encode()
            await _call(inner, scope, body)

    return Rewrite(app, side_effect=side_effect)


def create_returns_200(app: ASGIApp, api_key: str) -> ASGIApp:
    """Create answers 200 instead of the documented 201."""

    def after(exchange: Exchange) -> None:
        if _is(exchange, "POST", "/v1/payouts") and exchange.status == 201:
            exchange.status = 200

    return Rewrite(app, after=after)


def create_skips_validation(app: ASGIApp, api_key: str) -> ASGIApp:
    """Create never rejects a body: where the mock says 400/422, the variant invents a payout and says 201."""

    def after(exchange: Exchange) -> None:
        if _is(exchange, "POST", "/v1/payouts") and exchange.status in (400, 422):
            stamp = "2024-01-01T00:00:00Z"
            payout = {
                "klass": "v1/payout",
                "id": 999_999,
                "reference": None,
                "amount": 1,
                "status": "pending",
                "customer_id": 1,
                "currency_id": 1,
                "mode": "mtn_open",
                "created_at": stamp,
                "updated_at": stamp,
            }
            exchange.set_json({"v1/payout": payout}, status=201)

    return Rewrite(app, after=after)


def delete_keeps_payout(app: ASGIApp, api_key: str) -> ASGIApp:
    """DELETE of an existing payout answers 204 but deletes nothing (it can still be read and started)."""

    class KeepOnDelete(Rewrite):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["method"] == "DELETE" and _is_payout_path(scope["path"]):
                probe = await _call(self.app, {**scope, "method": "GET"}, b"")
                if probe.status == 200:
                    await send({"type": "http.response.start", "status": 204, "headers": []})
                    await send({"type": "http.response.body", "body": b""})
                    return
            await super().__call__(scope, receive, send)

    return KeepOnDelete(app)


def wrong_content_type(app: ASGIApp, api_key: str) -> ASGIApp:
    """JSON replies are labelled text/html."""

    def after(exchange: Exchange) -> None:
        if any(k.lower() == b"content-type" for k, _ in exchange.headers):
            exchange.set_header(b"content-type", b"text/html; charset=utf-8")

    return Rewrite(app, after=after)


def _is_create(scope: Scope) -> bool:
    """Whether the request is a create (`POST /v1/payouts`, a trailing slash allowed)."""
    return bool(scope["type"] == "http" and scope["method"] == "POST" and scope["path"].rstrip("/") == "/v1/payouts")


def _json_or_none(body: bytes) -> Any:
    """The request body as JSON, or None when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return None


def rejects_merchant_reference(app: ASGIApp, api_key: str) -> ASGIApp:
    """Create refuses a valid body that sets the optional `merchant_reference` (422)."""

    def short_circuit(scope: Scope, body: bytes) -> Exchange | None:
        if not _is_create(scope):
            return None
        data = _json_or_none(body)
        if isinstance(data, dict) and "merchant_reference" in data:
            exchange = Exchange(scope["method"], scope["path"], list(scope.get("headers", [])), body)
            exchange.set_json(
                {"message": "Validation failed", "errors": {"merchant_reference": ["is not allowed"]}}, status=422
            )
            return exchange
        return None

    return Rewrite(app, short_circuit=short_circuit)


def wrong_status_for_undeclared_method(app: ASGIApp, api_key: str) -> ASGIApp:
    """A method the path does not support gets 404 instead of 405 (with `Allow`)."""

    def after(exchange: Exchange) -> None:
        if exchange.status == 405:
            exchange.set_header(b"allow", None)
            exchange.set_json({"message": "Not found"}, status=404)

    return Rewrite(app, after=after)


async def _stored_payout(app: ASGIApp, scope: Scope, payout_id: object, api_key: str) -> dict[str, object] | None:
    """The payout as the real mock holds it (GET /v1/payouts/{id} with the right key), or None."""
    if not isinstance(payout_id, int) or isinstance(payout_id, bool):
        return None
    path = f"/v1/payouts/{payout_id}"
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in (b"authorization", b"content-length")]
    headers.append((b"authorization", f"Bearer {api_key}".encode()))
    get = {**scope, "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"", "headers": headers}
    probe = await _call(app, get, b"")
    data = probe.json()
    payout = data.get("v1/payout") if isinstance(data, dict) and probe.status == 200 else None
    return payout if isinstance(payout, dict) else None


def _start_items(body: bytes) -> list[dict[str, object]] | None:
    """The items of a start body (either documented form), when each is an object with an integer id."""
    data = _json_or_none(body)
    items = data.get("payouts") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        return None
    if not all(isinstance(item, dict) and type(item.get("id")) is int for item in items):
        return None
    return items


def _carries_key(scope: Scope, api_key: str) -> bool:
    return dict(scope.get("headers", [])).get(b"authorization") == f"Bearer {api_key}".encode()


def start_twice_accepted(app: ASGIApp, api_key: str) -> ASGIApp:
    """A start of payouts that are no longer pending (started, scheduled, sent) is accepted again (200, the payouts
    shown started) instead of refused: a second payment of money already on its way."""

    async def side_effect(inner: ASGIApp, scope: Scope, exchange: Exchange) -> None:
        if not _is(exchange, "PUT", "/v1/payouts/start") or exchange.status != 422:
            return
        items = _start_items(exchange.request_body)
        if items is None or not _carries_key(scope, api_key):
            return
        shown = []
        for item in items:
            payout = await _stored_payout(inner, scope, item["id"], api_key)
            if payout is None or payout.get("status") == "pending":
                return  # refused for another reason: left as the mock answered
            shown.append({**payout, "status": "started"})
        exchange.set_json({"v1/payouts": shown}, status=200)

    return Rewrite(app, side_effect=side_effect)


def start_does_nothing(app: ASGIApp, api_key: str) -> ASGIApp:
    """A start of pending payouts answers 200 with them shown started (or scheduled) but starts nothing: they stay
    pending, and the caller believes the money is on its way."""

    class Pretend(Rewrite):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] != "PUT" or scope["path"].rstrip("/") != "/v1/payouts/start":
                await super().__call__(scope, receive, send)
                return
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            items = _start_items(body) if _carries_key(scope, api_key) else None
            shown: list[dict[str, object]] | None = [] if items is not None else None
            for item in items or ():
                payout = await _stored_payout(self.app, scope, item["id"], api_key)
                if shown is None or payout is None or payout.get("status") != "pending":
                    shown = None
                    break
                status = "scheduled" if item.get("scheduled_at") is not None else "started"
                shown.append({**payout, "status": status})
            if shown is not None:
                reply = json.dumps({"v1/payouts": shown}).encode()
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(reply)).encode())]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": reply})
                return
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return {"type": "http.disconnect"}

            await super().__call__(scope, replay, send)

    return Pretend(app)


def create_wrong_amount(app: ASGIApp, api_key: str) -> ASGIApp:
    """A create's reply shows another amount (one more) than the payout asked for (and stored)."""

    def after(exchange: Exchange) -> None:
        if not _is(exchange, "POST", "/v1/payouts") or not 200 <= exchange.status < 300:
            return
        data = exchange.json()
        payout = data.get("v1/payout") if isinstance(data, dict) else None
        if isinstance(payout, dict) and type(payout.get("amount")) is int:
            payout["amount"] += 1
            exchange.set_json(data)

    return Rewrite(app, after=after)



async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        body += chunk
        if not message.get("more_body", False):
            return body


async def _answer(send: Send, exchange: Exchange) -> None:
    headers = [(k, v) for k, v in exchange.headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(exchange.body)).encode()))
    await send({"type": "http.response.start", "status": exchange.status, "headers": headers})
    await send({"type": "http.response.body", "body": exchange.body})


# The most `stores_other_amount` adds to an amount: the stored one stays within the spec's 1,000,000.
MAX_STORED_AMOUNT = 1_000_000


class _StoresOther(Rewrite):
    """A create whose body the app gets changed (`stored`), and whose reply's payout is put back as asked
    (`shown_as_asked`): the caller checks the reply, and the server keeps (and pays) something else."""

    def stored(self, asked: dict[str, Any]) -> dict[str, Any] | None:
        """The body the app gets instead of `asked`, or None to leave this create alone."""
        raise NotImplementedError

    def shown_as_asked(self, asked: dict[str, Any], payout: dict[str, Any]) -> bool:
        """Make the reply's `payout` show what was asked; whether anything was changed."""
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_create(scope):
            await super().__call__(scope, receive, send)
            return
        body = await _read_body(receive)
        asked = _json_or_none(body)
        stored = self.stored(asked) if isinstance(asked, dict) else None
        if stored is not None:
            body = json.dumps(stored).encode()
        exchange = await _call(self.app, scope, body)
        reply = exchange.json()
        payout = reply.get("v1/payout") if isinstance(reply, dict) else None
        if (stored is not None and 200 <= exchange.status < 300 and isinstance(payout, dict)
                and self.shown_as_asked(asked, payout)):
            exchange.set_json(reply)
        await _answer(send, exchange)


def stores_other_amount(app: ASGIApp, api_key: str) -> ASGIApp:
    """A create stores (and GET shows) one more than the amount asked, while its reply shows the amount asked: the
    caller checks the reply, and the server pays another sum."""

    class StoreMore(_StoresOther):
        def stored(self, asked: dict[str, Any]) -> dict[str, Any] | None:
            amount = asked.get("amount")
            if type(amount) is int and 1 <= amount < MAX_STORED_AMOUNT:
                return {**asked, "amount": amount + 1}
            return None

        def shown_as_asked(self, asked: dict[str, Any], payout: dict[str, Any]) -> bool:
            payout["amount"] = asked["amount"]
            return True

    return StoreMore(app)


def schedule_ignored(app: ASGIApp, api_key: str) -> ASGIApp:
    """A start ignores its items' `scheduled_at`: a payout asked for a future date is sent now (answered and read
    back `started`)."""

    def before(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
        if scope["method"] != "PUT" or scope["path"].rstrip("/") != "/v1/payouts/start":
            return scope, body
        items = _start_items(body)
        if items is None:
            return scope, body
        for item in items:
            item.pop("scheduled_at", None)
        return scope, json.dumps(items).encode()

    return Rewrite(app, before=before)


# The update fields `update_ignored` can answer without the mock (values it would accept, and no rule to apply),
# and those whose null changes nothing (the spec's `PayoutUpdate`).
FAKED_UPDATE_FIELDS = frozenset({"amount", "description", "merchant_reference", "custom_metadata", "scheduled_at"})
NULL_CHANGES_NOTHING = frozenset({"merchant_reference", "scheduled_at"})


def _fakeable_update(body: bytes) -> dict[str, object] | None:
    """An update body `update_ignored` answers itself: only `FAKED_UPDATE_FIELDS`, each of a value the spec allows
    (`scheduled_at` only null); the changes it shows (a null that changes nothing left out)."""
    data = _json_or_none(body)
    if not isinstance(data, dict) or not data or not set(data) <= FAKED_UPDATE_FIELDS:
        return None
    if data.get("scheduled_at") is not None:
        return None
    amount = data.get("amount", 1)
    if type(amount) is not int or not 1 <= amount <= MAX_STORED_AMOUNT:
        return None
    if not all(data.get(name) is None or isinstance(data[name], str) for name in ("description", "merchant_reference")):
        return None
    if not (data.get("custom_metadata") is None or isinstance(data["custom_metadata"], dict)):
        return None
    return {name: value for name, value in data.items() if not (name in NULL_CHANGES_NOTHING and value is None)}


def update_ignored(app: ASGIApp, api_key: str) -> ASGIApp:
    """An update of a pending or scheduled payout answers 200 with the changes shown, but stores nothing: the
    payout keeps its old amount (and description, reference, metadata)."""

    class Ignore(Rewrite):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] != "PUT" or not _is_payout_path(scope["path"]):
                await super().__call__(scope, receive, send)
                return
            body = await _read_body(receive)
            changes = _fakeable_update(body) if _carries_key(scope, api_key) else None
            last = scope["path"].rstrip("/").rsplit("/", 1)[-1]
            payout = None
            if changes is not None and last.isascii() and last.isdigit():
                payout = await _stored_payout(self.app, scope, int(last), api_key)
            if payout is not None and payout.get("status") in ("pending", "scheduled"):
                assert changes is not None
                exchange = Exchange(scope["method"], scope["path"], list(scope.get("headers", [])), body)
                exchange.set_json({"v1/payout": {**payout, **changes}}, status=200)
            else:
                exchange = await _call(self.app, scope, body)
            await _answer(send, exchange)

    return Ignore(app)


def status_sent_at_create(app: ASGIApp, api_key: str) -> ASGIApp:
    """A create answers the new payout already `sent` (paid without a start)."""

    def after(exchange: Exchange) -> None:
        if not _is(exchange, "POST", "/v1/payouts") or not 200 <= exchange.status < 300:
            return
        data = exchange.json()
        payout = data.get("v1/payout") if isinstance(data, dict) else None
        if isinstance(payout, dict):
            payout["status"] = "sent"
            exchange.set_json(data)

    return Rewrite(app, after=after)


def update_shows_old_amount(app: ASGIApp, api_key: str) -> ASGIApp:
    """An update of a pending or scheduled payout that changes its amount answers 200 showing the old amount, and
    stores nothing (the mock's change is undone): reply and read-back agree, the request is ignored."""

    class KeepOld(Rewrite):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] != "PUT" or not _is_payout_path(scope["path"]):
                await super().__call__(scope, receive, send)
                return
            body = await _read_body(receive)
            data = _json_or_none(body)
            asked = data.get("amount") if isinstance(data, dict) else None
            last = scope["path"].rstrip("/").rsplit("/", 1)[-1]
            payout = None
            if type(asked) is int and _carries_key(scope, api_key) and last.isascii() and last.isdigit():
                payout = await _stored_payout(self.app, scope, int(last), api_key)
            exchange = await _call(self.app, scope, body)
            old = payout.get("amount") if payout is not None else None
            if type(old) is int and old != asked and 200 <= exchange.status < 300:
                await _call(self.app, dict(scope), json.dumps({"amount": old}).encode())  # undo: store nothing
                reply = exchange.json()
                shown = reply.get("v1/payout") if isinstance(reply, dict) else None
                if isinstance(shown, dict):
                    shown["amount"] = old
                    exchange.set_json(reply)
            await _answer(send, exchange)

    return KeepOld(app)


# How far ahead of this machine's clock `schedule_soon` schedules every dated start (the frozen mock's clock is at or
# behind it, so the date stays in the mock's future and the payout is `scheduled`).
SOON_SECONDS = 3600


def schedule_soon(app: ASGIApp, api_key: str) -> ASGIApp:
    """A start schedules every item with a `scheduled_at` an hour from now, whatever date it asked (2099 included):
    answered and read back `scheduled`, at a time the caller did not choose."""

    def before(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
        if scope["method"] != "PUT" or scope["path"].rstrip("/") != "/v1/payouts/start":
            return scope, body
        items = _start_items(body)
        if items is None:
            return scope, body
        soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + SOON_SECONDS))
        for item in items:
            if item.get("scheduled_at") is not None:
                item["scheduled_at"] = soon
        return scope, json.dumps(items).encode()

    return Rewrite(app, before=before)


def _other_currency(iso: object) -> str | None:
    """The other currency of the spec's two (`CurrencyInput.iso`: XOF, GNF), or None for no such code."""
    return {"XOF": "GNF", "GNF": "XOF"}.get(iso) if isinstance(iso, str) else None


def stores_other_currency(app: ASGIApp, api_key: str) -> ASGIApp:
    """A create stores the payout in the other currency (XOF asked, GNF stored, or the reverse), while its reply shows
    the currency asked: only a read-back that embeds the currency (`include=currency`) can tell."""

    class OtherCurrency(_StoresOther):
        def stored(self, asked: dict[str, Any]) -> dict[str, Any] | None:
            currency = asked.get("currency")
            if not isinstance(currency, dict):
                return None
            other = _other_currency(currency.get("iso"))
            return None if other is None else {**asked, "currency": {**currency, "iso": other}}

        def shown_as_asked(self, asked: dict[str, Any], payout: dict[str, Any]) -> bool:
            shown = payout.get("currency")
            if not isinstance(shown, dict):
                return False
            shown["iso"] = asked["currency"]["iso"]
            return True

    return OtherCurrency(app)


Variant = Callable[[ASGIApp, str], ASGIApp]

# name -> (wrapper, the checks expected to catch it). The teeth test asserts each variant fails the
# suite AND that these checks are among the ones that fail, so the README table cannot go stale.
VARIANTS: dict[str, tuple[Variant, frozenset[str]]] = {
    "no_envelope": (no_envelope, frozenset({"response_schema_conformance"})),
    "auth_ignored": (auth_ignored, frozenset({"ignored_auth"})),
    "server_error_on_unknown_id": (server_error_on_unknown_id, frozenset({"not_a_server_error"})),
    "required_field_dropped": (required_field_dropped, frozenset({"response_schema_conformance"})),
    "refused_start_changes_status": (refused_start_changes_status, frozenset({"refused_start_keeps_pending"})),
    "create_returns_200": (create_returns_200, frozenset({"status_code_conformance"})),
    "create_skips_validation": (create_skips_validation, frozenset({"negative_data_rejection"})),
    "delete_keeps_payout": (delete_keeps_payout, frozenset({"use_after_free"})),
    "wrong_content_type": (wrong_content_type, frozenset({"content_type_conformance"})),
    "rejects_merchant_reference": (rejects_merchant_reference, frozenset({"positive_data_acceptance"})),
    "wrong_status_for_undeclared_method": (wrong_status_for_undeclared_method, frozenset({"unsupported_method"})),
    "start_twice_accepted": (start_twice_accepted, frozenset({"accepted_start_was_startable"})),
    "start_does_nothing": (start_does_nothing, frozenset({"accepted_start_reads_back"})),
    "create_wrong_amount": (create_wrong_amount, frozenset({"create_reply_matches_request"})),
    "stores_other_amount": (stores_other_amount, frozenset({"created_payout_reads_back"})),
    "schedule_ignored": (schedule_ignored, frozenset({"accepted_start_reads_back"})),
    "update_ignored": (update_ignored, frozenset({"accepted_update_reads_back"})),
    "status_sent_at_create": (status_sent_at_create, frozenset({"new_payout_is_pending"})),
    "update_shows_old_amount": (update_shows_old_amount, frozenset({"accepted_update_reads_back"})),
    "schedule_soon": (schedule_soon, frozenset({"accepted_start_reads_back"})),
    "stores_other_currency": (stores_other_currency, frozenset({"created_payout_reads_back"})),
}
