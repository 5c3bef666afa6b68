"""Run the schemathesis contract suite against one server and summarise what happened.

One code path for every target: the mock (CI), any server named by environment variables (FedaPay's
sandbox), and the broken variants (teeth). It loads `spec/openapi.yaml` and the one config file
`contract_tests/schemathesis.toml`, applies the mode, runs schemathesis' engine (the same engine as
`schemathesis run`: examples, coverage, fuzzing and stateful phases, every check in the config) and
returns a `RunReport`: cases per phase, stateful scenarios, every failing check with its curl repro.
"""

from __future__ import annotations

import copy
import enum
import os
import random
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

# Importing registers the FedaPay check and its hook (the CLI loads the same file via `hooks`).
from contract_tests import fedapay_checks

CONTRACT_DIR = Path(__file__).resolve().parent
REPO_ROOT = CONTRACT_DIR.parent
SPEC_PATH = REPO_ROOT / "spec" / "openapi.yaml"
CONFIG_PATH = CONTRACT_DIR / "schemathesis.toml"

# Environment variables (documented in contract_tests/README.md).
ENV_MODE = "FEDAPAY_CONTRACT_MODE"  # "ci" (default) or "deep"
ENV_SEED = "FEDAPAY_CONTRACT_SEED"  # deep mode: replay a seed a nightly run printed
ENV_MAX_EXAMPLES = "FEDAPAY_CONTRACT_MAX_EXAMPLES"  # deep mode: examples per operation (default 500)
ENV_BASE_URL = "FEDAPAY_CONTRACT_BASE_URL"  # another server, e.g. https://sandbox-api.fedapay.com/v1
ENV_API_KEY = "FEDAPAY_CONTRACT_API_KEY"  # its secret key, sk_sandbox_...

DEEP_MAX_EXAMPLES = 500
DEEP_STATEFUL_EXAMPLES = 300
DEEP_STATEFUL_STEPS = 30

STATEFUL = "stateful"


class Mode(enum.StrEnum):
    CI = "ci"  # the config file as it is: fixed seed, derandomized, fixed counts
    DEEP = "deep"  # nightly: many more examples, a random seed (printed, replayable)
    TEETH = "teeth"  # the broken variants: the same suite with few examples, to stay fast


def mode_from_env() -> Mode:
    value = os.environ.get(ENV_MODE, Mode.CI.value).strip().lower()
    if value not in (Mode.CI.value, Mode.DEEP.value):
        raise ValueError(f"{ENV_MODE} must be 'ci' or 'deep', not {value!r}")
    return Mode(value)


def config_data(mode: Mode) -> dict[str, Any]:
    """The config file's content, adjusted for `mode` (CI mode: unchanged)."""
    with CONFIG_PATH.open("rb") as fd:
        data = tomllib.load(fd)
    # The checks' module is imported above; `hooks` is a path relative to the CLI's working directory.
    data.pop("hooks", None)
    data = copy.deepcopy(data)
    generation = data.setdefault("generation", {})
    stateful = data.setdefault("phases", {}).setdefault("stateful", {})
    stateful_generation = stateful.setdefault("generation", {})
    if mode is Mode.DEEP:
        generation["deterministic"] = False
        generation["max-examples"] = int(os.environ.get(ENV_MAX_EXAMPLES, DEEP_MAX_EXAMPLES))
        # 500 examples -> 300 stateful scenarios; scaled with FEDAPAY_CONTRACT_MAX_EXAMPLES.
        scaled = generation["max-examples"] * DEEP_STATEFUL_EXAMPLES // DEEP_MAX_EXAMPLES
        stateful_generation["max-examples"] = max(1, scaled)
        stateful["max-steps"] = DEEP_STATEFUL_STEPS
        seed = os.environ.get(ENV_SEED)
        if seed:
            data["seed"] = int(seed)
        else:
            data.pop("seed", None)
    elif mode is Mode.TEETH:
        # Same phases and checks, fewer examples; a failing case is reported as found, not shrunk.
        generation["max-examples"] = 5
        generation["no-shrink"] = True
        stateful_generation["max-examples"] = 12
        stateful["max-steps"] = 8
    return data


def load_schema(
    mode: Mode,
    *,
    base_url: str,
    headers: dict[str, str],
    spec_path: Path = SPEC_PATH,
    not_implemented: Sequence[str] = (),
) -> Any:
    config = SchemathesisConfig.from_dict(config_data(mode), base_dir=str(CONTRACT_DIR))
    schema: Any = schemathesis.openapi.from_path(spec_path, config=config)
    for method, path in _operations_named(spec_path, not_implemented):
        schema = schema.exclude(method=method, path=path)
    schema.config.update(base_url=base_url, headers=headers)
    return schema


def _operations_named(spec_path: Path, names: Sequence[str]) -> list[tuple[str, str]]:
    """(method, path) of each operation named by operationId, or by "METHOD /path" when it has none
    (the names the mock gives, `fedapay_mock.spec`)."""
    if not names:
        return []
    from fedapay_mock.spec import load_spec

    wanted = set(names)
    return [(op.method, op.path) for op in load_spec(spec_path).operations if op.operation_id in wanted]


@dataclass(frozen=True)
class CheckFailure:
    check: str
    operation: str
    status: int | None
    title: str
    message: str
    curl: str


