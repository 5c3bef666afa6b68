"""Each normalization step has an effect on spec/openapi.yaml that a client or the mock depends on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import regenerate
import yaml

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = sorted((ROOT / "spec/overlays").glob("*.yaml"))


def _load_committed() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "spec/openapi.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _normalize(overlays: list[Path]) -> dict[str, Any]:
    page = (ROOT / regenerate.PAGE).read_text(encoding="utf-8")
    return regenerate.normalize(yaml.safe_load(regenerate.extract(page, "page")), overlays)


SPEC = _load_committed()
SCHEMAS = SPEC["components"]["schemas"]


def _schema_of(operation: dict[str, Any], status: str) -> dict[str, Any]:
    response = operation["responses"][status]
    if "$ref" in response:
        response = SPEC["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def test_committed_spec_is_the_normalized_seed() -> None:
    assert _normalize(OVERLAYS) == SPEC


@pytest.mark.parametrize("step", OVERLAYS, ids=lambda p: p.stem)
def test_every_step_changes_the_spec(step: Path) -> None:
    others = [p for p in OVERLAYS if p != step]
    try:
        without = _normalize(others)
    except regenerate.PipelineError:
        return  # later steps build on this one: removing it breaks them, which is an effect too
    assert without != SPEC, f"{step.name} changes nothing"


def test_start_path_accepts_both_body_forms() -> None:
    start = SPEC["paths"]["/payouts/start"]["put"]
    assert start["operationId"] == "start_payouts"
    forms = start["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert [f["$ref"] for f in forms] == [
        "#/components/schemas/StartPayoutsRequest",
        "#/components/schemas/StartPayoutsList",
    ]
    assert SCHEMAS["StartPayoutsList"]["type"] == "array"
    assert SCHEMAS["StartPayoutsList"]["items"] == {"$ref": "#/components/schemas/StartPayout"}
    assert SCHEMAS["StartPayoutsRequest"]["required"] == ["payouts"]
    assert SCHEMAS["StartPayout"]["required"] == ["id"]
    assert set(SCHEMAS["StartPayout"]["properties"]) == {"id", "scheduled_at", "phone_number"}


@pytest.mark.parametrize(
    "field",
    [
        "scheduled_at",
        "sent_at",
        "failed_at",
        "deleted_at",
        "started_at",
        "last_error_code",
        "last_error_message",
        "reference",
        "metadata",
        "custom_metadata",
        "merchant_reference",
    ],
)
def test_fields_real_replies_leave_null_are_nullable(field: str) -> None:
    assert SCHEMAS["Payout"]["properties"][field]["nullable"] is True


def test_created_and_updated_stay_non_nullable_and_required() -> None:
    payout = SCHEMAS["Payout"]
    for field in ("created_at", "updated_at"):
        assert "nullable" not in payout["properties"][field]
        assert field in payout["required"]
    assert set(payout["required"]) >= {"klass", "id", "amount", "status", "customer_id", "currency_id", "mode"}


def test_status_is_an_open_string() -> None:
    status = SCHEMAS["Payout"]["properties"]["status"]
    assert status["type"] == "string"
    assert "enum" not in status


def test_replies_use_the_real_envelopes() -> None:
    create = SPEC["paths"]["/payouts"]["post"]
    assert _schema_of(create, "201") == {"$ref": "#/components/schemas/PayoutEnvelope"}
    assert SCHEMAS["PayoutEnvelope"]["required"] == ["v1/payout"]
    assert _schema_of(SPEC["paths"]["/payouts"]["get"], "200") == {"$ref": "#/components/schemas/PayoutList"}
    assert SCHEMAS["PayoutList"]["required"] == ["v1/payouts", "meta"]
    start = SPEC["paths"]["/payouts/start"]["put"]
    assert _schema_of(start, "200") == {"$ref": "#/components/schemas/PayoutStartReply"}
    assert "meta" not in SCHEMAS["PayoutStartReply"]["properties"]
    for method in ("get", "put"):
        assert _schema_of(SPEC["paths"]["/payouts/{id}"][method], "200") == {
            "$ref": "#/components/schemas/PayoutEnvelope"
        }


def test_every_operation_has_id_tag_auth_and_error_replies() -> None:
    ids = {}
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            ids[operation["operationId"]] = (method, path)
            assert operation["tags"] == ["payouts"]
            assert {"401", "429", "5XX"} <= set(operation["responses"])
            assert _schema_of(operation, "401") == {"$ref": "#/components/schemas/Error"}
    assert ids == {
        "create_payout": ("post", "/payouts"),
        "list_payouts": ("get", "/payouts"),
        "search_payouts": ("get", "/payouts/search"),
        "start_payouts": ("put", "/payouts/start"),
        "retrieve_payout": ("get", "/payouts/{id}"),
        "update_payout": ("put", "/payouts/{id}"),
        "delete_payout": ("delete", "/payouts/{id}"),
    }
    assert SPEC["security"] == [{"bearerAuth": []}]
    assert [s["description"] for s in SPEC["servers"]] == ["sandbox", "live"]


def test_delete_answers_200_with_the_payout_and_404() -> None:
    """Step 13: the libraries parse a JSON body after a delete (fedapay-wire.md, Delete's reply)."""
    delete = SPEC["paths"]["/payouts/{id}"]["delete"]
    assert "204" not in delete["responses"]
    assert _schema_of(delete, "200") == {"$ref": "#/components/schemas/PayoutEnvelope"}
    assert delete["responses"]["200"]["links"]["DeletePayoutAgain"]["parameters"] == {"id": "$request.path.id"}
    assert "404" in delete["responses"]


def test_create_links_feed_the_other_operations() -> None:
    links = SPEC["paths"]["/payouts"]["post"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in links.values()} == {
        "retrieve_payout",
        "update_payout",
        "delete_payout",
        "start_payouts",
    }
    assert links["RetrievePayout"]["parameters"] == {"id": "$response.body#/v1~1payout/id"}


def test_a_customer_is_described_in_full_or_named_by_id_and_never_both() -> None:
    import jsonschema

    customer = SCHEMAS["PayoutCreate"]["properties"]["customer"]
    assert customer["oneOf"] == [{"$ref": "#/components/schemas/CustomerInput"},
                                 {"$ref": "#/components/schemas/CustomerRef"}]
    assert "404" in SPEC["paths"]["/payouts"]["post"]["responses"]
    definitions = {name: _as_json_schema(schema) for name, schema in SCHEMAS.items()}
    validator = jsonschema.Draft4Validator({"oneOf": [{"$ref": "#/definitions/CustomerInput"},
                                                       {"$ref": "#/definitions/CustomerRef"}],
                                            "definitions": definitions})
    assert validator.is_valid({"id": 12})
    assert validator.is_valid({"firstname": "Ada", "lastname": "Lovelace"})
    assert not validator.is_valid({"id": 0})
    assert not validator.is_valid({"id": 12, "firstname": "Ada"})  # neither branch: no lastname, an extra field


def test_an_update_can_move_scheduled_at_in_the_same_forms_start_takes() -> None:
    moved = SCHEMAS["PayoutUpdate"]["properties"]["scheduled_at"]
    start = SCHEMAS["StartPayout"]["properties"]["scheduled_at"]
    assert (moved["type"], moved["pattern"]) == (start["type"], start["pattern"])
    assert "scheduled" in moved["description"]


def _as_json_schema(schema: Any) -> Any:
    """OpenAPI 3.0 refs point at components; JSON Schema's at definitions."""
    if isinstance(schema, dict):
        return {k: (v.replace("#/components/schemas/", "#/definitions/") if k == "$ref" else _as_json_schema(v))
                for k, v in schema.items()}
    if isinstance(schema, list):
        return [_as_json_schema(item) for item in schema]
    return schema


def test_a_step_whose_target_vanished_stops_the_pipeline(tmp_path: Path) -> None:
    broken = tmp_path / "99-broken.yaml"
    broken.write_text(
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\n"
        "actions:\n  - target: $.components.schemas.NoSuchSchema\n    update: {nullable: true}\n",
        encoding="utf-8",
    )
    expected = r"99-broken.yaml: action 1: target .*NoSuchSchema matches nothing"
    with pytest.raises(regenerate.PipelineError, match=expected):
        _normalize([*OVERLAYS, broken])


def test_a_yaml_flow_map_split_at_a_comma_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "99-flow.yaml"
    broken.write_text(
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\n"
        "actions:\n  - target: $.info\n    update: {description: one, two words}\n",
        encoding="utf-8",
    )
    with pytest.raises(regenerate.PipelineError, match="flow map split at a comma"):
        _normalize([*OVERLAYS, broken])


def _normalize_edited(edit: Any) -> dict[str, Any]:
    """The committed overlays applied to the upstream YAML after `edit` changed it (as FedaPay might)."""
    page = (ROOT / regenerate.PAGE).read_text(encoding="utf-8")
    upstream = yaml.safe_load(regenerate.extract(page, "page"))
    edit(upstream)
    return regenerate.normalize(upstream, OVERLAYS)


def _create_body(upstream: dict[str, Any]) -> dict[str, Any]:
    return upstream["paths"]["/payouts"]["post"]["requestBody"]["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def _created(upstream: dict[str, Any]) -> dict[str, Any]:
    return upstream["paths"]["/payouts"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def test_a_constraint_added_upstream_to_a_create_field_reaches_update() -> None:
    def cap_amount(upstream: dict[str, Any]) -> None:
        # Not `maximum`: overlay 14 sets FedaPay's documented cap, which rightly wins over upstream's.
        _create_body(upstream)["properties"]["amount"]["multipleOf"] = 5
        _create_body(upstream)["properties"]["mode"]["maxLength"] = 32

    schemas = _normalize_edited(cap_amount)["components"]["schemas"]

    for body in ("PayoutCreate", "PayoutUpdate"):
        assert schemas[body]["properties"]["amount"]["multipleOf"] == 5, body
        assert schemas[body]["properties"]["amount"]["maximum"] == 1_000_000, body  # FedaPay's cap (overlay 14)
        assert schemas[body]["properties"]["amount"]["minimum"] == 1, body  # the overlay's own narrowing stays
        assert schemas[body]["properties"]["mode"]["maxLength"] == 32, body
    assert schemas["PayoutUpdate"]["properties"]["amount"]["description"] == "New amount."


def test_an_upstream_change_to_the_ids_reaches_the_customer_reference_and_the_start_item() -> None:
    def retype(upstream: dict[str, Any]) -> None:
        _created(upstream)["properties"]["customer_id"]["type"] = "string"
        _created(upstream)["properties"]["id"]["format"] = "int64"
        _created(upstream)["properties"]["scheduled_at"]["maxLength"] = 40

    schemas = _normalize_edited(retype)["components"]["schemas"]

    assert schemas["CustomerRef"]["properties"]["id"]["type"] == "string"
    assert schemas["StartPayout"]["properties"]["id"]["format"] == "int64"
    start_date = schemas["StartPayout"]["properties"]["scheduled_at"]
    assert start_date["maxLength"] == 40
    assert schemas["PayoutUpdate"]["properties"]["scheduled_at"]["maxLength"] == 40  # step 11 copies start's
    # ... and stays what start needs: never null, the libraries' date form allowed by the pattern.
    assert "nullable" not in start_date
    assert "format" not in start_date
    assert start_date["pattern"].startswith("^[1-9]")
