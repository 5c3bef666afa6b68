"""The mock's clock: wall time plus an offset tests can move, or frozen until moved.

Scheduled payouts fall due and started payouts settle by this clock, so a test advances it instead
of sleeping.
"""

from __future__ import annotations

import threading
import time


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
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
            self._origin = time.time()
