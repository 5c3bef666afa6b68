"""Types reach a user's project: mypy --strict, run from outside the checkout against the installed packages,
sees `Payout` fields as their plain types and `MockServer` as a typed class (PEP 561 markers)."""

from __future__ import annotations

from pathlib import Path

from tests.user_mypy import run_user_mypy

USER_FILE = """\
# mypy: disallow-any-expr
from fedapay_mock.server import MockServer
from fedapay_payouts import FedaPay


def pay(mock: MockServer) -> tuple[int, str]:
    client = FedaPay("sk_sandbox_user", base_url=mock.base_url)
    payout = client.payouts.retrieve(1)
    reveal_type(payout)
    reveal_type(payout.amount)
    reveal_type(payout.status)
    reveal_type(payout.mode)
    for item in client.payouts.list():
        reveal_type(item)
    return payout.amount, payout.status
"""


def test_mypy_strict_in_a_user_project_sees_payout_fields_as_plain_types_with_no_any(
    tmp_path: Path, user_mypy_cache: Path
) -> None:
    (tmp_path / "user_code.py").write_text(USER_FILE, encoding="utf-8")
    done = run_user_mypy(user_mypy_cache, tmp_path, "user_code.py")
    revealed = [line.split("Revealed type is ", 1)[1] for line in done.stdout.splitlines() if "Revealed type" in line]
    assert revealed == [
        '"fedapay_payouts_api.models.payout.Payout"',
        '"int"',
        '"str"',
        '"str"',
        '"fedapay_payouts_api.models.payout.Payout"',
    ], done.stdout
    assert done.returncode == 0, done.stdout
    assert "error" not in done.stdout


def test_each_shipped_package_carries_its_py_typed_marker() -> None:
    import fedapay_bulk
    import fedapay_mock
    import fedapay_payouts
    import fedapay_payouts_api

    for package in (fedapay_payouts, fedapay_payouts_api, fedapay_mock, fedapay_bulk):
        assert package.__file__ is not None
        assert (Path(package.__file__).parent / "py.typed").is_file(), package.__name__
