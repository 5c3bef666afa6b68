"""The read-back checks on one request at a time: what a server stored after a create, an update or a start.

Each test sends a real request (schemathesis' `Case.call`) to the real mock on loopback, bare or wrapped by a broken
variant (`broken.py`) or by a middleware that answers the read-back (GET /payouts/{id}) itself, then calls the check
as schemathesis would. The teeth runs (`test_teeth.py`) prove the checks catch the variants in a whole run; these pin
the edges: a read-back answered 429 or 5xx is no failure, a 404 for a payout just answered is one, a date is future
by the server's clock (frozen, or far ahead of this machine's) and not by this machine's alone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from fedapay_contract import checks
from fedapay_contract.server_time import FUTURE_MARGIN
from fedapay_contract.stored import update_reply_problem
from fedapay_contract.suite import Mode, load_schema
from fedapay_mock import MockApp
from fedapay_mock.asgi import ASGIApp, Scope

from contract_tests.broken import (
    Exchange,
    Rewrite,
    Variant,
    _is_payout_path,
    schedule_ignored,
    schedule_soon,
    status_sent_at_create,
    stores_other_amount,
    stores_other_currency,
    update_ignored,
    update_shows_old_amount,
)
from contract_tests.conftest import API_KEY
from contract_tests.serve import serve_asgi

HEADERS = {"Authorization": f"Bearer {API_KEY}"}
CREATE_BODY: dict[str, Any] = {
    "amount": 2000,
    "currency": {"iso": "XOF"},
    "mode": "mtn_open",
    "merchant_reference": "order-17",
    "customer": {"firstname": "Ada", "lastname": "Lovelace", "phone_number": {"number": "97808080", "country": "bj"}},
}
YEAR = 366 * 86400.0
# The checks read nothing from schemathesis' context: a check called outside a run gets none.
NO_CONTEXT: Any = None


class Server:
    """The mock (maybe wrapped) on loopback, and the suite's schema pointed at it."""

    def __init__(self, mock: MockApp, schema: Any) -> None:
        self.mock = mock
        self.schema = schema

    def send(self, operation_id: str, **parts: Any) -> tuple[Any, schemathesis.Response]:
        """Send one request as the suite would (its hook first), and return the case and the reply."""
        case = self.schema.find_operation_by_id(operation_id).Case(media_type="application/json", **parts)
        checks.before_call(NO_CONTEXT, case, {})
        return case, case.call(headers=HEADERS)

    def create(self, body: dict[str, Any] | None = None) -> tuple[Any, schemathesis.Response]:
        return self.send("create_payout", body=body or CREATE_BODY)

    def created_id(self) -> int:
        _case, response = self.create()
        assert response.status_code == 201, response.text
        payout_id: int = response.json()["v1/payout"]["id"]
        return payout_id


@contextmanager
def serve(wrap: Variant | None = None, *, clock_ahead: float = 0.0) -> Iterator[Server]:
    from fedapay_mock import create_app

    mock = create_app(api_key=API_KEY, freeze_clock=True)
    if clock_ahead:
        mock.clock.advance(clock_ahead)
    app: ASGIApp = wrap(mock, API_KEY) if wrap is not None else mock
    with serve_asgi(app) as served:
        yield Server(mock, load_schema(Mode.CI, base_url=served.base_url, headers=HEADERS))


def read_back_answers(status: int, body: object = None) -> Variant:
    """A variant whose every GET /payouts/{id} (the checks' read-backs here) is answered `status` with `body`."""

    def wrap(app: ASGIApp, api_key: str) -> ASGIApp:
        def short_circuit(scope: Scope, request_body: bytes) -> Exchange | None:
            if scope["method"] != "GET" or not _is_payout_path(scope["path"]):
                return None
            exchange = Exchange(scope["method"], scope["path"], list(scope.get("headers", [])), request_body)
            exchange.set_json(body if body is not None else {"message": "busy", "errors": {}}, status=status)
            if status == 429:
                exchange.set_header(b"retry-after", b"1")
            return exchange

        return Rewrite(app, short_circuit=short_circuit)

    return wrap


def iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


# --- create -------------------------------------------------------------------------------------------------------


