"""The `fedapay-contract` command (fedapay_contract/cli.py): exit status, counts, JUnit report, and a key kept secret.

Its run against the embedded mock from an installed wheel is tests/install/test_user_project.py; here it runs
in this process against servers that break the contract, and with what a user gets wrong.
"""

from __future__ import annotations

import io
import os
import shlex
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from fedapay_contract.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, build_parser, main
from fedapay_contract.junit import write_junit
from fedapay_contract.suite import CI_PARTS, CheckFailure, Mode, RunReport, config_data, populate
from fedapay_contract.visible import visible
from fedapay_mock.asgi import ASGIApp

from contract_tests.broken import Exchange, Rewrite
from contract_tests.serve import serve_asgi

# A made-up key with a distinctive body: it must appear nowhere in what the command prints or writes.
KEY = "sk_sandbox_Zq8rT3cOntRActKeY91"
CI_EXAMPLE = Path(__file__).with_name("ci-example.yml")


def _echoes_the_key(app: ASGIApp) -> ASGIApp:
    """A server that breaks the contract and quotes the caller's credentials back in every reply body; it deletes
    nothing (422), so the command also reports an operation that never answered a 2xx."""

    def after(exchange: Exchange) -> None:
        auth = dict(exchange.request_headers).get(b"authorization", b"").decode()
        status = 422 if exchange.method == "DELETE" and 200 <= exchange.status < 300 else exchange.status
        exchange.set_json({"v1/payout": {"id": "not a number", "seen": auth}}, status=status)

    return Rewrite(app, after=after)


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue()


def test_a_server_that_breaks_the_contract_fails_the_command_and_the_key_is_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from fedapay_mock import create_app

    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", KEY)
    junit = tmp_path / "reports" / "contract.xml"
    results = tmp_path / "figures" / "RESULTS.md"  # both reports' missing folders are created
    with serve_asgi(_echoes_the_key(create_app(api_key=KEY, freeze_clock=True))) as served:
        code, out = _run(["--base-url", served.base_url, "--max-examples", "3", "--junit-xml", str(junit),
                          "--write-results", str(results)])
    assert code == EXIT_FAILED, out
    assert "response_schema_conformance" in out
    assert "FAILED: 1 of 1 parts failed" in out
    # The counts: one line for the run, and the per-operation table with its total.
    assert "cases per operation and phase:" in out
    assert "| POST /payouts" in out
    assert "| total" in out
    # The server echoed the key into its replies, which the failure report quotes: redacted everywhere.
    assert "[redacted]" in out
    report = junit.read_text(encoding="utf-8")
    # The results file holds the figures printed (the same suite line and table), the command that made
    # them (its first line, to run again) and never the key.
    written = results.read_text(encoding="utf-8")
    suite_line = next(line for line in out.splitlines() if " cases (" in line and "wall" in line)
    assert suite_line in written
    total_row = next(line for line in out.splitlines() if line.startswith("| total"))
    assert total_row in written
    assert written.startswith("Written by `fedapay-contract --base-url URL --mode ci --max-examples 3")
    captured = capsys.readouterr()
    printed = out + captured.out + captured.err
    for text in (printed, report, written):
        assert KEY not in text
        assert KEY.split("_", 2)[2] not in text
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    # The run's one part, a failure, and the suite's problem (the server deletes nothing: no 2xx), also a failure:
    # the report fails whenever the command does.
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "2", "0")
    failure, problem = suite.iter("failure")
    assert "response_schema_conformance" in (failure.get("message") or "")
    assert problem.get("message") == "never answered a 2xx to a valid request: DELETE /payouts/{id}"


def test_a_live_key_or_host_is_refused_before_any_request_and_the_key_is_not_shown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    live = "sk_live_Zq8rT3cOntRActKeY91"
    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", live)
    # Port 9 (discard) on loopback: nothing listens, so a request sent would show as a connection error.
    code, out = _run(["--base-url", "http://127.0.0.1:9/v1"])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert "refusing to run the contract suite against a live FedaPay account" in err
    assert live not in out + err
    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", KEY)
    assert _run(["--base-url", "https://api.fedapay.com/v1"])[0] == EXIT_USAGE


