"""uvicorn's httptools protocol, each reply sent in one write: the runner's HTTP protocol.

uvicorn writes a reply's head (at `http.response.start`) and its body in two `transport.write` calls, and
uvloop sends each at once: two send system calls per reply, and the client, woken by the head, goes back
to sleep until the body comes and must be woken again. Waking a sleeping thread on another core is one of
the dearest things a server on this machine does: under wrk (50 connections, 2 cores) it was 13 µs of the
mock's 74 µs of CPU per create, in the kernel's `sock_def_readable` (`perf record -g` on the served mock;
README.md, "Mock server performance").

Here the writes a connection makes during one turn of the event loop wait in a list and leave in one
write at the end of that turn (`loop.call_soon`), or at once when the connection is closed. Nothing waits
longer than the turn it was written in: a reply whose body comes after a pause (a fault's delay, a streamed
body) still sends its head first. `abort` drops what waits, as it drops what the transport holds.

It also bounds a request's head, which uvicorn's httptools protocol does not (its `h11_max_incomplete_event_size`
is for h11 only): httptools joins the pieces of a header as they come, so one header of 200 MiB was kept
whole and took quadratic time (49 s, 312 MB, every other request stalled), and a head that never ends held
its connection for ever (a thousand such connections were held). A head is the request line and headers:
past `MAX_HEAD_BYTES` the reply is 431 and the connection closes, the rest unread and the request never
reaching the app; one not finished `HEAD_SECONDS` after its first byte (or after connecting) gets 408 and
the connection closes. A read that holds a whole head costs one comparison more than before, and one more
after it: only a read larger than a head may be, or one inside an unfinished head, takes the counting path.

It bounds a request's body in time too (uvicorn waits for it for ever: 20 connections that sent a head with
`Content-Length: 1000` and one byte were all open half a minute later, each holding an app task): a body not
complete `BODY_SECONDS` after the end of its head (a `Content-Length` never reached, a chunked body never
ended, nothing sent after `100 Continue`) gets 408 and the connection closes; the app waiting for it gets
`http.disconnect` and serves nothing. A request behind one still being served waits without the clock
running (its connection does not read meanwhile). A body complete in the read that ends its head arms no
timer: one attribute more is read per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from typing import Any, cast

import httptools
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from .asgi import Encoded, Fields, ServeNow

# The most a request's head (request line and headers, from its first byte to the blank line) may take.
MAX_HEAD_BYTES = 64 * 1024
# How long a client may take to send a head: from its first byte, or from connecting for the first one.
HEAD_SECONDS = 10.0
# How long a client may take to send a request's body, from the end of its head (read when a body starts
# unfinished: a test may set it).
BODY_SECONDS = 10.0


def _refusal(status: bytes, message: bytes, field: bytes, problem: bytes) -> bytes:
    """A whole reply that closes the connection, with FedaPay's Error body (`wire.error_body`)."""
    body = b'{"message":"%s","errors":{"%s":["%s"]}}' % (message, field, problem)
    head = b"HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
    return head % (status, len(body)) + body


HEAD_TOO_LARGE = _refusal(
    b"431 Request Header Fields Too Large",
    b"The request's headers are too large.",
    b"headers",
    b"the request line and headers must be at most %d bytes" % MAX_HEAD_BYTES,
)
HEAD_TOO_SLOW = _refusal(
    b"408 Request Timeout",
    b"The request's headers took too long.",
    b"headers",
    b"the request line and headers must arrive within %d seconds" % HEAD_SECONDS,
)


def body_too_slow() -> bytes:
    """The 408 for a body that took longer than `BODY_SECONDS` (built when sent: rare, and the time may be set)."""
    return _refusal(
        b"408 Request Timeout",
        b"The request's body took too long.",
        b"body",
        b"the request's body must arrive within %g seconds of its headers" % BODY_SECONDS,
    )


class _HeadDone:
    """A request's header fields once its head is complete (`OneWriteHttpToolsProtocol.on_headers_complete`): read
    as before (uvicorn looks for `Upgrade` in them while the body comes), but a trailer field appended goes nowhere."""

    __slots__ = ("fields",)

    def __init__(self, fields: list[tuple[bytes, bytes]]) -> None:
        self.fields = fields

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(self.fields)

    def append(self, field: object) -> None:
        pass


