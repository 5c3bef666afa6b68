"""`FEDAPAY_LOG=info|debug` puts this package's log on stderr with no code (issue 13, openai's OPENAI_LOG).

Each test runs a fresh Python process (so no logging set-up of pytest's is in the way) whose clients
talk to this test's loopback mock, and reads what the process wrote to stderr.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest
from fedapay_mock.server import MockServer

KEY = "sk_sandbox_LogSwitch7Secret9Key"

SCRIPT = textwrap.dedent(
    """
    import asyncio, os, sys
    from fedapay_payouts import AsyncFedaPay, FedaPay

    customer = {"firstname": "Ada", "lastname": "Lovelace"}
    base_url = os.environ["MOCK_BASE_URL"]
    with FedaPay(base_url=base_url, sleep=lambda seconds: None) as client, FedaPay(base_url=base_url):
        payout = client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=customer,
                                       idempotency_key="log-switch-key")
        client.payouts.retrieve(payout.id)

    async def main() -> None:
        async with AsyncFedaPay(base_url=base_url) as client:
            await client.payouts.retrieve(payout.id)

    asyncio.run(main())
    print("done", file=sys.stderr)
    """
)


def run(fedapay_mock: MockServer, level: str | None, *, fault: bool = False) -> subprocess.CompletedProcess[str]:
    if fault:
        fedapay_mock.arm_fault("create_payout", "status", status=503, times=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDAPAY_")}
    env.update(FEDAPAY_API_KEY=KEY, MOCK_BASE_URL=fedapay_mock.base_url)
    if level is not None:
        env["FEDAPAY_LOG"] = level
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def attempt_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.search(r"-> \S+ in [0-9.]+ ms \(attempt", line)]


def assert_no_key(text: str) -> None:
    body = KEY.split("_", 2)[2]
    assert KEY not in text
    assert not [body[i : i + 8] for i in range(len(body) - 7) if body[i : i + 8] in text]


def test_without_the_switch_nothing_is_printed(fedapay_mock: MockServer) -> None:
    done = run(fedapay_mock, None)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "done\n"


@pytest.mark.parametrize("level", ["info", "INFO", " Info "])
def test_info_prints_one_line_per_attempt(fedapay_mock: MockServer, level: str) -> None:
    done = run(fedapay_mock, level, fault=True)
    assert done.returncode == 0, done.stderr
    lines = attempt_lines(done.stderr)
    assert len(lines) == 4  # create: 503 then 201; retrieve (sync); retrieve (async): each once, not per client
    assert re.search(r"INFO\] POST /v1/payouts -> 503 in [0-9.]+ ms \(attempt 1, request id req_\w+\)$", lines[0])
    assert re.search(r"INFO\] POST /v1/payouts -> 201 in [0-9.]+ ms \(attempt 2, request id req_\w+\)$", lines[1])
    assert re.search(r"INFO\] GET /v1/payouts/\d+ -> 200 in [0-9.]+ ms \(attempt 1, request id req_\w+\)$", lines[2])
    assert lines[3].split("] ", 1)[1].startswith("GET /v1/payouts/")
    assert "retrying POST /v1/payouts" in done.stderr
    assert "DEBUG" not in done.stderr
    assert_no_key(done.stderr)


def test_debug_adds_the_details_of_each_attempt_but_no_key_and_no_body(fedapay_mock: MockServer) -> None:
    done = run(fedapay_mock, "debug")
    assert done.returncode == 0, done.stderr
    assert len(attempt_lines(done.stderr)) == 3
    details = [line for line in done.stderr.splitlines() if "DEBUG] attempt 1 of POST /v1/payouts" in line]
    assert len(details) == 1
    assert "idempotency-key: log-switch-key" in details[0]
    assert "authorization" in details[0]  # named, its value never shown
    assert "x-request-id: req_" in details[0]
    assert "Lovelace" not in done.stderr  # no body: the beneficiary's data stays out of the log
    assert_no_key(done.stderr)


@pytest.mark.parametrize("value", ["verbose", "warning", "1"])
def test_an_unknown_value_is_refused_naming_the_variable(fedapay_mock: MockServer, value: str) -> None:
    done = run(fedapay_mock, value)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        f"fedapay_payouts.InvalidArgumentError: FEDAPAY_LOG: (from the environment) must be 'info' or 'debug' "
        f"(or unset for no log), got {value!r}"
    )
    assert_no_key(done.stderr)
