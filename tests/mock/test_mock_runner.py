"""One runner for any ASGI app (`fedapay_mock.server`): in a thread, in the foreground for the CLI (port 0
prints the real port), and the CLI as a child process; none of it needs starlette."""

from __future__ import annotations

import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
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
