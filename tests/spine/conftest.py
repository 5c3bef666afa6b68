"""Fixtures for the spine tests: the regenerate pipeline, imported from scripts/, and scratch copies of the project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.spine.spine_support import git

ROOT = Path(__file__).resolve().parents[2]

# What regenerate reads and writes, and no more: a copy stays small and fast. The venv is this checkout's.
COPIED_FOLDERS = ("spec", "generated", "overrides/fedapay_payouts")
COPIED_FILES = ("mock/fedapay_mock/openapi.yaml", "CHANGELOG.md", ".gitignore")


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The pipeline's inputs and committed outputs, copied to a scratch folder a test may change."""
    for folder in COPIED_FOLDERS:
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in COPIED_FILES:
        if (ROOT / name).exists():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def git_copy(project_copy: Path) -> Path:
    """`project_copy` as a git repository with everything committed: `git status` starts clean."""
    git(project_copy, "init", "-q")
    git(project_copy, "add", "-A")
    git(project_copy, "commit", "-q", "-m", "copy")
    return project_copy
