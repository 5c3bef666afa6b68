"""FedaPay's doc pages in spec/source/: every page is consumed (its OpenAPI fences merged) or refused.

FedaPay publishes one page per operation; a page that carries its OpenAPI YAML in a ```yaml fence (as
the create page does; ```yml, ~~~yaml, any case, indented too) is extracted and merged with the others
into one upstream document. Another fenced block holding OpenAPI is refused, never skipped. A page
without a fence (the start page, rendered text only) is legitimate only when an overlay names it in
`info.x-source-pages`: that overlay is where its content went. Anything else is an error, so a page
dropped into spec/source/ can never be ignored silently.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import yaml
from printable import hidden_characters, printable

SOURCE = Path("spec/source")
EXTRACTED = Path("spec/extracted")
PAGE_SUFFIX = ".page.txt"
# A page's file name: it becomes the extracted file's name and a line of spec/openapi.yaml's header, so nothing
# but letters, digits, `.`, `_` and `-` (a newline in it wrote a key of its own into the YAML).
PAGE_NAME = re.compile(r"[A-Za-z0-9._-]+\.page\.txt")
# The overlay info field that says "this step is the content of these fence-less pages".
SOURCE_PAGES_KEY = "x-source-pages"

# A fenced block as Markdown reads one: three or more backticks or tildes, indented or not, with an info
# string (the seed uses ````yaml post /payouts); it ends at a line of at least as many of the same character.
OPENING = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>(?P<char>[`~])(?P=char){2,})(?P<info>.*)$")
# The info strings that mark OpenAPI YAML to extract, in any case: ```yaml, ```yml, ~~~YAML post /payouts.
YAML_INFO = re.compile(r"^[ \t]*(?:yaml|yml)\b", re.I)
# Several fences of one page are kept in one extracted file, as YAML documents.
DOCUMENT_SEPARATOR = "---\n"


class PageError(Exception):
    """A page cannot be used; the message names the page and what to do."""


# A page (or an overlay, or any YAML the pipeline reads) larger than this is refused before it is parsed:
# FedaPay's pages are a few KB; a megabyte of YAML is a mistake or an attack, not an operation.
MAX_YAML_BYTES = 1_000_000
# Collections nested deeper than this are refused while the events are read, before anything is built: the
# libyaml composer behind `yaml.load_all` recurses in C and crashed regenerate with SIGSEGV past some 10,000
# levels (200 KB of `[`, well within MAX_YAML_BYTES). FedaPay's pages and the spec nest at most 14 deep.
MAX_YAML_DEPTH = 100

# libyaml's parser when PyYAML has it (the same documents, about 10x faster than the pure-Python one);
# the resolvers are Python and ours in both cases.
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# YAML 1.2's core schema, the one OpenAPI 3 documents are written for: `no`, `on`, `2024-01-15` and
# `2024-01-15T10:00:00Z` stay strings (PyYAML's YAML 1.1 made them False, True, date and datetime),
# `1_000` and `0777`-style octals are not numbers, `<<` is an ordinary key.
_CORE_RESOLVERS: list[tuple[str, str, str]] = [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN\0"),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
]


class _CoreLoader(_BASE_LOADER):  # type: ignore[misc]
    """A safe loader with YAML 1.2 core scalars that refuses duplicate keys (the last one silently won)."""

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, re.Pattern[str]]]]] = {}

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        value = str(self.construct_scalar(node))
        if value.startswith("0o"):
            return int(value[2:], 8)
        if value.startswith("0x"):
            return int(value[2:], 16)
        return int(value, 10)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (dict, list)):
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key is not a scalar", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (each key once: YAML would keep only the last)",
                    key_node.start_mark,
                )
            seen.add(key)
        return dict(super().construct_mapping(node, deep=deep))


def _first_characters(first: str) -> list[str]:
    return [("" if character == "\0" else character) for character in first]  # "": the empty scalar


for _tag, _pattern, _first in _CORE_RESOLVERS:
    _CoreLoader.add_implicit_resolver(_tag, re.compile(_pattern), _first_characters(_first))
_CoreLoader.add_constructor("tag:yaml.org,2002:int", _CoreLoader.construct_yaml_int)


class _QuotingDumper(yaml.SafeDumper):
    """PyYAML's dumper quotes a string that YAML 1.1 would read as another type; this one also quotes what
    YAML 1.2 core would (`1e3`, `0o17`), so the file reads the same with either loader."""


for _tag, _pattern, _first in _CORE_RESOLVERS:
    _QuotingDumper.add_implicit_resolver(_tag, re.compile(_pattern), _first_characters(_first))


def _refuse_references(text: str, source: str) -> None:
    """Anchors, aliases, tags and nesting past MAX_YAML_DEPTH, refused before anything is built: an alias is
    how a few KB expand to gigabytes (a "billion laughs"), and no OpenAPI page needs any of them."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_BASE_LOADER):
            mark = event.start_mark
            where = f"{source}: line {mark.line + 1}" if mark is not None else source
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise PageError(f"{where}: YAML nested more than {MAX_YAML_DEPTH} levels deep")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if isinstance(event, yaml.AliasEvent):
                raise PageError(f"{where}: YAML alias *{event.anchor} refused: write the value out (no anchors)")
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise PageError(f"{where}: YAML anchor &{anchor} refused: write the value out (no anchors)")
            tag = getattr(event, "tag", None)
            if tag is not None and isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                raise PageError(f"{where}: YAML tag {tag} refused: write the plain value")
    except yaml.YAMLError as error:
        raise PageError(f"{source}: not valid YAML: {error}") from None


