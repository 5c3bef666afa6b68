"""Reading a reply's body within a size limit, so a huge body or a gzip bomb costs at most the limit.

The drivers stream each reply and feed its raw chunks to a `BodyReader`, which decodes gzip and
deflate itself, in steps that never produce more than what is left under the limit (httpx's own
decoders inflate a whole network chunk at once: 64 KiB of a gzip bomb is 64 MB). Past the limit
(`max_response_bytes`, 10 MiB by default, counted on the raw and on the decoded bytes) the driver
stops reading, closes the connection and marks the response: `_wire` then refuses it with
`APIResponseValidationError` (saying the server may have acted, for a request that changes
something), and an error reply keeps its status with a note instead of its body. Other content
codings are passed through as they are, as httpx does when it lacks their decoder; the client asks
only for gzip and deflate.
"""

from __future__ import annotations

import zlib
from typing import Final

import httpx

from ._exceptions import InvalidArgumentError

__all__ = ["ACCEPT_ENCODING", "DEFAULT_MAX_RESPONSE_BYTES", "TOO_LARGE", "BodyReader", "check_max_response_bytes"]

DEFAULT_MAX_RESPONSE_BYTES: Final = 10 * 1024 * 1024
MAX_MAX_RESPONSE_BYTES: Final = 1024 * 1024 * 1024
ACCEPT_ENCODING: Final = "gzip, deflate"
TOO_LARGE: Final = "fedapay_payouts.too_large"  # response extension: the limit the body went past


def check_max_response_bytes(value: object, argument: str = "max_response_bytes") -> int:
    """A whole number of bytes from 1 KiB to 1 GiB, or InvalidArgumentError naming `argument`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1024 <= value <= MAX_MAX_RESPONSE_BYTES:
        raise InvalidArgumentError(argument, f"must be a whole number of bytes from 1024 to 2**30, got {value!r}")
    return value


class _Inflate:
    """One gzip or deflate layer, inflating no more than asked per step."""

    __slots__ = ("_started", "_stream", "_wbits")

    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._stream = zlib.decompressobj(wbits)
        self._started = False

    def decode(self, data: bytes, room: int) -> bytes:
        """At most `room + 1` bytes of output (one more than fits tells the caller the limit is passed)."""
        try:
            output = self._stream.decompress(data, room + 1)
        except zlib.error:
            if self._started or self._wbits != zlib.MAX_WBITS:
                raise
            # "deflate" is zlib-wrapped by the standard, raw deflate by some servers: as httpx, try both.
            self._wbits = -zlib.MAX_WBITS
            self._stream = zlib.decompressobj(self._wbits)
            output = self._stream.decompress(data, room + 1)
        self._started = True
        return output

    def flush(self) -> bytes:
        return self._stream.flush()


_WBITS: Final = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class BodyReader:
    """Collects a body chunk by chunk; `feed` returns False once it goes past the limit."""

    __slots__ = ("_layers", "_parts", "_raw", "_request", "_size", "limit")

    def __init__(self, response: httpx.Response, limit: int) -> None:
        codings = [value.strip().lower() for value in response.headers.get_list("content-encoding", split_commas=True)]
        self._layers = [_Inflate(_WBITS[coding]) for coding in reversed(codings) if coding in _WBITS]
        self.limit = limit
        self._request = response.request
        self._parts: list[bytes] = []
        self._raw = 0
        self._size = 0

    def feed(self, chunk: bytes) -> bool:
        self._raw += len(chunk)
        if self._raw > self.limit:
            return False
        room = self.limit - self._size
        try:
            for layer in self._layers:
                chunk = layer.decode(chunk, room)
                if len(chunk) > room:
                    return False
        except zlib.error as exc:
            raise httpx.DecodingError(f"the reply's content coding is broken ({exc})", request=self._request) from None
        return self._add(chunk)

    def finish(self) -> bytes | None:
        """The decoded body, or None when the end of the coded stream goes past the limit."""
        try:
            for index, layer in enumerate(self._layers):
                tail = layer.flush()
                for later in self._layers[index + 1 :]:
                    if len(tail) > self.limit - self._size:
                        return None
                    tail = later.decode(tail, self.limit - self._size)
                if not self._add(tail):
                    return None
        except zlib.error as exc:
            raise httpx.DecodingError(f"the reply's content coding is broken ({exc})", request=self._request) from None
        return b"".join(self._parts)

    def _add(self, data: bytes) -> bool:
        if data:
            self._size += len(data)
            if self._size > self.limit:
                return False
            self._parts.append(data)
        return True

    def refuse(self, response: httpx.Response) -> None:
        """Mark a response whose body went past the limit: nothing of it is kept."""
        self._parts.clear()
        response._content = b""
        response.extensions[TOO_LARGE] = self.limit
