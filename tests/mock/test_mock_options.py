"""The mock's options: one typed `MockOptions`, defaults written once, read by `create_app`, `run_mock`,
the pytest plugin and the CLI alike."""

from __future__ import annotations

import dataclasses
import typing

import httpx
import pytest
from fedapay_mock import MockOptions, MockSettings, create_app, run_mock
from fedapay_mock.cli import build_parser, options_from

from tests.mock.mock_support import AUTH, payout_body


def test_the_keyword_settings_are_exactly_the_options_fields_with_their_types() -> None:
    fields = {f.name: f.type for f in dataclasses.fields(MockOptions)}
    hints = typing.get_type_hints(MockSettings)
    assert set(hints) == set(fields)
    resolved = typing.get_type_hints(MockOptions)
    assert {name: hints[name] for name in fields} == {name: resolved[name] for name in fields}


def test_create_app_takes_options_and_settings_on_top() -> None:
    base = MockOptions(freeze_clock=True, max_payouts_per_number=7)
    app = create_app(base, settle_seconds=5.0)
    assert app.options == MockOptions(freeze_clock=True, max_payouts_per_number=7, settle_seconds=5.0)
    assert app.store.max_payouts_per_number == 7
    assert create_app().options == MockOptions()


def test_settings_are_checked_like_options() -> None:
    with pytest.raises(ValueError, match="settle_seconds"):
        create_app(MockOptions(), settle_seconds=-1.0)
    with pytest.raises(TypeError):
        create_app(no_such_option=1)  # type: ignore[call-arg]


def test_options_are_immutable_and_keep_secrets_out_of_the_repr() -> None:
    options = MockOptions(api_key="sk_sandbox_secretvalue", webhook_url="http://h/x", webhook_secret="whsec-value")
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.settle_seconds = 1.0  # type: ignore[misc]
    assert "secretvalue" not in repr(options)
    assert "whsec-value" not in repr(options)


def test_run_mock_takes_a_mock_options() -> None:
    with run_mock(MockOptions(freeze_clock=True, max_payouts_per_number=1)) as server:
        with httpx.Client(base_url=server.base_url, headers=AUTH) as api:
            ids = [api.post("/payouts", json=payout_body()).json()["v1/payout"]["id"] for _ in range(2)]
            assert api.put("/payouts/start", json={"payouts": [{"id": ids[0]}]}).status_code == 200
            assert api.put("/payouts/start", json={"payouts": [{"id": ids[1]}]}).status_code == 422
        assert server.app.clock.frozen


def test_the_cli_defaults_are_the_options_defaults() -> None:
    assert options_from(build_parser().parse_args([])) == MockOptions()


def test_the_cli_maps_every_option() -> None:
    args = build_parser().parse_args(
        [
            "--api-key", "sk_sandbox_abc",
            "--settle-seconds", "3",
            "--freeze-clock",
            "--max-body-bytes", "2048",
            "--spec", "other.yaml",
            "--max-payouts-per-number", "none",
            "--allow-delete-after-send",
        ]
    )  # fmt: skip
    assert options_from(args) == MockOptions(
        api_key="sk_sandbox_abc",
        settle_seconds=3.0,
        freeze_clock=True,
        max_body_bytes=2048,
        spec_path="other.yaml",
        max_payouts_per_number=None,
        delete_only_unsent=False,
    )
    assert options_from(build_parser().parse_args(["--max-payouts-per-number", "5"])).max_payouts_per_number == 5


@pytest.mark.parametrize("value", ["0", "-2", "three"])
def test_the_cli_refuses_a_bad_limit(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--max-payouts-per-number", value])
    assert "--max-payouts-per-number" in capsys.readouterr().err
