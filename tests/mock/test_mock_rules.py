"""FedaPay's documented payout rules, kept by default (spec/overlays/14-fedapay-rules.yaml, docs/mock.md).

1,000,000 per payout (a schema rule: create and update); at most 3 payouts to one mobile-money number
within 24 hours of the mock's clock (start); delete only before a payout is sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fedapay_mock import MockOptions, MockServer, run_mock

from tests.mock.mock_support import AUTH, SETTLE, ReplyChecker, create, payout_body

NUMBER = "+22997808080"
DAY = 86_400.0


def _start(api: httpx.Client, *items: dict[str, Any]) -> httpx.Response:
    return api.put("/payouts/start", json={"payouts": list(items)})


def _status(api: httpx.Client, payout_id: int) -> str:
    status: str = api.get(f"/payouts/{payout_id}").json()["v1/payout"]["status"]
    return status


# -- the amount cap ---------------------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["XOF", "GNF"])
def test_one_million_is_accepted_and_one_more_is_refused_naming_amount(
    api: httpx.Client, check: ReplyChecker, currency: str
) -> None:
    accepted = create(api, check, amount=1_000_000, currency={"iso": currency})
    assert accepted["amount"] == 1_000_000
    reply = api.post("/payouts", json=payout_body(amount=1_000_001, currency={"iso": currency}))
    assert reply.status_code == 422
    assert list(check("create_payout", reply)["errors"]) == ["amount"]
    assert api.get("/payouts").json()["meta"]["total_count"] == 1


def test_an_update_over_the_cap_is_refused_and_changes_nothing(api: httpx.Client, check: ReplyChecker) -> None:
    payout = create(api, check)
    reply = api.put(f"/payouts/{payout['id']}", json={"amount": 10**30})
    assert reply.status_code == 422
    assert list(check("update_payout", reply)["errors"]) == ["amount"]
    assert api.get(f"/payouts/{payout['id']}").json()["v1/payout"]["amount"] == 1000


# -- at most 3 payouts to one number within 24 hours -----------------------------------------------


def test_a_fourth_payout_to_one_number_within_a_day_is_refused_and_stays_pending(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    payouts = [create(api, check) for _ in range(5)]
    for payout in payouts[:3]:
        assert _start(api, {"id": payout["id"]}).status_code == 200
    reply = _start(api, {"id": payouts[3]["id"]})
    assert reply.status_code == 422
    errors = check("start_payouts", reply)["errors"]
    assert list(errors) == ["payouts[0].id"]
    assert NUMBER in errors["payouts[0].id"][0]
    assert _status(api, payouts[3]["id"]) == "pending"
    assert mock.stats()["started"] == 3


def test_the_limit_counts_within_one_request_all_or_nothing(api: httpx.Client, check: ReplyChecker) -> None:
    payouts = [create(api, check) for _ in range(4)]
    reply = _start(api, *({"id": p["id"]} for p in payouts))
    assert reply.status_code == 422
    assert list(check("start_payouts", reply)["errors"]) == ["payouts[3].id"]
    assert [_status(api, p["id"]) for p in payouts] == ["pending"] * 4


def test_a_day_later_on_the_mock_clock_the_number_may_receive_again(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    payouts = [create(api, check) for _ in range(4)]
    assert _start(api, *({"id": p["id"]} for p in payouts[:3])).status_code == 200
    mock.advance_clock(DAY - 1)
    assert _start(api, {"id": payouts[3]["id"]}).status_code == 422
    mock.advance_clock(1)
    assert _start(api, {"id": payouts[3]["id"]}).status_code == 200


def test_the_number_a_start_gives_is_the_one_counted(api: httpx.Client, check: ReplyChecker) -> None:
    payouts = [create(api, check) for _ in range(5)]
    other = {"number": "+22961000001", "country": "bj"}
    assert _start(api, *({"id": p["id"], "phone_number": other} for p in payouts[:3])).status_code == 200
    reply = _start(api, {"id": payouts[3]["id"], "phone_number": other})
    assert reply.status_code == 422
    assert list(check("start_payouts", reply)["errors"]) == ["payouts[0].phone_number"]
    # The customer's own number (+22997808080) received nothing yet.
    assert _start(api, {"id": payouts[4]["id"]}).status_code == 200


def test_the_number_is_the_same_with_or_without_plus(api: httpx.Client, check: ReplyChecker) -> None:
    payouts = [create(api, check) for _ in range(4)]
    assert _start(api, *({"id": p["id"]} for p in payouts[:3])).status_code == 200
    reply = _start(api, {"id": payouts[3]["id"], "phone_number": {"number": "22997808080", "country": "bj"}})
    assert reply.status_code == 422


def _to(number: str, country: str = "bj") -> dict[str, Any]:
    """A create body paying `number` in `country`."""
    customer = {"firstname": "Ada", "lastname": "Lovelace", "phone_number": {"number": number, "country": country}}
    return payout_body(customer=customer)


def test_one_wallet_written_in_each_form_is_one_number(api: httpx.Client, check: ReplyChecker) -> None:
    """FedaPay's create page documents the number without the country's prefix (`97808080` + `bj`), its start
    page shows `+22997808080`: one Benin wallet however it is written."""
    ids = [check("create_payout", api.post("/payouts", json=_to("97808080")))["v1/payout"]["id"] for _ in range(5)]
    assert _start(api, {"id": ids[0]}).status_code == 200
    assert _start(api, {"id": ids[1], "phone_number": {"number": "+22997808080", "country": "bj"}}).status_code == 200
    assert _start(api, {"id": ids[2], "phone_number": {"number": "0022997808080", "country": "BJ"}}).status_code == 200
    for phone in ({"number": "22997808080", "country": "bj"}, {"number": "+22997808080", "country": "BJ"}):
        reply = _start(api, {"id": ids[3], "phone_number": phone})
        assert reply.status_code == 422
        assert list(check("start_payouts", reply)["errors"]) == ["payouts[0].phone_number"]
    reply = _start(api, {"id": ids[4]})
    assert reply.status_code == 422
    assert list(check("start_payouts", reply)["errors"]) == ["payouts[0].id"]


def test_the_same_digits_in_two_countries_are_two_wallets(api: httpx.Client, check: ReplyChecker) -> None:
    benin = [create(api, check, **_to("97808080")) for _ in range(3)]
    togo = create(api, check, **_to("97808080", "tg"))
    assert togo["customer_id"] != benin[0]["customer_id"]  # the same digits elsewhere: another customer
    assert _start(api, *({"id": p["id"]} for p in benin)).status_code == 200
    assert _start(api, {"id": togo["id"]}).status_code == 200
    other = create(api, check, **_to("97808080"))
    moved = _start(api, {"id": other["id"], "phone_number": {"number": "97808080", "country": "tg"}})
    assert moved.status_code == 200  # the Togo wallet's second
    assert [_status(api, p["id"]) for p in (*benin, togo, other)] == ["started"] * 5


def test_a_country_label_cannot_make_one_number_a_new_wallet(api: httpx.Client, check: ReplyChecker) -> None:
    """`+22997808080` is Benin's wallet whatever `country` says: labelled tg, ci, sn or fr (on the customer or
    in the start's `phone_number`, `00...` too) it is still the fourth payout to that number."""
    benin = [create(api, check, **_to("+22997808080")) for _ in range(3)]
    assert _start(api, *({"id": p["id"]} for p in benin)).status_code == 200
    labelled = [create(api, check, **_to("+22997808080", country)) for country in ("tg", "ci", "sn", "fr")]
    for payout in labelled:
        reply = _start(api, {"id": payout["id"]})
        assert reply.status_code == 422, reply.text
        assert list(check("start_payouts", reply)["errors"]) == ["payouts[0].id"]
    other = create(api, check, **_to("96111111"))
    for phone in ({"number": "0022997808080", "country": "ne"}, {"number": "+22997808080", "country": "tg"}):
        reply = _start(api, {"id": other["id"], "phone_number": phone})
        assert reply.status_code == 422, reply.text
        assert list(check("start_payouts", reply)["errors"]) == ["payouts[0].phone_number"]
    assert [_status(api, p["id"]) for p in (*labelled, other)] == ["pending"] * 5


