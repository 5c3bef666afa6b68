"""Serve any ASGI app on 127.0.0.1, a free port, in a background thread (for the broken variants).

The real mock is started with `fedapay_mock.run_mock()`; the broken variants wrap `create_app()`
in middleware, so they need a server for an arbitrary app: the mock package's one runner
(`fedapay_mock.server.serve_asgi`), without the lifespan protocol the middleware need not speak.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fedapay_mock.asgi import ASGIApp
from fedapay_mock.server import AsgiServer
from fedapay_mock.server import serve_asgi as _serve

Served = AsgiServer


@contextmanager
def serve_asgi(app: ASGIApp) -> Iterator[Served]:
    """Run `app` under uvicorn until the block ends (`root_url`, `base_url`)."""
    with _serve(app, lifespan="off") as served:
        yield served
