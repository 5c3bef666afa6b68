"""The Python surface is read again whenever the sources read change: a regenerate in a long-lived process
(the test suite, `--check` after a run) reuses a surface only for the same bytes, wherever the tree lies."""

from __future__ import annotations

from pathlib import Path

from api_surface import load_surfaces


def _package(root: Path, body: str) -> Path:
    package = root / "pkg"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(body, encoding="utf-8")
    return root


def test_a_changed_file_is_read_again_and_the_same_bytes_elsewhere_give_the_same_surface(tmp_path: Path) -> None:
    tree = _package(tmp_path / "a", "def pay(amount: int) -> int:\n    return amount\n")
    first = load_surfaces([tree], ["pkg"])["pkg"]
    assert first["pkg.pay"][0] == "def (amount: int) -> int"

    _package(tree, "def pay(amount: str) -> int:\n    return 0\n")  # same path, same size class, new type
    assert load_surfaces([tree], ["pkg"])["pkg"]["pkg.pay"][0] == "def (amount: str) -> int"

    copy = _package(tmp_path / "b", "def pay(amount: int) -> int:\n    return amount\n")
    assert load_surfaces([copy], ["pkg"])["pkg"]["pkg.pay"][0] == "def (amount: int) -> int"

    (tree / "pkg" / "more.py").write_text("def refund() -> None: ...\n", encoding="utf-8")  # a file added
    assert "pkg.more.refund" in load_surfaces([tree], ["pkg"])["pkg"]
