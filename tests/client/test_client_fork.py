"""A process forked after a call opens its own connections (fedapay_payouts/_slots.py, `_after_fork`).

The child inherited its parent's kept-alive connections: both processes' requests interleaved on one socket,
and each read the other's replies (a create answered with the other process's payout, taken for success when
the reply differed only where the client does not compare). The child now forgets them and opens its own.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest
from fedapay_payouts import FedaPay

from tests.client.client_support import API_KEY, CUSTOMER

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

CALLS = 25


def _creates(client: FedaPay, who: str) -> list[str]:
    """`CALLS` creates tagged `who`; the tags the replies carry back."""
    order: dict[str, Any] = {"amount": 1000, "currency": "XOF", "mode": "moov", "customer": CUSTOMER}
    tags = []
    for n in range(CALLS):
        payout = client.payouts.create(**order, custom_metadata={"who": who, "n": n})
        tags.append(f"{payout.custom_metadata.additional_properties['who']}-{n}")  # type: ignore[union-attr]
    return tags


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_a_forked_child_opens_its_own_connections_and_each_process_reads_its_own_replies(
    fedapay_mock: MockServer,
) -> None:
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url, max_in_flight=1) as client:
        client.payouts.list()  # a kept-alive connection on the one place, inherited by the child
        [place] = client._turns.slots
        assert place.transport is not None
        pid = os.fork()
        if pid == 0:  # the child: its verdict is its exit status; nothing of pytest runs here
            code = 1
            try:
                fresh = place.transport is None
                own = _creates(client, "child") == [f"child-{n}" for n in range(CALLS)]
                code = 0 if fresh and own else 3
            finally:
                os._exit(code)
        mine = _creates(client, "parent")
        _, status = os.waitpid(pid, 0)
    assert mine == [f"parent-{n}" for n in range(CALLS)]
    assert os.waitstatus_to_exitcode(status) == 0
