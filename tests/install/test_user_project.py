"""The distribution as a user gets it: built, installed into a fresh venv, used from a project of their own.

One long test (marked `install`, so `-m "not install"` leaves it out): the steps share one build and one
venv, and under `pytest -n auto` it runs on one worker beside the others. It builds the sdist and, from
the sdist, the wheel (`python -m build`), checks that the wheel built straight from the tree is the same,
installs the wheel with the `mock` and `contract` extras (and pytest, mypy) into a new venv with
constraints.txt, then in a throwaway project outside the checkout, side by side: runs a pytest test that
uses the installed `fedapay_mock` fixture to create and send a payout; runs `mypy --strict
--disallow-any-expr` on code that uses results (`assert_type`: no `Any` reaches a user); runs the installed
`fedapay-contract --mock`. Needs no network beyond the package registry (pip's cache).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "constraints.txt"
STEP_TIMEOUT = 600
# Small enough to keep this test short, large enough that every phase and part produces cases (at 1 the
# fuzzing phase of two parts draws none and the command fails; the coverage phase, most cases, is fixed).
CONTRACT_EXAMPLES = 3
# Bytecode the steps never load: mypy runs as its compiled extension modules, pygments' lexers and styles
# load on demand. pip would compile all of them (4 s of this test); the rest is compiled after the install.
NOT_COMPILED = r"/(mypy|mypyc|pygments/lexers|pygments/styles)/"

USER_TEST = '''\
"""A user's own test: the installed fixture serves a mock; the client creates and sends a payout on it."""

import fedapay_mock
import fedapay_payouts
from fedapay_mock import MockServer
from fedapay_payouts import FedaPay


def test_a_payout_is_created_and_sent(fedapay_mock: MockServer) -> None:
    with FedaPay("sk_sandbox_user_project", base_url=fedapay_mock.base_url) as client:
        payout = client.payouts.create(
            amount=2500,
            currency="XOF",
            mode="mtn_open",
            customer={"firstname": "Ada", "lastname": "Lovelace",
                      "phone_number": {"number": "+22997808080", "country": "bj"}},
            merchant_reference="order-1042",
        )
        assert payout.status == "pending"
        assert payout.amount == 2500
        sent = client.payouts.send_now(payout.id)
        assert sent.id == payout.id
        assert sent.status == "started"
        assert client.payouts.retrieve(payout.id).status == "started"


def test_the_packages_come_from_the_venv_not_a_checkout() -> None:
    for module in (fedapay_mock, fedapay_payouts):
        assert "site-packages" in (module.__file__ or ""), module.__file__
'''

USER_CODE = '''\
"""A user's code that uses results: mypy --strict --disallow-any-expr must see their real types."""

from typing import assert_type

from fedapay_mock import MockServer
from fedapay_payouts import FedaPay, Payout


def pay(mock: MockServer) -> tuple[int, str]:
    with FedaPay("sk_sandbox_user_project", base_url=mock.base_url) as client:
        payout = client.payouts.create(
            amount=1000, currency="XOF", mode="mtn_open", customer={"firstname": "Ada", "lastname": "Lovelace"}
        )
        assert_type(payout, Payout)
        assert_type(payout.amount, int)
        assert_type(payout.status, str)
        assert_type(payout.id, int)
        sent = client.payouts.send_now(payout.id)
        assert_type(sent.status, str)
        assert_type(client.payouts.retrieve(payout.id).amount, int)
        for item in client.payouts.list():
            assert_type(item, Payout)
        amount: int = payout.amount
        status: str = sent.status
        return amount, status