def test_a_created_payout_is_read_back_and_compared_with_the_request() -> None:
    with serve() as server:
        case, response = server.create()
        assert checks.created_payout_reads_back(NO_CONTEXT, response, case) is None  # compared, and it held
        assert checks.new_payout_is_pending(NO_CONTEXT, response, case) is None
    with serve(stores_other_amount) as server:
        case, response = server.create()
        assert response.json()["v1/payout"]["amount"] == 2000  # the reply shows the amount asked
        assert checks.create_reply_matches_request(NO_CONTEXT, response, case) is None
        with pytest.raises(AssertionError, match=r"read back is of amount 2001, not 2000 as asked"):
            checks.created_payout_reads_back(NO_CONTEXT, response, case)


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_a_read_back_answered_429_or_5xx_proves_nothing(status: int) -> None:
    """A busy or failing server is no false alarm: the check says it did not judge (True: skipped)."""
    with serve(read_back_answers(status)) as server:
        payout_id = server.created_id()
        case, response = server.create()
        assert checks.created_payout_reads_back(NO_CONTEXT, response, case) is True
        case, response = server.send("update_payout", path_parameters={"id": payout_id}, body={"amount": 3000})
        assert response.status_code == 200, response.text
        assert checks.accepted_update_reads_back(NO_CONTEXT, response, case) is True


def test_a_payout_just_answered_that_reads_back_404_is_a_failure() -> None:
    with serve(read_back_answers(404, {"message": "No payout with this id.", "errors": {}})) as server:
        payout_id = server.created_id()
        case, response = server.create()
        with pytest.raises(AssertionError, match=r"GET /payouts/\d+ answers 404 for the payout just created"):
            checks.created_payout_reads_back(NO_CONTEXT, response, case)
        case, response = server.send("update_payout", path_parameters={"id": payout_id}, body={"amount": 3000})
        with pytest.raises(AssertionError, match=rf"GET /payouts/{payout_id} answers 404 for the payout just updated"):
            checks.accepted_update_reads_back(NO_CONTEXT, response, case)


def test_a_read_back_of_another_payout_is_a_failure() -> None:
    other = {"v1/payout": {"id": 999, "amount": 2000, "mode": "mtn_open", "status": "pending"}}
    with serve(read_back_answers(200, other)) as server:
        case, response = server.create()
        with pytest.raises(AssertionError, match=r"answers payout 999, not the payout just created"):
            checks.created_payout_reads_back(NO_CONTEXT, response, case)


@pytest.mark.parametrize("asked", ["XOF", "GNF"])
def test_a_created_payout_read_back_in_another_currency_is_a_failure(asked: str) -> None:
    """The reply shows the currency asked; only the read-back with `include=customer,currency` shows the one stored."""
    body = {**CREATE_BODY, "currency": {"iso": asked}, "include": "currency"}
    other = "GNF" if asked == "XOF" else "XOF"
    with serve() as server:
        case, response = server.create(body)
        assert checks.created_payout_reads_back(NO_CONTEXT, response, case) is None
    with serve(stores_other_currency) as server:
        case, response = server.create(body)
        assert response.json()["v1/payout"]["currency"]["iso"] == asked
        assert checks.create_reply_matches_request(NO_CONTEXT, response, case) is None
        with pytest.raises(AssertionError, match=rf"read back is in currency '{other}', not '{asked}' as asked"):
            checks.created_payout_reads_back(NO_CONTEXT, response, case)


def test_a_created_payout_read_back_for_another_customer_is_a_failure() -> None:
    """The read-back embeds the customer: one stored under other names is caught, whatever the reply said."""

    def renames_in_read_back(app: ASGIApp, api_key: str) -> ASGIApp:
        def after(exchange: Exchange) -> None:
            data = exchange.json()
            payout = data.get("v1/payout") if exchange.method == "GET" and isinstance(data, dict) else None
            if isinstance(payout, dict) and isinstance(payout.get("customer"), dict):
                payout["customer"]["lastname"] = "Byron"
                exchange.set_json(data)

        return Rewrite(app, after=after)

    with serve(renames_in_read_back) as server:
        case, response = server.create()
        with pytest.raises(AssertionError, match=r"another lastname \('Byron', not 'Lovelace' as asked\)"):
            checks.created_payout_reads_back(NO_CONTEXT, response, case)


def test_a_new_payout_must_be_pending() -> None:
    with serve(status_sent_at_create) as server:
        case, response = server.create()
        with pytest.raises(AssertionError, match=r"the new payout it returned is `sent`"):
            checks.new_payout_is_pending(NO_CONTEXT, response, case)


# --- update -------------------------------------------------------------------------------------------------------