def load_yaml_documents(text: str, source: str) -> list[Any]:
    """Every document of `text`, read as the spec means it: the one YAML reader of the pipeline.

    Refused, each naming `source`: more than MAX_YAML_BYTES, anchors/aliases/tags, duplicate keys, a
    mapping key that is not a scalar; scalars follow YAML 1.2's core schema (dates and `no` stay strings).
    """
    size = len(text.encode("utf-8"))
    if size > MAX_YAML_BYTES:
        raise PageError(f"{source}: {size} bytes of YAML, more than the {MAX_YAML_BYTES} a page may have")
    _refuse_references(text, source)
    try:
        return list(yaml.load_all(text, Loader=_CoreLoader))
    except yaml.YAMLError as error:
        raise PageError(f"{source}: not valid YAML: {error}") from None
    except RecursionError:
        raise PageError(f"{source}: YAML nested too deeply") from None


def load_yaml(text: str, source: str) -> Any:
    """The one document of `text` (None when empty); see `load_yaml_documents`."""
    documents = load_yaml_documents(text, source)
    if len(documents) > 1:
        raise PageError(f"{source}: {len(documents)} YAML documents where one is expected")
    return documents[0] if documents else None


def dump_yaml(document: Any) -> str:
    """YAML that both YAML 1.1 and 1.2 readers read back as `document` (ambiguous strings quoted)."""
    return str(yaml.dump(document, Dumper=_QuotingDumper, sort_keys=False, allow_unicode=True, width=100))


def local_refs(node: Any, source: str, at: str = "") -> None:
    """Refuse every `$ref` that is not local (`#/...`): a URL or a file path would make validation fetch
    URLs and read files outside the repository, and the generator would drop what it cannot resolve."""
    for where, value in _refs(node, at):
        if not isinstance(value, str) or not value.startswith("#/"):
            raise PageError(
                f"{source}: $ref {str(value)[:200]!r} at {where or '/'} is not a local reference (#/...): "
                "copy the referenced definition into the document (under components/) and point at it there"
            )


