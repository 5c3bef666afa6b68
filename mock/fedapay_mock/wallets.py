"""Which mobile-money wallet a phone number names: the key of FedaPay's per-number rule (docs/mock.md).

FedaPay's create page documents the customer's number "without national prefix" beside its `country`,
its start page shows `+22997808080`: one wallet is written both ways. A wallet is therefore the country
(lower case) and the national number: the country's dialling code is dropped when the number carries it.
`phonenumbers` is not a dependency of the mock: a table of the countries FedaPay serves is enough (their
mobile numbers are 8 to 10 digits and none starts with the country's code), and any other country keeps
its digits as sent (without a leading `+`).
"""

from __future__ import annotations

# Dialling codes of the countries FedaPay's modes serve (docs/fedapay-wire.md: Benin, Togo, Côte d'Ivoire,
# Niger, Senegal, Guinea).
DIALLING_CODES: dict[str, str] = {"bj": "229", "tg": "228", "ci": "225", "ne": "227", "sn": "221", "gn": "224"}
# A number written without `+` or `00` starts with the dialling code only when at least this many digits
# follow it (the shortest national number of the table's countries): `22912345`, a short number that happens
# to start with 229, is kept whole.
NATIONAL_DIGITS = 8

Wallet = tuple[str, str]
# Per country of the table: its code as a number carries it, the number of characters to drop, in the order
# tried (`+229`, `00229`; the bare `229` is tried last, when enough digits follow it).
_PREFIXES = {
    country: (("+" + code, 1 + len(code)), ("00" + code, 2 + len(code))) for country, code in DIALLING_CODES.items()
}


_KNOWN: dict[tuple[str, str | None], Wallet] = {}


def wallet(number: str, country: str | None) -> Wallet:
    """`(country, national number)`: `("bj", "97808080")` for `97808080`, `22997808080`, `+22997808080` and
    `0022997808080` in Benin. A country outside the table keeps the number's digits (`+` dropped).

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
    prefixes = _PREFIXES.get(country)
    if prefixes is not None:
        for prefix, length in prefixes:
            if number.startswith(prefix):
                return country, number[length:]
        code = DIALLING_CODES[country]
        if number.startswith(code) and len(number) - len(code) >= NATIONAL_DIGITS:
            return country, number[len(code) :]
    return country, number[1:] if number.startswith("+") else number
