"""The pipeline's one YAML reader (spec_pages.load_yaml) and what it refuses: the spec's meaning, never YAML's tricks.

In-process on small texts: anchors and aliases (a few KB that expand to gigabytes), tags, duplicate keys,
YAML 1.1's dates and `no`, oversized pages, `$ref`s that leave the document, and generator warnings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import regenerate
import yaml
from spec_pages import (
    MAX_YAML_BYTES,
    MAX_YAML_DEPTH,
    PageError,
    dump_yaml,
    load_yaml,
    load_yaml_documents,
    parse_fences,
)

ROOT = Path(__file__).resolve().parents[2]

# The "billion laughs": nine levels of nine aliases, 9**9 list items from a few hundred bytes.
BOMB = 'a: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"l{n}: &l{n} [{','.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 10)
)


def test_an_anchor_bomb_is_refused_before_it_expands_naming_the_page() -> None:
    with pytest.raises(PageError) as refused:
        load_yaml(BOMB, "spec/source/bomb.page.txt: fence 1")
    message = str(refused.value)
    assert message.startswith("spec/source/bomb.page.txt: fence 1: line 1: YAML anchor &l0 refused")


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("a: 1\nb: *x\n", "line 2: YAML alias *x refused"),  # an alias of nothing too
        ("a: !!python/object:os.system x\n", "YAML tag tag:yaml.org,2002:python/object:os.system refused"),
        ("a: !!str 1\n", "YAML tag tag:yaml.org,2002:str refused"),
        ("a: !custom {b: 1}\n", "YAML tag !custom refused"),
        ("a: &x 1\n", "YAML anchor &x refused"),
    ],
)
def test_aliases_anchors_and_tags_are_refused(text: str, what: str) -> None:
    with pytest.raises(PageError, match=r"^page: ") as refused:
        load_yaml(text, "page")
    assert what in str(refused.value)


def test_scalars_keep_the_meaning_of_yaml_1_2_core() -> None:
    text = (
        "example: 2024-01-15T10:00:00Z\nday: 2024-01-15\nenum: [bj, tg, sn, no, yes, on, off, y, n]\n"
        "under: 1_000\noctal: 0777\nhex: 0x1F\noct: 0o17\nexp: 1e3\nfloat: 1.5\nint: -12\n"
        "t: true\nf: False\nnull1: ~\nnull2: null\nempty:\ninf: .inf\nsexagesimal: 1:30\nmerge: {<<: 1}\n"
    )
    loaded = load_yaml(text, "page")
    assert loaded == {
        "example": "2024-01-15T10:00:00Z",
        "day": "2024-01-15",
        "enum": ["bj", "tg", "sn", "no", "yes", "on", "off", "y", "n"],
        "under": "1_000",
        "octal": 777,
        "hex": 31,
        "oct": 15,
        "exp": 1000.0,
        "float": 1.5,
        "int": -12,
        "t": True,
        "f": False,
        "null1": None,
        "null2": None,
        "empty": None,
        "inf": float("inf"),
        "sexagesimal": "1:30",
        "merge": {"<<": 1},
    }
    # What the pipeline writes reads back the same with the 1.2 reader and with a YAML 1.1 one (the mock's).
    dumped = dump_yaml(loaded)
    assert load_yaml(dumped, "dumped") == loaded
    assert yaml.safe_load(dumped) == loaded
    assert json.loads(json.dumps(loaded))["example"] == "2024-01-15T10:00:00Z"


def test_strings_that_either_yaml_version_would_read_as_numbers_are_written_quoted() -> None:
    strings = {"a": "1e3", "b": "0o17", "c": "no", "d": "2024-01-15", "e": "1_000", "f": "0x1F", "g": "Null"}
    dumped = dump_yaml(strings)
    assert load_yaml(dumped, "dumped") == strings
    assert yaml.safe_load(dumped) == strings


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ("type: object\ntype: string\n", "'type'", 2),
        ("a:\n  b: 1\n  c: 2\n  b: 3\n", "'b'", 4),
        ("responses:\n  200: {}\n  '200': {}\n  200: {}\n", "200", 4),
    ],
)
def test_duplicate_keys_are_refused_naming_the_key_the_page_and_the_line(text: str, key: str, line: int) -> None:
    with pytest.raises(PageError) as refused:
        load_yaml(text, "spec/source/x.page.txt: fence 1")
    message = str(refused.value)
    assert message.startswith("spec/source/x.page.txt: fence 1: not valid YAML")
    assert f"duplicate key {key}" in message
    assert f"line {line}," in message


def test_a_page_larger_than_the_limit_is_refused_unread() -> None:
    text = "a: " + "x" * MAX_YAML_BYTES + "\n"
    with pytest.raises(PageError, match=r"^big: \d+ bytes of YAML, more than the 1000000"):
        load_yaml_documents(text, "big")


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_a_page_nested_deeper_than_the_limit_is_refused_naming_the_line_not_a_crash(opening: str) -> None:
    """100,000 levels (200 KB, within the size limit): libyaml's composer recursed in C until the process died
    with SIGSEGV. In a child process, so a crash is a failed test, not a lost worker."""
    closing = "]" if opening == "[" else "}"
    levels = 100_000
    program = (
        "import sys; from spec_pages import PageError, load_yaml_documents\n"
        f"text = 'openapi: 3.0.3\\npaths: ' + {opening!r} * {levels} + '1' + {closing!r} * {levels}\n"
        "try:\n    load_yaml_documents(text, 'spec/source/deep.page.txt: fence 1')\n"
        "except PageError as error:\n    print(error)\n    sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT / "scripts", capture_output=True, text=True,
                          timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (
        3, f"spec/source/deep.page.txt: fence 1: line 2: YAML nested more than {MAX_YAML_DEPTH} levels deep"
    ), done.stderr[-500:]


def test_a_page_as_deep_as_the_limit_is_read() -> None:
    text = "a: " + "[" * (MAX_YAML_DEPTH - 1) + "1" + "]" * (MAX_YAML_DEPTH - 1)
    document = load_yaml_documents(text, "deep")[0]
    depth = 1
    value = document["a"]
    while isinstance(value, list):
        depth, value = depth + 1, value[0]
    assert (depth, value) == (MAX_YAML_DEPTH, 1)


def test_a_page_file_larger_than_the_limit_is_refused_naming_it(tmp_path: Path) -> None:
    from spec_pages import read_pages

    (tmp_path / "spec/source").mkdir(parents=True)
    (tmp_path / "spec/source/huge.page.txt").write_bytes(b"x" * (MAX_YAML_BYTES + 1))
    with pytest.raises(PageError, match=r"^spec/source/huge\.page\.txt: 1000001 bytes, more than"):
        read_pages(tmp_path)


def _fence_with_ref(ref: str) -> str:
    return (
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /payouts:\n    post:\n      responses:\n"
        f"        '201':\n          description: ok\n          content:\n            application/json:\n"
        f"              schema:\n                properties:\n                  fees: {{$ref: '{ref}'}}\n"
    )


@pytest.mark.parametrize(
    "ref",
    [
        "http://127.0.0.1:9/secret.yaml",
        "file:///etc/passwd",
        "../../../../etc/passwd",
        "other.yaml#/components/schemas/X",
        "#",
        "components/schemas/X",
    ],
)
def test_a_ref_that_is_not_local_is_refused_when_the_page_is_read_naming_page_and_path(ref: str) -> None:
    with pytest.raises(PageError) as refused:
        parse_fences("spec/source/create-payout.page.txt", (_fence_with_ref(ref),))
    message = str(refused.value)
    assert message.startswith(f"spec/source/create-payout.page.txt: fence 1: $ref {ref!r} at ")
    assert "/paths/~1payouts/post/responses/201/content/application~1json/schema/properties/fees/$ref" in message
    assert "not a local reference" in message


def test_a_local_ref_is_kept() -> None:
    (document,) = parse_fences("page", (_fence_with_ref("#/components/schemas/Fees"),))
    schema = document["paths"]["/payouts"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert schema["properties"]["fees"] == {"$ref": "#/components/schemas/Fees"}


def test_validate_refuses_a_ref_an_overlay_made_non_local_before_the_validator_opens_it(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("type: object\n", encoding="utf-8")
    with pytest.raises(regenerate.PipelineError, match=r"^spec/openapi\.yaml: \$ref 'file://.*not a local reference"):
        regenerate.validate(_fence_with_ref(secret.as_uri()))


def _spec_the_generator_drops_a_model_of() -> dict[str, Any]:
    """Valid OpenAPI, but openapi-python-client cannot model an enum mixing types: it removes `X` (a warning)."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/x": {
                "get": {
                    "operationId": "get_x",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/X"}}},
                        }
                    },
                }
            }
        },
        "components": {"schemas": {"X": {"type": "object", "properties": {"b": {"enum": [1, "a"]}}}}},
    }


def test_a_generator_warning_that_drops_a_model_is_a_pipeline_error(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(_spec_the_generator_drops_a_model_of()), encoding="utf-8")
    with pytest.raises(regenerate.PipelineError) as failed:
        regenerate.run_generator(spec, ROOT / regenerate.GENERATOR_CONFIG, tmp_path)
    message = str(failed.value)
    assert message.startswith("openapi-python-client could not generate all of spec/openapi.yaml")
    assert "warning: Unable to process schema /components/schemas/X" in message
    assert "removal of: /components/schemas/X" in message
