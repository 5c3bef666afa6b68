"""The spec drives the client: an upstream change, regenerated in a copy, reaches the methods users call.

Each test edits FedaPay's page in a copy of the project, regenerates there, and runs the copy's own
hand-written client (its folders first on sys.path, in a child process: `client_driver.py`) against
a recording server on loopback. No file of the client is edited in the copy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.spine.spine_support import copy_project, edit_page, regenerate
from tests.user_mypy import run_user_mypy

DRIVER = Path(__file__).with_name("client_driver.py")
AMOUNT = (
    "                amount:\n                  type: integer\n                  description: Amount of the payout.\n"
)
PATHS = "paths:\n  /payouts:\n"


def _regenerate(copy: Path) -> None:
    done = regenerate("--root", str(copy), "--accept-breaking", "spine test: callers follow the new spec")
    assert done.returncode == 0, done.stdout + done.stderr


def _drive(copy: Path, scenario: str) -> dict[str, Any]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "FEDAPAY_API_KEY")}
    done = subprocess.run(
        [sys.executable, str(DRIVER), str(copy), scenario], capture_output=True, text=True, check=False, env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def callback_url_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy regenerated with a new optional `callback_url` on create: two tests read it, neither changes it."""
    copy = copy_project(tmp_path_factory.mktemp("callback_url"))
    edit_page(copy, AMOUNT, AMOUNT + "                callback_url:\n                  type: string\n")
    _regenerate(copy)
    return copy


def test_a_new_optional_request_field_is_sent_by_create(callback_url_copy: Path) -> None:
    run = _drive(callback_url_copy, "new-field")

    assert "value" in run["results"]["create"], run
    (sent, *rest) = run["sent"]
    assert rest == []
    assert (sent["method"], sent["path"]) == ("POST", "/payouts")
    assert sent["body"]["callback_url"] == "https://shop.example/cb"
    # Typed from the spec too: a wrong type is refused before any request, naming the field.
    assert run["results"]["create_bad_type"]["error"] == "InvalidArgumentError"
    assert run["results"]["create_bad_type"]["argument"] == "callback_url"


def test_a_new_maximum_is_refused_by_create_and_update_before_any_request(project_copy: Path) -> None:
    edit_page(project_copy, AMOUNT, AMOUNT + "                  maximum: 1000000\n")
    _regenerate(project_copy)

    run = _drive(project_copy, "maximum")

    for call in ("create_over", "update_over"):
        assert run["results"][call]["error"] == "InvalidArgumentError", run["results"][call]
        assert run["results"][call]["argument"] == "amount"
        assert "at most 1000000" in run["results"][call]["text"]
    # The only request is the one at the maximum, which the spec allows.
    assert [(s["method"], s["body"]["amount"]) for s in run["sent"]] == [("POST", 1_000_000)]


REPLY_AMOUNT = (
    "                  amount:\n                    type: integer\n                    description: Payout amount.\n"
)


def test_a_type_change_follows(project_copy: Path) -> None:
    edit_page(project_copy, AMOUNT, AMOUNT.replace("type: integer", "type: number"))
    edit_page(project_copy, REPLY_AMOUNT, REPLY_AMOUNT.replace("type: integer", "type: number"))
    _regenerate(project_copy)

    run = _drive(project_copy, "type-change")

    assert "value" in run["results"]["create_number"], run
    assert [s["body"]["amount"] for s in run["sent"]] == [10.5]
    assert run["results"]["create_string"]["argument"] == "amount"


NEW_OPERATIONS = """paths:
  /payouts/export:
    get:
      operationId: export_payouts
      summary: Export payouts
      parameters:
        - name: q
          in: query
          required: true
          schema:
            type: string
            minLength: 1
      responses:
        '200':
          description: Matching payouts.
          content:
            application/json:
              schema:
                type: object
                properties:
                  v1/payouts:
                    type: array
                    items:
                      type: object
  /payouts/{id}/cancel:
    post:
      operationId: cancel_payout
      summary: Cancel a payout
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: integer
            minimum: 1
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                reason:
                  type: string
      responses:
        '200':
          description: The cancelled payout.
  /payouts:
"""


