"""A connection that carried bytes past its reply is never used again.

HTTP/1.1 gives a reply its length; whatever comes after it on the connection, before the next request, is
no reply to anything. httpcore (1.0) keeps such bytes, read in the same read as the reply, in its h11
parser, and takes them for the reply to the connection's next request: a server (or anything on the path)
that sent one reply twice made `retrieve(6)` return the payout of an earlier call, and two creates for two
beneficiaries both return the first one's payout (the second never sent, on the sync client). Bytes that come
later are httpcore's to see: an idle connection whose socket is readable is dropped before its next request
(`is_readable`, which `_socket_deadline` passes on).

So a reply is read without httpx's `iter_raw`, which closes the reply as its last step and so hands the
connection back to its pool (another thread's request could take it, stray bytes and all, before anything
here looked: a pool of a proxy's, or an `http_client` of yours, is shared). Read whole and still open, a
reply whose connection holds more bytes has that connection's keep-alive turned off: httpcore then closes it
as the reply closes, under its own lock, and the pool never hands it out. Best effort on httpcore 1.0's
shapes (any connection of its pools: ours, a proxy's, yours); a transport of another kind is left as it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

__all__ = ["aread_open", "close_if_overrun", "read_open"]


def read_open(response: httpx.Response) -> Iterator[bytes]:
    """`response.iter_raw()` without its closing step: the reply stays open (`close_if_overrun`, then close it)."""
    response.is_stream_consumed = True
    try:
        yield from response.stream  # type: ignore[misc]  # a sync stream: httpx's client made it
    except httpx.RequestError as exc:
        _name_request(exc, response)
        raise


async def aread_open(response: httpx.Response) -> AsyncIterator[bytes]:
    """The asyncio twin of `read_open`."""
    response.is_stream_consumed = True
    try:
        async for chunk in response.stream:  # type: ignore[union-attr]  # an async stream: httpx's client made it
            yield chunk
    except httpx.RequestError as exc:
        _name_request(exc, response)
        raise


def _name_request(exc: httpx.RequestError, response: httpx.Response) -> None:
    """What `iter_raw` does for an error of the body's read: the error names its request."""
    try:
        exc.request  # noqa: B018 - raises when unset
    except RuntimeError:
        exc.request = response.request


def close_if_overrun(response: httpx.Response) -> bool:
    """After a reply read whole with `read_open` (still open): if its connection holds bytes past it, make that
    connection close with the reply. Whether it did."""
    connection = _connection_of(response)
    if connection is None:
        return False
    parser = connection._h11_state
    import h11

    if parser.their_state is not h11.DONE:
        return False  # not read whole: httpcore closes such a connection anyway
    if not parser.trailing_data[0] and not _stream_holds_bytes(getattr(connection, "_network_stream", None)):
        return False  # nothing came after it
    disable = getattr(getattr(parser, "_cstate", None), "process_keep_alive_disabled", None)
    if not callable(disable):
        return False
    disable()  # the server's side goes DONE -> MUST_CLOSE: httpcore closes the connection as the reply closes
    return True


def _connection_of(response: httpx.Response) -> Any:
    """httpcore's HTTP/1.1 connection under an httpx reply from one of its pools (it holds the h11 parser,
    `_h11_state`), or None.

    httpx's client stream -> its transport's stream -> httpcore's pool stream -> the HTTP/1.1 connection's
    stream -> that connection.
    """
    layer: Any = response.stream
    for _ in range(6):
        if getattr(layer, "_h11_state", None) is not None:
            return layer
        layer = (getattr(layer, "_httpcore_stream", None) or getattr(layer, "_stream", None)
                 or getattr(layer, "_connection", None))
        if layer is None:
            return None
    return None


def _stream_holds_bytes(stream: Any) -> bool:
    """Whether a connection's network stream holds bytes it read and has not handed to the parser yet, where
    the idle check (`is_readable`, which looks at the socket) cannot see them. On asyncio, anyio reads all the
    socket has and hands out 64 KiB at a time, queueing the rest: a reply ending exactly at a 64 KiB boundary
    left the stray bytes after it in that queue, and the next create took them for its reply. A TLS layer keeps
    decrypted bytes not yet read (`pending`) and encrypted ones not yet decrypted (its read BIO).

    httpcore's streams: sync (`_sock`, an SSL socket for https; `_ssl_obj` and `_incoming` tunnelled), anyio
    (`_stream`: anyio's socket stream, `_protocol.read_queue`; its TLS stream, `_ssl_object`, `_read_bio`,
    `transport_stream`). Best effort: another shape holds nothing as far as this can tell."""
    try:
        return _holds(stream)
    except Exception:  # noqa: BLE001 - a closed or unknown stream: as before this check (never a failure of the call)
        return False


def _holds(stream: Any) -> bool:
    for _ in range(6):
        if stream is None:
            return False
        if getattr(getattr(stream, "_protocol", None), "read_queue", None):
            return True
        for name in ("_ssl_object", "_ssl_obj", "_sock"):
            pending = getattr(getattr(stream, name, None), "pending", None)
            if callable(pending) and pending() > 0:
                return True
        for name in ("_read_bio", "_incoming"):
            if getattr(getattr(stream, name, None), "pending", 0):
                return True
        stream = getattr(stream, "_stream", None) or getattr(stream, "transport_stream", None)
    return False
