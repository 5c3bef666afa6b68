"""The wallet a phone number names (`fedapay_mock.wallets.wallet`): the key of the per-number rule."""

from __future__ import annotations

import pytest
from fedapay_mock.wallets import wallet


@pytest.mark.parametrize(
    ("number", "country", "expected"),
    [
        ("97808080", "bj", ("bj", "97808080")),  # FedaPay's create page: without the national prefix
        ("+22997808080", "bj", ("bj", "97808080")),  # its start page
        ("22997808080", "BJ", ("bj", "97808080")),
        ("0022997808080", "bj", ("bj", "97808080")),
        ("+2290197808080", "bj", ("bj", "0197808080")),  # Benin's ten-digit numbers
        ("22912345", "bj", ("bj", "22912345")),  # too short to carry the prefix: kept whole
        ("97808080", "tg", ("tg", "97808080")),  # the same digits in Togo: another wallet
        ("+22890000000", "tg", ("tg", "90000000")),
        ("+221771234567", "sn", ("sn", "771234567")),
        ("+2250701020304", "ci", ("ci", "0701020304")),
        ("0022790123456", "ne", ("ne", "90123456")),
        ("224621234567", "gn", ("gn", "621234567")),
        ("+33612345678", "fr", ("fr", "33612345678")),  # outside the table: the digits as sent, no "+"
        ("33612345678", "FR", ("fr", "33612345678")),
    ],
)
def test_a_wallet_is_the_country_and_the_national_number(number: str, country: str, expected: tuple[str, str]) -> None:
    assert wallet(number, country) == expected
