"""Walk one payout through the embedded FedaPay mock with the client: create, start, wait for `sent`, list.

Run: .venv/bin/python scripts/demo.py   (exit status 0 on success, 1 on any failure)
"""

from __future__ import annotations

import sys
import time

from fedapay_mock import run_mock
from fedapay_payouts import FedaPay, FedaPayError

SETTLE_SECONDS = 0.2  # mock-clock time a started payout takes to be sent
WAIT_LIMIT_SECONDS = 10.0


def main() -> int:
    with run_mock(settle_seconds=SETTLE_SECONDS) as server, FedaPay(
        "sk_sandbox_demo", base_url=server.base_url
    ) as client:
        print(f"demo: mock FedaPay at {server.base_url}")
        payout = client.payouts.create(
            amount=2000,
            currency="XOF",
            mode="mtn_open",
            customer={
                "firstname": "Ada",
                "lastname": "Lovelace",
                "email": "ada@example.com",
                "phone_number": {"number": "+22997808080", "country": "bj"},
            },
            description="Demo payout",
            merchant_reference="demo-0001",
        )
        print(f"demo: created payout {payout.id} ({payout.amount} XOF to {payout.mode}), status {payout.status}")

        started = client.payouts.send_now(payout.id)
        print(f"demo: started payout {started.id}, status {started.status}")

        deadline = time.monotonic() + WAIT_LIMIT_SECONDS
        current = started
        while current.status not in ("sent", "failed"):
            if time.monotonic() > deadline:
                print(f"demo: FAILED: payout {payout.id} still {current.status} after {WAIT_LIMIT_SECONDS:g} s")
                return 1
            server.advance_clock(SETTLE_SECONDS)  # move the mock's clock instead of sleeping
            current = client.payouts.retrieve(payout.id)
            print(f"demo: polled payout {current.id}, status {current.status}")
        if current.status != "sent":
            print(f"demo: FAILED: payout {payout.id} ended {current.status}: {current.last_error_message}")
            return 1
        print(f"demo: payout {current.id} sent at {current.sent_at}")

        page = client.payouts.list(per_page=10)
        print(f"demo: listed {len(page)} payout(s) of {page.total_count}:")
        for item in page:
            print(f"demo:   #{item.id} {item.amount} XOF {item.status} reference={item.merchant_reference}")
        if [(item.id, item.status) for item in page] != [(payout.id, "sent")]:
            print("demo: FAILED: the list does not show exactly the one sent payout")
            return 1
    print("demo: OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FedaPayError as error:
        print(f"demo: FAILED: {type(error).__name__}: {error}")
        sys.exit(1)
