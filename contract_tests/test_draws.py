"""The suite's runs draw the same cases whatever literals the project's own modules hold (fedapay_contract/draws.py).

Hypothesis mixes the literals of "local" modules (outside site-packages) into its draws, so a checkout (editable
install) drew other cases than a wheel, and each string added to the project moved them. Each check runs
Hypothesis in a new interpreter prepared as the suite's processes are (`isolated._prepare`), with and without a
local module full of literals loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

# A local module (a plain folder, not site-packages) whose literals Hypothesis would collect.
LITERALS = "".join(f"CONSTANT_{n} = 'zq-literal-{n}'\n" for n in range(40))
DRAW = textwrap.dedent(
    """
    import json
    import sys
    from hypothesis import given, settings, strategies as st
    if sys.argv[1] == "prepared":
        from fedapay_contract.isolated import _prepare
        _prepare()
    if sys.argv[2] == "with-literals":
        sys.path.insert(0, sys.argv[3])
        import project_literals  # noqa: F401
    drawn = []
    @settings(derandomize=True, max_examples=400, database=None)
    @given(st.text(max_size=20))
    def record(value):
        drawn.append(value)
    record()
    print(json.dumps(drawn))
    """
)


def _draws(tmp_path: Path, prepared: bool, with_literals: bool) -> list[str]:
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    (folder / "project_literals.py").write_text(LITERALS, encoding="utf-8")
    env = {**os.environ, "PYTHONHASHSEED": "0", "HYPOTHESIS_STORAGE_DIRECTORY": str(tmp_path / "hypothesis")}
    done = subprocess.run(
        [sys.executable, "-c", DRAW, "prepared" if prepared else "plain",
         "with-literals" if with_literals else "without", str(folder)],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )
    drawn: list[str] = json.loads(done.stdout)
    return drawn


def test_a_prepared_process_draws_the_same_cases_whatever_literals_local_modules_hold(tmp_path: Path) -> None:
    unprepared = _draws(tmp_path, prepared=False, with_literals=True)
    # Left alone, Hypothesis draws the local module's literals: the input this test removes is real.
    assert any(value.startswith("zq-literal-") for value in unprepared)
    prepared = _draws(tmp_path, prepared=True, with_literals=True)
    assert not any(value.startswith("zq-literal-") for value in prepared)
    assert prepared == _draws(tmp_path, prepared=True, with_literals=False)
