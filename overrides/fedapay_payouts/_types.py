"""Shapes of the arguments users pass in (plain dicts, typed); the replies are the generated models."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, NotRequired, Required, TypedDict

if TYPE_CHECKING:
    from fedapay_payouts_api.models.phone_number import PhoneNumber

__all__ = ["CustomerParams", "CustomerRefParams", "PhoneNumberParams", "StartItem"]


class PhoneNumberParams(TypedDict):
    """A mobile-money number: `{"number": "+22997808080", "country": "bj"}`."""

    number: str
    country: str


class CustomerParams(TypedDict, total=False):
    """The beneficiary of a payout."""

    firstname: Required[str]
    lastname: Required[str]
    email: str
    phone_number: PhoneNumberParams | PhoneNumber


class CustomerRefParams(TypedDict):
    """An existing customer, by id (a payout's `customer_id`): `{"id": 12}`."""

    id: int


class StartItem(TypedDict):
    """One payout to start: its id, and optionally when (else now) and to which number (else the customer's)."""

    id: int
    scheduled_at: NotRequired[datetime.datetime | str]
    phone_number: NotRequired[PhoneNumberParams | PhoneNumber]
