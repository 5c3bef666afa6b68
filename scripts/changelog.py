"""Breaking changes acknowledged in CHANGELOG.md, under "Unreleased".

`regenerate.py --accept-breaking NOTE` records each breaking change with its id (in backticks) and the
maintainer's note; a change is acknowledged when its id appears in the Unreleased section. Releasing
renames that section, so the next breaking change must be acknowledged again.
"""

from __future__ import annotations

import re
from pathlib import Path

CHANGELOG = Path("CHANGELOG.md")
UNRELEASED = "## Unreleased"
HEADING = "### Breaking changes from FedaPay's spec"
NEW_FILE = "# Changelog\n\n" + UNRELEASED + "\n"
# The heading as a whole line: `### Unreleased` (a subsection of a release) or `## Unreleased fixes` is not it.
UNRELEASED_LINE = re.compile(r"^## Unreleased[ \t]*\n", re.M)


def _body_start(text: str) -> int | None:
    """Where the Unreleased section's text starts (after its heading line), None when there is none."""
    match = UNRELEASED_LINE.search(text)
    return match.end() if match else None


def unreleased(text: str) -> str:
    """The Unreleased section's text (empty when there is none)."""
    start = _body_start(text)
    if start is None:
        return ""
    body = text[start:]
    end = body.find("\n## ")
    return body if end < 0 else body[:end]


def unacknowledged(text: str, ids: list[str]) -> list[str]:
    section = unreleased(text)
    return [change_id for change_id in ids if f"`{change_id}`" not in section]


def record(text: str, lines: list[str], note: str) -> str:
    """CHANGELOG text with each line (which names a change id in backticks) added under Unreleased."""
    if _body_start(text) is None:
        text = (
            (text.rstrip("\n") + "\n\n" if text.strip() else NEW_FILE.removesuffix(UNRELEASED + "\n"))
            + UNRELEASED
            + "\n"
        )
    section = unreleased(text)
    start = _body_start(text) or len(text)  # the heading is there: added above when it was missing
    known = _ids(section)
    note = " ".join(note.split())
    bullets = [f"- {line}: {note}" for line in lines if _ids(line) - known]
    if not bullets:
        return text
    rows = section.rstrip("\n").split("\n") if section.strip() else []
    if HEADING in rows:
        at = rows.index(HEADING) + 1
        while at < len(rows) and (rows[at].startswith("- ") or not rows[at].strip()):
            at += 1
        while at > 0 and not rows[at - 1].strip():
            at -= 1
        rows[at:at] = bullets
    else:
        rows += [*([""] if rows else []), HEADING, "", *bullets]
    rebuilt = "\n".join(["", *rows]) + "\n" if rows and rows[0].strip() else "\n".join(rows) + "\n"
    rest = text[start + len(section) :]
    return text[:start] + rebuilt + ("\n" + rest.lstrip("\n") if rest.strip() else "")


def _ids(text: str) -> set[str]:
    return {part for index, part in enumerate(text.split("`")) if index % 2 == 1}
