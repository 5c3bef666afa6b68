"""One runner for any ASGI app (`fedapay_mock.server`): in a thread, in the foreground for the CLI (port 0
prints the real port), and the CLI as a child process; none of it needs starlette."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fedapay_mock import MockServer, run_mock
from fedapay_mock.asgi import Receive, Scope, Send
from fedapay_mock.server import listening_socket, serve_asgi, spawn_mock

from tests.mock.mock_support import AUTH, payout_body

REPO = Path(__file__).resolve().parents[2]


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    """The smallest ASGI app that is not the mock."""
    if scope["type"] != "http":
        return
    body = f"hello {scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


def test_any_asgi_app_is_served_on_a_free_loopback_port_until_the_block_ends() -> None:
    with serve_asgi(hello, lifespan="off") as served:
        assert served.root_url == f"http://127.0.0.1:{served.port}"
        assert httpx.get(served.root_url + "/x").text == "hello /x"
    with pytest.raises(httpx.ConnectError):
        httpx.get(served.root_url + "/x", timeout=2)


def _half_body(mock: MockServer) -> socket.socket:
    """A client that announces a 100-byte body, sends one byte and keeps the connection open."""
    client = socket.create_connection(("127.0.0.1", mock.port))
    client.sendall(b"POST /v1/payouts HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n" + AUTH_LINE + b"\r\n{")
    return client


def _delayed(mock: MockServer, prefer: bool) -> socket.socket:
    """A request the mock holds for 30 s: an armed delay fault, or `Prefer: delay=`."""
    if prefer:
        extra = b"Prefer: code=503, delay=30\r\n"
    else:
        mock.arm_fault("list_payouts", "delay_before_reply", delay=30)
        extra = b""
    client = socket.create_connection(("127.0.0.1", mock.port))
    client.sendall(b"GET /v1/payouts HTTP/1.1\r\nHost: x\r\n" + AUTH_LINE + extra + b"\r\n")
    return client


AUTH_LINE = b"Authorization: " + AUTH["Authorization"].encode() + b"\r\n"


@pytest.mark.parametrize(
    "hold",
    [_half_body, lambda mock: _delayed(mock, prefer=False), lambda mock: _delayed(mock, prefer=True)],
    ids=["body-never-sent", "delay-fault", "prefer-delay"],
)
def test_stopping_does_not_wait_for_a_request_held_open(hold: Callable[[MockServer], socket.socket]) -> None:
    with run_mock() as mock:
        name = f"asgi-server-{mock.port}"
        client = hold(mock)
        time.sleep(0.3)  # the request has reached the app
        began = time.monotonic()
    took = time.monotonic() - began
    with client:
        assert took < 5  # a generous bound: it waited 10 s, then left the thread serving
        assert name not in {thread.name for thread in threading.enumerate()}
        client.settimeout(5)
        assert client.recv(100) == b""  # the connection is closed, not answered (a 500 would be a lie)
    with pytest.raises(httpx.ConnectError):
        httpx.get(mock.base_url + "/payouts", headers=AUTH, timeout=2)


def test_the_socket_is_bound_before_the_server_starts() -> None:
    with listening_socket() as sock:
        port = sock.getsockname()[1]
        with socket.socket() as other, pytest.raises(OSError, match="in use"):
            other.bind(("127.0.0.1", port))  # held: nobody else can take it in the meantime


def test_the_cli_on_port_zero_prints_the_port_it_bound_and_serves_there() -> None:
    with spawn_mock("--max-payouts-per-number", "none", "--freeze-clock") as mock:
        assert mock.port > 0
        assert f"serving http://127.0.0.1:{mock.port}/v1".encode() in mock.stderr
        with httpx.Client(base_url=mock.base_url, headers=AUTH) as api:
            ids = [api.post("/payouts", json=payout_body()).json()["v1/payout"]["id"] for _ in range(5)]
            assert api.put("/payouts/start", json={"payouts": [{"id": i} for i in ids]}).status_code == 200


def test_the_cli_says_when_it_cannot_listen() -> None:
    with listening_socket() as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "fedapay_mock", "--port", str(port)], capture_output=True, timeout=30
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}".encode() in done.stderr


def test_the_mock_extra_has_no_starlette_and_serving_never_imports_it() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert not [r for r in extras["mock"] if r.lower().startswith("starlette")]
    code = (
        "import sys, httpx\n"
        "from fedapay_mock import run_mock\n"
        "with run_mock() as s:\n"
        "    key = {'Authorization': 'Bearer sk_sandbox_x'}\n"
        "    assert httpx.get(s.base_url + '/payouts', headers=key).status_code == 200\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'starlette'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_the_runner_reads_no_proxy_headers() -> None:
    """No proxy stands in front of a mock: `X-Forwarded-For` from a loopback client is not believed (uvicorn
    would by default, at the cost of a middleware call on every request)."""

    async def client_address(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = f"{scope['client'][0]} {scope['scheme']}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    with serve_asgi(client_address, lifespan="off") as served:
        assert httpx.get(served.root_url + "/", headers=forwarded).text == "127.0.0.1 http"


def test_a_cancelled_request_is_still_logged_while_no_mock_is_stopping() -> None:
    """The filter that hides the traceback of a request cancelled by our shutdown sits on uvicorn's shared
    logger: outside a shutdown (another app of the process, or ours serving) a CancelledError is still logged."""
    import asyncio
    import logging

    from fedapay_mock.server import _QUIET_CANCEL

    try:
        raise asyncio.CancelledError
    except asyncio.CancelledError:
        record = logging.getLogger("uvicorn.error").makeRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application", (), sys.exc_info()
        )
    assert _QUIET_CANCEL.stopping == 0
    assert _QUIET_CANCEL.filter(record)
    _QUIET_CANCEL.stopping += 1
    try:
        assert not _QUIET_CANCEL.filter(record)
    finally:
        _QUIET_CANCEL.stopping -= 1
