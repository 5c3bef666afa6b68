"""`client.payouts`: every payouts operation, written once.

`PayoutOperations` validates arguments, builds the request and describes the call (`_retry.Call`);
each method returns the operation's steps (a generator, see `_client.py`). `Payouts` and
`AsyncPayouts` are generated from it by `_sync` / `_async`, so the two twins have exactly the same
signatures and docstrings and nothing to drift.
"""

from __future__ import annotations

import builtins
import functools
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, Final, ParamSpec, TypeVar

import httpx
from fedapay_payouts_api.models.payout import Payout
from fedapay_payouts_api.models.phone_number import PhoneNumber

from . import _validation as check
from ._client import AsyncFedaPay, BaseClient, FedaPay
from ._config import NOT_GIVEN, NotGiven, TimeoutTypes
from ._deadline import check_deadline
from ._exceptions import APIError, APIResponseValidationError, InvalidArgumentError, PayoutOutcomeUnknownError
from ._pagination import PageWalker, PayoutPage
from ._retry import NOT_DONE, Call, NotDone, Steps, run
from ._types import CustomerParams, CustomerRefParams, PhoneNumberParams, StartItem
from ._wire import read_page, read_payout, read_payouts

if TYPE_CHECKING:
    from fedapay_payouts_api.models.customer_input import CustomerInput
    from fedapay_payouts_api.models.customer_ref import CustomerRef

__all__ = ["AsyncPayouts", "PayoutOperations", "Payouts"]

AnyClient = BaseClient[Any]
P = ParamSpec("P")
R = TypeVar("R")

PENDING: Final = "pending"


class PayoutCall(Call[Payout]):
    def read(self, response: httpx.Response) -> Payout:
        return read_payout(response)


class CreateCall(PayoutCall):
    operation = "create_payout"
    mutating = True

    def __init__(self, client: AnyClient, request: httpx.Request, key: str, merchant_reference: str | None) -> None:
        super().__init__(client._config, request)
        self.key = key
        self.merchant_reference = merchant_reference

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


class UpdateCall(PayoutCall):
    operation = "update_payout"
    mutating = True

    def __init__(self, client: AnyClient, request: httpx.Request, payout_id: int) -> None:
        super().__init__(client._config, request)
        self.payout_id = payout_id

    def outcome_unknown(self, cause: APIError) -> PayoutOutcomeUnknownError:
        return PayoutOutcomeUnknownError(
            f"update_payout: payout {self.payout_id} may have been updated, but no reply confirmed it "
            f"({cause.message}). Check with client.payouts.retrieve({self.payout_id}).",
            request=self.request, operation=self.operation, payout_ids=[self.payout_id],
        )


class DeleteCall(Call[None]):
    operation = "delete_payout"
    mutating = True

    def __init__(self, client: AnyClient, request: httpx.Request, payout_id: int) -> None:
        super().__init__(client._config, request)
        self.payout_id = payout_id

    def read(self, response: httpx.Response) -> None:
        return None

    def recover(self, response: httpx.Response) -> Steps[NotDone | None]:
        # A 404 after an attempt that may have acted: that attempt deleted it.
        return None if response.status_code == 404 else NOT_DONE
        yield

    def outcome_unknown(self, cause: APIError) -> PayoutOutcomeUnknownError:
        return PayoutOutcomeUnknownError(
            f"delete_payout: payout {self.payout_id} may have been deleted, but no reply confirmed it "
            f"({cause.message}). Check with client.payouts.retrieve({self.payout_id}) (404: deleted).",
            request=self.request, operation=self.operation, payout_ids=[self.payout_id],
        )


class ListCall(Call[PayoutPage]):
    operation = "list_payouts"

    def __init__(self, client: AnyClient, request: httpx.Request, page: int, per_page: int) -> None:
        super().__init__(client._config, request)
        self.page = page
        self.per_page = per_page

    def read(self, response: httpx.Response) -> PayoutPage:
        items, meta = read_page(response)
        return PayoutPage(items, meta, page=self.page, per_page=self.per_page)


