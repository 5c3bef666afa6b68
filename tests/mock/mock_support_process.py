"""Run the mock as a separate process through its console script or `python -m`, for the tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

SCRIPT = Path(sys.executable).with_name("fedapay-mock")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MockProcess:
    """`fedapay-mock --host 127.0.0.1 --port PORT ...` (or `python -m fedapay_mock`) until the block ends."""

    def __init__(self, *extra: str, module: bool = False) -> None:
        self.port = free_port()
        self.root_url = f"http://127.0.0.1:{self.port}"
        self.base_url = self.root_url + "/v1"
        launcher = [sys.executable, "-m", "fedapay_mock"] if module else [str(SCRIPT)]
        self.command = [*launcher, "--host", "127.0.0.1", "--port", str(self.port), *extra]
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> MockProcess:
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                _, err = self.process.communicate()
                raise RuntimeError(f"the mock exited: {err.decode(errors='replace')}")
            try:
                httpx.get(self.root_url + "/_mock/stats", timeout=1.0)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("the mock did not start in time")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
