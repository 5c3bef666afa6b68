"""50 concurrent clients creating 5,000 payouts: distinct ids, exact totals, no error.

The mock runs in its own process (started by the console script) so that the clients and the server
do not share one interpreter lock.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.mock.mock_support import AUTH, payout_body
from tests.mock.mock_support_process import MockProcess

CLIENTS = 50
PER_CLIENT = 100


def _client(base_url: str, worker: int) -> list[int]:
    ids: list[int] = []
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=30.0) as client:
        for n in range(PER_CLIENT):
            body = payout_body(amount=1 + worker * PER_CLIENT + n)
            reply = client.post("/payouts", json=body)
            assert reply.status_code == 201, reply.text
            payout: dict[str, Any] = reply.json()["v1/payout"]
            assert payout["amount"] == body["amount"]
            ids.append(payout["id"])
    return ids


def _run(base_url: str) -> list[int]:
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(lambda w: _client(base_url, w), range(CLIENTS)))
    return [i for ids in results for i in ids]


def test_fifty_clients_create_five_thousand_distinct_payouts() -> None:
    with MockProcess() as mock:
        ids = _run(mock.base_url)
        assert len(ids) == CLIENTS * PER_CLIENT
        assert len(set(ids)) == CLIENTS * PER_CLIENT
        assert set(ids) == set(range(1, CLIENTS * PER_CLIENT + 1))
        listing = httpx.get(mock.base_url + "/payouts", params={"per_page": 100}, headers=AUTH).json()
        assert listing["meta"]["total_count"] == CLIENTS * PER_CLIENT
        assert listing["meta"]["total_pages"] == CLIENTS * PER_CLIENT // 100
        assert listing["v1/payouts"][0]["id"] == CLIENTS * PER_CLIENT
        stats = httpx.get(mock.root_url + "/_mock/stats").json()
        assert stats["created"] == stats["payouts_total"] == CLIENTS * PER_CLIENT
        assert stats["requests"] == {"create_payout": CLIENTS * PER_CLIENT, "list_payouts": 1}
        assert stats["by_status"] == {"pending": CLIENTS * PER_CLIENT}