def test_rescheduling_counts_the_wallet_however_its_number_is_written(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    payouts = [create(api, check, **_to("97808080")) for _ in range(4)]
    written = {"number": "+22997808080", "country": "bj"}
    assert _start(api, *({"id": p["id"], "phone_number": written} for p in payouts[:3])).status_code == 200
    fourth = payouts[3]["id"]
    assert _start(api, {"id": fourth, "scheduled_at": _at(mock, 3 * DAY)}).status_code == 200
    reply = api.put(f"/payouts/{fourth}", json={"scheduled_at": _at(mock, 3600)})
    assert reply.status_code == 422
    assert list(check("update_payout", reply)["errors"]) == ["scheduled_at"]


def test_payouts_scheduled_days_away_do_not_count_today(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    payouts = [create(api, check) for _ in range(4)]
    far = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mock.app.clock.now() + 10 * DAY))
    assert _start(api, *({"id": p["id"], "scheduled_at": far} for p in payouts[:3])).status_code == 200
    assert _start(api, {"id": payouts[3]["id"]}).status_code == 200  # sent now: 10 days from the others


def test_failed_payouts_do_not_count(mock: MockServer, api: httpx.Client, check: ReplyChecker) -> None:
    failing = {"number": "+22997800000", "country": "bj"}  # numbers ending in 0000 always fail
    payouts = [create(api, check) for _ in range(4)]
    assert _start(api, *({"id": p["id"], "phone_number": failing} for p in payouts[:3])).status_code == 200
    mock.advance_clock(SETTLE)
    assert {_status(api, p["id"]) for p in payouts[:3]} == {"failed"}
    assert _start(api, {"id": payouts[3]["id"], "phone_number": failing}).status_code == 200


