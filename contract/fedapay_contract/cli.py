"""`fedapay-contract`: run FedaPay's payouts contract suite against the embedded mock or any server, from any project.

`--mock` starts a fresh mock for each part of the suite (the parts run side by side, `--jobs`), as the
repository's own CI does; `--base-url URL` runs every phase once against that server (FedaPay's sandbox,
your own), with the key from FEDAPAY_CONTRACT_API_KEY (or `--api-key`, which lands in shell history).
Prints the cases per part, per operation and phase, the total and cases/s; writes `--junit-xml`; exits 0
only when every check passed on every case and cases ran, 1 on a failure, 2 when it could not start.
The API key is never printed: every line and the JUnit file pass through `redactor`, then `visible` (a
server's control characters shown as escapes). Every request has a wall-clock cap (`deadline`) and the whole
run a time limit (`--time-limit`), so a server that never finishes a reply cannot hold it.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import random
import sys
import tempfile
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
ENV_MAX_EXAMPLES = "FEDAPAY_CONTRACT_MAX_EXAMPLES"
ENV_TIME_LIMIT = "FEDAPAY_CONTRACT_TIME_LIMIT"
CONTRACT_HINT = "pip install 'fedapay-payouts[contract]'"
# The key the embedded mock accepts: made up, sandbox-shaped.
MOCK_API_KEY = "sk_sandbox_fedapay_contract"
# Per part: CI mode finishes in well under a minute; deep mode and remote servers take longer.
CI_TIMEOUT = 300.0
DEEP_TIMEOUT = 3 * 3600.0
# The whole run's time limit by default (--time-limit): far above what a run takes, yet an end.
DEFAULT_TIME_LIMIT = {"ci": 3600, "deep": 12 * 3600}
# Seconds the request before the suite may take, in all, to be answered.
REACH_SECONDS = 15.0

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
        help=f"ci: fixed seed, fixed counts (default, or {ENV_MODE}); deep: many more examples, a random seed",
    )
    parser.add_argument(
        "--seed", type=int,
        help=f"deep mode only: replay this seed (printed by every deep run; {ENV_SEED}); CI mode's seed is fixed",
    )
    parser.add_argument(
        "--max-examples",
        type=_examples,
        metavar="N",
        help=f"examples per operation and phase, 2 or more (default: ci 250, deep 500 or {ENV_MAX_EXAMPLES})",
    )
    parser.add_argument(
        "--time-limit", type=_positive, metavar="SECONDS",
        help=f"stop the whole run then and report what ran (default: ci {DEFAULT_TIME_LIMIT['ci']}, deep "
        f"{DEFAULT_TIME_LIMIT['deep']}, or {ENV_TIME_LIMIT}); each request is cut after 30 s in any case",
    )
    parser.add_argument(
        "--jobs", type=_positive, default=None, metavar="N",
        help="--mock only: parts run side by side (default: the number of CPUs); a server runs every phase once",
    )
    parser.add_argument("--junit-xml", type=Path, metavar="PATH",
                        help="write a JUnit XML report here (missing folders are created)")
    parser.add_argument(
        "--write-results", type=Path, metavar="PATH",
        help="also write the figures printed (cases per part, phase and operation; wall time; cases/s) to this "
        "Markdown file, headed by the command, the date and the machine's load (missing folders are created)",
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


def _examples(text: str) -> int:
    from fedapay_contract.suite import parse_max_examples

    try:
        return parse_max_examples(text, "it")
    except ValueError as bad:
        raise argparse.ArgumentTypeError(str(bad).removeprefix("it ")) from None


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
        from fedapay_contract.visible import visible

        print(visible(f"fedapay-contract: {problem}").replace("\n", " "), file=sys.stderr)
        return EXIT_USAGE


def _run(args: argparse.Namespace, out: TextIO) -> int:
    if importlib.util.find_spec("schemathesis") is None:
        raise UsageError(f"the contract suite needs the `contract` extra (`schemathesis` is missing): {CONTRACT_HINT}")
    from fedapay_contract.suite import LiveTargetRefused, Mode, max_examples_from_env, parse_mode, refuse_live
    from fedapay_contract.visible import visible

    try:
        # The error names where the bad value came from: the option, or the variable standing in for it.
        if args.mode is not None:
            mode = parse_mode(args.mode, "--mode")
        else:
            mode = parse_mode(os.environ.get(ENV_MODE) or Mode.CI.value, ENV_MODE)
        env_examples = max_examples_from_env()
    except ValueError as bad:
        raise UsageError(str(bad)) from None
    env_seed = _seed_from_env()
    time_limit = args.time_limit or _time_limit_from_env() or DEFAULT_TIME_LIMIT[mode.value]
    for option, path in (("--junit-xml", args.junit_xml), ("--write-results", args.write_results)):
        if path is not None:
            _check_writable(option, path)
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
    redact = redactor(api_key) if base_url is not None else _unchanged
    seed = args.seed
    if seed is None and mode is Mode.DEEP:
        seed = env_seed if env_seed is not None else random.SystemRandom().randrange(2**31)
    # FEDAPAY_CONTRACT_MAX_EXAMPLES sizes a deep run (as in the repository's pytest route); --max-examples any run.
    max_examples = args.max_examples or (env_examples if mode is Mode.DEEP else None)

    def say(line: str) -> None:
        print(visible(redact(line)), file=out, flush=True)

    load_at_start = os.getloadavg()[0]
    label = "the embedded mock" if base_url is None else _without_userinfo(base_url)
    from fedapay_contract.paths import SPEC_PATH

    randomness = f"seed {seed} (replay: --seed {seed})" if mode is Mode.DEEP else "derandomized"
    say(f"fedapay-contract: {label}, {mode.value} mode, {randomness}; spec {SPEC_PATH}")
    ends = time.monotonic() + time_limit
    if base_url is None:
        reports = _run_on_mocks(mode, seed, max_examples, jobs, ends, say)
        processes = min(jobs, len(reports))
    else:
        _reachable(base_url, label)
        reports = [_run_on_server(base_url, api_key, mode, seed, max_examples, label, ends, say)]
        processes = 1
    status = _finish(reports, processes, args.junit_xml, redact, say)
    if args.write_results is not None:
        command = _command_shown(args, mode, max_examples)
        try:
            _write_results(args.write_results, command, reports, processes, load_at_start, redact)
        except OSError as problem:
            say(f"could not write the results to {args.write_results}: {problem.strerror or problem}")
            return max(status, EXIT_FAILED)
        say(f"results: {args.write_results}")
    return status


def _command_shown(args: argparse.Namespace, mode: Mode, max_examples: int | None) -> str:
    """The command as it reproduces the figures: the target and the options that change the cases, never the key."""
    words = ["fedapay-contract", "--mock" if args.mock else "--base-url URL", f"--mode {mode.value}"]
    if args.seed is not None:
        words.append(f"--seed {args.seed}")
    if max_examples is not None:
        words.append(f"--max-examples {max_examples}")
    if args.mock:
        words.append(f"--jobs {args.jobs or os.cpu_count() or 1}")
    return " ".join(words)


def _seed_from_env() -> int | None:
    from fedapay_contract.suite import seed_from_env

    try:
        return seed_from_env()
    except ValueError as bad:
        raise UsageError(str(bad)) from None


def _time_limit_from_env() -> int | None:
    text = os.environ.get(ENV_TIME_LIMIT, "").strip()
    if not text:
        return None
    try:
        return _positive(text)
    except argparse.ArgumentTypeError:
        raise UsageError(f"{ENV_TIME_LIMIT} must be a whole number of seconds >= 1, not {text[:20]!r}") from None


def _check_writable(option: str, path: Path) -> None:
    """Before the run, not after it: `path` must be a file this process can write, or one it can create (with
    its missing folders). Only a probe file is made (and removed) in the nearest existing folder: a run that does
    not start leaves no file behind."""
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder: give a file's path, e.g. {path / 'contract.xml'}")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise UsageError(f"{option} {path}: this user may not write that file")
        return
    folder = path.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: this user may not create files in {folder}")
    # os.access says yes to root for any folder, /proc's too: a file made there and removed at once is the answer.
    try:
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".fedapay-contract-probe-")  # noqa: SIM115
    except OSError as problem:
        raise UsageError(f"{option} {path}: no file can be created in {folder} ({problem.strerror})") from None
    probe.close()


def _reachable(base_url: str, label: str) -> None:
    """One request before the suite: a server that cannot be reached is a usage problem (exit 2, no results
    file), not hundreds of network errors counted as cases. Any HTTP answer, even an error, is reachable; one
    that has not ended within REACH_SECONDS (a server dripping it) is not."""
    import requests

    from fedapay_contract import deadline

    with deadline.mount(requests.Session(), REACH_SECONDS) as session:
        cuts = deadline.cuts()
        try:
            session.get(base_url, timeout=10.0, allow_redirects=False)
        except deadline.ReplyTooLargeError:
            return  # an answer, if a huge one: the suite's cases meet it and say so
        except requests.RequestException as problem:
            if deadline.cuts() > cuts:
                raise UsageError(
                    f"could not reach the server at {label}: no complete answer within {REACH_SECONDS:g} s "
                    "(the server sends its reply too slowly or never ends it)"
                ) from None
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
    from fedapay_contract.visible import visible

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(visible(redact("\n".join(lines))), encoding="utf-8")


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


def redactor(secret: str) -> Callable[[str], str]:
    """Mask the key in any text (a server could echo it back): the client's `Redactor`, which also finds its
    percent-encoded forms and any piece of 8 characters or more outside the public `sk_sandbox_` prefix."""
    from fedapay_payouts._redact import Redactor

    return Redactor(secret, mask="[redacted]").redact


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _failed_run(target: str, mode: Mode, seed: int | None, part: str, started: float, problem: Exception) -> RunReport:
    """The report of a run that could not run or end (its process crashed or was killed, its mock did not start)."""
    from fedapay_contract.suite import RunReport

    report = RunReport(target=target, mode=mode, seed=seed or 0, derandomized=mode.value == "ci",
                       part=part, started=started, duration=time.time() - started)
    report.errors.append(f"{type(problem).__name__}: {problem}")
    return report


def _run_on_mocks(
    mode: Mode, seed: int | None, max_examples: int | None, jobs: int, ends: float, say: Callable[[str], None]
) -> list[RunReport]:
    """Every part of the suite, each in its own process against its own fresh mock, `jobs` at a time, until `ends`
    (time.monotonic()): a part still running then stops and reports what it ran; one not started yet does not run."""
    from fedapay_mock import run_mock

    from fedapay_contract.isolated import GRACE, run_suite_isolated
    from fedapay_contract.suite import CI_PARTS, populate

    part_timeout = CI_TIMEOUT if mode.value == "ci" else DEEP_TIMEOUT
    # The suite sends malformed requests on purpose; uvicorn warns about each ("Invalid HTTP request
    # received"). A filter on the logger, not a level: uvicorn resets levels whenever a server starts.
    logging.getLogger("uvicorn.error").addFilter(lambda record: record.levelno >= logging.ERROR)

    def one(part: Part) -> RunReport:
        started = time.time()
        try:
            left = ends - time.monotonic()
            if left < 1:
                raise TimeoutError("not run: the run had reached its time limit (--time-limit) before this part")
            with run_mock(api_key=MOCK_API_KEY, freeze_clock=True) as server:
                if part.prefill:
                    populate(server.base_url, MOCK_API_KEY, part.prefill)
                return run_suite_isolated(
                    base_url=server.base_url, api_key=MOCK_API_KEY, mode=mode, target="mock", part=part,
                    timeout=part_timeout + GRACE, not_implemented=server.stats()["not_implemented"], seed=seed,
                    max_examples=max_examples, time_limit=max(1.0, min(part_timeout, ends - time.monotonic())),
                )
        # A part that cannot run (its process crashed or timed out, the mock did not start) is reported as
        # that part's error and fails the run; the other parts still run and report.
        except Exception as problem:  # noqa: BLE001
            return _failed_run("mock", mode, seed, part.name, started, problem)

    order = {part.name: index for index, part in enumerate(CI_PARTS)}
    reports: list[RunReport] = []
    with ThreadPoolExecutor(max_workers=min(jobs, len(CI_PARTS))) as pool:
        for future in as_completed([pool.submit(one, part) for part in CI_PARTS]):
            report = future.result()
            reports.append(report)
            say(f"[{len(reports)}/{len(CI_PARTS)}] {report.headline()}")
    return sorted(reports, key=lambda report: order[report.part])


def _run_on_server(
    base_url: str, api_key: str, mode: Mode, seed: int | None, max_examples: int | None, label: str, ends: float,
    say: Callable[[str], None],
) -> RunReport:
    """Every phase once (a remote server has rate limits and latency: no parts side by side), in a process of
    its own (`isolated`): it stops at `ends` and reports what it ran, and is killed if it has not ended soon after."""
    from fedapay_contract.isolated import GRACE, run_suite_isolated

    started = time.time()
    left = max(1.0, ends - time.monotonic())
    try:
        report = run_suite_isolated(
            base_url=base_url, api_key=api_key, mode=mode, target=label, seed=seed, max_examples=max_examples,
            timeout=left + GRACE, time_limit=left, remote=True,
        )
    except Exception as problem:  # noqa: BLE001 - reported as the run's error, which fails the command
        report = _failed_run(label, mode, seed, "", started, problem)
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
    unwritten = False
    if junit_xml is not None:
        from fedapay_contract.junit import write_junit

        try:
            write_junit(junit_xml, reports, redact, problems)
            say(f"JUnit report: {junit_xml}")
        except OSError as error:
            say(f"could not write the JUnit report to {junit_xml}: {error.strerror or error}")
            unwritten = True
    failed = [report for report in reports if not report.ok]
    for problem in problems:
        say(f"problem: {problem}")
    if failed or problems:
        reasons = []
        if failed:
            checks = sorted({check for report in failed for check in report.failing_checks})
            reasons.append(f"{len(failed)} of {len(reports)} parts failed (checks: {', '.join(checks) or 'none'}; "
                           f"errors: {sum(len(r.errors) for r in reports)})")
        if problems:
            whole = "every part passed its checks, but " if not failed else ""
            reasons.append(f"{whole}{len(problems)} problem{'s' if len(problems) > 1 else ''} with the whole suite: "
                           + "; ".join(problems))
        say("FAILED: " + "; ".join(reasons))
        return EXIT_FAILED
    if unwritten:
        return EXIT_FAILED
    say(f"passed: {sum(report.total_cases for report in reports)} cases, every check held")
    return EXIT_OK
