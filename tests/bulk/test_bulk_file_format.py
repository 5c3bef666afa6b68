"""A payroll file is read one line per row (fifteenth review): a stray quote cannot swallow the rows after it,
a cell cannot hold a line break, every problem names the line it is on, and a value under a blank header is a
problem, not dropped."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.bulk.bulk_support import run_bulk

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

HEADER = "First name,Last name,Phone,Amount,Mode,Description\n"


def _file(path: Path, *lines: str) -> Path:
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_a_stray_quote_does_not_swallow_the_rows_after_it(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reviewers' file: a quote opened in row 2's description and never closed. Read across lines, it took
    rows 3 and 4 into row 2's description (a real run paid 3 rows of 5 and exited 0), and numbered the rows after
    it wrong."""
    payroll = _file(
        tmp_path / "p.csv",
        'Ada,Love,+22997801111,1000,mtn_open,"Salaire de novembre',
        "Bob,Smith,+22997801112,2000,mtn_open,Salaire",
        'Cy,Jones,+22997801113,3000,mtn_open,Prime dite "13e mois"',
        "Dan,Brown,+229 not a number,4000,mtn_open,Salaire",
        'Eve,White,+22997801115,5000,mtn_open,"Salaire ""net"""',
    )
    outcome = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    problems = [line for line in outcome.err.splitlines() if line.startswith("  ")]
    # Sixteenth review: no line closes the quote (rows 4 and 6 hold an even number of `"`), so lines 2-6 are one
    # cell, as a spreadsheet shows them: none is read as a row (the fifteenth review read each line alone, and
    # reported row 5's number).
    assert problems == [
        "  row 2: row: a cell spans lines 2-6 (its quote is never closed): cells may not hold line breaks; none of"
        " these lines is read as a row: a spreadsheet shows them as one cell, so check each one before putting the"
        " cell's text on one line (error)"
    ], outcome.err
    assert fedapay_mock.stats()["requests"] == {}
    assert not (tmp_path / "p.csv.journal.sqlite").exists()


@pytest.mark.parametrize(
    ("lines", "row", "message"),
    [
        # A line break inside a quoted cell: the name sent would hold it.
        (['"Ada', 'X",L,+22997808080,1000,mtn_open,'], 2, "a cell spans lines 2-3: cells may not hold line breaks"),
        # The quote still open at the end of the file (it swallowed every row after it, then ended the file).
        (["Ada,Love,+22997801111,1000,mtn_open,Salaire", 'Bob,Smith,+22997801112,2000,mtn_open,"Salaire'], 3,
         "a quoted cell does not end on this line"),
        # Text after a closing quote: read leniently, `"Prime" annuelle` was `Prime annuelle`.
        (['Bob,Smith,+22997801112,2000,mtn_open,"Prime" annuelle'], 2,
         "text follows a quoted cell's closing `\"` before the next ','"),
    ],
    ids=["line-break-in-cell", "unterminated-at-the-end", "text-after-closing-quote"],
)
def test_broken_quoting_is_refused_naming_its_line(
    lines: list[str], row: int, message: str, fedapay_mock: MockServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcome = run_bulk(fedapay_mock, str(_file(tmp_path / "p.csv", *lines)), monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    assert f"  row {row}: row: {message}" in outcome.err
    assert fedapay_mock.stats()["requests"] == {}


def test_a_carriage_return_inside_a_quoted_cell_is_refused(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lone CR ends a line as LF does (old Mac exports): inside quotes it was kept in the cell, and sent."""
    payroll = tmp_path / "p.csv"
    payroll.write_bytes(HEADER.encode() + b'"Ada\rX",L,+22997808080,1000,mtn_open,\r\n')
    outcome = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    assert "  row 2: row: a cell spans lines 2-3: cells may not hold line breaks" in outcome.err
    assert fedapay_mock.stats()["requests"] == {}


def test_a_line_inside_a_multi_line_cell_is_never_read_as_a_row(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sixteenth review: the continuation of a quoted cell was read as its own row. A spreadsheet shows Eve's line
    inside Ada's description; reported was only row 2's open quote, and following its advice paid Eve 900,000.
    The span is one problem naming its lines; the rows after it keep their own line numbers."""
    payroll = _file(
        tmp_path / "p.csv",
        'Ada,Lovelace,+22997808080,1000,mtn_open,"note',
        'Eve,Evil,+22997000001,900000,mtn_open,x"',
        "Bob,B,+22997808081,1000,mtn_open,x",
        "Cy,C,+229 not a number,1000,mtn_open,x",
    )
    outcome = run_bulk(fedapay_mock, str(payroll), "--dry-run", monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    problems = [line for line in outcome.err.splitlines() if line.startswith("  ")]
    assert len(problems) == 2, outcome.err
    assert problems[0].startswith("  row 2: row: a cell spans lines 2-3: cells may not hold line breaks; none of"
                                  " these lines is read as a row"), problems
    assert problems[1].startswith("  row 5: phone number: '+229 not a number'"), problems
    assert "900000" not in outcome.out + outcome.err
    assert "900,000" not in outcome.out + outcome.err
    assert fedapay_mock.stats()["requests"] == {}


def test_a_header_with_broken_quoting_is_refused(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payroll = tmp_path / "p.csv"
    payroll.write_text('"First\nname",Last name,Phone,Amount,Mode\nAda,L,+22997808080,1000,mtn_open\n',
                       encoding="utf-8")
    outcome = run_bulk(fedapay_mock, str(payroll), "--dry-run", monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    assert "  row 1: header: a quoted cell does not end on this line" in outcome.err


def test_a_value_under_a_blank_header_is_a_problem_naming_its_column(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its values were dropped without a word; an empty column under a blank header (an export's trailing comma)
    is still fine."""
    payroll = tmp_path / "p.csv"
    payroll.write_text(
        "First name,,Last name,Phone,Amount,Mode,\n"
        "Ada,,L,+22997808080,1000,mtn_open,\n"
        "Bob,,M,+22997808081,2000,mtn_open,EXTRA\n"
        "Cy,note,N,+22997808082,3000,mtn_open\n",
        encoding="utf-8",
    )
    outcome = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch)
    assert outcome.code == 2, outcome.out + outcome.err
    problems = [line for line in outcome.err.splitlines() if line.startswith("  ")]
    blank = "has a value but its header is blank: name the column (or empty it), its values would be lost (error)"
    assert problems == [f"  row 3: column 7: {blank}", f"  row 4: column 2: {blank}"]
    assert fedapay_mock.stats()["requests"] == {}