def _refs(node: Any, at: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{at}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key == "$ref":
                yield here, value
            else:
                yield from _refs(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _refs(item, f"{at}/{index}")


@dataclass(frozen=True)
class Block:
    """One fenced block of a page: where it opens (1-based line), its info string and content."""

    line: int
    opening: str
    info: str
    body: str
    closed: bool

    @property
    def is_yaml(self) -> bool:
        return bool(YAML_INFO.match(self.info))


def fenced_blocks(text: str) -> list[Block]:
    """Every fenced block of `text`, in order; a block's content is not searched for more fences (a ```yaml
    line inside a ````markdown block is content). An indented fence's content loses that indentation, as
    Markdown renders it; a fence never closed runs to the end of the text."""
    lines = text.splitlines(keepends=True)
    blocks = []
    index = 0
    while index < len(lines):
        opening = OPENING.match(lines[index].rstrip("\r\n"))
        if opening is None or (opening.group("char") == "`" and "`" in opening.group("info")):
            index += 1  # not a fence (```code``` inline in a line is not one)
            continue
        char, length, indent = opening.group("char"), len(opening.group("fence")), len(opening.group("indent"))
        closing = re.compile(rf"^[ \t]*{re.escape(char)}{{{length},}}[ \t]*$")
        end = next((i for i in range(index + 1, len(lines)) if closing.match(lines[i].rstrip("\r\n"))), None)
        content = lines[index + 1 : end if end is not None else len(lines)]
        body = "".join(_dedent(line, indent) for line in content)
        blocks.append(Block(index + 1, opening.group("fence"), opening.group("info").strip(), body, end is not None))
        index = end + 1 if end is not None else len(lines)
    return blocks


def _dedent(line: str, indent: int) -> str:
    """`line` without up to `indent` characters of leading whitespace (an indented fence's content)."""
    stripped = len(line) - len(line.lstrip(" \t"))
    return line[min(stripped, indent) :]


def yaml_fences(text: str, source: str) -> tuple[str, ...]:
    """The content of each OpenAPI YAML fence of a page (```yaml, ```yml, ~~~YAML, indented or not).
    Refused, naming `source` and the line: a YAML fence never closed, and any other fenced block (```json,
    ```text, no language) that holds OpenAPI (an `openapi` or `paths` key): it would be dropped unread."""
    fences, problems = [], []
    for block in fenced_blocks(text):
        label = f"{block.opening}{block.info}"
        if block.is_yaml and not block.closed:
            problems.append(f"{source}: line {block.line}: the {label} fence is never closed: close it with "
                            f"{block.opening}")
        elif block.is_yaml:
            fences.append(block.body)
        elif _holds_openapi(block.body):
            problems.append(
                f"{source}: line {block.line}: the fenced block {label!r} holds OpenAPI YAML (an `openapi` or "
                "`paths` key) but is not a ```yaml fence, so it would be ignored: mark it ```yaml or remove it"
            )
    if problems:
        raise PageError("\n".join(problems))
    return tuple(fences)


def _holds_openapi(body: str) -> bool:
    try:
        documents = load_yaml_documents(body, "block")
    except PageError:
        # Not YAML as the pipeline reads it (an anchor, a tab...): still OpenAPI if a top-level key says so.
        return re.search(r"^[\"']?(?:openapi|paths)[\"']?[ \t]*:", body, re.M) is not None
    return any(isinstance(document, dict) and ("openapi" in document or "paths" in document) for document in documents)


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
        if not PAGE_NAME.fullmatch(path.name):
            raise PageError(
                f"{SOURCE.as_posix()}/{printable(path.name)}: not a page name: name it like create-payout.page.txt "
                "(letters, digits, `.`, `_`, `-`, ending .page.txt)"
            )
        if path.stat().st_size > MAX_YAML_BYTES:
            raise PageError(
                f"{SOURCE.as_posix()}/{path.name}: {path.stat().st_size} bytes, more than the {MAX_YAML_BYTES} "
                "a page may have"
            )
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise PageError(f"{SOURCE.as_posix()}/{path.name}: not UTF-8 text; save the page as UTF-8") from None
        pages.append(Page(path.relative_to(root), yaml_fences(text, f"{SOURCE.as_posix()}/{path.name}")))
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
    """Each fence's OpenAPI document; anything the loader refuses, or a `$ref` that is not local, is an error
    naming the page and the fence, before any validation."""
    documents = []
    for number, body in enumerate(fences, start=1):
        document = load_yaml(body, f"{source}: fence {number}")
        if not isinstance(document, dict) or "openapi" not in document:
            raise PageError(f"{source}: fence {number} is not an OpenAPI document (no `openapi` key)")
        local_refs(document, f"{source}: fence {number}")
        refuse_hidden(document, f"{source}: fence {number}")
        documents.append(document)
    return documents


def refuse_hidden(node: Any, source: str, at: str = "") -> None:
    """Refuse a key or a text of a page holding a format character (a bidi override such as U+202E, a zero-width
    space or joiner) or a control character (a newline or a tab only in a value's text): raw, it reached the
    committed spec, the generated docstrings and the mock's copy, showing text in another order than it has, and a
    key holding one was generated without it, so the field never matched the wire. One line: page, fence, place."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{at}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if isinstance(key, str):
                _refuse_text(key, "key", source, here, keep="")
            refuse_hidden(value, source, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            refuse_hidden(item, source, f"{at}/{index}")
    elif isinstance(node, str):
        _refuse_text(node, "value", source, at or "/", keep="\n\t")


def _refuse_text(text: str, what: str, source: str, at: str, keep: str) -> None:
    found = hidden_characters(text, keep)
    if found:
        shown = printable(text if len(text) <= 80 else text[:77] + "...")
        raise PageError(
            f"{source}: {printable(at)}: the {what} `{shown}` holds {', '.join(found)} (a format or control "
            "character: it shows text in another order than it has, or a name that never matches the wire): "
            "remove it from the page"
        )


def parse_extracted(text: str, source: str) -> list[dict[str, Any]]:
    """The documents of one extracted file (its header is a YAML comment)."""
    documents = [d for d in load_yaml_documents(text, source) if d is not None]
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
