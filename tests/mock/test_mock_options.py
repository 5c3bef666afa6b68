"""The mock's options: one typed `MockOptions`, defaults written once, read by `create_app`, `run_mock`,
the pytest plugin and the CLI alike."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

import httpx
import pytest
from fedapay_mock import MockOptions, MockSettings, create_app, run_mock
from fedapay_mock.cli import build_parser, main, options_from
from fedapay_mock.server import listening_socket
from fedapay_payouts import InvalidArgumentError, WebhookVerifier

from tests.mock.mock_support import AUTH, payout_body

REPO = Path(__file__).resolve().parents[2]


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


BAD_NUMBERS = [
    ("settle_seconds", float("nan")),
    ("settle_seconds", float("inf")),
    ("settle_seconds", -0.5),
    ("settle_seconds", True),
    ("max_body_bytes", 0),
    ("max_body_bytes", 1.5),
    ("max_body_bytes", float("nan")),
    ("max_payouts_per_number", 2.5),
    ("max_payouts_per_number", float("inf")),
    ("max_payouts_per_number", True),
]


@pytest.mark.parametrize(("name", "value"), BAD_NUMBERS, ids=[f"{n}={v}" for n, v in BAD_NUMBERS])
def test_every_numeric_option_must_be_a_finite_number_in_range_however_it_is_given(name: str, value: object) -> None:
    settings: Any = {name: value}  # what an untyped caller (a dict of options, a YAML file) may pass
    with pytest.raises(ValueError, match=f"^{name} must be"):
        MockOptions(**settings)
    with pytest.raises(ValueError, match=f"^{name} must be"):
        create_app(**settings)
    with pytest.raises(ValueError, match=f"^{name} must be"), run_mock(**settings):
        pass


def test_a_settle_time_of_zero_is_accepted_and_settles_at_once() -> None:
    with run_mock(settle_seconds=0, freeze_clock=True) as server, httpx.Client(
        base_url=server.base_url, headers=AUTH
    ) as api:
        payout = api.post("/payouts", json=payout_body()).json()["v1/payout"]
        assert api.put("/payouts/start", json=[{"id": payout["id"]}]).status_code == 200
        assert api.get(f"/payouts/{payout['id']}").json()["v1/payout"]["status"] == "sent"


CLI_REFUSALS = [
    (["--port", "99999"], "--port"),
    (["--port", "-1"], "--port"),
    (["--settle-seconds", "nan"], "--settle-seconds"),
    (["--settle-seconds", "inf"], "--settle-seconds"),
    (["--settle-seconds", "-1"], "--settle-seconds"),
    (["--max-body-bytes", "0"], "--max-body-bytes"),
    (["--spec", "/nonexistent/openapi.yaml"], "--spec"),
]


@pytest.mark.parametrize(("args", "option"), CLI_REFUSALS, ids=[" ".join(a) for a, _ in CLI_REFUSALS])
def test_the_cli_refuses_a_bad_value_in_one_line_naming_the_option(
    args: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening_socket() as taken:  # a port in use: an accepted value ends the run at once, never serves
        port = ["--port", str(taken.getsockname()[1])] if option != "--port" else []
        try:
            code = main([*port, *args])
        except SystemExit as exit_:  # argparse's refusal
            code = exit_.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2
    assert option in err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("fedapay-mock: ")


def test_the_cli_refuses_a_spec_that_is_not_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("paths: [\n", encoding="utf-8")
    with listening_socket() as taken:
        assert main(["--port", str(taken.getsockname()[1]), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fedapay-mock: --spec: {spec} is not valid YAML")
    assert err.count("\n") == 1


def test_the_cli_help_points_to_a_guide_that_ships(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "See docs/mock.md." not in out  # not in the wheel
    assert "README, section 'The mock server'" in out
    assert "## The mock server: `fedapay_mock`" in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"spec_path": ["openapi.yaml"]}, "spec_path"),  # unhashable: the fixture's server table failed bare
        ({"webhook_url": ["http://127.0.0.1:9/"], "webhook_secret": "whsec"}, "webhook_url"),
        ({"api_key": 42}, "api_key"),
        ({"freeze_clock": 1}, "freeze_clock"),
        ({"delete_only_unsent": "no"}, "delete_only_unsent"),
    ],
)
def test_an_option_of_the_wrong_type_is_refused_naming_it(settings: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        MockOptions(**settings)


# Webhook settings that can never work: the client's WebhookVerifier refuses these secrets, and no event can be
# POSTed to these URLs. Before, the mock started anyway and its events were never verified or delivered.
BAD_WEBHOOK_SETTINGS = [
    ({"webhook_secret": ""}, "webhook_secret is empty"),
    ({"webhook_secret": "my secret "}, "webhook_secret contains a space"),
    ({"webhook_secret": "clé-secrète"}, "webhook_secret contains a non-ASCII character"),
    ({"webhook_url": "notaurl"}, "webhook_url must be an http:// or https:// URL with a host"),
    ({"webhook_url": "ftp://127.0.0.1/x"}, "webhook_url must be an http:// or https:// URL with a host"),
    ({"webhook_url": "http:///x"}, "webhook_url must be an http:// or https:// URL with a host"),
    ({"webhook_url": "http://127.0.0.1:99999/x"}, "webhook_url must be an http:// or https:// URL with a host"),
    ({"webhook_url": "http://127.0.0.1/a b"}, "webhook_url must be an http:// or https:// URL with a host"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_WEBHOOK_SETTINGS, ids=[str(b) for b, _ in BAD_WEBHOOK_SETTINGS])
def test_webhook_settings_that_can_never_work_are_refused_naming_the_option(bad: dict[str, str], message: str) -> None:
    settings: Any = {"webhook_url": "http://127.0.0.1:9/hooks", "webhook_secret": "whsec_ok", **bad}
    with pytest.raises(ValueError, match=f"^{message}") as refused:
        MockOptions(**settings)
    if bad.get("webhook_secret"):  # never quoted
        assert bad["webhook_secret"].strip() not in str(refused.value)
    with pytest.raises(ValueError, match=f"^{message}"), run_mock(**settings):
        pass


def test_the_mock_takes_exactly_the_webhook_secrets_the_client_verifies() -> None:
    for secret in ("whsec_x", "a" * 1024, "!~"):
        MockOptions(webhook_url="https://example.invalid/hooks", webhook_secret=secret)
        WebhookVerifier(secret)
    for secret in ("a" * 1025, "tab\there"):
        with pytest.raises(ValueError, match=r"^webhook_secret "):
            MockOptions(webhook_url="https://example.invalid/hooks", webhook_secret=secret)
        with pytest.raises(InvalidArgumentError):
            WebhookVerifier(secret)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--webhook-url", "notaurl", "--webhook-secret", ""], "fedapay-mock: webhook_url must be an http://"),
        (["--webhook-url", "http://127.0.0.1:9/x", "--webhook-secret", ""], "fedapay-mock: webhook_secret is empty"),
        (
            ["--webhook-url", "http://127.0.0.1:9/x", "--webhook-secret", "my secret"],
            "fedapay-mock: webhook_secret contains a space",
        ),
    ],
)
def test_the_cli_refuses_bad_webhook_settings_in_one_line_naming_the_option(
    args: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening_socket() as taken:  # a port in use: an accepted value ends the run at once, never serves
        code = main(["--port", str(taken.getsockname()[1]), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(line)
    assert err.count("\n") == 1
    assert "my secret" not in err