@dataclass
class RunReport:
    target: str
    mode: Mode
    seed: int
    derandomized: bool
    duration: float = 0.0
    cases_by_phase: dict[str, int] = field(default_factory=dict)
    stateful_scenarios: int = 0
    checks_run: set[str] = field(default_factory=set)
    failures: list[CheckFailure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    phase_status: dict[str, str] = field(default_factory=dict)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    # Operations of the spec the target says it does not implement yet: left out of the run, and said.
    not_implemented: list[str] = field(default_factory=list)

    @property
    def total_cases(self) -> int:
        return sum(self.cases_by_phase.values())

    @property
    def stateful_steps(self) -> int:
        return self.cases_by_phase.get(STATEFUL, 0)

    @property
    def failing_checks(self) -> set[str]:
        return {failure.check for failure in self.failures}

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors

    def headline(self) -> str:
        phases = ", ".join(f"{name} {count}" for name, count in self.cases_by_phase.items())
        randomness = "derandomized" if self.derandomized else f"seed {self.seed} (replay: {ENV_SEED}={self.seed})"
        missing = f"; not implemented by the target: {', '.join(self.not_implemented)}" if self.not_implemented else ""
        return (
            f"{self.target} [{self.mode.value} mode, {randomness}]: {self.total_cases} cases ({phases}; "
            f"{self.stateful_scenarios} stateful scenarios) in {self.duration:.1f} s, "
            f"{len(self.failures)} failing check results, {len(self.errors)} errors{missing}"
        )

    def format(self) -> str:
        lines = [self.headline()]
        for failure in self.failures:
            lines += [
                "",
                f"- check `{failure.check}` failed on {failure.operation} (HTTP {failure.status}): {failure.title}",
                *("    " + line for line in failure.message.splitlines()),
                "  reproduce:",
                *("    " + line for line in failure.curl.splitlines()),
            ]
        lines += [f"- error: {error}" for error in self.errors]
        return "\n".join(lines)


def run_suite(
    *,
    base_url: str,
    api_key: str,
    mode: Mode,
    target: str,
    spec_path: Path = SPEC_PATH,
    not_implemented: Sequence[str] = (),
) -> RunReport:
    """Run every phase of the suite against `base_url` and collect the outcome. Operations named in
    `not_implemented` (the mock lists them in its stats) are reported as such instead of run."""
    refuse_live(base_url, api_key)
    schema = load_schema(
        mode,
        base_url=base_url,
        headers={"Authorization": f"Bearer {api_key}"},
        spec_path=spec_path,
        not_implemented=not_implemented,
    )
    report = RunReport(
        target=target,
        mode=mode,
        seed=schema.config.seed,
        derandomized=bool(schema.config.generation.deterministic),
        not_implemented=sorted(not_implemented),
    )
    seen: set[tuple[str, str, str]] = set()
    phase_started: dict[str, float] = {}
    # Parts of schemathesis' generation draw from the global `random` module, which the tests that
    # ran before in the same process have moved: seed it, or the case count depends on test order.
    random.seed(schema.config.seed)
    started = time.perf_counter()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _collect_scenario(report, event, seen)
        elif isinstance(event, events.PhaseStarted):
            phase_started[event.phase.name.value] = event.timestamp
        elif isinstance(event, events.PhaseFinished):
            name = event.phase.name.value
            report.phase_status[name] = event.status.value
            if name in phase_started:
                report.phase_seconds[name] = event.timestamp - phase_started[name]
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.title}: {event.value}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    report.duration = time.perf_counter() - started
    return report


def _collect_scenario(report: RunReport, event: events.ScenarioFinished, seen: set[tuple[str, str, str]]) -> None:
    phase = event.phase.value
    recorder = event.recorder
    report.cases_by_phase[phase] = report.cases_by_phase.get(phase, 0) + len(recorder.cases)
    if phase == STATEFUL and recorder.cases:
        report.stateful_scenarios += 1
    for case_id, checks in recorder.checks.items():
        for check in checks:
            report.checks_run.add(check.name)
            info = check.failure_info
            if info is None:
                continue
            node = recorder.cases.get(case_id)
            operation = node.value.operation.label if node is not None else recorder.label
            failure = info.failure
            key = (check.name, operation, failure.title)
            if key in seen:
                continue
            seen.add(key)
            interaction = recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            report.failures.append(
                CheckFailure(
                    check=check.name,
                    operation=operation,
                    status=response.status_code if response is not None else None,
                    title=failure.title,
                    message=failure.message or "",
                    curl=info.code_sample,
                )
            )


class LiveTargetRefused(RuntimeError):
    pass


def refuse_live(base_url: str, api_key: str) -> None:
    """The suite creates and starts payouts with generated data: never against live money."""
    host = urlparse(base_url).hostname or ""
    if api_key.startswith("sk_live_") or host == "api.fedapay.com":
        raise LiveTargetRefused(
            f"refusing to run the contract suite against a live FedaPay account ({host}): it creates and "
            "starts payouts with generated data. Use the sandbox (sk_sandbox_... key)."
        )


__all__ = ["Mode", "RunReport", "fedapay_checks", "mode_from_env", "run_suite"]
