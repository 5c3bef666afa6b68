"""Run the schemathesis contract suite against one server and summarise what happened.

One code path for every target: the mock (CI), any server such as FedaPay's sandbox (the
`fedapay-contract` command, `cli.py`), and the repository's broken variants (teeth). It loads the spec
the distribution ships (`fedapay_payouts_api/openapi.json`, the client's own copy: an install never
reads a `spec/` folder near it) and the one config file `schemathesis.toml` beside this module, applies
the mode, runs schemathesis' engine (the same engine as `schemathesis run`: examples, coverage, fuzzing
and stateful phases, every check in the config) and returns a `RunReport`: cases per phase and per
operation, stateful scenarios, every failing check with its curl repro.

A run can be one `Part` of the suite (some phases, some operations, a seed offset) against its own
fresh server: the CI suite is split into parts that pytest-xdist runs on every core at once.
"""

from __future__ import annotations

import copy
import enum
import json
import math
import os
import random
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

# Importing registers the FedaPay check and its hook (schemathesis' CLI loads the same module via `hooks`).
from fedapay_contract import checks, deadline
from fedapay_contract.paths import CONFIG_PATH, PACKAGE_DIR, SPEC_PATH

# Environment variables (documented in contract_tests/README.md).
ENV_MODE = "FEDAPAY_CONTRACT_MODE"  # "ci" (default) or "deep"
ENV_SEED = "FEDAPAY_CONTRACT_SEED"  # deep mode: replay a seed a nightly run printed
ENV_MAX_EXAMPLES = "FEDAPAY_CONTRACT_MAX_EXAMPLES"  # deep mode: examples per operation (default 500)
ENV_BASE_URL = "FEDAPAY_CONTRACT_BASE_URL"  # another server, e.g. https://sandbox-api.fedapay.com/v1
ENV_API_KEY = "FEDAPAY_CONTRACT_API_KEY"  # its secret key, sk_sandbox_...

DEEP_MAX_EXAMPLES = 500
# The fewest examples per operation and phase that give every phase cases: with 1, Hypothesis' one fuzzing
# example of create and of start is the simplest request, already sent, and the fuzzing phase sends nothing.
MIN_EXAMPLES = 2
DEEP_STATEFUL_EXAMPLES = 300
DEEP_STATEFUL_STEPS = 30

STATEFUL = "stateful"
UNIT_PHASES = ("examples", "coverage", "fuzzing")
PHASES = (*UNIT_PHASES, STATEFUL)
# The config file's ratio of stateful scenarios to examples per operation (100 to 250), kept when a run
# asks for another number of examples.
CI_STATEFUL_PER_EXAMPLE = (100, 250)


