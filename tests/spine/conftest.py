"""Fixtures for the spine tests: the regenerate pipeline, imported from scripts/, and scratch copies of the project."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The pipeline's inputs and committed outputs, copied to a scratch folder a test may change."""
    for folder in ("spec", "generated"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path
