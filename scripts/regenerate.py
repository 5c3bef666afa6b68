"""Regenerate the normalized spec and the generated client: extract -> normalize -> validate -> generate -> format.

    python scripts/regenerate.py            # rewrite spec/extracted, spec/openapi.yaml and generated/
    python scripts/regenerate.py --check    # build into a temporary folder; fail, printing the diff, on drift

Everything is built in a temporary folder first; the tree is written only after every stage passed,
so a failed run leaves `git status` as it was. Every stage is deterministic, so two runs in a row are
byte-identical and `--check` is a drift gate.
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from api_surface import compare as compare_surface
from api_surface import load_surfaces, model_roles
from change_report import Report
from changelog import CHANGELOG, record, unacknowledged
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from jsonpath_ng.ext.parser import parse as parse_jsonpath
from jsonschema import Draft202012Validator
from oas_patch.overlay import apply_overlay
from oas_patch.validator import load_schema
from printable import printable, printable_lines
from spec_changes import Change, mark_overlays, mark_overridden, overlay_actions, uncompared
from spec_changes import compare as compare_specs
from spec_keywords import Replay, for_generator, misplaced, null_in_enums, page_documents
from spec_pages import EXTRACTED as EXTRACTED_DIR
from spec_pages import (
    Page,
    PageError,
    check_consumed,
    dump_yaml,
    local_refs,
    merge,
    parse_extracted,
    parse_fences,
    read_pages,
    yaml_fences,
)
from spec_pages import load_yaml as read_yaml
from spec_validity import json_path, non_finite, origin, problems

ROOT = Path(__file__).resolve().parent.parent
PAGE = Path("spec/source/create-payout.page.txt")
EXTRACTED = EXTRACTED_DIR / "create-payout.yaml"
OVERLAYS = Path("spec/overlays")
NORMALIZED = Path("spec/openapi.yaml")
# The mock server ships the normalized spec inside its package, so an installed wheel can find it.
MOCK_SPEC = Path("mock/fedapay_mock/openapi.yaml")
GENERATOR_CONFIG = Path("spec/generator.yaml")
# Our own templates (the operation descriptions and keyword TypedDicts the client builds requests from);
# each replaces the generator's template of the same name, whose hash at the time is in TEMPLATE_PINS.
TEMPLATES = Path("spec/templates")
TEMPLATE_PINS = TEMPLATES / "upstream.sha256"
# The normalized spec, shipped inside the generated package: the client validates requests against it.
PACKAGED_SPEC = "openapi.json"
GENERATED = Path("generated")
PACKAGE = "fedapay_payouts_api"
# The hand-written package: its public surface re-exports generated models, so it changes too.
HAND_WRITTEN = Path("overrides")
HAND_WRITTEN_PACKAGE = "fedapay_payouts"
REPORT = Path("build/regenerate-report.json")
STAMP_TAIL = "by scripts/regenerate.py; do not edit"
# PEP 561's marker, so a user's type checker reads the generated models' types instead of `Any`. It has a
# line of text: the drift check reads an empty file and a missing one alike.
TYPED_MARKER = "py.typed"
TYPED_MARKER_TEXT = f"# PEP 561: {PACKAGE} ships inline types ({STAMP_TAIL}).\n"


class PipelineError(Exception):
    """A stage failed; the message names the file and the problem."""


@dataclass(frozen=True)
class ActionFailure:
    """One overlay action that no longer applies to the upstream YAML."""

    overlay: str
    number: int
    target: str
    problem: str
    description: str | None = None

    def __str__(self) -> str:
        return f"{self.overlay}: action {self.number}: {self.problem}"


class InvalidOpenAPI(PipelineError):
    """spec/openapi.yaml is not valid OpenAPI: each failing keyword at its place, with where it came from
    when that is known (a page, an overlay action). Printed with the upstream changes, as a failed overlay."""


class MisplacedKeywords(PipelineError):
    """A keyword its schema's type ignores (a `maximum` on a string): the rule it states would bind nothing."""


class SamePaths(PipelineError):
    """Two paths that are one once their parameters' names are ignored (`/payouts/{id}`, `/payouts/{payout_id}`)."""


class OpenSetClosed(PipelineError):
    """A reply field an overlay declares open (`info.x-open-sets`) is closed by the spec (an `enum`)."""


class OverlayActionsFailed(PipelineError):
    """Overlay actions whose target (or copy source) matches nothing: each one, not only the first."""

    def __init__(self, failures: list[ActionFailure]) -> None:
        super().__init__("\n".join(str(failure) for failure in failures))
        self.failures = failures


def extract(page_text: str, page_name: str) -> str:
    """Return the OpenAPI YAML inside the first ```yaml fence of a FedaPay doc page."""
    try:
        fences = yaml_fences(page_text, page_name)
    except PageError as error:
        raise PipelineError(str(error)) from None
    if not fences:
        raise PipelineError(f"{page_name}: no ```yaml fence found")
    return fences[0]


def _overlay_validators() -> dict[str, Draft202012Validator]:
    return {
        version: Draft202012Validator(load_schema(f"overlay_schema_{version}.yml")) for version in ("1.0.0", "1.1.0")
    }


def _reject_split_flow_maps(node: Any, path: Path) -> None:
    """`{description: a, b}` in YAML silently makes a key `b` with a null value; refuse it."""
    if isinstance(node, dict):
        for key, value in node.items():
            if value is None and isinstance(key, str) and " " in key:
                raise PipelineError(
                    f"{path}: key {key!r} has no value: a YAML flow map split at a comma? Quote the string."
                )
            _reject_split_flow_maps(value, path)
    elif isinstance(node, list):
        for item in node:
            _reject_split_flow_maps(item, path)


def load_yaml(text: str, source: str = "YAML") -> Any:
    """spec_pages' one YAML reader (YAML 1.2 core scalars; no anchors, tags or duplicate keys), its
    refusals as PipelineError."""
    try:
        return read_yaml(text, source)
    except PageError as error:
        raise PipelineError(str(error)) from None


# An overlay is `NN-what.yaml`: applied in the order of NN as a number (`2-x` before `14-y`). Its name is in
# spec/openapi.yaml's header and the report: letters, digits, `.`, `_` and `-` only (no line break, no ESC).
OVERLAY_NAME = re.compile(r"(?P<number>[0-9]+)-[A-Za-z0-9._-]+\.yaml")


