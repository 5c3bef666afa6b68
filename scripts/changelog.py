"""Breaking changes acknowledged in CHANGELOG.md, under "Unreleased".

`regenerate.py --accept-breaking NOTE` records each breaking change with its id (as a Markdown code span) and
the maintainer's note; a change is acknowledged when its id is a code span of a line of the Unreleased section.
Releasing renames that section, so the next breaking change must be acknowledged again. Ids are matched as
code spans, never by splitting on backticks: an id may contain backticks (a pattern such as ^[^`]+$), and
then it is written inside a longer backtick fence, as Markdown allows.
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
BACKTICKS = re.compile(r"`+")


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
    known = code_spans(unreleased(text))
    return [change_id for change_id in ids if change_id not in known]


def code_span(content: str) -> str:
    """`content` as a Markdown code span that reads back as exactly `content`: the fence is one backtick
    longer than the longest run inside, padded with a space when the content holds a backtick (so one at
    either end cannot join the fence) or has a space at both ends (a reader strips one from each)."""
    longest = max((len(run) for run in BACKTICKS.findall(content)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest or (content[:1] == " " and content[-1:] == " ") else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def code_spans(text: str) -> set[str]:
    """The content of every code span of each line (CommonMark: an opening run of n backticks closes at the next
    run of exactly n; one space is stripped from both ends when both are spaces). Line by line, because each
    entry is one bullet line: a stray backtick in one note cannot swallow the next entry."""
    spans = set()
    for line in text.split("\n"):
        runs = list(BACKTICKS.finditer(line))
        at = 0
        while at < len(runs):
            opening = runs[at]
            closing = next((i for i in range(at + 1, len(runs)) if len(runs[i].group()) == len(opening.group())), None)
            if closing is None:
                at += 1
                continue
            content = line[opening.end() : runs[closing].start()]
            if len(content) > 1 and content[0] == " " and content[-1] == " " and content.strip(" "):
                content = content[1:-1]
            spans.add(content)
            at = closing + 1
    return spans


def record(text: str, entries: list[tuple[str, str]], note: str) -> str:
    """CHANGELOG text with each entry (a change id and what it does, e.g. "(create_payout)") added under
    Unreleased, unless its id is already there."""
    if _body_start(text) is None:
        text = (
            (text.rstrip("\n") + "\n\n" if text.strip() else NEW_FILE.removesuffix(UNRELEASED + "\n"))
            + UNRELEASED
            + "\n"
        )
    section = unreleased(text)
    start = _body_start(text) or len(text)  # the heading is there: added above when it was missing
    known = code_spans(section)
    note = " ".join(note.split())
    bullets = [
        f"- {code_span(change_id)}{' ' + detail if detail else ''}: {note}"
        for change_id, detail in entries
        if change_id not in known
    ]
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
