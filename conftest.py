"""Runs every code block of the documentation with Sybil, against the embedded mock (`scripts/test.sh`, step "docs").

Why here: this is the only conftest above README.md. The documents are listed in `DOCUMENTS`; in them,

- `python` blocks run, each on its own: a fresh namespace holding `client` (a `FedaPay` on the mock, as
  `FedaPay()` builds it from FEDAPAY_API_KEY / FEDAPAY_BASE_URL, which are set) and `fedapay_mock` (the
  installed pytest plugin's fixture: the mock, emptied before each block). A block that defines `test_*`
  functions has them called with the fixtures they name, as pytest would;
- `sh` blocks run with bash (-euo pipefail) from the project root, `.venv/bin` first on PATH, the same
  environment variables set, unless a `<!-- skip: next "why" -->` comment (Sybil's own) precedes them;
- `json` blocks must parse; `text`, `csv` and `markdown` blocks are output or data, shown and not run;
- any other fence, or one without a language, fails: nothing is left out unnoticed.

Run them with `pytest -p no:xdist --docs README.md docs contract_tests/README.md` (scripts/test.sh does): only
`--docs` or a document named as an argument collects one, and in one process, since Sybil keeps its skip
directives per document.
"""

from __future__ import annotations

import fnmatch
import inspect
import itertools
import json
import os
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sybil import Document, Example, Region, Sybil
from sybil.evaluators.python import PythonEvaluator
from sybil.integration.pytest import SybilItem
from sybil.parsers.markdown import CodeBlockParser, SkipParser
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer

ROOT = Path(__file__).resolve().parent
# pytest rewrites the asserts of every package that ships a pytest plugin (schemathesis, hypothesis, anyio...)
# when it imports it, and keeps the result as bytecode unless PYTHONDONTWRITEBYTECODE is set: with it set
# (as on some machines), every test process rewrites and compiles schemathesis' ~390 modules again, ~2 s each
# time. Python's default, set back for the test run: bytecode is written (to ignored __pycache__ folders).
sys.dont_write_bytecode = False


def _share_httpx_default_ssl_context() -> None:
    """httpx's default TLS context, built once per test process: every raw httpx client a test opens (the `api`
    fixtures, `httpx.get` on the mock, the paging proxy) built its own and loaded certifi's CA bundle again,
    about 16 ms of CPU each and some 700 times per full check (11 CPU-s). The tests speak plain HTTP on
    loopback; a client given anything but the defaults (its own `verify`, a certificate) still gets what httpx
    builds for it, and one is built per SSL_CERT_FILE / SSL_CERT_DIR seen. Our client already shares one
    (`fedapay_payouts._client.default_ssl_context`)."""
    from httpx._config import create_ssl_context as build
    from httpx._transports import default as transports  # httpx 0.28 (pinned <0.29) calls it from here

    shared: dict[tuple[str | None, str | None], ssl.SSLContext] = {}

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> ssl.SSLContext:
        if verify is not True or cert is not None or not trust_env:
            return build(verify=verify, cert=cert, trust_env=trust_env)
        # What httpx's default reads from the environment, so a test that changes it gets its own context.
        where = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        if where not in shared:
            shared[where] = build()
        return shared[where]

    setattr(transports, "create_ssl_context", create_ssl_context)  # noqa: B010 - not re-exported by httpx


_share_httpx_default_ssl_context()

# The benchmarks' RESULTS.md files are written by their scripts and hold no code to run.
DOCUMENTS = ("README.md", "docs/*.md", "contract_tests/README.md")
DOCS_API_KEY = "sk_sandbox_docs_examples"
DOCS_WEBHOOK_SECRET = "whsec_docs_examples"  # noqa: S105 (a test value, not a secret)
FIXTURES = ("client", "fedapay_mock")
RUN = {"python", "sh", "json"}
SHOWN = {"text", "csv", "markdown"}
SH_TIMEOUT_SECONDS = 120


def _is_document(path: Path) -> bool:
    try:
        relative = path.resolve().relative_to(ROOT)
    except ValueError:
        return False
    return any(fnmatch.fnmatchcase(relative.as_posix(), pattern) for pattern in DOCUMENTS)


def _docs_environment(base_url: str) -> dict[str, str]:
    return {
        "FEDAPAY_API_KEY": DOCS_API_KEY,
        "FEDAPAY_BASE_URL": base_url,
        "FEDAPAY_WEBHOOK_SECRET": DOCS_WEBHOOK_SECRET,
    }


def _fresh_namespace(example: Example) -> dict[str, Any]:
    """Empty the document's namespace but for the fixtures: each block stands on its own, as a reader copies it."""
    fixtures = {name: example.namespace[name] for name in FIXTURES if name in example.namespace}
    example.namespace.clear()
    example.namespace.update(fixtures)
    return fixtures


