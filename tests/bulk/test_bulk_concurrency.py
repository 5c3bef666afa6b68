"""`--concurrency N` puts N creates on the wire at once (the client's `max_in_flight` follows it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fedapay_mock import create_app
from fedapay_mock.asgi import ASGIApp, Receive, Scope, Send

from contract_tests.serve import serve_asgi
from tests.bulk.bulk_support import API_KEY, payroll_rows, run_bulk, write_csv

ROWS = 40  # above the client's default max_in_flight (32): the command must raise it


class CountsCreatesInFlight:
    """The mock, counting the creates it is serving at once (each one held by a delay armed on the mock)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.now = 0
        self.most = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        counted = scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1/payouts"
        if counted:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            if counted:
                self.now -= 1


# (concurrency, rows): three times as many rows as places for 3 (a limit left at the client's 32 would
# let all 9 meet), and 40 rows for 40 (above the client's default, which the command must raise).
@pytest.mark.parametrize(("concurrency", "rows"), [(3, 9), (ROWS, ROWS)], ids=["3", str(ROWS)])
def test_concurrency_is_the_number_of_creates_on_the_wire(
    concurrency: int, rows: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = CountsCreatesInFlight(create_app(api_key=API_KEY))
    payroll = write_csv(tmp_path / "p.csv", payroll_rows(rows))
    with serve_asgi(cast(ASGIApp, counter)) as served:
        fault: dict[str, Any] = {"operation": "create_payout", "fault": "delay_before_reply", "times": rows,
                                 "delay": 0.4}
        armed = httpx.post(served.root_url + "/_mock/faults", json=fault,
                           headers={"Authorization": f"Bearer {API_KEY}"})
        assert armed.status_code < 300, armed.text
        outcome = run_bulk(cast(Any, served), str(payroll), "--concurrency", str(concurrency), monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.err
    # Every create waits 0.4 s on the server, so all the ones let through meet there: exactly `concurrency`
    # (before, the client's own max_in_flight capped any --concurrency above it).
    assert counter.most == concurrency
