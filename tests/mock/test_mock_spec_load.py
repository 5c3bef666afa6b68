"""A spec the mock cannot serve stops it with one line naming the file and the place in it (`load_spec`,
`create_app`, `run_mock`, `fedapay-mock --spec`: ValueError / exit 2), never a KeyError or AttributeError
from deep inside, and never a server that answers 500 to the operations it cannot serve."""

from __future__ import annotations

import copy
import functools
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fedapay_mock.server
import pytest
import yaml
from fedapay_mock import create_app, run_mock
from fedapay_mock.cli import main
from fedapay_mock.spec import _SAFE_LOADER, MAX_YAML_DEPTH, REPO_SPEC, load_spec

OP = "paths:\n  /x:\n    get:\n"


@functools.cache
def _committed() -> dict[str, Any]:
    # Parsed once, with the mock's own loader (libyaml where present): this module builds its cases when pytest
    # collects it, in every xdist worker, and the pure-Python parser took 0.8 s there for the five of them.
    spec: dict[str, Any] = yaml.load(REPO_SPEC.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    return spec


def _real(edit: Callable[[dict[str, Any]], None]) -> str:
    """The committed spec after `edit`, as YAML."""
    spec = copy.deepcopy(_committed())
    edit(spec)
    return yaml.safe_dump(spec, sort_keys=False)


def _bad_body_pattern(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["PhoneNumber"]["properties"]["number"]["pattern"] = "("


def _retrieve_without_id(spec: dict[str, Any]) -> None:
    item = spec["paths"]["/payouts/{id}"]
    item.pop("parameters", None)
    for method in ("get", "put", "delete"):
        item[method]["parameters"] = [
            p for p in item[method].get("parameters", []) if p != {"$ref": "#/components/parameters/PayoutId"}
        ]


def _create_without_body(spec: dict[str, Any]) -> None:
    del spec["paths"]["/payouts"]["post"]["requestBody"]


def _payout_property_named_5(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["Payout"]["properties"][5] = {"type": "string", "nullable": True}


def _mode_default_with_an_integer_key(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["PayoutCreate"]["properties"]["mode"]["default"] = {1: "x"}


# (spec text, what the one line must name)
CASES = {
    "ref-to-nothing": (
        OP + "      parameters:\n        - $ref: '#/nope'\n",
        "paths./x.get.parameters[0]: $ref '#/nope'",
    ),
    "paths-a-list": ("paths: []\n", "paths: must be a mapping, not list"),
    "path-item-null": ("paths:\n  /x: null\n", "paths./x: must be a mapping, not null"),
    "param-pattern-no-regex": (
        OP + "      parameters:\n        - {name: page, in: query, schema: {type: integer, pattern: '('}}\n",
        "paths./x.get.parameters[page].schema.pattern",
    ),
    "operation-a-list": (OP.replace("get:\n", "get: []\n"), "paths./x.get: must be a mapping, not list"),
    "parameters-a-mapping": (OP + "      parameters: {a: 1}\n", "paths./x.get.parameters: must be a list"),
    "parameter-without-name": (OP + "      parameters:\n        - {in: query}\n", "needs a name"),
    "parameter-in-unhashable": (OP + "      parameters:\n        - {name: a, in: [query]}\n", "'in' must be one of"),
    "header-name-not-a-token": (OP + "      parameters:\n        - {name: 'a b', in: header}\n", "HTTP header name"),
    "remote-ref": (OP + "      parameters:\n        - $ref: 'http://example.com/p.yaml'\n", "not a local reference"),
    "ref-cycle": (
        OP + "      parameters:\n        - $ref: '#/components/parameters/A'\n"
        "components:\n  parameters:\n    A: {$ref: '#/components/parameters/B'}\n"
        "    B: {$ref: '#/components/parameters/A'}\n",
        "refers back to itself",
    ),
    "schema-ref-outside-components": (
        OP + "      parameters:\n        - {name: a, in: query, schema: {$ref: '#/paths'}}\n",
        "names none of components.schemas",
    ),
    "properties-a-list": (
        OP
        + "      requestBody:\n        content:\n          application/json:\n            schema: {properties: [a]}\n",
        "requestBody.content.application/json.schema.properties: must be a mapping",
    ),
    "content-a-list": (OP + "      requestBody: {content: []}\n", "requestBody.content: must be a mapping"),
    "responses-a-list": (OP + "      responses: [200]\n", "paths./x.get.responses: must be a mapping"),
    "schemas-a-list": ("paths: {}\ncomponents: {schemas: []}\n", "components.schemas: must be a mapping"),
    "schema-ref-cycle": (
        "paths: {}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n"
        "    B: {$ref: '#/components/schemas/A'}\n",
        "refers back to itself",
    ),
    "schema-too-deep": (
        "paths: {}\ncomponents:\n  schemas:\n    A: " + "{items: " * 70 + "{}" + "}" * 70 + "\n",
        "nested deeper than 64",
    ),
    "type-a-mapping": ("paths: {}\ncomponents:\n  schemas:\n    A: {type: {a: 1}}\n", "components.schemas.A.type"),
    "path-parameter-not-a-name": ("paths:\n  /x/{1}:\n    get: {}\n", "paths./x/{1}: bad path parameter"),
    "path-parameter-twice": ("paths:\n  /x/{a}/{a}:\n    get: {}\n", "paths./x/{a}/{a}: bad path parameter"),
    "operation-id-twice": (
        "paths:\n  /x:\n    get: {operationId: a}\n  /y:\n    get: {operationId: a}\n",
        "paths./y.get.operationId: 'a' is also the id of paths./x.get",
    ),
    "operation-id-a-list": (OP.replace("get:\n", "get: {operationId: [a]}\n"), "operationId: must be a string"),
    "shared-schema-no-regex": (_real(_bad_body_pattern), "components.schemas.PhoneNumber.properties.number.pattern"),
    "retrieve-without-id": (_real(_retrieve_without_id), "retrieve_payout needs a path parameter named id"),
    "create-without-body": (_real(_create_without_body), "create_payout needs a requestBody"),
    # YAML reads `5:` as an integer: named where it is, not at the first operation compiled (`GET /payouts`' page).
    "property-name-not-text": (
        _real(_payout_property_named_5),
        "components.schemas.Payout.properties: the key 5 is not a string",
    ),
    "default-key-not-text": (
        _real(_mode_default_with_an_integer_key),
        "components.schemas.PayoutCreate.properties.mode.default: the key 1 is not a string",
    ),
    "body-property-name-not-text": (
        OP + "      requestBody:\n        content:\n          application/json:\n"
        "            schema: {type: object, properties: {7: {type: string}}}\n",
        "paths./x.get.requestBody.content.application/json.schema.properties: the key 7 is not a string",
    ),
    "parameter-property-name-not-text": (
        OP + "      parameters:\n        - {name: q, in: query, schema: {type: object, properties: {7: {}}}}\n",
        "paths./x.get.parameters[q].schema.properties: the key 7 is not a string",
    ),
}


def _must_not_serve(*args: object, **kwargs: object) -> None:
    raise AssertionError("the CLI started serving a spec it cannot serve")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "openapi.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES)
def test_create_app_refuses_a_spec_it_cannot_serve_in_one_line_naming_the_place(tmp_path: Path, case: str) -> None:
    text, place = CASES[case]
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match="is not a spec the mock can serve") as refused:
        create_app(spec_path=str(path))
    message = str(refused.value)
    assert type(refused.value) is ValueError
    assert message.startswith(f"{path} is not a spec the mock can serve: ")
    assert place in message
    assert "\n" not in message


@pytest.mark.parametrize("case", CASES)
def test_the_cli_exits_2_with_one_line_for_a_spec_it_cannot_serve(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text, place = CASES[case]
    path = _write(tmp_path, text)
    # A spec taken for a good one would serve until interrupted: fail instead of hanging.
    monkeypatch.setattr(fedapay_mock.server, "serve_forever", _must_not_serve)
    assert main(["--spec", str(path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fedapay-mock: {path} is not a spec the mock can serve: ")
    assert place in err
    assert err.count("\n") == 1


def test_load_spec_and_run_mock_refuse_the_same_way(tmp_path: Path) -> None:
    path = _write(tmp_path, "paths:\n  /x: null\n")
    with pytest.raises(ValueError, match=r"paths\./x: must be a mapping, not null"):
        load_spec(path)
    with pytest.raises(ValueError, match=r"paths\./x: must be a mapping, not null"), run_mock(spec_path=str(path)):
        pass


def test_a_spec_that_is_not_utf8_text_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_bytes(b"paths: {}\ninfo: {title: \xff}\n")
    with pytest.raises(ValueError, match="is not UTF-8 text") as refused:
        load_spec(path)
    assert (type(refused.value), str(refused.value)) == (ValueError, f"{path} is not UTF-8 text")


def test_a_spec_nested_deeper_than_the_limit_is_one_line_not_a_crash(tmp_path: Path) -> None:
    """100,000 levels: the mock reads specs with libyaml, whose composer recursed in C until SIGSEGV. The CLI in
    a child process, so a crash is a failed test, not a lost worker."""
    path = tmp_path / "openapi.yaml"
    path.write_text("paths:\n  /x: " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "fedapay_mock", "--spec", str(path), "--port", "0"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (
        2, f"fedapay-mock: {path} is nested more than {MAX_YAML_DEPTH} levels deep (line 2)\n"
    )


def test_an_extension_among_the_paths_is_not_a_path(tmp_path: Path) -> None:
    """OpenAPI 3.0 allows `x-` keys among the paths: the committed spec with one still serves every operation."""

    def extend(spec: dict[str, Any]) -> None:
        spec["paths"]["x-internal"] = {"note": "an extension, not a path"}

    path = tmp_path / "openapi.yaml"
    path.write_text(_real(extend), encoding="utf-8")
    assert {op.operation_id for op in load_spec(path).operations} == {
        op.operation_id for op in load_spec(REPO_SPEC).operations
    }
