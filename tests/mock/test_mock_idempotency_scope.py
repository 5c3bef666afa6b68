"""An Idempotency-Key replays only for the same caller: the same API key (however the scheme is spelled)
and the same whole `FedaPay-Account`. No account or key text can make two callers' scopes meet."""

from __future__ import annotations

import httpx
from fedapay_mock import MockServer

from tests.mock.mock_support import API_KEY, ReplyChecker, payout_body


def _create(api: httpx.Client, check: ReplyChecker, headers: dict[str, str]) -> int:
    reply = api.post("/payouts", json=payout_body(), headers=headers)
    payout_id: int = check("create_payout", reply)["v1/payout"]["id"]
    return payout_id


def test_a_separator_in_the_account_or_key_does_not_join_two_scopes(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    first = _create(api, check, {"FedaPay-Account": "1|k", "Idempotency-Key": "x"})
    second = _create(api, check, {"FedaPay-Account": "1", "Idempotency-Key": "k|x"})
    third = _create(api, check, {"FedaPay-Account": "1|k|x", "Idempotency-Key": "x"})

    assert [first, second, third] == [1, 2, 3]
    assert mock.stats()["idempotent_replays"] == 0


def test_accounts_sharing_a_long_prefix_are_two_callers(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    prefix = "9" * 64
    first = _create(api, check, {"FedaPay-Account": prefix + "1", "Idempotency-Key": "y"})
    second = _create(api, check, {"FedaPay-Account": prefix + "2", "Idempotency-Key": "y"})
    replay = _create(api, check, {"FedaPay-Account": prefix + "1", "Idempotency-Key": "y"})

    assert [first, second, replay] == [1, 2, 1]
    assert mock.stats()["idempotent_replays"] == 1


def test_the_same_api_key_spelled_another_way_replays(mock: MockServer, api: httpx.Client, check: ReplyChecker) -> None:
    first = _create(api, check, {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "z"})
    again = [
        _create(api, check, {"Authorization": header, "Idempotency-Key": "z"})
        for header in (f"bearer  {API_KEY}", f"BEARER {API_KEY}", f"Bearer   {API_KEY}")
    ]

    assert [first, *again] == [1, 1, 1, 1]
    assert (mock.stats()["created"], mock.stats()["idempotent_replays"]) == (1, 3)


def test_another_api_key_or_account_with_the_same_key_gets_its_own_payout(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    mine = _create(api, check, {"Idempotency-Key": "k1", "FedaPay-Account": "7"})
    other_key = _create(
        api, check, {"Idempotency-Key": "k1", "FedaPay-Account": "7", "Authorization": f"Bearer {API_KEY}x"}
    )
    other_account = _create(api, check, {"Idempotency-Key": "k1", "FedaPay-Account": "8"})
    no_account = _create(api, check, {"Idempotency-Key": "k1"})

    assert [mine, other_key, other_account, no_account] == [1, 2, 3, 4]
    assert mock.stats()["idempotent_replays"] == 0
