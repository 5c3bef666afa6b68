"""`client.payouts`: every payouts operation, written once.

`PayoutOperations` validates arguments, builds the request and describes the call (`_retry.Call`);
each method returns the operation's steps (events for a driver, see `_retry.py`). `Payouts` and
`AsyncPayouts` are generated from it by `_sync` / `_async`, so the two twins have exactly the same
signatures and docstrings and nothing to drift. A client is seen only through `_core.SyncCore` /
`_core.AsyncCore` (request building, the retry policy, `drive`): the layers are listed in `_core.py`.
"""

from __future__ import annotations

import builtins
import datetime
import functools
import time
import unicodedata
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, Final, ParamSpec, TypeVar, Unpack

import httpx
from fedapay_payouts_api.models.payout import Payout
from fedapay_payouts_api.models.phone_number import PhoneNumber
from fedapay_payouts_api.types import Unset

from . import _validation as check
from ._config import NOT_GIVEN, NotGiven, TimeoutTypes
from ._deadline import check_deadline
from ._evidence import CLOCK_TOLERANCE, Finding, Verdict, as_asked, judge_start, start_reply_problem
from ._exceptions import (
    APIError,
    APIResponseValidationError,
    InvalidArgumentError,
    NotFoundError,
    PayoutOutcomeUnknownError,
)
from ._operations import CONSERVATIVE, Prepared, operation, prepare, retry_class
from ._pagination import PageWalker, PayoutPage
from ._raw import RawResponse
from ._retry import CLEAN, NOT_DONE, Call, NotDone, RetryPolicy, Steps, run
from ._types import PhoneNumberParams, StartItem
from ._validation import rule
from ._wallets import same_wallet
from ._wire import delete_reply_problem, read_page, read_payout, read_payouts, read_reply, server_text

if TYPE_CHECKING:
    from fedapay_payouts_api.api.payouts.create_payout import CreatePayoutParams
    from fedapay_payouts_api.api.payouts.list_payouts import ListPayoutsParams
    from fedapay_payouts_api.api.payouts.search_payouts import SearchPayoutsParams
    from fedapay_payouts_api.api.payouts.update_payout import UpdatePayoutBody
    from fedapay_payouts_api.client import Operation

    from ._core import AsyncCore, Core, SyncCore

__all__ = ["AsyncPayouts", "AsyncPayoutsWithRawResponse", "PayoutOperations", "Payouts", "PayoutsWithRawResponse"]

P = ParamSpec("P")
R = TypeVar("R")

PENDING: Final = "pending"


