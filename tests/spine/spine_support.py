"""Helpers of the spine tests: run regenerate on a copy, edit its upstream page, read git's view of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts/regenerate.py"
CREATE_PAGE = Path("spec/source/create-payout.page.txt")


def regenerate(*args: str) -> subprocess.CompletedProcess[str]:
    """scripts/regenerate.py in a child process, as a maintainer runs it."""
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


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