# The scope before a connection's first request begins: no request, no method (`"method" not in` it).
_CONNECTED: dict[str, Any] = {}
# uvicorn's reply when the app fails before replying (`RequestResponseCycle.send_500_response`).
_SERVER_ERROR: Encoded = (
    500,
    [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21"), (b"connection", b"close")],
    b"Internal Server Error",
)


class _WholeRequest:
    """A request read for the app's `serve_now`: what it is given once the request is complete."""

    __slots__ = ("body", "keep_alive", "method", "query", "raw_path")

    def __init__(self, method: str, raw_path: bytes, query: bytes, keep_alive: bool) -> None:
        self.method = method
        self.raw_path = raw_path
        self.query = query
        self.keep_alive = keep_alive
        self.body = bytearray()


class TurnBufferedTransport(asyncio.Transport):
    """A transport that joins the writes of one event-loop turn into one write to `transport`."""

    __slots__ = ("_call_soon", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._pending: list[bytes] = []
        self._call_soon = loop.call_soon

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._call_soon(self.flush)
        # Copied unless immutable: the writer may reuse a bytearray as soon as `write` returns.
        self._pending.append(data if type(data) is bytes else bytes(data))

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Send what waits, in one write (nothing once the connection is closing: its peer is gone)."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        if self._transport.is_closing():
            return
        self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(data) for data in self._pending)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a `TurnBufferedTransport`: a reply's head and body in one write; each
    request's head bounded in size and time.

    uvicorn gives each request a new scope when its head begins and sets its `method` when the head is
    complete, so `"method" not in self.scope` after a read says a head is unfinished."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(TurnBufferedTransport(transport, self.loop))
        self.scope = _CONNECTED  # type: ignore[assignment]  # (uvicorn's is None): no method yet
        # The unfinished head: its scope (None: none unfinished), its bytes so far, since when. `_fast_limit` is
        # the largest read the common path takes: MAX_HEAD_BYTES, or -1 (none) while a head may be unfinished.
        self._head_scope: object = _CONNECTED
        self._head_bytes = 0
        self._head_since = self.loop.time()
        self._fast_limit = -1
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(HEAD_SECONDS, self._head_deadline)
        # Messages whose end the parser has read: a head that begins in a read after another message ended there
        # (pipelining) has an unknown start in it, so that read is not counted as the head's (see `_head_unfinished`).
        self._ended = 0
        self._idle_since = self.loop.time()
        self._eof = False  # the client half-closed after a whole request: close once it is answered
        # The request whose body is unfinished (None: none), since when its time runs, and its timer.
        self._body_cycle: RequestResponseCycle | None = None
        self._body_since = 0.0
        self._body_timer: asyncio.TimerHandle | None = None
        # An app that answers some whole requests at once (`MockApp.serve_now`, for the requests of its
        # `direct_routes`): those skip uvicorn's cycle, task and messages. Not with what the cycle adds (an access
        # log configured, a concurrency limit). The configuration is read, not `self.access_log`: pytest hangs its
        # log capture on every logger that does not propagate, uvicorn's access logger (switched off) included.
        # The request being read for `serve_now`, if any (only within `data_received`).
        serve_now: ServeNow | None = getattr(self.app, "serve_now", None)
        routes: frozenset[tuple[str, bytes]] = getattr(self.app, "direct_routes", frozenset())
        usable = serve_now is not None and routes and not self.config.access_log and self.limit_concurrency is None
        self._serve_now = serve_now if usable else None
        self._direct_routes = routes if usable else frozenset()
        self._whole: _WholeRequest | None = None

    def on_headers_complete(self) -> None:
        if self.transport.is_closing():  # a reply answered at once closed the connection: nothing more is read
            return
        cycle = self.cycle
        parser = self.parser
        if (
            self._serve_now is not None
            and (cycle is None or cycle.response_complete)  # nothing in flight: the reply's turn is now
            and not self.expect_100_continue  # the cycle answers `100 Continue` first
            and not self.flow.write_paused  # the client reads no replies: the cycle waits for it
            and not parser.should_upgrade()
        ):
            method = parser.get_method().decode("ascii")
            url = httptools.parse_url(self.url)
            raw_path = self.root_path.encode("ascii") + url.path
            if (method, raw_path) in self._direct_routes and method != "HEAD":  # (a HEAD reply has no body)
                keep_alive = parser.get_http_version() != "1.0" and parser.should_keep_alive()
                self._whole = _WholeRequest(method, raw_path, url.query or b"", keep_alive)
                self.scope["method"] = method  # the head is complete (`data_received` reads this)
                self.headers = _HeadDone(self.headers)  # type: ignore[assignment]
                return
        self._start_cycle()

    def _start_cycle(self) -> None:
        # The connection is busy: a keep-alive timer a reply answered at once armed earlier in this read (behind
        # which this request was pipelined) would close it in the middle of this request.
        self._unset_keepalive_if_required()
        super().on_headers_complete()
        # A field after the head is a chunked body's trailer, no header of the request: uvicorn added it to the
        # request's headers (an `Authorization` in a trailer authenticated a request sent without one, and endless
        # trailer lines grew the server by gigabytes until the body time ran out). Its `on_header` appends to
        # `self.headers`, the list the request's scope holds: from here on it appends to nothing (`_HeadDone`), and
        # the fields are still read where uvicorn reads them (an `Upgrade` request's checks). Once per request,
        # not once per header (a method of ours run for every header cost more than all the head's checks).
        if not isinstance(self.headers, _HeadDone):
            self.headers = _HeadDone(self.headers)  # type: ignore[assignment]

    def on_body(self, body: bytes) -> None:
        whole = self._whole
        if whole is None:
            if not self.transport.is_closing():
                super().on_body(body)
            return
        whole.body += body
        if len(whole.body) > HIGH_WATER_LIMIT:  # a large body: the cycle's flow control and limits
            self._to_cycle(complete=False)

    def on_message_complete(self) -> None:
        self._ended += 1
        whole = self._whole
        if whole is None:
            if not self.transport.is_closing():
                super().on_message_complete()
            return
        serve_now = self._serve_now
        assert serve_now is not None
        keep_alive = whole.keep_alive
        try:
            fields = cast(Fields, self.scope["headers"])  # the list `on_header` filled
            reply = serve_now(whole.method, whole.raw_path, whole.query, fields, bytes(whole.body))
            written = None if reply is None else self._written(reply, keep_alive)
        except Exception as exc:  # as uvicorn's cycle: logged, and a 500 that closes the connection
            self.logger.error("Exception in ASGI application\n", exc_info=exc)
            written = self._written(_SERVER_ERROR, keep_alive)
        if written is None:  # the app wants the ASGI path for this one
            self._to_cycle(complete=True)
            return
        data, keep_alive = written
        self._whole = None
        self.transport.write(data)
        if not keep_alive:
            self.transport.close()
        self.on_response_complete()

    def _written(self, reply: Encoded, keep_alive: bool) -> tuple[bytes, bool]:
        """`reply` as uvicorn's `RequestResponseCycle.send` writes a reply with a Content-Length, and whether the
        connection stays open after it. What the cycle refuses (a header a CR or LF could split, an unknown status)
        raises; a reply without Content-Length (the cycle would frame it as chunked) too: `ServeNow` replies are
        whole."""
        status, headers, content = reply
        parts = [STATUS_LINE[status]]
        closing = False
        length = None
        for name, value in self.server_state.default_headers + headers:
            if HEADER_RE.search(name) or HEADER_VALUE_RE.search(value):
                raise RuntimeError("Invalid HTTP header name or value.")
            name = name.lower()
            if name == b"content-length" and length is None:
                length = int(value)
            elif name == b"connection" and b"close" in [token.lower().strip() for token in value.split(b",")]:
                keep_alive = False
                closing = True
            parts += (name, b": ", value, b"\r\n")
        if length != len(content):
            raise RuntimeError("A reply answered at once needs a Content-Length of its body's length.")
        if not keep_alive and not closing:
            parts.append(b"connection: close\r\n")
        parts += (b"\r\n", content)
        return b"".join(parts), keep_alive

    def _to_cycle(self, *, complete: bool) -> None:
        """The request read for `serve_now` takes uvicorn's cycle after all (a large or unfinished body, or the
        app asked): its cycle and task as uvicorn makes them, given the body read so far."""
        whole = self._whole
        assert whole is not None
        self._whole = None
        self._start_cycle()
        if whole.body:
            super().on_body(bytes(whole.body))
        if complete:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        self._idle_since = self.loop.time()  # the keep-alive time runs from here, whatever stray bytes come next
        super().on_response_complete()
        if self._eof and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()  # the client half-closed: its last request is answered, nothing more comes

    def eof_received(self) -> bool | None:  # type: ignore[override]  # asyncio's: True keeps the transport open
        """The client closed its sending side after a whole request (a half-close): that request is still
        answered, then the connection closes, as nginx in front of FedaPay does. uvicorn closed at once: a create
        was stored and its reply never sent. Anything else (no request, or a body cut short) closes now, a reply
        already written in this turn of the loop sent first."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and not cycle.more_body:
            self._eof = True
            return True
        transport = self.transport
        if isinstance(transport, TurnBufferedTransport):
            transport.flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self._body_cycle = None
        self._whole = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """uvicorn's `data_received` (inlined: it runs for every request) with the head's two checks."""
        if len(data) > self._fast_limit:  # larger than any head, or inside an unfinished one: counted
            self._receive_counted(data)
            return
        self._unset_keepalive_if_required()
        ended = self._ended
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as stop:
            self._whole = None
            self._parser_stopped(stop)
            return
        if self._whole is not None:  # its body is not all here: uvicorn's cycle waits for it
            self._to_cycle(complete=False)
        if "method" not in self.scope:  # a head began in this read and is not finished
            self._head_unfinished(len(data) if self._ended == ended else 0)
        elif self.cycle is None or self.cycle.response_complete:
            self._idle_again()
        elif self.cycle.more_body:  # the request's body is not all here
            self._body_unfinished()

    def _parser_stopped(self, stop: Exception) -> None:
        """What uvicorn's `data_received` does when the parser stops: 400 for a request it cannot read, the
        protocol switched (or a warning) for an upgrade."""
        if isinstance(stop, httptools.HttpParserError):
            message = "Invalid HTTP request received."
            self.logger.warning(message)
            self.send_400_response(message)
        elif self._should_upgrade():
            self.handle_websocket_upgrade()
        else:
            self._unsupported_upgrade_warning()

    def _receive_counted(self, data: bytes) -> None:
        """Feed `data` in pieces no longer than what the unfinished head (or a new one) has left: a head that
        passes `MAX_HEAD_BYTES` is refused before the parser sees a byte more, so never reaches the app."""
        view = memoryview(data)
        while view and not self.transport.is_closing():
            left = MAX_HEAD_BYTES - self._head_bytes if self._fast_limit < 0 else MAX_HEAD_BYTES
            piece, view = view[:left], view[left:]
            ended = self._ended
            HttpToolsProtocol.data_received(self, piece)  # type: ignore[arg-type]  # (httptools reads any buffer)
            if self.transport.is_closing():
                self._whole = None  # the parser refused the request (400)
            elif self._whole is not None:  # its body is not all here: uvicorn's cycle waits for it
                self._to_cycle(complete=False)
            if "method" not in self.scope:
                self._head_unfinished(len(piece) if self._ended == ended else 0)
            else:  # no head unfinished: back to the common path
                self._head_scope = None
                self._fast_limit = MAX_HEAD_BYTES
        if not self.transport.is_closing() and "method" in self.scope:
            if self.cycle is None or self.cycle.response_complete:
                self._idle_again()
            elif self.cycle.more_body:
                self._body_unfinished()

    def _idle_again(self) -> None:
        """Bytes that began no request (a stray CRLF after a reply) stopped uvicorn's keep-alive timer: the
        connection is idle again, and closed after its keep-alive time as any idle one (it was held for ever)."""
        if self.timeout_keep_alive_task is None:
            # What is left of the keep-alive time since the last reply: stray bytes every few seconds do not
            # restart it (a CRLF every 3 s held the connection for ever).
            left = self._idle_since + self.timeout_keep_alive - self.loop.time()
            self.timeout_keep_alive_task = self.loop.call_later(max(left, 0.0), self.timeout_keep_alive_handler)

    def _head_unfinished(self, size: int) -> None:
        """Count `size` more bytes of the unfinished head; 431 past the limit. A read in which a pipelined message
        ended and the head began counts 0 (where the head starts in it is unknown: counting the read counted the
        requests before it, a false 431), so a pipelined head may take up to one read more (at most 2 x 64 KiB)."""
        if self.transport.is_closing():  # the parser refused the request (400)
            return
        if self.scope is not self._head_scope:  # a new head (the first one's time runs from connecting)
            if self._head_scope is not _CONNECTED:  # (the first head leaves `_CONNECTED` here or once finished)
                self._head_since = self.loop.time()
            self._head_scope = self.scope
            self._head_bytes = 0
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(HEAD_SECONDS, self._head_deadline)
        self._head_bytes += size
        self._fast_limit = -1
        if self._head_bytes >= MAX_HEAD_BYTES:  # all it may take, and not finished
            self._refuse(HEAD_TOO_LARGE)

    def _head_deadline(self) -> None:
        """The head timer: 408 for a head unfinished `HEAD_SECONDS` after it began; otherwise it waits for the
        rest of that time, or stops when no head is unfinished (the next one arms it again)."""
        self._head_timer = None
        if self.transport.is_closing() or "method" in self.scope:
            return
        now = self.loop.time()
        if self.cycle is not None and not self.cycle.response_complete:
            self._head_since = now  # the previous request is still served: the client is not the slow one
        left = self._head_since + HEAD_SECONDS - now
        if left > 0:
            self._head_timer = self.loop.call_later(left, self._head_deadline)
        else:
            self._refuse(HEAD_TOO_SLOW)

    def _body_unfinished(self) -> None:
        """The current request's body is not complete: a new one's time starts now (its head ended in this read),
        and the timer is armed unless it already runs (it then waits for the rest of this body's time)."""
        cycle = self.cycle
        if cycle is self._body_cycle:
            return
        self._body_cycle = cycle
        self._body_since = self.loop.time()
        if self._body_timer is None:
            self._body_timer = self.loop.call_later(BODY_SECONDS, self._body_deadline)

    def _body_deadline(self) -> None:
        """The body timer: 408 for a body still unfinished `BODY_SECONDS` after its head ended; otherwise it waits
        for the rest of that time, or stops when no body is unfinished (the next one arms it again)."""
        self._body_timer = None
        cycle = self._body_cycle
        if self.transport.is_closing() or cycle is None or not cycle.more_body or cycle.response_complete:
            self._body_cycle = None
            return
        now = self.loop.time()
        if any(queued is cycle for queued, _ in self.pipeline):
            self._body_since = now  # behind a request still served the connection does not read: not the client's delay
        # Once such a request is served, its time runs from the reply before it (the connection reads again).
        left = max(self._body_since, self._idle_since) + BODY_SECONDS - now
        if left > 0:
            self._body_timer = self.loop.call_later(left, self._body_deadline)
            return
        self._body_cycle = None
        # Its app, waiting for the body, gets `http.disconnect` and serves nothing; its sends are dropped.
        cycle.disconnected = True
        cycle.message_event.set()
        if not cycle.response_started:
            self.transport.write(body_too_slow())
        self.transport.close()

    def _refuse(self, reply: bytes) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            # An earlier pipelined request is still being served: the 431/408 would pass for its reply (a create
            # "refused" though it was made). The connection closes without it: that request's outcome is unknown.
            self.transport.close()
            return
        self.transport.write(reply)
        self.transport.close()
