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
        # Benin's ten-digit plan (November 2024) puts 01 before the same 8 digits: one wallet, either way.
        ("+2290197808080", "bj", ("bj", "97808080")),
        ("0197808080", "bj", ("bj", "97808080")),
        ("0297808080", "bj", ("bj", "0297808080")),  # another prefix: not the 8-digit wallet
        ("0197808080", "tg", ("tg", "0197808080")),  # Benin's rule only
        ("22912345", "bj", ("bj", "22912345")),  # too short to carry the prefix: kept whole
        ("97808080", "tg", ("tg", "97808080")),  # the same digits in Togo: another wallet
        ("+22890000000", "tg", ("tg", "90000000")),
        ("+221771234567", "sn", ("sn", "771234567")),
        ("+2250701020304", "ci", ("ci", "0701020304")),
        ("0022790123456", "ne", ("ne", "90123456")),
        ("224621234567", "gn", ("gn", "621234567")),
        ("+22376123456", "ml", ("ml", "76123456")),  # Mali and Burkina Faso, which the bulk command pays
        ("0022376123456", "ml", ("ml", "76123456")),
        ("22670123456", "BF", ("bf", "70123456")),
        ("+33612345678", "fr", ("fr", "33612345678")),  # outside the table: the digits as sent, no "+"
        ("33612345678", "FR", ("fr", "33612345678")),
        ("+0097808080", "bj", ("bj", "0097808080")),  # "+" then no code of the table: the digits as sent
    ],
)
def test_a_wallet_is_the_country_and_the_national_number(number: str, country: str, expected: tuple[str, str]) -> None:
    assert wallet(number, country) == expected


@pytest.mark.parametrize("country", ["bj", "tg", "CI", "sn", "ne", "gn", "fr", "us"])
@pytest.mark.parametrize("number", ["+22997808080", "0022997808080", "22997808080"])
def test_a_number_carrying_a_dialling_code_names_that_country_whatever_country_says(number: str, country: str) -> None:
    """`+22997808080` is Benin's wallet `97808080` labelled `tg` or `fr` too: the label cannot make it a new
    wallet (the per-number rule would count it apart). The bare form counts when 8 digits or more follow the
    code: 11 digits or more, longer than any national number of FedaPay's countries."""
    assert wallet(number, country) == ("bj", "97808080")


@pytest.mark.parametrize(
    ("number", "country", "expected"),
    [
        ("+22890000000", "bj", ("tg", "90000000")),
        ("00221771234567", "ci", ("sn", "771234567")),
        ("2250701020304", "gn", ("ci", "0701020304")),
        ("22812345", "tg", ("tg", "22812345")),  # a bare code with too few digits after it: a national number
        ("22812345", "bj", ("bj", "22812345")),
    ],
)
def test_the_dialling_code_wins_over_another_table_country(
    number: str, country: str, expected: tuple[str, str]
) -> None:
    assert wallet(number, country) == expected