def _at(mock: MockServer, seconds: float) -> str:
    """A date `seconds` from now on the mock clock, as the PHP library writes it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(mock.app.clock.now() + seconds))


def test_rescheduling_cannot_bring_a_fourth_payout_within_a_day_of_three(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    payouts = [create(api, check) for _ in range(4)]
    assert _start(api, *({"id": p["id"]} for p in payouts[:3])).status_code == 200
    fourth = payouts[3]["id"]
    assert _start(api, {"id": fourth, "scheduled_at": _at(mock, 3600)}).status_code == 422  # start's rule
    far = _at(mock, 3 * DAY)
    assert _start(api, {"id": fourth, "scheduled_at": far}).status_code == 200
    reply = api.put(f"/payouts/{fourth}", json={"scheduled_at": _at(mock, 3600)})
    assert reply.status_code == 422
    errors = check("update_payout", reply)["errors"]
    assert list(errors) == ["scheduled_at"]
    assert NUMBER in errors["scheduled_at"][0]
    kept = api.get(f"/payouts/{fourth}").json()["v1/payout"]
    assert (kept["status"], kept["scheduled_at"]) == ("scheduled", far.replace(" ", "T") + ".000Z")
    mock.advance_clock(2 * 3600)
    assert mock.stats()["by_status"] == {"sent": 3, "scheduled": 1}


def test_rescheduling_counts_the_other_payouts_to_the_number_not_the_moved_one(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    payouts = [create(api, check) for _ in range(4)]
    later = _at(mock, 5 * DAY)
    assert _start(api, *({"id": p["id"], "scheduled_at": later} for p in payouts[:3])).status_code == 200
    assert _start(api, {"id": payouts[3]["id"], "scheduled_at": _at(mock, 2 * DAY)}).status_code == 200
    # Later, into a day that already has three: refused like an earlier move.
    refused = api.put(f"/payouts/{payouts[3]['id']}", json={"scheduled_at": _at(mock, 5 * DAY + 60)})
    assert refused.status_code == 422
    assert list(check("update_payout", refused)["errors"]) == ["scheduled_at"]
    # One of the three moved within its own day: the two others and the moved one make three, not four.
    moved = api.put(f"/payouts/{payouts[0]['id']}", json={"scheduled_at": _at(mock, 5 * DAY + 3600)})
    assert moved.status_code == 200, moved.text


def test_an_update_naming_another_number_does_not_take_the_payout_off_its_number(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    payouts = [create(api, check) for _ in range(4)]
    assert _start(api, *({"id": p["id"]} for p in payouts[:3])).status_code == 200
    fourth = payouts[3]["id"]
    assert _start(api, {"id": fourth, "scheduled_at": _at(mock, 3 * DAY)}).status_code == 200
    other = {"number": "+22961000001", "country": "bj"}
    customer = {"firstname": "Ada", "lastname": "Lovelace", "phone_number": other}
    reply = api.put(
        f"/payouts/{fourth}", json={"customer": customer, "phone_number": other, "scheduled_at": _at(mock, 3600)}
    )
    assert reply.status_code == 422
    assert list(check("update_payout", reply)["errors"]) == ["scheduled_at"]
    assert mock.app.store._payouts[fourth].phone_number == NUMBER


@pytest.fixture(scope="module")
def unlimited() -> Iterator[MockServer]:
    with run_mock(freeze_clock=True, max_payouts_per_number=None, delete_only_unsent=False) as server:
        yield server


def test_the_rules_are_switched_off_by_options(unlimited: MockServer) -> None:
    unlimited.reset()
    with httpx.Client(base_url=unlimited.base_url, headers=AUTH) as api:
        ids = [api.post("/payouts", json=payout_body()).json()["v1/payout"]["id"] for _ in range(6)]
        assert _start(api, *({"id": i} for i in ids)).status_code == 200
        assert api.delete(f"/payouts/{ids[0]}").status_code == 200


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_one_is_refused_at_construction(limit: int) -> None:
    with pytest.raises(ValueError, match="max_payouts_per_number"):
        MockOptions(max_payouts_per_number=limit)


# -- delete only before a payout is sent ------------------------------------------------------------


@pytest.mark.parametrize("sent", [False, True], ids=["started", "sent"])
def test_a_started_or_sent_payout_cannot_be_deleted(
    mock: MockServer, api: httpx.Client, check: ReplyChecker, sent: bool
) -> None:
    payout = create(api, check)
    assert _start(api, {"id": payout["id"]}).status_code == 200
    if sent:
        mock.advance_clock(SETTLE)
    reply = api.delete(f"/payouts/{payout['id']}")
    assert reply.status_code == 422
    assert list(check("delete_payout", reply)["errors"]) == ["status"]
    assert _status(api, payout["id"]) == ("sent" if sent else "started")
    assert mock.stats()["deleted"] == 0


def test_a_scheduled_payout_can_be_deleted_and_is_never_sent(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    payout = create(api, check)
    assert _start(api, {"id": payout["id"], "scheduled_at": "2099-01-01T00:00:00Z"}).status_code == 200
    reply = api.delete(f"/payouts/{payout['id']}")
    assert reply.status_code == 200
    assert check("delete_payout", reply)["v1/payout"]["status"] == "scheduled"
    assert mock.stats()["sent"] == 0
