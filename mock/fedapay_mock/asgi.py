"""The ASGI 3 types the mock and its runner use (the same shapes as starlette's, without depending on it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Beside ASGI: a reply as the server writes it (status, header fields, body), and an app's `serve_now` (method,
# path as sent, query string, the request's header fields, its whole body) giving one, or None for a request the
# app serves through ASGI (`MockApp.serve_now`; `http_protocol.py` calls it for the app's `direct_routes`). The
# reply is checked as uvicorn checks an ASGI reply (status, header names and values) and must carry a
# Content-Length equal to its body's length; one that does not is uvicorn's 500.
Fields = list[tuple[bytes, bytes]]
Encoded = tuple[int, Fields, bytes]
ServeNow = Callable[[str, bytes, bytes, Fields, bytes], Encoded | None]
