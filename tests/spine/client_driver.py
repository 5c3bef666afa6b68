"""Drive the hand-written client of a regenerated copy of the project, in a child process.

    python client_driver.py <copy root> <scenario>

The copy's `generated/` and `overrides/` go first on sys.path (an editable install of this checkout
would otherwise be imported), a recording HTTP server listens on loopback, and the scenario's
calls run against it. What was sent and what each call gave is printed as one JSON line.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(sys.argv[1]).resolve()
sys.path[:0] = [str(ROOT / "generated"), str(ROOT / "overrides")]

import fedapay_payouts  # noqa: E402
import fedapay_payouts_api  # noqa: E402

assert Path(fedapay_payouts.__file__).is_relative_to(ROOT), fedapay_payouts.__file__
assert Path(fedapay_payouts_api.__file__).is_relative_to(ROOT), fedapay_payouts_api.__file__

PAYOUT = {
    "klass": "v1/payout", "id": 7, "reference": "ref", "amount": 1000, "status": "pending", "customer_id": 1,
    "currency_id": 1, "mode": "mtn_open", "created_at": "2030-01-01T00:00:00Z", "updated_at": "2030-01-01T00:00:00Z",
}
CUSTOMER = {"firstname": "Ada", "lastname": "Lovelace"}


class Server(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.sent: list[dict[str, Any]] = []
        self.replies: list[tuple[int, Any]] = []


class Handler(BaseHTTPRequestHandler):
    server: Server

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        self.server.sent.append({
            "method": self.command, "path": url.path.removeprefix("/v1"),
            "query": dict(parse_qsl(url.query, keep_blank_values=True)),
            "body": json.loads(raw) if raw else None,
        })
        status, body = self.server.replies.pop(0) if self.server.replies else (200, {"v1/payout": PAYOUT})
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


def outcome(call: Any) -> dict[str, Any]:
    try:
        value = call()
    except fedapay_payouts.FedaPayError as exc:
        return {"error": type(exc).__name__, "argument": getattr(exc, "argument", None), "text": str(exc)}
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    return {"value": value if isinstance(value, dict | list | int | float | str | None) else repr(value)}


def main() -> None:
    scenario = sys.argv[2]
    server = Server()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    policy = fedapay_payouts.RetryPolicy(2, initial_delay=0.0, max_delay=0.0)
    client = fedapay_payouts.FedaPay(
        "sk_sandbox_spine_driver", base_url=f"http://127.0.0.1:{server.server_address[1]}", retry_policy=policy
    )
    payouts: Any = client.payouts  # typed by the copy's spec, not this checkout's
    results: dict[str, Any] = {}
    if scenario == "new-field":
        results["create"] = outcome(lambda: payouts.create(
            amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER, callback_url="https://shop.example/cb"
        ))
        results["create_bad_type"] = outcome(lambda: payouts.create(
            amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER, callback_url=5
        ))
    elif scenario == "maximum":
        server.replies = [(201, {"v1/payout": {**PAYOUT, "amount": 1_000_000}})]
        results["create_over"] = outcome(lambda: payouts.create(
            amount=1_000_001, currency="XOF", mode="mtn_open", customer=CUSTOMER
        ))
        results["update_over"] = outcome(lambda: payouts.update(7, amount=1_000_001))
        results["create_at_max"] = outcome(lambda: payouts.create(
            amount=1_000_000, currency="XOF", mode="mtn_open", customer=CUSTOMER
        ))
    elif scenario == "type-change":
        server.replies = [(201, {"v1/payout": {**PAYOUT, "amount": 10.5}})]
        results["create_number"] = outcome(lambda: payouts.create(
            amount=10.5, currency="XOF", mode="mtn_open", customer=CUSTOMER
        ))
        results["create_string"] = outcome(lambda: payouts.create(
            amount="10", currency="XOF", mode="mtn_open", customer=CUSTOMER
        ))
    elif scenario == "new-operation":
        page = {"v1/payouts": [PAYOUT], "meta": {
            "current_page": 1, "next_page": None, "prev_page": None, "total_pages": 1, "total_count": 1, "per_page": 25,
        }}
        server.replies = [(503, {"message": "busy"}), (502, {"message": "bad gateway"}), (200, page)]
        results["search"] = outcome(lambda: payouts.call("export_payouts", q="Ada", deadline=30))
        server.replies = [(502, {"message": "bad gateway"})]
        results["cancel_maybe_acted"] = outcome(lambda: payouts.call("cancel_payout", id=7, reason="typo"))
        server.replies = [(503, {"message": "busy"}), (200, {"v1/payout": PAYOUT})]
        results["cancel_refused_then_ok"] = outcome(lambda: payouts.call("cancel_payout", id=7, reason="typo"))
        results["cancel_bad_id"] = outcome(lambda: payouts.call("cancel_payout", id="7"))
    elif scenario == "required-undeclared":
        server.replies = [(201, {"v1/payout": PAYOUT})]
        results["create_without"] = outcome(lambda: payouts.create(
            amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER
        ))
        results["create_with_extra_body"] = outcome(lambda: payouts.create(
            amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER, extra_body={"purpose": "salary"}
        ))
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    client.close()
    server.shutdown()
    print(json.dumps({"results": results, "sent": server.sent}))


if __name__ == "__main__":
    main()
