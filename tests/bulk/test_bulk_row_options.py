"""`--mode`, `--currency` and `--country` are checked once, when the command's arguments are read, with the row
checks' own rules: one line naming the option, exit 2, nothing sent (fifteenth review: a bad value was one problem
per row not naming the option, or accepted without a word when every row had its own value; `--country zz`
printed phonenumbers' "Missing or invalid default region.")."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fedapay_bulk import BulkOptions, pay_file
from fedapay_payouts import InvalidArgumentError

from tests.bulk.bulk_support import API_KEY, run_bulk

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

OWN_VALUES = (  # every row names its own mode, currency and country: the options give none of them
    "First name,Last name,Phone,Amount,Mode,Currency,Country\n"
    "Ada,Love,97801111,1000,mtn_open,XOF,bj\n"
    "Bob,Smith,+22997801112,2000,moov,XOF,bj\n"
)
NO_VALUES = "First name,Last name,Phone,Amount\nAda,Love,+22997801111,1000\nBob,Smith,+22997801112,2000\n"
MISTAKES = [
    ("--mode", "MTN", "'MTN' is not a mode name (lower-case letters, digits and _, e.g. mtn_open, moov)"),
    ("--mode", "mtn open", "'mtn open' is not a mode name (lower-case letters, digits and _, e.g. mtn_open, moov)"),
    ("--mode", "", "'' is not a mode name (lower-case letters, digits and _, e.g. mtn_open, moov)"),
    ("--currency", "EUR", "'EUR' is not one FedaPay accepts (GNF, XOF)"),
    ("--country", "zz", "'zz' is no country code phonenumbers knows (bj, tg, ci, ...)"),
    ("--country", "benin", "'benin' is not a 2-letter country code (bj, tg, ci, ...)"),
]


@pytest.mark.parametrize("text", [OWN_VALUES, NO_VALUES], ids=["rows-with-their-own", "rows-without"])
@pytest.mark.parametrize(("option", "value", "said"), MISTAKES, ids=[f"{o}={v}" for o, v, _ in MISTAKES])
def test_a_bad_row_option_is_one_line_naming_it_and_nothing_is_sent(
    option: str, value: str, said: str, text: str, fedapay_mock: MockServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payroll = tmp_path / "p.csv"
    payroll.write_text(text, encoding="utf-8")
    extra = [] if option == "--mode" or text == OWN_VALUES else ["--mode", "mtn_open"]
    outcome = run_bulk(fedapay_mock, str(payroll), option, value, *extra, monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    errors = [line for line in outcome.err.splitlines() if "error" in line]
    assert errors == [f"fedapay-payouts bulk: error: argument {option}: {said}"]
    assert "row " not in outcome.err
    assert "Missing or invalid default region" not in outcome.err
    assert fedapay_mock.stats()["requests"] == {}
    assert not (tmp_path / "p.csv.journal.sqlite").exists()


@pytest.mark.parametrize(("field", "value"), [("mode", "MTN"), ("currency", "EUR"), ("country", "zz")])
def test_the_library_form_refuses_the_same_row_options(field: str, value: str, tmp_path: Path) -> None:
    payroll = tmp_path / "p.csv"
    payroll.write_text(OWN_VALUES, encoding="utf-8")
    options: Any = {field: value}
    with pytest.raises(InvalidArgumentError) as caught:
        pay_file(payroll, dataclasses.replace(BulkOptions(), **options), api_key=API_KEY,
                 base_url="http://127.0.0.1:9/v1")
    assert caught.value.argument == field


def test_a_rows_unknown_country_is_said_in_the_checks_words(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = tmp_path / "p.csv"
    payroll.write_text(OWN_VALUES.replace(",bj\n", ",zz\n", 1), encoding="utf-8")
    outcome = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    problems = [line for line in outcome.err.splitlines() if line.startswith("  ")]
    assert problems == ["  row 2: country: 'zz' is no country code phonenumbers knows (bj, tg, ci, ...) (error)"]
    assert fedapay_mock.stats()["requests"] == {}


def test_good_row_options_in_any_case_still_pay(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = tmp_path / "p.csv"
    payroll.write_text("First name,Last name,Phone,Amount\nAda,Love,97801111,1000\n", encoding="utf-8")
    outcome = run_bulk(fedapay_mock, str(payroll), "--mode", "mtn_open", "--currency", "xof", "--country", "BJ",
                       monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.out + outcome.err
    assert fedapay_mock.stats()["created"] == 1
