"""The report a regenerate prints and writes as JSON: what changed in the spec and in the Python surface.

One object, built before anything is written, so the maintainer (and CI, from the JSON file) sees what
a spec change does to callers before it lands.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api_surface import SurfaceChange
from printable import printable
from spec_changes import Change

REPORT_VERSION = 1


@dataclass
class Report:
    status: str = "running"
    timings: list[tuple[str, float]] = field(default_factory=list)
    spec: list[Change] = field(default_factory=list)
    surface: dict[str, list[SurfaceChange]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    upstream: list[Change] = field(default_factory=list)
    upstream_diff: list[str] = field(default_factory=list)
    unacknowledged: list[str] = field(default_factory=list)
    # With no spec change for callers, the keys whose text changed (`example`, `description`): the spec is rewritten.
    spec_text: list[str] = field(default_factory=list)
    message: str = ""

    def breaking_ids(self) -> list[str]:
        """Every breaking change, by the id the CHANGELOG acknowledgement records."""
        return [change_id for change_id, _ in self.breaking_entries()]

    def breaking_entries(self) -> list[tuple[str, str]]:
        """Each breaking change's id and what it touches, for the CHANGELOG (which writes the id as a code span)."""
        entries = []
        for change in self.spec:
            if change.breaking:
                entries.append((change.id, f"({', '.join(sorted(change.operations))})"))
        for changes in self.surface.values():
            for c in changes:
                if c.breaking:
                    detail = f"({c.old} -> {c.new})" if c.kind == "changed" else ""
                    entries.append((f"python {c.kind} {c.path}", detail))
        return entries

    def to_json(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "status": self.status,
            "message": self.message,
            "timings": {name: round(seconds, 3) for name, seconds in self.timings},
            "breaking": len(self.breaking_ids()),
            "unacknowledged": self.unacknowledged,
            "spec_changes": [change.to_json() for change in self.spec],
            "spec_text_changes": self.spec_text,
            "python_surface": {name: [c.to_json() for c in changes] for name, changes in self.surface.items()},
            "failures": self.failures,
            "upstream_changes": [change.to_json() for change in self.upstream],
            "upstream_diff": "".join(self.upstream_diff),
        }

    def write_json(self, path: Path) -> None:
        """Whole or not at all (a partial file next to it, then renamed): a reader never sees half a report."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)

    def lines(self) -> list[str]:
        """The printed report (the JSON file has the same content), each line one line: whatever a page's names
        and values hold, a control character is shown escaped (an ESC sequence would drive the terminal)."""
        return [printable(line) for line in self._lines()]

    def _lines(self) -> list[str]:
        out = []
        if self.upstream and self.status == "failed":
            out.append(f"upstream changes (committed spec/extracted -> new): {_count(self.upstream)}")
            out += [f"  {change.line()}" for change in self.upstream]
        overridden = [change for change in self.upstream if change.overridden_by]
        if overridden and self.status != "failed":
            # The others reach the spec and are listed below under their normalized names; these do not.
            out.append(
                f"upstream changes an overlay overrides (committed spec/extracted -> new; not in the spec): "
                f"{_count(overridden)}"
            )
            out += [f"  {change.line()}" for change in overridden]
        if self.spec:
            out.append(f"spec changes (committed spec/openapi.yaml -> new): {_count(self.spec)}")
            out += [f"  {change.line()}" for change in self.spec]
        elif self.spec_text and self.status != "failed":
            out.append(f"spec changes: none for callers, text only ({', '.join(self.spec_text)}): descriptions, "
                       "examples and summaries change nothing a program does")
        elif self.status != "failed":
            out.append("spec changes: none")
        for package, changes in self.surface.items():
            if changes:
                breaking = sum(c.breaking for c in changes)
                out.append(f"Python surface of {package}: {breaking} breaking, {len(changes) - breaking} other")
                out += [f"  {change.line()}" for change in changes]
        return out


def _count(changes: list[Change]) -> str:
    breaking = sum(change.breaking for change in changes)
    return f"{breaking} breaking, {len(changes) - breaking} other"
