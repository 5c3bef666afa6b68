"""The repository's pytest route against another server (FEDAPAY_CONTRACT_BASE_URL, _API_KEY): what it prints and
what it writes to --junitxml never holds the key, even from a server that echoes it into every reply."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fedapay_mock import create_app

from contract_tests.serve import serve_asgi
from contract_tests.test_command import KEY, _echoes_the_key

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST = "contract_tests/test_contract.py::test_external_server_honours_the_contract"


def test_the_pytest_route_never_shows_the_key_a_server_echoes(tmp_path: Path) -> None:
    junit = tmp_path / "pytest.xml"
    with serve_asgi(_echoes_the_key(create_app(api_key=KEY, freeze_clock=True))) as served:
        env = {
            **os.environ,
            "FEDAPAY_CONTRACT_BASE_URL": served.base_url,
            "FEDAPAY_CONTRACT_API_KEY": KEY,
            # Deep mode sizes the run from the environment: a few examples, a fixed seed.
            "FEDAPAY_CONTRACT_MODE": "deep",
            "FEDAPAY_CONTRACT_MAX_EXAMPLES": "2",
            "FEDAPAY_CONTRACT_SEED": "1",
        }
        env.pop("PYTEST_ADDOPTS", None)
        env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)  # as a user's shell: Hypothesis' default, the working directory
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "-rA", f"--junitxml={junit}",
             str(REPO_ROOT / TEST)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
        )
    printed = done.stdout + done.stderr
    assert done.returncode == 1, printed[-3000:]
    written = junit.read_text(encoding="utf-8")
    # The run failed for the server's replies, and says so: the report is there, the key is not.
    assert "response_schema_conformance" in printed
    assert "response_schema_conformance" in written  # the report recorded for the summary (user_properties)
    assert "[redacted]" in printed
    for text in (printed, written):
        assert KEY not in text
        assert KEY.split("_", 2)[2] not in text
    # Nothing left in the working directory but the report asked for: Hypothesis wrote `.hypothesis/constants/`
    # there (contract_tests/README.md says nothing is left; fifteenth review).
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pytest.xml"]
