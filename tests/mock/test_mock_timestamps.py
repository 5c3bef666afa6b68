"""The mock's timestamp text (`fedapay_mock.store.iso`): FedaPay's `2018-10-24T17:27:45.677Z`, formatted
from tables (each second's text remembered, each millisecond's text prepared: issue 15), so each case here
is a value a stale entry or a wrong table entry would change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fedapay_mock.store import iso


def reference(t: float) -> str:
    """The same text by the standard library: whole seconds, milliseconds rounded and capped at 999."""
    whole = int(t // 1)
    ms = min(999, round((t - whole) * 1000))
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"


@pytest.mark.parametrize(
    ("t", "text"),
    [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1540401465.677, "2018-10-24T17:17:45.677Z"),
        (1.0005, "1970-01-01T00:00:01.000Z"),  # 0.5 ms: rounds to even, never a fourth digit
        (1.9996, "1970-01-01T00:00:01.999Z"),  # rounds up to 1000 ms: capped, not carried into the next second
        (-0.5, "1969-12-31T23:59:59.500Z"),
        (None, None),
    ],
)
def test_iso_formats_fedapay_timestamps(t: float | None, text: str | None) -> None:
    assert iso(t) == text


def test_iso_formats_every_millisecond_of_two_seconds() -> None:
    base = 1_800_000_000.0
    seen = [iso(base + n / 1000) for n in range(2000)]  # every millisecond of two seconds, in turn
    assert seen == [reference(base + n / 1000) for n in range(2000)]
    assert len(set(seen)) == 2000
    assert iso(base + 0.001) == "2027-01-15T08:00:00.001Z"
    assert iso(base + 0.001) == "2027-01-15T08:00:00.001Z"  # the second's remembered text, still the right one
    assert iso(base + 0.002) == "2027-01-15T08:00:00.002Z"
