"""What the suite's draws may depend on: its seed, its settings and the spec, never where the project lives.

Hypothesis 6.1xx mixes into its draws the literals of every "local" module loaded in the process: a module
outside site-packages and the standard library (`hypothesis.internal.conjecture.providers`,
`_get_local_constants`). Installed from a wheel, this project's modules are in site-packages and add
nothing; checked out and installed editable (`pip install -e`, as `scripts/setup.sh` does), they count as
local, so every string added to the mock, the client or this package changed the cases the suite drew:
CI mode drew 3,626 cases from a checkout and 3,802 from a wheel of the same commit, and one edit of
`isolated.py` made a stateful part fall below its minimum and miss a broken variant.

The suite's runs therefore draw with no local constants at all: the same cases from a checkout and from an
installed wheel, whatever text the project's modules hold. Hypothesis' own constants (its global pool:
edge-case numbers and strings) are kept.
"""

from __future__ import annotations


def without_local_constants() -> bool:
    """Make this process's Hypothesis draw no constants from local modules; False when its version has no such
    pool (nothing to turn off)."""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:
        return False
    if not callable(getattr(providers, "_get_local_constants", None)):
        return False
    none = Constants()

    def no_local_constants() -> Constants:
        return none

    providers._get_local_constants = no_local_constants
    return True
