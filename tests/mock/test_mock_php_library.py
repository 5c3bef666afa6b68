"""FedaPay's official PHP library (../shared/vendor/fedapay-php, loaded with init.php) against the mock.

Every Payout method the library exposes, one step each, checking the values it hands back. Skips with a
message when `php` or the library's sources are missing (CI installs php-cli, php-curl, php-mbstring).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.mock.official_libraries import HERE, LibraryRun, check_step, require, run_library, steps, vendor_dir

EXPECTED: dict[str, dict[str, Any]] = {
    "create": {
        "ids": [1, 2, 3, 4, 5, 6],
        "class": "FedaPay\\Payout",
        "status": "pending",
        "amount": 2000,
        "merchant_reference": "php-ref-0",
        "description": "PHP library check",
        "customer_class": "FedaPay\\Customer",  # include=customer,currency in the create body
        "customer_firstname": "Ada",
        "currency_iso": "XOF",
    },
    "retrieve": {
        "class": "FedaPay\\Payout",
        "id": 1,
        "amount": 2000,
        "status": "pending",
        "reference": "1000000000001",
        "commission": 100,
    },
    "all": {"ids": [6, 5], "item_class": "FedaPay\\Payout", "total_count": 6, "next_page": 2},
    "search": {"ids": [2], "by_reference": [3], "total_count": 1},
    "update": {"class": "FedaPay\\Payout", "description": "Updated by PHP", "amount": 2500, "amount_transferred": 2353},
    "save_unchanged": {
        "amount": 2000,
        "updated_at_kept": True,
        "description": "PHP library check",
        "merchant_reference": "php-ref-2",
    },
    "save_changed": {"returned": "Saved by PHP", "stored": "Saved by PHP"},
    "send_now": {"status": "started", "started": True},
    "schedule": {"status": "scheduled", "scheduled_at": "2099-11-23T18:42:30.000Z"},
    "schedule_all": {"statuses": ["scheduled"], "scheduled_at": "2099-01-01T10:00:00.000Z"},
    "send_all_now": {"ids": [5, 3], "statuses": ["started", "started"]},
    "delete": {"retrieve_after": 404},
    "create_in_batch": {"klass": "v1/payout_batch"},
    "error_422": {"status": 422, "fields": ["customer", "amount"]},
    # Was description null once saved pending, and 422 once sent (fifteenth review).
    "save_unchanged_empty_description": {"created": "", "pending": "", "status": "started", "sent": ""},
}
LIBRARY_BUGS = {
    "create_in_batch": "PHP createInBatch posts to /payouts/batch, an endpoint FedaPay's reference does not have",
}


@pytest.fixture(scope="module")
def php_run() -> LibraryRun:
    php = require("php", "fedapay-php", "php-cli php-curl php-mbstring")
    return run_library([php, str(HERE / "php" / "check.php"), str(vendor_dir())], HERE / "php")


@pytest.mark.parametrize("step", steps(EXPECTED, LIBRARY_BUGS))
def test_php_library_step(php_run: LibraryRun, step: str) -> None:
    check_step(php_run, step, EXPECTED[step])


def test_php_library_requests_reached_the_mock_as_each_operation(php_run: LibraryRun) -> None:
    assert php_run.stats["requests"] == {
        "create_payout": 8,
        "retrieve_payout": 10,
        "list_payouts": 1,
        "search_payouts": 2,
        "update_payout": 5,
        "start_payouts": 5,
        "delete_payout": 1,
    }
    assert php_run.stats["by_status"] == {"started": 4, "scheduled": 2}
