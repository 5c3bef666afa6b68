"""Runs in a process of their own (fedapay_contract/isolated.py): forked from a reused zygote, the same cases.

Each run gets a child forked from a pristine zygote: it must draw exactly what a new interpreter draws
(that is what keeps the CI counts the same on every worker), a zygote serves run after run, runs against
this machine and against a remote server keep one each, one that overstays its timeout is killed with its
child, a failing run says why, and a changed environment gets a new zygote. Small runs (teeth mode, one
part) against fresh mocks keep this file fast.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fedapay_contract import isolated, tuning
from fedapay_contract.isolated import IsolatedRunFailed, run_suite_isolated
from fedapay_contract.suite import CI_PARTS, ENV_SEED, Mode, Part, RunReport

from contract_tests.conftest import API_KEY

PARTS = {part.name: part for part in CI_PARTS}
# A small run: retrieve and delete only, teeth mode (few examples); still every unit phase.
SMALL = PARTS["unit: retrieve, delete"]
STATEFUL = PARTS["stateful, seed +0"]
TIMEOUT = 120.0


def _run(
    part: Part,
    mode: Mode = Mode.TEETH,
    *,
    timeout: float = TIMEOUT,
    max_examples: int | None = None,
    remote: bool = False,
) -> RunReport:
    from fedapay_mock import run_mock

    with run_mock(api_key=API_KEY, freeze_clock=True) as mock:
        return run_suite_isolated(
            base_url=mock.base_url, api_key=API_KEY, mode=mode, target="mock", part=part, timeout=timeout,
            max_examples=max_examples, remote=remote,
        )


def _drawn(report: RunReport) -> tuple[object, ...]:
    """What a run drew and met, without its timings."""
    assert report.ok, report.format()
    return (report.cases_by_operation, report.statuses, report.stateful_scenarios, sorted(report.checks_run))


def _group_members(pgid: int) -> list[int]:
    """Processes of a process group that still run (zombies, already dead, are left out)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _ppid, group = stat.rsplit(")", 1)[1].split()[:3]
        if int(group) == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def _a_zygote() -> int:
    """The pid of this process's one idle zygote for runs on this machine: every zygote is closed first (one that
    an earlier test's `--base-url` run started, the network settings in its environment, would stay beside it),
    then a small run leaves one."""
    isolated.close_zygotes()
    _run(SMALL)
    [zygote] = isolated.running_zygotes()
    return zygote


def test_a_zygote_serves_run_after_run_and_its_children_draw_what_a_new_interpreter_draws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _run(SMALL)
    zygote = _a_zygote()
    second = _run(SMALL)
    assert isolated.running_zygotes() == [zygote]
    # Where os.fork is missing each run gets a new interpreter: the reference the children must match.
    monkeypatch.delattr(os, "fork")
    fresh = _run(SMALL)
    assert isolated.running_zygotes() == [zygote]  # the new interpreter was no zygote, and is gone
    assert first.total_cases > 0
    assert _drawn(first) == _drawn(second) == _drawn(fresh)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_a_run_past_its_timeout_is_killed_with_its_zygote_and_the_next_run_gets_a_new_one() -> None:
    zygote = _a_zygote()
    with pytest.raises(subprocess.TimeoutExpired):
        _run(STATEFUL, Mode.CI, timeout=1.0)  # the part takes 10 s or more
    assert isolated.running_zygotes() == []
    assert _group_members(zygote) == []  # neither the zygote nor the child it forked runs on
    assert _a_zygote() != zygote  # the next run starts a new one


def test_a_run_that_fails_says_why_without_the_key_and_the_zygote_serves_the_next_run() -> None:
    zygote = _a_zygote()
    key = "sk_sandbox_isolated_FAILING_run_key"
    with pytest.raises(IsolatedRunFailed) as failed:
        # The suite refuses FedaPay's live host before any request (suite.refuse_live), in the child.
        run_suite_isolated(base_url="https://api.fedapay.com/v1", api_key=key, mode=Mode.TEETH, target="live",
                           timeout=TIMEOUT)
    message = str(failed.value)
    assert "exited with 1" in message
    assert "LiveTargetRefused: refusing to run the contract suite against a live FedaPay account" in message
    assert key not in message
    assert _run(SMALL).ok
    assert isolated.running_zygotes() == [zygote]


