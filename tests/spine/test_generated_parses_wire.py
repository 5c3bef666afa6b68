"""The generated models parse what the real API sends (docs/fedapay-wire.md), leaving nothing unparsed."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

from fedapay_payouts_api.models import (
    ListMeta,
    Payout,
    PayoutCustomMetadata,
    PayoutEnvelope,
    PayoutList,
    PayoutStartReply,
)

WIRE = (Path(__file__).resolve().parents[2] / "docs/fedapay-wire.md").read_text(encoding="utf-8")


def _fenced_json() -> dict[str, Any]:
    block = re.search(r"```json\n(.*?)```", WIRE, re.S)
    assert block is not None
    return json.loads(block.group(1))  # type: ignore[no-any-return]


def _inline_json(starting: str) -> dict[str, Any]:
    """The first `{...}` in the doc that starts with `starting`, read as a whole JSON object."""
    start = WIRE.index(starting)
    value, _ = json.JSONDecoder().raw_decode(WIRE[start:].replace("\n", " "))
    return value  # type: ignore[no-any-return]


SINGLE = _fenced_json()
PAYOUT = SINGLE["v1/payout"]
META = _inline_json('{"current_page"')


def _assert_fully_parsed(payout: Payout) -> None:
    assert payout.additional_properties == {}
    round_trip = payout.to_dict()
    assert set(round_trip) == set(PAYOUT)
    for key, value in PAYOUT.items():
        if not key.endswith("_at") or value is None:
            assert round_trip[key] == value, key


def test_single_payout_envelope() -> None:
    envelope = PayoutEnvelope.from_dict(SINGLE)
    assert envelope.additional_properties == {}
    payout = envelope.v1payout
    assert (payout.klass, payout.id, payout.reference, payout.amount) == ("v1/payout", 17, "1540402065678", 2000)
    assert payout.status == "pending"
    assert payout.created_at == datetime.datetime(2018, 10, 24, 17, 27, 45, 677000, tzinfo=datetime.UTC)
    assert payout.sent_at is None
    assert payout.scheduled_at is None
    assert payout.last_error_message is None
    _assert_fully_parsed(payout)


def test_list_with_meta() -> None:
    second = PAYOUT | {"id": 18, "status": "sent", "sent_at": "2018-10-24T18:00:00.000Z"}
    page = PayoutList.from_dict({"v1/payouts": [PAYOUT, second], "meta": META})
    assert page.additional_properties == {}
    assert [p.id for p in page.v1payouts] == [17, 18]
    assert page.v1payouts[1].sent_at == datetime.datetime(2018, 10, 24, 18, 0, tzinfo=datetime.UTC)
    assert isinstance(page.meta, ListMeta)
    assert page.meta.additional_properties == {}
    assert (page.meta.current_page, page.meta.next_page, page.meta.total_count, page.meta.per_page) == (1, None, 12, 25)


def test_start_reply() -> None:
    started = PAYOUT | {"status": "started", "started_at": "2018-10-24T17:30:00.000Z"}
    reply = PayoutStartReply.from_dict({"v1/payouts": [started]})
    assert reply.additional_properties == {}
    (payout,) = reply.v1payouts
    assert payout.status == "started"
    assert payout.started_at == datetime.datetime(2018, 10, 24, 17, 30, tzinfo=datetime.UTC)
    assert payout.additional_properties == {}


def test_unknown_status_and_null_timestamps_do_not_raise() -> None:
    payout = Payout.from_dict(PAYOUT | {"status": "reversed_by_operator", "sent_at": None, "failed_at": None})
    assert payout.status == "reversed_by_operator"
    assert payout.sent_at is None


def test_docs_fields_parse_typed_too() -> None:
    """The seed start page's example fields (fees and friends) are typed attributes, not leftovers."""
    full = PAYOUT | {
        "commission": 50,
        "fees": 5,
        "fixed_commission": 10,
        "amount_transferred": 935,
        "amount_debited": 1000,
        "metadata": {},
        "custom_metadata": {"order": "A-1"},
        "payment_method_id": 1,
        "transaction_key": "TX",
        "merchant_reference": "MERCHANT-456",
        "account_id": 5,
        "balance_id": 10,
    }
    payout = Payout.from_dict(full)
    assert payout.additional_properties == {}
    assert (payout.fees, payout.amount_transferred, payout.merchant_reference) == (5, 935, "MERCHANT-456")
    assert isinstance(payout.custom_metadata, PayoutCustomMetadata)
    assert payout.custom_metadata.additional_properties == {"order": "A-1"}
