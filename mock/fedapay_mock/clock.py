"""The mock's clock: wall time plus an offset tests can move, or frozen until moved.

Scheduled payouts fall due and started payouts settle by this clock, so a test advances it instead
of sleeping.
"""

from __future__ import annotations

import threading
import time

# One advance moves the clock at most 100 years, and the clock never passes the year 9000: a timestamp
# the mock formats must stay a four-digit year.
MAX_ADVANCE_SECONDS = 100 * 366 * 86400.0
LATEST = 221_845_392_000.0  # 9000-01-01T00:00:00Z


class MockClock:
    def __init__(self, *, frozen: bool = False) -> None:
        self.frozen = frozen
        self._lock = threading.Lock()
        self._offset = 0.0
        self._origin = time.time()

    def now(self) -> float:
        """Seconds since the epoch, as the mock sees them."""
        base = self._origin if self.frozen else time.time()
        return base + self._offset

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds`; ValueError (and no move) outside `[0, MAX_ADVANCE_SECONDS]` or past `LATEST`."""
        if not 0 <= seconds <= MAX_ADVANCE_SECONDS:
            raise ValueError(f"must be a number of seconds from 0 to {MAX_ADVANCE_SECONDS:.0f}")
        with self._lock:
            if self.now() + seconds > LATEST:
                raise ValueError("would move the clock past the year 9000")
            self._offset += seconds
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
            self._origin = time.time()
