"""The payout operations: parse and validate a request, act on the store, build the reply.

Handlers are plain functions with no awaits, so each one runs atomically on the event loop.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .forms import MalformedFormError, decode_form
from .options import KEY_RE
from .spec import Operation
from .store import EMBEDDABLE, PayoutStore, StoreError
from .validation import FieldErrors, OperationValidators, json_type
from .wire import MalformedJSONError, dumps, error_body, loads, payout_envelope, payouts_envelope

FORM_TYPE = "application/x-www-form-urlencoded"
_FORM_TYPE_BYTES = FORM_TYPE.encode("ascii")  # matched on the raw header (ASCII case folding, as on latin-1 text)
_JSON_TYPE_BYTES = b"application/json"
# What a list request without `per_page` gets when the spec gives no default.
DEFAULT_PER_PAGE = 25
# `options.KEY_RE` for the `Authorization` header's raw bytes (the pattern is ASCII: the same matches as on
# latin-1 text); group 1 is the API key. The app authenticates with it, idempotency scopes by it.
API_KEY_BYTES = re.compile(KEY_RE.pattern.encode("ascii"))


@dataclass(slots=True)
class Request:
    validators: OperationValidators
    path_params: dict[str, str]
    query: dict[str, str]
    headers: dict[bytes, bytes]  # as the ASGI server gives them: lower-case names, raw values
    body: bytes

    def header(self, name: bytes, default: str = "") -> str:
        """A header's value as text (latin-1, as HTTP/1.1 carries it), or `default` when it is not sent."""
        value = self.headers.get(name)
        return default if value is None else value.decode("latin-1")


@dataclass(slots=True)
class Reply:
    status: int
    payload: dict[str, Any] | None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class Rejected(Exception):
    """Ends a handler with an error reply."""

    def __init__(self, status: int, message: str, errors: FieldErrors | None = None) -> None:
        super().__init__(message)
        self.reply = Reply(status, error_body(message, errors))


def _not_found(errors: FieldErrors | None = None) -> Rejected:
    return Rejected(404, "No payout with this id.", errors or {"id": ["no payout with this id"]})


def _payout_id(request: Request) -> int:
    """The path id; anything that is not a valid id is an unknown payout (404)."""
    value, problems = request.validators.path["id"].parse(request.path_params.get("id"))
    if problems or not isinstance(value, int):
        raise _not_found()
    return value


def _body(request: Request) -> Any:
    return _parse_body(request.validators, request.headers, request.body)


def _is_form(headers: Mapping[bytes, bytes]) -> bool:
    """Whether the body says it is a form (`application/x-www-form-urlencoded`, in any case)."""
    content_type = headers.get(b"content-type")
    return (
        content_type != _JSON_TYPE_BYTES  # what almost every request says: no need to fold its case
        and content_type is not None
        and content_type[:33].lower().startswith(_FORM_TYPE_BYTES)
    )


def _parse_body(validators: OperationValidators, headers: Mapping[bytes, bytes], raw: bytes) -> Any:
    """The body, parsed (JSON, or a form when it says so) and validated against the operation's schema."""
    if not raw or raw.isspace():
        raise Rejected(400, "A request body is required.", {"body": ["is required"]})
    if _is_form(headers):
        assert validators.body is not None
        try:
            value: Any = validators.body.coerce_form(decode_form(raw))
        except (MalformedFormError, ValueError) as exc:
            raise Rejected(400, "The form body is malformed.", {"body": [str(exc)]}) from None
    else:
        try:
            value = loads(raw)
        except MalformedJSONError as exc:
            raise Rejected(400, "The body is not valid JSON.", {"body": [json_problem(exc)]}) from None
    if validators.body_is_valid(value):  # the common case: no error to walk
        return value
    assert validators.body is not None
    outcome = validators.body.validate(value)
    if outcome.errors:
        status = 400 if outcome.shape else validators.invalid_status
        raise Rejected(status, "The request is invalid.", outcome.errors)
    return value


def json_problem(exc: MalformedJSONError) -> str:
    """What is wrong with a JSON body, for its 400: the parser's words, except Python's advice to the server's
    operator for an integer of more than `sys.get_int_max_str_digits()` digits, which says nothing to a client."""
    text = str(exc)
    if "set_int_max_str_digits" in text or "integer string conversion" in text:
        return f"the number has too many digits (at most {sys.get_int_max_str_digits()})"
    return text[:200]


