"""Every row is checked before any money moves; one report of every problem, by row; nothing sent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from fedapay_bulk.options import SPEC_CURRENCIES
from fedapay_bulk.phones import PhoneError, parse_phone

from tests.bulk.bulk_support import payroll_rows, phone, run_bulk, write_csv

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

ROOT = Path(__file__).resolve().parents[2]


def test_an_invalid_row_anywhere_sends_nothing_and_every_problem_is_reported(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = payroll_rows(60)
    rows[0][4] = "1000001"  # over the 1,000,000 XOF cap
    rows[29][3] = "not a number"
    rows[59][2] = "no-at-sign"  # refused by the client's own check (customer.email)
    payroll = write_csv(tmp_path / "p.csv", rows)
    outcome = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)
    assert outcome.code == 2
    assert "row 2: amount: 1000001 XOF is over FedaPay's cap of 1,000,000 XOF" in outcome.err
    assert "row 31: phone number:" in outcome.err
    assert "row 61: customer.email: must be a valid email" in outcome.err
    assert fedapay_mock.stats()["requests"] == {}
    assert not (tmp_path / "p.csv.journal.sqlite").exists()


def test_the_cap_itself_is_allowed(fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = payroll_rows(2)
    rows[0][4] = "1 000 000"
    outcome = run_bulk(fedapay_mock, str(write_csv(tmp_path / "p.csv", rows)), "--dry-run", monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.err
    assert "1,001,100 XOF" in outcome.out  # 1,000,000 + 1,100


def test_a_fourth_payout_to_one_number_is_refused(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = payroll_rows(5)
    for index in range(4):
        rows[index][3] = phone(7)
        rows[index][4] = str(1000 + index)  # different amounts: not duplicates
    outcome = run_bulk(fedapay_mock, str(write_csv(tmp_path / "p.csv", rows)), monkeypatch=monkeypatch)
    assert outcome.code == 2
    assert "row 5: phone number: payout number 4 to" in outcome.err
    assert "row 4:" not in outcome.err
    assert fedapay_mock.stats()["requests"] == {}


def test_duplicates_need_allow_duplicates(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = payroll_rows(3)
    rows[2] = list(rows[0])
    payroll = str(write_csv(tmp_path / "p.csv", rows))
    refused = run_bulk(fedapay_mock, payroll, monkeypatch=monkeypatch)
    assert refused.code == 2
    assert "row 4: duplicate: same beneficiary and amount (1000 XOF) as row 2" in refused.err
    assert fedapay_mock.stats()["requests"] == {}
    allowed = run_bulk(fedapay_mock, payroll, "--allow-duplicates", monkeypatch=monkeypatch)
    assert allowed.code == 0, allowed.err
    assert fedapay_mock.stats()["created"] == 3  # both rows paid, each under its own reference


def test_french_headers_any_case_and_order_with_semicolons(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = ["MONTANT", "numéro de téléphone", "Nom", "prénom", "Pays", "Opérateur", "Devise"]
    rows = [
        ["25 000", "97808080", "Dossou", "Jean", "BJ", "moov", "xof"],
        ["5000", "90123456", "A", "B", "tg", "togocel", "XOF"],
    ]
    payroll = write_csv(tmp_path / "p.csv", rows, header=header, delimiter=";")
    outcome = run_bulk(fedapay_mock, str(payroll), "--dry-run", monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.err
    assert "moov" in outcome.out
    assert "togocel" in outcome.out
    assert "30,000 XOF" in outcome.out


def test_an_unknown_or_missing_column_is_refused(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = write_csv(tmp_path / "p.csv", [["A", "B", "+22997808080", "100"]],
                        header=["First name", "Last name", "Phone", "Amout"])
    outcome = run_bulk(fedapay_mock, str(payroll), "--mode", "moov", monkeypatch=monkeypatch)
    assert outcome.code == 2
    assert "row 1: Amout: unknown column" in outcome.err
    assert "row 1: amount: missing column" in outcome.err


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("+22997808080", None, ("+22997808080", "bj")),  # FedaPay's example: Benin's 8-digit plan
        ("+2290197808080", None, ("+2290197808080", "bj")),  # the 10-digit plan
        ("97808080", "bj", ("+22997808080", "bj")),
        ("0197808080", "BJ", ("+2290197808080", "bj")),
        ("0022890123456", None, ("+22890123456", "tg")),
        ("+225 07 01 02 03 04", None, ("+2250701020304", "ci")),
    ],
)
def test_phone_forms_accepted(text: str, country: str | None, expected: tuple[str, str]) -> None:
    assert parse_phone(text, country) == expected


@pytest.mark.parametrize(
    ("text", "country", "problem"),
    [
        ("97808080", None, "no [+]country code"),
        ("abc", "bj", "contains letters"),
        ("+22912", None, "has 2 digits"),
        ("+22890123456", "bj", "is a number of TG"),
        ("+999123456", None, "not a phone number"),
    ],
)
def test_phone_forms_refused(text: str, country: str | None, problem: str) -> None:
    with pytest.raises(PhoneError, match=problem):
        parse_phone(text, country)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("+229 97 8O 8O 8O", "contains letters (O)"),  # phonenumbers reads O as 6: +22997868686
        ("+229 FEDAPAY1", "contains letters (A, D, E, F, P, Y)"),  # a vanity number: keypad digits
        ("tel:+229 97 80 8O 80", "contains letters (O)"),
        ("+229 97808080 ext. 12", "contains letters"),  # an extension phonenumbers would drop
        ("+22997808080 x1", "contains letters (x)"),
        ("+22997808080#12", "contains '#'"),
        ("+22997808080;ext=5", "contains"),
        ("+22997808080*1", "contains '*'"),  # phonenumbers drops the *: +229978080801
        ("+229+97808080", "contains '+'"),
        ("tel:+22997808080;phone-context=bj", "contains"),
    ],
)
def test_a_phone_cell_phonenumbers_would_read_as_another_number_is_refused(text: str, problem: str) -> None:
    with pytest.raises(PhoneError) as caught:
        parse_phone(text, "bj")
    assert problem in str(caught.value)


@pytest.mark.parametrize("text", ["tel:+22997808080", "TEL: +22997808080", "+229 97-80.80-80", "+229 (97) 80 80 80",
                                  "+229\u00a097\u202f808080", "(229) 97808080", "+229 97.80.80.80", "97 80 80 80",
                                  "+229 9780 8080"])
def test_a_leading_tel_and_the_usual_separators_are_still_read(text: str) -> None:
    assert parse_phone(text, "bj") == ("+22997808080", "bj")


@pytest.mark.parametrize("text", ["+229 01 97 80 80 80", "+229 0197808080", "+229 (0)1 97 80 80 80", "01-97-80-80-80",
                                  "0197808080", "+2290197808080"])
def test_the_10_digit_plan_grouped_any_usual_way_is_one_number(text: str) -> None:
    assert parse_phone(text, "bj") == ("+2290197808080", "bj")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # Each would be +2299780809293 (10 digits: a valid length in Benin's new plan), another wallet.
        ("+229 97808092 / 93", "contains '/': one number per cell"),
        ("+229 97 80 80 92/93", "contains '/': one number per cell"),
        ("97808092 / 97808093", "contains '/': one number per cell"),
        ("+229 97808092-93", "looks like two numbers (97808092 then 93): one number per cell"),
        ("+229 97808092 - 93", "looks like two numbers (97808092 then 93)"),
        ("+229 97808092 93", "looks like two numbers (97808092 then 93)"),
        ("+229 97808092.93", "looks like two numbers (97808092 then 93)"),
        ("+229 97808092 (93)", "looks like two numbers (97808092 then 93)"),
        ("+22997808092 93", "looks like two numbers (22997808092 then 93)"),
    ],
)
def test_a_cell_holding_two_numbers_is_refused_not_joined(text: str, problem: str) -> None:
    with pytest.raises(PhoneError) as caught:
        parse_phone(text, "bj")
    assert problem in str(caught.value)


def test_a_file_with_two_numbers_in_a_phone_cell_sends_nothing_and_names_the_row(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = payroll_rows(3)
    rows[1][3] = "+229 97 80 80 92 / 93"
    outcome = run_bulk(fedapay_mock, str(write_csv(tmp_path / "p.csv", rows)), monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    assert ("  row 3: phone number: '+229 97 80 80 92 / 93' contains '/': one number per cell (its digits would be"
            " joined into one number, another wallet than either); keep one number (error)\n") in outcome.err
    assert "row 2" not in outcome.err
    assert fedapay_mock.stats()["requests"] == {}


@pytest.mark.parametrize(
    ("make", "args", "line"),
    [
        (lambda path: path.write_bytes(b"Nom,T\xe9l\xe9phone\n"), [], "  file: is not UTF-8 text"),
        (lambda path: path.write_text("Prénom,Nom,Téléphone,Montant,Mode\n", encoding="utf-8"), [],
         "  file: has a header but no rows (error)"),
        (lambda path: write_csv(path, payroll_rows(1)), ["--schedule-at", "2001-01-01T10:00:00Z"],
         "  --schedule-at: give a time in the future (or --send-late to send now) (error)"),
    ],
    ids=["not-utf8", "no-rows", "schedule-at"],
)
def test_a_problem_of_no_row_is_labelled_by_what_it_is_about(
    make: Callable[[Path], object], args: list[str], line: str, fedapay_mock: MockServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payroll = tmp_path / "p.csv"
    make(payroll)
    outcome = run_bulk(fedapay_mock, str(payroll), *args, monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    problems = [text for text in outcome.err.splitlines() if text.startswith("  ")]
    assert len(problems) == 1
    assert problems[0].startswith(line)


def test_a_file_with_letters_in_phone_numbers_sends_nothing_and_names_the_rows(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = payroll_rows(3)
    rows[0][3] = "+229 97 8O 8O 8O"
    rows[2][3] = "+229 FEDAPAY1"
    outcome = run_bulk(fedapay_mock, str(write_csv(tmp_path / "p.csv", rows)), monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    assert "row 2: phone number: '+229 97 8O 8O 8O' contains letters (O)" in outcome.err
    assert "row 4: phone number: '+229 FEDAPAY1' contains letters" in outcome.err
    assert "row 3" not in outcome.err
    assert fedapay_mock.stats()["requests"] == {}
    assert not (tmp_path / "p.csv.journal.sqlite").exists()


def test_the_currency_list_is_the_specs() -> None:
    spec = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text(encoding="utf-8"))
    assert set(spec["components"]["schemas"]["CurrencyInput"]["properties"]["iso"]["enum"]) == SPEC_CURRENCIES


@pytest.mark.parametrize(
    "text",
    [
        # Grouping hides the break after the first number: each would be +2299780809293, possible (10 digits) in
        # Benin's plan but no number of it (every 10-digit number there starts with 01): another wallet.
        "97 80 80 92 - 93", "+229 97 80 80 92 - 93", "+229 97 80 80 92 (93)", "97.80.80.92 - 93", "9780 8092 93",
    ],
)
def test_a_grouped_cell_holding_two_numbers_is_refused_where_numbers_have_several_lengths(text: str) -> None:
    with pytest.raises(PhoneError) as caught:
        parse_phone(text, "bj")
    assert f"{text!r} is +2299780809293, not a valid number of BJ" in str(caught.value)
    assert "Keep one number" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        # Numbers phonenumbers calls valid, and Benin's legacy 8-digit ones, grouped any usual way, still pass.
        ("01 97 80 80 80", "bj", ("+2290197808080", "bj")),
        ("+229 01978 08080", None, ("+2290197808080", "bj")),
        ("00 229 97 80 80 80", None, ("+22997808080", "bj")),
        ("97 80 80 80", "bj", ("+22997808080", "bj")),
        ("620 12 34 56", "gn", ("+224620123456", "gn")),
        # One length only (Senegal's 9 digits): possible is enough, a range the metadata does not know still pays.
        ("+221 33 123 45 67", None, ("+221331234567", "sn")),
    ],
)
def test_grouped_numbers_of_one_number_still_pass(text: str, country: str | None, expected: tuple[str, str]) -> None:
    assert parse_phone(text, country) == expected


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("(+228) 90 12 34 56", None, ("+22890123456", "tg")),
        ("(+228) 90 12 34 56", "tg", ("+22890123456", "tg")),
        ("(+229) 01 97 80 80 80", "bj", ("+2290197808080", "bj")),
        ("(+225) 0707070707", None, ("+2250707070707", "ci")),
        ("(+229)97808080", None, ("+22997808080", "bj")),
        ("( +225 ) 07 07 07 07 07", None, ("+2250707070707", "ci")),
        ("(00228) 90 12 34 56", None, ("+22890123456", "tg")),
        ("tel:(+228) 90 12 34 56", None, ("+22890123456", "tg")),
    ],
)
def test_the_dialling_code_in_brackets_is_read(text: str, country: str | None, expected: tuple[str, str]) -> None:
    assert parse_phone(text, country) == expected


@pytest.mark.parametrize("text", ["(228) +90 12 34 56", "90 (+228) 12 34 56", "(+228) +90 12 34 56"])
def test_a_plus_anywhere_but_first_or_in_the_leading_bracket_is_refused(text: str) -> None:
    with pytest.raises(PhoneError) as caught:
        parse_phone(text, "tg")
    assert "contains '+'" in str(caught.value)


@pytest.mark.parametrize("text", ["01 97 80 80", "+229 01 97 80 80", "01978080", "+229 00000000", "11 11 11 11"])
def test_eight_digits_that_were_never_a_benin_number_are_refused(text: str) -> None:
    """Benin's old 8-digit numbers are accepted on their length: a 10-digit number missing its last pair (`01 97 80
    80`) passed as one, a typo paying nobody or someone else. An old number is one whose new form (01 + it) is
    valid (thirteenth review)."""
    with pytest.raises(PhoneError, match="neither a number of BJ today nor an old one"):
        parse_phone(text, "bj")


@pytest.mark.parametrize("text", ["97808080", "+229 66 12 34 56", "0022995123456", "21 30 12 34"])
def test_old_benin_numbers_whose_new_form_is_valid_still_pass(text: str) -> None:
    e164, country = parse_phone(text, "bj")
    assert (len(e164), country) == (12, "bj")


def test_separators_only_between_groups_of_three_digits(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every space was removed before reading the amount: `150 00` was paid as 15000, `1 500 0` as 15000
    (fifteenth review). A separator goes between groups of 3 digits after a first group of 1 to 3, or nowhere."""
    rows = payroll_rows(8)
    amounts = ["150 00", "1 500 0", "1  000", "1000 000", "150 000", "1\u202f000\u00a0000", "12'345", "1_000"]
    for row, amount in zip(rows, amounts, strict=True):
        row[4] = amount
    outcome = run_bulk(fedapay_mock, str(write_csv(tmp_path / "p.csv", rows)), monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    problems = [line for line in outcome.err.splitlines() if line.startswith("  ")]
    assert problems == [
        f"  row {n}: amount: {amount!r} is not a whole amount (write 150000 or 150 000: digits grouped by 3, no"
        " decimals) (error)"
        for n, amount in zip(range(2, 6), amounts, strict=False)
    ]
    assert fedapay_mock.stats()["requests"] == {}
    grouped = write_csv(tmp_path / "g.csv", rows[4:])
    checked = run_bulk(fedapay_mock, str(grouped), "--dry-run", monkeypatch=monkeypatch)
    assert checked.code == 0, checked.out + checked.err
    assert f"{150_000 + 1_000_000 + 12_345 + 1_000:,} XOF" in checked.out
