"""Helpers of the spine tests: run regenerate on a copy, edit its upstream page, read git's view of it."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts/regenerate.py"
CREATE_PAGE = Path("spec/source/create-payout.page.txt")
# What regenerate reads and writes, and no more: a copy stays small and fast. The venv is this checkout's.
COPIED_FOLDERS = ("spec", "generated", "overrides/fedapay_payouts")
COPIED_FILES = ("mock/fedapay_mock/openapi.yaml", "CHANGELOG.md", ".gitignore")


def copy_project(into: Path) -> Path:
    """The pipeline's inputs and committed outputs, copied into `into`."""
    for folder in COPIED_FOLDERS:
        shutil.copytree(ROOT / folder, into / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in COPIED_FILES:
        if (ROOT / name).exists():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)
    return into


def regenerate_process(*args: str) -> subprocess.CompletedProcess[str]:
    """scripts/regenerate.py in a child process, exactly as a maintainer runs it."""
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


def regenerate(*args: str) -> subprocess.CompletedProcess[str]:
    """scripts/regenerate.py's `main(args)` in this process: the same exit status and output as the command
    (`regenerate_process` runs that too), without a new interpreter and its imports on every run: most
    of a regeneration's cost, which the spine tests pay about thirty times. The generator and ruff still
    run as their own processes, as in the command."""
    import regenerate as command

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = command.main(list(args))
        except SystemExit as stop:  # argparse's usage errors
            code = stop.code if isinstance(stop.code, int) else 2
    return subprocess.CompletedProcess([str(SCRIPT), *args], code, out.getvalue(), err.getvalue())


def edit_page(root: Path, old: str, new: str, *, count: int = 1, page: Path = CREATE_PAGE) -> None:
    """Replace `old` by `new` in an upstream page of the copy; `old` must be there `count` times."""
    path = root / page
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == count, f"{old!r} is in {page} {text.count(old)} times, not {count}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=spine", "-c", "user.email=spine@example.invalid", *args]
    return subprocess.run(command, cwd=repo, check=True, capture_output=True, text=True).stdout


def git_status(repo: Path) -> str:
    """`git status --porcelain`, untracked files included: empty when the tree is as committed."""
    return git(repo, "status", "--porcelain", "--untracked-files=all")