def overlay_files(folder: Path) -> list[Path]:
    """The overlays of `folder` in the order they apply: by their number prefix, as a number. Any other
    entry (`*.yml`, a name without `NN-`, a folder, an editor's backup) is refused, named: a file there
    that the pipeline skipped would be a correction silently not applied. Two overlays with one number
    are refused too (their order would be a guess)."""
    if not folder.is_dir():
        return []
    problems = []
    numbered: dict[int, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        match = OVERLAY_NAME.fullmatch(path.name)
        if match is None or not path.is_file():
            problems.append(
                f"{_display(path)}: not an overlay: every entry of {OVERLAYS.as_posix()}/ must be a file named "
                "NN-what.yaml (NN a number: the order it applies in), its name only (letters, digits, '.', '_', '-'); "
                "rename or remove it"
            )
            continue
        numbered.setdefault(int(match.group("number")), []).append(path)
    problems += [
        f"{', '.join(_display(path) for path in paths)}: the same number {number}: their order would be a guess; "
        "renumber one"
        for number, paths in sorted(numbered.items())
        if len(paths) > 1
    ]
    if problems:
        raise PipelineError("\n".join(problems))
    return [paths[0] for _, paths in sorted(numbered.items())]


def load_overlays(overlay_paths: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """Read and validate every overlay (schema, YAML pitfalls) before any is applied."""
    validators = _overlay_validators()
    loaded = []
    for path in overlay_paths:
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise PipelineError(f"{_display(path)}: not UTF-8 text; save the overlay as UTF-8") from None
        overlay = load_yaml(source, _display(path))
        if not isinstance(overlay, dict):
            raise PipelineError(f"{path}: not an overlay document")
        validator = validators.get(str(overlay.get("overlay")))
        if validator is None:
            raise PipelineError(f"{path}: unsupported overlay version {overlay.get('overlay')!r}")
        _reject_split_flow_maps(overlay, path)
        problems = sorted(validator.iter_errors(overlay), key=str)
        if problems:
            raise PipelineError(f"{path}: not a valid overlay: {problems[0].message}")
        loaded.append((path, overlay))
    return loaded


def _display(path: Path) -> str:
    return printable((OVERLAYS / path.name).as_posix() if path.parent.name == OVERLAYS.name else str(path))


def normalize(document: dict[str, Any], overlay_paths: list[Path]) -> dict[str, Any]:
    """Apply each overlay in order. An action whose target matches nothing is an error, not a no-op:
    it means the upstream YAML changed under the step, which a person must look at. Every such action
    is reported (the others still run, so one vanished target does not hide the next)."""
    return apply_overlays(document, load_overlays(overlay_paths))


@functools.cache
def jsonpath(expression: str) -> Any:
    """A parsed JSONPath, once per expression (jsonpath_ng's parser takes about 1 ms each time)."""
    return parse_jsonpath(expression)


def apply_action(document: dict[str, Any], action: dict[str, Any]) -> None:
    """One overlay action on `document`. `remove` and `copy` as oas_patch does them; an `update` of objects merges
    them key by key. A list in the update REPLACES the target's list (a value list: `enum`, `required`, `type`, an
    operation's `tags`, `oneOf` branches, `servers`, `security`): oas_patch's merge joined the two, so a page's
    `enum: [EUR]` under step 04's `enum: [XOF, GNF]` became [EUR, XOF, GNF] (EUR accepted by the client and the
    mock), and a page's `required` doubled step 03's into an invalid spec. The overlay is the correction: its value
    wins, whole. Except a `parameters` list, whose entries are objects keyed by (`in`, `name`): the overlay's entry
    replaces the page's entry with its key and the page's others stay (step 07 adds Idempotency-Key to POST
    /payouts; replacing the list dropped a required header a page added, exit 0). An update whose target is itself
    a list appends to it (the Overlay specification's rule, which steps 12 and 13 use to add parameters), by key
    for a `parameters` list."""
    update = action.get("update")
    if "remove" not in action and "copy" not in action and isinstance(update, dict | list):
        matches = jsonpath(action["target"]).find(document)
        targets = [match.value for match in matches]
        if targets and isinstance(update, dict) and all(isinstance(target, dict) for target in targets):
            for target in targets:
                _merge_update(target, update, document)
            return
        if targets and isinstance(update, list) and all(
            isinstance(match.value, list) and _field_name(match) == "parameters" for match in matches
        ):
            for target in targets:
                target[:] = merge_parameters(target, update, document)
            return
    apply_overlay(document, {"actions": [action]})


def _field_name(match: Any) -> str | None:
    """The object key a JSONPath match sits under (`parameters` for `$.paths['/p'].get.parameters`), if any."""
    fields = getattr(match.path, "fields", None)
    return str(fields[0]) if isinstance(fields, tuple | list) and len(fields) == 1 else None


def _merge_update(target: dict[str, Any], update: dict[str, Any], document: dict[str, Any]) -> None:
    """`update` merged into `target`: objects key by key, a `parameters` list by parameter (`merge_parameters`),
    anything else (a list, a scalar) replaced by a copy of the update's value, so no two documents (or the overlay
    itself) ever share it."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_update(target[key], value, document)
        elif key == "parameters" and isinstance(value, list) and isinstance(target.get(key), list):
            target[key] = merge_parameters(target[key], value, document)
        else:
            target[key] = copy.deepcopy(value)


def merge_parameters(ours: list[Any], theirs: list[Any], document: dict[str, Any]) -> list[Any]:
    """A page's parameter list (`ours`) with an overlay's (`theirs`) merged into it: an overlay entry replaces, in
    place, the page's entry of the same parameter, (`in`, `name`) with a header's name in any case and a local
    `$ref` read where it points when it is there yet; every other entry is kept, the overlay's new ones last."""
    merged = list(ours)
    for entry in theirs:
        key = parameter_key(entry, document)
        same = [index for index, mine in enumerate(merged) if parameter_key(mine, document) == key]
        if same:
            merged[same[0]] = copy.deepcopy(entry)
            merged = [mine for index, mine in enumerate(merged) if index not in same[1:]]
        else:
            merged.append(copy.deepcopy(entry))
    return merged


def parameter_key(entry: Any, document: dict[str, Any]) -> tuple[str, str]:
    """What names a parameter in an operation: (`in`, `name`), the name of a header in lower case (HTTP header
    names have no case). A `$ref` is followed in `document`; one not there yet is named by itself."""
    seen: set[str] = set()
    while isinstance(entry, dict) and isinstance(entry.get("$ref"), str) and entry["$ref"] not in seen:
        ref = entry["$ref"]
        seen.add(ref)
        found: Any = document if ref.startswith("#/") else None
        for part in ref[2:].split("/"):
            found = found.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(found, dict) else None
        if not isinstance(found, dict):
            return ("$ref", ref)
        entry = found
    if not isinstance(entry, dict):
        return ("value", json.dumps(entry, sort_keys=True, default=str))
    place, name = str(entry.get("in")), str(entry.get("name"))
    return (place, name.lower() if place == "header" else name)


def apply_overlays(document: dict[str, Any], overlays: list[tuple[Path, dict[str, Any]]]) -> dict[str, Any]:
    failures: list[ActionFailure] = []
    for path, overlay in overlays:
        for number, action in enumerate(overlay["actions"], start=1):
            problem = None
            if not jsonpath(action["target"]).find(document):
                problem = f"target {action['target']} matches nothing"
            elif "copy" in action and not jsonpath(action["copy"]).find(document):
                problem = f"copy source {action['copy']} matches nothing"
            if problem is not None:
                failures.append(
                    ActionFailure(_display(path), number, action["target"], problem, action.get("description"))
                )
                continue
            apply_action(document, action)
    if failures:
        raise OverlayActionsFailed(failures)
    # `nullable: true` (step 03) beside a page's `enum`: null joins the enum, or OpenAPI (and the generator) reads
    # the enum as refusing null and every reply with that field null fails to parse.
    null_in_enums(document)
    return document


# An overlay's `info` field listing the reply fields whose values are an open set (JSONPaths into the spec): a
# value FedaPay adds later must reach callers as a string, never fail parsing. An `enum` there (a page that lists
# today's statuses) would make the generated parser refuse the next one: every create raises.
OPEN_SETS_KEY = "x-open-sets"


def check_open_sets(document: dict[str, Any], overlays: list[tuple[Path, dict[str, Any]]]) -> None:
    """Refuse a spec that closes a field an overlay declares open, wherever the spec defines that field for its
    schema (its `properties`, and every `allOf`/`anyOf`/`oneOf` branch and `$ref` of the schema: a page moving
    `status` with an `enum` into an `allOf` branch closed the generated parser while step 03's own description stub
    stayed open); a declaration that no longer points at a field; and one that points only at a field with no type
    (step 03's stub, left when a page renames or moves the field). Either way a person decides (keep it open with a
    `remove` action, point the declaration at the field's new place, or accept the closed set)."""
    problems = []
    for path, overlay in overlays:
        info = overlay.get("info")
        declared = info.get(OPEN_SETS_KEY, []) if isinstance(info, dict) else []
        if not isinstance(declared, list) or not all(isinstance(target, str) for target in declared):
            problems.append(f"{_display(path)}: info.{OPEN_SETS_KEY} must be a list of JSONPaths")
            continue
        for target in declared:
            try:
                matches = jsonpath(target).find(document)
            except Exception as error:  # noqa: BLE001 - jsonpath_ng's parse errors have no common base
                problems.append(f"{_display(path)}: info.{OPEN_SETS_KEY}: {target!r} is not a JSONPath: {error}")
                continue
            if not matches:
                problems.append(
                    f"{_display(path)}: info.{OPEN_SETS_KEY}: {target} matches nothing in the spec: point it at "
                    "the field's new place, or remove it"
                )
            for match in matches:
                problems += _open_set_problems(document, _display(path), target, match)
    if problems:
        raise OpenSetClosed("\n".join(problems))


def _open_set_problems(document: dict[str, Any], overlay: str, target: str, match: Any) -> list[str]:
    """What is wrong with one declared open field: each of its definitions that closes it, or its having no type."""
    definitions = _definitions(document, target, match)
    problems = []
    for place, schema in definitions:
        closed = _closing(document, schema)
        if closed is None:
            continue
        keep = (
            f"add to this overlay an action with `target: {place}.enum` and `remove: true`"
            if isinstance(schema, dict) and "enum" in schema
            else "add to this overlay actions that make the field a plain `type: string` again (what closes "
            "it comes through a $ref or a branch: remove that)"
        )
        where = "" if place == target else f" at {place}"
        problems.append(
            f"{overlay}: {target} is an open set (info.{OPEN_SETS_KEY}: a value FedaPay adds must "
            f"reach callers, not fail parsing) but the spec closes it{where} with {closed}. Keep it open: {keep}; "
            f"or, if FedaPay really fixed the set, take it out of info.{OPEN_SETS_KEY}"
        )
    if not problems and not any(_typed(schema) for _, schema in definitions):
        problems.append(
            f"{overlay}: info.{OPEN_SETS_KEY}: {target} has no type in the spec (only a description, such as an "
            "overlay's own note on it: the pages no longer define the field there, renamed or moved?): point the "
            "declaration and the overlay's actions on the field at its new place, or remove them if FedaPay "
            "dropped it"
        )
    return problems


_BRANCHES = ("allOf", "anyOf", "oneOf")


def _definitions(document: dict[str, Any], target: str, match: Any) -> list[tuple[str, Any]]:
    """Every schema the spec gives the declared field: the match itself and, when it is `<schema>.properties.<name>`,
    the same property in each `allOf`/`anyOf`/`oneOf` branch and `$ref` of that schema (depth first), each with its
    JSONPath."""
    found: list[tuple[str, Any]] = [(target, match.value)]
    name = _field_name(match)
    holder = getattr(match, "context", None)
    suffix = f".properties.{name}"
    if name is None or holder is None or _field_name(holder) != "properties" or not target.endswith(suffix):
        return found
    owner = getattr(holder, "context", None)
    if owner is None:
        return found
    seen: set[int] = {id(owner.value)}

    def walk(schema: Any, place: str, depth: int) -> None:
        if not isinstance(schema, dict) or depth > 20:
            return
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            parts = [part.replace("~1", "/").replace("~0", "~") for part in ref[2:].split("/")]
            resolved: Any = document
            for part in parts:
                resolved = resolved.get(part) if isinstance(resolved, dict) else None
            if isinstance(resolved, dict) and id(resolved) not in seen:
                seen.add(id(resolved))
                visit(resolved, "$" + "".join(_step(part) for part in parts), depth + 1)
        for key in _BRANCHES:
            branches = schema.get(key)
            for index, branch in enumerate(branches if isinstance(branches, list) else []):
                visit(branch, f"{place}.{key}[{index}]", depth + 1)

    def visit(schema: Any, place: str, depth: int) -> None:
        if not isinstance(schema, dict):
            return
        properties = schema.get("properties")
        if isinstance(properties, dict) and name in properties:
            found.append((f"{place}{suffix}", properties[name]))
        walk(schema, place, depth)

    walk(owner.value, target[: -len(suffix)], 0)
    return found


def _step(key: str) -> str:
    """One key of a JSONPath: `.name`, or `['a key']` for any other."""
    return f".{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f"[{json.dumps(key)}]"


def _typed(schema: Any) -> bool:
    """Whether a schema says what a value is: a `type`, a `$ref`, branches, or a closed set."""
    return isinstance(schema, dict) and any(key in schema for key in ("type", "$ref", "enum", "const", *_BRANCHES))


def _closing(document: dict[str, Any], schema: Any, depth: int = 0) -> str | None:
    """What makes `schema` a closed set of values (`enum [...]`, `const ...`), following local `$ref`s and
    `allOf` (any branch closes it) and `oneOf`/`anyOf` (every branch must); None when it stays open."""
    if not isinstance(schema, dict) or depth > 20:
        return None
    if "enum" in schema:
        return f"enum {schema['enum']!r}"
    if "const" in schema:
        return f"const {schema['const']!r}"
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = document
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
        closed = _closing(document, target, depth + 1)
        if closed is not None:
            return f"{closed} (through {ref})"
    for branch in schema.get("allOf") or []:
        closed = _closing(document, branch, depth + 1)
        if closed is not None:
            return closed
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            closes = [_closing(document, branch, depth + 1) for branch in branches]
            if all(closed is not None for closed in closes):
                return f"{key} of " + ", ".join(str(closed) for closed in closes)
    return None


# The digests of the normalized specs this process found valid: validation takes 0.2-0.4 s and a later
# regenerate in the same process (the test suite's many) mostly validates the same text again.
_VALID: set[str] = set()


def validate(text: str) -> None:
    """Parse with prance (internal references left in place, strict: no integer keys) and validate: prance's
    `openapi-spec-validator` backend runs that library's `validate` on the parsed document (once is enough).
    A `$ref` that is not local is refused first: the validator would fetch the URL or open the file."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    if digest in _VALID:
        return
    _validate(text)
    _VALID.add(digest)


def _validate(text: str) -> None:
    from prance import BaseParser, ValidationError

    document = load_yaml(text, NORMALIZED.as_posix())
    try:
        local_refs(document, NORMALIZED.as_posix())
    except PageError as error:
        raise PipelineError(str(error)) from None
    if next(non_finite(document), None) is not None:
        raise InvalidOpenAPI(f"{NORMALIZED.as_posix()} is not valid OpenAPI: a number JSON cannot hold")
    try:
        BaseParser(spec_string=text, backend="openapi-spec-validator", strict=True)
    except ValidationError as error:
        first = str(error.args[0] if error.args else error).splitlines()[0]
        raise InvalidOpenAPI(f"{NORMALIZED.as_posix()} is not valid OpenAPI: {first[:500]}") from None


def explain_invalid(invalid: InvalidOpenAPI, result: Build) -> InvalidOpenAPI:
    """The validator's verdict made actionable: each failing keyword, its JSON path in spec/openapi.yaml, and the
    page fence that has it on its own or the overlay actions that set it. The verdict as it was when the check
    finds nothing more (a rule outside OpenAPI's JSON Schema, such as two operations with one operationId)."""
    try:
        return _explained(invalid, result)
    except Exception:  # noqa: BLE001 - an explanation that fails must not hide the verdict it explains
        return invalid


def _explained(invalid: InvalidOpenAPI, result: Build) -> InvalidOpenAPI:
    found = problems(result.document)
    if not found:
        return invalid
    fences = [
        (f"{page.path.as_posix()} fence {number}", document)
        for page in result.pages
        for number, document in enumerate(parse_fences(page.path.as_posix(), page.fences), start=1)
    ]
    actions = [
        (f"{_display(path)} action {number}", action,
         [match.value for match in jsonpath(action["target"]).find(result.document)])
        for path, overlay in result.overlays
        for number, action in enumerate(overlay["actions"], start=1)
    ]
    lines = []
    for problem in found:
        source = origin(problem, result.document, fences, actions)
        lines.append(f"  {problem.where}: `{problem.keyword}`: {problem.message}" + (f" ({source})" if source else ""))
    return InvalidOpenAPI(
        f"{NORMALIZED.as_posix()} is not valid OpenAPI ({len(found)} problem(s) shown, each at its JSON path; fix the"
        " page or the overlay named):\n" + "\n".join(lines)
    )


def replay(result: Build) -> Replay:
    """The overlays applied again to the merged pages, action by action, to name who wrote a place of the spec
    (run only when a check below fails: it copies the document once per action)."""
    fences = page_documents([(page.path, parse_fences(page.path.as_posix(), page.fences)) for page in result.pages])
    overlays = [(_display(path), overlay) for path, overlay in result.overlays]
    return Replay.run(result.upstream, overlays, apply_action, fences, jsonpath)


def check_keywords(result: Build) -> None:
    """Refuse a keyword its schema's type ignores, named with who wrote it and who wrote the type: a page retyping
    `amount` integer -> string left steps 04 and 14's `minimum`/`maximum` binding nothing (the cap silently gone;
    valid OpenAPI, so nothing else says so)."""
    found = misplaced(result.document)
    if not found:
        return
    history = replay(result)
    lines = []
    for item in found:
        sources = []
        setters = history.setters(item.place)
        if setters:
            # The action that put it here and, when that was a copy, where the copied value was written first.
            sources.append(f"`{item.keyword}` from {setters[0]}" + (
                f", which has it from {setters[-1]}" if len(setters) > 1 else ""))
        typed = history.setters((*item.place[:-1], "type"))
        if typed:
            sources.append(f"`type: {item.type}` from {typed[-1]}")
        lines.append(f"  {json_path(item.place)}: {printable(item.problem())}" + (
            f" ({'; '.join(sources)})" if sources else ""))
    raise MisplacedKeywords(
        f"{NORMALIZED.as_posix()}: {len(found)} keyword(s) the schema's type ignores, each a rule that would bind "
        "nothing; remove it where it is set, or give the field back the type it is for (an overlay can restate "
        "`type`), or state the rule for the new type:\n" + "\n".join(lines)
    )


# A path's parameters, whatever their names: `/payouts/{id}` and `/payouts/{payout_id}` are one path.
_PARAMETER = re.compile(r"\{[^{}]*\}")


def check_paths(result: Build) -> None:
    """Refuse paths that are one once their parameters' names are ignored: OpenAPI says they MUST NOT both exist (a
    URL matches either), yet the validator lets them through and the generator makes a second client function (a
    page's `GET /payouts/{payout_id}` beside step 07's `/payouts/{id}`). Each is named with the page or the overlay
    action that brought it."""
    same: dict[str, list[str]] = {}
    for path in result.document.get("paths") or {}:
        same.setdefault(_PARAMETER.sub("{}", str(path)), []).append(str(path))
    groups = [sorted(paths) for paths in same.values() if len(paths) > 1]
    if not groups:
        return
    history = replay(result)
    lines = [
        "  " + " and ".join(
            f"{printable(path)} ({', '.join(history.introduced(('paths', path))) or 'source unknown'})"
            for path in paths
        )
        for paths in groups
    ]
    raise SamePaths(
        f"{NORMALIZED.as_posix()}: paths that are one path under other parameter names (OpenAPI: they MUST NOT both "
        "exist; a URL would match either):\n" + "\n".join(lines) + "\n  keep one: name the parameter as the other "
        "path does (an overlay can `copy` the page's operations to that path, then `remove` the page's path)"
    )


def dump(document: dict[str, Any], header: str) -> str:
    return header + dump_yaml(document)


def _bin(name: str) -> str:
    """A tool from the running interpreter's environment, never one that happens to be first on PATH."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def _tool_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def upstream_templates() -> Path:
    """The installed openapi-python-client's own template folder."""
    import openapi_python_client

    return Path(openapi_python_client.__file__).parent / "templates"


def template_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_templates(root: Path) -> None:
    """The template-drift check: each of our templates that replaces one of the generator's was written
    against that template as pinned in spec/templates/upstream.sha256. When a generator upgrade changes
    the template we replace (or our folder gains a template nobody pinned), stop and name it: the
    upstream change may be one our template must follow. Re-pin with `--pin-templates` after review."""
    pins_path = root / TEMPLATE_PINS
    pins: dict[str, str] = {}
    if pins_path.exists():
        for line in pins_path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                digest, name = line.split(maxsplit=1)
                pins[name] = digest
    upstream = upstream_templates()
    problems = []
    for ours in sorted((root / TEMPLATES).glob("*.jinja")):
        theirs = upstream / ours.name
        if not theirs.exists():
            continue  # a helper of ours, not a replacement
        pinned = pins.get(ours.name)
        if pinned is None:
            problems.append(f"{ours.name}: replaces the generator's template but is not pinned")
        elif pinned != template_hash(theirs):
            problems.append(f"{ours.name}: the generator's own {ours.name} changed since ours was written")
    if problems:
        raise PipelineError(
            "template drift (spec/templates/ against openapi-python-client "
            f"{_tool_version('openapi-python-client')}):\n"
            + "\n".join(f"  {problem}" for problem in problems)
            + "\n  review each against the generator's new template, then run"
            " `python scripts/regenerate.py --pin-templates`"
        )


def pin_templates(root: Path) -> None:
    upstream = upstream_templates()
    version = _tool_version("openapi-python-client")
    lines = [f"# openapi-python-client {version}: the templates spec/templates/ replaces"]
    for ours in sorted((root / TEMPLATES).glob("*.jinja")):
        if (upstream / ours.name).exists():
            lines.append(f"{template_hash(upstream / ours.name)}  {ours.name}")
    (root / TEMPLATE_PINS).write_text("\n".join(lines) + "\n", encoding="utf-8")


class _CompiledTemplates(BytecodeCache):  # type: ignore[misc]  # jinja2 is Any here (pyproject: not followed)
    """Compiled templates, kept for the process: openapi-python-client compiles its templates anew for every
    project, a fifth of a regeneration's CPU, which processes that regenerate many times (the spine tests)
    paid on each (0.32 -> 0.23 CPU-s per `--check` of a copy, measured). Keyed by the template's name, not
    its file, so the copies of spec/templates/ the tests make share it; Jinja keeps each code with its source's
    checksum and compiles an edited template again. Nothing is written to disk."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return name

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _CompiledTemplates()


def run_generator(spec_path: Path, config_path: Path, out_dir: Path, templates: Path | None = None) -> None:
    """openapi-python-client into out_dir/<package>, through the Python API its CLI calls (`generate --meta
    none --overwrite`), in this process: a second interpreter importing the generator cost ~0.4 s of CPU
    per run, more than the generation itself (~0.2 s). Every problem it reports is an error here, warnings
    included: a warning is how it says it left a model, a property or an endpoint out of the client."""
    import contextlib
    import io

    from openapi_python_client import _get_project_for_url_or_path
    from openapi_python_client.config import Config, ConfigFile, MetaType
    from openapi_python_client.parser.errors import ErrorLevel, GeneratorError

    try:
        config_file = ConfigFile.load_from_path(path=config_path)
    except Exception as error:  # noqa: BLE001 - any parse failure of the file, named
        raise PipelineError(f"{config_path}: not a valid openapi-python-client config: {error}") from None
    config = Config.from_sources(config_file, MetaType.NONE, spec_path, "utf-8", True, output_path=out_dir / PACKAGE)
    with contextlib.redirect_stdout(io.StringIO()):  # its "Generating ..." line
        project = _get_project_for_url_or_path(config=config, custom_template_path=templates)
        if isinstance(project, GeneratorError):
            errors: Sequence[GeneratorError] = [project]
        else:
            project.env.bytecode_cache = _COMPILED_TEMPLATES
            errors = project.build()
    if errors:
        lines = [
            f"  {'error' if error.level == ErrorLevel.ERROR else 'warning'}: "
            + " ".join(f"{error.header or ''} {error.detail or ''}".split())
            for error in errors
        ]
        raise PipelineError(
            "openapi-python-client could not generate all of spec/openapi.yaml (what it reports is left out of "
            "the client):\n" + "\n".join(lines)
        )


def format_generated(out_dir: Path) -> None:
    """Stamp each generated file and format the package with ruff (isolated), then prune it."""
    package_dir = out_dir / PACKAGE
    version = _tool_version("openapi-python-client")
    stamp = f"# Generated by openapi-python-client {version} from spec/openapi.yaml ({STAMP_TAIL}).\n"
    for path in sorted(package_dir.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".pyi"}:
            path.write_text(stamp + path.read_text(encoding="utf-8"), encoding="utf-8")
    ruff = [_bin("ruff")]
    env = _tool_env()
    for command in (
        ["check", "--isolated", "--no-cache", "--fix", "--select", "I,F401", "-q", str(package_dir)],
        ["format", "--isolated", "--no-cache", "--line-length", "120", "-q", str(package_dir)],
    ):
        done = subprocess.run([*ruff, *command], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PipelineError(f"ruff {command[0]} failed on the generated package: {done.stdout}{done.stderr}")
    prune(package_dir)


# What the client reaches in the generated package: each operation's description and keyword types
# (`api/`, loaded whole by `fedapay_payouts._operations`), the `Operation` type and `Unset`, and the
# package itself; every model one of them imports, and so on. `models/__init__.py` only re-exports.
ROOTS = ("__init__.py", "client.py", "types.py", "api/")
RE_EXPORTS = "models/__init__.py"


def _module_name(rel: PurePosixPath) -> str:
    parts = [PACKAGE, *rel.with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(package_dir: Path, rel: PurePosixPath) -> set[str]:
    """The package's modules `rel` imports (at any level: inside functions too), by dotted name."""
    name = _module_name(rel)
    base = name if rel.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse((package_dir / rel).read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            parts = base.split(".")
            target = ".".join([*parts[: len(parts) - node.level + 1], *([node.module] if node.module else [])])
            if not node.level:
                target = node.module or ""
            found |= {target, *(f"{target}.{alias.name}" for alias in node.names)}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def unreachable(package_dir: Path) -> list[PurePosixPath]:
    """Generated modules nothing the client uses imports (request-body models the keyword TypedDicts
    replace, an error model no operation reads, an empty `errors.py`): they would ship as dead code."""
    files = {PurePosixPath(p.relative_to(package_dir).as_posix()) for p in package_dir.rglob("*.py")}
    by_name = {_module_name(rel): rel for rel in files}
    todo = [rel for rel in files if any(str(rel) == r or str(rel).startswith(r) for r in ROOTS if r.endswith("/"))
            or str(rel) in ROOTS]
    seen = set(todo)
    # `from ..models import Payout` reaches the module `models/__init__.py` takes Payout from, not all of them.
    models = _module_name(PurePosixPath(RE_EXPORTS))
    # Its imports sit in a TYPE_CHECKING block (each model loads on first use: spec/templates/models_init.py.jinja).
    exported = {f"{models}.{alias.asname or alias.name}": f"{models}.{node.module}"
                for node in ast.walk(ast.parse((package_dir / RE_EXPORTS).read_text(encoding="utf-8")))
                if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module for alias in node.names}
    while todo:
        rel = todo.pop()
        if str(rel) == RE_EXPORTS:
            continue
        for imported in imported_modules(package_dir, rel):
            name = exported.get(imported, imported)
            found = by_name.get(name)
            if found is not None and found not in seen:
                seen.add(found)
                todo.append(found)
    return sorted(files - seen - {PurePosixPath(RE_EXPORTS)})


def prune(package_dir: Path) -> None:
    """Delete the unreachable modules and their re-exports (the result stays ruff-formatted)."""
    dead = unreachable(package_dir)
    names: set[str] = set()
    for rel in dead:
        names |= {n.name for n in ast.walk(ast.parse((package_dir / rel).read_text(encoding="utf-8")))
                  if isinstance(n, ast.ClassDef) and n.col_offset == 0}
        (package_dir / rel).unlink()
    exports = package_dir / RE_EXPORTS
    modules = {rel.stem for rel in dead if rel.parent == PurePosixPath("models")}
    kept = [
        line for line in exports.read_text(encoding="utf-8").splitlines(keepends=True)
        if not any(line.lstrip().startswith(f"from .{module} import ") for module in modules)
        and _exported_name(line) not in names
    ]
    exports.write_text("".join(kept), encoding="utf-8")


def _exported_name(line: str) -> str:
    """The model a line of models/__init__.py names: `"Payout",` (`__all__`) or `"Payout": ".payout",` (`_MODULES`)."""
    quoted = re.match(r'\s*"(\w+)"', line)
    return quoted.group(1) if quoted else line.strip().strip('",')


def generate(spec_path: Path, config_path: Path, out_dir: Path) -> None:
    """Run openapi-python-client into out_dir/<package>, stamp each file, format with ruff (isolated)."""
    run_generator(spec_path, config_path, out_dir, ROOT / TEMPLATES)
    format_generated(out_dir)


def _tool_version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


@contextmanager
def _stage(name: str, timings: list[tuple[str, float]]) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings.append((name, time.perf_counter() - start))


@dataclass
class Build:
    """Everything one run produces, held outside the tree until it is written."""

    scratch: Path
    files: dict[Path, str] = field(default_factory=dict)  # relative path -> text
    pages: list[Page] = field(default_factory=list)
    upstream: dict[str, Any] = field(default_factory=dict)  # the merged extracted YAML
    overlays: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)
    document: dict[str, Any] = field(default_factory=dict)  # the normalized spec
    timings: list[tuple[str, float]] = field(default_factory=list)

    @property
    def package(self) -> Path:
        return self.scratch / PACKAGE


class BuildFailed(PipelineError):
    """A stage failed; `build` holds what the stages before it produced (for the upstream diff)."""

    def __init__(self, cause: PipelineError, build: Build) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.build = build


def build(root: Path, scratch: Path) -> Build:
    """Build every output from the sources under `root` into `scratch`; the tree is not touched. Any
    exception of a stage ends as a BuildFailed (a PipelineError naming the stage's problem), never a
    traceback that leaves an old report behind."""
    result = Build(scratch)
    try:
        _build(root, result)
    except PipelineError as error:
        raise BuildFailed(error, result) from None
    except Exception as error:
        stage = result.timings[-1][0] if result.timings else "extract"
        message = f"stage {stage} (after it) failed: {type(error).__name__}: {error}"
        raise BuildFailed(PipelineError(message), result) from error
    return result


def _build(root: Path, result: Build) -> None:
    timings = result.timings
    with _stage("extract", timings):
        overlay_paths = overlay_files(root / OVERLAYS)
        result.overlays = load_overlays(overlay_paths)
        documents = []
        try:
            result.pages = read_pages(root)
            check_consumed(result.pages, result.overlays)
            for page in result.pages:
                if page.fences:
                    result.files[page.extracted_path] = page.extracted_text()
                    documents += [(page.name, doc) for doc in parse_fences(page.path.as_posix(), page.fences)]
            result.upstream = merge(documents)
        except PageError as error:
            raise PipelineError(str(error)) from None
    with _stage("normalize", timings):
        result.document = apply_overlays(copy.deepcopy(result.upstream), result.overlays)
        check_open_sets(result.document, result.overlays)
        names = ", ".join(p.stem for p in overlay_paths)
        sources = ", ".join(sorted(p.extracted_path.as_posix() for p in result.pages if p.fences))
        header = f"# Generated from {sources} and spec/overlays/ ({names}) ({STAMP_TAIL}).\n"
        text = dump(result.document, header)
        for target in (NORMALIZED, MOCK_SPEC):
            result.files[target] = text
        # The generator reads the same document as JSON: its YAML loader (ruamel, pure Python) took ~0.5 s a run.
        spec_path = result.scratch / "openapi.json"
        spec_path.write_text(json.dumps(for_generator(result.document)), encoding="utf-8")
    check_templates(root)
    with _stage("validate", timings):
        try:
            validate(text)
        except InvalidOpenAPI as invalid:
            raise explain_invalid(invalid, result) from None
        check_paths(result)
        check_keywords(result)
    with _stage("generate+format", timings):
        run_generator(spec_path, root / GENERATOR_CONFIG, result.scratch, root / TEMPLATES)
        format_generated(result.scratch)
        packaged = json.dumps(result.document, indent=1, ensure_ascii=False) + "\n"
        (result.package / PACKAGED_SPEC).write_text(packaged, encoding="utf-8")
        (result.package / TYPED_MARKER).write_text(TYPED_MARKER_TEXT, encoding="utf-8")


def write(root: Path, result: Build) -> None:
    """Write a finished build into the tree: files first (each replaced whole), then the package swap."""
    staging = root / GENERATED / f".{PACKAGE}.new"
    retired = root / GENERATED / f".{PACKAGE}.old"
    for leftover in (staging, retired):
        if leftover.exists():
            shutil.rmtree(leftover)
    staging.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(result.package, staging)
    for rel, text in result.files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.new")
        partial.write_bytes(text.encode("utf-8"))  # LF as built, on every platform
        os.replace(partial, target)
    # An extracted file whose page is gone (or lost its fence) goes too.
    for stale in sorted((root / EXTRACTED_DIR).iterdir()):
        if stale.is_file() and stale.relative_to(root) not in result.files:
            stale.unlink()
    package = root / GENERATED / PACKAGE
    if package.exists():
        os.replace(package, retired)
    os.replace(staging, package)
    if retired.exists():
        shutil.rmtree(retired)
    # generated/ holds the package and nothing else: it is on sys.path before overrides/, so a stray module or
    # package there could shadow the client. What the drift gate refuses, a run removes.
    for stray in sorted((root / GENERATED).iterdir()):
        if stray.name in (PACKAGE, "__pycache__"):
            continue
        if stray.is_dir() and not stray.is_symlink():
            shutil.rmtree(stray)
        else:
            stray.unlink()


def _tree_files(base: Path) -> set[Path]:
    return {p.relative_to(base) for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def _tree_entries(base: Path) -> tuple[set[Path], set[Path]]:
    """Everything under `base` but Python's `__pycache__`, relative to it: the files, and what is not a file
    (a symbolic link, to a file or a folder, is never followed; an empty folder): a drift gate sees it all."""
    files: set[Path] = set()
    others: set[Path] = set()
    for folder, folders, names in os.walk(base):
        here = Path(folder)
        folders[:] = [name for name in folders if name != "__pycache__"]
        for name in list(folders):
            if (here / name).is_symlink():
                others.add((here / name).relative_to(base))
                folders.remove(name)
        if not folders and not names and here != base:
            others.add(here.relative_to(base))
        for name in names:
            target = (here / name).relative_to(base)
            (others if (here / name).is_symlink() or not (here / name).is_file() else files).add(target)
    return files, others


def _read(path: Path) -> list[str]:
    return _text_lines(path.read_text(encoding="utf-8")) if path.exists() else []


def _text_lines(text: str) -> list[str]:
    """`text`'s lines, each with its `\\n`: only a newline ends one (`splitlines` also splits at a page's NEL,
    form feed or lone carriage return, which the diff then showed as lines that are not in the file)."""
    pieces = text.split("\n")
    return [piece + "\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])


def _bytes(path: Path) -> bytes | None:
    """A file's exact content (line endings included), None when there is no file."""
    return path.read_bytes() if path.is_file() else None


def _executable(path: Path) -> bool:
    return path.is_file() and bool(path.stat().st_mode & 0o111)


def _difference(name: str, old: bytes | None, new: bytes | None, old_exec: bool, new_exec: bool) -> list[str]:
    """How a committed file differs from the regenerated one, byte for byte: content (a CR at a line end
    shows as `\\r`), a file that should not exist (even empty) or is missing, the executable bit."""
    lines: list[str] = []
    committed, regenerated = f"committed/{name}", f"regenerated/{name}"
    if old is None and new is not None:
        lines.append(f"{committed}: missing\n")
    elif new is None and old is not None:
        lines.append(f"{committed}: exists ({len(old)} bytes) but is not generated: remove it\n")
    elif old != new and old is not None and new is not None:
        if old.replace(b"\r\n", b"\n") == new:
            lines.append(f"{committed}: line endings differ (CRLF): the generated files use LF\n")
        else:
            def text(data: bytes) -> list[str]:
                shown = data.decode("utf-8", "replace").replace("\r", "\\r")
                return shown.splitlines(keepends=True)

            lines += difflib.unified_diff(text(old), text(new), committed, regenerated)
    if old is not None and new is not None and old_exec != new_exec:
        lines.append(f"{committed}: executable bit {'set' if old_exec else 'unset'}, regenerated "
                     f"{'set' if new_exec else 'unset'}\n")
    return lines


def diff(result: Build, root: Path) -> list[str]:
    """Every difference between the committed outputs and freshly built ones, compared as bytes, with
    existence (an empty extra file counts) and the executable bit: what `--check` gates on."""
    lines: list[str] = []
    folder = root / EXTRACTED_DIR
    committed_extracted = {p.relative_to(root) for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()
    for rel in sorted(set(result.files) | committed_extracted):
        new = result.files[rel].encode("utf-8") if rel in result.files else None
        lines += _difference(rel.as_posix(), _bytes(root / rel), new, _executable(root / rel), False)
    # All of generated/, not only the package: a stray `generated/fedapay_payouts/` or `generated/x.py` would be
    # importable ahead of overrides/. Only the package the pipeline writes may be there.
    committed, fresh = root / GENERATED, result.scratch
    have, odd = _tree_entries(committed) if committed.is_dir() else (set(), set())
    built = {PACKAGE / rel for rel in _tree_files(result.package)}
    for rel in sorted(have | built | odd):
        name = (GENERATED / rel).as_posix()
        if rel in odd:
            what = "a symbolic link" if (committed / rel).is_symlink() else "a folder with nothing in it"
            lines.append(f"committed/{name}: exists ({what}) but is not generated: remove it\n")
            continue
        new = _bytes(fresh / rel) if rel in built else None
        lines += _difference(
            name, _bytes(committed / rel), new, _executable(committed / rel), rel in built and _executable(fresh / rel)
        )
    return lines


def upstream_diff(result: Build, root: Path) -> list[str]:
    """The new extracted YAML against the committed one: what changed upstream."""
    lines: list[str] = []
    committed = {p.relative_to(root) for p in (root / EXTRACTED_DIR).glob("*.yaml")}
    fresh = {rel for rel in result.files if rel.parent == EXTRACTED_DIR}
    for rel in sorted(committed | fresh):
        old = _read(root / rel)
        new = _text_lines(result.files[rel]) if rel in result.files else []
        if old != new:
            lines += difflib.unified_diff(old, new, f"committed/{rel.as_posix()}", f"new/{rel.as_posix()}")
    return visible_lines(lines)


def visible_lines(lines: list[str]) -> list[str]:
    """Diff lines safe to print and to keep in the report: each one line, its control characters escaped (a page's
    carriage return or form feed ends a line for `splitlines`, and would rewrite the terminal's)."""
    return [printable(line.removesuffix("\n")) + "\n" for line in lines]


def committed_upstream(root: Path) -> dict[str, Any]:
    """The committed extracted YAML, merged as the pages were; empty when there is none."""
    documents = []
    for path in sorted((root / EXTRACTED_DIR).glob("*.yaml")):
        documents += [(path.name, doc) for doc in parse_extracted(path.read_text(encoding="utf-8"), str(path))]
    try:
        return merge(documents) if documents else {}
    except PageError:
        return {}


def _print_timings(timings: list[tuple[str, float]], started: float) -> None:
    for name, seconds in timings:
        print(f"  {name:<16} {seconds:6.2f} s")
    print(f"  {'total':<16} {time.perf_counter() - started:6.2f} s")


def committed_spec(root: Path) -> dict[str, Any]:
    path = root / NORMALIZED
    loaded = load_yaml(path.read_text(encoding="utf-8"), NORMALIZED.as_posix()) if path.exists() else None
    return loaded if isinstance(loaded, dict) else {}


def check_revision(ref: str) -> None:
    """Refuse what git would read as an option (`--output=...`), before any stage runs."""
    if not ref or ref.startswith("-"):
        raise PipelineError(f"--since {ref!r}: not a git revision")


def baseline(root: Path, ref: str, into: Path) -> Path:
    """The committed spec and generated package as they were at git `ref`, unpacked under `into`."""
    check_revision(ref)
    import io
    import tarfile

    done = subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "archive",
            "--format=tar",
            ref,
            NORMALIZED.as_posix(),
            (GENERATED / PACKAGE).as_posix(),
        ],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise PipelineError(f"--since {ref}: git archive failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(into, filter="data")
    return into


def apply_what_applies(document: dict[str, Any], overlay: dict[str, Any]) -> None:
    """Apply each action of `overlay` whose target (and copy source) is there; skip the others: how the
    overlays read the committed upstream YAML, which they need not fit any more."""
    for action in overlay.get("actions") or []:
        try:
            if jsonpath(action["target"]).find(document) and (
                "copy" not in action or jsonpath(action["copy"]).find(document)
            ):
                # A copy: the overlay's values would otherwise be shared by the two documents it is applied to.
                apply_action(document, copy.deepcopy(action))
        except Exception:  # noqa: BLE001, S112 - an action the old YAML cannot take is one that does not apply
            continue


def upstream_changes(root: Path, build_: Build) -> list[Change]:
    """What changed upstream (the committed extracted YAML against the new one), each change an overlay
    overrides named: such a change never reaches spec/openapi.yaml, so the spec's report alone hides it
    (FedaPay lowers a cap an overlay sets: the spec keeps the overlay's value)."""
    fresh = {rel: text for rel, text in build_.files.items() if rel.parent == EXTRACTED_DIR}
    committed = {p.relative_to(root): p.read_text(encoding="utf-8") for p in (root / EXTRACTED_DIR).glob("*.yaml")}
    if committed == fresh or not build_.upstream:
        return []
    old_upstream = committed_upstream(root)
    changes = compare_specs(old_upstream, build_.upstream)
    mark_overlays(changes, overlay_actions(build_.overlays))
    if changes:
        old, new = copy.deepcopy(old_upstream), copy.deepcopy(build_.upstream)
        steps = []
        for path, overlay in build_.overlays:
            apply_what_applies(old, overlay)
            apply_what_applies(new, overlay)
            steps.append((path.name, compare_specs(old, new)))
        mark_overridden(changes, steps)
    return changes


def describe(result: Build, root: Path, report: Report, base: Path | None = None) -> None:
    """The change report: what changed upstream (each change an overlay overrides named), the spec, committed
    (or at `base`) against new, and the Python surface of both packages (the hand-written one always as it
    is now: what changes is what it re-exports)."""
    base = base or root
    report.upstream = upstream_changes(root, result)
    old_spec = committed_spec(base)
    report.spec = compare_specs(old_spec, result.document)
    mark_overlays(report.spec, overlay_actions(result.overlays))
    report.spec_text = [] if report.spec else uncompared(old_spec, result.document)
    packages = [PACKAGE, HAND_WRITTEN_PACKAGE]
    # The hand-written folder first: each package is read from its own folder, never from a stray copy in
    # generated/ (which the drift gate refuses on its own).
    old = load_surfaces([root / HAND_WRITTEN, base / GENERATED], packages)
    new = load_surfaces([root / HAND_WRITTEN, result.scratch], packages)
    generated = {**old.get(PACKAGE, {}), **new.get(PACKAGE, {})}
    roles = model_roles(generated, PACKAGE)
    report.surface = {name: compare_surface(old.get(name, {}), new.get(name, {}), roles) for name in new}


def _report_failure(error: BuildFailed, root: Path, report: Report) -> None:
    report.status = "failed"
    cause = error.cause
    if isinstance(cause, OverlayActionsFailed):
        report.failures = [printable_lines(str(f)) for f in cause.failures]
        report.message = (
            f"regenerate: FAILED: {len(cause.failures)} overlay action(s) no longer apply; decide what each"
            " correction means now:\n" + "\n".join(f"  {failure}" for failure in report.failures)
        )
    else:
        report.failures = [printable_lines(str(cause))]
        report.message = f"regenerate: FAILED: {report.failures[0]}"
    print(report.message, file=sys.stderr)
    if error.build.upstream:
        try:
            report.upstream = upstream_changes(root, error.build)
        except Exception:  # noqa: BLE001 - the overlays did not load (the failure itself): the changes, unattributed
            report.upstream = compare_specs(committed_upstream(root), error.build.upstream)
            mark_overlays(report.upstream, overlay_actions(error.build.overlays))
    report.upstream_diff = upstream_diff(error.build, root)
    # What the pages changed is what a person must weigh against the overlays: shown when an overlay no longer
    # fits, when the spec they make together is invalid, when a page closes a field an overlay keeps open, retypes
    # a field an overlay bounds, or adds a path an overlay has under another parameter name.
    if isinstance(cause, OverlayActionsFailed | InvalidOpenAPI | OpenSetClosed | MisplacedKeywords | SamePaths):
        print("regenerate: what changed upstream:", file=sys.stderr)
        for line in report.lines() or ["(no upstream change: the overlays make this on their own)"]:
            print(f"  {line}", file=sys.stderr)
        print("regenerate: upstream diff (new extracted YAML against the committed one):", file=sys.stderr)
        sys.stderr.writelines(report.upstream_diff or ["  (no upstream change)\n"])
    print("regenerate: nothing was written.", file=sys.stderr)


def _gate(args: argparse.Namespace, root: Path, result: Build, report: Report) -> bool:
    """Whether the run may go on: every breaking change is acknowledged in CHANGELOG.md, or is being
    acknowledged now (`--accept-breaking`, which adds it to the files written)."""
    path = root / CHANGELOG
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    report.unacknowledged = unacknowledged(text, report.breaking_ids())
    if not report.unacknowledged:
        return True
    if args.accept_breaking and not args.check:
        pending = set(report.unacknowledged)
        entries = [entry for entry in report.breaking_entries() if entry[0] in pending]
        recorded = record(text, entries, args.accept_breaking)
        # Read back as the gate will read it: an id the CHANGELOG cannot hold is refused now, not written unrecorded.
        report.unacknowledged = unacknowledged(recorded, report.breaking_ids())
        if report.unacknowledged:
            print(
                "regenerate: these breaking change ids could not be recorded in CHANGELOG.md (Unreleased) so that"
                " they read back; nothing was written:\n" + "\n".join(f"  {i!r}" for i in report.unacknowledged),
                file=sys.stderr,
            )
            return False
        result.files[CHANGELOG] = recorded
        return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        epilog="Exit status: 0 done or up to date; 1 a stage failed or (--check) outputs are stale; "
        "3 a breaking change is not acknowledged in CHANGELOG.md.",
    )
    parser.add_argument(
        "--check", action="store_true", help="fail, printing the difference, if committed outputs are stale"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="project root (default: this checkout)")
    parser.add_argument(
        "--report", type=Path, default=None, help=f"where to write the JSON report (default: <root>/{REPORT})"
    )
    parser.add_argument(
        "--since",
        metavar="GIT_REF",
        help="report (and gate) changes against the spec and generated package at this git ref, e.g. the "
        "target branch in CI, instead of the committed files",
    )
    parser.add_argument(
        "--accept-breaking",
        metavar="NOTE",
        help="write even though callers break: records each breaking change in CHANGELOG.md under "
        "'Unreleased' with NOTE (say what callers must do)",
    )
    parser.add_argument(
        "--pin-templates",
        action="store_true",
        help="record the generator's templates that spec/templates/ replaces, after reviewing them (template drift)",
    )
    args = parser.parse_args(argv)
    if args.accept_breaking is not None and not args.accept_breaking.strip():
        parser.error("--accept-breaking needs a note saying what callers must do")
    root: Path = args.root.resolve()
    if args.pin_templates:
        pin_templates(root)
        print(f"regenerate: pinned the generator's templates in {TEMPLATE_PINS}")
        return 0
    report_path: Path = args.report or root / REPORT
    # No report of an earlier run survives this one: whatever happens below, the file is this run's or absent.
    report_path.unlink(missing_ok=True)
    try:
        return _regenerate(args, root, report_path)
    except Exception as error:  # noqa: BLE001 - a failure outside the stages (report, diff, write), said in one line
        return _failed(f"{type(error).__name__}: {error}", report_path)


def _failed(problem: str, report_path: Path, report: Report | None = None) -> int:
    """Say a failure in one line and leave it as the report (status `failed`): never no report, never an old one."""
    report = report or Report()
    report.status = "failed"
    report.failures = [printable_lines(str(problem))]
    report.message = f"regenerate: FAILED: {report.failures[0]}"
    print(report.message, file=sys.stderr)
    report.write_json(report_path)
    return 1


def _regenerate(args: argparse.Namespace, root: Path, report_path: Path) -> int:
    if args.since is not None:
        try:
            check_revision(args.since)
        except PipelineError as error:
            return _failed(str(error), report_path)
    report = Report()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="regenerate-") as tmp:
        try:
            result = build(root, Path(tmp))
        except BuildFailed as error:
            report.timings = error.build.timings
            _print_timings(report.timings, started)
            _report_failure(error, root, report)
            report.write_json(report_path)
            return 1
        try:
            with _stage("report", result.timings):
                base = baseline(root, args.since, Path(tmp) / "since") if args.since else None
                describe(result, root, report, base)
        except PipelineError as error:
            report.timings = result.timings
            _print_timings(report.timings, started)
            return _failed(str(error), report_path, report)
        report.timings = result.timings
        changes = diff(result, root)
        allowed = _gate(args, root, result, report) if changes or args.check else True
        if not args.check and changes and allowed:
            with _stage("write", result.timings):
                write(root, result)
    _print_timings(result.timings, started)
    for line in report.lines():
        print(line)
    if args.check and changes:
        sys.stdout.writelines(visible_lines(changes))
    wrote_changelog = CHANGELOG in result.files and not args.check and bool(changes) and allowed
    return _conclude(args, report, report_path, stale=bool(changes), allowed=allowed, wrote_changelog=wrote_changelog)


def _conclude(
    args: argparse.Namespace, report: Report, report_path: Path, *, stale: bool, allowed: bool, wrote_changelog: bool
) -> int:
    messages = []
    code = 0
    if args.check and stale:
        report.status = "stale"
        messages.append(
            "regenerate --check: spec/ or generated/ differ from their sources;"
            " run `python scripts/regenerate.py` and commit the result."
        )
        code = 1
    if not allowed:
        report.status = "refused"
        ids = "\n".join(f"  {change_id}" for change_id in report.unacknowledged)
        what = "regenerate --check" if args.check else "regenerate: REFUSED, nothing written"
        messages.append(
            f"{what}: {len(report.unacknowledged)} breaking change(s) for callers not acknowledged in "
            f"CHANGELOG.md (Unreleased):\n{ids}\n"
            'Acknowledge with `python scripts/regenerate.py --accept-breaking "what callers must do"`.'
        )
        code = 3
    if not messages:
        if args.check or not stale:
            report.status = "up-to-date"
            messages.append(
                "regenerate --check: up to date" if args.check else "regenerate: up to date, nothing written"
            )
        else:
            report.status = "written"
            written = " and CHANGELOG.md" if wrote_changelog else ""
            messages.append(f"regenerate: wrote spec/extracted, spec/openapi.yaml, generated/{written}")
    report.message = printable_lines("\n".join(messages))
    print(report.message)
    report.write_json(report_path)
    return code


if __name__ == "__main__":
    sys.exit(main())