def test_runs_against_a_remote_server_and_this_machine_taking_turns_keep_one_zygote_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A remote run's zygote has the network settings in its environment; switching between the two kinds of run
    must not close the other kind's idle zygote (each new one costs its imports again)."""
    import certifi

    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())  # a network setting: the two environments differ
    local = _a_zygote()
    assert _run(SMALL, remote=True).ok
    [remote] = [pid for pid in isolated.running_zygotes() if pid != local]
    assert _run(SMALL).ok
    assert _run(SMALL, remote=True).ok
    assert sorted(isolated.running_zygotes()) == sorted([local, remote])
    isolated.close_zygotes()  # the remote one's environment is this test's


def test_a_changed_environment_gets_a_new_zygote(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deep mode reads FEDAPAY_CONTRACT_SEED in the child: a zygote started before it changed must not serve."""
    before = _a_zygote()
    monkeypatch.setenv(ENV_SEED, "2222")
    try:
        assert _run(SMALL, Mode.DEEP, max_examples=1).seed == 2222
        [after] = isolated.running_zygotes()  # the idle one with the old environment was closed
        assert after != before
    finally:
        isolated.close_zygotes()  # its environment is this test's


def test_what_the_zygote_imports_ahead_is_third_party() -> None:
    """Hypothesis draws constants from the project's own loaded modules; the zygote must not add any."""
    import importlib

    from hypothesis.internal.constants_ast import is_local_module_file

    for name in isolated.PRELOADED:
        module = importlib.import_module(name)
        assert not is_local_module_file(str(module.__file__)), name


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_fixed_dictionaries_are_reused_for_the_same_keys_and_strategies_only() -> None:
    out = _python(
        """
        import hypothesis.strategies as st
        from fedapay_contract import tuning
        assert tuning.cache_fixed_dictionaries()
        a, b = st.integers(), st.text()
        same = st.fixed_dictionaries({"a": a, "b": b}) is st.fixed_dictionaries({"a": a, "b": b})
        order = st.fixed_dictionaries({"a": a, "b": b}) is st.fixed_dictionaries({"b": b, "a": a})
        other = st.fixed_dictionaries({"a": a}) is st.fixed_dictionaries({"a": st.integers(0, 9)})
        optional = st.fixed_dictionaries({"a": a}, optional={"b": b})
        print(same, order, other, sorted(optional.example()) in (["a"], ["a", "b"]))
        """
    )
    assert out.split() == ["True", "False", "False", "True"]


def test_fixed_dictionaries_are_left_alone_on_other_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    import hypothesis.strategies as st

    original = st.fixed_dictionaries
    monkeypatch.setattr(tuning, "PINNED", {"hypothesis": "0.0.0", "schemathesis": "0.0.0"})
    monkeypatch.setattr(tuning, "_applied", False)
    assert tuning.cache_fixed_dictionaries() is False
    assert st.fixed_dictionaries is original


def test_the_constants_a_zygote_computes_ahead_are_what_each_run_would_compute() -> None:
    """`precompute_constants` is only sound if the value is the same in every process (it is seeded): computed
    ahead in one interpreter, it must equal what another computes when a run first needs it."""
    code = """
        import json
        from fedapay_contract import isolated, tuning
        from schemathesis.specs.openapi.coverage import _schema
        isolated._prepare()
        if {ahead}:
            assert tuning.precompute_constants()
            assert _schema._invalid_enum_candidates.cache_info().currsize == 1
        print(json.dumps(repr(_schema._invalid_enum_candidates())))
        """
    ahead = _python(code.format(ahead=True))
    assert len(ahead) > 10
    assert ahead == _python(code.format(ahead=False))


def test_constants_are_not_computed_ahead_on_other_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    from schemathesis.specs.openapi.coverage import _schema

    monkeypatch.setattr(tuning, "PINNED", {"hypothesis": "0.0.0", "schemathesis": "0.0.0"})
    before = _schema._invalid_enum_candidates.cache_info()
    assert tuning.precompute_constants() is False
    assert _schema._invalid_enum_candidates.cache_info() == before


def test_threads_run_deep_calls_without_mapping_memory_again_and_again() -> None:
    """A thread that calls to and fro across a frame-chunk boundary (as Hypothesis' draws do) takes no page
    fault per call once `run_threads_on_large_chunks` applies (CPython 3.11 maps a chunk each time)."""
    out = _python(
        """
        import resource, threading
        from fedapay_contract import tuning
        tuning.run_threads_on_large_chunks()

        def leaf():
            return 1

        def down(depth, calls):
            if depth:
                return down(depth - 1, calls)
            return sum(leaf() for _ in range(calls))

        faults = []
        def work():
            before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
            for depth in range(400):  # some depth puts `leaf` just past a boundary: 200 crossings there
                down(depth, 200)
            faults.append(resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before)

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        print(faults[0])
        """
    )
    assert int(out) < 100, out
