"""Serve any ASGI app on 127.0.0.1, a free port, in a background thread (for the broken variants).

The real mock is started with `fedapay_mock.run_mock()`; the broken variants wrap `create_app()`
in middleware, so they need a server for an arbitrary app. Same shape as `run_mock()`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

STARTUP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Served:
    root_url: str

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"


@contextmanager
def serve_asgi(app: ASGIApp) -> Iterator[Served]:
    """Run `app` under uvicorn until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield Served(root_url=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT)
        sock.close()
