"""FedaPay's doc pages in spec/source/: every page is consumed (its OpenAPI fences merged) or refused.

FedaPay publishes one page per operation; a page that carries its OpenAPI YAML in a ```yaml fence (as
the create page does) is extracted and merged with the others into one upstream document. A page
without a fence (the start page, rendered text only) is legitimate only when an overlay names it in
`info.x-source-pages`: that overlay is where its content went. Anything else is an error, so a page
dropped into spec/source/ can never be ignored silently.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SOURCE = Path("spec/source")
EXTRACTED = Path("spec/extracted")
PAGE_SUFFIX = ".page.txt"
# The overlay info field that says "this step is the content of these fence-less pages".
SOURCE_PAGES_KEY = "x-source-pages"

# A fence of three or more backticks with any info string (the seed uses ````yaml post /payouts).
FENCE = re.compile(r"^(?P<fence>`{3,})[ \t]*yaml\b[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
# Several fences of one page are kept in one extracted file, as YAML documents.
DOCUMENT_SEPARATOR = "---\n"


class PageError(Exception):
    """A page cannot be used; the message names the page and what to do."""


@dataclass(frozen=True)
class Page:
    """One file of spec/source/ and the YAML fences found in it."""

    path: Path  # relative to the project root
    fences: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def extracted_path(self) -> Path:
        stem = self.name.removesuffix(PAGE_SUFFIX) if self.name.endswith(PAGE_SUFFIX) else Path(self.name).stem
        return EXTRACTED / f"{stem}.yaml"

    def extracted_text(self) -> str:
        header = f"# Extracted by scripts/regenerate.py from {self.path.as_posix()}. Do not edit.\n"
        return header + DOCUMENT_SEPARATOR.join(self.fences)


def read_pages(root: Path) -> list[Page]:
    """Every regular, non-hidden file of spec/source/, in name order, with its fences."""
    folder = root / SOURCE
    pages = []
    for path in sorted(folder.iterdir() if folder.is_dir() else []):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise PageError(f"{SOURCE.as_posix()}/{path.name}: not UTF-8 text; save the page as UTF-8") from None
        fences = tuple(match.group("body") for match in FENCE.finditer(text))
        pages.append(Page(path.relative_to(root), fences))
    extracted: dict[Path, str] = {}
    for page in pages:
        if page.fences and page.extracted_path in extracted:
            raise PageError(
                f"{SOURCE.as_posix()}/{extracted[page.extracted_path]} and {page.path.as_posix()} would both be "
                f"extracted to {page.extracted_path.as_posix()}: rename one"
            )
        extracted[page.extracted_path] = page.name
    return pages


def referenced_pages(overlays: list[tuple[Path, dict[str, Any]]]) -> dict[str, list[str]]:
    """Page name -> the overlays that say they carry its content (`info.x-source-pages`)."""
    refs: dict[str, list[str]] = {}
    for path, overlay in overlays:
        info = overlay.get("info") if isinstance(overlay, dict) else None
        names = info.get(SOURCE_PAGES_KEY, []) if isinstance(info, dict) else []
        for name in names if isinstance(names, list) else [names]:
            refs.setdefault(str(name), []).append(path.name)
    return refs


def check_consumed(pages: list[Page], overlays: list[tuple[Path, dict[str, Any]]]) -> None:
    """Refuse a page with no fence that no overlay uses, and an overlay naming a page that is gone."""
    refs = referenced_pages(overlays)
    names = {page.name for page in pages}
    problems = [
        f"{page.path.as_posix()}: no ```yaml fence and no overlay names it in info.{SOURCE_PAGES_KEY}: "
        "its content would be ignored. Write an overlay that carries it (and list the page there), "
        "or remove the page."
        for page in pages
        if not page.fences and page.name not in refs
    ]
    problems += [
        f"spec/overlays/{overlay}: info.{SOURCE_PAGES_KEY} names {name}, which is not in {SOURCE.as_posix()}/"
        for name, users in sorted(refs.items())
        if name not in names
        for overlay in users
    ]
    if not any(page.fences for page in pages):
        problems.append(f"{SOURCE.as_posix()}/: no page carries a ```yaml fence: nothing to build from")
    if problems:
        raise PageError("\n".join(problems))


def parse_fences(source: str, fences: tuple[str, ...]) -> list[dict[str, Any]]:
    documents = []
    for number, body in enumerate(fences, start=1):
        try:
            document = yaml.safe_load(body)
        except yaml.YAMLError as error:
            raise PageError(f"{source}: fence {number} is not valid YAML: {error}") from None
        if not isinstance(document, dict) or "openapi" not in document:
            raise PageError(f"{source}: fence {number} is not an OpenAPI document (no `openapi` key)")
        documents.append(document)
    return documents


def parse_extracted(text: str, source: str) -> list[dict[str, Any]]:
    """The documents of one extracted file (its header is a YAML comment)."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as error:
        raise PageError(f"{source}: not valid YAML: {error}") from None
    return [d for d in documents if isinstance(d, dict)]


