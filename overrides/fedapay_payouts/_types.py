"""Shapes of the arguments users pass in (plain dicts, typed); the replies are the generated models.

Also the known values of a payout's `status` and `mode`, as `Literal` aliases. The fields themselves
stay `str` (`Payout.status`, `Payout.mode`): FedaPay's set is open, and a value it adds later must
reach you as it is rather than fail to parse. Use the aliases to type your own code, and the tuples
to tell a known value from a new one (`payout.status in PAYOUT_STATUSES`).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Final, Literal, NotRequired, Required, TypedDict, get_args

if TYPE_CHECKING:
    from fedapay_payouts_api.models.phone_number import PhoneNumber

__all__ = [
    "PAYOUT_MODES",
    "PAYOUT_STATUSES",
    "CustomerParams",
    "CustomerRefParams",
    "PayoutMode",
    "PayoutStatus",
    "PhoneNumberParams",
    "StartItem",
]

# The spec's "Known values" of `Payout.status` (spec/openapi.yaml; FedaPay's libraries and docs): a
# payout is `pending` from its creation until started, `scheduled` when started for a later date,
# `started` while being sent (some integrations also see `processing`), then `sent` (delivered) or
# `failed`. A test keeps this list equal to the spec's.
PayoutStatus = Literal["pending", "scheduled", "started", "processing", "sent", "failed"]
PAYOUT_STATUSES: Final[tuple[PayoutStatus, ...]] = get_args(PayoutStatus)

# The spec's known `mode` values: the mobile-money operator, by country. Benin: mtn_open, moov, sbin;
# Togo: moov_tg, togocel; Cote d'Ivoire: mtn_ci; Niger: airtel_ne; Senegal: free_sn; Guinea: mtn_open_gn;
# `mtn` is legacy. FedaPay adds operators: `create(mode=...)` takes any string the spec accepts.
PayoutMode = Literal[
    "mtn_open", "moov", "sbin", "moov_tg", "togocel", "mtn_ci", "airtel_ne", "free_sn", "mtn_open_gn", "mtn"
]
PAYOUT_MODES: Final[tuple[PayoutMode, ...]] = get_args(PayoutMode)


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