class _PythonBlock:
    """Runs a block with Sybil's evaluator, then any `test_*` function it defined, with the fixtures it names."""

    def __init__(self) -> None:
        self._run = PythonEvaluator()

    def __call__(self, example: Example) -> None:
        fixtures = _fresh_namespace(example)
        self._run(example)
        for name, value in list(example.namespace.items()):
            if name.startswith("test_") and inspect.isfunction(value):
                wanted = list(inspect.signature(value).parameters)
                missing = [argument for argument in wanted if argument not in fixtures]
                if missing:
                    raise AssertionError(f"{name} asks for {missing}: the docs provide only {list(fixtures)}")
                value(**{argument: fixtures[argument] for argument in wanted})


def _run_sh(example: Example) -> None:
    fixtures = _fresh_namespace(example)
    mock = fixtures["fedapay_mock"]
    env = {**os.environ, **_docs_environment(mock.base_url)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(  # noqa: S603 (the documentation's own command)
        ["bash", "-euo", "pipefail", "-c", str(example.parsed)],  # noqa: S607
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=SH_TIMEOUT_SECONDS, check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")


def _parse_json(example: Example) -> None:
    json.loads(str(example.parsed))


def _unlabelled_fences(document: Document) -> Iterable[Region]:
    """A region for each fence whose language is neither run nor shown: it fails, naming the language."""
    lexer = FencedCodeBlockLexer(language=r"[^`\n]*")
    for region in lexer(document):
        language = str(region.lexemes["language"]).strip()
        if language not in RUN | SHOWN:

            def fail(example: Example, language: str = language) -> None:
                raise AssertionError(
                    f"a code block labelled {language!r}: label it python/sh/json (run) or text/csv/markdown (shown)"
                )

            region.evaluator = fail
            yield region


DOCS = Sybil(
    parsers=[
        SkipParser(),
        CodeBlockParser(language="python", evaluator=_PythonBlock()),
        CodeBlockParser(language="sh", evaluator=_run_sh),
        CodeBlockParser(language="json", evaluator=_parse_json),
        _unlabelled_fences,
    ],
    patterns=["*.md"],
    fixtures=list(FIXTURES),
    name="docs",
)
_collect_docs: Callable[..., Any] = DOCS.pytest()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--docs", action="store_true", help="run the code blocks of the documents in DOCUMENTS")


def _asked_for(file_path: Path, config: pytest.Config) -> bool:
    """With --docs, or when the document itself is an argument: `pytest contract_tests` (tests, maybe under
    xdist) leaves its README.md alone."""
    named = {Path(str(argument).split("::")[0]).resolve() for argument in config.args}
    return bool(config.getoption("--docs")) or file_path.resolve() in named


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    if file_path.suffix == ".md" and _is_document(file_path) and _asked_for(file_path, parent.config):
        return _collect_docs(file_path, parent)
    return None


# Tests that take seconds each (measured with `--durations=0`), longest first. pytest-xdist hands tests
# out in collection order, one at a time (scripts/test.sh: --maxschedchunk 1), so these start at once on
# every worker and the many short tests fill the gaps at the end, instead of a long one finishing alone.
LONG_FIRST = (
    "tests/install/",
    "contract_tests/test_contract.py::test_mock_honours_the_contract[stateful",
    "contract_tests/test_contract.py::test_mock_honours_the_contract",
    "tests/bulk/test_bulk_crash.py::test_killed_twenty_times",
    "tests/spine/test_spec_change_acceptance.py",
    "contract_tests/test_command.py",
    "contract_tests/test_not_implemented.py",
    "contract_tests/test_teeth.py::test_control",
    "contract_tests/test_teeth.py::test_suite_fails_against_broken_variant[delete_keeps_payout]",
    "contract_tests/test_teeth.py::test_suite_fails_against_broken_variant[refused_start_changes_status]",
    "tests/mock/test_mock_concurrency.py",
    "tests/bulk/test_bulk_crash.py",
    "contract_tests/test_isolated.py",
    "tests/spine/test_spec_drives_client.py",
    "tests/spine/test_pipeline.py",
    "tests/client/test_client_no_dead_code.py",
    "tests/client/test_client_packaging.py",
    "contract_tests/test_summary.py",
    "contract_tests/test_teeth.py",
    "contract_tests/test_pytest_route.py",
    "tests/spine/test_spec_pages.py",
    "tests/mock/test_mock_plain_install.py",
    "tests/mock/test_mock_packaging.py",
)
# Tests that mostly wait (a server's timer, a client's deadline, a schedule, a dripping peer: seconds of
# wall time for tenths of a second of CPU), files with the longest waits first. Run together, at the end as
# collected, they left both cores idle for 20 s of the last 30 (`/proc/stat`, sampled each second); spread
# among the tests that compute, the cores stay busy while they wait.
MOSTLY_WAITING = (
    "tests/mock/test_mock_request_head.py",
    "tests/bulk/test_bulk_stopped.py",
    "tests/bulk/test_bulk_schedule.py",
    "tests/mock/test_mock_request_body.py",
    "contract_tests/test_hostile_servers.py",
    "tests/bulk/test_bulk_lookup.py",
    "tests/bulk/test_bulk_search.py",
    "tests/bulk/test_bulk_journal_files.py",
    "tests/mock/test_mock_served_at_once.py",
    "contract_tests/test_read_backs.py",
    "tests/client/test_client_proxy_tunnel.py",
    "tests/client/test_client_deadline.py",
    "tests/mock/test_mock_runner.py",
    "tests/client/test_client_typed_outcomes.py",
    "tests/bulk/test_bulk_references.py",
    "tests/bulk/test_bulk_server_text.py",
    "tests/client/test_client_cancellation.py",
    "tests/bulk/test_bulk_target.py",
    "tests/bulk/test_bulk_runs.py",
    "tests/bulk/",
)


def _rank(item: pytest.Item, prefixes: tuple[str, ...]) -> int:
    return next((index for index, prefix in enumerate(prefixes) if item.nodeid.startswith(prefix)), len(prefixes))


# Rough CPU-seconds of a test, to spread the waiting ones over the run's time rather than over its count of
# tests: the 160 long ones take about 1 each, the 2,000 others about 0.05 (benchmarks/test_run/cpu_by_file.py).
LONG_SECONDS = 1.0
SHORT_SECONDS = 0.05


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first, the mostly waiting ones spread evenly over the time of all the others, which keep
    the order they were collected in (stable sorts: the same order in every xdist worker)."""

    def long(item: pytest.Item) -> bool:
        return _rank(item, LONG_FIRST) < len(LONG_FIRST)

    def waiting(item: pytest.Item) -> bool:
        return not long(item) and _rank(item, MOSTLY_WAITING) < len(MOSTLY_WAITING)

    # One of each file in turn, so that the few long waits of a file do not come together.
    by_file: dict[str, list[pytest.Item]] = {}
    for item in sorted(filter(waiting, items), key=lambda item: _rank(item, MOSTLY_WAITING)):
        by_file.setdefault(item.nodeid.split("::")[0], []).append(item)
    waits = [item for turn in itertools.zip_longest(*by_file.values()) for item in turn if item is not None]
    others = sorted((item for item in items if not waiting(item)), key=lambda item: _rank(item, LONG_FIRST))
    costs = [LONG_SECONDS if long(item) else SHORT_SECONDS for item in others]
    # The last tenth of the run has none, so that no wait is left alone at the end.
    step = sum(costs) * 0.9 / max(1, len(waits))
    ordered: list[pytest.Item] = []
    elapsed, placed = 0.0, 0
    for item, cost in zip(others, costs, strict=True):
        while placed < len(waits) and elapsed >= placed * step:
            ordered.append(waits[placed])
            placed += 1
        ordered.append(item)
        elapsed += cost
    items[:] = ordered + waits[placed:]


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """The test processes' own garbage collector, tuned as the served mock's start-up heap is: frozen once
    collected (modules, plugins, test items, alive until the process ends) and young collections rarer
    (`gc_tuning.freeze_start_up`). Measured over tests/client, tests/mock and tests/spine with 5 workers (a
    gc.callbacks timer): collections took about 3.5 CPU-s of each worker's 17, most of it 16-20 full collections
    of about 150 ms walking the imported modules; 1.6 CPU-s after, and 125 -> 114 CPU-s in all. Survivors of
    later collections are not frozen (the mock's `tune` does that): a test's objects become garbage when it ends."""
    from fedapay_mock import gc_tuning

    gc_tuning.freeze_start_up()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail the docs under pytest-xdist: a skip directive and its block could land on two workers."""
    if isinstance(item, SybilItem) and hasattr(item.config, "workerinput"):
        pytest.fail("run the documentation's code blocks in one process: -p no:xdist", pytrace=False)


@pytest.fixture
def client(fedapay_mock: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A client on the mock, built from the environment as `FedaPay()` builds it in the README."""
    from fedapay_payouts import FedaPay

    for name, value in _docs_environment(fedapay_mock.base_url).items():
        monkeypatch.setenv(name, value)
    with FedaPay() as docs_client:
        yield docs_client
