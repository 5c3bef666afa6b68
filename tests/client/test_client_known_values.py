"""`PayoutStatus` / `PayoutMode`: the known values of `status` and `mode`, typed, while the fields stay `str`.

The lists must be the spec's own "Known values" (a new value in the spec shows here), reach a user's
mypy as `Literal`s, and leave `payout.status` a `str`, open to the values FedaPay adds later.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from fedapay_payouts import PAYOUT_MODES, PAYOUT_STATUSES

from tests.client.client_support import CUSTOMER, Api
from tests.user_mypy import run_user_mypy

ROOT = Path(__file__).resolve().parents[2]


def known_values(field: str) -> list[str]:
    """The values a description of the spec lists after "Known values:", without their explanations."""
    spec = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text(encoding="utf-8"))
    description: str = spec["components"]["schemas"]["Payout"]["properties"][field]["description"]
    listed = description.split("Known values:", 1)[1].split(".", 1)[0]
    listed = re.sub(r"\([^)]*\)", "", listed)
    return [value.strip() for value in listed.split(",")]


def test_the_known_values_are_the_specs() -> None:
    assert list(PAYOUT_STATUSES) == known_values("status")
    assert list(PAYOUT_MODES) == known_values("mode")


def test_the_statuses_a_payout_goes_through_on_the_mock_are_known(api: Api) -> None:
    client = api.client()
    created = api.call(client, lambda p: p.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER))
    started = api.call(client, lambda p: p.send_now(created.id))
    later = api.call(client, lambda p: p.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER))
    scheduled = api.call(client, lambda p: p.schedule(later.id, "2031-01-01T10:00:00Z"))
    seen = [created.status, started.status, scheduled.status]
    assert seen == ["pending", "started", "scheduled"]
    assert all(status in PAYOUT_STATUSES for status in seen)
    assert created.mode in PAYOUT_MODES


USER_FILE = """\
from fedapay_payouts import PAYOUT_STATUSES, FedaPay, PayoutMode, PayoutStatus


def label(status: PayoutStatus) -> str:
    return {"pending": "waiting", "sent": "paid"}.get(status, status)


def check(client: FedaPay) -> str:
    payout = client.payouts.retrieve(1)
    reveal_type(payout.status)
    reveal_type(payout.mode)
    reveal_type(PAYOUT_STATUSES)
    mode: PayoutMode = "mtn_open"
    if payout.status in PAYOUT_STATUSES:
        return label("sent") + mode
    return payout.status  # a status FedaPay added later: still a str


wrong: PayoutStatus = "paid"
"""


def test_a_users_mypy_sees_the_literals_and_status_stays_str(tmp_path: Path, user_mypy_cache: Path) -> None:
    (tmp_path / "user_known_values.py").write_text(USER_FILE, encoding="utf-8")
    done = run_user_mypy(user_mypy_cache, tmp_path, "user_known_values.py")
    revealed = [line.split("Revealed type is ", 1)[1] for line in done.stdout.splitlines() if "Revealed type" in line]
    assert revealed[:2] == ['"str"', '"str"'], done.stdout
    assert "Literal['pending'" in revealed[2], done.stdout
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, done.stdout
    assert "user_known_values.py:19: error: Incompatible types in assignment" in errors[0]
    assert '"Literal[\'paid\']"' in errors[0]
