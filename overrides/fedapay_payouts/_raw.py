"""`RawResponse`: the HTTP reply that settled a successful call, with the call's result.

`client.payouts.with_raw_response.create(...)` (openai-python's convention) runs the very same call
as `client.payouts.create(...)`: the same steps, retries, checks and driver; it only remembers the
last reply the driver handed to those steps, which is the one the result was read from. So support
can be given `raw.request_id`, and `raw.headers` show what the server sent with a success.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import httpx

__all__ = ["RawResponse"]

R = TypeVar("R")


class RawResponse(Generic[R]):
    """The reply that settled a call (`http_response`) and the call's result (`parse()`).

    It is the reply the result was read from: after retries, the last attempt's. One case has no
    reply of its own: a start (or delete) whose reply was lost and that the client settled by looking
    the payouts up (see "Retries that can never pay twice"); its raw response is the last of those
    look-ups, a `GET /payouts/{id}` (`http_request.method` says so). The reply's body was read within
    the client's size limit; the API key is masked in its headers, and `repr` shows no header or body.
    """

    __slots__ = ("_parsed", "http_response")

    def __init__(self, http_response: httpx.Response, parsed: R) -> None:
        self.http_response = http_response
        self._parsed = parsed

    def parse(self) -> R:
        """The call's result: what the same call without `with_raw_response` returns."""
        return self._parsed

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def http_request(self) -> httpx.Request:
        """The request this reply answered (its `Authorization` is masked in the headers' repr)."""
        return self.http_response.request

    @property
    def request_id(self) -> str | None:
        """The server's id for this request: the reply's `X-Request-Id` (also `Request-Id`, which FedaPay's Ruby
        library reads, or `X-FedaPay-Request-Id`); FedaPay does not document one, so this is a guess. Cut to
        128 characters, the API key masked; None when the reply has none."""
        from ._wire import request_id  # the wire reader loads the generated models: only when asked

        return request_id(self.http_response)

    def __repr__(self) -> str:
        request = self.http_request
        return (
            f"<RawResponse [{self.status_code}] {request.method} {request.url.path} "
            f"request_id={self.request_id!r}>"
        )
