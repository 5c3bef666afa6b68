"""Whether a server stored what it answered (`checks.created_payout_reads_back`, `checks.accepted_update_reads_back`).

A caller records a create's or an update's 2xx reply as the payout's new truth: a server that answers one amount and
stores (then pays) another, or answers an update and keeps the old values, pays a sum the caller never agreed to.
The payout read back (GET /payouts/{id}) just after is compared with the request and the reply:

- after a create, with the create body, by the rules of `create_reply.create_reply_problem` (amount, mode, currency,
  merchant reference, customer and wallet, as far as the read-back shows them), and a new payout is `pending`;
- after an update, each field the update sent (of the spec's `PayoutUpdate`) with its value in the reply: the reply
  says how the server wrote it (a tidied text, a date in its own form), the read-back must say the same;
- and before that, the update's reply with its request (`update_reply_problem`), as the client's `UpdateCall.check`
  does: `amount`, `merchant_reference` and the instant of `scheduled_at`, as asked. A server that answers 200 with
  the payout unchanged (old amount shown, nothing stored) agrees with its own read-back, not with the request.

Only what both sides state is compared: a field a reply or a read-back leaves out says nothing (the schema checks
say whether it may).
"""

from __future__ import annotations

from collections.abc import Mapping

from fedapay_contract import server_time
from fedapay_contract.create_reply import create_reply_problem

# The fields of the spec's `PayoutUpdate`: what an update may change (others are ignored, by the spec).
UPDATE_FIELDS = ("amount", "mode", "description", "merchant_reference", "custom_metadata", "scheduled_at")
# Known statuses a payout only reaches after a start (or a delete); a new one is `pending`.
NOT_NEW = frozenset({"scheduled", "started", "processing", "sent", "failed"})


def new_payout_problem(payout: object) -> str | None:
    """Why `payout` (a create's reply, or the payout read back after it) is no new payout, or None.

    A new payout is `pending`: FedaPay sends nothing until a start (docs/fedapay-wire.md, "pending (after create)").
    One shown started, scheduled, sent or failed has been (or will be) paid without the start the caller controls;
    one with `deleted_at` is gone. A status the spec's open set may add is not judged."""
    if not isinstance(payout, Mapping):
        return None
    if payout.get("deleted_at") is not None:
        return "deleted (`deleted_at` is set)"
    status = payout.get("status")
    if isinstance(status, str) and status in NOT_NEW:
        return f"`{status}`"
    return None


def created_read_back_problem(body: object, stored: object) -> str | None:
    """What in `stored` (the payout read back just after a 2xx create) differs from the create `body`, or None."""
    problem = create_reply_problem(body, stored)
    if problem is not None:
        return problem
    state = new_payout_problem(stored)
    return None if state is None else f"{state}, not `pending` as a new payout is"


def _same(name: str, stated: object, stored: object) -> bool:
    if name == "scheduled_at":  # the same instant, whatever form each reply writes it in
        stated_at, stored_at = server_time.instant(stated), server_time.instant(stored)
        if stated_at is not None and stored_at is not None:
            return stated_at == stored_at
    return bool(stated == stored) and type(stated) is type(stored)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def update_read_back_problem(body: object, reply: object, stored: object) -> str | None:
    """Which field an update sent (`body`) reads back (`stored`) other than its 2xx `reply` states it, or None."""
    if not isinstance(body, Mapping) or not isinstance(reply, Mapping) or not isinstance(stored, Mapping):
        return None
    for name in UPDATE_FIELDS:
        if name not in body or name not in reply or name not in stored:
            continue
        stated, kept = reply[name], stored[name]
        if not _same(name, stated, kept):
            return f"`{name}` {_show(kept)}, not {_show(stated)} as the update's reply says"
    return None


def update_reply_problem(body: object, reply: object) -> str | None:
    """Which field an update sent (`body`) its 2xx `reply` states otherwise, or None: `amount` (an integer),
    `merchant_reference` (a string; null changes nothing) and `scheduled_at` (a date: the same instant within
    `server_time.SAME_INSTANT_TOLERANCE_US`, whatever form each writes). The fields the client's `UpdateCall.check`
    compares; the others a server may tidy (a description, metadata) and the read-back judges."""
    if not isinstance(body, Mapping) or not isinstance(reply, Mapping):
        return None
    amount, stated = body.get("amount"), reply.get("amount")
    if type(amount) is int and type(stated) is int and stated != amount:
        return f"`amount` {stated}, not {amount} as asked"
    reference, stated = body.get("merchant_reference"), reply.get("merchant_reference")
    if isinstance(reference, str) and isinstance(stated, str) and stated != reference:
        return f"`merchant_reference` {_show(stated)}, not {_show(reference)} as asked"
    asked_at, stated = body.get("scheduled_at"), reply.get("scheduled_at")
    if isinstance(asked_at, str) and server_time.same_instant(stated, asked_at) is False:
        return f"`scheduled_at` {_show(stated)}, not {_show(asked_at)} as asked"
    return None
