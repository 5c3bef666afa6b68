"""The key checks without a false alarm from a rate limit: a request answered 429 says nothing about the key.

Schemathesis' `ignored_auth` sends the request of a case the server accepted again without its key and with a
wrong one, and fails unless the server answers 401 or 403; `missing_required_header` fails a coverage case sent
without `Authorization` unless it gets 401. A server that rate-limits (the spec documents 429 with `Retry-After`
on every operation, as a sandbox shared by many callers sends) may answer such a request 429 before it looks at
the key: the answer then says nothing about whether the key is enforced, yet the run failed ("Expected 401 or
403, got 429"). Schemathesis retries no probe, and a case only with `rate-limit = "auto"`.

Both built-in checks are wrapped in place under their own names (the config, the reports and the broken variants
name them as before). When one fails because the request it judged got 429 (for `ignored_auth` the probe that
failed, for `missing_required_header` the case itself), the wrapper reports the case as not checked
(schemathesis: skipped); `ignored_auth` then leaves the operation unconfirmed, so a later case probes it again.
Any other failure, a probe answered 2xx included, is reported as before.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

RATE_LIMITED = 429
# Schemathesis' message for a probe that was not refused: "Expected 401 or 403, got `429 Too Many Requests` ...".
_GOT_429 = re.compile(r"\bgot `429\b")


def _recorder(ctx: Any) -> Any:
    return getattr(getattr(ctx, "internals", None), "recorder", None)


def _recorded_ids(ctx: Any) -> set[str]:
    recorder = _recorder(ctx)
    return set(recorder.cases) if recorder is not None else set()


def _probe_statuses(ctx: Any, case_id: str, before: set[str]) -> list[int]:
    """Statuses of the probes recorded for `case_id` since `before` (the case ids recorded until then), in order."""
    recorder = _recorder(ctx)
    if recorder is None:
        return []
    statuses: list[int] = []
    for probe_id, node in list(recorder.cases.items()):
        if probe_id in before or getattr(node, "parent_id", None) != case_id:
            continue
        response = getattr(recorder.interactions.get(probe_id), "response", None)
        if response is not None:
            statuses.append(response.status_code)
    return statuses


def _probe_rate_limited(ctx: Any, response: Any, case: Any, before: set[str], failure: AssertionError) -> bool:
    """Whether `ignored_auth` failed on a probe answered 429: the last probe recorded for the case, or, without a
    recorder (schemathesis' pytest route), the failure's own message."""
    statuses = _probe_statuses(ctx, case.id, before)
    if statuses:
        return statuses[-1] == RATE_LIMITED
    return bool(_GOT_429.search(str(getattr(failure, "message", "")) or str(failure)))


def _case_rate_limited(ctx: Any, response: Any, case: Any, before: set[str], failure: AssertionError) -> bool:
    """Whether `missing_required_header` failed on a case answered 429."""
    return bool(response.status_code == RATE_LIMITED)


Judge = Callable[[Any, Any, Any, set[str], AssertionError], bool]
WRAPPED: dict[str, Judge] = {"ignored_auth": _probe_rate_limited, "missing_required_header": _case_rate_limited}


def _wrap(original: Any, rate_limited: Judge) -> Any:
    @functools.wraps(original)
    def check(ctx: Any, response: Any, case: Any) -> bool | None:
        before = _recorded_ids(ctx)
        try:
            result: bool | None = original(ctx, response, case)
        except AssertionError as failure:
            if rate_limited(ctx, response, case, before, failure):
                return True  # not checked: the request met the rate limit, not the key check
            raise
        return result

    check._fedapay_rate_limit_aware = True  # type: ignore[attr-defined]
    return check


def skip_rate_limited() -> list[str]:
    """Wrap the registered key checks (once per process); the names of those wrapped (none in a schemathesis
    without them)."""
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    wrapped: list[str] = []
    for name, rate_limited in WRAPPED.items():
        if name not in CHECKS.get_all_names():
            continue
        original: Any = CHECKS.get_one(name)  # a check function (neither is a check class)
        if not getattr(original, "_fedapay_rate_limit_aware", False):
            # Registered under the built-in's name, in its place: `schemathesis.check` refuses a second of a name.
            CHECKS.register(_wrap(original, rate_limited))
        wrapped.append(name)
    return wrapped
