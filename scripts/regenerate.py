"""Regenerate the normalized spec and the generated client: extract -> normalize -> validate -> generate -> format.

    python scripts/regenerate.py            # rewrite spec/extracted, spec/openapi.yaml and generated/
    python scripts/regenerate.py --check    # build into a temporary folder; fail, printing the diff, on drift

Every stage is deterministic, so two runs in a row are byte-identical and `--check` is a drift gate.
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from jsonpath_ng.ext.parser import parse as jsonpath
from jsonschema import Draft202012Validator
from oas_patch.overlay import apply_overlay
from oas_patch.validator import load_schema

ROOT = Path(__file__).resolve().parent.parent
PAGE = Path("spec/source/create-payout.page.txt")
EXTRACTED = Path("spec/extracted/create-payout.yaml")
OVERLAYS = Path("spec/overlays")
NORMALIZED = Path("spec/openapi.yaml")
# The mock server ships the normalized spec inside its package, so an installed wheel can find it.
MOCK_SPEC = Path("mock/fedapay_mock/openapi.yaml")
GENERATOR_CONFIG = Path("spec/generator.yaml")
GENERATED = Path("generated")
PACKAGE = "fedapay_payouts_api"
STAMP_TAIL = "by scripts/regenerate.py; do not edit"

# A fence of three or more backticks with any info string (the seed uses ````yaml post /payouts).
FENCE = re.compile(r"^(?P<fence>`{3,})[ \t]*yaml\b[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)


class PipelineError(Exception):
    """A stage failed; the message names the file and the problem."""


def extract(page_text: str, page_name: str) -> str:
    """Return the OpenAPI YAML inside the first ```yaml fence of a FedaPay doc page."""
    match = FENCE.search(page_text)
    if match is None:
        raise PipelineError(f"{page_name}: no ```yaml fence found")
    return match.group("body")


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


def normalize(document: dict[str, Any], overlay_paths: list[Path]) -> dict[str, Any]:
    """Apply each overlay in order. An action whose target matches nothing is an error, not a no-op:
    it means the upstream YAML changed under the step, which a person must look at."""
    validators = _overlay_validators()
    for path in overlay_paths:
        overlay = yaml.safe_load(path.read_text(encoding="utf-8"))
        validator = validators.get(str(overlay.get("overlay")))
        if validator is None:
            raise PipelineError(f"{path}: unsupported overlay version {overlay.get('overlay')!r}")
        _reject_split_flow_maps(overlay, path)
        problems = sorted(validator.iter_errors(overlay), key=str)
        if problems:
            raise PipelineError(f"{path}: not a valid overlay: {problems[0].message}")
        for number, action in enumerate(overlay["actions"], start=1):
            if not jsonpath(action["target"]).find(document):
                raise PipelineError(f"{path}: action {number}: target {action['target']} matches nothing")
            if "copy" in action and not jsonpath(action["copy"]).find(document):
                raise PipelineError(f"{path}: action {number}: copy source {action['copy']} matches nothing")
            apply_overlay(document, {"actions": [action]})
    return document


def validate(text: str) -> None:
    """Parse with prance (internal references left in place) and validate with openapi-spec-validator."""
    from openapi_spec_validator import validate as validate_spec
    from prance import BaseParser, ValidationError

    try:
        parser = BaseParser(spec_string=text, backend="openapi-spec-validator", strict=True)
        validate_spec(parser.specification)
    except ValidationError as error:
        first = str(error.args[0] if error.args else error).splitlines()[0]
        raise PipelineError(f"spec/openapi.yaml is not valid OpenAPI: {first[:500]}") from None


