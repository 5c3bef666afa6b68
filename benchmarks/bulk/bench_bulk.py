"""Benchmark (not a test): `fedapay-payouts bulk` against a plain loop, and its peak memory.

    .venv/bin/python benchmarks/bulk/bench_bulk.py [--rows 10000] [--memory-rows 10000 100000] [--concurrency 8]

- wall time and payouts/s paying a `--rows` file with the bulk command (checked, journalled, creates
  concurrent, starts in groups of 100) vs a plain loop of `client.payouts.create(...)` +
  `client.payouts.send_now(id)` with one `FedaPay` client, both against the same mock running in
  another process (reset between the two);
- peak memory (max RSS of a fresh process) of the bulk command paying files of each `--memory-rows`
  size: flat if the rows are streamed, not held.

Figures go to stdout; with `--write-results` also to `benchmarks/bulk/RESULTS.md` (the README links it),
whose first line says the command, the date and the machine's load. The mock runs in its own process so
that it does not share this process's GIL.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from fedapay_payouts import FedaPay

API_KEY = "sk_sandbox_bulk_benchmark"
RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = ["First name", "Last name", "Email", "Phone number", "Amount", "Mode"]


def phone(i: int) -> str:
    """A distinct valid Benin mobile number per row (10-digit plan, `01 96` range: the bulk command checks that a
    number is one phonenumbers knows as valid where a country has several lengths), up to a million rows."""
    return f"+2290196{i:06d}"


class RunFailed(SystemExit):
    """A run that did not pay every row: its speed would be the speed of refusing, not of paying."""


def paid_all(what: str, code: int, created: object, rows: int) -> None:
    if code != 0 or (created is not None and created != rows):
        raise RunFailed(f"bench_bulk: {what} exited {code} having created {created} of {rows} payouts: no figure "
                        "is written (run the command by hand on the same file to see why)")


def write_payroll(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            writer.writerow([f"First{i}", f"Last{i}", f"p{i}@example.com", phone(i), 1000 + i % 500, "moov"])
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_mock() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    mock = subprocess.Popen(  # noqa: S603 (the project's own mock)
        [str(Path(sys.executable).with_name("fedapay-mock")), "--port", str(port), "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    root = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(root + "/_mock/stats", timeout=1).raise_for_status()
            return mock, root
        except httpx.HTTPError:
            time.sleep(0.05)
    mock.kill()
    raise SystemExit("the mock did not start")


def reset(root: str) -> None:
    httpx.post(root + "/_mock/reset", json={}, timeout=30).raise_for_status()


def stats(root: str) -> dict[str, object]:
    result: dict[str, object] = httpx.get(root + "/_mock/stats", timeout=30).json()
    return result


def bulk_process(payroll: Path, root: str, concurrency: int, journal: Path) -> tuple[float, int, int]:
    """(seconds, exit code, max RSS in KiB) of `fedapay-payouts bulk` in a fresh process."""
    env = {**os.environ, "FEDAPAY_API_KEY": API_KEY, "FEDAPAY_BASE_URL": root + "/v1"}
    began = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "fedapay_bulk.cli", "bulk", str(payroll), "--journal", str(journal),
         "--concurrency", str(concurrency)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the largest child's so far
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - began, child.returncode, usage.ru_maxrss


def plain_loop(rows: int, root: str) -> float:
    began = time.perf_counter()
    with FedaPay(api_key=API_KEY, base_url=root + "/v1") as client:
        for i in range(rows):
            payout = client.payouts.create(
                amount=1000 + i % 500, currency="XOF", mode="moov",
                customer={"firstname": f"First{i}", "lastname": f"Last{i}", "email": f"p{i}@example.com",
                          "phone_number": {"number": phone(i), "country": "bj"}},
                merchant_reference=f"loop-{i}",
            )
            client.payouts.send_now(payout.id)
    return time.perf_counter() - began


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def write_results(path: Path, command: str, began: datetime.datetime, load_at_start: str, lines: list[str]) -> None:
    """The printed figures as markdown, headed by what produced them: no figure is copied by hand."""
    heading = (
        f"`{command}` on {began:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average "
        f"(1/5/15 min) {load_at_start} at the start and {load_average()} at the end."
    )
    body = "\n".join(lines)
    path.write_text(
        f"{heading}\n\n# Bulk payouts benchmark\n\nWritten by `benchmarks/bulk/bench_bulk.py --write-results`"
        f" (its docstring says what it measures); re-run it rather than edit this file.\n\n```text\n{body}\n```\n",
        encoding="utf-8",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--memory-rows", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--write-results", action="store_true", help=f"also write the figures to {RESULTS}")
    args = parser.parse_args()
    command = shlex.join([".venv/bin/python", "benchmarks/bulk/bench_bulk.py", *sys.argv[1:]])
    began = datetime.datetime.now(datetime.UTC)
    load_at_start = load_average()
    lines: list[str] = []

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    mock, root = start_mock()
    try:
        with tempfile.TemporaryDirectory(prefix="bulk-bench-") as work:
            folder = Path(work)
            payroll = write_payroll(folder / "payroll.csv", args.rows)
            reset(root)
            seconds, code, _ = bulk_process(payroll, root, args.concurrency, folder / "j1.sqlite")
            created = stats(root)["created"]
            paid_all("the bulk command", code, created, args.rows)
            report(f"bulk command: {args.rows} rows in {seconds:.1f} s = {args.rows / seconds:.0f} payouts/s "
                  f"(exit {code}, created {created}, concurrency {args.concurrency})")
            reset(root)
            loop = plain_loop(args.rows, root)
            report(f"plain loop create + send_now: {args.rows} rows in {loop:.1f} s = {args.rows / loop:.0f} payouts/s")
            report(f"bulk / loop speed: {loop / seconds:.2f}x")
            for rows in args.memory_rows:
                reset(root)
                payroll = write_payroll(folder / f"payroll-{rows}.csv", rows)
                seconds, code, rss = bulk_process(payroll, root, args.concurrency, folder / f"m{rows}.sqlite")
                paid_all(f"the bulk command on {rows} rows", code, stats(root)["created"], rows)
                report(f"peak memory, {rows} rows: {rss / 1024:.0f} MiB max RSS (paid in {seconds:.1f} s, exit {code})")
    finally:
        mock.terminate()
        mock.wait(timeout=10)
    if args.write_results:
        write_results(RESULTS, command, began, load_at_start, lines)
        print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
