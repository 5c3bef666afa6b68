"""No dead generated code ships: every module of `fedapay_payouts_api` in the wheel is reached from the client.

"Reached" is counted from the hand-written package inward: a module is reached when `fedapay_payouts`
imports it (at any level, typing included: the keyword TypedDicts type the methods users call), when
the operations registry loads it (`_operations.operations()` imports every module of `api/`), or when
a reached module imports it. `models/__init__.py` re-exports every model, so importing it reaches
nothing by itself: otherwise any model would count as used. What is not reached is pruned by
scripts/regenerate.py (`prune`), so the drift gate keeps it out of generated/.
"""

from __future__ import annotations

import ast
import json
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import httpx
from fedapay_payouts import FedaPay
from fedapay_payouts._operations import operations
from fedapay_payouts_api.models.currency_input import CurrencyInput
from fedapay_payouts_api.models.payout_create_custom_metadata import PayoutCreateCustomMetadata
from fedapay_payouts_api.models.payout_update_custom_metadata_type_0 import PayoutUpdateCustomMetadataType0
from fedapay_payouts_api.models.phone_number import PhoneNumber
from fedapay_payouts_api.models.start_payout import StartPayout
from fedapay_payouts_api.models.start_payouts_request import StartPayoutsRequest

from tests.client.hostile_server import payout
from tests.client.test_client_packaging import _build_wheel

GENERATED = "fedapay_payouts_api"
RE_EXPORTS = f"{GENERATED}.models"
PAYOUT = payout(7)


def _module(path: PurePosixPath) -> str:
    parts = list(path.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(module: str, is_package: bool, source: str) -> set[str]:
    base = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            parts = base.split(".")
            target = node.module or "" if not node.level else ".".join(
                [*parts[: len(parts) - node.level + 1], *([node.module] if node.module else [])]
            )
            pieces = target.split(".")  # importing a module runs its packages' __init__ first
            found |= {".".join(pieces[: i + 1]) for i in range(len(pieces))}
            found |= {f"{target}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                pieces = alias.name.split(".")
                found |= {".".join(pieces[: i + 1]) for i in range(len(pieces))}
    return found


def _reached(sources: dict[str, tuple[bool, str]], roots: set[str]) -> set[str]:
    seen = set(roots)
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module == RE_EXPORTS or module not in sources:
            continue
        for name in _imports(module, *sources[module]):
            if name in sources and name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def test_every_generated_module_in_the_wheel_is_reached_from_the_client(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    sources: dict[str, tuple[bool, str]] = {}
    data: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            path = PurePosixPath(name)
            if path.parts[0] not in ("fedapay_payouts", GENERATED):
                continue
            if path.suffix == ".py":
                sources[_module(path)] = (path.name == "__init__.py", archive.read(name).decode())
            else:
                data.append(name)
    client = {module for module in sources if module.split(".")[0] == "fedapay_payouts"}
    operations()  # the registry: every module of `api/` it loads is used by the client
    registry = {module for module in sys.modules if module.startswith(f"{GENERATED}.api")}
    assert f"{GENERATED}.api.payouts.create_payout" in registry
    reached = _reached(sources, client | registry)
    shipped = {module for module in sources if module.split(".")[0] == GENERATED}
    assert sorted(shipped - reached) == []
    assert len(shipped) >= 20  # the wheel was read: models, operations, the package
    # Data files: the spec the client validates against, the type checkers' marker.
    hand_written = "\n".join(source for module, (_, source) in sources.items() if module in client)
    assert sorted(data_name for data_name in data if data_name.startswith(f"{GENERATED}/")) == [
        f"{GENERATED}/openapi.json", f"{GENERATED}/py.typed",
    ]
    assert '"openapi.json"' in hand_written


def test_the_models_the_keyword_types_name_are_accepted_and_sent_as_their_json() -> None:
    """The request-side models that ship are used honestly: a caller may pass them where the keyword
    TypedDicts say, and the client sends their JSON."""
    sent: list[Any] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        if request.url.path.endswith("/start"):
            started = payout(7, status="started", started_at="2026-01-05T10:00:01Z")
            return httpx.Response(200, json={"v1/payouts": [started]})
        return httpx.Response(201 if request.method == "POST" else 200, json={"v1/payout": PAYOUT})

    with FedaPay("sk_sandbox_models", transport=httpx.MockTransport(server)) as client:
        client.payouts.create(
            amount=1000, mode="mtn_open", currency=CurrencyInput(iso="XOF"),
            customer={"firstname": "Ada", "lastname": "Lovelace"},
            custom_metadata=PayoutCreateCustomMetadata.from_dict({"batch": "b1"}),
        )
        client.payouts.update(7, custom_metadata=PayoutUpdateCustomMetadataType0.from_dict({"batch": "b2"}))
        client.payouts.call(
            "start_payouts",
            body=StartPayoutsRequest(payouts=[StartPayout(id=7, phone_number=PhoneNumber("+22997808080", "bj"))]),
        )
    assert sent[0]["currency"] == {"iso": "XOF"}
    assert sent[0]["custom_metadata"] == {"batch": "b1"}
    assert sent[1] == {"custom_metadata": {"batch": "b2"}}
    assert sent[2] == {"payouts": [{"id": 7, "phone_number": {"number": "+22997808080", "country": "bj"}}]}