'''


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would point a child at the checkout or this pytest run."""
    drop = ("PYTHONPATH", "MYPYPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("PYTEST_", "FEDAPAY_"))}
    env.update(extra)
    return env


def _run(args: list[str | Path], cwd: Path, step: str, env: dict[str, str] | None = None) -> str:
    started = time.perf_counter()
    done = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=env if env is not None else _clean_env(), capture_output=True,
        text=True, timeout=STEP_TIMEOUT, check=False,
    )
    print(f"{step}: {time.perf_counter() - started:.1f} s")
    assert done.returncode == 0, f"{step} exited {done.returncode}:\n{done.stdout[-6000:]}\n{done.stderr[-4000:]}"
    return done.stdout


class _Started:
    """A step running beside others; its output goes to a file (no pipe to fill while nobody reads it)."""

    def __init__(self, args: list[str | Path], cwd: Path, step: str, log: Path) -> None:
        self.step, self.log, self.started = step, log, time.perf_counter()
        with log.open("w", encoding="utf-8") as out:
            self.process = subprocess.Popen(
                [str(arg) for arg in args], cwd=cwd, env=_clean_env(), stdout=out, stderr=subprocess.STDOUT,
                text=True,
            )

    def finish(self) -> str:
        try:
            code = self.process.wait(timeout=STEP_TIMEOUT)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                self.process.wait()
        out = self.log.read_text(encoding="utf-8")
        print(f"{self.step}: {time.perf_counter() - self.started:.1f} s (beside others)")
        assert code == 0, f"{self.step} exited {code}:\n{out[-10000:]}"
        return out


def _wheel_contents(wheel: Path) -> dict[str, str]:
    """name -> sha256 of every file in the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        return {name: hashlib.sha256(archive.read(name)).hexdigest() for name in archive.namelist()}


def _build(tmp_path: Path) -> Path:
    """sdist, the wheel built from it, and a wheel built from the tree: the two wheels must be the same."""
    build = [sys.executable, "-m", "build", "--no-isolation", "--outdir"]
    _run([*build, tmp_path / "dist", ROOT], tmp_path, "build sdist, then wheel from sdist")
    _run([*build, tmp_path / "tree", "--wheel", ROOT], tmp_path, "build wheel from the tree")
    (sdist,) = (tmp_path / "dist").glob("fedapay_payouts-*.tar.gz")
    (wheel,) = (tmp_path / "dist").glob("fedapay_payouts-*.whl")
    (tree_wheel,) = (tmp_path / "tree").glob("fedapay_payouts-*.whl")
    from_sdist, from_tree = _wheel_contents(wheel), _wheel_contents(tree_wheel)
    assert sorted(from_sdist) == sorted(from_tree), (
        f"the sdist lacks what the wheel needs: only from the tree {sorted(set(from_tree) - set(from_sdist))}, "
        f"only from the sdist {sorted(set(from_sdist) - set(from_tree))}"
    )
    assert [n for n in from_tree if from_sdist[n] != from_tree[n]] == []
    for package in ("fedapay_payouts", "fedapay_payouts_api", "fedapay_mock", "fedapay_bulk", "fedapay_contract"):
        assert f"{package}/py.typed" in from_sdist, package
    for data in ("fedapay_payouts_api/openapi.json", "fedapay_mock/openapi.yaml", "fedapay_contract/schemathesis.toml"):
        assert data in from_sdist, data
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    # What a checkout holds but a source distribution must not: environments, caches, node_modules.
    assert [n for n in names if re.search(r"/(\.venv|node_modules|__pycache__|\.git)/", n)] == []
    return wheel


@pytest.mark.install
@pytest.mark.timeout(1800)
def test_a_user_project_uses_the_installed_wheel_fixture_types_and_contract_command(tmp_path: Path) -> None:
    started = time.perf_counter()
    wheel = _build(tmp_path)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path, "venv")
    python = venv / "bin" / "python"
    # The checkout's pinned pip installs into the new venv (`--python`): the same resolver as scripts/setup.sh.
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--disable-pip-version-check",
         "--no-compile", "-c", CONSTRAINTS, f"{wheel}[mock,contract]", "pytest", "mypy"],
        tmp_path, "pip install wheel[mock,contract] pytest mypy",
    )

    project = tmp_path / "project"
    project.mkdir()
    (project / "test_payouts.py").write_text(USER_TEST, encoding="utf-8")
    (project / "payments.py").write_text(USER_CODE, encoding="utf-8")

    # (2) Types reach the user: every assert_type holds and no expression is Any (mypy needs no bytecode).
    mypy = _Started(
        [venv / "bin" / "mypy", "--strict", "--disallow-any-expr", "--cache-dir", tmp_path / "mypy-cache",
         "payments.py"],
        project, "user mypy --strict", tmp_path / "mypy.log",
    )
    # What pip left out: each part of the contract command below runs in a fresh interpreter that writes no
    # bytecode, and would compile schemathesis and hypothesis again.
    site_packages = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path, "site")
    _run([python, "-m", "compileall", "-q", "-x", NOT_COMPILED, site_packages.strip()], tmp_path, "compileall")

    # (1) The installed pytest plugin's fixture, in the user's own test.
    user_pytest = _Started(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_payouts.py"], project, "user pytest",
        tmp_path / "pytest.log",
    )

    # (3) The installed contract command against the embedded mock: exit 0, the counts, a JUnit report.
    # One part at a time: this test shares the machine with the other pytest workers.
    junit = project / "reports" / "contract.xml"
    try:
        out = _run(
            [venv / "bin" / "fedapay-contract", "--mock", "--max-examples", str(CONTRACT_EXAMPLES), "--jobs", "1",
             "--junit-xml", junit, "--write-results", "CONTRACT.md"],
            project, "fedapay-contract --mock",
        )
    finally:
        pytest_out, mypy_out = user_pytest.finish(), mypy.finish()
    assert re.search(r"\b2 passed\b", pytest_out), pytest_out
    assert "Success: no issues found in 1 source file" in mypy_out, mypy_out

    total = re.search(r"^mock \[ci mode, derandomized\]: (\d+) cases \(examples \d+, coverage \d+, fuzzing \d+, "
                      r"stateful \d+; \d+ stateful scenarios\) in [\d.]+ s wall .*: (\d+) cases/s", out, re.MULTILINE)
    assert total, out
    cases = int(total.group(1))
    assert cases > 0, out
    assert int(total.group(2)) > 0, out
    table = re.search(r"^\| total +\|(?: +\d+ \|){4} +(\d+) \|$", out, re.MULTILINE)
    assert table, out
    assert int(table.group(1)) == cases, out
    for operation in ("POST /payouts", "PUT /payouts/start", "GET /payouts/{id}"):
        assert re.search(rf"^\| {re.escape(operation)} +\|", out, re.MULTILINE), operation
    assert f"passed: {cases} cases, every check held" in out, out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("6", "0", "0")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["cases"] == str(cases)
    # The results file names the command that wrote it, not mangled by the key's redaction (the embedded
    # mock's key is public: `sk_sandbox_fedapay_contract` once masked every `contract` in the output).
    results = (project / "CONTRACT.md").read_text(encoding="utf-8")
    assert results.startswith("Written by `fedapay-contract --mock --mode ci --max-examples"), results[:300]
    assert "--write-results CONTRACT.md`" in results.splitlines()[0], results[:300]
    assert "[redacted]" not in results + out
    assert f"mock [ci mode, derandomized]: {cases} cases" in results
    print(f"whole test: {time.perf_counter() - started:.1f} s")