def dump(document: dict[str, Any], header: str) -> str:
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def _bin(name: str) -> str:
    """A tool from the running interpreter's environment, never one that happens to be first on PATH."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def generate(spec_path: Path, config_path: Path, out_dir: Path) -> None:
    """Run openapi-python-client into out_dir/<package>, stamp each file, format with ruff (isolated)."""
    package_dir = out_dir / PACKAGE
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        [
            _bin("openapi-python-client"),
            "generate",
            "--path",
            str(spec_path),
            "--config",
            str(config_path),
            "--meta",
            "none",
            "--output-path",
            str(package_dir),
            "--overwrite",
        ],
        check=True,
        cwd=out_dir,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    version = _tool_version("openapi-python-client")
    for path in sorted(package_dir.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".pyi"}:
            stamp = f"# Generated by openapi-python-client {version} from spec/openapi.yaml ({STAMP_TAIL}).\n"
            path.write_text(stamp + path.read_text(encoding="utf-8"), encoding="utf-8")
    ruff = [_bin("ruff")]
    subprocess.run(
        [*ruff, "check", "--isolated", "--no-cache", "--fix", "--select", "I,F401", "-q", str(package_dir)],
        check=True,
        env=env,
    )
    subprocess.run(
        [*ruff, "format", "--isolated", "--no-cache", "--line-length", "120", "-q", str(package_dir)],
        check=True,
        env=env,
    )


def _tool_version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


@contextmanager
def _stage(name: str, timings: list[tuple[str, float]]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings.append((name, time.perf_counter() - start))


def build(root: Path, out: Path) -> list[tuple[str, float]]:
    """Build every output from the sources under `root` into `out` (which may be `root`)."""
    timings: list[tuple[str, float]] = []
    with _stage("extract", timings):
        page = root / PAGE
        extracted = extract(page.read_text(encoding="utf-8"), str(PAGE))
        (out / EXTRACTED).parent.mkdir(parents=True, exist_ok=True)
        (out / EXTRACTED).write_text(
            f"# Extracted by scripts/regenerate.py from {PAGE.as_posix()}. Do not edit.\n" + extracted,
            encoding="utf-8",
        )
    with _stage("normalize", timings):
        overlays = sorted((root / OVERLAYS).glob("*.yaml"))
        document = normalize(yaml.safe_load(extracted), overlays)
        names = ", ".join(p.stem for p in overlays)
        header = f"# Generated from {EXTRACTED.as_posix()} and spec/overlays/ ({names}) ({STAMP_TAIL}).\n"
        text = dump(document, header)
    with _stage("validate", timings):
        validate(text)
        for target in (NORMALIZED, MOCK_SPEC):
            (out / target).parent.mkdir(parents=True, exist_ok=True)
            (out / target).write_text(text, encoding="utf-8")
    with _stage("generate+format", timings), tempfile.TemporaryDirectory() as scratch:
        generate(out / NORMALIZED, root / GENERATOR_CONFIG, Path(scratch))
        target = out / GENERATED / PACKAGE
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(Path(scratch) / PACKAGE, target)
    return timings


def _tree_files(base: Path) -> set[Path]:
    return {p.relative_to(base) for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def diff(expected_root: Path, actual_root: Path) -> list[str]:
    """Unified diffs between the committed outputs and freshly built ones."""
    lines: list[str] = []
    for sub in (EXTRACTED, NORMALIZED, MOCK_SPEC):
        a, b = actual_root / sub, expected_root / sub
        if not a.exists() or not filecmp.cmp(a, b, shallow=False):
            old = a.read_text(encoding="utf-8").splitlines(keepends=True) if a.exists() else []
            lines += difflib.unified_diff(
                old, b.read_text(encoding="utf-8").splitlines(keepends=True), f"committed/{sub}", f"regenerated/{sub}"
            )
    committed, fresh = actual_root / GENERATED, expected_root / GENERATED
    have = _tree_files(committed) if committed.exists() else set()
    want = _tree_files(fresh)
    for rel in sorted(have | want):
        a, b = committed / rel, fresh / rel
        old = a.read_text(encoding="utf-8").splitlines(keepends=True) if a.exists() else []
        new = b.read_text(encoding="utf-8").splitlines(keepends=True) if b.exists() else []
        if old != new:
            lines += difflib.unified_diff(old, new, f"committed/generated/{rel}", f"regenerated/generated/{rel}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="fail, printing the difference, if committed outputs are stale"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="project root (default: this checkout)")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    started = time.perf_counter()
    try:
        if args.check:
            with tempfile.TemporaryDirectory() as tmp:
                timings = build(root, Path(tmp))
                changes = diff(Path(tmp), root)
        else:
            timings = build(root, root)
            changes = []
    except (PipelineError, subprocess.CalledProcessError) as error:
        print(f"regenerate: FAILED: {error}", file=sys.stderr)
        return 1
    for name, seconds in timings:
        print(f"  {name:<16} {seconds:6.2f} s")
    print(f"  {'total':<16} {time.perf_counter() - started:6.2f} s")
    if changes:
        sys.stdout.writelines(changes)
        print(
            "regenerate --check: spec/ or generated/ differ from their sources;"
            " run `python scripts/regenerate.py` and commit the result."
        )
        return 1
    print(
        "regenerate --check: up to date"
        if args.check
        else "regenerate: wrote spec/extracted, spec/openapi.yaml, generated/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