WITH_KEY = {"FEDAPAY_CONTRACT_API_KEY": KEY}
ENV_NAMES = tuple(f"FEDAPAY_CONTRACT_{name}" for name in
                  ("API_KEY", "BASE_URL", "MODE", "SEED", "MAX_EXAMPLES", "TIME_LIMIT"))


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        ([], {}, "say which server: --mock (the embedded mock) or --base-url URL"),
        (["--base-url", "http://127.0.0.1:9/v1"], {}, "set FEDAPAY_CONTRACT_API_KEY"),
        (["--base-url", "ftp://127.0.0.1/v1"], {"FEDAPAY_CONTRACT_API_KEY": KEY}, "http:// or https://"),
        (["--mock", "--mode", "nightly"], {}, "--mode must be 'ci' or 'deep'"),
        # Options that used to end in a traceback (exit 1), each with a key so only the option is wrong.
        (["--base-url", "http://127.0.0.1:99999/v1"], WITH_KEY, "port that is not a number from 1 to 65535"),
        (["--base-url", "http://127.0.0.1:abc/v1"], WITH_KEY, "port that is not a number from 1 to 65535"),
        (["--base-url", "http:///v1"], WITH_KEY, "--base-url has no host"),
        (["--mock", "--mode", "deep"], {**WITH_KEY, "FEDAPAY_CONTRACT_SEED": "abc"}, "_SEED must be a whole number"),
        (["--mock", "--seed", "5"], WITH_KEY, "--seed replays a deep run (--mode deep)"),
        (["--base-url", "http://127.0.0.1:9/v1", "--jobs", "2"], WITH_KEY, "--jobs is for --mock"),
        (["--base-url", "https://api.fedapay.com./v1"], WITH_KEY, "refusing to run the contract suite against a live"),
        (["--base-url", "https://API.FedaPay.com/v1"], WITH_KEY, "refusing to run the contract suite against a live"),
        # The environment's stand-ins for options: checked before anything runs, and named when wrong.
        (["--mock"], {"FEDAPAY_CONTRACT_MODE": "typo"}, "FEDAPAY_CONTRACT_MODE must be 'ci' or 'deep', not 'typo'"),
        (["--mock", "--mode", "deep"], {"FEDAPAY_CONTRACT_MAX_EXAMPLES": "abc"},
         "FEDAPAY_CONTRACT_MAX_EXAMPLES must be a whole number >= 2, not 'abc'"),
        (["--mock", "--mode", "deep"], {"FEDAPAY_CONTRACT_MAX_EXAMPLES": "0"},
         "FEDAPAY_CONTRACT_MAX_EXAMPLES must be 2 or more, not 0"),
        (["--mock"], {"FEDAPAY_CONTRACT_MAX_EXAMPLES": "-5"},
         "FEDAPAY_CONTRACT_MAX_EXAMPLES must be 2 or more, not -5"),
        (["--mock"], {"FEDAPAY_CONTRACT_TIME_LIMIT": "soon"}, "FEDAPAY_CONTRACT_TIME_LIMIT must be a whole number"),
    ],
)
def test_what_is_missing_or_wrong_is_said_in_one_line_with_exit_status_2(
    argv: list[str], env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out = _run(argv)
    lines = capsys.readouterr().err.splitlines()
    assert code == EXIT_USAGE
    assert len(lines) == 1, lines
    assert message in lines[0]
    assert out == ""


def test_without_the_contract_extra_the_command_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "schemathesis", None)  # how Python spells "not installed"
    code, _ = _run(["--mock"])
    assert code == EXIT_USAGE
    assert capsys.readouterr().err.strip() == (
        "fedapay-contract: the contract suite needs the `contract` extra (`schemathesis` is missing): "
        "pip install 'fedapay-payouts[contract]'"
    )


def test_the_paths_it_prints_are_the_packaged_spec_and_config() -> None:
    spec = Path(_run(["--spec-path"])[1].strip())
    config = Path(_run(["--config-path"])[1].strip())
    assert spec.parent.name == "fedapay_payouts_api"
    assert spec.name == "openapi.json"
    assert config.parent.name == "fedapay_contract"
    assert 'hooks = "fedapay_contract.checks"' in config.read_text(encoding="utf-8")


def test_every_command_of_the_ci_example_parses() -> None:
    """The sample workflow's `fedapay-contract` lines use options the command has (argparse exits on others)."""
    workflow = yaml.safe_load(CI_EXAMPLE.read_text(encoding="utf-8"))
    commands = [
        line.strip()
        for job in workflow["jobs"].values()
        for step in job["steps"]
        for line in str(step.get("run", "")).splitlines()
        if line.strip().startswith("fedapay-contract")
    ]
    assert len(commands) >= 3, commands
    parser = build_parser()
    for command in commands:
        args = parser.parse_args(shlex.split(command)[1:])
        assert args.junit_xml is not None, command


