"""Only a test's own code drives the `/_mock/` controls: a web page open in the tester's browser cannot.

A page may send a "simple" cross-origin POST (`Content-Type: text/plain`, no CORS preflight) to any address,
loopback included; the controls refuse it (415: not JSON) and any request carrying `Origin` (403).
"""

from __future__ import annotations

import httpx
import pytest
from fedapay_mock import MockServer

from tests.mock.mock_support import ReplyChecker, create

MOVE_A_DAY = b'{"advance_seconds": 86400}'


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "text/json"])
def test_a_post_that_is_not_json_moves_no_clock(mock: MockServer, content_type: str | None) -> None:
    before = mock.stats()["clock"]
    headers = {} if content_type is None else {"Content-Type": content_type}

    reply = httpx.post(mock.root_url + "/_mock/clock", content=MOVE_A_DAY, headers=headers)

    assert reply.status_code == 415
    assert reply.json()["errors"] == {"Content-Type": ["must be application/json"]}
    assert mock.stats()["clock"] == before


def test_a_post_that_is_not_json_arms_no_fault_and_resets_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker
) -> None:
    create(api, check)
    plain = {"Content-Type": "text/plain"}

    armed = httpx.post(
        mock.root_url + "/_mock/faults", content=b'{"operation": "create_payout", "fault": "status"}', headers=plain
    )
    reset = httpx.post(mock.root_url + "/_mock/reset", content=b"{}", headers=plain)
    empty_reset = httpx.post(mock.root_url + "/_mock/reset")

    assert (armed.status_code, reset.status_code, empty_reset.status_code) == (415, 415, 415)
    assert httpx.get(mock.root_url + "/_mock/faults").json() == {"armed": {}}
    assert mock.stats()["payouts_total"] == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/_mock/clock", MOVE_A_DAY),
        ("POST", "/_mock/reset", b"{}"),
        ("POST", "/_mock/faults", b'{"operation": "create_payout", "fault": "status"}'),
        ("GET", "/_mock/stats", b""),
        ("GET", "/_mock/nothing", b""),
    ],
)
@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1"])
def test_a_request_from_a_web_page_is_403_and_changes_nothing(
    mock: MockServer, api: httpx.Client, check: ReplyChecker, method: str, path: str, body: bytes, origin: str
) -> None:
    create(api, check)
    before = mock.stats()
    headers = {"Content-Type": "application/json", "Origin": origin}

    reply = httpx.request(method, mock.root_url + path, content=body, headers=headers)

    assert reply.status_code == 403
    assert list(reply.json()["errors"]) == ["Origin"]
    after = mock.stats()
    assert (after["clock"], after["payouts_total"]) == (before["clock"], 1)
    assert httpx.get(mock.root_url + "/_mock/faults").json() == {"armed": {}}


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
def test_json_in_any_spelling_drives_the_controls(mock: MockServer, content_type: str) -> None:
    before = httpx.get(mock.root_url + "/_mock/clock").json()["now"]

    moved = httpx.post(mock.root_url + "/_mock/clock", content=MOVE_A_DAY, headers={"Content-Type": content_type})
    emptied = httpx.post(mock.root_url + "/_mock/reset", headers={"Content-Type": content_type})

    assert moved.status_code == 200
    assert moved.json()["now"][:10] > before[:10]
    assert emptied.json() == {"reset": True}


def test_the_control_methods_send_what_the_controls_take(mock: MockServer) -> None:
    """`MockControls` (and so the pytest fixture's reset) sends JSON with no Origin: every method still works."""
    before = mock.stats()["clock"]
    mock.advance_clock(86400)
    mock.arm_fault("list_payouts", "status")

    assert mock.stats()["clock"] > before
    assert mock.reset() == {"reset": True}
    assert mock.stats()["clock"][:10] == before[:10]
    assert httpx.get(mock.root_url + "/_mock/faults").json() == {"armed": {}}