def test_an_update_is_read_back_with_the_values_its_reply_states() -> None:
    change = {"amount": 3000, "description": "rent", "custom_metadata": {"order": 17}, "merchant_reference": None}
    with serve() as server:
        payout_id = server.created_id()
        case, response = server.send("update_payout", path_parameters={"id": payout_id}, body=change)
        assert response.status_code == 200, response.text
        # `merchant_reference: null` changes nothing: the reply and the read-back both keep the old one.
        assert response.json()["v1/payout"]["merchant_reference"] == "order-17"
        assert checks.accepted_update_reads_back(NO_CONTEXT, response, case) is None
    with serve(update_ignored) as server:
        payout_id = server.created_id()
        case, response = server.send("update_payout", path_parameters={"id": payout_id}, body=change)
        assert response.json()["v1/payout"]["amount"] == 3000  # the reply shows the change
        with pytest.raises(AssertionError, match=r"reads back with `amount` 2000, not 3000 as the update's reply says"):
            checks.accepted_update_reads_back(NO_CONTEXT, response, case)


def test_an_update_answered_with_the_old_amount_is_a_failure() -> None:
    """Reply and read-back agree (nothing stored, old amount shown): the request is what they disagree with."""
    with serve(update_shows_old_amount) as server:
        payout_id = server.created_id()
        case, response = server.send("update_payout", path_parameters={"id": payout_id}, body={"amount": 5000})
        assert response.status_code == 200, response.text
        assert response.json()["v1/payout"]["amount"] == 2000
        with pytest.raises(AssertionError, match=r"its reply shows `amount` 2000, not 5000 as asked"):
            checks.accepted_update_reads_back(NO_CONTEXT, response, case)


@pytest.mark.parametrize(
    ("field", "asked", "shown"),
    [
        ("merchant_reference", "order-18", "order-17"),
        ("scheduled_at", "2099-01-01T09:00:00Z", "2099-01-01T09:01:00.000Z"),
        ("scheduled_at", "2099-01-01T09:00:00Z", "2099-01-01T09:00:00.002Z"),  # past the client's millisecond
        ("scheduled_at", "2099-01-01 10:00:00 +0100", "2099-01-01T10:00:00.000Z"),  # 10:00 in UTC is an hour late
    ],
)
def test_an_update_reply_is_compared_with_the_request(field: str, asked: str, shown: str) -> None:
    def shows(app: ASGIApp, api_key: str) -> ASGIApp:
        def after(exchange: Exchange) -> None:
            data = exchange.json()
            payout = data.get("v1/payout") if exchange.method == "PUT" and isinstance(data, dict) else None
            if isinstance(payout, dict):
                payout[field] = shown
                exchange.set_json(data)

        return Rewrite(app, after=after)

    with serve(shows) as server:
        payout_id = server.created_id()
        server.send("start_payouts", body={"payouts": [{"id": payout_id, "scheduled_at": "2098-01-01T00:00:00Z"}]})
        case, response = server.send("update_payout", path_parameters={"id": payout_id}, body={field: asked})
        assert response.status_code == 200, response.text
        expected = re.escape(f"its reply shows `{field}` '{shown}', not '{asked}' as asked")
        with pytest.raises(AssertionError, match=expected):
            checks.accepted_update_reads_back(NO_CONTEXT, response, case)


@pytest.mark.parametrize(
    ("asked", "shown"),
    [
        ("2099-01-01T09:00:00Z", "2099-01-01 10:00:00 +0100"),  # the same instant, another form
        ("2099-01-01T09:00:00Z", "2099-01-01 09:00:00 UTC"),
        ("2099-01-01T09:00:00.0004Z", "2099-01-01T09:00:00.000Z"),  # within the client's millisecond
        ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.998Z"),  # exact near the last year (no float rounding)
        ("2099-01-01T09:00:00Z", "soon"),  # no date: the schema checks' to judge
    ],
)
def test_an_update_reply_showing_the_instant_asked_in_another_form_holds(asked: str, shown: str) -> None:
    reply = {"amount": 2000, "merchant_reference": "order-17", "scheduled_at": shown}
    assert update_reply_problem({"amount": 2000, "scheduled_at": asked}, reply) is None
    # and one microsecond past the millisecond is another instant
    later = {"scheduled_at": "2099-01-01T09:00:00.001001Z"}
    assert update_reply_problem(later, {"scheduled_at": "2099-01-01T09:00:00Z"}) is not None


# --- start with a date --------------------------------------------------------------------------------------------


def _start(server: Server, scheduled_at: str) -> tuple[Any, schemathesis.Response]:
    payout_id = server.created_id()
    case, response = server.send("start_payouts", body={"payouts": [{"id": payout_id, "scheduled_at": scheduled_at}]})
    assert response.status_code == 200, response.text
    return case, response


