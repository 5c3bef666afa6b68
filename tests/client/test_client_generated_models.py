"""Issue 15, item 5: the generated models come from our own model template (spec/templates/model.py.jinja).

Its `from_dict` and `to_dict` must do what the generator's own template does, only with less work per
call: the same attributes of the same types from any reply, the same dict back, in the same order.
That is checked here against models built by the generator's own template, on payouts whose fields
are replaced by values of every JSON type. Where ours differs it is on purpose, and tested: a nested
model that is not a JSON object is refused (the generator's `dict(...)` read `[]` or a list of pairs
as one), and every annotation of a model resolves at run time (the generator imported the models a
model names only for type checkers).
"""

from __future__ import annotations

import ast
import importlib
import shutil
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import fedapay_payouts_api.models
import pytest
import regenerate
from fedapay_payouts import APIResponseValidationError, FedaPayError, _wire
from fedapay_payouts_api.models.list_meta import ListMeta
from fedapay_payouts_api.models.payout import Payout
from fedapay_payouts_api.models.payout_list import PayoutList
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.client.hostile_server import HostileServer, payout, reply
from tests.client.twin_support import Twin

ROOT = Path(__file__).resolve().parents[2]
MODELS = Path(fedapay_payouts_api.models.__file__).parent
UPSTREAM = "upstream_generated_api"  # the generator's own output, imported under this name


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The models of the same spec as openapi-python-client's own templates make them."""
    out = tmp_path_factory.mktemp("upstream")
    regenerate.run_generator(ROOT / regenerate.NORMALIZED, ROOT / regenerate.GENERATOR_CONFIG, out)  # no templates=
    shutil.move(out / regenerate.PACKAGE, out / UPSTREAM)
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(f"{UPSTREAM}.models")
    finally:
        sys.path.remove(str(out))
        for name in [name for name in sys.modules if name.split(".")[0] == UPSTREAM]:
            del sys.modules[name]


JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=8),
    st.sampled_from(["2026-01-05T10:00:00Z", "2026-01-05", "2026-01-05T10:00:00+01:00", "not a date", ""]),
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "id", "iso", "klass"]), inner,
                                                                max_size=3),
    max_leaves=6,
)
MISSING = object()
FIELDS = [field.name for field in attrs.fields(Payout) if field.name != "additional_properties"]
NESTED = {"customer", "currency"}  # fields holding a model that is not nullable


def _outcome(model: type[Any], data: dict[str, Any]) -> tuple[str, Any]:
    """What parsing `data` gives: each attribute (type name and value, nested models as dicts) and
    `to_dict()` as an ordered list of items; or the exception type."""
    try:
        value = model.from_dict(data)
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return "raised", type(exc).__name__
    fields = [
        (field.name, type(getattr(value, field.name)).__name__, _plain(getattr(value, field.name)))
        for field in attrs.fields(type(value))
    ]
    return "parsed", (fields, list(value.to_dict().items()))


def _plain(value: Any) -> Any:
    """A value comparable across the two packages: a model as its dict, either package's UNSET as one marker."""
    if type(value).__name__ == "Unset":
        return "<UNSET>"
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value.to_dict() if attrs.has(type(value)) else value


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.dictionaries(st.sampled_from(FIELDS), st.one_of(st.just(MISSING), JSON), max_size=6),
    extra=st.dictionaries(st.sampled_from(["zz_new", "v1/other", "id "]), JSON, max_size=2),
    nested=st.dictionaries(st.sampled_from(sorted(NESTED)),
                           st.dictionaries(st.sampled_from(["klass", "id", "iso", "firstname", "more"]), JSON)),
)
def test_from_dict_and_to_dict_match_the_generators_own_template(
    upstream: ModuleType, changes: dict[str, Any], extra: dict[str, Any], nested: dict[str, Any]
) -> None:
    data = payout(5, **extra, **nested)
    for name, value in changes.items():
        if value is MISSING:
            data.pop(name, None)
        elif name not in NESTED or isinstance(value, dict):  # a nested model that is not an object: see below
            data[name] = value

    assert _outcome(Payout, data) == _outcome(upstream.Payout, data)


def test_a_full_payout_and_a_page_parse_and_dump_as_the_generators_own_models(upstream: ModuleType) -> None:
    full = payout(
        5, scheduled_at="2026-02-01T08:00:00Z", sent_at=None, metadata={"a": [1]}, custom_metadata={"order": 7},
        customer={"klass": "v1/customer", "id": 7, "firstname": "Ada", "extra": True},
        currency={"klass": "v1/currency", "id": 1, "iso": "XOF"}, unknown_field={"kept": 1},
    )
    page = {"v1/payouts": [full, payout(6)], "meta": {"current_page": 1, "next_page": None, "prev_page": None,
                                                      "total_pages": 1, "total_count": 2, "per_page": 25}}

    assert _outcome(Payout, full) == _outcome(upstream.Payout, full)
    assert _outcome(PayoutList, page) == _outcome(upstream.PayoutList, page)
    assert Payout.from_dict(full).additional_properties == {"unknown_field": {"kept": 1}}


