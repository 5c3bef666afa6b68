"""Serve the mock: the one runner for any ASGI app (uvicorn on a socket it binds itself, in a background
thread or in the foreground), the mock's own CLI as a child process, and a client for the controls.

Binding the socket before the server starts is what makes port 0 safe: the port is known, and taken,
before anyone connects, so there is no "find a free port, then hope it is still free" race.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Unpack

import httpx
from fedapay_payouts._client import default_ssl_context

from . import gc_tuning
from .app import MockApp, create_app
from .asgi import ASGIApp
from .options import MockOptions, MockSettings

if TYPE_CHECKING:
    import uvicorn

START_TIMEOUT = 15.0
# How long stopping waits for requests still in flight (a client that never sends the body it announced,
# a fault's delay) before cancelling them: a test's teardown never hangs on a client.
GRACE_SECONDS = 0.5
LOOPBACK = "127.0.0.1"
# The line the CLI prints once its socket is bound; `spawn_mock` reads the URL from it.
SERVING = "fedapay-mock: serving "
CONSOLE_SCRIPT = Path(sys.executable).with_name("fedapay-mock")


def listening_socket(host: str = LOOPBACK, port: int = 0) -> socket.socket:
    """A listening TCP socket on `host:port` (port 0: a free one, chosen now and held)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


def free_port() -> int:
    """A port free right now, for servers this package does not start (Prism); prefer `listening_socket`."""
    with listening_socket() as sock:
        port: int = sock.getsockname()[1]
        return port


Lifespan = Literal["auto", "on", "off"]


class _QuietCancel(logging.Filter):
    """Drops uvicorn's traceback for a request the shutdown cancelled (a fault's delay still running): the
    server stopped on purpose, the request did not fail. Only while one of our servers is stopping (the
    `uvicorn.error` logger is shared with any other uvicorn app in the process); every other record passes."""

    def __init__(self) -> None:
        super().__init__()
        self.stopping = 0  # our servers in their shutdown now

    def filter(self, record: logging.LogRecord) -> bool:
        cancelled = record.exc_info is not None and isinstance(record.exc_info[1], asyncio.CancelledError)
        return not (cancelled and self.stopping)


_QUIET_CANCEL = _QuietCancel()


def _uvicorn_server(app: ASGIApp, *, log_level: str = "warning", lifespan: Lifespan = "on") -> uvicorn.Server:
    import uvicorn

    from .http_protocol import OneWriteHttpToolsProtocol

    config = uvicorn.Config(
        app,
        http=OneWriteHttpToolsProtocol,  # each reply in one write (http_protocol.py says why)
        log_level=log_level,
        access_log=False,
        proxy_headers=False,  # no proxy in front of a mock: X-Forwarded-* is not read, and costs a wrapper call
        lifespan=lifespan,
        server_header=False,
        date_header=False,
        # Past GRACE_SECONDS the connections are dropped (`_StoppingServer`); a request still running (a fault's
        # delay) is cancelled a moment later (whole seconds: uvicorn's type).
        timeout_graceful_shutdown=math.ceil(GRACE_SECONDS + 0.5),
    )
    logging.getLogger("uvicorn.error").addFilter(_QUIET_CANCEL)  # once: a logger keeps a filter once
    return _stopping_server_class()(config)


