"""The mock's one fee formula, documented in docs/mock.md.

It reproduces the example in FedaPay's docs (amount 1000 -> commission 50, fees 5, fixed_commission 10,
amount_transferred 935, amount_debited 1000) with integer arithmetic, and always keeps
`commission + fees + fixed_commission + amount_transferred == amount_debited == amount`, with no part
negative (the fixed commission is capped by what is left on very small amounts).
"""

from __future__ import annotations

from typing import NamedTuple

COMMISSION_PER_HUNDRED = 5
FEES_PER_THOUSAND = 5
FIXED_COMMISSION = 10


class Fees(NamedTuple):
    """The parts of a payout's amount; all None for a payout without an amount (a spec that made it optional).

    A tuple of numbers: cheap to make, and never tracked by the cyclic garbage collector, however many
    payouts the store holds."""

    commission: int | None
    fees: int | None
    fixed_commission: int | None
    amount_transferred: int | None
    amount_debited: int | None


def compute_fees(amount: int) -> Fees:
    """Fees of a payout of `amount` (a positive integer of the currency's unit)."""
    commission = amount * COMMISSION_PER_HUNDRED // 100
    fees = amount * FEES_PER_THOUSAND // 1000
    fixed = min(FIXED_COMMISSION, amount - commission - fees)
    # commission, fees, fixed_commission, amount_transferred, amount_debited
    return Fees(commission, fees, fixed, amount - commission - fees - fixed, amount)
