"""The served mock's garbage-collector settings: the start-up heap and the survivors of full collections are
frozen, so a growing store is not walked again and again (the tail-latency pauses of issue 15).

Run in a child interpreter: the settings are process-wide and belong to the process that serves."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

from fedapay_mock import gc_tuning

CHILD = """
import gc, json
from fedapay_mock import gc_tuning
from fedapay_mock.server import serve_forever  # the runner the CLI uses: it tunes before serving
before = gc.get_freeze_count()
gc_tuning.tune()
after_start = gc.get_freeze_count()
kept = [[n] for n in range(50_000)]  # a store's worth of tracked objects that stay alive
gc.collect()  # a full collection: its survivors are frozen
after_full = gc.get_freeze_count()
garbage = []
garbage.append(garbage)  # a cycle, frozen below while alive, then dropped
gc.collect()
del garbage
frozen_garbage = gc.get_freeze_count()
gc_tuning.refresh()  # what /_mock/reset does: unfreeze, collect (the dropped cycle goes), freeze again
walked = {id(o) for o in gc.get_objects()}  # what the collector still walks (not the frozen objects)
print(json.dumps({
    "before": before, "after_start": after_start, "after_full": after_full,
    "frozen_garbage": frozen_garbage, "after_refresh": gc.get_freeze_count(),
    "threshold": gc.get_threshold()[0], "kept_walked": sum(id(k) in walked for k in kept),
}))
"""


def test_the_served_mock_freezes_its_heap_and_what_survives_full_collections() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=60)
    seen = json.loads(out.stdout)
    assert seen["before"] == 0
    assert seen["after_start"] > 1000  # the imported modules and their objects
    assert seen["after_full"] >= seen["after_start"] + 50_000  # the kept lists joined the frozen heap
    assert seen["threshold"] == gc_tuning.YOUNG_THRESHOLD
    assert seen["after_refresh"] < seen["frozen_garbage"]  # the dropped cycle is gone
    assert seen["kept_walked"] == 0  # what is alive is frozen again


def test_refresh_does_nothing_in_a_process_that_did_not_tune() -> None:
    # The in-process mock (`run_mock`, the pytest fixtures) shares its caller's collector: left alone.
    frozen = gc.get_freeze_count()
    gc_tuning.refresh()
    assert gc.get_freeze_count() == frozen
