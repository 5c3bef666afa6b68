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


# The packages load their public names lazily (a module `__getattr__`); one that type checkers could see made every
# misspelled name `Any`, so `except fedapay_payouts.ApiTimeoutError:` passed mypy and failed only when that error
# came. A keyword given as `None` is left out (README, "Retries that can never pay twice"), so an optional keyword's
# type takes `None`: the README's own retry, `create(**order, idempotency_key=e.idempotency_key)`, must type-check;
# a required one does not, as the client refuses it.
MISSPELT_AND_NONE_FILE = """\
import fedapay_payouts
import fedapay_payouts_api.models
from fedapay_bulk import pay_fil
from fedapay_mock import run_mok
from fedapay_payouts import PayoutOutcomeUnknowError
from fedapay_payouts import FedaPay, PayoutOutcomeUnknownError, WebhookEvent
from fedapay_payouts_api.api.payouts.create_payout import CreatePayoutBody
from fedapay_mock import run_mock
from fedapay_bulk import pay_file


def typos(client: FedaPay) -> None:
    try:
        client.payouts.retrieve(1)
    except fedapay_payouts.ApiTimeoutError:
        pass
    fedapay_payouts_api.models.Payot


def retry(client: FedaPay, order: CreatePayoutBody) -> int:
    try:
        return client.payouts.create(**order).id
    except PayoutOutcomeUnknownError as e:
        return client.payouts.create(**order, idempotency_key=e.idempotency_key).id


def nones(client: FedaPay, status: str | None, note: str | None) -> None:
    client.payouts.list(status=status, page=None)
    client.payouts.create(amount=1000, currency="XOF", mode="moov", customer={"id": 1}, description=note)
    client.payouts.update(1, mode=None, scheduled_at=None)
    client.payouts.create(amount=None, currency="XOF", mode="moov", customer={"id": 1})


def real_names() -> None:
    reveal_type(run_mock)
    reveal_type(pay_file)
    reveal_type(WebhookEvent)
"""


def test_a_users_mypy_names_misspelled_imports_and_takes_none_for_optional_keywords(
    tmp_path: Path, user_mypy_cache: Path
) -> None:
    (tmp_path / "user_types.py").write_text(MISSPELT_AND_NONE_FILE, encoding="utf-8")
    done = run_user_mypy(user_mypy_cache, tmp_path, "user_types.py")
    errors = sorted(
        (int(line.split(":")[1]), line.split(": error: ", 1)[1])
        for line in done.stdout.splitlines() if ": error: " in line
    )
    lines = [number for number, _ in errors]
    # The four misspelled imports and the two misspelled attributes, each named; amount=None refused; nothing else
    # (the retry, the None keywords of list, create and update all type-check).
    assert lines == [3, 4, 5, 15, 17, 31], done.stdout
    assert 'Module "fedapay_bulk" has no attribute "pay_fil"' in errors[0][1]
    assert 'Module "fedapay_mock" has no attribute "run_mok"' in errors[1][1]
    assert 'Module "fedapay_payouts" has no attribute "PayoutOutcomeUnknowError"' in errors[2][1]
    assert 'Module has no attribute "ApiTimeoutError"' in errors[3][1]
    assert 'Module has no attribute "Payot"' in errors[4][1]
    assert 'Argument "amount" has incompatible type "None"' in errors[5][1]
    revealed = [line.split("Revealed type is ", 1)[1] for line in done.stdout.splitlines() if "Revealed type" in line]
    # The lazily loaded names keep their real types (not Any).
    assert len(revealed) == 3, done.stdout
    assert "MockServer" in revealed[0]
    assert "BulkResult" in revealed[1]
    assert "WebhookEvent" in revealed[2]
