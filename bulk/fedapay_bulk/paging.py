"""Walking a paged listing of payouts (the list, a search) and saying whether the walk can vouch for itself.

FedaPay's listings are newest first and move while they are read: a payout created shifts every later one to
the next page, one deleted shifts them back, so a page can be skipped. A walk vouches that it saw every payout
that existed throughout it only if it reached the last page, every page gave the same `total_count` and it saw
that many payouts. A server ignoring `page` is cut off, and such a walk never vouches, whatever it saw: at
once when its reply names a next page that is not past the page asked for (it answered another page: the
client's walk stops there too, `fedapay_payouts._pagination`), else after `MAX_STALE_PAGES` pages in a row
with nothing new (the client's limit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fedapay_payouts._pagination import MAX_STALE_PAGES

MOVED = "moved while it was read (payouts created or deleted meanwhile)"
IGNORED_PAGING = "ignored paging (the same payouts on every page)"
NO_TOTAL = "did not say how many payouts it holds (no total_count)"


@dataclass(slots=True)
class Walk:
    """What one walk saw: each page's `total_count`, the payout ids, whether it was cut off or reached the end."""

    totals: set[int | None] = field(default_factory=set)
    seen: set[int] = field(default_factory=set)
    cut_off: bool = False
    ended: bool = False

    @property
    def complete(self) -> bool:
        """No payout that existed throughout the walk can have been missed."""
        return self.ended and not self.cut_off and self.totals == {len(self.seen)}

    @property
    def why(self) -> str:
        """Why the walk cannot vouch (for an incomplete one)."""
        if self.cut_off:
            return IGNORED_PAGING
        if None in self.totals:
            return NO_TOTAL
        return MOVED


async def walk_pages(fetch: Callable[[int], Awaitable[Any]], walk: Walk) -> AsyncIterator[Any]:
    """Each payout of a paged listing once (`fetch(page)` returns a `PayoutPage`), following `next_page` to the
    last page; `walk` records what is needed to tell whether it is complete (`Walk.complete`)."""
    page: int | None = 1
    idle = 0
    while page is not None:
        result = await fetch(page)
        walk.totals.add(result.total_count)
        fresh = []
        for payout in result.items:  # one by one: a page listing a payout twice yields it once
            if payout.id not in walk.seen:
                walk.seen.add(payout.id)
                fresh.append(payout)
        for payout in fresh:
            yield payout
        idle = 0 if fresh else idle + 1
        following = result.next_page
        if idle > MAX_STALE_PAGES or (following is not None and following <= page):
            walk.cut_off = True
            return
        page = following
    walk.ended = True
