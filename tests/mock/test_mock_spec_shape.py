"""The mock follows the spec's shape, not only its validation: fields FedaPay adds or relaxes need no mock change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fedapay_mock import MockServer, create_app, run_mock
from fedapay_mock.spec import REPO_SPEC, load_spec

from tests.mock.mock_support import AUTH, ReplyChecker, payout_body

Edit = Callable[[dict[str, Any]], None]


def _schemas(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["schemas"]  # type: ignore[no-any-return]


@contextmanager
def mock_with(tmp_path: Path, edit: Edit) -> Iterator[tuple[MockServer, httpx.Client, ReplyChecker]]:
    """A mock serving the committed spec after `edit`, a client for it, and a checker of its replies."""
    spec = yaml.safe_load(REPO_SPEC.read_text(encoding="utf-8"))
    edit(spec)
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    with (
        run_mock(spec_path=str(path), freeze_clock=True) as server,
        httpx.Client(base_url=server.base_url, headers=AUTH, timeout=10.0) as api,
    ):
        yield server, api, ReplyChecker(load_spec(path))


def _add_note_everywhere(spec: dict[str, Any]) -> None:
    """FedaPay adds `beneficiary_note` to create, update and the payout (nullable, as unset fields are)."""
    for name in ("PayoutCreate", "PayoutUpdate"):
        _schemas(spec)[name]["properties"]["beneficiary_note"] = {"type": "string", "maxLength": 140}
    _schemas(spec)["Payout"]["properties"]["beneficiary_note"] = {"type": "string", "nullable": True}


def test_a_request_field_the_payout_also_has_is_stored_and_echoed(tmp_path: Path) -> None:
    with mock_with(tmp_path, _add_note_everywhere) as (_, api, check):
        created = check("create_payout", api.post("/payouts", json=payout_body(beneficiary_note="June rent")))
        payout_id = created["v1/payout"]["id"]
        fetched = check("retrieve_payout", api.get(f"/payouts/{payout_id}"))
        listed = check("list_payouts", api.get("/payouts"))
        without = check("create_payout", api.post("/payouts", json=payout_body()))
        updated = check("update_payout", api.put(f"/payouts/{payout_id}", json={"beneficiary_note": "July rent"}))
        too_long = api.post("/payouts", json=payout_body(beneficiary_note="x" * 141))

    assert created["v1/payout"]["beneficiary_note"] == "June rent"
    assert fetched["v1/payout"]["beneficiary_note"] == "June rent"
    assert listed["v1/payouts"][0]["beneficiary_note"] == "June rent"
    assert without["v1/payout"]["beneficiary_note"] is None  # not sent: null, as the spec allows
    assert updated["v1/payout"]["beneficiary_note"] == "July rent"
    assert too_long.status_code == 422  # and the spec's constraint still holds


def test_a_request_field_the_payout_lacks_is_not_echoed(tmp_path: Path) -> None:
    def drop_description_from_payout(spec: dict[str, Any]) -> None:
        del _schemas(spec)["Payout"]["properties"]["description"]

    with mock_with(tmp_path, drop_description_from_payout) as (_, api, check):
        created = check("create_payout", api.post("/payouts", json=payout_body(description="June")))
    assert "description" not in created["v1/payout"]


def test_description_is_stored_and_returned() -> None:
    """Step 13 puts `description` in the payout: sent on create or update, it comes back."""
    with run_mock(freeze_clock=True) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as api:
        created = api.post("/payouts", json=payout_body(description="June salary")).json()["v1/payout"]
        plain = api.post("/payouts", json=payout_body()).json()["v1/payout"]
        updated = api.put(f"/payouts/{created['id']}", json={"description": "July salary"}).json()["v1/payout"]
        fetched = api.get(f"/payouts/{created['id']}").json()["v1/payout"]
    assert created["description"] == "June salary"
    assert plain["description"] is None
    assert updated["description"] == fetched["description"] == "July salary"


def test_keys_the_body_schema_does_not_declare_never_reach_the_payout(tmp_path: Path) -> None:
    """The bodies allow extra keys; echoing them would let a caller write `status` or the fees."""
    forged = {"status": "sent", "amount_transferred": [9223372036854775809], "balance_id": 7, "klass": "x"}
    with mock_with(tmp_path, lambda spec: None) as (_, api, check):
        created = check("create_payout", api.post("/payouts", json=payout_body(**forged)))["v1/payout"]
        updated = check("update_payout", api.put(f"/payouts/{created['id']}", json={"amount": 2000, **forged}))

    for payout in (created, updated["v1/payout"]):
        assert payout["status"] == "pending"
        assert payout["klass"] == "v1/payout"
        assert payout["balance_id"] is None
    assert created["amount_transferred"] == 935
    assert updated["v1/payout"]["amount_transferred"] == 1880


def test_a_response_only_nullable_field_is_sent_as_null(tmp_path: Path) -> None:
    def add(spec: dict[str, Any]) -> None:
        _schemas(spec)["Payout"]["properties"]["operator_reference"] = {"type": "string", "nullable": True}
        _schemas(spec)["Payout"]["properties"]["batch_id"] = {"type": "integer"}  # not nullable, not required

    with mock_with(tmp_path, add) as (_, api, check):
        created = check("create_payout", api.post("/payouts", json=payout_body()))["v1/payout"]
        listed = check("list_payouts", api.get("/payouts"))["v1/payouts"][0]

    for payout in (created, listed):
        assert payout["operator_reference"] is None
        assert "batch_id" not in payout  # nothing to send and null is not allowed: left out, which is valid
        assert payout["deleted_at"] is None  # the spec's nullable fields the store never sets, still null


def test_a_field_that_became_optional_is_stored_as_null_or_its_default(tmp_path: Path) -> None:
    def relax(spec: dict[str, Any]) -> None:
        create = _schemas(spec)["PayoutCreate"]
        create["required"] = [name for name in create["required"] if name not in ("mode", "amount")]

    def relax_with_default(spec: dict[str, Any]) -> None:
        relax(spec)
        _schemas(spec)["PayoutCreate"]["properties"]["mode"]["default"] = "mtn_open"

    without_mode = {k: v for k, v in payout_body().items() if k != "mode"}
    with mock_with(tmp_path, relax) as (_, api, _check):
        no_mode = api.post("/payouts", json=without_mode)
        no_amount = api.post("/payouts", json={k: v for k, v in without_mode.items() if k != "amount"})
        form = api.post(
            "/payouts",
            content=b"amount=1000&currency[iso]=XOF&customer[firstname]=Ada&customer[lastname]=Lovelace",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert no_mode.status_code == 201, no_mode.text
    assert no_mode.json()["v1/payout"]["mode"] is None
    assert no_amount.status_code == 201, no_amount.text
    assert no_amount.json()["v1/payout"]["amount"] is None
    assert no_amount.json()["v1/payout"]["fees"] is None
    assert form.status_code == 201, form.text

    (tmp_path / "default").mkdir()
    with mock_with(tmp_path / "default", relax_with_default) as (_, api, check):
        defaulted = check("create_payout", api.post("/payouts", json=without_mode))
    assert defaulted["v1/payout"]["mode"] == "mtn_open"


def test_an_operation_without_handler_or_operation_id_answers_501_and_the_rest_works(tmp_path: Path) -> None:
    def add_cancel(spec: dict[str, Any]) -> None:
        spec["paths"]["/payouts/{id}/cancel"] = {
            "parameters": [{"$ref": "#/components/parameters/PayoutId"}],
            "post": {"responses": {"200": {"$ref": "#/components/responses/NotFound"}}},
        }

    with mock_with(tmp_path, add_cancel) as (server, api, check):
        cancel = api.post("/payouts/1/cancel")
        created = check("create_payout", api.post("/payouts", json=payout_body()))
        stats = server.stats()

    assert cancel.status_code == 501
    assert cancel.headers["content-type"] == "application/json"
    assert set(cancel.json()) == {"message", "errors"}
    assert "POST /payouts/{id}/cancel" in cancel.json()["message"]
    assert created["v1/payout"]["id"] == 1
    assert stats["not_implemented"] == ["POST /payouts/{id}/cancel"]


def test_currencies_without_an_enum_get_ids_as_they_arrive(tmp_path: Path) -> None:
    def open_currencies(spec: dict[str, Any]) -> None:
        del _schemas(spec)["CurrencyInput"]["properties"]["iso"]["enum"]

    with mock_with(tmp_path, open_currencies) as (_, api, check):
        xaf = check("create_payout", api.post("/payouts", json=payout_body(currency={"iso": "XAF"})))["v1/payout"]
        xof = check("create_payout", api.post("/payouts", json=payout_body()))["v1/payout"]
        again = check("create_payout", api.post("/payouts", json=payout_body(currency={"iso": "XAF"})))["v1/payout"]
    assert (xaf["currency_id"], xof["currency_id"], again["currency_id"]) == (1, 2, 1)


def _any_body(spec: dict[str, Any]) -> None:
    """Request bodies whose schema constrains nothing (`{}`: no `type: object`, as many OpenAPI files write
    them): any JSON value passes validation and reaches the handlers."""
    paths = spec["paths"]
    for path, method in (("/payouts", "post"), ("/payouts/{id}", "put"), ("/payouts/start", "put")):
        paths[path][method]["requestBody"]["content"]["application/json"]["schema"] = {}


def test_a_body_the_spec_does_not_type_is_refused_naming_it_never_a_5xx(tmp_path: Path) -> None:
    with mock_with(tmp_path, _any_body) as (_, api, _check):
        assert api.post("/payouts", json=payout_body()).status_code == 201
        replies = {
            "create": api.post("/payouts", json=[1]),
            "create text": api.post("/payouts", json="x"),
            "update": api.put("/payouts/1", json=5),
            "update list": api.put("/payouts/1", json=[{"amount": 5}]),
            "start text": api.put("/payouts/start", json="x"),
            "start payouts": api.put("/payouts/start", json={"payouts": "abc"}),
            "start item": api.put("/payouts/start", json=[1]),
            "start listed item": api.put("/payouts/start", json={"payouts": [{"id": 1}, None]}),
        }
        fields = {name: (reply.status_code, list(reply.json()["errors"])) for name, reply in replies.items()}
        later = api.get("/payouts/1")
    assert fields == {
        "create": (400, ["body"]),
        "create text": (400, ["body"]),
        "update": (400, ["body"]),
        "update list": (400, ["body"]),
        "start text": (400, ["body"]),
        "start payouts": (422, ["payouts"]),
        "start item": (422, ["[0]"]),
        "start listed item": (422, ["payouts[1]"]),
    }
    assert later.status_code == 200
    assert later.json()["v1/payout"]["status"] == "pending"  # nothing refused changed anything


def test_a_create_body_schema_that_is_an_array_refuses_an_array_naming_the_body(tmp_path: Path) -> None:
    def array_body(spec: dict[str, Any]) -> None:
        spec["paths"]["/payouts"]["post"]["requestBody"]["content"]["application/json"]["schema"] = {"type": "array"}

    with mock_with(tmp_path, array_body) as (_, api, _check):
        reply = api.post("/payouts", json=[1])
        listed = api.get("/payouts")
    assert (reply.status_code, reply.json()["errors"]) == (400, {"body": ["must be object, not array"]})
    assert listed.status_code == 200


def test_values_the_spec_does_not_type_are_refused_or_stored_never_a_5xx(tmp_path: Path) -> None:
    """With no schema for the bodies, ids, dates, names and numbers of any JSON type reach the store."""
    odd: list[Any] = [[1], {"x": 1}, True, 1.5]
    with mock_with(tmp_path, _any_body) as (_, api, _check):
        assert api.post("/payouts", json=payout_body()).status_code == 201
        statuses: list[int] = []
        for value in odd:
            customer = {"firstname": value, "lastname": "B", "phone_number": {"number": value, "country": value}}
            statuses.append(api.post("/payouts", json=payout_body(customer=customer)).status_code)
            statuses.append(api.post("/payouts", json=payout_body(customer={"id": value})).status_code)
            statuses.append(api.put("/payouts/start", json=[{"id": value}]).status_code)
            statuses.append(api.put("/payouts/start", json=[{"id": 1, "scheduled_at": value}]).status_code)
            statuses.append(api.put("/payouts/1", json={"scheduled_at": value}).status_code)
        listed = api.get("/payouts")
        one = api.get("/payouts/1").json()["v1/payout"]
    assert max(statuses) < 500, statuses
    assert listed.status_code == 200
    assert one["status"] == "pending"  # `{"id": true}` is not payout 1, and no odd date scheduled it


def test_a_boolean_and_a_nullable_integer_query_parameter_the_spec_adds_are_read_from_text(tmp_path: Path) -> None:
    """A query string is text: `include_deleted=true` is the boolean true (as a form's `true` or `1` is), and a
    nullable integer is read as an integer."""

    def add(spec: dict[str, Any]) -> None:
        spec["paths"]["/payouts"]["get"]["parameters"] += [
            {"name": "include_deleted", "in": "query", "schema": {"type": "boolean"}},
            {"name": "batch", "in": "query", "schema": {"type": "integer", "minimum": 1, "nullable": True}},
        ]

    with mock_with(tmp_path, add) as (_, api, check):
        create = api.post("/payouts", json=payout_body())
        assert create.status_code == 201
        accepted = {
            text: api.get("/payouts", params={"include_deleted": text}).status_code
            for text in ("true", "false", "1", "0")
        }
        batch = api.get("/payouts", params={"batch": "7", "include_deleted": "true"})
        refused = {text: api.get("/payouts", params={"include_deleted": text}) for text in ("yes", "TRUE", "", "2")}
        bad_batch = api.get("/payouts", params={"batch": "0"})
    assert accepted == dict.fromkeys(("true", "false", "1", "0"), 200)
    assert [p["id"] for p in check("list_payouts", batch)["v1/payouts"]] == [1]
    for reply in refused.values():
        assert reply.status_code == 400
        assert check("list_payouts", reply)["errors"] == {"include_deleted": ["must be a boolean: true or false"]}
    assert bad_batch.status_code == 400
    assert list(check("list_payouts", bad_batch)["errors"]) == ["batch"]


def test_a_required_reply_field_the_store_does_not_compute_is_sent_with_a_value_of_its_schema(tmp_path: Path) -> None:
    """FedaPay adds a required, non-nullable field to its Payout: every reply must carry it (a client checking
    replies refuses one without it). Its example, else its default, else its first enum value, else a value of its
    type that its schema accepts."""

    def add(spec: dict[str, Any]) -> None:
        payout = _schemas(spec)["Payout"]
        added = {
            "operator_reference": {"type": "string"},
            "batch_number": {"type": "integer", "minimum": 1},
            "channel": {"type": "string", "enum": ["mobile", "bank"]},
            "label": {"type": "string", "example": "June payroll", "default": "unused"},
            "settled": {"type": "boolean", "default": True},
            "settled_on": {"type": "string", "format": "date-time"},
            "code": {"type": "string", "pattern": "^[A-Z]{3}$", "example": "nope", "default": "XOF"},
            "route": {
                "type": "object",
                "required": ["hops", "via"],
                "properties": {"hops": {"type": "integer"}, "via": {"type": "string", "nullable": True}},
            },
        }
        payout["properties"].update(added)
        payout["required"] = [*payout.get("required", []), *added]

    expected = {
        "operator_reference": "",
        "batch_number": 1,
        "channel": "mobile",
        "label": "June payroll",
        "settled": True,
        "settled_on": "1970-01-01T00:00:00.000Z",
        "code": "XOF",  # the example does not match the pattern: the default does
        "route": {"hops": 0, "via": None},
    }
    with mock_with(tmp_path, add) as (mock, api, check):
        created = check("create_payout", api.post("/payouts", json=payout_body()))["v1/payout"]
        started = check("start_payouts", api.put("/payouts/start", json={"payouts": [{"id": created["id"]}]}))
        mock.advance_clock(60)
        fetched = check("retrieve_payout", api.get(f"/payouts/{created['id']}"))["v1/payout"]
        listed = check("list_payouts", api.get("/payouts"))["v1/payouts"][0]
    assert fetched["status"] == "sent"
    for payout in (created, started["v1/payouts"][0], fetched, listed):
        assert {name: payout[name] for name in expected} == expected
        assert payout["id"] == created["id"]  # what the store computes is never replaced


def test_a_required_reply_field_no_value_can_satisfy_is_refused_at_start_naming_it(tmp_path: Path) -> None:
    def add(spec: dict[str, Any]) -> None:
        payout = _schemas(spec)["Payout"]
        payout["properties"]["code"] = {"type": "string", "pattern": "^[A-Z]{3}$"}
        payout["required"] = [*payout.get("required", []), "code"]

    spec = yaml.safe_load(REPO_SPEC.read_text(encoding="utf-8"))
    add(spec)
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    with pytest.raises(ValueError, match="is not a spec the mock can serve") as refused:
        create_app(spec_path=str(path))
    assert "components.schemas.Payout.properties.code: required and not nullable" in str(refused.value)
    assert "\n" not in str(refused.value)