def _same_name(stated: object, asked: object) -> bool:
    """Two names or emails the same up to case, spacing and Unicode form (a server may tidy what it stores)."""
    def tidy(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()

    return not (isinstance(stated, str) and isinstance(asked, str)) or tidy(stated) == tidy(asked)


def _who_differs(payout: Payout, body: Mapping[str, Any]) -> str | None:
    """Whether a reply's payout pays someone else, or in another currency, than the request named: another mode
    (the network paid through), another currency, another existing customer, or a new customer of another name
    or email. Only a value the reply states is compared (a server that leaves a field out says nothing about it;
    `currency` and `customer` are stated when the call asked for them with `include=`)."""
    mode = body.get("mode")
    if isinstance(mode, str) and isinstance(payout.mode, str) and payout.mode != mode:
        return f"with a payout in mode {payout.mode!r}, not {mode!r} as asked"
    currency = body.get("currency")
    iso = currency.get("iso") if isinstance(currency, Mapping) else None
    stated_iso = None if isinstance(payout.currency, Unset) else payout.currency.iso
    if isinstance(iso, str) and isinstance(stated_iso, str) and stated_iso.upper() != iso.upper():
        return f"with a payout in {stated_iso!r}, not {iso!r} as asked"
    customer = body.get("customer")
    if not isinstance(customer, Mapping):
        return None
    customer_id = customer.get("id")
    stated_customer = payout.customer
    if isinstance(customer_id, int):
        shown_ids = {payout.customer_id} | (set() if isinstance(stated_customer, Unset) else {stated_customer.id})
        other = next((shown for shown in shown_ids if isinstance(shown, int) and shown != customer_id), None)
        if other is not None:
            return f"with a payout to customer {other}, not customer {customer_id} as asked"
    elif not isinstance(stated_customer, Unset):
        for field in ("firstname", "lastname", "email"):
            if not _same_name(getattr(stated_customer, field), customer.get(field)):
                return f"with a payout to a customer of another {field} than asked"
        if not same_wallet(stated_customer.additional_properties.get("phone_number"), customer.get("phone_number")):
            return "with a payout to a customer of another phone number than asked"
    return None


def _passed_by(scheduled: object, seconds: float) -> bool:
    """Whether a wire `scheduled_at` (UTC, as the client sends it) is no longer in the future `seconds` from now."""
    if not isinstance(scheduled, str):
        return False
    try:
        when = datetime.datetime.fromisoformat(scheduled)
    except ValueError:
        return False
    return when.tzinfo is not None and when.timestamp() <= time.time() + seconds


def _shown_date(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime.datetime) else "no date"


def _mismatch(response: httpx.Response, problem: str) -> APIResponseValidationError:
    """A success reply that does not answer what was asked (a stale or foreign reply, a broken server). The
    problem quotes what the server sent (an id, a status, a mode): redacted first, then cut, as every server text."""
    request = response.request
    return APIResponseValidationError(
        f"{request.method} {request.url.path} replied {response.status_code} but {server_text(problem, response)}",
        response=response,
    )


class PayoutCall(Call[Payout]):
    """A call answered by one payout; `expected_id`, when known, must be the payout's id."""

    expected_id: int | None = None

    def read(self, response: httpx.Response) -> Payout:
        payout = read_payout(response)
        if self.expected_id is not None and payout.id != self.expected_id:
            raise _mismatch(response, f"with payout {payout.id!r}, not payout {self.expected_id} as asked")
        self.check(response, payout)
        self.response = response
        return payout

    def check(self, response: httpx.Response, payout: Payout) -> None:
        """Further checks of the reply against the request (none by default)."""


class CreateCall(PayoutCall):
    operation = "create_payout"
    mutating = True

    def __init__(self, request: httpx.Request, key: str, body: dict[str, Any]) -> None:
        super().__init__(request)
        self.key = key
        self.amount: int = body["amount"]
        self.merchant_reference: str | None = body.get("merchant_reference")
        self.body = body

    def check(self, response: httpx.Response, payout: Payout) -> None:
        # With an Idempotency-Key the server may answer with the payout the key first created: it must be
        # the one this call describes, or the key was reused for something else.
        if payout.amount != self.amount:
            raise _mismatch(response, f"with a payout of amount {payout.amount!r}, not {self.amount} as asked")
        stated = payout.merchant_reference  # FedaPay's payouts may not carry it: only a stated one is compared
        if self.merchant_reference is not None and isinstance(stated, str) and stated != self.merchant_reference:
            raise _mismatch(response, "with a payout of another merchant_reference than asked")
        problem = _who_differs(payout, self.body)
        if problem:
            raise _mismatch(response, problem)

    def outcome_unknown(self, cause: APIError) -> PayoutOutcomeUnknownError:
        find = (
            f" or look for merchant_reference={self.merchant_reference!r} in client.payouts.list()"
            if self.merchant_reference
            else " (pass merchant_reference= to be able to find it yourself)"
        )
        return PayoutOutcomeUnknownError(
            f"create_payout: a payout may have been created, but no reply confirmed it ({cause.message}). "
            f"To check, call create again with idempotency_key={self.key!r}: it returns the existing payout "
            f"instead of creating another{find}.",
            request=self.request,
            operation=self.operation,
            idempotency_key=self.key,
            merchant_reference=self.merchant_reference,
        )


class RetrieveCall(PayoutCall):
    operation = "retrieve_payout"

    def __init__(self, request: httpx.Request, payout_id: int) -> None:
        super().__init__(request)
        self.expected_id = payout_id


class UpdateCall(PayoutCall):
    operation = "update_payout"
    mutating = True

    def __init__(self, request: httpx.Request, payout_id: int, body: dict[str, Any]) -> None:
        super().__init__(request)
        self.payout_id = self.expected_id = payout_id
        self.amount: int | None = body.get("amount")
        self.body = body

    def stale_after(self, seconds: float) -> str | None:
        asked_at = self.body.get("scheduled_at")
        if _passed_by(asked_at, seconds):
            return (f"the scheduled time {asked_at} of payout {self.payout_id} will have passed after a {seconds:g} s"
                    " wait")
        return None

    def check(self, response: httpx.Response, payout: Payout) -> None:
        if self.amount is not None and payout.amount != self.amount:
            raise _mismatch(response, f"with amount {payout.amount!r}, not {self.amount} as asked")
        # Only what the reply states is compared (a field it leaves out says nothing).
        reference, stated = self.body.get("merchant_reference"), payout.merchant_reference
        if isinstance(reference, str) and isinstance(stated, str) and stated != reference:
            raise _mismatch(response, "with another merchant_reference than asked")
        asked_at = self.body.get("scheduled_at")
        if isinstance(asked_at, str) and not isinstance(payout.scheduled_at, Unset) and not as_asked(
            payout.scheduled_at, asked_at
        ):
            raise _mismatch(response, f"scheduled at {_shown_date(payout.scheduled_at)}, not at {asked_at} as asked")
        problem = _who_differs(payout, self.body)
        if problem:
            raise _mismatch(response, problem)

    def outcome_unknown(self, cause: APIError) -> PayoutOutcomeUnknownError:
        return PayoutOutcomeUnknownError(
            f"update_payout: payout {self.payout_id} may have been updated, but no reply confirmed it "
            f"({cause.message}). Check with client.payouts.retrieve({self.payout_id}).",
            request=self.request, operation=self.operation, payout_ids=[self.payout_id],
        )


class DeleteCall(Call[None]):
    """Delete a payout. After an attempt that may have acted, the payout is looked up before trying
    again: still there -> that attempt did nothing, delete again; gone -> this call cannot tell "an
    earlier attempt deleted it" from "it never existed", and says so (`PayoutOutcomeUnknownError`)."""

    operation = "delete_payout"
    mutating = True

    def __init__(self, policy: RetryPolicy, payout_id: int, request: httpx.Request, lookup: httpx.Request) -> None:
        self.policy = policy  # for the look-up after an attempt that may have acted
        self.payout_id = payout_id
        self.lookup = lookup
        self.found: str | None = None
        super().__init__(request)

    def read(self, response: httpx.Response) -> None:
        """Success: no body (FedaPay's documented 204), or JSON that does not say otherwise
        (`_wire.delete_reply_problem`: `[]` and `{}` as FedaPay's PHP library's own tests answer, the payout
        asked marked deleted...)."""
        problem = delete_reply_problem(response, self.payout_id)
        if problem:
            raise _mismatch(response, problem)

    def recheck(self) -> Steps[NotDone | None]:
        lookup = RetrieveCall(self.lookup, self.payout_id)
        try:
            payout = yield from run(lookup, self.policy)
        except NotFoundError as exc:
            self.found = "not found: deleted by an earlier attempt of this call, or absent when the call began"
            raise self.outcome_unknown(exc) from exc
        except APIError as exc:
            raise self.outcome_unknown(exc) from exc
        except InvalidArgumentError as exc:  # the caller's `sleep=` failed between two look-ups
            self.found = f"the look-up could not finish ({exc})"
            raise self.outcome_unknown(None) from exc
        deleted = payout.deleted_at
        if isinstance(deleted, datetime.datetime) and deleted.tzinfo is not None:
            if deleted.timestamp() >= self.window.began - CLOCK_TOLERANCE:
                return None  # soft-deleted after this call began: the earlier attempt did it
            self.found = f"deleted at {deleted.isoformat()}, before this call began"
            raise self.outcome_unknown(None)
        return CLEAN  # still there: the earlier attempt deleted nothing

    def recover(self, response: httpx.Response) -> Steps[NotDone | None]:
        # A 422 ("cannot be deleted": started meanwhile, say) after an attempt that may have acted: a look-up
        # finding the payout still there proves that attempt deleted nothing, and the 422 is the answer.
        if response.status_code != 422:
            return NOT_DONE
        return (yield from self.recheck())

    def outcome_unknown(self, cause: APIError | None) -> PayoutOutcomeUnknownError:
        why = f" ({cause.message})" if cause is not None else ""
        found = f" Found: {self.found}." if self.found else ""
        return PayoutOutcomeUnknownError(
            f"delete_payout: payout {self.payout_id} may have been deleted, but no reply confirmed it{why}.{found} "
            f"Check with client.payouts.retrieve({self.payout_id}) (404: it no longer exists).",
            request=self.request, operation=self.operation, payout_ids=[self.payout_id],
            found={self.payout_id: self.found} if self.found else None,
        )


class ListCall(Call[PayoutPage]):
    operation = "list_payouts"

    def __init__(self, request: httpx.Request, page: int, per_page: int, status: str | None) -> None:
        super().__init__(request)
        self.page = page
        self.per_page = per_page
        self.status = status

    def read(self, response: httpx.Response) -> PayoutPage:
        items, meta = read_page(response)
        if self.status is not None:
            for payout in items:
                if payout.status != self.status:
                    raise _mismatch(
                        response, f"with payout {payout.id} in status {payout.status!r}, not {self.status!r} as asked"
                    )
        return PayoutPage(items, meta, page=self.page, per_page=self.per_page)


class SpecCall(Call[Any]):
    """Any operation of the spec, by its retry class (`_operations.RETRY_CLASS`); conservative when unnamed.
    An operation a method of its own calls (create, start, retrieve, update, delete, list, search) has its reply
    checked as that method checks it (`checker`): `call()` never takes for success what the method would not."""

    def __init__(self, request: httpx.Request, op: Operation, retry: str, checker: Call[Any] | None = None) -> None:
        super().__init__(request)
        self.op = op
        self.operation = op.id
        reads = retry == "safe" or (retry == CONSERVATIVE and op.method == "GET")
        self.mutating = not reads
        # Only operations whose retry is proven safe are retried after an attempt that may have acted.
        self.retry_maybe_acted = reads or retry == "same values"
        self.checker = checker

    def read(self, response: httpx.Response) -> Any:
        """The spec's reply model; for an operation with its own method, a reply of a shape only that method reads
        (FedaPay's bare objects and arrays, delete's empty body or `[]`) is what the method returns (a `Payout`, a
        list, a `PayoutPage`, None): the method took it for success, so does `call()`."""
        if self.checker is None:
            return read_reply(response, self.op.reply)
        checked = self.checker.read(response)  # raises when the reply does not answer the request
        try:
            return read_reply(response, self.op.reply)
        except APIResponseValidationError:
            return checked

    def stale_after(self, seconds: float) -> str | None:
        return None if self.checker is None else self.checker.stale_after(seconds)

    def outcome_unknown(self, cause: APIError) -> PayoutOutcomeUnknownError:
        key = self.request.headers.get("Idempotency-Key")
        check = (
            f"Call it again with idempotency_key={key!r}: the server returns what the first call did instead of "
            "doing it twice."
            if key is not None
            else "Check the resources it acts on before calling it again."
        )
        return PayoutOutcomeUnknownError(
            f"{self.operation}: {self.request.method} {self.request.url.path} may have taken effect on the server, "
            f"but no reply confirmed it ({cause.message}); it was not sent again. {check}",
            request=self.request, operation=self.operation, idempotency_key=key,
        )


class StartCall(Call[builtins.list[Payout]]):
    """Start payouts; after an attempt that may have acted, judge what the server shows (`_evidence.py`)."""

    operation = "start_payouts"
    mutating = True

    def __init__(
        self, client: Core, items: builtins.list[dict[str, Any]], request: httpx.Request,
        timeout: TimeoutTypes | NotGiven,
    ) -> None:
        self.policy = client.retry_policy  # for the look-ups after an attempt that may have acted
        self.ids: builtins.list[int] = [item["id"] for item in items]
        self.asked: dict[int, str | None] = {item["id"]: item.get("scheduled_at") for item in items}
        self.findings: builtins.list[Finding] = []
        self.lookups = {
            payout_id: client.build_request("GET", f"/payouts/{payout_id}", timeout=timeout)
            for payout_id in self.ids
        }
        super().__init__(request)

    def stale_after(self, seconds: float) -> str | None:
        passed = [f"payout {payout_id} at {at}" for payout_id, at in self.asked.items() if _passed_by(at, seconds)]
        if passed:
            return f"the scheduled time of {', '.join(passed)} will have passed after a {seconds:g} s wait"
        return None

    def read(self, response: httpx.Response) -> builtins.list[Payout]:
        """Exactly the payouts asked, each once, each in a state a start produces; in the order asked."""
        by_id: dict[int, Payout] = {}
        for payout in read_payouts(response):
            if payout.id not in self.asked:
                raise _mismatch(response, f"with payout {payout.id!r}, which was not asked to start")
            if payout.id in by_id:
                raise _mismatch(response, f"with payout {payout.id} twice")
            problem = start_reply_problem(payout, self.asked[payout.id])
            if problem:
                raise _mismatch(response, f"with payout {payout.id} {problem}")
            by_id[payout.id] = payout
        missing = [i for i in self.ids if i not in by_id]
        if missing:
            raise _mismatch(response, f"without payouts {missing}, which were asked to start")
        return [by_id[i] for i in self.ids]

    def recheck(self) -> Steps[builtins.list[Payout] | NotDone]:
        """Retrieve every payout asked and judge each; finish, send again unchanged, or raise."""
        self.findings = []
        for payout_id in self.ids:
            lookup = RetrieveCall(self.lookups[payout_id], payout_id)
            try:
                payout = yield from run(lookup, self.policy)
            except APIError as exc:
                raise self.outcome_unknown(exc) from exc
            except InvalidArgumentError as exc:  # the caller's `sleep=` failed between two look-ups
                raise self.outcome_unknown(None) from exc
            self.window.note_server_date(lookup.response)
            self.findings.append(judge_start(payout, self.asked[payout_id], self.window, time.time()))
        verdicts = {finding.verdict for finding in self.findings}
        if verdicts == {Verdict.OURS}:
            return [finding.payout for finding in self.findings if finding.payout is not None]
        if Verdict.PENDING in verdicts and verdicts <= {Verdict.PENDING, Verdict.BEFORE}:
            # Starts are all or nothing: a payout still pending means the lost attempt started none.
            # Sending the same request again gets the server's own answer (a 422 when one had left pending).
            return CLEAN
        raise self.outcome_unknown(None)

    def sending(self) -> None:
        # Findings describe the payouts before this attempt: once it goes out they may be wrong (it may start
        # them), and an unknown outcome must not quote "pending" from before it.
        self.findings = []

    def recover(self, response: httpx.Response) -> Steps[builtins.list[Payout] | NotDone]:
        # A 422 ("not pending") after an attempt that may have acted: did that attempt start them?
        if response.status_code != 422:
            return NOT_DONE
        return (yield from self.recheck())

    def outcome_unknown(self, cause: APIError | None) -> PayoutOutcomeUnknownError:
        found = {f.payout_id: f"{f.detail} ({f.verdict.value})" for f in self.findings}
        if cause is not None:
            why = f"may have been started, but no reply confirmed it ({cause.message})"
        else:
            why = "may or may not have been started by this call: a check after a lost reply cannot tell"
        seen = "; ".join(f"payout {i}: {text}" for i, text in found.items())
        return PayoutOutcomeUnknownError(
            f"start_payouts: payouts {self.ids} {why}.{' Found: ' + seen + '.' if seen else ''} "
            f"Nothing is claimed as done by this call. Check each with client.payouts.retrieve(id): "
            f"'pending' means not started (safe to start again), any other status means it was started or "
            f"scheduled (by this call or before it).",
            request=self.request, operation=self.operation, payout_ids=self.ids, found=found,
        )


@rule("ids are ints")
def _ids_given(payouts: object, name: str, *, single: bool = False) -> tuple[builtins.list[object], bool]:
    """`payouts` as a list of entries and whether a list was given: exactly an int id, a `StartItem`
    mapping, or a list or tuple of them (`single`: exactly an int id); bytes, strings, sets, generators are
    refused, never iterated."""
    if single and type(payouts) is not int:
        raise InvalidArgumentError(name, f"must be a payout id (int), got {type(payouts).__name__}")
    if isinstance(payouts, builtins.list | tuple):
        return builtins.list(payouts), True
    if type(payouts) is int or isinstance(payouts, Mapping):
        return [payouts], False
    what = "a payout id (int)" if name == "id" else "a payout id (int), a StartItem dict, or a list of them"
    raise InvalidArgumentError(name, f"must be {what}, got {type(payouts).__name__}")


@rule("ids are ints")
def _bare_id(entry: object, where: str) -> int:
    """An id given alone is exactly an int (not a bool, not a float, not bytes or a string of digits)."""
    if type(entry) is not int:
        raise InvalidArgumentError(where, f"must be a payout id (int) or a StartItem dict, got {type(entry).__name__}")
    return entry


@rule("future schedule")
def _schedule_given(at: object) -> None:
    """`schedule(id, None)` would send the payout now: refused, `send_now()` says that."""
    if at is None:
        raise InvalidArgumentError("at", "is required: when to send the payout (send_now() sends it now)")


@rule("one phone override")
def _one_phone(given: builtins.list[object], phone_number: object) -> None:
    if phone_number is not None and len(given) > 1:
        raise InvalidArgumentError(
            "phone_number", "overrides the number of one payout only: set it per payout in `payouts` instead"
        )


def _start_items(
    payouts: object, scheduled_at: Any, phone_number: Any, *, id_name: str = "payouts", at_name: str = "scheduled_at"
) -> tuple[builtins.list[dict[str, Any]], dict[str, str]]:
    """The start body's items, and how to name a field of the body in the caller's words (a bare id
    given at `payouts[1]` is named `payouts[1]`, not `payouts[1].id`). The spec checks the rest."""
    given, many = _ids_given(payouts, id_name)
    _one_phone(given, phone_number)
    default_when = None if scheduled_at is None else check.scheduled_at(scheduled_at, at_name)
    items: builtins.list[dict[str, Any]] = []
    rename: dict[str, str] = {}
    for index, entry in enumerate(given):
        where = f"payouts[{index}]" if many else id_name
        body_at = f"payouts[{index}]"
        if isinstance(entry, Mapping):
            check.start_item(entry, where)
            item: dict[str, Any] = dict(entry)
            if item.get("scheduled_at") is not None:
                item["scheduled_at"] = check.scheduled_at(item["scheduled_at"], f"{where}.scheduled_at")
        else:
            item = {"id": _bare_id(entry, where)}
            rename[f"{body_at}.id"] = where
        if item.get("scheduled_at") is None and default_when is not None:
            item["scheduled_at"] = default_when
            rename[f"{body_at}.scheduled_at"] = at_name
        if item.get("phone_number") is None and phone_number is not None:
            item["phone_number"] = phone_number
            rename[f"{body_at}.phone_number"] = "phone_number"
        items.append({key: value for key, value in item.items() if value is not None})
        rename.setdefault(body_at, where)
    rename.setdefault("payouts", id_name if not many else "payouts")
    return items, rename


def _only(payouts: builtins.list[Payout], payout_id: int) -> Payout:
    for payout in payouts:
        if payout.id == payout_id:
            return payout
    raise APIResponseValidationError(
        f"start_payouts replied without payout {payout_id}; it was started: retrieve it to see its status",
        request=None,
    )


class PayoutOperations:
    """Request building and call description for each payouts operation, from the spec (`_operations.py`).

    Every operation takes `deadline=` (seconds for the whole call: attempts, waits and checks; see
    `_deadline.py`), `timeout=` (per attempt), and the escape hatches `extra_headers=`,
    `extra_query=`, `extra_body=` (merged last, checked as JSON only: for what the spec does not
    declare yet). The `_sync` / `_async` wrappers take `deadline` out before calling the method and
    hand it to the driver that enforces it, so the bodies here never see it.
    """

    def __init__(self, client: Core) -> None:
        self._client = client
        self._policy = client.retry_policy

    def _request(self, prepared: Prepared, timeout: TimeoutTypes | NotGiven) -> httpx.Request:
        return self._client.build_request(
            prepared.method, prepared.path, body=prepared.body, params=prepared.query or None,
            headers=prepared.headers or None, timeout=timeout,
        )

    def create(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        **params: Unpack[CreatePayoutParams],
    ) -> Steps[Payout]:
        """Create a payout (status `pending`; nothing is sent until you start it).

        The keywords are the spec's body fields (`CreatePayoutParams`, generated): `amount`,
        `currency` (`"XOF"` or `{"iso": "XOF"}`), `mode`, `customer` (a new beneficiary
        `{"firstname", "lastname", "email", "phone_number"}`, or an existing one `{"id": ...}`),
        `description`, `merchant_reference`, `custom_metadata`, and any field FedaPay adds.

        `idempotency_key` (default: a new uuid4 per call) goes with every retry of this call, so a
        retry never creates a second payout. Pass your own to make a create safe to repeat across
        processes; pass `merchant_reference` to be able to find the payout yourself.
        """
        arguments: dict[str, Any] = dict(params)
        if arguments.get("idempotency_key") is None:
            arguments["idempotency_key"] = str(uuid.uuid4())
        prepared = prepare(
            operation("create_payout"), arguments,
            extra_body=extra_body, extra_query=extra_query, extra_headers=extra_headers,
        )
        key = prepared.headers["Idempotency-Key"]
        request = self._request(prepared, timeout)
        return run(CreateCall(request, key, prepared.body), self._policy)

    def start(
        self,
        payouts: int | StartItem | Sequence[int | StartItem],
        *,
        scheduled_at: Any = None,
        phone_number: PhoneNumberParams | PhoneNumber | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> Steps[builtins.list[Payout]]:
        """Start one or many pending payouts: send now, or at `scheduled_at` (an aware datetime or a string
        the spec accepts: ISO 8601, or FedaPay's `YYYY-MM-DD HH:MM:SS`).

        `payouts` is an id, a `StartItem` dict (`{"id", "scheduled_at", "phone_number"}`), or a list of
        them; `scheduled_at` applies to those without their own, `phone_number` (one payout only)
        overrides the beneficiary's number. Returns the payouts in the order given.
        """
        return self._start(payouts, scheduled_at, phone_number, timeout, extra_headers, extra_query, extra_body)

    def _start(
        self, payouts: object, scheduled_at: Any, phone_number: Any, timeout: TimeoutTypes | NotGiven,
        extra_headers: Mapping[str, str] | None, extra_query: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None, *, id_name: str = "payouts", at_name: str = "scheduled_at",
    ) -> Steps[builtins.list[Payout]]:
        items, rename = _start_items(payouts, scheduled_at, phone_number, id_name=id_name, at_name=at_name)
        prepared = prepare(
            operation("start_payouts"), {"body": {"payouts": items}}, rename=rename,
            extra_body=extra_body, extra_query=extra_query, extra_headers=extra_headers,
        )
        sent: builtins.list[dict[str, Any]] = prepared.body["payouts"]
        call = StartCall(self._client, sent, self._request(prepared, timeout), timeout)
        return run(call, self._policy)

    def send_now(
        self,
        id: int,
        *,
        phone_number: PhoneNumberParams | PhoneNumber | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> Steps[Payout]:
        """Start one pending payout now; returns it (status `started`, or already `sent`)."""
        _ids_given(id, "id", single=True)
        steps = self._start(id, None, phone_number, timeout, extra_headers, extra_query, extra_body, id_name="id")
        return _first(steps, id)

    def schedule(
        self,
        id: int,
        at: Any,
        *,
        phone_number: PhoneNumberParams | PhoneNumber | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> Steps[Payout]:
        """Schedule one pending payout at `at` (an aware datetime or a string the spec accepts); returns it."""
        _ids_given(id, "id", single=True)
        _schedule_given(at)
        steps = self._start(
            id, at, phone_number, timeout, extra_headers, extra_query, extra_body, id_name="id", at_name="at"
        )
        return _first(steps, id)

    def retrieve(
        self, id: int, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, deadline: float | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None, extra_query: Mapping[str, Any] | None = None,
    ) -> Steps[Payout]:
        """The payout with this id (`NotFoundError` if there is none)."""
        prepared = prepare(
            operation("retrieve_payout"), {"id": id}, extra_query=extra_query, extra_headers=extra_headers
        )
        return run(RetrieveCall(self._request(prepared, timeout), id), self._policy)

    def list(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        **params: Unpack[ListPayoutsParams],
    ) -> Steps[PayoutPage]:
        """One page of payouts, newest first: `page` (from 1), `per_page` (25), `status` (a `PayoutStatus`: pending,
        scheduled, started, processing, sent, failed, or a newer one), any filter the spec adds."""
        return self._page("list_payouts", dict(params), timeout, extra_headers, extra_query)

    def search(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        **params: Unpack[SearchPayoutsParams],
    ) -> Steps[PayoutPage]:
        """One page of the payouts matching `search` (FedaPay's "Search your payouts", what PHP's
        `Payout::search` and Ruby's `Payout.search` call): a merchant reference or a reference finds its
        payout. Which fields FedaPay matches is not documented (see the spec's overlay 12)."""
        return self._page("search_payouts", dict(params), timeout, extra_headers, extra_query)

    def _page(
        self,
        operation_id: str,
        params: dict[str, Any],
        timeout: TimeoutTypes | NotGiven,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None,
    ) -> Steps[PayoutPage]:
        """One page of a listing operation (list, search): the same paging, the same reply, the same checks."""
        arguments: dict[str, Any] = {"page": 1, "per_page": 25, **{k: v for k, v in params.items() if v is not None}}
        prepared = prepare(operation(operation_id), arguments, extra_query=extra_query, extra_headers=extra_headers)
        call = ListCall(self._request(prepared, timeout), arguments["page"], arguments["per_page"],
                        arguments.get("status"))
        call.operation = operation_id
        return run(call, self._policy)

    def update(
        self,
        id: int,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        **fields: Unpack[UpdatePayoutBody],
    ) -> Steps[Payout]:
        """Change a payout that has not been sent yet; only the fields given are sent (`UpdatePayoutBody`).

        `scheduled_at` (an aware datetime or a string the spec accepts, in the future) moves a
        `scheduled` payout to another time; a `pending` payout is scheduled with `schedule()` instead.
        """
        prepared = prepare(
            operation("update_payout"), {**fields, "id": id}, rename={"body": "update"},
            extra_body=extra_body, extra_query=extra_query, extra_headers=extra_headers,
        )
        request = self._request(prepared, timeout)
        return run(UpdateCall(request, id, prepared.body), self._policy)

    def delete(
        self, id: int, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, deadline: float | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None, extra_query: Mapping[str, Any] | None = None,
    ) -> Steps[None]:
        """Delete a payout that has not been sent."""
        prepared = prepare(operation("delete_payout"), {"id": id}, extra_query=extra_query, extra_headers=extra_headers)
        lookup = prepare(operation("retrieve_payout"), {"id": id})
        call = DeleteCall(self._policy, id, self._request(prepared, timeout), self._request(lookup, timeout))
        return run(call, self._policy)

    def call(
        self,
        operation_id: str,
        /,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Steps[Any]:
        """Any operation of the spec by its operationId, with its keywords (`fedapay_payouts_api.api.<tag>.
        <operation>.<Operation>Params`); returns its reply's generated model (or the JSON when it has none).

        Its retry class comes from `_operations.RETRY_CLASS`; an operation the table does not name (one
        FedaPay added) is conservative: a GET is retried, anything else only when nothing was sent or the
        server refused, and `PayoutOutcomeUnknownError` when it may have acted.
        """
        op = operation(operation_id)
        if params.get("idempotency_key") is None and any(
            p.python_name == "idempotency_key" and p.location == "header" for p in op.params
        ):
            # As `create` does: one key per logical call, on every retry, and in its PayoutOutcomeUnknownError.
            params["idempotency_key"] = str(uuid.uuid4())
        prepared = prepare(op, params, extra_body=extra_body, extra_query=extra_query, extra_headers=extra_headers)
        request = self._request(prepared, timeout)
        checker = self._checker(op.id, prepared, request, params, timeout)
        return run(SpecCall(request, op, retry_class(op), checker), self._policy)

    def _checker(
        self, operation_id: str, prepared: Prepared, request: httpx.Request, params: Mapping[str, Any],
        timeout: TimeoutTypes | NotGiven,
    ) -> Call[Any] | None:
        """The call of the method that sends this operation, to check `call()`'s reply as that method would."""
        payout_id = params.get("id")
        body = prepared.body
        if operation_id == "create_payout" and isinstance(body, dict):
            return CreateCall(request, request.headers.get("Idempotency-Key", ""), body)
        if operation_id == "start_payouts":
            items = body.get("payouts") if isinstance(body, dict) else body
            if isinstance(items, builtins.list) and all(isinstance(item, dict) for item in items):
                return StartCall(self._client, items, request, timeout)
        if operation_id == "retrieve_payout" and type(payout_id) is int:
            return RetrieveCall(request, payout_id)
        if operation_id == "update_payout" and type(payout_id) is int and isinstance(body, dict):
            return UpdateCall(request, payout_id, body)
        if operation_id == "delete_payout" and type(payout_id) is int:
            lookup = self._request(prepare(operation("retrieve_payout"), {"id": payout_id}), timeout)
            return DeleteCall(self._policy, payout_id, request, lookup)
        if operation_id in ("list_payouts", "search_payouts"):
            status = params.get("status")
            return ListCall(request, 1, 25, status if isinstance(status, str) else None)
        return None


def _first(steps: Steps[builtins.list[Payout]], payout_id: int) -> Steps[Payout]:
    return _only((yield from steps), payout_id)


def _recording(
    op: Callable[Concatenate[PayoutOperations, P], Steps[R]], ops: PayoutOperations, /, *args: P.args,
    **kwargs: P.kwargs,
) -> Steps[RawResponse[R]]:
    """The operation's own steps, passed through unchanged, remembering the last reply the driver sent back:
    the reply the result was read from (see `_raw.py`). No second path: same request, retries and checks."""
    steps = op(ops, *args, **kwargs)
    last: httpx.Response | None = None
    # The driver's outcome waits here until handed to the operation, never in a local of this frame: a transport
    # error may quote what a server sent (the key echoed in a malformed status line), and a traceback printed
    # with its locals shows every frame's.
    handed: list[Any] = [None]
    thrown: BaseException | None = None
    while True:
        try:
            event = steps.send(handed.pop()) if thrown is None else steps.throw(thrown)
        except StopIteration as done:
            result: R = done.value
            break
        thrown = None
        try:
            handed.append((yield event))
        except Exception as exc:  # noqa: BLE001 - thrown in by the driver (a bad `sleep=`): the operation's to handle
            thrown = exc
            continue
        if type(handed[0]) is httpx.Response:
            last = handed[0]
    if last is None:  # every operation sends before it returns: a result without a reply would be a bug
        raise APIResponseValidationError(f"{op.__name__} returned without a reply to show", request=None)
    return RawResponse(last, result)


def _sync(op: Callable[Concatenate[PayoutOperations, P], Steps[R]]) -> Callable[Concatenate[Payouts, P], R]:
    @functools.wraps(op)
    def method(self: Payouts, /, *args: P.args, **kwargs: P.kwargs) -> R:
        deadline: Any = kwargs.pop("deadline", NOT_GIVEN)
        return self._client.drive(functools.partial(op, self._ops, *args, **kwargs), deadline)

    return method


def _sync_raw(
    op: Callable[Concatenate[PayoutOperations, P], Steps[R]],
) -> Callable[Concatenate[PayoutsWithRawResponse, P], RawResponse[R]]:
    @functools.wraps(op)
    def method(self: PayoutsWithRawResponse, /, *args: P.args, **kwargs: P.kwargs) -> RawResponse[R]:
        deadline: Any = kwargs.pop("deadline", NOT_GIVEN)
        return self._client.drive(functools.partial(_recording, op, self._ops, *args, **kwargs), deadline)

    return method


def _async_raw(
    op: Callable[Concatenate[PayoutOperations, P], Steps[R]],
) -> Callable[Concatenate[AsyncPayoutsWithRawResponse, P], Coroutine[Any, Any, RawResponse[R]]]:
    @functools.wraps(op)
    async def method(self: AsyncPayoutsWithRawResponse, /, *args: P.args, **kwargs: P.kwargs) -> RawResponse[R]:
        deadline: Any = kwargs.pop("deadline", NOT_GIVEN)
        return await self._client.drive(functools.partial(_recording, op, self._ops, *args, **kwargs), deadline)

    return method


def _async(
    op: Callable[Concatenate[PayoutOperations, P], Steps[R]],
) -> Callable[Concatenate[AsyncPayouts, P], Coroutine[Any, Any, R]]:
    @functools.wraps(op)
    async def method(self: AsyncPayouts, /, *args: P.args, **kwargs: P.kwargs) -> R:
        deadline: Any = kwargs.pop("deadline", NOT_GIVEN)
        return await self._client.drive(functools.partial(op, self._ops, *args, **kwargs), deadline)

    return method


class PayoutsWithRawResponse:
    """`client.payouts.with_raw_response`: each operation returns a `RawResponse` (the reply and `.parse()`)."""

    def __init__(self, client: SyncCore, ops: PayoutOperations) -> None:
        self._client = client
        self._ops = ops

    create = _sync_raw(PayoutOperations.create)
    start = _sync_raw(PayoutOperations.start)
    send_now = _sync_raw(PayoutOperations.send_now)
    schedule = _sync_raw(PayoutOperations.schedule)
    retrieve = _sync_raw(PayoutOperations.retrieve)
    list = _sync_raw(PayoutOperations.list)
    search = _sync_raw(PayoutOperations.search)
    update = _sync_raw(PayoutOperations.update)
    delete = _sync_raw(PayoutOperations.delete)
    call = _sync_raw(PayoutOperations.call)


class AsyncPayoutsWithRawResponse:
    """`client.payouts.with_raw_response` of an `AsyncFedaPay`: awaitable, each returning a `RawResponse`."""

    def __init__(self, client: AsyncCore, ops: PayoutOperations) -> None:
        self._client = client
        self._ops = ops

    create = _async_raw(PayoutOperations.create)
    start = _async_raw(PayoutOperations.start)
    send_now = _async_raw(PayoutOperations.send_now)
    schedule = _async_raw(PayoutOperations.schedule)
    retrieve = _async_raw(PayoutOperations.retrieve)
    list = _async_raw(PayoutOperations.list)
    search = _async_raw(PayoutOperations.search)
    update = _async_raw(PayoutOperations.update)
    delete = _async_raw(PayoutOperations.delete)
    call = _async_raw(PayoutOperations.call)


class Payouts:
    """`client.payouts` of a `FedaPay` client."""

    def __init__(self, client: SyncCore) -> None:
        self._client = client
        self._ops = PayoutOperations(client)

    @functools.cached_property
    def with_raw_response(self) -> PayoutsWithRawResponse:
        """The same operations, each returning the `RawResponse` that settled it: `.request_id`, `.headers`,
        `.status_code`, `.http_request`, and `.parse()` for the usual result (see `_raw.py`)."""
        return PayoutsWithRawResponse(self._client, self._ops)

    create = _sync(PayoutOperations.create)
    start = _sync(PayoutOperations.start)
    send_now = _sync(PayoutOperations.send_now)
    schedule = _sync(PayoutOperations.schedule)
    retrieve = _sync(PayoutOperations.retrieve)
    list = _sync(PayoutOperations.list)
    search = _sync(PayoutOperations.search)
    update = _sync(PayoutOperations.update)
    delete = _sync(PayoutOperations.delete)
    call = _sync(PayoutOperations.call)

    def auto_paging_iter(
        self, *, per_page: int = 100, status: str | None = None, timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
    ) -> Iterator[Payout]:
        """Every payout, page after page, fetched lazily as you iterate; each payout once.

        `timeout` and `deadline` apply to the call fetching each page.
        """
        walker = PageWalker(per_page, status)
        if not isinstance(deadline, NotGiven):
            check_deadline(deadline)
        return self._walk(walker, timeout, deadline)

    def _walk(
        self, walker: PageWalker, timeout: TimeoutTypes | NotGiven, deadline: float | NotGiven
    ) -> Iterator[Payout]:
        page: int | None = 1
        while page is not None:
            result = self.list(timeout=timeout, deadline=deadline, **walker.page_params(page))
            yield from walker.fresh(result)
            page = walker.following(result)


class AsyncPayouts:
    """`client.payouts` of an `AsyncFedaPay` client: the same operations, awaitable."""

    def __init__(self, client: AsyncCore) -> None:
        self._client = client
        self._ops = PayoutOperations(client)

    @functools.cached_property
    def with_raw_response(self) -> AsyncPayoutsWithRawResponse:
        """The same operations, each returning (awaited) the `RawResponse` that settled it (see `_raw.py`)."""
        return AsyncPayoutsWithRawResponse(self._client, self._ops)

    create = _async(PayoutOperations.create)
    start = _async(PayoutOperations.start)
    send_now = _async(PayoutOperations.send_now)
    schedule = _async(PayoutOperations.schedule)
    retrieve = _async(PayoutOperations.retrieve)
    list = _async(PayoutOperations.list)
    search = _async(PayoutOperations.search)
    update = _async(PayoutOperations.update)
    delete = _async(PayoutOperations.delete)
    call = _async(PayoutOperations.call)

    def auto_paging_iter(
        self, *, per_page: int = 100, status: str | None = None, timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
    ) -> AsyncIterator[Payout]:
        """Every payout, page after page, fetched lazily as you iterate (`async for`); each payout once.

        `timeout` and `deadline` apply to the call fetching each page.
        """
        walker = PageWalker(per_page, status)
        if not isinstance(deadline, NotGiven):
            check_deadline(deadline)
        return self._walk(walker, timeout, deadline)

    async def _walk(
        self, walker: PageWalker, timeout: TimeoutTypes | NotGiven, deadline: float | NotGiven
    ) -> AsyncIterator[Payout]:
        page: int | None = 1
        while page is not None:
            result = await self.list(timeout=timeout, deadline=deadline, **walker.page_params(page))
            for payout in walker.fresh(result):
                yield payout
            page = walker.following(result)
