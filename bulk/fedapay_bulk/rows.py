"""Reading a payroll file: FedaPay's dashboard columns, English or French headers, any case and order.

Rows are streamed (one at a time): a 100,000-row file is never held in memory. The row number of
each row is the spreadsheet's (the header is row 1), so every problem points where the user looks.

A row is one line of the file, read with `strict` quoting: a cell may not hold a line break. A payroll
cell never needs one, and allowing them let a stray `"` open a quoted cell that swallowed the lines after
it (other employees' rows sent as one row's description, the rows after it numbered wrong). So a quote
left open at the end of its line, or text after a closing quote, is that line's problem, and every other
line is still read and numbered as the line it is (a quote left open takes the lines up to the one closing it:
one problem naming the span, none of its lines read as a row).

A journal made by the release before read records (a cell could hold line breaks) numbered by record: resuming
it on its very file reads the file that way (`resume`), what strict quoting refuses a warning.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import FileInvalidError, Problem

REQUIRED = ("firstname", "lastname", "phone", "amount")
OPTIONAL = ("email", "country", "mode", "currency", "reference", "scheduled_at", "description")

# Each column's accepted headers, compared after `_key` (no accents, case, spaces or punctuation).
ALIASES: dict[str, tuple[str, ...]] = {
    "firstname": ("first name", "firstname", "given name", "prenom", "prenoms"),
    "lastname": ("last name", "lastname", "surname", "family name", "nom", "nom de famille"),
    "email": ("email", "e-mail", "email address", "mail", "courriel", "adresse email", "adresse e-mail"),
    "phone": (
        "phone number", "phone", "mobile", "mobile number", "telephone", "numero de telephone", "numero",
        "numero mobile", "tel",
    ),
    "amount": ("amount", "montant"),
    "country": ("country", "pays", "country code", "code pays"),
    "mode": ("mode", "operator", "operateur", "payout mode", "mode de paiement"),
    "currency": ("currency", "devise", "monnaie"),
    "reference": ("reference", "merchant reference", "ref", "reference marchand", "votre reference"),
    "scheduled_at": ("scheduled at", "schedule", "scheduled", "date d envoi", "programme le", "planifie le"),
    "description": ("description", "motif", "libelle"),
}


def _key(header: str) -> str:
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in text.lower() if ch.isalnum())


HEADER_INDEX: dict[str, str] = {_key(alias): column for column, aliases in ALIASES.items() for alias in aliases}
MAX_CELL = 1000
# What a warning of a resumed run adds: the earlier release accepted the row, and its journal holds it (it may be
# paid already): it is finished as recorded, and the file must not change until it is.
KEPT = ("; the journal's earlier run accepted this row and it is finished as the journal records it (do not edit"
        " the file before the run is finished: its journal records these bytes)")


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row: its spreadsheet row number and its cells by column name (stripped, maybe empty)."""

    number: int
    cells: dict[str, str]


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _dialect(first_line: str) -> str:
    """The delimiter: a French spreadsheet saves CSV with `;`, some exports use tabs."""
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def map_headers(headers: list[str]) -> tuple[dict[int, str], list[Problem]]:
    """Column index -> column name, and the problems (unknown, repeated or missing columns)."""
    problems: list[Problem] = []
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        if not header.strip():
            continue  # a blank header: its cells must be empty (`RowReader`)
        column = HEADER_INDEX.get(_key(header))
        if column is None:
            problems.append(Problem(1, header.strip()[:60], "unknown column (a typo would silently drop its values)"))
        elif column in mapping.values():
            problems.append(Problem(1, header.strip()[:60], f"a second {column} column"))
        else:
            mapping[index] = column
    for column in REQUIRED:
        if column not in mapping.values():
            names = " / ".join(repr(alias) for alias in ALIASES[column][:2])
            problems.append(Problem(1, column, f"missing column (header {names})"))
    return mapping, problems


