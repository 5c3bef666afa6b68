"""FedaPay's official Ruby library (../shared/vendor/fedapay-ruby, `ruby -I lib`) against the mock.

Every Payout method the library exposes, one step each, checking the values it hands back. Skips with a
message when `ruby` or the library's sources are missing (CI installs ruby, ruby-faraday, ruby-activesupport).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.mock.official_libraries import HERE, LibraryRun, check_step, require, run_library, steps, vendor_dir

EXPECTED: dict[str, dict[str, Any]] = {
    "create": {
        "ids": [1, 2, 3, 4, 5, 6],
        "class": "FedaPay::Payout",
        "status": "pending",
        "amount": 2000,
        "merchant_reference": "ruby-ref-0",
        "description": "Ruby library check",
    },
    "retrieve": {
        "class": "FedaPay::Payout",
        "id": 1,
        "amount": 2000,
        "status": "pending",
        "reference": "1000000000001",
        "commission": 100,
    },
    "list": {"ids": [6, 5], "item_class": "FedaPay::Payout"},
    "search": {"ids": [2], "by_reference": [3]},
    "update": {
        "class": "FedaPay::Payout",
        "description": "Updated by Ruby",
        "amount": 2500,
        "amount_transferred": 2353,
    },
    "save": {"returned": "Saved by Ruby", "stored": "Saved by Ruby"},
    "refresh": {"amount": 2500, "description": "Updated by Ruby"},
    "send_now": {"reply_status": "started", "status": "started"},
    # Time#to_s: "2099-11-23 18:42:30 UTC", then "2099-11-23 19:42:30 +0100" for a local time.
    "schedule": {"reply_status": "scheduled", "status": "scheduled", "scheduled_at": "2099-11-23T18:42:30.000Z"},
    "schedule_local_time": {"status": "scheduled", "scheduled_at": "2099-11-23T18:42:30.000Z"},
    "start": {"statuses": ["started"]},
    "schedule_all": {"statuses": ["scheduled"]},
    "send_all_now": {"statuses": ["started"]},
    "delete": {"deleted_id": 6, "deleted_at_set": True, "retrieve_after": 404},
    "error_422": {"status": 422},
    # Was 422 (fifteenth review): "" sent as `description=` is read as null, which was a change from "".
    "save_unchanged_empty_description": {"created": "", "status": "started", "description": ""},
}
MISSING_CLASS_METHOD = "Ruby Payout.{} calls the instance method start from a class method (NoMethodError)"
LIBRARY_BUGS = {
    "schedule_all": MISSING_CLASS_METHOD.format("schedule_all"),
    "send_all_now": MISSING_CLASS_METHOD.format("send_all_now"),
}


@pytest.fixture(scope="module")
def ruby_run() -> LibraryRun:
    ruby = require("ruby", "fedapay-ruby", "ruby ruby-faraday ruby-activesupport")
    vendor = vendor_dir()
    assert vendor is not None  # require() skipped otherwise
    return run_library(
        [ruby, "-I", str(vendor / "fedapay-ruby" / "lib"), str(HERE / "ruby" / "check.rb")], HERE / "ruby"
    )


@pytest.mark.parametrize("step", steps(EXPECTED, LIBRARY_BUGS))
def test_ruby_library_step(ruby_run: LibraryRun, step: str) -> None:
    check_step(ruby_run, step, EXPECTED[step])


def test_ruby_library_requests_reached_the_mock_as_each_operation(ruby_run: LibraryRun) -> None:
    assert ruby_run.stats["requests"] == {
        "create_payout": 8,
        "retrieve_payout": 11,
        "list_payouts": 1,
        "search_payouts": 2,
        "update_payout": 3,
        "start_payouts": 5,
        "delete_payout": 1,
    }
    assert ruby_run.stats["by_status"] == {"started": 3, "scheduled": 2, "pending": 1}
