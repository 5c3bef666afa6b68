"""A reverse proxy in front of the mock, served on loopback, whose `rewrite` sees each GET's path and query
before it is forwarded: a server ignoring `page` or a search's term, or another hand moving the list between
two pages, which the mock does not do by itself; and whose `answer` (optional) sees every reply before it is
sent back: a hostile or newer server (a status the mock never sends, text made to forge a line)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable

import httpx
from fedapay_mock.asgi import Receive, Scope, Send

Query = dict[str, str]
Rewrite = Callable[[str, Query], Awaitable[Query]]
# (method, path, status, body) -> (status, body) sent back instead
Answer = Callable[[str, str, int, bytes], tuple[int, bytes]]
HOP_HEADERS = frozenset({"host", "content-length", "content-encoding", "transfer-encoding", "connection"})


class Proxy:
    """Forwards every request to `upstream_root` (the mock's root URL), GET queries through `rewrite`, and
    every reply through `answer`."""

    def __init__(self, upstream_root: str, rewrite: Rewrite, answer: Answer | None = None) -> None:
        self.upstream = upstream_root.rstrip("/")
        self.rewrite = rewrite
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        method, path = scope["method"], scope["path"]
        query = dict(urllib.parse.parse_qsl(scope["query_string"].decode(), keep_blank_values=True))
        if method == "GET":
            query = await self.rewrite(path, query)
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.decode().lower() not in HOP_HEADERS]
        async with httpx.AsyncClient(timeout=30) as client:
            reply = await client.request(method, self.upstream + path, params=query, content=body, headers=headers)
        status, content = reply.status_code, reply.content
        if self.answer is not None:
            status, content = self.answer(method, path, status, content)
        await send({"type": "http.response.start", "status": status, "headers": [
            (k.encode(), v.encode()) for k, v in reply.headers.items() if k.lower() not in HOP_HEADERS
        ]})
        await send({"type": "http.response.body", "body": content})
