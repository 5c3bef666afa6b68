"""Phone numbers: parsed with `phonenumbers` (Google's libphonenumber), sent as E.164 with their country.

What FedaPay's own examples use must pass (`+22997808080`: Benin's 8-digit numbers, as well as the
10-digit ones of its 2024 plan); what cannot be a number is refused. A carrier's numbering plan is not
second-guessed: a number only has to be *possible* (its length fits its country), not assigned.

`phonenumbers` reads more than digits: letters as keypad digits (`+229 97 8O 8O 8O` is +22997868686),
`ext.`, `#` or `;ext=` as an extension it drops, `*` as nothing. Each of those would pay another number
than the one written, so a cell may hold only digits, spaces and `+ - . ( )` (and a leading `tel:`).

It also joins every digit it keeps: a cell holding two numbers becomes one number that is neither
(`+229 97808092 / 93`, "or ...93", is +2299780809293, a valid length in Benin's 10-digit plan: another
wallet). So one number per cell: `/` (which lists alternatives) is refused, and so is a run of 8 or more
digits followed by more digits, whatever separates them (`97808092-93`, `97808092 93`, `97808092 (93)`):
no way of writing one number breaks it after 8 digits or more, while grouping (`01 97 80 80 80`,
`+229 0197808080`, `(229) 97-80-80-80`) never does.
"""

from __future__ import annotations

import re

import phonenumbers

# Countries whose previous numbering plan FedaPay's examples still use: the national lengths to accept
# on top of what the current metadata calls possible (Benin went from 8 to 10 digits in November 2024).
LEGACY_LENGTHS: dict[str, frozenset[int]] = {"BJ": frozenset({8})}
POSSIBLE = (
    phonenumbers.ValidationResult.IS_POSSIBLE,
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
)


# Besides decimal digits: what people write between them (spaces, no-break spaces, dashes, dots, brackets).
SEPARATORS = frozenset(" \u00a0\u202f-.()")
LISTS = frozenset("/")  # what separates two numbers in one cell (`,` `;` `|` and letters such as "or" are refused too)
WHOLE = 8  # digits in a row that make a whole number (Benin's old plan, and the shortest grouped numbers)
DIGIT_RUNS = re.compile(r"\d+")
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
    listed = sorted({ch for ch in raw if ch in LISTS})
    if listed:
        raise PhoneError(
            f"{raw!r} contains {' '.join(repr(ch) for ch in listed)}: one number per cell (its digits would be joined"
            " into one number, another wallet than either); keep one number"
        )
    after_plus = raw[1:] if raw.startswith("+") else raw
    other = sorted({ch for ch in after_plus if not ch.isdecimal() and ch not in SEPARATORS})
    if other:
        shown_chars = " ".join(repr(ch) for ch in other)
        raise PhoneError(f"{raw!r} contains {shown_chars}: a phone number is digits, spaces and + - . ( ) only"
                         " (a leading + only)")
    runs = DIGIT_RUNS.findall(raw)
    for index, run in enumerate(runs[:-1]):
        if len(run) >= WHOLE:
            rest = "".join(runs[index + 1 :])
            raise PhoneError(
                f"{raw!r} looks like two numbers ({run} then {rest}): one number per cell (their digits would be"
                f" joined into one number, another wallet); if it is one number, write it without the break after"
                f" {run}"
            )