def _spec_operation_ids() -> tuple[str, ...]:
    """Every operationId of the spec: a new operation must be given to a part (a test says so)."""
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return tuple(
        operation["operationId"]
        for item in spec["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    )


OPERATION_IDS = _spec_operation_ids()


class Mode(enum.StrEnum):
    CI = "ci"  # the config file as it is: fixed seed, derandomized, fixed counts
    DEEP = "deep"  # nightly: many more examples, a random seed (printed, replayable)
    TEETH = "teeth"  # the broken variants: the same suite with few examples, to stay fast


def parse_mode(value: str, source: str = ENV_MODE) -> Mode:
    """`ci` or `deep` (any case); the error names where the bad value came from."""
    cleaned = value.strip().lower()
    if cleaned not in (Mode.CI.value, Mode.DEEP.value):
        raise ValueError(f"{source} must be 'ci' or 'deep', not {value[:20]!r}")
    return Mode(cleaned)


def mode_from_env() -> Mode:
    return parse_mode(os.environ.get(ENV_MODE, Mode.CI.value))


def parse_max_examples(text: str, source: str) -> int:
    """A whole number >= MIN_EXAMPLES; the error names where the bad value came from."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"{source} must be a whole number >= {MIN_EXAMPLES}, not {text[:20]!r}") from None
    if value < MIN_EXAMPLES:
        raise ValueError(
            f"{source} must be {MIN_EXAMPLES} or more, not {value}: with fewer the fuzzing phase of some "
            "operations draws no request the earlier phases did not already send"
        )
    return value


def max_examples_from_env() -> int | None:
    """FEDAPAY_CONTRACT_MAX_EXAMPLES when it is set (ValueError naming it when it is no valid size)."""
    text = os.environ.get(ENV_MAX_EXAMPLES, "")
    return parse_max_examples(text, ENV_MAX_EXAMPLES) if text.strip() else None


def seed_from_env() -> int | None:
    """FEDAPAY_CONTRACT_SEED when it is set (ValueError naming it when it is no whole number)."""
    text = os.environ.get(ENV_SEED, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{ENV_SEED} must be a whole number (a seed a deep run printed), not {text[:20]!r}") from None


@dataclass(frozen=True)
class Part:
    """A slice of the suite that runs on its own fresh server, so slices can run side by side.

    `phases`: the testing phases it runs; `operations`: the operations the unit phases (examples,
    coverage, fuzzing) test, all of them when empty (the stateful phase always follows every link);
    `seed_offset`: added to the seed, so two stateful parts draw different scenarios, each reproducible.
    `prefill`: payouts to create first (`populate`). In one run of the whole suite, create's cases
    fill the server before the other operations are fuzzed, so generated ids (1, 2, 3...) name real
    payouts; a part without create gets that from `populate`, or every id would be a 404.
    `min_cases`: what the part must produce in CI mode (the parts' minimums add up to the suite's).
    `checks_off`: checks the config file switches off for every operation of the part.
    """

    name: str
    phases: tuple[str, ...]
    operations: tuple[str, ...] = ()
    seed_offset: int = 0
    prefill: int = 0
    min_cases: int = 0
    checks_off: frozenset[str] = frozenset()

    def apply(self, data: dict[str, Any]) -> None:
        """Switch off the phases and operations outside this part, and shift the seed."""
        phases = data.setdefault("phases", {})
        for phase in PHASES:
            phases.setdefault(phase, {})["enabled"] = phase in self.phases
        if self.operations:
            unknown = set(self.operations) - set(OPERATION_IDS)
            if unknown:
                raise ValueError(f"part {self.name!r} names unknown operations {sorted(unknown)}")
            # `[[operations]] enabled = false` is the config file's own way to leave an operation out.
            data.setdefault("operations", []).extend(
                {"include-operation-id": operation, "enabled": False}
                for operation in OPERATION_IDS
                if operation not in self.operations
            )
        if self.seed_offset and "seed" in data:
            data["seed"] = int(data["seed"]) + self.seed_offset


# The CI suite in parts of measured size, the longest first (pytest-xdist hands them out in this
# order). The stateful phase cannot be split by operation, so it runs twice with different seeds:
# twice the scenarios, on two cores. Unit phases are split by operation; start's cases cost the most
# (the FedaPay check reads every payout a start names, before and after). Measured counts (CI mode,
# forked from the zygote, `isolated.py`): 979 + 1,028 stateful steps, 325 start, 731 update + list +
# search, 351 create, 318 retrieve + delete: 3,732, from a checkout and from a wheel alike (`draws.py`;
# 3,802 before the start example `checks.add_scheduled_start_example` seeded the draws).
# The minimums leave room for a change of Hypothesis or schemathesis version.
PREFILL = 60
CI_PARTS = (
    Part("stateful, seed +0", (STATEFUL,), seed_offset=0, min_cases=850),
    Part("stateful, seed +1", (STATEFUL,), seed_offset=1, min_cases=850),
    Part(
        "unit: start",
        UNIT_PHASES,
        ("start_payouts",),
        prefill=PREFILL,
        min_cases=310,
        checks_off=frozenset({"ensure_resource_availability"}),
    ),
    Part(
        "unit: update, list, search",
        UNIT_PHASES,
        ("update_payout", "list_payouts", "search_payouts"),
        prefill=PREFILL,
        min_cases=420,
    ),
    Part("unit: create", UNIT_PHASES, ("create_payout",), min_cases=320),
    Part("unit: retrieve, delete", UNIT_PHASES, ("retrieve_payout", "delete_payout"), prefill=PREFILL, min_cases=270),
)
PREFILL_STATES = ("pending", "started", "scheduled", "deleted")
PREFILL_SCHEDULED_AT = "2099-01-01T09:00:00Z"


def populate(base_url: str, api_key: str, count: int) -> dict[str, int]:
    """Create `count` payouts and leave them in turn pending, started, scheduled and deleted.

    The states every operation meets on a real account; returns how many payouts are in each.
    """
    states: dict[str, int] = dict.fromkeys(PREFILL_STATES, 0)
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10.0) as client:
        for index in range(count):
            body = {
                "amount": 1000 + index,
                "currency": {"iso": "XOF"},
                "mode": "mtn_open",
                "customer": {
                    "firstname": "Ada",
                    "lastname": "Lovelace",
                    "email": "ada@example.com",
                    # One number per payout: FedaPay allows at most 3 payouts to a number in 24 hours.
                    "phone_number": {"number": f"+229978{index:05d}", "country": "bj"},
                },
            }
            created = client.post("/payouts", json=body)
            created.raise_for_status()
            payout_id = created.json()["v1/payout"]["id"]
            state = PREFILL_STATES[index % len(PREFILL_STATES)]
            if state == "started":
                client.put("/payouts/start", json=[{"id": payout_id}]).raise_for_status()
            elif state == "scheduled":
                start = {"id": payout_id, "scheduled_at": PREFILL_SCHEDULED_AT}
                client.put("/payouts/start", json=[start]).raise_for_status()
            elif state == "deleted":
                client.delete(f"/payouts/{payout_id}").raise_for_status()
            states[state] += 1
    return states



def config_data(
    mode: Mode, part: Part | None = None, *, seed: int | None = None, max_examples: int | None = None
) -> dict[str, Any]:
    """The config file's content, adjusted for `mode` (CI mode: unchanged) and narrowed to `part`.

    `seed` and `max_examples` (deep mode: else from FEDAPAY_CONTRACT_SEED / _MAX_EXAMPLES) replay a
    seed and size the run; in CI mode `max_examples` scales a run down or up and it stays derandomized.
    """
    with CONFIG_PATH.open("rb") as fd:
        data = tomllib.load(fd)
    # The checks' module is imported above; `hooks` is a path relative to the CLI's working directory.
    data.pop("hooks", None)
    data = copy.deepcopy(data)
    generation = data.setdefault("generation", {})
    stateful = data.setdefault("phases", {}).setdefault("stateful", {})
    stateful_generation = stateful.setdefault("generation", {})
    # No example database in any mode: Hypothesis would replay the failures a previous run saved in the
    # working directory (`.hypothesis/`), so a deep run's seed would not replay it, nor write there.
    generation["database"] = stateful_generation["database"] = "none"
    if mode is Mode.DEEP:
        generation["deterministic"] = False
        if max_examples is None:
            max_examples = max_examples_from_env() or DEEP_MAX_EXAMPLES
        generation["max-examples"] = max_examples
        # 500 examples -> 300 stateful scenarios; scaled with FEDAPAY_CONTRACT_MAX_EXAMPLES.
        scaled = max_examples * DEEP_STATEFUL_EXAMPLES // DEEP_MAX_EXAMPLES
        stateful_generation["max-examples"] = max(1, scaled)
        stateful["max-steps"] = DEEP_STATEFUL_STEPS
        if seed is None:
            seed = seed_from_env()
        if seed is not None:
            data["seed"] = seed
        else:
            data.pop("seed", None)
    elif mode is Mode.CI and max_examples is not None:
        generation["max-examples"] = max_examples
        scenarios, examples = CI_STATEFUL_PER_EXAMPLE
        stateful_generation["max-examples"] = max(1, max_examples * scenarios // examples)
    elif mode is Mode.TEETH:
        # Same phases and checks, fewer examples; a failing case is reported as found, not shrunk.
        generation["max-examples"] = 5
        generation["no-shrink"] = True
        stateful_generation["max-examples"] = 12
        stateful["max-steps"] = 8
    if part is not None:
        part.apply(data)
    return data


def load_schema(
    mode: Mode,
    *,
    base_url: str,
    headers: dict[str, str],
    part: Part | None = None,
    spec_path: Path = SPEC_PATH,
    not_implemented: Sequence[str] = (),
    seed: int | None = None,
    max_examples: int | None = None,
) -> Any:
    data = config_data(mode, part, seed=seed, max_examples=max_examples)
    config = SchemathesisConfig.from_dict(data, base_dir=str(PACKAGE_DIR))
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
    part: str = ""
    seed_offset: int = 0
    started: float = 0.0  # wall clock (time.time()), so parts run by different processes can be lined up
    duration: float = 0.0
    cases_by_phase: dict[str, int] = field(default_factory=dict)
    # operation label ("POST /payouts") -> phase -> cases
    cases_by_operation: dict[str, dict[str, int]] = field(default_factory=dict)
    stateful_scenarios: int = 0
    checks_run: set[str] = field(default_factory=set)
    failures: list[CheckFailure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    phase_status: dict[str, str] = field(default_factory=dict)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    # Operations of the spec the target says it does not implement yet: left out of the run, and said.
    not_implemented: list[str] = field(default_factory=list)
    # operation label ("GET /payouts/{id}") -> status class ("2xx") -> responses
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)
    # operation label -> 2xx answers to positive (schema-valid) requests: a server that refuses everything
    # holds every check (no check needs a 2xx), so the command requires one per operation (`problems`).
    accepted: dict[str, int] = field(default_factory=dict)
    # operation label -> 401/403 answers to requests that carried the configured key unchanged.
    refused_key: dict[str, int] = field(default_factory=dict)
    # The run stopped once every check it was told to wait for had failed (`run_suite(stop_once_failed=)`).
    stopped_early: bool = False
    # The run stopped at its time limit (`run_suite(time_limit=)`): the figures are those of the cases run until then.
    timed_out: bool = False

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

    @property
    def cases_per_second(self) -> float:
        return self.total_cases / self.duration if self.duration > 0 else 0.0

    def headline(self) -> str:
        phases = ", ".join(f"{name} {count}" for name, count in self.cases_by_phase.items())
        base_seed = self.seed - self.seed_offset
        randomness = "derandomized" if self.derandomized else f"seed {self.seed} (replay: {ENV_SEED}={base_seed})"
        part = f" {self.part}" if self.part else ""
        missing = f"; not implemented by the target: {', '.join(self.not_implemented)}" if self.not_implemented else ""
        return (
            f"{self.target}{part} [{self.mode.value} mode, {randomness}]: {self.total_cases} cases ({phases}; "
            f"{self.stateful_scenarios} stateful scenarios) in {self.duration:.1f} s, "
            f"{self.cases_per_second:.0f} cases/s, {len(self.failures)} failing check results, "
            f"{len(self.errors)} errors{missing}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-safe), so a report can travel from a pytest-xdist worker to the controller."""
        data = asdict(self)
        data["mode"] = self.mode.value
        data["checks_run"] = sorted(self.checks_run)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        fields = dict(data)
        fields["mode"] = Mode(fields["mode"])
        fields["checks_run"] = set(fields["checks_run"])
        fields["failures"] = [CheckFailure(**failure) for failure in fields["failures"]]
        return cls(**fields)

    def redacted(self, redact: Callable[[str], str]) -> RunReport:
        """A copy with every text passed through `redact` (the curl repros quote the key; a server can echo it)."""

        def clean(value: Any) -> Any:
            if isinstance(value, str):
                return redact(value)
            if isinstance(value, dict):
                return {clean(key): clean(item) for key, item in value.items()}
            if isinstance(value, list):
                return [clean(item) for item in value]
            return value

        data = self.to_dict()
        return RunReport.from_dict({**clean(data), "mode": data["mode"]})

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
    part: Part | None = None,
    spec_path: Path = SPEC_PATH,
    not_implemented: Sequence[str] = (),
    seed: int | None = None,
    max_examples: int | None = None,
    stop_once_failed: frozenset[str] = frozenset(),
    time_limit: float | None = None,
) -> RunReport:
    """Run every phase of the suite (or those of `part`) against `base_url` and collect the outcome.
    Operations named in `not_implemented` (the mock lists them in its stats) are reported as such
    instead of run. With `stop_once_failed` (the teeth runs: the checks a broken variant must fail), the
    run stops as soon as every one of them has failed: the rest of the run could only add failures.
    Every request has a wall-clock cap (`deadline.REQUEST_SECONDS`); with `time_limit` (seconds) the run
    stops then: requests in flight are cut, nothing more is sent, and the report says it stopped."""
    refuse_live(base_url, api_key)
    if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds, not {time_limit!r}")
    deadline.cap_sessions()
    headers = {"Authorization": f"Bearer {api_key}"}
    schema = load_schema(
        mode,
        base_url=base_url,
        headers=headers,
        part=part,
        spec_path=spec_path,
        not_implemented=not_implemented,
        seed=seed,
        max_examples=max_examples,
    )
    report = RunReport(
        target=target,
        mode=mode,
        seed=schema.config.seed,
        derandomized=bool(schema.config.generation.deterministic),
        not_implemented=sorted(not_implemented),
        part=part.name if part is not None else "",
        seed_offset=part.seed_offset if part is not None and schema.config.has_explicit_seed else 0,
        started=time.time(),
    )
    seen: set[tuple[str, str, str]] = set()
    phase_started: dict[str, float] = {}
    # Parts of schemathesis' generation draw from the global `random` module, which the tests that
    # ran before in the same process have moved: seed it, or the case count depends on test order.
    random.seed(schema.config.seed)
    started = time.perf_counter()
    ends = time.monotonic() + time_limit if time_limit is not None else None
    cuts_before = deadline.cuts()
    oversized_before = deadline.oversized()
    deadline.set_run_deadline(ends)
    stream = from_schema(schema).execute()
    try:
        for event in stream:
            if ends is not None and not report.timed_out and time.monotonic() >= ends:
                report.timed_out = True
                stopped = f"stopped at its time limit of {time_limit:.0f} s"
                report.errors.insert(0, f"{stopped}: the figures are those of the cases run until then")
                stream.stop()
            if isinstance(event, events.ScenarioFinished):
                _collect_scenario(report, event, seen, headers["Authorization"])
                if stop_once_failed and not report.stopped_early and stop_once_failed <= report.failing_checks:
                    report.stopped_early = True
                    stream.stop()  # the engine finishes the scenario it is in, then ends the run
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
    finally:
        deadline.set_run_deadline(None)
        checks.close_sessions()
    cut = deadline.cuts() - cuts_before
    if cut:
        report.errors.append(
            f"{cut} request{'s' if cut > 1 else ''} cut at {deadline.REQUEST_SECONDS:g} s (the wall-clock cap of a "
            "request) or at the run's time limit, without a complete reply"
        )
    oversized = deadline.oversized() - oversized_before
    if oversized:
        report.errors.append(
            f"{oversized} repl{'ies' if oversized > 1 else 'y'} larger than {deadline.MAX_REPLY_BYTES} bytes (the size "
            "cap of a reply), not read past it"
        )
    report.duration = time.perf_counter() - started
    return report


def _collect_scenario(
    report: RunReport, event: events.ScenarioFinished, seen: set[tuple[str, str, str]], authorization: str
) -> None:
    phase = event.phase.value
    recorder = event.recorder
    report.cases_by_phase[phase] = report.cases_by_phase.get(phase, 0) + len(recorder.cases)
    for case_node in recorder.cases.values():
        by_phase = report.cases_by_operation.setdefault(case_node.value.operation.label, {})
        by_phase[phase] = by_phase.get(phase, 0) + 1
    if phase == STATEFUL and recorder.cases:
        report.stateful_scenarios += 1
    for case_id, exchange in recorder.interactions.items():
        node = recorder.cases.get(case_id)
        if exchange.response is None or node is None:
            continue
        label = node.value.operation.label
        counts = report.statuses.setdefault(label, {})
        status = exchange.response.status_code
        status_class = f"{status // 100}xx"
        counts[status_class] = counts.get(status_class, 0) + 1
        meta = node.value.meta
        if status_class == "2xx" and (meta is None or meta.generation.mode.is_positive):
            report.accepted[label] = report.accepted.get(label, 0) + 1
        sent = {name.lower(): values for name, values in exchange.request.headers.items()}.get("authorization")
        if status in (401, 403) and sent == [authorization]:
            report.refused_key[label] = report.refused_key.get(label, 0) + 1
    for case_id, results in recorder.checks.items():
        for check in results:
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
    # Host names compare without case and without the root's trailing dot (`API.fedapay.com.` is the live host).
    host = (urlparse(base_url).hostname or "").lower().rstrip(".")
    if api_key.startswith("sk_live_") or host == "api.fedapay.com":
        raise LiveTargetRefused(
            f"refusing to run the contract suite against a live FedaPay account ({host}): it creates and "
            "starts payouts with generated data. Use the sandbox (sk_sandbox_... key)."
        )


__all__ = [
    "CI_PARTS",
    "CONFIG_PATH",
    "SPEC_PATH",
    "Mode",
    "Part",
    "RunReport",
    "checks",
    "mode_from_env",
    "parse_mode",
    "populate",
    "run_suite",
]