class StartCall(Call[builtins.list[Payout]]):
    """Start payouts; after an attempt that may have acted, look before starting again (see `_retry.py`)."""

    operation = "start_payouts"
    mutating = True

    def __init__(
        self, client: AnyClient, items: builtins.list[dict[str, Any]], timeout: TimeoutTypes | NotGiven
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.items = items
        self.ids = [item["id"] for item in items]
        self.settled: dict[int, Payout] = {}  # payouts found no longer pending by a check
        super().__init__(client._config, self._request())

    def _request(self) -> httpx.Request:
        return self.client.build_request("PUT", "/start", body={"payouts": self.items}, timeout=self.timeout)

    def read(self, response: httpx.Response) -> builtins.list[Payout]:
        return self._result(read_payouts(response))

    def _result(self, started: builtins.list[Payout]) -> builtins.list[Payout]:
        """The requested payouts in the order asked, from this reply or from an earlier check."""
        by_id = {**self.settled, **{payout.id: payout for payout in started}}
        return [by_id[i] for i in self.ids if i in by_id] + [p for p in started if p.id not in self.ids]

    def recheck(self) -> Steps[builtins.list[Payout] | NotDone]:
        pending_ids = [item["id"] for item in self.items]
        current: dict[int, Payout] = {}
        for payout_id in pending_ids:
            request = self.client.build_request("GET", f"/{payout_id}", timeout=self.timeout)
            try:
                current[payout_id] = yield from run(RetrieveCall(self.config, request), self.client._retry)
            except APIError as exc:
                raise self.outcome_unknown(exc) from exc
        self.settled.update({i: p for i, p in current.items() if p.status != PENDING})
        still_pending = [item for item in self.items if current[item["id"]].status == PENDING]
        if not still_pending:
            return self._result([])
        if len(still_pending) < len(self.items):
            self.items = still_pending
            self.request = self._request()
        return NOT_DONE

    def recover(self, response: httpx.Response) -> Steps[builtins.list[Payout] | NotDone]:
        # A 422 ("not pending") after an attempt that may have acted: that attempt probably started them.
        if response.status_code != 422:
            return NOT_DONE
        return (yield from self.recheck())

    def outcome_unknown(self, cause: APIError) -> PayoutOutcomeUnknownError:
        ids = [item["id"] for item in self.items]
        done = f" Already confirmed not pending: {sorted(self.settled)}." if self.settled else ""
        return PayoutOutcomeUnknownError(
            f"start_payouts: payouts {ids} may have been started, but no reply confirmed it ({cause.message}).{done} "
            f"Check each with client.payouts.retrieve(id): 'pending' means not started (safe to start again), "
            f"any other status means it was started or scheduled.",
            request=self.request, operation=self.operation, payout_ids=ids,
        )


def _start_items(
    payouts: int | StartItem | Sequence[int | StartItem],
    scheduled_at: Any,
    phone_number: PhoneNumberParams | PhoneNumber | None,
) -> builtins.list[dict[str, Any]]:
    many = isinstance(payouts, Sequence) and not isinstance(payouts, str)
    given = builtins.list(payouts) if many else [payouts]  # type: ignore[arg-type]
    if not given:
        raise InvalidArgumentError("payouts", "must name at least one payout")
    if phone_number is not None and len(given) > 1:
        raise InvalidArgumentError(
            "phone_number", "overrides the number of one payout only: set it per payout in `payouts` instead"
        )
    default_when = None if scheduled_at is None else check.scheduled_at(scheduled_at)
    items: builtins.list[dict[str, Any]] = []
    for index, entry in enumerate(given):
        where = f"payouts[{index}]" if many else "payouts"
        if isinstance(entry, Mapping):
            unknown = set(entry) - {"id", "scheduled_at", "phone_number"}
            if unknown:
                raise InvalidArgumentError(where, f"unknown field(s) {sorted(unknown)}")
            item: dict[str, Any] = {"id": check.payout_id(entry.get("id"), f"{where}.id")}
            when = entry.get("scheduled_at")
            phone = entry.get("phone_number")
        else:
            item = {"id": check.payout_id(entry, where)}
            when = phone = None
        if when is not None:
            item["scheduled_at"] = check.scheduled_at(when, f"{where}.scheduled_at")
        elif default_when is not None:
            item["scheduled_at"] = default_when
        phone = phone if phone is not None else phone_number
        if phone is not None:
            name = "phone_number" if phone is phone_number else f"{where}.phone_number"
            item["phone_number"] = check.phone_number(phone, name)
        items.append(item)
    ids = [item["id"] for item in items]
    if len(set(ids)) != len(ids):
        raise InvalidArgumentError("payouts", f"names a payout more than once: {ids}")
    return items


def _only(payouts: builtins.list[Payout], payout_id: int) -> Payout:
    for payout in payouts:
        if payout.id == payout_id:
            return payout
    raise APIResponseValidationError(
        f"start_payouts replied without payout {payout_id}; it was started: retrieve it to see its status",
        request=None,
    )


class PayoutOperations:
    """Validation, request building and call description for each payouts operation.

    Every operation takes `deadline=` (seconds for the whole call: attempts, waits and checks; see
    `_deadline.py`). The `_sync` / `_async` wrappers take it out before calling the method and hand it
    to the driver that enforces it, so the bodies here never see it.
    """

    def __init__(self, client: AnyClient) -> None:
        self._client = client

    def create(
        self,
        *,
        amount: int,
        currency: str,
        mode: str,
        customer: CustomerParams | CustomerRefParams | CustomerInput | CustomerRef,
        description: str | None = None,
        merchant_reference: str | None = None,
        custom_metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
    ) -> Steps[Payout]:
        """Create a payout (status `pending`; nothing is sent until you start it).

        `customer` describes a new beneficiary (`{"firstname", "lastname", "email", "phone_number"}`)
        or names an existing one by id (`{"id": payout.customer_id}`).

        `idempotency_key` (default: a new uuid4 per call) goes with every retry of this call, so a
        retry never creates a second payout. Pass your own to make a create safe to repeat across
        processes; pass `merchant_reference` to be able to find the payout yourself.
        """
        body: dict[str, Any] = {
            "amount": check.positive_int(amount, "amount"),
            "currency": {"iso": check.currency(currency)},
            "mode": check.text(mode, "mode"),
            "customer": check.customer(customer),
        }
        if description is not None:
            body["description"] = check.optional_string(description, "description")
        if merchant_reference is not None:
            body["merchant_reference"] = check.text(merchant_reference, "merchant_reference")
        if custom_metadata is not None:
            body["custom_metadata"] = check.metadata(custom_metadata, "custom_metadata")
        key = str(uuid.uuid4()) if idempotency_key is None else check.idempotency_key(idempotency_key)
        client = self._client
        request = client.build_request("POST", "", body=body, headers={"Idempotency-Key": key}, timeout=timeout)
        return run(CreateCall(client, request, key, body.get("merchant_reference")), client._retry)

    def start(
        self,
        payouts: int | StartItem | Sequence[int | StartItem],
        *,
        scheduled_at: Any = None,
        phone_number: PhoneNumberParams | PhoneNumber | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
    ) -> Steps[builtins.list[Payout]]:
        """Start one or many pending payouts: send now, or at `scheduled_at` (an aware datetime or ISO string).

        `payouts` is an id, a `StartItem` dict (`{"id", "scheduled_at", "phone_number"}`), or a list of
        them; `scheduled_at` applies to those without their own, `phone_number` (one payout only)
        overrides the beneficiary's number. Returns the payouts in the order given.
        """
        items = _start_items(payouts, scheduled_at, phone_number)
        call = StartCall(self._client, items, timeout)
        return run(call, self._client._retry)

    def send_now(
        self,
        id: int,
        *,
        phone_number: PhoneNumberParams | PhoneNumber | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
    ) -> Steps[Payout]:
        """Start one pending payout now; returns it (status `started`, or already `sent`)."""
        payout_id = check.payout_id(id)
        steps = self.start(payout_id, phone_number=phone_number, timeout=timeout)
        return _first(steps, payout_id)

    def schedule(
        self,
        id: int,
        at: Any,
        *,
        phone_number: PhoneNumberParams | PhoneNumber | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
    ) -> Steps[Payout]:
        """Schedule one pending payout at `at` (an aware datetime or ISO string); returns it (`scheduled`)."""
        payout_id = check.payout_id(id)
        if at is None:
            raise InvalidArgumentError("at", "is required: when to send the payout")
        steps = self.start(payout_id, scheduled_at=check.scheduled_at(at, "at"), phone_number=phone_number,
                           timeout=timeout)
        return _first(steps, payout_id)

    def retrieve(
        self, id: int, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, deadline: float | NotGiven = NOT_GIVEN
    ) -> Steps[Payout]:
        """The payout with this id (`NotFoundError` if there is none)."""
        request = self._client.build_request("GET", f"/{check.payout_id(id)}", timeout=timeout)
        return run(RetrieveCall(self._client._config, request), self._client._retry)

    def list(
        self,
        *,
        page: int = 1,
        per_page: int = 25,
        status: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
    ) -> Steps[PayoutPage]:
        """One page of payouts, newest first, optionally only those with `status`."""
        params: dict[str, str | int] = {"page": check.page_number(page, "page"), "per_page": check.per_page(per_page)}
        if status is not None:
            params["status"] = check.text(status, "status")
        request = self._client.build_request("GET", "", params=params, timeout=timeout)
        return run(ListCall(self._client, request, page, per_page), self._client._retry)

    def update(
        self,
        id: int,
        *,
        amount: int | None = None,
        mode: str | None = None,
        description: str | None = None,
        merchant_reference: str | None = None,
        custom_metadata: Mapping[str, Any] | None = None,
        scheduled_at: Any = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven = NOT_GIVEN,
    ) -> Steps[Payout]:
        """Change a payout that has not been sent yet; only the fields given are sent.

        `scheduled_at` (an aware datetime or ISO string, in the future) moves a `scheduled` payout to
        another time; a `pending` payout is scheduled with `schedule()` / `start()` instead.
        """
        payout_id = check.payout_id(id)
        body: dict[str, Any] = {}
        if amount is not None:
            body["amount"] = check.positive_int(amount, "amount")
        if mode is not None:
            body["mode"] = check.text(mode, "mode")
        if description is not None:
            body["description"] = check.optional_string(description, "description")
        if merchant_reference is not None:
            body["merchant_reference"] = check.text(merchant_reference, "merchant_reference")
        if custom_metadata is not None:
            body["custom_metadata"] = check.metadata(custom_metadata, "custom_metadata")
        if scheduled_at is not None:
            body["scheduled_at"] = check.scheduled_at(scheduled_at)
        if not body:
            raise InvalidArgumentError(
                "update",
                "give at least one of amount, mode, description, merchant_reference, custom_metadata, scheduled_at",
            )
        request = self._client.build_request("PUT", f"/{payout_id}", body=body, timeout=timeout)
        return run(UpdateCall(self._client, request, payout_id), self._client._retry)

    def delete(
        self, id: int, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, deadline: float | NotGiven = NOT_GIVEN
    ) -> Steps[None]:
        """Delete a payout that has not been sent."""
        payout_id = check.payout_id(id)
        request = self._client.build_request("DELETE", f"/{payout_id}", timeout=timeout)
        return run(DeleteCall(self._client, request, payout_id), self._client._retry)


def _first(steps: Steps[builtins.list[Payout]], payout_id: int) -> Steps[Payout]:
    return _only((yield from steps), payout_id)


def _sync(op: Callable[Concatenate[PayoutOperations, P], Steps[R]]) -> Callable[Concatenate[Payouts, P], R]:
    @functools.wraps(op)
    def method(self: Payouts, /, *args: P.args, **kwargs: P.kwargs) -> R:
        deadline = self._client._start_deadline(kwargs.pop("deadline", NOT_GIVEN))
        return self._client._run(op(self._ops, *args, **kwargs), deadline)

    return method


def _async(
    op: Callable[Concatenate[PayoutOperations, P], Steps[R]],
) -> Callable[Concatenate[AsyncPayouts, P], Coroutine[Any, Any, R]]:
    @functools.wraps(op)
    async def method(self: AsyncPayouts, /, *args: P.args, **kwargs: P.kwargs) -> R:
        deadline = self._client._start_deadline(kwargs.pop("deadline", NOT_GIVEN))
        return await self._client._run(op(self._ops, *args, **kwargs), deadline)

    return method


class Payouts:
    """`client.payouts` of a `FedaPay` client."""

    def __init__(self, client: FedaPay) -> None:
        self._client = client
        self._ops = PayoutOperations(client)

    create = _sync(PayoutOperations.create)
    start = _sync(PayoutOperations.start)
    send_now = _sync(PayoutOperations.send_now)
    schedule = _sync(PayoutOperations.schedule)
    retrieve = _sync(PayoutOperations.retrieve)
    list = _sync(PayoutOperations.list)
    update = _sync(PayoutOperations.update)
    delete = _sync(PayoutOperations.delete)

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
            result = self.list(
                page=page, per_page=walker.per_page, status=walker.status, timeout=timeout, deadline=deadline
            )
            yield from walker.fresh(result)
            page = walker.following(result)


class AsyncPayouts:
    """`client.payouts` of an `AsyncFedaPay` client: the same operations, awaitable."""

    def __init__(self, client: AsyncFedaPay) -> None:
        self._client = client
        self._ops = PayoutOperations(client)

    create = _async(PayoutOperations.create)
    start = _async(PayoutOperations.start)
    send_now = _async(PayoutOperations.send_now)
    schedule = _async(PayoutOperations.schedule)
    retrieve = _async(PayoutOperations.retrieve)
    list = _async(PayoutOperations.list)
    update = _async(PayoutOperations.update)
    delete = _async(PayoutOperations.delete)

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
            result = await self.list(
                page=page, per_page=walker.per_page, status=walker.status, timeout=timeout, deadline=deadline
            )
            for payout in walker.fresh(result):
                yield payout
            page = walker.following(result)
