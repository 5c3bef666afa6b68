"""The garbage collector's settings for a mock that owns its process (the CLI), so that pauses stay short.

The request path makes no reference cycles that outlive a request, but the collector still walks every
tracked object now and then: the start-up heap (the spec, the compiled validators, the imported modules)
and every stored payout. A full collection over a store of 200,000 payouts takes about 150 ms on this
machine, a pause every request in flight waits out. So:

- after start-up, the heap is collected once and frozen (`gc.freeze`): the collector never walks it again;
- after each full collection, what survived it is frozen too, so the next one only walks what came since
  (stored payouts never become garbage while the store holds them, and a reset drops them by reference
  count, frozen or not);
- young collections run less often (a higher first threshold): each walks only the young objects.

The one cost: a cycle frozen while alive that later becomes garbage (a closed connection's objects, say)
is not collected until `gc.unfreeze()`; `/_mock/reset` unfreezes, collects and freezes again.

Not used by `run_mock` or `create_app`: those share the process with their caller, whose collector is
the caller's business (the test processes freeze their own start-up heap: `freeze_start_up`).
"""

from __future__ import annotations

import gc
from typing import Any

YOUNG_THRESHOLD = 10_000
OLDEST = 2  # the generation a full collection collects


def _freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == OLDEST:
        gc.freeze()


def freeze_start_up() -> None:
    """Collect once, freeze what is left (the start-up heap), make young collections rarer. The test
    processes use this alone (conftest.py): what a test holds at a later collection becomes garbage when it ends."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)


def tune() -> None:
    """Freeze the start-up heap, freeze the survivors of every full collection, make young ones rarer."""
    freeze_start_up()
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)


def refresh() -> None:
    """Let the collector see everything again, collect, and freeze what is left (after a reset)."""
    if _freeze_survivors not in gc.callbacks:
        return
    gc.unfreeze()
    gc.collect()
    gc.freeze()
