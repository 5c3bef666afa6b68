"""`scheduled_at` text: one parse, with the spec's meaning, for the client's checks, its reply checks and the
bulk command.

spec/openapi.yaml (`StartPayout.scheduled_at`, `PayoutUpdate.scheduled_at`) accepts ISO 8601
(`2024-10-23T14:30:00Z`, an offset), `YYYY-MM-DD HH:MM:SS` (UTC, as the spec says) and Ruby's `Time#to_s`
(`2024-10-23 14:30:00 UTC`, `2024-10-23 15:30:00 +0100`). A time without a zone is UTC, never this machine's
local time. Every accepted form becomes one wire form, UTC with a `Z` (`wire`): what was checked against the
clock is what is sent, and a reply's `scheduled_at` is compared with the instant asked, whatever its form.
"""

from __future__ import annotations

import datetime
import re
from typing import Final

# The spec's pattern (StartPayout.scheduled_at), with groups.
SCHEDULE_RE: Final = re.compile(
    r"(?P<date>[1-9]\d{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]))[T ]"
    r"(?P<time>(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)(?P<fraction>\.\d+)?"
    r"(?P<zone>Z| ?(?P<sign>[+-])(?P<hours>0\d|1[0-4]):?(?P<minutes>[0-5]\d)| UTC)?",
    re.ASCII,
)
FORMS: Final = "2030-01-01T10:00:00Z, 2030-01-01 10:00:00 (UTC), 2030-01-01 10:00:00 UTC or 2030-01-01 11:00:00 +0100"


def parse_schedule(text: str) -> datetime.datetime:
    """The instant `text` names, aware, in UTC; `ValueError` saying the accepted forms if it is none of them."""
    match = SCHEDULE_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text[:64]!r} is not a date and time FedaPay accepts (e.g. {FORMS})")
    fraction = (match["fraction"] or ".0")[1:7].ljust(6, "0")
    try:
        naive = datetime.datetime.fromisoformat(f"{match['date']}T{match['time']}").replace(microsecond=int(fraction))
    except ValueError:  # 2030-02-31: the pattern lets impossible days through
        raise ValueError(f"{text[:64]!r} is not a real date") from None
    offset = datetime.timedelta()
    if match["sign"]:
        offset = datetime.timedelta(hours=int(match["hours"]), minutes=int(match["minutes"]))
        offset = -offset if match["sign"] == "-" else offset
    try:
        return naive.replace(tzinfo=datetime.timezone(offset)).astimezone(datetime.UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"{text[:64]!r} is outside the years 1 to 9999 in UTC") from None


def wire(when: datetime.datetime) -> str:
    """The one form sent (and journalled by the bulk command): UTC ISO 8601 with a `Z` (fractions kept when given)."""
    return when.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
