"""`fedapay-payouts bulk` on a plain install (no `bulk` extra): one line naming the extra, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HINT = "pip install 'fedapay-payouts[bulk]'"


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60,
                          cwd=cwd)


@pytest.mark.parametrize("missing", ["phonenumbers", "rich"])
def test_the_command_names_the_bulk_extra_when_one_of_its_modules_is_missing(missing: str, tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("firstname,lastname,phone,amount,mode\nA,B,+22997808080,1000,moov\n")
    # A `None` entry in sys.modules is how Python spells "this module is not installed".
    code = (f"import sys; sys.modules[{missing!r}] = None; from fedapay_bulk.cli import main;"
            " sys.exit(main(['bulk', 'p.csv', '--dry-run']))")
    done = _python(code, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == f"fedapay-payouts: the bulk command needs the `bulk` extra (`{missing}` is missing): {HINT}\n"
    assert done.stdout == ""


def test_the_packages_names_say_the_extra_too(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['phonenumbers'] = None\n"
        "import fedapay_bulk\n"
        "try:\n"
        "    fedapay_bulk.pay_file\n"
        "except fedapay_bulk.BulkExtraMissing as missing:\n"
        "    print(missing)\n"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"the bulk command needs the `bulk` extra (`phonenumbers` is missing): {HINT}\n"


def test_help_needs_no_extra(tmp_path: Path) -> None:
    code = "import sys; sys.modules['phonenumbers'] = None; from fedapay_bulk.cli import main; main(['bulk', '-h'])"
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "--adopt-existing" in done.stdout
