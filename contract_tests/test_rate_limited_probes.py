"""A correct server that rate-limits passes: `ignored_auth` counts a probe answered 429 as not checked.

`ignored_auth` sends the request of an accepted case again without the key and with a wrong one, and wants 401 or
403. A sandbox that answers 429 (with `Retry-After`, as the spec documents for every operation) before it looks at
the key failed the run: "Expected 401 or 403, got 429". The server here is the real mock, rate-limiting exactly
those probes; the broken variant `auth_ignored` (`test_teeth.py`) proves a probe answered 2xx still fails.
"""

from __future__ import annotations

from fedapay_contract.isolated import run_suite_isolated
from fedapay_contract.suite import CI_PARTS, Mode
from fedapay_mock.asgi import ASGIApp, Scope

from contract_tests.broken import Exchange, Rewrite, _is_payout_path
from contract_tests.conftest import API_KEY
from contract_tests.serve import serve_asgi

TIMEOUT = 300
Request = tuple[str, str, bytes, bytes]


class RateLimitsProbes(Rewrite):
    """Answers 429 (`Retry-After: 1`) to a request without the right key that repeats the last request the mock
    accepted with it: `ignored_auth`'s probes, and nothing else. The suite sends one request at a time, so the
    request `_limit` saw is the one `_remember` is told the reply of."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        super().__init__(app, short_circuit=self._limit, after=self._remember)
        self.key = f"Bearer {api_key}".encode()
        self.accepted: Request | None = None
        self.limited = 0
        self._request: Request | None = None

    def _request_of(self, scope: Scope, body: bytes) -> Request:
        return (scope["method"], scope["path"], scope.get("query_string", b""), body)

    def _limit(self, scope: Scope, body: bytes) -> Exchange | None:
        request = self._request_of(scope, body)
        self._request = request
        keyed = dict(scope.get("headers", [])).get(b"authorization") == self.key
        if keyed or request != self.accepted:
            return None
        self.limited += 1
        exchange = Exchange(scope["method"], scope["path"], list(scope.get("headers", [])), body)
        exchange.set_json({"message": "Too Many Requests", "errors": {}}, status=429)
        exchange.set_header(b"retry-after", b"1")
        return exchange

    def _remember(self, exchange: Exchange) -> None:
        keyed = dict(exchange.request_headers).get(b"authorization") == self.key
        # The create part has no retrieve cases: a GET of a payout is the checks' read-back, sent between a case
        # and its probes, never probed itself.
        read_back = exchange.method == "GET" and _is_payout_path(exchange.path)
        if keyed and 200 <= exchange.status < 300 and not read_back:
            self.accepted = self._request


def test_a_server_rate_limiting_the_auth_probes_passes() -> None:
    from fedapay_mock import create_app

    server = RateLimitsProbes(create_app(api_key=API_KEY, freeze_clock=True), API_KEY)
    # Create's unit phases (a part of the CI suite, in teeth mode): its accepted cases are what `ignored_auth` probes.
    part = next(part for part in CI_PARTS if part.name == "unit: create")
    with serve_asgi(server) as served:
        report = run_suite_isolated(
            base_url=served.base_url, api_key=API_KEY, mode=Mode.TEETH, target="rate-limited", part=part,
            timeout=TIMEOUT,
        )
    assert server.limited > 0  # the probes did meet the rate limit
    assert report.ok, report.format()
    assert "ignored_auth" in report.checks_run
    assert report.statuses["POST /payouts"].get("4xx", 0) >= server.limited  # the 429s are in the report
