"""The package's public names are kept in three places of `fedapay_payouts/__init__.py`: `__all__`, the lazy
import table `_LAZY` and the `TYPE_CHECKING` block (what type checkers see of the lazy names). A name added
to one and forgotten in another is invisible to mypy, to `from fedapay_payouts import *`, or fails at runtime;
this reads the file with `ast` and holds the three together (as httpx's test of its `__all__` does)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import fedapay_payouts
import pytest

INIT = Path(fedapay_payouts.__file__)
PACKAGE = "fedapay_payouts"


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _module_of(node: ast.ImportFrom) -> str:
    module = node.module or ""
    return f"{PACKAGE}.{module}" if node.level == 1 else module


def public_name_problems(source: str) -> list[str]:
    """Every disagreement between `__all__`, `_LAZY`, the TYPE_CHECKING block and the eager imports."""
    tree = ast.parse(source)
    eager: set[str] = set()
    type_checking: dict[str, str] = {}
    lazy: dict[str, str] = {}
    exported: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module != "typing":
            eager.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            for inner in node.body:
                assert isinstance(inner, ast.ImportFrom), ast.dump(inner)
                for alias in inner.names:
                    type_checking[alias.asname or alias.name] = _module_of(inner)
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target == "_LAZY":
                lazy = ast.literal_eval(node.value)
            elif target == "__all__":
                exported = ast.literal_eval(node.value)
    problems = [f"{name} is twice in __all__" for name in sorted({n for n in exported if exported.count(n) > 1})]
    for name in sorted(set(lazy) ^ set(type_checking)):
        where = "_LAZY" if name in lazy else "the TYPE_CHECKING block"
        problems.append(f"{name} is in {where} only, not in both _LAZY and the TYPE_CHECKING block")
    for name in sorted(set(lazy) & set(type_checking)):
        if lazy[name] != type_checking[name]:
            problems.append(f"{name}: _LAZY loads it from {lazy[name]}, TYPE_CHECKING from {type_checking[name]}")
    public = {name for name in eager if not name.startswith("_")} | set(lazy) | {"__version__"}
    for name in sorted(public - set(exported)):
        problems.append(f"{name} is imported or lazy but missing from __all__")
    for name in sorted(set(exported) - public - set(type_checking)):
        problems.append(f"{name} is in __all__ but neither imported nor in _LAZY")
    return problems


def test_all_lazy_table_and_type_checking_block_agree() -> None:
    assert public_name_problems(INIT.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("name", sorted(fedapay_payouts.__all__))
def test_every_public_name_resolves_from_its_module(name: str) -> None:
    value = getattr(fedapay_payouts, name)
    module = fedapay_payouts._LAZY.get(name)
    if module is not None:
        assert value is getattr(importlib.import_module(module), name)


def _without(source: str, line: str) -> str:
    assert source.count(line) == 1, line
    return source.replace(line, "")


@pytest.mark.parametrize(
    ("place", "line", "expected"),
    [
        ("__all__", '    "Payout",\n', "Payout is imported or lazy but missing from __all__"),
        ("_LAZY", '    "Payout": "fedapay_payouts_api.models.payout",\n', "Payout is in the TYPE_CHECKING block only"),
        (
            "TYPE_CHECKING",
            "    from fedapay_payouts_api.models.payout import Payout as Payout\n",
            "Payout is in _LAZY only",
        ),
        ("__all__", '    "FedaPay",\n', "FedaPay is imported or lazy but missing from __all__"),
    ],
)
def test_a_name_missing_from_one_place_is_reported(place: str, line: str, expected: str) -> None:
    problems = public_name_problems(_without(INIT.read_text(encoding="utf-8"), line))
    assert any(problem.startswith(expected) for problem in problems), (place, problems)


def test_a_name_lazy_loaded_from_another_module_than_type_checking_says_is_reported() -> None:
    source = INIT.read_text(encoding="utf-8").replace(
        '"WebhookEvent": "fedapay_payouts._webhooks"', '"WebhookEvent": "fedapay_payouts._payouts"'
    )
    assert public_name_problems(source) == [
        "WebhookEvent: _LAZY loads it from fedapay_payouts._payouts, TYPE_CHECKING from fedapay_payouts._webhooks"
    ]
