"""The public Python surface of the generated and hand-written packages, and what a regenerate changes in it.

griffe reads the packages statically (nothing is imported). `griffe check` alone reports removals
and signature breaks of functions but not an attribute whose type changed (`Payout.customer_id: int`
-> `str`), which is what a spec change mostly does to a generated model; and the hand-written package
re-exports the generated models, so its surface changes without a line of it changing. Here every
public object gets a one-line signature, the two versions are compared line by line, and griffe's own
breakage finder decides only whether a changed function still accepts every old call.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import griffe
from printable import printable

# Members of a model that are plumbing, not surface.
_SKIPPED = {"__getitem__", "__setitem__", "__delitem__", "__contains__"}


@dataclass(frozen=True)
class SurfaceChange:
    """One public object added, removed or changed; `breaking` when old callers can fail."""

    kind: str  # "added" | "removed" | "changed"
    path: str
    old: str | None
    new: str | None
    breaking: bool
    why: str

    def __post_init__(self) -> None:
        # Signatures carry names and values from the pages (a field, an enum value): shown escaped everywhere.
        object.__setattr__(self, "path", printable(self.path))
        for name in ("old", "new"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, printable(value))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "old": self.old,
            "new": self.new,
            "breaking": self.breaking,
            "why": self.why,
        }

    def line(self) -> str:
        flag = "BREAKING" if self.breaking else "ok      "
        if self.kind == "changed":
            return f"{flag} {self.path}: {self.old} -> {self.new}"
        return f"{flag} {self.path} {self.kind}: {self.new if self.kind == 'added' else self.old}"


Surface = dict[str, tuple[str, Any]]  # path -> (signature, griffe object)


def _signature(obj: Any) -> str:
    if obj.is_function:
        params = []
        for p in obj.parameters:
            if p.name in ("self", "cls"):
                continue
            text = p.name if p.annotation is None else f"{p.name}: {p.annotation}"
            if p.default is not None:
                text += f" = {p.default}"
            prefix = {"variadic positional": "*", "variadic keyword": "**"}.get(p.kind.value, "")
            params.append(prefix + text)
        returns = f" -> {obj.returns}" if obj.returns is not None else ""
        return f"def ({', '.join(params)}){returns}"
    if obj.is_class:
        return f"class({', '.join(str(base) for base in obj.bases)})"
    if obj.is_attribute:
        text = str(obj.annotation) if obj.annotation is not None else "attribute"
        return text + (f" = {obj.value}" if obj.value is not None else "")
    return str(obj.kind.value)


def _public(name: str) -> bool:
    return not name.startswith("_") or name == "__init__"


def _walk(obj: Any, path: str, out: Surface, depth: int = 0) -> None:
    out[path] = (_signature(obj), obj)
    if depth > 8 or not (obj.is_module or obj.is_class):
        return
    for name, member in sorted(obj.members.items()):
        if not _public(name) or name in _SKIPPED:
            continue
        if member.is_alias:
            continue  # an import inside the package: recorded where it is defined
        _walk(member, f"{path}.{name}", out, depth + 1)


# Surfaces already read by this process, by the digest of the sources read: a regenerate reads the committed
# packages ("old") and its build ("new"), and a later regenerate in the same process (`--check` after a run,
# the test suite's many) mostly reads the same sources again. griffe takes 0.1-0.3 s a package. The last few
# only: a surface holds griffe's whole tree of the package.
_READ: dict[str, dict[str, Surface]] = {}
_READ_KEPT = 4


def _sources_digest(search_paths: list[Path], packages: list[str]) -> str:
    """What griffe reads for `packages` on `search_paths`: each package's Python files, named relative to its
    search path, with their bytes (where a tree lies does not change its surface)."""
    digest = hashlib.sha256(repr(packages).encode())
    for index, base in enumerate(search_paths):
        for package in packages:
            tree = base / package
            files = sorted(tree.rglob("*.py*")) if tree.is_dir() else []
            files += [module for module in (base / f"{package}.py", base / f"{package}.pyi") if module.is_file()]
            for path in files:
                if path.suffix in (".py", ".pyi") and path.is_file():
                    digest.update(f"\0{index}\0{path.relative_to(base).as_posix()}\0".encode())
                    digest.update(path.read_bytes())
    return digest.hexdigest()


def load_surfaces(search_paths: list[Path], packages: list[str]) -> dict[str, Surface]:
    """Each package's public surface. The first is walked whole (its modules and classes); the others
    are walked through their exports, so re-exported objects count with their full members. Read once per
    process for the same sources (`_READ`)."""
    key = _sources_digest(search_paths, packages)
    surfaces = _READ.pop(key, None) or _load_surfaces(search_paths, packages)
    _READ[key] = surfaces  # the newest last
    while len(_READ) > _READ_KEPT:
        del _READ[next(iter(_READ))]
    return surfaces


def _load_surfaces(search_paths: list[Path], packages: list[str]) -> dict[str, Surface]:
    loader = griffe.GriffeLoader(search_paths=[str(p) for p in search_paths])
    modules = {}
    for package in packages:
        try:
            modules[package] = loader.load(package)
        except ModuleNotFoundError:
            continue
    loader.resolve_aliases(implicit=False, external=None)
    surfaces: dict[str, Surface] = {}
    for index, (package, module) in enumerate(modules.items()):
        surface: Surface = {}
        if index == 0:
            _walk(module, package, surface)
        else:
            names = module.exports if module.exports is not None else [n for n in module.members if _public(n)]
            for name in sorted(str(n) for n in names):
                member: Any = module.members.get(name)
                if member is None:
                    continue
                try:
                    target = member.final_target if member.is_alias else member
                except (griffe.AliasResolutionError, griffe.CyclicAliasError):
                    surface[f"{package}.{name}"] = (f"alias of {member.target_path} (not found)", member)
                    continue
                _walk(target, f"{package}.{name}", surface)
        surfaces[package] = surface
    return surfaces


_NAME = re.compile(r"\b[A-Z]\w*\b")


def model_roles(surface: Surface, package: str) -> tuple[set[str], set[str]]:
    """(classes callers read, classes callers build): the models an API function returns and takes,
    each with the models its attributes hold."""
    read: set[str] = set()
    written: set[str] = set()
    held: dict[str, set[str]] = {}
    for path, (_, obj) in surface.items():
        if obj.is_function and path.startswith(f"{package}.api."):
            read |= set(_NAME.findall(str(obj.returns or "")))
            for param in obj.parameters:
                written |= set(_NAME.findall(str(param.annotation or "")))
        elif obj.is_class and path.startswith(f"{package}.api."):
            written.add(obj.name)  # the keyword TypedDicts of spec/templates: callers build them
        elif obj.is_attribute and obj.parent is not None and obj.parent.is_class:
            held.setdefault(obj.parent.name, set()).update(_NAME.findall(str(obj.annotation or "")))
    for roots in (read, written):
        todo = list(roots)
        while todo:
            for name in held.get(todo.pop(), set()) - roots:
                roots.add(name)
                todo.append(name)
    return read, written


def compare(old: Surface, new: Surface, roles: tuple[set[str], set[str]] | None = None) -> list[SurfaceChange]:
    """Added (never breaking), removed (always), changed (breaking unless every old use still works).
    `roles` (`model_roles`) tells which models are read and which are built, for attribute types that
    only widened (harmless to code that builds the model) or only narrowed (harmless to code reading it)."""
    read, written = roles or (set(), set())
    changes = []
    for path in sorted(old.keys() - new.keys()):
        if _parent_reported(path, old.keys() - new.keys()):
            continue
        changes.append(SurfaceChange("removed", path, old[path][0], None, True, "old code using it fails"))
    for path in sorted(new.keys() - old.keys()):
        if _parent_reported(path, new.keys() - old.keys()):
            continue
        changes.append(SurfaceChange("added", path, None, new[path][0], False, "nothing existing changes"))
    for path in sorted(old.keys() & new.keys()):
        (old_sig, old_obj), (new_sig, new_obj) = old[path], new[path]
        if old_sig == new_sig:
            continue
        breaking, why = _judge(old_obj, new_obj, read, written)
        changes.append(SurfaceChange("changed", path, old_sig, new_sig, breaking, why))
    return changes


def _members(annotation: Any) -> set[str]:
    return {part.strip() for part in str(annotation).split("|")}


def _parent_reported(path: str, paths: set[str]) -> bool:
    parent = path.rpartition(".")[0]
    return bool(parent) and parent in paths


def _required(annotation: str) -> tuple[str, bool]:
    """`Required[X]` -> (X, True); anything else -> (itself, False)."""
    if annotation.startswith("Required[") and annotation.endswith("]"):
        return annotation[len("Required["):-1], True
    return annotation, False


def _judge(old: Any, new: Any, read: set[str], written: set[str]) -> tuple[bool, str]:
    if old.kind != new.kind:
        return True, f"{old.kind.value} became {new.kind.value}"
    if old.is_attribute:
        if str(old.annotation) == str(new.annotation):
            return False, "its default changed"
        was, now = _required(str(old.annotation)), _required(str(new.annotation))
        if now[1] and not was[1]:
            return True, "now required: calls that leave it out fail"
        if was[0] == now[0]:  # a TypedDict key whose requiredness alone changed
            return False, "no longer required, in a TypedDict callers build: every old call still works"
        owner = old.parent.name if old.parent is not None and old.parent.is_class else None
        # Compared without `Required[...]`: a key that became optional and took more types (`Required[str]` ->
        # `str | None`) widened, as one whose requiredness alone changed.
        old_types, new_types = _members(was[0]), _members(now[0])
        if owner is not None and old_types < new_types:
            if owner in read:
                return True, "its type widened: code reading it meets values it did not expect"
            no_longer = " and is no longer required" if was[1] and not now[1] else ""
            return False, f"its type widened{no_longer}, in a model callers only build: every old value still fits"
        if owner is not None and new_types < old_types:
            if owner in written:
                return True, "its type narrowed: code building the model with the old values fails"
            return False, "its type narrowed, in a model callers only read: every value they handle still fits"
        return True, "its type changed: code reading or setting it may break, and mypy will say where"
    if old.is_class:
        lost = {str(b) for b in old.bases} - {str(b) for b in new.bases}
        return (True, f"lost base(s) {', '.join(sorted(lost))}") if lost else (False, "bases added")
    breakages = list(griffe.find_breaking_changes(old, new))
    if breakages:
        return True, "; ".join(sorted({b.explain(style=griffe.ExplanationStyle.ONE_LINE) for b in breakages}))
    return False, "every old call still works"
