"""A configuration the client refuses is one line, exit 2, in the command's words: the environment variable
(or option) the operator sets, never the Python argument the client's message names (`pass api_key=...`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fedapay_bulk.configuration import in_command_words
from fedapay_payouts import InvalidArgumentError

from tests.bulk.bulk_support import payroll_rows, run_bulk, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

# What the command has no input for: a Python argument, alone or given a value, or "pass ...".
CLIENT_WORDS = re.compile(r"\b(api_key|base_url|account_id|max_retries|max_in_flight)\b|\w='|=\.\.\.|\bpass\b")


@pytest.mark.parametrize(
    ("environment", "said"),
    [
        ({"FEDAPAY_API_KEY": ""}, "error: FEDAPAY_API_KEY is not set: set it to your FedaPay secret API key"),
        ({"FEDAPAY_API_KEY": "sk_sandbox_with space"}, "error: FEDAPAY_API_KEY contains a space"),
        ({"FEDAPAY_API_KEY": "sk_live_bulk"},
         "error: FEDAPAY_ENVIRONMENT is not set and FEDAPAY_API_KEY is a live key: the sandbox is only the default."
         " To move real money, say so: set FEDAPAY_ENVIRONMENT=live; for the sandbox, use a sandbox key"),
        ({"FEDAPAY_API_KEY": "sk_live_bulk", "FEDAPAY_ENVIRONMENT": "sandbox"},
         "error: FEDAPAY_ENVIRONMENT is 'sandbox' but FEDAPAY_API_KEY is a live key: use a sandbox key, or set"
         " FEDAPAY_ENVIRONMENT=live if this key is meant for the live environment"),
        ({"FEDAPAY_API_KEY": "sk_sandbox_bulk", "FEDAPAY_ENVIRONMENT": "live"},
         "error: FEDAPAY_ENVIRONMENT is 'live' but FEDAPAY_API_KEY is a sandbox key: use a live key, or set"
         " FEDAPAY_ENVIRONMENT=sandbox if"),
        ({"FEDAPAY_ENVIRONMENT": "prod"}, "error: FEDAPAY_ENVIRONMENT must be 'sandbox' or 'live', got 'prod'"),
        ({"FEDAPAY_BASE_URL": "https://user:secret@api.example/v1"},
         "error: FEDAPAY_BASE_URL must not contain a user name or password (the API key goes in FEDAPAY_API_KEY)"),
        ({"FEDAPAY_BASE_URL": "ftp://api.example/v1"}, "error: FEDAPAY_BASE_URL must be an http(s) URL"),
        ({"FEDAPAY_API_KEY": "sk_live_bulk", "FEDAPAY_ENVIRONMENT": "live", "FEDAPAY_BASE_URL": "http://api.example"},
         "error: FEDAPAY_BASE_URL must be https with a live key"),
        ({"FEDAPAY_ACCOUNT_ID": "my account"}, "error: FEDAPAY_ACCOUNT_ID must be a positive integer"),
        ({"FEDAPAY_MAX_RETRIES": "many"}, "error: FEDAPAY_MAX_RETRIES must be a whole number from 0 to 100"),
        ({"FEDAPAY_LOG": "verbose"}, "error: FEDAPAY_LOG must be 'info' or 'debug'"),
    ],
    ids=["no-key", "key-with-space", "live-key-no-environment", "live-key-sandbox", "sandbox-key-live",
         "unknown-environment", "url-with-password", "url-not-http", "live-over-http", "account", "retries", "log"],
)
def test_a_configuration_error_names_the_commands_own_inputs(
    environment: dict[str, str], said: str, fedapay_mock: MockServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payroll = str(write_csv(tmp_path / "p.csv", payroll_rows(2)))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    outcome = run_bulk(
        fedapay_mock, payroll, monkeypatch=monkeypatch,
        api_key=environment.get("FEDAPAY_API_KEY", "sk_sandbox_bulk_tests"),
        base_url=environment.get("FEDAPAY_BASE_URL"),
    )
    assert outcome.code == 2, outcome.out + outcome.err
    assert outcome.out == ""
    lines = outcome.err.splitlines()
    assert len(lines) == 1, outcome.err  # one line
    assert lines[0].startswith(said), lines[0]
    assert lines[0].endswith("; nothing was sent")
    assert CLIENT_WORDS.search(lines[0]) is None, lines[0]
    assert "(from the environment)" not in lines[0]
    assert "secret@" not in lines[0]  # never a secret
    assert "with space" not in lines[0]
    assert fedapay_mock.stats()["requests"] == {}


def test_an_error_that_is_not_the_configurations_is_left_to_its_own_words() -> None:
    assert in_command_words(InvalidArgumentError("report", "is the payroll file")) is None
    said = in_command_words(InvalidArgumentError("max_in_flight", "must be a whole number from 1 to 64, got 0"))
    assert said == "--concurrency must be a whole number from 1 to 64, got 0"