def _object(body: Any, field: str = "body") -> dict[str, Any]:
    """`body` when it is a JSON object, the only kind the handlers read. A spec whose body schema does not say
    `type: object` (common in OpenAPI files) lets any JSON value through its validation: refused here, 400
    naming the body, never a 500."""
    if type(body) is not dict:
        problem = {field: [f"must be object, not {json_type(body)}"]}
        raise Rejected(400, "The request body is not the expected shape.", problem)
    return body


def _include(request: Request, body: Any = None) -> frozenset[str]:
    return _embedded(request.query, body)


def _embedded(query: Mapping[str, str], body: Any = None) -> frozenset[str]:
    """The objects `include` asks to embed (query parameter, or create's body field); others ignored."""
    raw = query.get("include")
    if raw is None and isinstance(body, dict):
        raw = body.get("include")
    if not isinstance(raw, str) or not raw:
        return frozenset()
    return frozenset(name.strip() for name in raw[:255].split(",")) & EMBEDDABLE


def _query(request: Request) -> dict[str, Any]:
    values, errors = request.validators.validate_query(request.query)
    if errors:
        raise Rejected(request.validators.invalid_status, "A query parameter is invalid.", errors)
    return values


def _scoped(key: str, authorization: bytes, account: bytes) -> str:
    """An Idempotency-Key belongs to one API key and one `FedaPay-Account`: another caller sending the same
    key gets its own payout, never this one, and the same caller gets its payout back however it spells the
    scheme (`bearer  sk_...` is `Bearer sk_...`).

    The scope is a digest of the JSON array [API key, whole account, key]: no separator a value can hold
    makes two callers' scopes meet, and the API key is kept only as a digest.
    """
    found = API_KEY_BYTES.match(authorization)
    api_key = found.group(1) if found is not None else authorization
    scope = dumps([api_key.decode("latin-1"), account.decode("latin-1"), key])
    return hashlib.sha256(scope).hexdigest()


def create_payout(store: PayoutStore, request: Request) -> Reply:
    return Reply(201, create(store, request.validators, request.query, request.headers, request.body))


def create(
    store: PayoutStore,
    validators: OperationValidators,
    query: Mapping[str, str],
    headers: Mapping[bytes, bytes],
    raw: bytes,
) -> dict[str, Any]:
    """`create_payout` on the request's parts (the app calls it directly: no `Request`): the 201's payload."""
    values, errors = validators.validate_headers(headers)
    if errors:
        raise Rejected(validators.invalid_status, "A header is invalid.", errors)
    body = _parse_body(validators, headers, raw)
    if type(body) is not dict:
        _object(body)
    key = values.get("Idempotency-Key")
    account = headers.get(b"fedapay-account")
    account_id = int(account) if account is not None and account.isdigit() and len(account) < 16 else None
    wire, _replayed = store.create(
        body,
        idempotency_key=_idempotency_key(key, headers) if key else None,
        fingerprint=dumps(body, sort_keys=True) if key is not None else b"",
        account_id=account_id,
        # Embedding is asked for by name: no `include` anywhere, nothing to read.
        include=_embedded(query, body) if query or (type(body) is dict and "include" in body) else _NOTHING,
    )
    return payout_envelope(wire)


_NOTHING: frozenset[str] = frozenset()


def _idempotency_key(key: str, headers: Mapping[bytes, bytes]) -> str:
    """The stored key: `key` scoped to the caller's API key and `FedaPay-Account` (`_scoped`)."""
    return _scoped(key, headers.get(b"authorization", b""), headers.get(b"fedapay-account", b""))


def list_payouts(store: PayoutStore, request: Request) -> Reply:
    values = _query(request)
    items, meta = store.page(
        page=values.get("page") or 1,
        per_page=values.get("per_page") or DEFAULT_PER_PAGE,
        status=values.get("status"),
        merchant_reference=request.query.get("merchant_reference"),
        include=_include(request),
    )
    return Reply(200, payouts_envelope(items, meta))


def search_payouts(store: PayoutStore, request: Request) -> Reply:
    values = _query(request)
    items, meta = store.page(
        page=values.get("page") or 1,
        per_page=values.get("per_page") or DEFAULT_PER_PAGE,
        status=values.get("status"),
        search=values.get("search"),
        include=_include(request),
    )
    return Reply(200, payouts_envelope(items, meta))


def retrieve_payout(store: PayoutStore, request: Request) -> Reply:
    wire = store.get(_payout_id(request), _include(request))
    if wire is None:
        raise _not_found()
    return Reply(200, payout_envelope(wire))