def _answers_every_request_with(status: int) -> Callable[[ASGIApp], ASGIApp]:
    """A server that refuses every request with `status` (an error body of FedaPay's shape)."""

    def wrap(app: ASGIApp) -> ASGIApp:
        def after(exchange: Exchange) -> None:
            exchange.set_json({"message": "refused", "errors": {}}, status=status)

        return Rewrite(app, after=after)

    return wrap


def test_a_server_that_refuses_every_request_with_a_wrong_key_fails_and_says_to_check_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fedapay_mock import create_app

    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", KEY)
    # The server's own key is another one: every request the suite sends with KEY gets 401.
    with serve_asgi(create_app(api_key="sk_sandbox_the_servers_own_key", freeze_clock=True)) as served:
        code, out = _run(["--base-url", served.base_url, "--max-examples", "3"])
    assert code == EXIT_FAILED, out
    assert "every check held" not in out
    assert "401/403 to requests carrying the configured key on" in out
    assert "check the key" in out
    assert "never answered a 2xx to a valid request: GET /payouts, POST /payouts" in out
    assert KEY not in out


@pytest.mark.parametrize("status", [503])  # the 401 case above says "check the key"; a server error does not
def test_a_server_that_answers_every_request_with_an_error_fails_naming_the_operations(
    status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fedapay_mock import create_app

    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", KEY)
    broken = _answers_every_request_with(status)(create_app(api_key=KEY, freeze_clock=True))
    with serve_asgi(broken) as served:
        code, out = _run(["--base-url", served.base_url, "--max-examples", "2"])
    assert code == EXIT_FAILED, out
    assert "every check held" not in out
    problem = next(line for line in out.splitlines() if "never answered a 2xx to a valid request" in line)
    for operation in ("GET /payouts", "POST /payouts", "PUT /payouts/start", "GET /payouts/{id}"):
        assert operation in problem
    assert "check the key" not in out  # not a key problem: no 401/403


def test_an_unreachable_server_exits_2_and_writes_no_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", KEY)
    with socket.socket() as reserved:  # a free port nothing listens on: connections are refused
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
        results = tmp_path / "RESULTS.md"
        junit = tmp_path / "contract.xml"
        code, out = _run(["--base-url", f"http://127.0.0.1:{port}/v1", "--write-results", str(results),
                          "--junit-xml", str(junit)])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    url = f"http://127.0.0.1:{port}/v1"
    assert err.startswith(f"fedapay-contract: could not reach the server at {url} (ConnectionError): check --base-url")
    assert not results.exists()
    assert not junit.exists()
    assert "cases" not in out


def test_the_junit_report_fails_whenever_the_command_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check held (a server refusing everything holds them all), yet the command fails for the suite's
    problems: each is a failing test case of the report, and the last line says what failed."""
    from fedapay_mock import create_app

    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", KEY)
    junit = tmp_path / "contract.xml"
    with serve_asgi(create_app(api_key="sk_sandbox_the_servers_own_key", freeze_clock=True)) as served:
        code, out = _run(["--base-url", served.base_url, "--max-examples", "2", "--junit-xml", str(junit)])
    assert code == EXIT_FAILED, out
    problems = [line.removeprefix("problem: ") for line in out.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 2, out
    last = out.splitlines()[-1]
    assert last.startswith("FAILED: every part passed its checks, but 2 problems with the whole suite: 401/403 "), last
    assert " 0 of " not in last
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    cases = [case for case in suite.iter("testcase") if case.get("classname") == "fedapay-contract.suite"]
    assert [case.find("failure").get("message") for case in cases] == problems  # type: ignore[union-attr]


def test_the_junit_report_holds_a_failing_case_when_no_case_ran(tmp_path: Path) -> None:
    report = RunReport(target="server", mode=Mode.CI, seed=1, derandomized=True)
    junit = tmp_path / "contract.xml"
    write_junit(junit, [report], str, ["no case ran"])
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "1"
    (failure,) = suite.iter("failure")
    assert failure.get("message") == "no case ran"


def test_a_junit_classname_never_holds_the_target_whose_dots_ci_viewers_would_split(tmp_path: Path) -> None:
    """`fedapay-contract.http://127.0.0.1:8080/v1` was shown as packages `http://127`, `0`, `0`, `1:8080/v1`: the
    classname is two dot-separated words, the target is in the test's name and its `target` property."""
    target = "https://sandbox-api.fedapay.com/v1"
    reports = [RunReport(target=target, mode=Mode.CI, seed=1, derandomized=True),
               RunReport(target="mock", mode=Mode.CI, seed=1, derandomized=True, part="unit: create")]
    junit = tmp_path / "contract.xml"
    write_junit(junit, reports, str, ["no case ran"])
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    assert [(case.get("classname"), case.get("name")) for case in cases] == [
        ("fedapay-contract.part", f"all phases on {target}"),
        ("fedapay-contract.part", "unit: create on mock"),
        ("fedapay-contract.suite", "problem 1"),
    ]
    targets = [[(p.get("name"), p.get("value")) for p in case.iter("property")] for case in cases[:2]]
    assert targets == [[("target", target)], [("target", "mock")]]


def test_control_characters_become_visible_escapes_and_the_junit_file_always_parses(tmp_path: Path) -> None:
    hostile = "a\x1b[2J\x00\x07\r\x7f\x9b\ud800\ufffe b\n\tc"
    assert visible(hostile) == "a\\x1b[2J\\x00\\x07\\x0d\\x7f\\u009b\\ud800\\ufffe b\n\tc"
    failure = CheckFailure("response_schema_conformance", "GET /payouts", 200, f"title {hostile}", hostile, hostile)
    report = RunReport(target=f"server {hostile}", mode=Mode.CI, seed=1, derandomized=True, part=hostile,
                       failures=[failure], errors=[hostile])
    junit = tmp_path / "contract.xml"
    write_junit(junit, [report], str, [hostile])
    root = ET.parse(junit).getroot()
    texts = "".join(root.itertext()) + "".join(value for element in root.iter() for value in element.attrib.values())
    assert "a\\x1b[2J\\x00" in texts
    assert not {char for char in texts if ord(char) < 32 and char not in "\n\t"}


@pytest.mark.parametrize("option", ["--junit-xml", "--write-results"])
def test_a_report_path_that_cannot_be_written_is_refused_before_the_run(
    option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", KEY)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x", encoding="utf-8")
    # /proc takes no new file, yet os.access says yes to root (CI containers): the thirteenth review's case.
    cannot = "no file can be created in /proc" if os.geteuid() == 0 else "this user may not create files in /proc"
    for path, message in ((tmp_path, "is a folder: give a file's path"),
                          (a_file / "report.xml", f"{a_file} is a file, not a folder"),
                          (Path("/proc/fedapay-contract-report.xml"), cannot)):
        # Port 9: nothing listens. The path is refused first: no request, no run, no traceback after it.
        code, out = _run(["--base-url", "http://127.0.0.1:9/v1", option, str(path)])
        lines = capsys.readouterr().err.splitlines()
        assert code == EXIT_USAGE
        assert len(lines) == 1, lines
        assert f"fedapay-contract: {option} {path}" in lines[0]
        assert message in lines[0]
        assert out == ""
    assert sorted(tmp_path.iterdir()) == [a_file]


def test_every_size_accepted_passes_against_the_embedded_mock(capsys: pytest.CaptureFixture[str]) -> None:
    """The smallest --max-examples accepted gives every phase of every part cases; a smaller one is refused."""
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(["--mock", "--max-examples", "1"])
    assert refused.value.code == EXIT_USAGE
    assert "argument --max-examples: must be 2 or more, not 1" in capsys.readouterr().err
    code, out = _run(["--mock", "--max-examples", "2", "--jobs", "2"])
    assert code == EXIT_OK, out
    assert out.splitlines()[-1].startswith("passed: ")


def test_the_example_database_is_off_in_every_mode() -> None:
    for mode in Mode:
        data = config_data(mode)
        assert data["generation"]["database"] == "none", mode
        assert data["phases"]["stateful"]["generation"]["database"] == "none", mode


def test_a_deep_run_replays_from_its_seed_and_leaves_nothing_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hypothesis' example database (`.hypothesis/` in the working directory) replayed what an earlier run saved:
    the same seed drew other cases the second time. Two runs of one part, each against a fresh mock."""
    from fedapay_contract.isolated import close_zygotes, run_suite_isolated
    from fedapay_mock import run_mock

    part = next(part for part in CI_PARTS if part.name == "unit: update, list, search")
    close_zygotes()  # a zygote started before would run in its own working directory
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    drawn = []
    try:
        for _ in range(2):
            with run_mock(api_key=KEY, freeze_clock=True) as mock:
                populate(mock.base_url, KEY, part.prefill)
                report = run_suite_isolated(
                    base_url=mock.base_url, api_key=KEY, mode=Mode.DEEP, target="mock", part=part, timeout=120,
                    not_implemented=mock.stats()["not_implemented"], seed=123456, max_examples=5,
                )
            assert report.ok, report.format()
            drawn.append((report.cases_by_operation, report.statuses))
    finally:
        close_zygotes()
    assert drawn[0] == drawn[1]
    assert list(tmp_path.iterdir()) == []