def test_a_new_operation_is_callable_with_the_conservative_policy(project_copy: Path) -> None:
    edit_page(project_copy, PATHS, NEW_OPERATIONS)
    _regenerate(project_copy)

    run = _drive(project_copy, "new-operation")
    results, sent = run["results"], run["sent"]

    # A GET the retry table does not name is retried (503 refused, 502 maybe acted: a read is safe).
    assert results["search"]["value"]["v1/payouts"][0]["id"] == 7
    searches = [s for s in sent if s["path"] == "/payouts/export"]
    assert [(s["method"], s["query"]) for s in searches] == [("GET", {"q": "Ada"})] * 3
    cancels = [s for s in sent if s["path"] == "/payouts/7/cancel"]
    # Anything else: after a reply that may mean it acted (502), never sent again; the outcome is unknown.
    assert results["cancel_maybe_acted"]["error"] == "PayoutOutcomeUnknownError"
    assert "not sent again" in results["cancel_maybe_acted"]["text"]
    # Refused (503) means nothing happened: retried, then its reply.
    assert "value" in results["cancel_refused_then_ok"]
    assert [(s["method"], s["body"]) for s in cancels] == [("POST", {"reason": "typo"})] * 3
    # Its parameters are checked against the spec too, before any request.
    assert results["cancel_bad_id"]["argument"] == "id"


def test_mypy_sees_the_generated_parameter_types_a_new_field_included(callback_url_copy: Path, tmp_path: Path) -> None:
    project_copy = callback_url_copy
    snippet = tmp_path / "user_snippet.py"
    snippet.write_text(
        "from fedapay_payouts import FedaPay\n\n"
        "client = FedaPay('sk_sandbox_x')\n"
        "client.payouts.create(amount=1000, currency='XOF', mode='moov', customer={'id': 3},\n"
        "                      callback_url='https://shop.example/cb')\n"
        "client.payouts.create(amount=1000, currency='XOF', mode='moov', customer={'id': 3}, callback_url=5)\n"
        "client.payouts.create(amount='1000', currency='XOF', mode='moov', customer={'id': 3})\n"
        "client.payouts.update(7, amount=5, callbak_url='typo')\n",
        encoding="utf-8",
    )
    env = {**os.environ, "MYPYPATH": f"{project_copy / 'generated'}{os.pathsep}{project_copy / 'overrides'}"}
    # A cache of its own: the copy's `fedapay_payouts` is another file under the same module name, which
    # must not meet the installed one in the cache the other user runs share (`tests/user_mypy.py`).
    done = run_user_mypy(tmp_path / "mypy-cache", tmp_path, "--follow-imports=silent", snippet.name, env=env)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    lines = sorted(int(line.split(":")[1]) for line in errors)
    assert lines == [6, 7, 8], done.stdout
    assert '"callback_url" has incompatible type "int"' in done.stdout
    assert '"amount" has incompatible type "str"' in done.stdout
    assert 'Unexpected keyword argument "callbak_url"' in done.stdout


def test_a_field_the_spec_requires_without_declaring_it_is_given_through_extra_body(project_copy: Path) -> None:
    """No keyword carries a required name with no property: create refused it even in `extra_body`, so no
    create could be sent at all; now `extra_body` carries it, and without it the call is refused, naming it."""
    required = "              required:\n                - amount\n"
    edit_page(project_copy, required, required + "                - purpose\n")
    _regenerate(project_copy)

    run = _drive(project_copy, "required-undeclared")

    assert run["results"]["create_without"]["error"] == "InvalidArgumentError", run["results"]
    assert run["results"]["create_without"]["argument"] == "purpose"
    assert "value" in run["results"]["create_with_extra_body"], run["results"]
    assert [(s["method"], s["body"]["purpose"]) for s in run["sent"]] == [("POST", "salary")]
