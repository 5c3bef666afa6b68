"""Fixtures for the spine tests: the regenerate pipeline, imported from scripts/, and scratch copies of the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spine.spine_support import copy_project, git


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The pipeline's inputs and committed outputs, copied to a scratch folder a test may change."""
    return copy_project(tmp_path)


@pytest.fixture
def git_copy(project_copy: Path) -> Path:
    """`project_copy` as a git repository with everything committed: `git status` starts clean."""
    git(project_copy, "init", "-q")
    git(project_copy, "add", "-A")
    git(project_copy, "commit", "-q", "-m", "copy")
    return project_copy