def test_a_missing_required_field_is_the_same_key_error() -> None:
    data = payout(5)
    del data["status"]

    with pytest.raises(KeyError) as caught:
        Payout.from_dict(data)

    assert caught.value.args == ("status",)


@pytest.mark.parametrize("name", ["customer", "currency"])
@pytest.mark.parametrize("value", [[["klass", "v1/currency"], ["id", 1], ["iso", "XOF"]], []],
                         ids=["list of pairs", "empty list"])
def test_a_nested_model_that_is_not_an_object_is_refused(
    twin: Twin, hostile_server: HostileServer, name: str, value: Any
) -> None:
    # The generator's `dict(value)` read [] as an empty object and a list of pairs as an object.
    hostile_server.script(reply(200, {"v1/payout": payout(5, **{name: value})}))

    with pytest.raises(FedaPayError) as caught:
        twin.call(lambda p: p.retrieve(5), max_retries=0)

    assert type(caught.value) is APIResponseValidationError
    assert "GET /v1/payouts/5 replied 200 but a payout in it cannot be read" in str(caught.value)


@pytest.mark.parametrize("model", [Payout, PayoutList, ListMeta], ids=lambda model: model.__name__)
def test_every_annotation_of_a_model_resolves(model: type[Any]) -> None:
    hints = typing.get_type_hints(model)

    assert set(hints) == {field.name for field in attrs.fields(model)}


@pytest.mark.parametrize(("fields", "accepted"), [({}, True), ({"amount": "1000"}, False)], ids=["valid", "wrong type"])
def test_replies_are_read_the_same_after_a_caller_resolves_the_annotations(
    twin: Twin, hostile_server: HostileServer, fields: dict[str, Any], accepted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_wire, "_DECLARED", {})  # as in a fresh process: the check is built after the resolve
    # `attrs.resolve_types` (as cattrs and friends call it) turns each field's `type` from text into
    # objects, for the rest of the process; the client's type check of a reply must not depend on which.
    for model in (Payout, ListMeta):
        attrs.resolve_types(model)
    hostile_server.script(reply(200, {"v1/payout": payout(5, **fields)}))

    if accepted:
        assert twin.call(lambda p: p.retrieve(5), max_retries=0).amount == 1000
    else:
        with pytest.raises(APIResponseValidationError, match="has a amount of the wrong type"):
            twin.call(lambda p: p.retrieve(5), max_retries=0)


def test_payout_annotations_name_the_nested_models() -> None:
    hints = typing.get_type_hints(Payout)

    assert typing.get_args(hints["customer"])[0].__name__ == "PayoutCustomer"
    assert typing.get_args(hints["currency"])[0].__name__ == "PayoutCurrency"


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name in ("from_dict", "to_dict"):
                    yield f"{node.name}.{item.name}", item


@pytest.mark.parametrize("path", sorted(MODELS.glob("*.py")), ids=lambda path: path.name)
def test_from_dict_and_to_dict_import_nothing_and_define_no_function_per_call(path: Path) -> None:
    for name, function in _functions(ast.parse(path.read_text(encoding="utf-8"))):
        inner = [type(node).__name__ for node in ast.walk(function) if node is not function and isinstance(
            node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.Lambda)]
        assert inner == [], f"{name} imports or defines {inner} on every call"


@pytest.mark.parametrize(("nested", "wrong"), [
    ({"customer": {"klass": "v1/customer", "id": 8.0, "firstname": "A", "lastname": "B"}}, "customer.id of the "
     "wrong type (float)"),
    ({"customer": {"klass": "v1/customer", "id": "7", "firstname": "A", "lastname": "B"}}, "customer.id of the "
     "wrong type (str)"),
    ({"currency": {"klass": "v1/currency", "id": 1, "iso": 952}}, "currency.iso of the wrong type (int)"),
    ({"currency": {"klass": "v1/currency", "id": 1, "iso": None}}, "currency.iso of the wrong type (NoneType)"),
], ids=["customer id float", "customer id text", "currency iso number", "currency iso null"])
def test_a_nested_models_fields_are_checked_like_the_payouts_own(
    twin: Twin, hostile_server: HostileServer, nested: dict[str, Any], wrong: str
) -> None:
    """A payout's customer and currency were read without their types checked: `customer.id` 8.0 or "7" and
    `currency.iso` 952 or null passed, and a create compared nothing it could not read (tenth review)."""
    hostile_server.script(reply(200, {"v1/payout": payout(5, **nested)}))

    with pytest.raises(APIResponseValidationError) as caught:
        twin.call(lambda p: p.retrieve(5), max_retries=0)
    assert f"has a {wrong}" in str(caught.value)
