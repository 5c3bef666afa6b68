"""Which mobile-money wallet a phone number names, to tell whether a reply pays the wallet a request named.

A wallet is a country and a national number: FedaPay's create page writes the customer's number "without
national prefix" beside its `country`, its start page writes `+22997808080`, and both name Benin's wallet
`97808080` (and `0197808080`: Benin's 10-digit plan prefixes `01` to the same wallet). A number carrying the
dialling code of one of FedaPay's countries names that country whatever
`country` says. The same rule as the mock's (`fedapay_mock/wallets.py`: the two packages do not import each
other); the table is FedaPay's countries (docs/fedapay-wire.md).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["Wallet", "same_wallet", "wallet_of"]

# FedaPay's countries (its modes), and Mali and Burkina Faso, whose numbers the bulk command also pays.
DIALLING_CODES: dict[str, str] = {
    "bj": "229", "tg": "228", "ci": "225", "ne": "227", "sn": "221", "gn": "224", "ml": "223", "bf": "226",
}
# Written without `+` or `00`, a number starts with a dialling code only when at least this many digits follow.
NATIONAL_DIGITS = 8

# (country or "" when none is stated, national digits)
Wallet = tuple[str, str]


def wallet_of(phone: object, country: object = None) -> Wallet | None:
    """The wallet `phone` names: a `{"number", "country"}` mapping or a number (with `country` beside it);
    None when it states no number. Spaces, dots, dashes and brackets a server may add are ignored."""
    if isinstance(phone, Mapping):
        country = phone.get("country", country)
        phone = phone.get("number")
    if not isinstance(phone, str):
        return None
    written = phone.strip()
    digits = "".join(char for char in written if char.isdigit())
    if not digits:
        return None
    if written.startswith("+"):
        minimum = 0
    elif digits.startswith("00"):
        digits, minimum = digits[2:], 0
    else:
        minimum = NATIONAL_DIGITS
    for owner, code in DIALLING_CODES.items():
        if digits.startswith(code) and len(digits) - len(code) >= minimum:
            return owner, _national(owner, digits[len(code) :])
    owner = country.lower() if isinstance(country, str) else ""
    return owner, _national(owner, digits)


def _national(country: str, digits: str) -> str:
    """Benin's 10-digit plan (since November 2024) is `01` and the 8 digits of the same wallet: one wallet, written
    either way (FedaPay may store or return either)."""
    if country == "bj" and len(digits) == 10 and digits.startswith("01"):
        return digits[2:]
    return digits


def same_wallet(stated: object, asked: object) -> bool:
    """Whether a reply's phone number (`stated`) names the wallet `asked`: `+22997808080` and `97808080` in Benin
    do; the same digits in Togo, or one digit more or less, do not. Only what is stated is compared: a number
    without a country is compared on its national digits, and no number at all says nothing against it."""
    shown, wanted = wallet_of(stated), wallet_of(asked)
    if shown is None or wanted is None:
        return True
    (shown_country, shown_number), (wanted_country, wanted_number) = shown, wanted
    countries_agree = not shown_country or not wanted_country or shown_country == wanted_country
    return shown_number == wanted_number and countries_agree