def merge(documents: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One OpenAPI document from several. Operations and components are merged by name; the same
    name defined differently by two pages, or differing top-level fields, are conflicts (all listed)."""
    if not documents:
        raise PageError("no OpenAPI document to merge")
    first_source, first = documents[0]
    merged = copy.deepcopy(first)
    origin: dict[tuple[str, ...], str] = {}
    _remember(merged, first_source, origin)
    conflicts: list[str] = []
    for source, document in documents[1:]:
        for key, value in document.items():
            if key == "paths":
                _merge_section(merged.setdefault("paths", {}), value or {}, ("paths",), source, origin, conflicts)
            elif key == "components":
                components = merged.setdefault("components", {})
                for section, entries in (value or {}).items():
                    _merge_section(
                        components.setdefault(section, {}),
                        entries or {},
                        ("components", section),
                        source,
                        origin,
                        conflicts,
                    )
            elif key == "tags":
                known = {tag.get("name") for tag in merged.get("tags", [])}
                merged.setdefault("tags", []).extend(
                    copy.deepcopy(tag) for tag in value or [] if tag.get("name") not in known
                )
            elif key not in merged:
                merged[key] = copy.deepcopy(value)
                origin[(key,)] = source
            elif merged[key] != value:
                conflicts.append(f"`{key}` differs between {origin.get((key,), first_source)} and {source}")
    if conflicts:
        raise PageError(
            "the pages' OpenAPI fences conflict; decide which is right (an overlay can correct the other):\n"
            + "\n".join(f"  {line}" for line in conflicts)
        )
    return merged


def _remember(document: dict[str, Any], source: str, origin: dict[tuple[str, ...], str]) -> None:
    for key in document:
        origin[(key,)] = source
    for path, item in (document.get("paths") or {}).items():
        for field in item or {}:
            origin[("paths", path, field)] = source
    for section, entries in (document.get("components") or {}).items():
        for name in entries or {}:
            origin[("components", section, name)] = source


def _merge_section(
    into: dict[str, Any],
    entries: dict[str, Any],
    prefix: tuple[str, ...],
    source: str,
    origin: dict[tuple[str, ...], str],
    conflicts: list[str],
) -> None:
    """Merge paths (per path item field: each method, shared parameters) or one components section."""
    for name, value in entries.items():
        if prefix == ("paths",):
            item = into.setdefault(name, {})
            for field, operation in (value or {}).items():
                at = (*prefix, name, field)
                if field not in item:
                    item[field] = copy.deepcopy(operation)
                    origin[at] = source
                elif item[field] != operation:
                    where = f"{field.upper()} {name}" if field != "parameters" else f"{name} parameters"
                    conflicts.append(f"{where}: defined differently in {origin.get(at, '?')} and {source}")
            continue
        key = (*prefix, name)
        if name not in into:
            into[name] = copy.deepcopy(value)
            origin[key] = source
        elif into[name] != value:
            conflicts.append(f"{'.'.join(key)}: defined differently in {origin.get(key, '?')} and {source}")
