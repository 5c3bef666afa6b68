"""`fedapay-payouts bulk FILE.csv`: pay a payroll file, exactly once, resumable after any crash.

Configured like the client: FEDAPAY_API_KEY, FEDAPAY_ENVIRONMENT, FEDAPAY_BASE_URL (and the other
FEDAPAY_* variables it reads). Exit status: 0 every row sent (with --wait) or accepted by FedaPay
(without), or a valid dry run; 1 some rows are not (see the report); 2 nothing was sent (invalid file,
changed file, bad option or configuration, key refused).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import TextIO

from fedapay_payouts import FedaPayError

from .engine import DEFAULT_MAX_IN_FLIGHT, Aborted, BulkOptions, BulkResult, pay_file_async
from .errors import BulkError
from .progress import LogProgress, RichProgress, for_terminal

BATCH_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _concurrency(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("must be from 1 to 64")
    return value


def _batch(text: str) -> str:
    if not BATCH_RE.fullmatch(text):
        raise argparse.ArgumentTypeError("1 to 40 letters, digits, '-' or '_'")
    return text


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
    bulk.add_argument("--mode", help="payout mode for rows without one (e.g. mtn_open, moov, togocel)")
    bulk.add_argument("--currency", default="XOF", help="currency for rows without one (default XOF)")
    bulk.add_argument("--country", help="country (bj, tg, ...) of national phone numbers in rows without one")
    bulk.add_argument("--schedule-at", metavar="ISO8601", help="send at this time instead of now")
    bulk.add_argument("--concurrency", type=_concurrency, default=DEFAULT_MAX_IN_FLIGHT, metavar="N",
                      help=f"creates in flight ({DEFAULT_MAX_IN_FLIGHT}, the client's max_in_flight)")
    bulk.add_argument("--wait", action="store_true", help="poll until every payout is sent or failed")
    bulk.add_argument("--wait-timeout", type=float, default=900.0, metavar="SECONDS", help="for --wait (900)")
    bulk.add_argument("--report", type=Path, metavar="OUT.csv", help="write one line per row: payout, status, error")
    bulk.add_argument("--allow-duplicates", action="store_true", help="pay rows with the same beneficiary and amount")
    bulk.add_argument("--batch", type=_batch, default=None,
                      help="a label making this run a new payroll (paying the same file again on purpose)")
    return top


def _print_problems(error: BulkError, out: TextIO) -> None:
    out.write(f"error: {error.summary}\n")
    for problem in error.problems:
        out.write(f"  {problem}\n")


def _print_totals(result: BulkResult, out: TextIO) -> None:
    rows = sum(count for *_, count, _ in result.totals)
    out.write(f"{rows} valid row(s)\n")
    for mode, currency, count, amount in result.totals:
        out.write(f"  {mode:<12} {currency}  {count:>7} payout(s)  {amount:>15,} {currency}\n")
    for currency in sorted({c for _, c, _, _ in result.totals}):
        total = sum(amount for _, c, _, amount in result.totals if c == currency)
        out.write(f"  total        {currency}  {total:>31,} {currency}\n")
    for warning in result.warnings:
        out.write(f"  {warning}\n")


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = parser().parse_args(argv)
    options = BulkOptions(
        journal=args.journal, dry_run=args.dry_run, mode=args.mode, currency=args.currency,
        schedule_at=args.schedule_at, country=args.country, concurrency=args.concurrency, wait=args.wait,
        wait_timeout=args.wait_timeout, report=args.report, allow_duplicates=args.allow_duplicates,
        batch=args.batch or "",
    )
    progress = None if args.dry_run else for_terminal(err)
    try:
        result = asyncio.run(pay_file_async(args.file, options, progress=progress))
    except BulkError as exc:
        _print_problems(exc, err)
        return 2
    except Aborted as exc:
        err.write(f"error: FedaPay refused this key or account, the run stopped: {exc}\n")
        return 2
    except FedaPayError as exc:  # configuration (no key...) or an error no row could get past
        err.write(f"error: {exc}\n")
        return 2
    finally:
        if isinstance(progress, RichProgress):
            progress.close()
    _print_totals(result, out)
    if args.dry_run:
        out.write("dry run: nothing was sent\n")
        return 0
    if result.summary is not None:
        out.write("summary:\n")
        for line in result.summary.lines():
            out.write(f"  {line}\n")
    for note in result.notes:
        out.write(f"note: {note}\n")
    out.write(f"journal: {result.journal}\n")
    if args.report is not None:
        out.write(f"report: {args.report}\n")
    return 0 if result.complete else 1


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["LogProgress", "main", "parser"]
