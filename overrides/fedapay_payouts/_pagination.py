"""Pages of payouts, and the walk over all of them.

A page reads `meta` when the server sends it (`next_page`); a bare array (as the docs show) has no
page info, so a full page is taken to mean there may be another. The walk yields each payout once:
payouts created while walking shift the pages (newest first), so a page may repeat what came before,
a whole page of it when a page's worth were created meanwhile. With page info the walk goes on, one page
after the other, to the last page the server names, through such pages; it never skips a page the server
jumps over (a `next_page` past the next one). A page whose info names another page than the one asked
(a server ignoring `page`, or answering a later one) ends the walk with `APIResponseValidationError`: what it
skipped cannot be told. A server repeating itself under each number asked is cut off after
`MAX_STALE_PAGES` pages in a row with nothing new. Without page info it stops on the first page with
nothing new.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._exceptions import APIResponseValidationError
from ._operations import operation, prepare

if TYPE_CHECKING:
    from fedapay_payouts_api.api.payouts.list_payouts import ListPayoutsParams
    from fedapay_payouts_api.models.list_meta import ListMeta
    from fedapay_payouts_api.models.payout import Payout

__all__ = ["MAX_STALE_PAGES", "PageWalker", "PayoutPage"]

# Pages in a row with nothing new after which a walk stops even though the server names a next page: as many
# as a shift of 20 pages' worth of payouts created during the walk, never an endless walk.
MAX_STALE_PAGES = 20


class PayoutPage:
    """One page of `client.payouts.list(...)`: `items` (generated `Payout`s) and `meta` (`ListMeta` or None)."""

    __slots__ = ("items", "meta", "page", "per_page")

    def __init__(self, items: list[Payout], meta: ListMeta | None, *, page: int, per_page: int) -> None:
        self.items = items
        self.meta = meta
        self.page = page if meta is None else meta.current_page
        self.per_page = per_page if meta is None else meta.per_page

    @property
    def next_page(self) -> int | None:
        """The next page's number, or None on the last page."""
        if self.meta is not None:
            following = self.meta.next_page
            return following if following is not None and following > self.page else None
        return self.page + 1 if self.items and len(self.items) >= self.per_page else None

    @property
    def has_more(self) -> bool:
        return self.next_page is not None

    @property
    def total_count(self) -> int | None:
        return None if self.meta is None else self.meta.total_count

    def __iter__(self) -> Iterator[Payout]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"PayoutPage(page={self.page}, items={len(self.items)}, next_page={self.next_page})"


class PageWalker:
    """The state of one walk over all pages, shared by the sync and async iterators."""

    __slots__ = ("asked", "filters", "new", "per_page", "seen", "stale", "status")

    def __init__(self, per_page: int, status: str | None) -> None:
        # Checked against the spec's list parameters now, not at the first page fetched.
        prepare(operation("list_payouts"), {"page": 1, "per_page": per_page, "status": status})
        self.per_page = per_page
        self.status = status
        self.filters: ListPayoutsParams = {} if status is None else {"status": status}
        self.seen: set[int] = set()
        self.new = 0
        self.stale = 0  # pages in a row with nothing new
        self.asked = 0  # the page fetched last

    def page_params(self, page: int) -> ListPayoutsParams:
        """The list keywords fetching `page`."""
        self.asked = page
        return {**self.filters, "page": page, "per_page": self.per_page}

    def fresh(self, page: PayoutPage) -> list[Payout]:
        """The payouts of this page not yielded before."""
        items = []
        for payout in page.items:  # one by one: a page listing a payout twice yields it once
            if payout.id not in self.seen:
                self.seen.add(payout.id)
                items.append(payout)
        self.new = len(items)
        return items

    def following(self, page: PayoutPage) -> int | None:
        """The page to fetch next (always the one after the page asked), or None to stop."""
        if page.meta is not None and page.page != self.asked:
            raise APIResponseValidationError(
                f"list_payouts: asked for page {self.asked}, the server answered page {page.page!r}: the walk cannot "
                "tell which payouts it skipped (a server ignoring `page`?); walk again, or page by hand with list()"
            )
        self.stale = 0 if self.new else self.stale + 1
        following = page.next_page
        if following is None or following <= self.asked:
            return None
        if page.meta is None:
            return following if self.new else None
        if self.stale > MAX_STALE_PAGES:
            # Still a next page, but page after page repeats what was yielded: payouts created faster than the walk
            # pushes each page down (or a server repeating one page). Ending here would pass for the whole list.
            raise APIResponseValidationError(
                f"list_payouts: {self.stale} pages in a row held only payouts already yielded while the server still "
                f"names page {following}: the list moves faster than the walk (or the server repeats a page), so "
                "payouts may be missing; walk again when fewer payouts are being created, or filter with status="
            )
        return self.asked + 1  # never a page jumped over
