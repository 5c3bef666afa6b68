"""What an operation needs from a client: the small interface between `_payouts` and `_client`.

One call, say `client.payouts.send_now(42)`, crosses four layers, each a module, in this order:

1. `_payouts`: what the operation means (its keywords, how to read and check its reply, what a
   lost reply means for it), as a `_retry.Call`;
2. `_operations`: the keywords made into a request, from the spec (`prepare`);
3. `_retry`: the sans-IO core. `run(call, policy)` is a generator of events, `Send(request)` and
   `Sleep(seconds)`, that decides what to do after each outcome; it does no I/O;
4. `_client`: the driver of each twin (`FedaPay.drive`, `AsyncFedaPay.drive`), which performs the
   events (httpx, `time.sleep` or `asyncio.sleep`) within the call's deadline and reply size limit.

Everything else a call touches is a helper that a layer calls and that calls no layer back (errors,
configuration, JSON, the spec's schemas, wire reading, deadlines, reply size, redaction, evidence).
`_payouts` sees a client only through the protocols below, and imports nothing from `_client`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    import httpx

    from ._config import NotGiven, TimeoutTypes
    from ._retry import RetryPolicy, Steps

__all__ = ["AsyncCore", "Core", "SyncCore"]

R = TypeVar("R")


class Core(Protocol):
    """Request building and the retry policy: what operations use to describe a call."""

    @property
    def retry_policy(self) -> RetryPolicy: ...

    def build_request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = ...,
    ) -> httpx.Request: ...


class SyncCore(Core, Protocol):
    def drive(self, steps: Callable[[], Steps[R]], deadline: float | NotGiven = ...) -> R: ...


class AsyncCore(Core, Protocol):
    async def drive(self, steps: Callable[[], Steps[R]], deadline: float | NotGiven = ...) -> R: ...
