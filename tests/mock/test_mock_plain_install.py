"""The installed pytest fixture on a plain install (no `mock` extra): one line naming the extra to install."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HINT = "pip install 'fedapay-payouts[mock]'"
DEV_PLUGINS = ("schemathesis", "xdist", "xdist.looponfail", "hypothesispytest", "asyncio", "timeout")


def _run_user_suite(tmp_path: Path, missing: str) -> subprocess.CompletedProcess[str]:
    """A user's project whose test uses the installed `fedapay_mock` fixture, with `missing` made unimportable
    (a `None` entry in sys.modules is how Python spells "this module is not installed")."""
    (tmp_path / "conftest.py").write_text(f"import sys\n\nsys.modules[{missing!r}] = None\n", encoding="utf-8")
    (tmp_path / "test_user.py").write_text(
        "def test_uses_the_mock(fedapay_mock):\n    assert fedapay_mock.base_url\n", encoding="utf-8"
    )
    return subprocess.run(
        # A plain install has none of the dev tools' plugins (installed here): they stay off (and their imports,
        # 0.2 s a run). anyio's stays: httpx brings it to every install.
        # -rN: no short summary, which repeats the message, untruncated when CI is set.
        [sys.executable, "-m", "pytest", "-q", "-rN", "-p", "no:cacheprovider",
         *(arg for plugin in DEV_PLUGINS for arg in ("-p", f"no:{plugin}")),
         "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, check=False, cwd=tmp_path, timeout=120,
    )


@pytest.mark.parametrize("missing", ["uvicorn", "httptools", "yaml", "jsonschema_rs"])
def test_the_fixture_names_the_mock_extra_when_one_of_its_modules_is_missing(tmp_path: Path, missing: str) -> None:
    done = _run_user_suite(tmp_path, missing)
    assert done.returncode == 1, done.stdout + done.stderr
    hint_lines = [line for line in done.stdout.splitlines() if HINT in line]
    assert len(hint_lines) == 1, done.stdout
    assert f"`{missing}` is missing" in hint_lines[0]
    # One line, not a traceback through the plugin's imports.
    assert "Traceback" not in done.stdout
    assert "During handling" not in done.stdout
    assert "import_module" not in done.stdout
    assert "fedapay_mock/server.py" not in done.stdout


def test_the_fixture_serves_when_the_extra_is_installed(tmp_path: Path) -> None:
    done = _run_user_suite(tmp_path, "a_module_nobody_needs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_mock_command_names_the_extra_when_uvicorn_is_missing() -> None:
    code = "import sys; sys.modules['uvicorn'] = None; from fedapay_mock.cli import main; sys.exit(main([]))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 2
    assert done.stderr == f"fedapay-mock: the FedaPay mock needs the `mock` extra (`uvicorn` is missing): {HINT}\n"


def test_importing_a_mock_name_without_the_extra_names_the_extra() -> None:
    """`from fedapay_mock import run_mock` (what a user writes first) on a plain install: before, a bare
    ModuleNotFoundError for `yaml` from deep inside the package, naming no extra."""
    code = (
        "import json, sys\n"
        "sys.modules['yaml'] = None\n"
        "import fedapay_mock\n"
        "seen = {}\n"
        "for name in fedapay_mock.__all__:\n"
        "    try:\n"
        "        exec(f'from fedapay_mock import {name}')\n"
        "    except ImportError as error:\n"
        "        seen[name] = [type(error).__name__, str(error), error.name]\n"
        "print(json.dumps(seen))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    message = f"the FedaPay mock needs the `mock` extra (`yaml` is missing): {HINT}"
    expected = ["MockExtraMissing", message, "yaml"]
    assert json.loads(done.stdout) == dict.fromkeys(
        ["MockApp", "MockControls", "MockOptions", "MockServer", "MockSettings", "create_app", "run_mock"], expected
    )
