"""Which mobile-money wallet a phone number names: the key of FedaPay's per-number rule (docs/mock.md).

FedaPay's create page documents the customer's number "without national prefix" beside its `country`,
its start page shows `+22997808080`: one wallet is written both ways. A wallet is therefore the country
(lower case) and the national number: the country's dialling code is dropped when the number carries it, and
Benin's 10-digit form (`01` before the 8 digits, since November 2024) names the same wallet as the 8 digits.
A number that carries the dialling code of one of FedaPay's countries names that country's wallet whatever
`country` says (`+22997808080` labelled `tg` is Benin's `97808080`): an international number names its
country itself (as libphonenumber reads `+` and `00` numbers), and FedaPay's references say nothing of
refusing a mismatched `country`, so the mock counts the wallet the money would reach instead of refusing.
`phonenumbers` is not a dependency of the mock: a table of the countries FedaPay serves is enough (their
mobile numbers are 8 to 10 digits and none starts with a table country's code), and any other number keeps
its digits as sent (without a leading `+`) in the country given.
"""

from __future__ import annotations

# Dialling codes of the countries FedaPay's modes serve (docs/fedapay-wire.md: Benin, Togo, Côte d'Ivoire,
# Niger, Senegal, Guinea).
# And Mali and Burkina Faso, whose numbers the bulk command (and so a user's payroll) also pays.
DIALLING_CODES: dict[str, str] = {
    "bj": "229", "tg": "228", "ci": "225", "ne": "227", "sn": "221", "gn": "224", "ml": "223", "bf": "226",
}
# A number written without `+` or `00` starts with the dialling code only when at least this many digits
# follow it (the shortest national number of the table's countries): `22912345`, a short number that happens
# to start with 229, is kept whole.
NATIONAL_DIGITS = 8

Wallet = tuple[str, str]
# The table by dialling code (no code is a prefix of another: all are 22x).
_BY_CODE = tuple((code, country) for country, code in DIALLING_CODES.items())


_KNOWN: dict[tuple[str, str | None], Wallet] = {}


def wallet(number: str, country: str | None) -> Wallet:
    """`(country, national number)`: `("bj", "97808080")` for `97808080`, `22997808080`, `+22997808080` and
    `0022997808080` in Benin, and for `+22997808080` whatever its country says. A number that carries no code of
    the table keeps its digits (`+` dropped) in the country given.

    Called for each payout a start counts (the mock's busiest request): remembered (up to 4096 numbers at a
    time), as a payroll pays the same numbers again."""
    found = _KNOWN.get((number, country))
    if found is None:
        if len(_KNOWN) >= 4096:
            _KNOWN.clear()
        found = _KNOWN[(number, country)] = _national(number, country)
    return found


def _national(number: str, country: str | None) -> Wallet:
    country = country.lower() if country is not None else ""
    # A dialling code as the number carries it: after `+` or `00` (then any length follows), or bare when at
    # least NATIONAL_DIGITS follow (11 digits or more: no national number of a table country is that long).
    if number.startswith("+"):
        digits, minimum = number[1:], 0
    elif number.startswith("00"):
        digits, minimum = number[2:], 0
    else:
        digits, minimum = number, NATIONAL_DIGITS
    for code, owner in _BY_CODE:
        if digits.startswith(code) and len(digits) - len(code) >= minimum:
            return owner, _plan(owner, digits[len(code) :])
    return country, _plan(country, number[1:] if number.startswith("+") else number)


def _plan(country: str, national: str) -> str:
    """Benin's 10-digit plan (since November 2024) is `01` and the 8 digits of the same wallet: one wallet."""
    if country == "bj" and len(national) == 10 and national.startswith("01"):
        return national[2:]
    return national