@pytest.mark.parametrize(
    "scheduled_at", ["2099-01-01T09:00:00Z", "2099-01-01 10:00:00 +0100", "2099-01-01 09:00:00 UTC"]
)
def test_a_start_with_a_future_date_must_schedule_not_send(scheduled_at: str) -> None:
    with serve() as server:
        case, response = _start(server, scheduled_at)
        assert checks.accepted_start_reads_back(NO_CONTEXT, response, case) is None
    with serve(schedule_ignored) as server:
        case, response = _start(server, scheduled_at)
        with pytest.raises(AssertionError, match=r"\(in the server's future\), yet it is answered `started`"):
            checks.accepted_start_reads_back(NO_CONTEXT, response, case)


def test_a_start_read_back_sent_now_is_a_failure_even_when_its_reply_says_scheduled() -> None:
    def reply_scheduled(app: ASGIApp, api_key: str) -> ASGIApp:
        def after(exchange: Exchange) -> None:
            data = exchange.json()
            if exchange.path.endswith("/start") and isinstance(data, dict) and "v1/payouts" in data:
                for payout in data["v1/payouts"]:
                    payout["status"] = "scheduled"
                exchange.set_json(data)

        return Rewrite(schedule_ignored(app, api_key), after=after)

    with serve(reply_scheduled) as server:
        case, response = _start(server, "2099-01-01T09:00:00Z")
        assert response.json()["v1/payouts"][0]["status"] == "scheduled"
        with pytest.raises(AssertionError, match=r"yet it reads back `started`"):
            checks.accepted_start_reads_back(NO_CONTEXT, response, case)


def test_a_start_with_a_past_or_near_date_may_send_now() -> None:
    """A date already past is sent at once; one within the margin of now may have fallen due by the read-back."""
    with serve(schedule_ignored) as server:
        for scheduled_at in ("2001-01-01T00:00:00Z", iso(time.time() + FUTURE_MARGIN / 2)):
            case, response = _start(server, scheduled_at)
            assert checks.accepted_start_reads_back(NO_CONTEXT, response, case) is None


def test_future_is_the_servers_future_not_this_machines() -> None:
    """A server whose clock runs two years ahead (the mock's, moved) rightly sends a payout dated next year at once:
    its replies' timestamps say where its clock is, and the check goes by them."""
    with serve(clock_ahead=2 * YEAR) as server:
        case, response = _start(server, iso(time.time() + YEAR))
        assert response.json()["v1/payouts"][0]["status"] == "started"
        assert checks.accepted_start_reads_back(NO_CONTEXT, response, case) is None


@pytest.mark.parametrize(
    "scheduled_at", ["2099-01-01T09:00:00Z", "2099-01-01 10:00:00 +0100", "2099-01-01T09:00:00.000999Z"]
)
def test_a_start_scheduled_at_another_time_than_asked_is_a_failure(scheduled_at: str) -> None:
    with serve() as server:  # the mock keeps the instant (to the millisecond), in its own form
        case, response = _start(server, scheduled_at)
        shown = response.json()["v1/payouts"][0]["scheduled_at"]
        assert shown in ("2099-01-01T09:00:00.000Z", "2099-01-01T09:00:00.001Z"), shown
        assert checks.accepted_start_reads_back(NO_CONTEXT, response, case) is None
    with serve(schedule_soon) as server:
        case, response = _start(server, scheduled_at)
        assert response.json()["v1/payouts"][0]["status"] == "scheduled"
        with pytest.raises(AssertionError, match=r"yet it is answered `scheduled` at '20"):
            checks.accepted_start_reads_back(NO_CONTEXT, response, case)


def test_a_start_read_back_scheduled_at_another_time_is_a_failure_even_when_its_reply_shows_the_date_asked() -> None:
    def reply_as_asked(app: ASGIApp, api_key: str) -> ASGIApp:
        def after(exchange: Exchange) -> None:
            data = exchange.json()
            if exchange.path.endswith("/start") and isinstance(data, dict) and "v1/payouts" in data:
                for payout in data["v1/payouts"]:
                    payout["scheduled_at"] = "2099-01-01T09:00:00Z"
                exchange.set_json(data)

        return Rewrite(schedule_soon(app, api_key), after=after)

    with serve(reply_as_asked) as server:
        case, response = _start(server, "2099-01-01T09:00:00Z")
        with pytest.raises(AssertionError, match=r"yet it reads back `scheduled` at '20"):
            checks.accepted_start_reads_back(NO_CONTEXT, response, case)
