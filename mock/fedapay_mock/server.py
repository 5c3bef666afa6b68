"""Run the mock: a real uvicorn server on loopback in a background thread, plus a client for its controls."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Unpack

import httpx

from .app import MockApp, create_app
from .options import MockOptions, MockSettings

START_TIMEOUT = 15.0


class MockControls:
    """Drives the `/_mock/` controls of a mock running at `root_url` (in-process or not)."""

    def __init__(self, root_url: str) -> None:
        self.root_url = root_url.rstrip("/")
        self.base_url = self.root_url + "/v1"
        self._http = httpx.Client(base_url=self.root_url + "/_mock", timeout=10.0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = self._http.request(method, path, json=payload)
        if reply.status_code >= 400:
            raise ValueError(f"mock control {path} refused: {reply.text}")
        result: dict[str, Any] = reply.json()
        return result

    def arm_fault(
        self,
        operation: str,
        fault: str,
        times: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        delay: float | None = None,
    ) -> dict[str, Any]:
        """Arm `fault` for the next `times` requests to `operation` (an operationId)."""
        payload: dict[str, Any] = {"operation": operation, "fault": fault, "times": times}
        for name, value in (("status", status), ("retry_after", retry_after), ("delay", delay)):
            if value is not None:
                payload[name] = value
        return self._call("POST", "/faults", payload)

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/stats")

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "/clock", {"advance_seconds": seconds})

    def reset(self) -> dict[str, Any]:
        return self._call("POST", "/reset")

    def close(self) -> None:
        self._http.close()


class MockServer(MockControls):
    """A mock served by uvicorn in a thread of this process; `app` gives direct access to its state."""

    def __init__(self, app: MockApp, sock: socket.socket) -> None:
        import uvicorn

        host, port = sock.getsockname()[:2]
        super().__init__(f"http://{host}:{port}")
        self.app = app
        self.port: int = port
        self._sock = sock
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            server_header=False,
            date_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name=f"fedapay-mock-{port}", daemon=True)

    def _serve(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the FedaPay mock did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.close()
        self._sock.close()


@contextlib.contextmanager
def run_mock(options: MockOptions | None = None, /, **settings: Unpack[MockSettings]) -> Iterator[MockServer]:
    """Serve a fresh mock on 127.0.0.1, a free port; yields the server (`base_url` ends in `/v1`).

    `options` (default `MockOptions()`) with any keyword settings on top, as `create_app` takes them."""
    app = create_app(options, **settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = MockServer(app, sock)
    server.start()
    try:
        yield server
    finally:
        server.stop()
