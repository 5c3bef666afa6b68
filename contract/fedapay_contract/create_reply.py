"""Whether a create's reply describes the payout the create asked for (`checks.create_reply_matches_request`).

A caller records the payout a create returns as the one it asked for: a reply of another amount, mode, currency,
merchant reference or beneficiary means the money goes elsewhere or in another sum than the caller believes.
Facts this rests on (docs/fedapay-wire.md, the spec's `PayoutCreate` and `Payout`): the create body names
`amount`, `currency.iso`, `mode`, the customer (in full, `CustomerInput`, or by id, `CustomerRef`) and optionally
`merchant_reference`; the payout replied carries `amount`, `mode`, `customer_id`, `merchant_reference`, and the
`customer` and `currency` objects when `include` asks for them. Only what the reply states is compared: a server
that leaves a field out says nothing about it (the schema checks say whether it may). No rule of one server
(fees, limits) is assumed: only that a payout is what it was asked to be.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from fedapay_payouts._wallets import same_wallet

# The names compared between a new customer as sent and the customer a reply embeds.
NAME_FIELDS = ("firstname", "lastname", "email")


def _integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _same_text(stated: str, asked: str) -> bool:
    """The same up to case, spacing and Unicode form: a server may tidy a name or an email it stores."""

    def tidy(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()

    return tidy(stated) == tidy(asked)


def _customer_problem(asked: Mapping[str, object], payout: Mapping[str, object]) -> str | None:
    embedded = payout.get("customer")
    shown: Mapping[str, object] = embedded if isinstance(embedded, Mapping) else {}
    if set(asked) == {"id"}:  # `CustomerRef`: an existing customer (it allows no other field)
        wanted = asked["id"]
        if not _integer(wanted):
            return None
        for field, value in (("customer_id", payout.get("customer_id")), ("customer.id", shown.get("id"))):
            if _integer(value) and value != wanted:
                return f"to customer {value} ({field}), not customer {wanted} as asked"
        return None
    for field in NAME_FIELDS:  # `CustomerInput`: a customer described in full, compared with the one embedded
        stated, wanted = shown.get(field), asked.get(field)
        if isinstance(stated, str) and isinstance(wanted, str) and not _same_text(stated, wanted):
            return f"to a customer of another {field} ({stated[:40]!r}, not {wanted[:40]!r} as asked)"
    if not same_wallet(shown.get("phone_number"), asked.get("phone_number")):
        return "to a customer of another phone number (another wallet) than asked"
    return None


def create_reply_problem(body: object, payout: object) -> str | None:
    """What in `payout` (a create's 2xx reply, unwrapped) differs from `body` (the create body sent), or None.

    Compared: `amount` and `mode` (always stated), `currency.iso` and the customer's names and number when the reply
    embeds them, `customer_id` for a customer named by id, and `merchant_reference` when the reply states one."""
    if not isinstance(body, Mapping) or not isinstance(payout, Mapping):
        return None
    amount, stated_amount = body.get("amount"), payout.get("amount")
    if _integer(amount) and _integer(stated_amount) and stated_amount != amount:
        return f"of amount {stated_amount}, not {amount} as asked"
    mode, stated_mode = body.get("mode"), payout.get("mode")
    if isinstance(mode, str) and isinstance(stated_mode, str) and stated_mode != mode:
        return f"in mode {stated_mode[:40]!r}, not {mode[:40]!r} as asked"
    currency, stated_currency = body.get("currency"), payout.get("currency")
    iso = currency.get("iso") if isinstance(currency, Mapping) else None
    stated_iso = stated_currency.get("iso") if isinstance(stated_currency, Mapping) else None
    if isinstance(iso, str) and isinstance(stated_iso, str) and stated_iso.upper() != iso.upper():
        return f"in currency {stated_iso[:10]!r}, not {iso[:10]!r} as asked"
    reference, stated_reference = body.get("merchant_reference"), payout.get("merchant_reference")
    if isinstance(reference, str) and isinstance(stated_reference, str) and stated_reference != reference:
        return f"of merchant_reference {stated_reference[:40]!r}, not {reference[:40]!r} as asked"
    customer = body.get("customer")
    if isinstance(customer, Mapping):
        problem = _customer_problem(customer, payout)
        if problem is not None:
            return problem
    return None
