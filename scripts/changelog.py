"""Breaking changes acknowledged in CHANGELOG.md, under "Unreleased".

`regenerate.py --accept-breaking NOTE` records each breaking change with its id (in backticks) and the
maintainer's note; a change is acknowledged when its id appears in the Unreleased section. Releasing
renames that section, so the next breaking change must be acknowledged again.
"""

from __future__ import annotations

from pathlib import Path

CHANGELOG = Path("CHANGELOG.md")
UNRELEASED = "## Unreleased"
HEADING = "### Breaking changes from FedaPay's spec"
NEW_FILE = "# Changelog\n\n" + UNRELEASED + "\n"


def unreleased(text: str) -> str:
    """The Unreleased section's text (empty when there is none)."""
    start = text.find(UNRELEASED + "\n")
    if start < 0:
        return ""
    body = text[start + len(UNRELEASED) + 1 :]
    end = body.find("\n## ")
    return body if end < 0 else body[:end]


def unacknowledged(text: str, ids: list[str]) -> list[str]:
    section = unreleased(text)
    return [change_id for change_id in ids if f"`{change_id}`" not in section]


def record(text: str, lines: list[str], note: str) -> str:
    """CHANGELOG text with each line (which names a change id in backticks) added under Unreleased."""
    if UNRELEASED + "\n" not in text:
        text = (
            (text.rstrip("\n") + "\n\n" if text.strip() else NEW_FILE.removesuffix(UNRELEASED + "\n"))
            + UNRELEASED
            + "\n"
        )
    section = unreleased(text)
    start = text.index(UNRELEASED + "\n") + len(UNRELEASED) + 1
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
