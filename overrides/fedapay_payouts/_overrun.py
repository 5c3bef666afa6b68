"""A connection that carried bytes past its reply is never used again.

HTTP/1.1 gives a reply its length; whatever comes after it on the connection, before the next request, is
no reply to anything. httpcore (1.0) keeps such bytes, read in the same read as the reply, in its h11
parser, and takes them for the reply to the connection's next request: a server (or anything on the path)
that sent one reply twice made `retrieve(6)` return the payout of an earlier call, and two creates for two
beneficiaries both return the first one's payout (the second never sent, on the sync client). Bytes that come
later are httpcore's to see: an idle connection whose socket is readable is dropped before its next request
(`is_readable`, which `_socket_deadline` passes on).

So once a reply is read whole (httpx has then handed its connection back to the pool), a connection whose
parser still holds bytes is closed at once: the pool drops it before it hands it to a request. Best effort on
httpcore 1.0's shapes (any connection of its pools: ours, a proxy's, yours); a transport of another kind is
left as it is.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["aclose_if_overrun", "close_if_overrun"]


def close_if_overrun(response: httpx.Response) -> bool:
    """Close `response`'s connection if bytes came after the reply (read whole); whether it did."""
    connection = _overrun(response)
    if connection is None:
        return False
    connection.close()
    return True


async def aclose_if_overrun(response: httpx.Response) -> bool:
    """The asyncio twin of `close_if_overrun`."""
    connection = _overrun(response)
    if connection is None:
        return False
    await connection.aclose()
    return True


def _overrun(response: httpx.Response) -> Any:
    """The HTTP/1.1 connection under `response` when its parser holds bytes past a whole reply, else None."""
    connection = _connection_of(response)
    if connection is None:
        return None
    parser = connection._h11_state
    import h11

    # IDLE: the reply was read whole and the connection is the pool's again (a new cycle began); DONE: read
    # whole, not yet handed back. Any other state: the reply was cut short, and httpcore closes the connection.
    if parser.their_state not in (h11.IDLE, h11.DONE) or not parser.trailing_data[0]:
        return None
    return connection


def _connection_of(response: httpx.Response) -> Any:
    """httpcore's HTTP/1.1 connection under an httpx reply from one of its pools, or None.

    httpx's client stream -> its transport's stream -> httpcore's pool stream -> the HTTP/1.1 connection's
    stream -> that connection, which holds the parser (`_h11_state`).
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