@functools.cache
def _stopping_server_class() -> type[uvicorn.Server]:
    """uvicorn's server, which drops the connections still open `GRACE_SECONDS` into its shutdown."""
    import uvicorn

    class _StoppingServer(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # A client holding a request open (a body announced and never sent) sees the connection close,
            # not a 500, and the request's task ends at once instead of at the timeout.
            timer = asyncio.get_running_loop().call_later(GRACE_SECONDS, self._drop_open_connections)
            _QUIET_CANCEL.stopping += 1
            try:
                await super().shutdown(sockets)
            finally:
                timer.cancel()
                _QUIET_CANCEL.stopping -= 1

        def _drop_open_connections(self) -> None:
            for connection in list(self.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.abort()

    return _StoppingServer


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class AsgiServer:
    """Any ASGI app served by uvicorn on `sock` (default: loopback, a free port) in a background thread."""

    def __init__(self, app: ASGIApp, sock: socket.socket | None = None, *, lifespan: Lifespan = "on") -> None:
        self.app = app
        self._sock = sock if sock is not None else listening_socket()
        self.root_url = _url(self._sock)
        self.port: int = self._sock.getsockname()[1]
        self._server = _uvicorn_server(app, lifespan=lifespan)
        self._thread = threading.Thread(target=self._serve, name=f"asgi-server-{self.port}", daemon=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root_url={self.root_url!r})"

    @property
    def base_url(self) -> str:
        return self.root_url + "/v1"

    @property
    def running(self) -> bool:
        """Serving, and not asked to stop (`stop()`)."""
        return self._thread.is_alive() and not self._server.should_exit

    def _serve(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._sock.close()
                raise RuntimeError("the ASGI server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving within about `GRACE_SECONDS` (requests still open are cancelled), the thread ended."""
        server = self._server
        server.should_exit = True
        self._thread.join(timeout=GRACE_SECONDS + 1)
        if self._thread.is_alive():  # still shutting down: skip the waits left (the app's lifespan shutdown)
            server.force_exit = True
            self._thread.join(timeout=START_TIMEOUT)
        self._sock.close()


@contextlib.contextmanager
def serve_asgi(app: ASGIApp, *, lifespan: Lifespan = "on") -> Iterator[AsgiServer]:
    """Serve `app` on 127.0.0.1, a free port, until the block ends (`root_url`, `base_url`)."""
    server = AsgiServer(app, lifespan=lifespan)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def serve_forever(app: ASGIApp, host: str, port: int, *, log_level: str = "warning") -> None:
    """Serve `app` in the foreground until interrupted; prints the bound URL (the real port when 0).

    The process is the server's own, so the garbage collector is tuned for short pauses (`gc_tuning`)."""
    gc_tuning.tune()
    sock = listening_socket(host, port)
    print(f"{SERVING}{_url(sock)}/v1", file=sys.stderr, flush=True)
    try:
        _uvicorn_server(app, log_level=log_level).run(sockets=[sock])
    finally:
        sock.close()


class MockControls:
    """Drives the `/_mock/` controls of a mock running at `root_url` (in-process or not)."""

    def __init__(self, root_url: str) -> None:
        self.root_url = root_url.rstrip("/")
        self.base_url = self.root_url + "/v1"
        # The client's one shared TLS context: making one loads certifi's CA bundle (17 ms of CPU), which every
        # `MockControls` (one per mock a test starts) used to pay again.
        self._http = httpx.Client(base_url=self.root_url + "/_mock", timeout=10.0, verify=default_ssl_context())

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
        return self._call("POST", "/reset", {})  # a JSON body: the controls take no other (app.py)

    def close(self) -> None:
        self._http.close()


class MockServer(MockControls):
    """A mock served by `AsgiServer` in a thread of this process; `app` gives direct access to its state."""

    def __init__(self, app: MockApp, sock: socket.socket | None = None) -> None:
        self._runner = AsgiServer(app, sock)
        super().__init__(self._runner.root_url)
        self.app = app
        self.port: int = self._runner.port

    @property
    def running(self) -> bool:
        """Serving: started, and not stopped."""
        return self._runner.running

    def start(self) -> None:
        self._runner.start()

    def stop(self) -> None:
        self._runner.stop()
        self.close()


@contextlib.contextmanager
def run_mock(options: MockOptions | None = None, /, **settings: Unpack[MockSettings]) -> Iterator[MockServer]:
    """Serve a fresh mock on 127.0.0.1, a free port; yields the server (`base_url` ends in `/v1`).

    `options` (default `MockOptions()`) with any keyword settings on top, as `create_app` takes them."""
    server = MockServer(create_app(options, **settings))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class SpawnedMock(MockControls):
    """The mock's CLI in a child process; `stderr` holds what it printed so far."""

    def __init__(self, process: subprocess.Popen[bytes], root_url: str, drained: list[bytes]) -> None:
        super().__init__(root_url)
        self.process = process
        self.port = int(root_url.rsplit(":", 1)[1])
        self._drained = drained

    @property
    def stderr(self) -> bytes:
        return b"".join(self._drained)


@contextlib.contextmanager
def spawn_mock(
    *cli_args: str, module: bool = False, cwd: str | None = None, env: dict[str, str] | None = None
) -> Iterator[SpawnedMock]:
    """`fedapay-mock --host 127.0.0.1 --port 0 ARGS` (or `python -m fedapay_mock`) in its own process until
    the block ends; the URL is the one the CLI printed once bound, so no port is guessed."""
    launcher = [sys.executable, "-m", "fedapay_mock"] if module else [str(CONSOLE_SCRIPT)]
    command: Sequence[str] = [*launcher, "--host", LOOPBACK, "--port", "0", *cli_args]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd, env=env)  # noqa: S603
    assert process.stderr is not None
    drained: list[bytes] = []
    root_url = _wait_for_url(process, drained)
    # Keep reading stderr so a chatty child never blocks on a full pipe.
    drainer = threading.Thread(target=_drain, args=(process, drained), daemon=True)
    drainer.start()
    mock = SpawnedMock(process, root_url, drained)
    try:
        _wait_until_answering(mock)
        yield mock
    finally:
        mock.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        drainer.join(timeout=10)  # `stderr` is then complete
        process.stderr.close()


def _wait_for_url(process: subprocess.Popen[bytes], drained: list[bytes]) -> str:
    assert process.stderr is not None
    timer = threading.Timer(START_TIMEOUT, process.kill)  # a silent child cannot hold readline forever
    timer.start()
    try:
        for line in process.stderr:
            drained.append(line)
            text = line.decode("utf-8", "replace").strip()
            if text.startswith(SERVING):
                return text[len(SERVING) :].removesuffix("/v1")
    finally:
        timer.cancel()
    process.wait()
    raise RuntimeError(f"the mock exited ({process.returncode}): {b''.join(drained).decode(errors='replace')}")


def _drain(process: subprocess.Popen[bytes], drained: list[bytes]) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        if len(drained) < 10_000:
            drained.append(line)


def _wait_until_answering(mock: SpawnedMock) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            mock.stats()
            return
        except httpx.TransportError:
            if time.monotonic() > deadline or mock.process.poll() is not None:
                raise RuntimeError("the mock did not answer in time") from None
            time.sleep(0.05)
