"""Process tuning for the suite's isolated runs (`isolated.py`): less CPU per case, the very same cases.

Applied only in the zygote that forks those runs (a process the suite owns), never in a caller's own
process. Neither change alters what is generated: every CI part and broken variant draws the same
cases with and without them (measured; contract_tests/README.md, "Cost").

- `cache_fixed_dictionaries`: schemathesis 4.32.5 builds a new `st.fixed_dictionaries({...})` on every
  draw of an object (`schemathesis/generation/jsonschema/strategy.py`, `_named_object` and
  `_drawn_object`: the required keys plus the optional ones picked for that draw), and Hypothesis
  6.170.15 validates each new strategy before drawing from it (`SearchStrategy.validate`: unwrapping,
  `is_empty`, `has_reusable_values`): 2,500 such strategies per stateful part, 6-9 % of its CPU. The
  cache hands back the strategy already built for the same keys and the same value strategies, in the
  same order. Strategies are immutable, so reusing one draws exactly what a new one would (same type,
  same labels, same choices). Pinned to the versions it was measured on: with others it is not applied.
- `tune_gc`: a stateful part allocates some 200,000 long-lived objects (Hypothesis' data tree,
  schemathesis' caches); with the default thresholds the collector runs 13 full collections over them,
  11 % of the part's CPU. Full collections are made 10 times rarer (third threshold 10 -> 100); the
  young generations are collected as before. Costs memory only (a few tens of MB per run).
- `precompute_constants`: schemathesis' coverage phase takes the values it offers against an `enum` from one
  draw of Hypothesis (`_invalid_enum_candidates`: seeded, the same tuple in every process, cached once
  computed). Computing it costs 0.14 s of CPU and every forked run used to compute it again; the zygote
  computes it once before it forks, so its children find it. Same value, so the same cases.
- `run_threads_on_large_chunks`: CPython keeps a thread's frames in 16 KiB chunks and unmaps a chunk
  as soon as the calls that needed it return (python/cpython#142183; 3.13.13 and 3.14.4 keep one
  spare chunk, 3.11 and 3.12 do not). Hypothesis' draws recurse to and fro across such a boundary:
  200,000 mmap/munmap pairs and page faults in one stateful part, 10 % of its CPU (most of its system
  time). Each thread's `run` is called from one frame with a large value stack (never used), so the
  thread's next chunk is 1 MiB and its deep calls stay inside it. Semantics unchanged: only the frame
  is larger.
"""

from __future__ import annotations

import functools
import gc
import threading
from typing import Any

# The versions `cache_fixed_dictionaries` was written for and measured with (constraints.txt pins them).
PINNED = {"hypothesis": "6.170.15", "schemathesis": "4.32.5"}
# Young generations as CPython's defaults (700, 10); full collections 10 times rarer than its 10.
GC_THRESHOLDS = (700, 10, 100)
# Value-stack slots of the frame each thread's `run` starts from (8 bytes each): the chunk CPython
# allocates for it is the next power of two above (slots + 1,000) * 8 bytes, 1 MiB, which leaves 66,000
# slots (some 2,000 frames) above it for the thread's own calls.
LARGE_FRAME_SLOTS = 65_000
# A bound on the cache: far above what a run builds (a few hundred distinct objects), so it never drops
# an entry in practice, yet a pathological schema cannot make it grow without end.
MAX_CACHED = 20_000

_applied = False


def versions() -> dict[str, str]:
    import hypothesis
    import schemathesis

    return {"hypothesis": hypothesis.__version__, "schemathesis": schemathesis.__version__}


def cache_fixed_dictionaries() -> bool:
    """Serve `hypothesis.strategies.fixed_dictionaries(mapping)` from a cache; False when not applied."""
    global _applied
    if _applied:
        return True
    if versions() != PINNED:
        return False
    import hypothesis.strategies as st

    build = st.fixed_dictionaries
    # (key, id(value strategy)) pairs in order -> (the value strategies, kept alive so ids stay theirs; strategy)
    cache: dict[tuple[tuple[Any, int], ...], tuple[list[Any], Any]] = {}

    def fixed_dictionaries(mapping: Any, *, optional: Any = None) -> Any:
        if optional is not None or type(mapping) is not dict:
            return build(mapping, optional=optional)
        key = tuple((name, id(value)) for name, value in mapping.items())
        hit = cache.get(key)
        if hit is None:
            if len(cache) >= MAX_CACHED:
                cache.clear()
            hit = cache[key] = (list(mapping.values()), build(mapping))
        return hit[1]

    fixed_dictionaries.__doc__ = build.__doc__
    st.fixed_dictionaries = fixed_dictionaries
    _applied = True
    return True


def precompute_constants() -> bool:
    """Compute the process-wide constants the runs would each compute (pinned versions only); False when not."""
    if versions() != PINNED:
        return False
    from schemathesis.specs.openapi.coverage import _schema

    _schema._invalid_enum_candidates()
    return True


def tune_gc() -> None:
    gc.set_threshold(*GC_THRESHOLDS)


def _from_a_large_frame(run: functools.partial[None]) -> None:
    run()


_from_a_large_frame.__code__ = _from_a_large_frame.__code__.replace(co_stacksize=LARGE_FRAME_SLOTS)
_original_run = threading.Thread.run


def _run(self: threading.Thread) -> None:
    _from_a_large_frame(functools.partial(_original_run, self))


def run_threads_on_large_chunks() -> None:
    """Start every thread's `run` (threads made later in this process) from a frame with a large stack."""
    threading.Thread.run = _run  # type: ignore[method-assign]
