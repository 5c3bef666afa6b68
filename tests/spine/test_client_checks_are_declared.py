"""Every check the client makes on a request comes from the spec or is one of its declared rules.

Statically: each `InvalidArgumentError` built while preparing a request is either built by
`_schema.py` (from a schema failure), passes on an error already raised (renamed to the caller's
words), or is built inside a function marked `@rule(name)`, whose name `_validation.DECLARED` lists
with its reason. Dynamically: each declared rule is exercised and refuses before any request.
"""

from __future__ import annotations

import ast
import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fedapay_payouts import (
    FedaPay,
    InvalidArgumentError,
    _payouts,  # noqa: F401  # its checks register their rules on import
)
from fedapay_payouts._validation import _RULES, DECLARED

PACKAGE = Path(__file__).resolve().parents[2] / "overrides/fedapay_payouts"
# The modules that turn a call's arguments into a request (configuration is checked at construction).
REQUEST_PATH = ("_operations.py", "_payouts.py", "_validation.py", "_pagination.py")
PASSED_ON = {"problem"}  # InvalidArgumentError(renamed(...), exc.problem): an error already raised, renamed


def _rule_of(function: ast.FunctionDef) -> str | None:
    for decorator in function.decorator_list:
        if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Name) and decorator.func.id == "rule"
                and isinstance(decorator.args[0], ast.Constant)):
            return str(decorator.args[0].value)
    return None


def _undeclared(module: Path) -> list[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    found: list[str] = []

    def visit(node: ast.AST, rule: str | None) -> None:
        if isinstance(node, ast.FunctionDef):
            rule = _rule_of(node) or rule
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "InvalidArgumentError":
            second = node.args[1] if len(node.args) == 2 else None
            passed_on = isinstance(second, ast.Attribute) and second.attr in PASSED_ON
            if rule is None and not passed_on:
                found.append(f"{module.name}:{node.lineno}")
            elif rule is not None:
                assert rule in DECLARED, f"{module.name}:{node.lineno}: rule {rule!r} is not in DECLARED"
        for child in ast.iter_child_nodes(node):
            visit(child, rule)

    visit(tree, None)
    return found


def test_every_request_check_is_the_specs_or_a_declared_rule() -> None:
    undeclared = [where for name in REQUEST_PATH for where in _undeclared(PACKAGE / name)]
    assert undeclared == []
    # Every declared rule has a reason and is used by at least one check.
    assert all(len(reason) > 40 for reason in DECLARED.values())
    assert set(_RULES.values()) == set(DECLARED)


def _no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a request was sent: {request.method} {request.url}")


TOMORROW = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
CUSTOMER = {"firstname": "Ada", "lastname": "Lovelace"}
EACH_RULE: dict[str, tuple[Any, str]] = {
    "plain JSON": (lambda p: p.create(amount=5, currency="XOF", mode="m", customer=CUSTOMER,
                                      custom_metadata={"b": b"x"}), "custom_metadata.b"),
    "aware datetimes": (lambda p: p.schedule(7, datetime.datetime(2031, 1, 1)), "at"),
    "future schedule": (lambda p: p.update(7, scheduled_at="2001-01-01T00:00:00Z"), "scheduled_at"),
    "spec keywords": (lambda p: p.create(amount=5, currency="XOF", mode="m", customer=CUSTOMER, amuont=6), "amuont"),
    "customer id or description": (lambda p: p.create(amount=5, currency="XOF", mode="m",
                                                      customer={"id": 3, **CUSTOMER}), "customer"),
    "start items": (lambda p: p.start([{"id": 1, "schedule_at": TOMORROW}]), "payouts[0]"),
    "distinct start ids": (lambda p: p.start([1, 1]), "payouts"),
    "one phone override": (lambda p: p.start([1, 2], phone_number={"number": "+22997808080", "country": "bj"}),
                           "phone_number"),
    "ids are ints": (lambda p: p.start(b"42"), "payouts"),
    "idempotency key token": (lambda p: p.create(amount=5, currency="XOF", mode="m", customer=CUSTOMER,
                                                 idempotency_key="a b"), "idempotency_key"),
    "escape hatches": (lambda p: p.retrieve(7, extra_query={"x": [1]}), "extra_query.x"),
    "header values": (lambda p: p.retrieve(7, extra_headers={"X-A": "a\r\nb"}), "extra_headers.X-A"),
}


def test_each_declared_rule_refuses_before_any_request() -> None:
    assert set(EACH_RULE) == set(DECLARED)
    client = FedaPay("sk_sandbox_rules", http_client=httpx.Client(transport=httpx.MockTransport(_no_network)))
    for name, (call, argument) in EACH_RULE.items():
        with pytest.raises(InvalidArgumentError) as caught:
            call(client.payouts)
        assert caught.value.argument == argument, (name, caught.value)
