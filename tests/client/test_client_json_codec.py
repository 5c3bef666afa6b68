"""One JSON codec for client and mock (`fedapay_payouts._json`): the same bytes read the same way on both sides."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fedapay_mock import wire
from fedapay_payouts import FedaPay
from fedapay_payouts._json import MalformedJSONError, dumps, loads, loads_strict
from fedapay_payouts_api.models.payout_custom_metadata import PayoutCustomMetadata

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

MOCK = Path(__file__).resolve().parents[2] / "mock" / "fedapay_mock"

EXACT = [
    (b"[-9223372036854775809]", [-9223372036854775809]),  # 19 digits, below -2**63: orjson gives -9.22e18
    (b"[-9223372036854775808, 9223372036854775807]", [-(2**63), 2**63 - 1]),  # 19 digits, in range
    (b"[18446744073709551616]", [2**64]),  # 20 digits, above 2**64
    (b"[99999999999999999999]", [99999999999999999999]),  # 20 digits
    (b'{"n": -9999999999999999999}', {"n": -9999999999999999999}),  # 19 digits
    (b'{"ref": "1234567890123456789"}', {"ref": "1234567890123456789"}),  # a 19-digit run in a string
]


def test_the_mock_has_no_codec_of_its_own() -> None:
    """The mock's decoder and encoder ARE the client's functions, not copies of them."""
    assert wire.loads is loads_strict
    assert wire.dumps is dumps
    assert wire.MalformedJSONError is MalformedJSONError


def test_no_mock_module_parses_or_writes_json_itself() -> None:
    """A mock module that imports orjson or json (or calls a loads/dumps of its own) grows a second codec."""
    found: list[str] = []
    for path in sorted(MOCK.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.FunctionDef) and node.name in {"loads", "dumps"}:
                names = [f"def {node.name}"]
            else:
                continue
            found += [f"{path.name}: {name}" for name in names if name in {"json", "orjson"} or name.startswith("def ")]
    assert found == []


@pytest.mark.parametrize(("body", "value"), EXACT)
def test_both_sides_read_long_integers_exactly(body: bytes, value: Any) -> None:
    assert loads(body) == value
    assert loads_strict(body) == value
    assert json.dumps(loads(body)) == json.dumps(loads_strict(body)) == json.dumps(value)  # ints, not floats


@pytest.mark.parametrize(("body", "value"), EXACT)
def test_what_is_read_is_written_back_to_the_same_value(body: bytes, value: Any) -> None:
    assert loads(dumps(value)) == value
    assert json.loads(dumps(value, sort_keys=True)) == value


def test_sorted_keys_give_one_text_per_value() -> None:
    assert dumps({"b": 1, "a": [2**70, {"d": 1, "c": 2}]}, sort_keys=True) == (
        b'{"a":[1180591620717411303424,{"c":2,"d":1}],"b":1}'
    )
    assert dumps({"b": 1, "a": 2}, sort_keys=True) == dumps({"a": 2, "b": 1}, sort_keys=True)


@pytest.mark.parametrize(("body", "problem"), [
    (b'{"a": NaN}', "NaN"),
    (b'{"a": -Infinity}', "Infinity"),
    (b'{"a": NaN, "n": 12345678901234567890}', "NaN"),  # the exact parser's path refuses it too
    (b'{"a": 1e400}', "too large for a float"),  # orjson refuses it: the standard library read it as inf
    (b'{"a": -1E400, "n": 12345678901234567890}', "too large for a float"),
    pytest.param(b"[" + b"9" * 400 + b".5]", "too large for a float", id="400-digit-float"),  # the stdlib path
    (b'{"s": "\\ud800"}', "lone surrogate"),
    (b'{"s": "\\udfff", "n": 12345678901234567890}', "lone surrogate"),
    (b"[" * 33 + b"]" * 33, "deeper than 32"),
    (b"[" * 40 + b"12345678901234567890" + b"]" * 40, "deeper than 32"),
    (b"<html>", "Expecting value"),
])
def test_the_strict_reader_refuses_what_a_server_could_not_store(body: bytes, problem: str) -> None:
    with pytest.raises(MalformedJSONError, match=problem):
        loads_strict(body)


def test_the_strict_reader_still_takes_large_finite_and_tiny_numbers() -> None:
    assert loads_strict(b'[1.5e308, 1e-400, -2.5E10]') == [1.5e308, 0.0, -2.5e10]
    assert loads_strict(b"[" + b"9" * 300 + b"]") == [int("9" * 300)]  # an integer stays exact, never a float


def test_the_mock_refuses_an_overflowing_number_and_never_replays_it_as_null(fedapay_mock: MockServer) -> None:
    """`1e400` was stored and echoed as null, and a replay of its Idempotency-Key with null matched it."""
    body = (b'{"amount":1000,"currency":{"iso":"XOF"},"mode":"moov","customer":{"firstname":"A","lastname":"B"},'
            b'"custom_metadata":{"x":%s}}')
    headers = {"Authorization": "Bearer sk_sandbox_codec", "Content-Type": "application/json",
               "Idempotency-Key": "k-inf"}
    refused = httpx.post(f"{fedapay_mock.base_url}/payouts", content=body % b"1e400", headers=headers)
    assert refused.status_code == 400, refused.text
    created = httpx.post(f"{fedapay_mock.base_url}/payouts", content=body % b"null", headers=headers)
    assert created.status_code == 201, created.text  # the key's first use: nothing was stored under it before
    assert created.json()["v1/payout"]["custom_metadata"] == {"x": None}


def test_the_reply_reader_reads_as_the_standard_library_does() -> None:
    """The client's reader is lenient where the standard library is: a reply is data, not something stored."""
    assert math.isnan(loads(b'{"a": NaN}')["a"])
    assert loads(b'{"s": "\\ud800"}') == {"s": "\ud800"}
    assert loads(b"[" * 33 + b"]" * 33) == json.loads(b"[" * 33 + b"]" * 33)
    with pytest.raises(ValueError, match="deeper than 64"):
        loads(b"[" * 65 + b"]" * 65)


def test_the_strict_reader_takes_exactly_32_levels() -> None:
    assert loads_strict(b"[" * 32 + b"]" * 32) == json.loads(b"[" * 32 + b"]" * 32)


def test_a_long_integer_travels_to_the_mock_and_back_to_the_client_exactly(fedapay_mock: MockServer) -> None:
    """Read by the mock's codec, stored, written by the mock's, read by the client's: no digit lost.

    (The client itself sends FedaPay's 64-bit integers only; the body here is written by hand.)
    """
    metadata = {"low": -9223372036854775809, "high": 18446744073709551616, "run": 12345678901234567890}
    fields = {"amount": 1000, "currency": {"iso": "XOF"}, "mode": "mtn_open",
              "customer": {"firstname": "Ada", "lastname": "Lovelace"}, "custom_metadata": metadata}
    body = json.dumps(fields).encode()  # the standard library's exact integers
    headers = {"Authorization": "Bearer sk_sandbox_codec", "Content-Type": "application/json"}
    created = httpx.post(f"{fedapay_mock.base_url}/payouts", content=body, headers=headers)
    assert created.status_code == 201, created.text
    assert b'"low":-9223372036854775809' in created.content
    assert b'"high":18446744073709551616' in created.content
    with FedaPay("sk_sandbox_codec", base_url=fedapay_mock.base_url) as client:
        payout = client.payouts.retrieve(created.json()["v1/payout"]["id"])
    assert isinstance(payout.custom_metadata, PayoutCustomMetadata)
    assert payout.custom_metadata.to_dict() == metadata