def update_payout(store: PayoutStore, request: Request) -> Reply:
    payout_id = _payout_id(request)
    changes = _object(_body(request))
    wire = store.update(payout_id, changes, form=_is_form(request.headers))
    if wire is None:
        raise _not_found()
    return Reply(200, payout_envelope(wire))


def delete_payout(store: PayoutStore, request: Request) -> Reply:
    wire = store.delete(_payout_id(request))
    if wire is None:
        raise _not_found()
    return Reply(200, payout_envelope(wire))


def start_payouts(store: PayoutStore, request: Request) -> Reply:
    return Reply(200, start(store, request.validators, request.query, request.headers, request.body))


def start(
    store: PayoutStore,
    validators: OperationValidators,
    query: Mapping[str, str],
    headers: Mapping[bytes, bytes],
    raw: bytes,
) -> dict[str, Any]:
    """`start_payouts` on the request's parts (the app calls it directly): the 200's payload."""
    body = _parse_body(validators, headers, raw)
    items, prefix = (body, "") if type(body) is list else (_object(body).get("payouts") or [], "payouts")
    if type(items) is not list:  # a spec that does not make `payouts` an array of objects: never a 500
        problem = {prefix: [f"must be array, not {json_type(items)}"]}
        raise Rejected(validators.invalid_status, "The request is invalid.", problem)
    for index, item in enumerate(items):
        if type(item) is not dict:
            problem = {f"{prefix}[{index}]": [f"must be object, not {json_type(item)}"]}
            raise Rejected(validators.invalid_status, "The request is invalid.", problem)
    return payouts_envelope(store.start(items, field_prefix=prefix))


Handler = Callable[[PayoutStore, Request], Reply]
# The operations the app runs without building a `Request` or a `Reply` (the busiest): the handler on the
# request's parts, returning the payload of a success, raising `Rejected` or `StoreError`.
Direct = Callable[[PayoutStore, OperationValidators, Mapping[str, str], Mapping[bytes, bytes], bytes], dict[str, Any]]


def dispatch(handler: Handler, store: PayoutStore, request: Request) -> Reply:
    """Run a handler; where a refusal (the handler's own or the store's) becomes a reply (`refusal`)."""
    try:
        return handler(store, request)
    except (Rejected, StoreError) as exc:
        return refusal(exc)


def refusal(exc: Rejected | StoreError) -> Reply:
    """The reply of a handler's or the store's refusal."""
    if isinstance(exc, Rejected):
        return exc.reply
    return Reply(exc.status, error_body(exc.message, exc.errors))


def not_implemented(operation: Operation) -> Handler:
    """The handler of an operation the spec has and the mock does not: 501 with FedaPay's error body."""
    label = f"{operation.method} {operation.path}"
    reply = Reply(
        501,
        error_body(
            f"The mock does not implement {operation.operation_id} ({label}) yet.",
            {"operation": [f"{operation.operation_id} is in the spec but has no handler in fedapay_mock"]},
        ),
    )

    def handler(store: PayoutStore, request: Request) -> Reply:
        return Reply(reply.status, reply.payload, list(reply.headers))

    return handler


HANDLERS: dict[str, Handler] = {
    "create_payout": create_payout,
    "list_payouts": list_payouts,
    "retrieve_payout": retrieve_payout,
    "search_payouts": search_payouts,
    "update_payout": update_payout,
    "delete_payout": delete_payout,
    "start_payouts": start_payouts,
}
# What the handlers read from their operation in the spec: the path parameter `id`, a JSON body schema.
NEEDS_PATH_ID = frozenset({"retrieve_payout", "update_payout", "delete_payout"})
NEEDS_BODY = frozenset({"create_payout", "update_payout", "start_payouts"})


def unserved(operations: Iterable[Operation]) -> str | None:
    """Why the handlers cannot serve these operations of a spec (one line), or None: checked at start-up, so
    a spec without what a handler reads stops the mock instead of answering 500 to every such request."""
    for op in operations:
        where = f"paths.{op.path}.{op.method.lower()}"
        if op.operation_id in NEEDS_PATH_ID and not any(p.name == "id" and p.location == "path" for p in op.parameters):
            return f"{where}: {op.operation_id} needs a path parameter named id"
        if op.operation_id in NEEDS_BODY and op.body_schema is None:
            return f"{where}: {op.operation_id} needs a requestBody with an application/json schema"
    return None


# Success statuses of the direct handlers, by operation id.
DIRECT: dict[str, tuple[Direct, int]] = {"create_payout": (create, 201), "start_payouts": (start, 200)}
