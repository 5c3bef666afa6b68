"""Why a bulk run refused to start: each carries every problem found, with its row number."""

from __future__ import annotations

from dataclasses import dataclass

from .terminal import shown


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem: `row` is the spreadsheet row (the header is row 1), 0 for a problem of no row (the file as a
    whole, an option, the journal: `field` then names which, e.g. `file`, `--schedule-at`, `journal`)."""

    row: int
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = f"row {self.row}: " if self.row else ""
        kind = "warning" if self.warning else "error"
        return shown(f"{where}{self.field}: {self.message} ({kind})")  # fields and messages quote the file


class BulkError(Exception):
    """A bulk run stopped before sending anything; `problems` lists every reason."""

    def __init__(self, summary: str, problems: list[Problem]) -> None:
        self.summary = summary
        self.problems = problems
        super().__init__(summary)


class FileInvalidError(BulkError):
    """Some rows are invalid (or are duplicates without --allow-duplicates): no request was sent."""


class FileChangedError(BulkError):
    """The file differs from the one its journal records: paying it could pay a row twice or not at all."""


class OptionsChangedError(BulkError):
    """The file is the one its journal records (the same bytes), but options shaping its rows (`--mode`,
    `--currency`, `--country`, `--schedule-at`, `--batch`) differ from the journal's run: nothing was sent."""


class ReferenceUsedError(BulkError):
    """A row's reference already names another payment at FedaPay (other amount, mode...): nothing was sent."""


class ExistingPayoutsError(BulkError):
    """Payouts FedaPay holds already pay rows of this file (same reference, amount and beneficiary), and the
    journal did not create them: next month's file reusing references, or this file's run whose journal was
    lost. Only the operator can tell (`--batch` or `--adopt-existing`): nothing was sent."""


class LookUpIncompleteError(BulkError):
    """Some rows could not be looked up: FedaPay's list and search moved or ignored paging each time, so a
    payout for them may exist unseen. Creating them could pay them twice: nothing was sent, and the next run
    looks them up again."""