class RowReader:
    """Iterate a payroll CSV's data rows; `problems` collects row-level format problems on the way."""

    def __init__(self, path: Path, *, resume: bool = False) -> None:
        self.path = path
        self.resume = resume  # the very file an existing journal records: read as the journal's release did
        self.problems: list[Problem] = []

    def __iter__(self) -> Iterator[RawRow]:
        try:
            handle = self.path.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise FileInvalidError(f"cannot read {self.path}", [Problem(0, "file", exc.strerror or str(exc))]) from None
        with handle:
            try:
                first = handle.readline()
                yield from self._rows(first, handle)
            except UnicodeDecodeError:
                raise FileInvalidError(
                    f"{self.path} is not UTF-8 text",
                    [Problem(0, "file", "is not UTF-8 text: save it as 'CSV UTF-8' (an .xlsx must be saved as CSV)")],
                ) from None
            except csv.Error as exc:  # only the earlier release's reading (`_legacy`) reads across lines
                raise FileInvalidError(f"{self.path} is not a valid CSV", [Problem(0, "file", str(exc))]) from None

    def _rows(self, first: str, handle: io.TextIOBase) -> Iterator[RawRow]:
        if not first.strip():
            raise FileInvalidError(f"{self.path} is empty", [Problem(0, "file", "is empty: no header row")])
        delimiter = _dialect(first)
        try:
            headers = _split(first, delimiter)
        except csv.Error as exc:
            raise FileInvalidError(
                f"{self.path}: the header row is not usable", [Problem(1, "header", _quoting(exc, delimiter))]
            ) from None
        mapping, problems = map_headers(headers)
        if problems:
            raise FileInvalidError(f"{self.path}: the header row is not usable", problems)
        width = len(headers)
        blank = [index for index, header in enumerate(headers) if not header.strip()]
        records = self._legacy(handle, delimiter) if self.resume else self._strict(handle, delimiter)
        for number, values in records:
            if not any(value.strip() for value in values):
                continue  # blank lines between rows are common in exports
            if len(values) > width and any(value.strip() for value in values[width:]):
                self.problems.append(Problem(number, "row", f"has {len(values)} cells, the header has {width}"))
                continue
            unnamed = [index for index in blank if index < len(values) and values[index].strip()]
            if unnamed and not self.resume:
                self.problems.append(Problem(
                    number, f"column {unnamed[0] + 1}",
                    "has a value but its header is blank: name the column (or empty it), its values would be lost",
                ))
                continue
            if unnamed:
                self.problems.append(Problem(
                    number, f"column {unnamed[0] + 1}",
                    f"has a value but its header is blank (dropped, as the earlier run did){KEPT}", warning=True,
                ))
            cells = {column: values[index].strip() if index < len(values) else "" for index, column in mapping.items()}
            long = [column for column, value in cells.items() if len(value) > MAX_CELL]
            if long:
                self.problems.append(Problem(number, long[0], f"is longer than {MAX_CELL} characters"))
                continue
            yield RawRow(number, cells)

    def _strict(self, handle: io.TextIOBase, delimiter: str) -> Iterator[tuple[int, list[str]]]:
        """(line number, cells) of each line. A line whose quote is left open takes the lines up to the one
        closing it (a line holding an odd number of `"`): the span is one problem naming its first and last
        lines, and none of its lines is read as a row (a continuation line read alone was a row the spreadsheet
        never showed: `"note` then `Eve,...,900000,...`). The lines after it keep their own numbers."""
        lines = enumerate(handle, start=2)  # newline="": a line ends at \r, \n or \r\n
        for number, line in lines:
            try:
                yield number, _split(line, delimiter)
            except csv.Error as exc:
                if "unexpected end of data" not in str(exc):
                    self.problems.append(Problem(number, "row", _quoting(exc, delimiter)))
                    continue
                last, closed = number, False
                for last, following in lines:  # noqa: B007 (`last`: the span's last line, read after the loop)
                    closed = following.count('"') % 2 == 1
                    if closed:
                        break
                if not closed:
                    if last == number:
                        self.problems.append(Problem(number, "row", _quoting(exc, delimiter)))
                        continue
                    self.problems.append(Problem(number, "row", (
                        f"a cell spans lines {number}-{last} (its quote is never closed): cells may not hold line"
                        f" breaks; {_SPAN}")))
                    continue
                self.problems.append(Problem(number, "row", (
                    f"a cell spans lines {number}-{last}: cells may not hold line breaks; {_SPAN}")))

    def _legacy(self, handle: io.TextIOBase, delimiter: str) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of each record as the release before strict quoting read them (a record may span
        lines; rows numbered by record): the numbering of the journals it made. Only for resuming such a journal
        on its very file (`prepare.py`); what strict quoting refuses is a warning here, naming the lines."""
        taken: list[str] = []

        def lines() -> Iterator[str]:
            for line in handle:
                taken.append(line)
                yield line

        first_line = 2
        for number, values in enumerate(csv.reader(lines(), delimiter=delimiter), start=2):
            span, taken[:] = list(taken), []
            last_line = first_line + len(span) - 1
            if len(span) > 1 and any(value.strip() for value in values):
                self.problems.append(Problem(number, "row", (
                    f"a cell spans lines {first_line}-{last_line} (cells may not hold line breaks){KEPT}"),
                    warning=True))
            elif span:
                try:
                    _split(span[0], delimiter)
                except csv.Error as exc:
                    self.problems.append(Problem(number, "row", f"{_quoting(exc, delimiter)}{KEPT}", warning=True))
            first_line = last_line + 1
            yield number, values


def _split(line: str, delimiter: str) -> list[str]:
    """One line's cells (`csv.Error` if its quoting is broken: a quote left open at its end, text after a
    closing quote). Read alone, a line can never run into the next."""
    return next(csv.reader([line], delimiter=delimiter, strict=True), [])


# A span's advice: its lines are one cell in a spreadsheet, so none is a row it showed; removing the quote alone
# would make them rows (a line `Eve,...,900000` inside a description paid as a row).
_SPAN = ("none of these lines is read as a row: a spreadsheet shows them as one cell, so check each one before"
         " putting the cell's text on one line")


def _quoting(error: csv.Error, delimiter: str) -> str:
    """What a line's broken quoting means to the person who wrote the file."""
    said = str(error)
    if "unexpected end of data" in said:
        return ('a quoted cell does not end on this line: a `"` without its closing `"`, or a line break inside a'
                " cell (cells may not hold line breaks); close the quote or remove it")
    if "expected after" in said:
        return (f'text follows a quoted cell\'s closing `"` before the next {delimiter!r}: inside quotes write a'
                ' `"` as `""`, or remove the quotes')
    return said
