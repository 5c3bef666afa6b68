"""`fedapay-payouts bulk FILE.csv`: pay a payroll file, exactly once, resumable after any crash.

Configured like the client: FEDAPAY_API_KEY, FEDAPAY_ENVIRONMENT, FEDAPAY_BASE_URL (and the other
FEDAPAY_* variables it reads). Exit status: 0 every row sent (with --wait) or accepted by FedaPay
(without), or a valid dry run; 1 some rows are not (see the report), or the run stopped on an error once
payouts may exist (the summary and the report, never "nothing was sent"), or the report could not be
written; 2 nothing was sent (invalid file,
changed file, a look-up that could not check every row, bad option or configuration, key refused, the `bulk`
extra missing); 130 interrupted (Ctrl-C: the report and the summary so far, and the same command resumes).

The run itself (`engine.py`, which needs the `bulk` extra) is imported only once the extra is known to be
there (`extra.py`): without it the command says what to install, in one line.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

from fedapay_payouts import FedaPayError, InvalidArgumentError
from fedapay_payouts._client import DEFAULT_MAX_IN_FLIGHT

from . import options as checks
from .configuration import in_command_words
from .errors import BulkError
from .extra import BulkExtraMissing, require_bulk_extra
from .progress import LogProgress, RichProgress, for_terminal
from .terminal import shown

if TYPE_CHECKING:
    from .engine import BulkOptions, BulkResult
    from .report import Summary

S = TypeVar("S")
T = TypeVar("T")
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


def _option(convert: Callable[[str], S], check: Callable[[S], T]) -> Callable[[str], T]:
    """An argparse type: the text converted, then the run's own check (argparse names the option)."""

    def parse(text: str) -> T:
        try:
            return check(convert(text))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _schedule(text: str) -> str:
    try:
        return checks.schedule_at(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _batch(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("must be 1 to 40 letters, digits, '-' or '_'")
    try:
        return checks.batch(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="fedapay-payouts", description="FedaPay payouts from the command line.")
    commands = top.add_subparsers(dest="command", required=True)
    bulk = commands.add_parser(
        "bulk", help="pay a payroll file (CSV), each row exactly once",
        description="Pay every row of a payroll CSV exactly once: checked in full first, resumable after any crash.",
    )
    bulk.add_argument("file", type=Path, metavar="FILE.csv")
    bulk.add_argument("--journal", type=Path, help="the run's journal (default: FILE.csv.journal.sqlite beside it)")
    bulk.add_argument("--dry-run", action="store_true", help="check the file and print its totals; send nothing")
    # Checked here with the row checks' own rules (`options.py`): a bad value is one line naming the option, not one
    # problem per row (nor nothing at all when every row has its own value).
    bulk.add_argument("--mode", type=_option(str, checks.mode),
                      help="payout mode for rows without one (e.g. mtn_open, moov, togocel)")
    bulk.add_argument("--currency", type=_option(str, checks.currency), default="XOF",
                      help="currency for rows without one (default XOF)")
    bulk.add_argument("--country", type=_option(str, checks.country),
                      help="country (bj, tg, ...) of national phone numbers in rows without one")
    bulk.add_argument("--schedule-at", metavar="ISO8601", type=_schedule,
                      help="send at this time instead of now (no zone: UTC)")
    bulk.add_argument("--concurrency", type=_option(int, checks.concurrency), default=DEFAULT_MAX_IN_FLIGHT,
                      metavar="N",
                      help=f"creates in flight ({DEFAULT_MAX_IN_FLIGHT}, the client's max_in_flight)")
    bulk.add_argument("--wait", action="store_true", help="poll until every payout is sent or failed")
    bulk.add_argument("--wait-timeout", type=_option(float, checks.wait_timeout), default=900.0, metavar="SECONDS",
                      help="for --wait (900; at most a week)")
    bulk.add_argument("--report", type=Path, metavar="OUT.csv", help="write one line per row: payout, status, error")
    bulk.add_argument("--allow-duplicates", action="store_true", help="pay rows with the same beneficiary and amount")
    bulk.add_argument("--batch", type=_batch, default=None,
                      help="a label making this run a new payroll (paying the same file again on purpose)")
    bulk.add_argument("--send-late", action="store_true",
                      help="send now the rows not yet created whose scheduled time has passed (default: refuse them)")
    bulk.add_argument("--adopt-existing", action="store_true",
                      help="this file was being paid with a journal that is now lost: count the payouts FedaPay"
                           " holds for its rows as paid (default: a new journal finding some stops, exit 2)")
    return top


def _print_problems(error: BulkError, out: _Safe) -> None:
    out.line(f"error: {error.summary}")
    for problem in error.problems:
        out.line(f"  {problem}")


def _print_totals(result: BulkResult, out: _Safe) -> None:
    rows = sum(count for *_, count, _ in result.totals)
    out.line(f"{rows} valid row(s)")
    for mode, currency, count, amount in result.totals:
        out.line(f"  {mode:<12} {currency}  {count:>7} payout(s)  {amount:>15,} {currency}")
    for currency in sorted({c for _, c, _, _ in result.totals}):
        total = sum(amount for _, c, _, amount in result.totals if c == currency)
        out.line(f"  total        {currency}  {total:>31,} {currency}")
    for warning in result.warnings:
        out.line(f"  {warning}")


def _print_summary(summary: Summary | None, out: _Safe) -> None:
    if summary is not None:
        out.line("summary:")
        for line in summary.lines():
            out.line(f"  {line}")


class _Safe:
    """A stream written a line at a time, every control character and line break in it escaped (`terminal.py`):
    text from the file or from FedaPay (a status, an error's message) can neither move the cursor nor start a
    line of its own that would pass for the program's (a forged summary)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def line(self, text: str) -> None:
        self.stream.write(shown(text) + "\n")


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Exit status: 0 done, 1 some rows are not (or the run stopped after sending), 2 nothing was sent."""
    out_stream = out or sys.stdout
    err_stream = err or sys.stderr
    return _main(argv, _Safe(out_stream), _Safe(err_stream), err_stream)


def _main(argv: list[str] | None, out: _Safe, err: _Safe, err_stream: TextIO) -> int:
    args = parser().parse_args(argv)
    try:
        require_bulk_extra()
    except BulkExtraMissing as missing:
        err.line(f"fedapay-payouts: {missing}")
        return 2
    from .engine import Aborted, BulkOptions, Interruption, pay_file_async

    options = BulkOptions(
        journal=args.journal, dry_run=args.dry_run, mode=args.mode, currency=args.currency,
        schedule_at=args.schedule_at, country=args.country, concurrency=args.concurrency, wait=args.wait,
        wait_timeout=args.wait_timeout, report=args.report, allow_duplicates=args.allow_duplicates,
        batch=args.batch or "", send_late=args.send_late, adopt_existing=args.adopt_existing,
    )
    progress = None if args.dry_run else for_terminal(err_stream)
    interruption = Interruption()
    try:
        result = asyncio.run(pay_file_async(args.file, options, progress=progress, interruption=interruption))
    except KeyboardInterrupt:
        # The run's tasks were cancelled and awaited, its journal closed with every state committed: rows whose
        # request was in flight are `creating` / `starting`, which the next run resolves before sending anything.
        if isinstance(progress, RichProgress):
            progress.close()
            progress = None
        _print_journal_state(args, options, out)
        if interruption.report_error is not None:  # after the summary, as a run that ended says it
            err.line(f"error: {interruption.report_error}; the run itself is as summarized above (re-run the same"
                     " command with another --report to write it: nothing is paid twice)")
        err.line("interrupted: re-run the same command to resume")
        return EXIT_INTERRUPTED
    except BulkError as exc:
        _print_problems(exc, err)
        return 2
    except InvalidArgumentError as exc:
        # The configuration (FEDAPAY_* variables), said with the command's inputs rather than the client's
        # arguments; or --report naming the file or the journal (only the run knows its path).
        said = in_command_words(exc)
        if said is None:
            said = f"{'--report' if exc.argument == 'report' else exc.argument}: {exc.problem}"
        err.line(f"error: {said}; nothing was sent")
        return 2
    except Aborted as exc:
        err.line(f"error: FedaPay refused this key or account, the run stopped; nothing was sent: {exc}")
        return 2
    except FedaPayError as exc:  # an error no row could get past (FedaPay unreachable, the look-up refused...)
        err.line(f"error: {exc}")
        return 2
    except Exception as exc:  # noqa: BLE001  # unexpected: the run converts those after paying began (`stopped`)
        # One the run did not convert (its journal could not be closed, a bug): what the journal holds, if it
        # can be read, and never "nothing was sent", which no one here can vouch for.
        if isinstance(progress, RichProgress):
            progress.close()
            progress = None
        _print_journal_state(args, options, out)
        err.line(f"error: the run stopped on an unexpected error ({type(exc).__name__}: {exc}); payouts may have been"
                 " created or started if it got that far: re-run the same command, which checks every row whose"
                 " outcome is unknown at FedaPay before sending anything, and read its summary")
        return 1
    finally:
        if isinstance(progress, RichProgress):
            progress.close()
    _print_totals(result, out)
    if args.dry_run:
        out.line("dry run: nothing was sent")
        return 0
    report = args.report is not None and result.report_error is None
    if result.aborted is not None:
        err.line(f"error: FedaPay refused this key or account and the run stopped, after payouts may have been"
                 f" created or started (see the summary{' and the report' if report else ''}; re-run to go on"
                 f" once the key works): {result.aborted}")
    if result.stopped is not None:
        err.line(f"error: the run stopped on an unexpected error after payouts may have been created or started"
                 f" (see the summary{' and the report' if report else ''}; re-run the same command: it checks every"
                 f" row whose outcome is unknown at FedaPay before sending anything): {result.stopped}")
    _print_summary(result.summary, out)
    for note in result.notes:
        out.line(f"note: {note}")
    out.line(f"journal: {result.journal}")
    if result.report_error is not None:
        err.line(f"error: {result.report_error}; the run itself is as summarized above (re-run the same command"
                 " with another --report to write it: nothing is paid twice)")
    elif args.report is not None:
        out.line(f"report: {args.report}")
    return 0 if result.complete else 1


def _print_journal_state(args: argparse.Namespace, options: BulkOptions, out: _Safe) -> None:
    """The summary and the journal's path of a run that stopped without a result, read from its journal."""
    from .engine import journal_for
    from .report import read_summary

    journal = journal_for(args.file, options)
    _print_summary(read_summary(journal, waited=args.wait) if journal is not None else None, out)
    if journal is not None and journal.is_file():
        out.line(f"journal: {journal}")


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["LogProgress", "main", "parser"]
