"""What a run of the suite prints: one line for all its parts, one per part, and the cases per operation and phase.

Shared by the `fedapay-contract` command and the repository's pytest summary (contract_tests/conftest.py), so
both report the same figures the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from fedapay_contract.suite import PHASES, RunReport


def suite_lines(reports: Sequence[RunReport], processes: int) -> list[str]:
    """One line for the whole suite (all parts together: cases, wall time, cases/s), then one per part.

    `processes`: how many processes ran the parts side by side (said in the line, it explains the wall time).
    """
    first = reports[0]
    total = sum(report.total_cases for report in reports)
    phases = ", ".join(f"{name} {count}" for name, count in phase_totals(reports).items())
    # Wall time from the first part's start to the last part's end, whichever process ran them.
    wall = max(r.started + r.duration for r in reports) - min(r.started for r in reports)
    busy = sum(report.duration for report in reports)
    randomness = "derandomized" if first.derandomized else f"seed {first.seed - first.seed_offset}"
    lines = [
        f"{first.target} [{first.mode.value} mode, {randomness}]: {total} cases ({phases}; "
        f"{sum(r.stateful_scenarios for r in reports)} stateful scenarios) in {wall:.1f} s wall "
        f"({len(reports)} parts on {processes} process{'es' if processes > 1 else ''}, {busy:.1f} s of part time): "
        f"{total / wall if wall > 0 else 0:.0f} cases/s, {sum(len(r.failures) for r in reports)} failing check "
        f"results, {sum(len(r.errors) for r in reports)} errors"
    ]
    if len(reports) > 1:
        lines += [f"  {report.headline()}" for report in reports]
    else:
        times = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in first.phase_seconds.items() if seconds >= 0.05)
        lines.append(f"  phase times: {times}")
    return lines


def phase_totals(reports: Sequence[RunReport]) -> dict[str, int]:
    """Cases per phase over all `reports`, in the phases' order, leaving out phases without cases."""
    totals: dict[str, int] = dict.fromkeys(PHASES, 0)
    for report in reports:
        for phase, count in report.cases_by_phase.items():
            totals[phase] = totals.get(phase, 0) + count
    return {phase: count for phase, count in totals.items() if count}


def operation_table(reports: Sequence[RunReport]) -> list[str]:
    """Cases per operation and phase over all `reports`, with a total row and column (a Markdown table)."""
    cells: dict[str, dict[str, int]] = {}
    for report in reports:
        for operation, by_phase in report.cases_by_operation.items():
            row = cells.setdefault(operation, {})
            for phase, count in by_phase.items():
                row[phase] = row.get(phase, 0) + count
    phases = list(phase_totals(reports)) or list(PHASES)
    width = max([len("operation"), len("total"), *(len(operation) for operation in cells)])
    lines = [
        "| " + " | ".join(["operation".ljust(width), *phases, "total"]) + " |",
        "|" + "|".join(["-" * (width + 2), *("-" * (len(phase) + 2) for phase in phases), "-------"]) + "|",
    ]

    def line(name: str, counts: dict[str, int]) -> str:
        values = [str(counts.get(phase, 0)).rjust(len(phase)) for phase in phases]
        return "| " + " | ".join([name.ljust(width), *values, str(sum(counts.values())).rjust(5)]) + " |"

    for operation in sorted(cells, key=_operation_order):
        lines.append(line(operation, cells[operation]))
    totals = {phase: sum(cells[op].get(phase, 0) for op in cells) for phase in phases}
    lines.append(line("total", totals))
    return lines


def _operation_order(label: str) -> tuple[str, str]:
    """Sort "METHOD /path" labels by path, then method, so an operation's neighbours are its own resource."""
    method, _, path = label.partition(" ")
    return path, method


def acceptance_problems(reports: Sequence[RunReport]) -> list[str]:
    """What no check catches: a server that refuses every request holds every check (none needs a 2xx).

    Over all `reports` (the parts share the operations): each operation that ran must have answered a 2xx to
    at least one schema-valid request, and a 401/403 to a request carrying the configured key says the key
    (or the server) is wrong, not that the contract held.
    """
    ran: set[str] = set()
    accepted: set[str] = set()
    refused: dict[str, int] = {}
    for report in reports:
        ran |= set(report.cases_by_operation)
        accepted |= {operation for operation, count in report.accepted.items() if count}
        for operation, count in report.refused_key.items():
            refused[operation] = refused.get(operation, 0) + count
    problems = []
    if refused:
        where = ", ".join(f"{operation} ({refused[operation]})" for operation in sorted(refused, key=_operation_order))
        problems.append(
            f"401/403 to requests carrying the configured key on {where}: check the key "
            "(FEDAPAY_CONTRACT_API_KEY or --api-key) is a valid secret key of this server's account"
        )
    never = sorted(ran - accepted, key=_operation_order)
    if never and any(report.timed_out for report in reports):
        # Stopped at its time limit, the run may not have reached an operation's valid cases: it says what it saw.
        problems.append(f"no 2xx among the cases run before the time limit: {', '.join(never)}")
    elif never:
        problems.append(f"never answered a 2xx to a valid request: {', '.join(never)}")
    return problems
