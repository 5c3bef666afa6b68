"""Phone numbers: parsed with `phonenumbers` (Google's libphonenumber), sent as E.164 with their country.

What FedaPay's own examples use must pass (`+22997808080`: Benin's 8-digit numbers, as well as the
10-digit ones of its 2024 plan); what cannot be a number is refused. A carrier's numbering plan is not
second-guessed: a number only has to be *possible* (its length fits its country), not assigned.

`phonenumbers` reads more than digits: letters as keypad digits (`+229 97 8O 8O 8O` is +22997868686),
`ext.`, `#` or `;ext=` as an extension it drops, `*` as nothing. Each of those would pay another number
than the one written, so a cell may hold only digits, spaces and `+ - . ( ) /` (and a leading `tel:`).
"""

from __future__ import annotations

import phonenumbers

# Countries whose previous numbering plan FedaPay's examples still use: the national lengths to accept
# on top of what the current metadata calls possible (Benin went from 8 to 10 digits in November 2024).
LEGACY_LENGTHS: dict[str, frozenset[int]] = {"BJ": frozenset({8})}
POSSIBLE = (
    phonenumbers.ValidationResult.IS_POSSIBLE,
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
)


# Besides decimal digits: what people write between them (spaces, no-break spaces, dashes, dots, brackets).
SEPARATORS = frozenset(" \u00a0\u202f-.()/")
SPACES = str.maketrans("\u00a0\u202f", "  ")
TEL = "tel:"  # RFC 3966's prefix (a `tel:` link copied from a page), read by phonenumbers as before


class PhoneError(ValueError):
    """Why a phone number was refused (the message names the problem, never guesses a fix)."""


def parse_phone(text: str, country: str | None) -> tuple[str, str]:
    """`(E.164 number, lower-case country code)`; `country` (ISO alpha-2) is needed for a national number."""
    raw = text.strip()
    if raw[: len(TEL)].lower() == TEL:
        raw = raw[len(TEL) :].strip()
    if not raw:
        raise PhoneError("is empty")
    _only_digits(raw)
    raw = raw.translate(SPACES)  # a French spreadsheet groups digits with (narrow) no-break spaces
    region = country.upper() if country else None
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    if not raw.startswith("+") and region is None:
        raise PhoneError(f"{raw!r} has no +country code and the row has no country")
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(f"{raw!r} is not a phone number ({exc._msg})") from None
    found = phonenumbers.region_code_for_number(number)
    if not found or found == "ZZ":
        raise PhoneError(f"{raw!r} has no known country calling code")
    if region is not None and found != region and region in phonenumbers.SUPPORTED_REGIONS:
        # +1 and +7 are shared by several countries: the calling code must match, not the region.
        if phonenumbers.country_code_for_region(region) != number.country_code:
            raise PhoneError(f"{raw!r} is a number of {found}, but the row's country is {region}")
        found = region
    national = phonenumbers.national_significant_number(number)
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason not in POSSIBLE and len(national) not in LEGACY_LENGTHS.get(found, frozenset()):
        raise PhoneError(f"{raw!r} has {len(national)} digits after +{number.country_code}: not a number of {found}")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, found.lower()


def _only_digits(raw: str) -> None:
    """Refuse what `phonenumbers` would turn into other digits or drop (letters, extensions, `*`, `#`)."""
    letters = sorted({ch for ch in raw if ch.isalpha()})
    if letters:
        raise PhoneError(
            f"{raw!r} contains letters ({', '.join(letters)}): a phone number is digits only (a letter would be read"
            " as a keypad digit and pay another number)"
        )
    after_plus = raw[1:] if raw.startswith("+") else raw
    other = sorted({ch for ch in after_plus if not ch.isdecimal() and ch not in SEPARATORS})
    if other:
        shown_chars = " ".join(repr(ch) for ch in other)
        raise PhoneError(f"{raw!r} contains {shown_chars}: a phone number is digits, spaces and + - . ( ) / only"
                         " (a leading + only)")
