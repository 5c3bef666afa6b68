"""Run one operation on a real `FedaPay` or `AsyncFedaPay` (its own pool, real waits), for hostile-server tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fedapay_payouts import AsyncFedaPay, FedaPay

from tests.client.client_support import API_KEY


@dataclass
class Twin:
    """`twin.call(lambda p: p.retrieve(5), **client_options)`: the result or the exception, and how long it took.

    Unlike `client_support.Api`, the client sleeps for real between retries: deadlines count those waits.
    """

    mode: Literal["sync", "async"]
    base_url: str
    elapsed: float = 0.0

    def client_options(self, options: dict[str, Any]) -> dict[str, Any]:
        return {"api_key": API_KEY, "base_url": self.base_url, **options}

    def call(self, operation: Callable[[Any], Any], **options: Any) -> Any:
        started = time.monotonic()
        try:
            if self.mode == "sync":
                with FedaPay(**self.client_options(options)) as client:
                    return operation(client.payouts)

            async def main() -> Any:
                async with AsyncFedaPay(**self.client_options(options)) as client:
                    return await operation(client.payouts)

            return asyncio.run(main())
        finally:
            self.elapsed = time.monotonic() - started
