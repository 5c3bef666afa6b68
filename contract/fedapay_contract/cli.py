"""`fedapay-contract`: run FedaPay's payouts contract suite against the embedded mock or any server, from any project.

`--mock` starts a fresh mock for each part of the suite (the parts run side by side, `--jobs`), as the
repository's own CI does; `--base-url URL` runs every phase once against that server (FedaPay's sandbox,
your own), with the key from FEDAPAY_CONTRACT_API_KEY (or `--api-key`, which lands in shell history).
Prints the cases per part, per operation and phase, the total and cases/s; writes `--junit-xml`; exits 0
only when every check passed on every case and cases ran, 1 on a failure, 2 when it could not start.
The API key is never printed: every line and the JUnit file pass through `_redactor`.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from fedapay_contract.suite import Mode, Part, RunReport

ENV_MODE = "FEDAPAY_CONTRACT_MODE"
ENV_BASE_URL = "FEDAPAY_CONTRACT_BASE_URL"
ENV_API_KEY = "FEDAPAY_CONTRACT_API_KEY"
ENV_SEED = "FEDAPAY_CONTRACT_SEED"
CONTRACT_HINT = "pip install 'fedapay-payouts[contract]'"
# The key the embedded mock accepts: made up, sandbox-shaped.
MOCK_API_KEY = "sk_sandbox_fedapay_contract"
# Per part: CI mode finishes in well under a minute; deep mode and remote servers take longer.
CI_TIMEOUT = 300.0
DEEP_TIMEOUT = 3 * 3600.0

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The run cannot start (missing extra, no target, a live key); the message says what to do."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedapay-contract",
        description="Check that a server speaks FedaPay's payouts contract (the spec this package ships), "
        "with schemathesis: examples, coverage, fuzzing and stateful phases, every check.",
        epilog=f"Secrets: prefer {ENV_API_KEY} to --api-key (the key is never printed). "
        "Exit status: 0 all passed, 1 a check failed or nothing ran, 2 could not start.",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--mock", action="store_true", help="start the embedded FedaPay mock (needs the mock extra)")
    target.add_argument("--base-url", help=f"the server's API root, e.g. https://sandbox-api.fedapay.com/v1 "
                        f"(or set {ENV_BASE_URL})")
    parser.add_argument("--api-key", help=f"the server's secret key, sk_sandbox_... (better: set {ENV_API_KEY})")
    parser.add_argument(
        "--mode",
        default=os.environ.get(ENV_MODE, "ci"),
        help=f"ci: fixed seed, fixed counts (default, or {ENV_MODE}); deep: many more examples, a random seed",
    )
    parser.add_argument(
        "--seed", type=int,
        help=f"deep mode only: replay this seed (printed by every deep run; {ENV_SEED}); CI mode's seed is fixed",
    )
    parser.add_argument(
        "--max-examples",
        type=_positive,
        metavar="N",
        help="examples per operation and phase (default: ci 250, deep 500)",
    )
    parser.add_argument(
        "--jobs", type=_positive, default=None, metavar="N",
        help="--mock only: parts run side by side (default: the number of CPUs); a server runs every phase once",
    )
    parser.add_argument("--junit-xml", type=Path, metavar="PATH", help="write a JUnit XML report here")
    parser.add_argument(
        "--write-results", type=Path, metavar="PATH",
        help="also write the figures printed (cases per part, phase and operation; wall time; cases/s) to this "
        "Markdown file, headed by the command, the date and the machine's load",
    )
    parser.add_argument("--spec-path", action="store_true", help="print the packaged spec's path and exit")
    parser.add_argument("--config-path", action="store_true", help="print the schemathesis.toml's path and exit")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, not {text[:20]!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    stream = out if out is not None else sys.stdout
    args = build_parser().parse_args(argv)
    if args.spec_path or args.config_path:
        from fedapay_contract.paths import CONFIG_PATH, SPEC_PATH

        print(SPEC_PATH if args.spec_path else CONFIG_PATH, file=stream)
        return EXIT_OK
    try:
        return _run(args, stream)
    except UsageError as problem:
        print(f"fedapay-contract: {problem}", file=sys.stderr)
        return EXIT_USAGE


def _run(args: argparse.Namespace, out: TextIO) -> int:
    if importlib.util.find_spec("schemathesis") is None:
        raise UsageError(f"the contract suite needs the `contract` extra (`schemathesis` is missing): {CONTRACT_HINT}")
    from fedapay_contract.suite import LiveTargetRefused, Mode, parse_mode, refuse_live

    try:
        mode = parse_mode(args.mode, "--mode")
    except ValueError as bad:
        raise UsageError(str(bad)) from None
    base_url, api_key = _target(args)
    try:
        refuse_live(base_url or "http://127.0.0.1/v1", api_key)
    except LiveTargetRefused as refused:
        raise UsageError(str(refused)) from None
    # Options that would change nothing are refused, not ignored: a user reading the command believes them.
    if args.seed is not None and mode is not Mode.DEEP:
        raise UsageError("--seed replays a deep run (--mode deep); CI mode always uses its fixed seed")
    if args.jobs is not None and base_url is not None:
        raise UsageError("--jobs is for --mock (parts side by side); against a server every phase runs once")
    jobs = args.jobs or os.cpu_count() or 1
    # The embedded mock's key is no secret (it is in this file) and masking it would mangle the output:
    # its pieces are words (`contract` made `fedapay-contract` into `fedapay-[redacted]`).
    redact = _redactor(api_key) if base_url is not None else _unchanged
    seed = args.seed
    if seed is None and mode is Mode.DEEP:
        seed = _seed_from_env() if os.environ.get(ENV_SEED, "").strip() else random.SystemRandom().randrange(2**31)

    def say(line: str) -> None:
        print(redact(line), file=out, flush=True)

    load_at_start = os.getloadavg()[0]
    label = "the embedded mock" if base_url is None else _without_userinfo(base_url)
    from fedapay_contract.paths import SPEC_PATH

    randomness = f"seed {seed} (replay: --seed {seed})" if mode is Mode.DEEP else "derandomized"
    say(f"fedapay-contract: {label}, {mode.value} mode, {randomness}; spec {SPEC_PATH}")
    if base_url is None:
        reports = _run_on_mocks(mode, seed, args.max_examples, jobs, say)
        processes = min(jobs, len(reports))
    else:
        _reachable(base_url, label)
        reports = [_run_on_server(base_url, api_key, mode, seed, args.max_examples, label, say)]
        processes = 1
    status = _finish(reports, processes, args.junit_xml, redact, say)
    if args.write_results is not None:
        _write_results(args.write_results, _command_shown(args), reports, processes, load_at_start, redact)
        say(f"results: {args.write_results}")
    return status


def _command_shown(args: argparse.Namespace) -> str:
    """The command as it reproduces the figures: the target and the options that change the cases, never the key."""
    words = ["fedapay-contract", "--mock" if args.mock else "--base-url URL", f"--mode {args.mode}"]
    if args.seed is not None:
        words.append(f"--seed {args.seed}")
    if args.max_examples is not None:
        words.append(f"--max-examples {args.max_examples}")
    if args.mock:
        words.append(f"--jobs {args.jobs or os.cpu_count() or 1}")
    return " ".join(words)


def _seed_from_env() -> int:
    text = os.environ.get(ENV_SEED, "").strip()
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{ENV_SEED} must be a whole number (a seed a deep run printed), not {text[:20]!r}") from None


def _reachable(base_url: str, label: str) -> None:
    """One request before the suite: a server that cannot be reached is a usage problem (exit 2, no results
    file), not hundreds of network errors counted as cases. Any HTTP answer, even an error, is reachable."""
    import httpx

    try:
        httpx.get(base_url, timeout=10.0)
    except httpx.HTTPError as problem:
        raise UsageError(
            f"could not reach the server at {label} ({type(problem).__name__}): check --base-url and the network"
        ) from None


def _write_results(
    path: Path, command: str, reports: list[RunReport], processes: int, load_at_start: float,
    redact: Callable[[str], str],
) -> None:
    """The figures of this run as Markdown, so a README links to what the suite measured instead of copying it."""
    from fedapay_contract.summary import operation_table, suite_lines

    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        f"Written by `{command} --write-results {path}` on {when}; {os.cpu_count()} CPUs, load average "
        f"{load_at_start:.1f} at the start and {os.getloadavg()[0]:.1f} at the end. Do not edit: run it again.",
        "",
        "```text",
        *suite_lines(reports, processes),
        "```",
        "",
        "Cases per operation and phase:",
        "",
        *operation_table(reports),
        "",
    ]
    path.write_text(redact("\n".join(lines)), encoding="utf-8")


def _target(args: argparse.Namespace) -> tuple[str | None, str]:
    """(base URL, API key); no base URL means the embedded mock."""
    if args.mock:
        from fedapay_mock.extra import MockExtraMissing, require_mock_extra

        try:
            require_mock_extra()
        except MockExtraMissing as missing:
            raise UsageError(str(missing)) from None
        return None, MOCK_API_KEY
    base_url = (args.base_url or os.environ.get(ENV_BASE_URL, "")).strip()
    if not base_url:
        raise UsageError(f"say which server: --mock (the embedded mock) or --base-url URL (or set {ENV_BASE_URL})")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https"):
        raise UsageError("--base-url must be an http:// or https:// URL")
    try:
        parts.port  # noqa: B018 - urllib checks the port only when it is read
    except ValueError:
        raise UsageError("--base-url has a port that is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise UsageError("--base-url has no host, e.g. https://sandbox-api.fedapay.com/v1")
    api_key = (args.api_key or os.environ.get(ENV_API_KEY, "")).strip()
    if not api_key:
        raise UsageError(f"set {ENV_API_KEY} to the server's secret key (sk_sandbox_...), or give --api-key")
    return base_url, api_key


def _unchanged(text: str) -> str:
    return text


def _redactor(secret: str) -> Callable[[str], str]:
    """Mask the key in any text (a server could echo it back): the client's `Redactor`, which also finds its
    percent-encoded forms and any piece of 8 characters or more outside the public `sk_sandbox_` prefix."""
    from fedapay_payouts._redact import Redactor

    return Redactor(secret, mask="[redacted]").redact


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _run_on_mocks(
    mode: Mode, seed: int | None, max_examples: int | None, jobs: int, say: Callable[[str], None]
) -> list[RunReport]:
    """Every part of the suite, each in its own process against its own fresh mock, `jobs` at a time."""
    from fedapay_mock import run_mock

    from fedapay_contract.isolated import run_suite_isolated
    from fedapay_contract.suite import CI_PARTS, RunReport, populate

    timeout = CI_TIMEOUT if mode.value == "ci" else DEEP_TIMEOUT
    # The suite sends malformed requests on purpose; uvicorn warns about each ("Invalid HTTP request
    # received"). A filter on the logger, not a level: uvicorn resets levels whenever a server starts.
    logging.getLogger("uvicorn.error").addFilter(lambda record: record.levelno >= logging.ERROR)

    def one(part: Part) -> RunReport:
        started = time.time()
        try:
            with run_mock(api_key=MOCK_API_KEY, freeze_clock=True) as server:
                if part.prefill:
                    populate(server.base_url, MOCK_API_KEY, part.prefill)
                return run_suite_isolated(
                    base_url=server.base_url, api_key=MOCK_API_KEY, mode=mode, target="mock", part=part,
                    timeout=timeout, not_implemented=server.stats()["not_implemented"], seed=seed,
                    max_examples=max_examples,
                )
        # A part that cannot run (its process crashed or timed out, the mock did not start) is reported as
        # that part's error and fails the run; the other parts still run and report.
        except Exception as problem:  # noqa: BLE001
            report = RunReport(target="mock", mode=mode, seed=seed or 0, derandomized=mode.value == "ci",
                               part=part.name, started=started, duration=time.time() - started)
            report.errors.append(f"{type(problem).__name__}: {problem}")
            return report

    order = {part.name: index for index, part in enumerate(CI_PARTS)}
    reports: list[RunReport] = []
    with ThreadPoolExecutor(max_workers=min(jobs, len(CI_PARTS))) as pool:
        for future in as_completed([pool.submit(one, part) for part in CI_PARTS]):
            report = future.result()
            reports.append(report)
            say(f"[{len(reports)}/{len(CI_PARTS)}] {report.headline()}")
    return sorted(reports, key=lambda report: order[report.part])


def _run_on_server(
    base_url: str, api_key: str, mode: Mode, seed: int | None, max_examples: int | None, label: str,
    say: Callable[[str], None],
) -> RunReport:
    """Every phase once, in this process: a remote server has rate limits and latency, no parts side by side."""
    from fedapay_contract.suite import run_suite

    report = run_suite(
        base_url=base_url, api_key=api_key, mode=mode, target=label, seed=seed, max_examples=max_examples
    )
    say(report.headline())
    return report


def _phases_of(report: RunReport) -> tuple[str, ...]:
    """The phases `report`'s run was asked for: its part's, or all of them."""
    from fedapay_contract.suite import CI_PARTS, PHASES

    return next((part.phases for part in CI_PARTS if part.name == report.part), PHASES)


def _finish(
    reports: list[RunReport],
    processes: int,
    junit_xml: Path | None,
    redact: Callable[[str], str],
    say: Callable[[str], None],
) -> int:
    from fedapay_contract.summary import acceptance_problems, operation_table, suite_lines

    problems = [f"{report.part or report.target}: phase {phase} produced no cases"
                for report in reports if not report.errors
                for phase in _phases_of(report) if not report.cases_by_phase.get(phase)]
    if not sum(report.total_cases for report in reports):
        problems.append("no case ran")
    else:
        problems += acceptance_problems(reports)
    say("")
    for line in [*suite_lines(reports, processes), "", "cases per operation and phase:", *operation_table(reports)]:
        say(line)
    for report in reports:
        if not report.ok:
            say("")
            say(report.format())
    if junit_xml is not None:
        from fedapay_contract.junit import write_junit

        write_junit(junit_xml, reports, redact)
        say(f"JUnit report: {junit_xml}")
    failed = [report for report in reports if not report.ok]
    for problem in problems:
        say(f"problem: {problem}")
    if failed or problems:
        checks = sorted({check for report in failed for check in report.failing_checks})
        say(f"FAILED: {len(failed)} of {len(reports)} parts failed (checks: {', '.join(checks) or 'none'}; "
            f"errors: {sum(len(r.errors) for r in reports)}){'; ' + '; '.join(problems) if problems else ''}")
        return EXIT_FAILED
    say(f"passed: {sum(report.total_cases for report in reports)} cases, every check held")
    return EXIT_OK
