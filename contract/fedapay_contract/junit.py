"""A JUnit XML report of a run, the format CI systems show as tests: one test case per part of the suite.

A part that found failing checks is a `failure` (each check with its curl repro), a part that could not run
is an `error`; each problem of the whole suite that fails the command (no case ran, a phase drew none, an
operation never answered a 2xx, the key was refused) is a failing test case of its own, so the report is
never green when the command failed. The counts go in `properties` and each part's headline in `system-out`.
Classnames are dot-separated names without the target (`fedapay-contract.part`, `fedapay-contract.suite`); a
part's name says its target ("unit: create on mock", "all phases on https://sandbox-api.fedapay.com/v1").
Every text passes through `redact`, so the API key cannot reach a CI artifact, then `visible`, so a server's
control characters cannot make the file unparseable.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # writing only: nothing parsed
from collections.abc import Callable, Sequence
from pathlib import Path

from fedapay_contract.suite import RunReport
from fedapay_contract.summary import phase_totals
from fedapay_contract.visible import visible

SUITE_NAME = "fedapay-contract"
# Classnames without the target: CI viewers split a classname at its dots into packages and a class, which made
# `fedapay-contract.http://127.0.0.1:8080/v1` a tree of `http://127`, `0`, `0`, `1:8080/v1`. The target is in each
# test's name and its `target` property instead.
PART_CLASS = f"{SUITE_NAME}.part"
PROBLEM_CLASS = f"{SUITE_NAME}.suite"


def write_junit(
    path: Path, reports: Sequence[RunReport], redact: Callable[[str], str], problems: Sequence[str] = ()
) -> None:
    """Write `reports` to `path` (its folder is created), one `testcase` per report and one per problem."""

    def clean(text: str) -> str:
        return visible(redact(text))

    wall = max(r.started + r.duration for r in reports) - min(r.started for r in reports) if reports else 0.0
    suite = ET.Element(
        "testsuite",
        name=SUITE_NAME,
        tests=str(len(reports) + len(problems)),
        failures=str(sum(1 for r in reports if r.failures and not r.errors) + len(problems)),
        errors=str(sum(1 for r in reports if r.errors)),
        skipped="0",
        time=f"{wall:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    counts = {
        "cases": sum(r.total_cases for r in reports),
        **{f"cases.{phase}": count for phase, count in phase_totals(reports).items()},
        "stateful_scenarios": sum(r.stateful_scenarios for r in reports),
    }
    for name, value in counts.items():
        ET.SubElement(properties, "property", name=name, value=str(value))
    for report in reports:
        target = clean(report.target)
        case = ET.SubElement(
            suite,
            "testcase",
            classname=PART_CLASS,
            name=f"{clean(report.part or 'all phases')} on {target}",
            time=f"{report.duration:.3f}",
        )
        ET.SubElement(ET.SubElement(case, "properties"), "property", name="target", value=target)
        if report.errors:
            error = ET.SubElement(case, "error", message=clean(report.errors[0])[:500], type="SuiteError")
            error.text = clean(report.format())
        elif report.failures:
            checks = ", ".join(sorted(report.failing_checks))
            failure = ET.SubElement(
                case, "failure", message=clean(f"failing checks: {checks}"), type="ContractViolation"
            )
            failure.text = clean(report.format())
        ET.SubElement(case, "system-out").text = clean(report.headline())
    for number, problem in enumerate(problems, 1):
        case = ET.SubElement(suite, "testcase", classname=PROBLEM_CLASS, name=f"problem {number}", time="0.000")
        failure = ET.SubElement(case, "failure", message=clean(problem)[:500], type="SuiteProblem")
        failure.text = clean(problem)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = ET.Element("testsuites", name=SUITE_NAME)
    root.append(suite)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
