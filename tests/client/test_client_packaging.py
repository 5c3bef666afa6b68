"""The distribution as pip builds it: a license file matching the metadata, the version kept in one place, markers
for type checkers, and no exact pins in what users install (pins belong in constraints.txt)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import fedapay_payouts
from fedapay_payouts import _client, _version

ROOT = Path(__file__).resolve().parents[2]


def _build_wheel(out: Path) -> Path:
    """The wheel built from the tree by the pinned backend (pyproject's `hatchling==`, in this venv through
    constraints.txt): `python -m build --no-isolation`, as tests/install does; pip's isolated build took 1.3 s
    more to install that same hatchling into a throwaway environment."""
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = out.glob("fedapay_payouts-*.whl")
    return wheel


def test_the_wheel_ships_the_mit_license_the_typed_markers_and_the_one_version(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
        licenses = [n for n in names if "/licenses/" in n]
        license_text = archive.read(licenses[0]).decode() if licenses else ""
    assert metadata["Version"] == fedapay_payouts.__version__
    assert wheel.name.startswith(f"fedapay_payouts-{fedapay_payouts.__version__}-")
    assert metadata["License-Expression"] == "MIT"
    assert [Path(n).name for n in licenses] == ["LICENSE"]
    assert license_text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in license_text
    for package in ("fedapay_payouts", "fedapay_payouts_api", "fedapay_mock", "fedapay_bulk"):
        assert f"{package}/py.typed" in names
    dev = [r for r in metadata.get_all("Requires-Dist") or [] if "extra == 'dev'" in r]
    assert dev, "the dev extra is published"
    assert [r for r in dev if "==" in r.split(";")[0]] == []


def test_the_version_is_written_once_and_the_user_agent_reads_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"]["path"] == "overrides/fedapay_payouts/_version.py"
    assert fedapay_payouts.__version__ == _version.__version__
    assert _client.USER_AGENT.startswith(f"fedapay-payouts-python/{_version.__version__} ")
    release = f'"{_version.__version__}"'
    holders = [p.relative_to(ROOT).as_posix() for p in (ROOT / "overrides").rglob("*.py") if release in p.read_text()]
    assert holders == ["overrides/fedapay_payouts/_version.py"]


def test_pins_live_in_constraints_and_the_uvicorn_cap_says_why() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = tomllib.loads(text)["project"]
    for extra, requirements in project["optional-dependencies"].items():
        assert [r for r in requirements if "==" in r] == [], extra
    constraints = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    assert "pytest==" in constraints
    assert "schemathesis" in constraints[: constraints.index("pytest==")].splitlines()[-1]  # the reason, just above
    lines = text.splitlines()
    (at,) = [i for i, line in enumerate(lines) if line.strip().startswith('"uvicorn')]
    if "<" in lines[at]:
        reason: list[str] = []
        while lines[at - 1 - len(reason)].strip().startswith("#"):
            reason.append(lines[at - 1 - len(reason)])
        assert "uvicorn" in " ".join(reason), "a cap on uvicorn needs its reason just above it"
