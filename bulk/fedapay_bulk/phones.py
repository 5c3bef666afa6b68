"""Phone numbers: parsed with `phonenumbers` (Google's libphonenumber), sent as E.164 with their country.

What FedaPay's own examples use must pass (`+22997808080`: Benin's 8-digit numbers, as well as the
10-digit ones of its 2024 plan); what cannot be a number is refused. A carrier's numbering plan is not
second-guessed where a length alone says "one number": in a country whose numbers all have one length
(Togo's 8 digits, Senegal's 9), a number only has to be *possible* (that length), not *valid* (in a range
the installed metadata knows is assigned): a range opened after that metadata was published still pays.

`phonenumbers` reads more than digits: letters as keypad digits (`+229 97 8O 8O 8O` is +22997868686),
`ext.`, `#` or `;ext=` as an extension it drops, `*` as nothing. Each of those would pay another number
than the one written, so a cell may hold only digits, spaces and `+ - . ( )` (and a leading `tel:`). The
`+` comes first, or inside a leading bracket: `(+228) 90 12 34 56` writes the dialling code in brackets.

It also joins every digit it keeps: a cell holding two numbers becomes one number that is neither
(`+229 97808092 / 93`, "or ...93", is +2299780809293, a possible length in Benin's 10-digit plan: another
wallet). So one number per cell: `/` (which lists alternatives) is refused, and so is a run of 8 or more
digits followed by more digits, whatever separates them (`97808092-93`, `97808092 93`, `97808092 (93)`):
no way of writing one number breaks it after 8 digits or more, while grouping (`01 97 80 80 80`,
`+229 0197808080`, `(229) 97-80-80-80`) never does. Grouping hides the break (`97 80 80 92 - 93`), so
where numbers have several lengths (Benin's 8 and 10 digits, Guinea's 8 and 9), a possible length no
longer proves one number: there the number must be *valid* for `phonenumbers` (+2299780809293 is not:
every number of Benin's 10-digit plan starts with 01), Benin's legacy 8-digit numbers aside.
"""

from __future__ import annotations

import re

import phonenumbers
from fedapay_payouts._wallets import wallet_of

# Countries whose previous numbering plan FedaPay's examples still use: the national lengths to accept
# on top of what the current metadata calls possible (Benin went from 8 to 10 digits in November 2024).
LEGACY_LENGTHS: dict[str, frozenset[int]] = {"BJ": frozenset({8})}
# What the new plan put before an old number: an old number is one whose new form is a valid number (so `01 97 80
# 80`, a 10-digit number missing its last pair, is not taken for an old 8-digit one).
LEGACY_PREFIXES: dict[str, str] = {"BJ": "01"}
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
    cell = raw  # as written, for the messages
    raw = _international_first(raw.translate(SPACES))  # a French spreadsheet groups digits with no-break spaces
    region = country.upper() if country else None
    if not raw.startswith("+") and region is None:
        raise PhoneError(f"{cell!r} has no +country code and the row has no country")
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(f"{cell!r} is not a phone number ({exc._msg})") from None
    found = phonenumbers.region_code_for_number(number)
    if not found or found == "ZZ":
        raise PhoneError(f"{cell!r} has no known country calling code")
    if region is not None and found != region and region in phonenumbers.SUPPORTED_REGIONS:
        # +1 and +7 are shared by several countries: the calling code must match, not the region.
        if phonenumbers.country_code_for_region(region) != number.country_code:
            raise PhoneError(f"{cell!r} is a number of {found}, but the row's country is {region}")
        found = region
    national = phonenumbers.national_significant_number(number)
    legacy = LEGACY_LENGTHS.get(found, frozenset())
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason not in POSSIBLE and len(national) not in legacy:
        raise PhoneError(f"{cell!r} has {len(national)} digits after +{number.country_code}: not a number of {found}")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if len(national) in legacy and not _valid_today(number.country_code, LEGACY_PREFIXES.get(found, "") + national):
        raise PhoneError(
            f"{cell!r} is {e164}: neither a number of {found} today nor an old one (its new form"
            f" +{number.country_code}{LEGACY_PREFIXES.get(found, '')}{national} is no valid number): a digit too many"
            " or too few?"
        )
    if len(national) not in legacy and len(_lengths(found) | legacy) > 1 and not phonenumbers.is_valid_number(number):
        raise PhoneError(
            f"{cell!r} is {e164}, not a valid number of {found} (its numbers have several lengths, so its length"
            " alone does not make it one number): two numbers in one cell, or a digit too many or too few?"
            " Keep one number"
        )
    return e164, found.lower()


def wallet_key(number: str) -> str:
    """The wallet a number names, as one text to group or compare by (`fedapay_payouts._wallets`, the client's rule):
    Benin's `+22997808080` and `+2290197808080` are one wallet. A number naming no wallet is its own text."""
    wallet = wallet_of(number)
    return number if wallet is None else f"{wallet[0]}:{wallet[1]}"


def _valid_today(country_code: int | None, national: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(f"+{country_code}{national}"))
    except phonenumbers.NumberParseException:
        return False


def _lengths(region: str) -> frozenset[int]:
    """Every national length the metadata calls possible in `region` (local-only ones too)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return frozenset()
    desc = metadata.general_desc
    return frozenset(desc.possible_length or ()) | frozenset(desc.possible_length_local_only or ())


def _leading_plus(raw: str) -> int | None:
    """Where the cell's international `+` is: first, or after leading brackets and spaces (`(+228) 90...`)."""
    index = len(raw) - len(raw.lstrip("( \u00a0\u202f"))
    return index if raw[index : index + 1] == "+" else None


def _international_first(raw: str) -> str:
    """The cell with its international prefix first, as `phonenumbers` and the checks above read it: `00` is `+`,
    and a `+` (or `00`) inside a leading bracket comes out of it (`(+228) 90 12 34 56` is `+(228) 90 12 34 56`)."""
    body = raw.lstrip("( ")
    opening = raw[: len(raw) - len(body)]
    if body.startswith("+"):
        return "+" + opening + body[1:]
    if body.startswith("00"):
        return "+" + opening + body[2:]
    return raw


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
    plus = _leading_plus(raw)
    after_plus = raw if plus is None else raw[:plus] + raw[plus + 1 :]
    other = sorted({ch for ch in after_plus if not ch.isdecimal() and ch not in SEPARATORS})
    if other:
        shown_chars = " ".join(repr(ch) for ch in other)
        raise PhoneError(f"{raw!r} contains {shown_chars}: a phone number is digits, spaces and + - . ( ) only"
                         " (one + only, first or in a leading bracket)")
    runs = DIGIT_RUNS.findall(raw)
    for index, run in enumerate(runs[:-1]):
        if len(run) >= WHOLE:
            rest = "".join(runs[index + 1 :])
            raise PhoneError(
                f"{raw!r} looks like two numbers ({run} then {rest}): one number per cell (their digits would be"
                f" joined into one number, another wallet); if it is one number, write it without the break after"
                f" {run}"
            )
