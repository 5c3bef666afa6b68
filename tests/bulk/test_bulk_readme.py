"""The README's sample of a `--wait` run is what the command prints: the same run against the mock gives the
same stdout line for line, and the same progress lines on stderr (their times aside)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.bulk.bulk_support import run_bulk

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

ROOT = Path(__file__).resolve().parents[2]
TEXT_BLOCK = re.compile(r"^```text\n(.*?)^```$", re.DOTALL | re.MULTILINE)
CLOCK = re.compile(r"^\d\d:\d\d:\d\d ")  # a log line's time of day
DURATION = re.compile(r"done in \d+\.\d s$")


def _samples() -> tuple[list[str], list[str]]:
    """The README's `--wait` sample (bars, then stdout) and its log form (stderr not a terminal)."""
    blocks = [m[1].splitlines() for m in TEXT_BLOCK.finditer((ROOT / "README.md").read_text(encoding="utf-8"))]
    run = [b for b in blocks if "journal: examples/payroll.csv.journal.sqlite" in b and "summary:" in b]
    log = [b for b in blocks if b and all(CLOCK.match(line) for line in b) and "waiting for sent / failed" in b[-1]]
    assert len(run) == 1, run
    assert len(log) == 1, log
    return run[0], log[0]


def _masked(lines: list[str]) -> list[str]:
    return [DURATION.sub("done in _ s", CLOCK.sub("", line)) for line in lines]


def test_the_readme_wait_sample_is_what_a_run_prints(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown, logged = _samples()
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "payroll.csv", tmp_path / "examples" / "payroll.csv")
    monkeypatch.chdir(tmp_path)
    outcome = run_bulk(fedapay_mock, "examples/payroll.csv", "--wait", "--report", "report.csv",
                       monkeypatch=monkeypatch)
    assert outcome.code == 0, outcome.out + outcome.err
    bars = [line for line in shown if "━" in line]
    assert outcome.out.splitlines() == shown[len(bars):]  # the bars first, then stdout as it is
    assert _masked(outcome.err.splitlines()) == _masked(logged)
    # One bar per phase the log names, with the count it ends on.
    ends = [re.fullmatch(r"(.+): (\d+)(/\d+)? done in _ s", line) for line in _masked(logged)]
    phases = [(m[1], m[2] + (m[3] or "/0")) for m in ends if m is not None]
    assert [re.split(r"\s+━+\s+", line)[0] for line in bars] == [name for name, _ in phases]
    assert [line.split()[-2] for line in bars] == [count for _, count in phases]
