"""A row's own search (when the pass over the list cannot vouch) says "no such payout" only when it vouches for
itself like the pass: the last page reached, every page the same `total_count`, that many payouts seen. One that
cannot (a server ignoring `page`, another hand moving the list between two pages) is asked again, and a row
still unchecked stops the run before anything is created (exit 2, one line), its look-up left pending.

Each scenario puts a proxy in front of the mock (`paging_proxy.py`) and runs with a rotated API key after the
journal was lost (`--adopt-existing`): idempotency keys are per API key, so a row created again would be a
second payout, not a replay."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fedapay_bulk.paging import IGNORED_PAGING, Walk, walk_pages
from fedapay_mock.server import serve_asgi
from fedapay_payouts import FedaPay, ListMeta, Payout, PayoutPage
from fedapay_payouts._pagination import MAX_STALE_PAGES

from tests.bulk.bulk_support import API_KEY, HEADER, payouts_by_reference, payroll_rows, run_bulk, write_csv
from tests.bulk.paging_proxy import Proxy, Query

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

OTHER_KEY = "sk_sandbox_bulk_tests_rotated"
WITH_REFERENCE = [*HEADER, "Reference"]
SEARCHES = 4  # a search that cannot vouch is asked SEARCH_RETRIES (3) more times


def _payroll(path: Path, references: list[str]) -> Path:
    rows = payroll_rows(len(references))
    return write_csv(path, [[*row, reference] for row, reference in zip(rows, references, strict=True)], WITH_REFERENCE)


def _forget(journal: Path) -> None:
    for path in (journal, Path(f"{journal}-wal"), Path(f"{journal}-shm")):
        path.unlink(missing_ok=True)


def _lookup_mark(journal: Path) -> str:
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        return str(db.execute("SELECT value FROM meta WHERE key = 'lookup'").fetchone()[0])
    finally:
        db.close()


def _counts(mock: MockServer, references: list[str]) -> dict[str, int]:
    found = payouts_by_reference(mock)
    return {reference: len(found.get(reference, [])) for reference in references}


def _error_line(err: str) -> str:
    """The run's refusal: the last line of stderr (progress lines come before), and the only `error:` one."""
    lines = err.splitlines()
    assert [line for line in lines if line.startswith("error:")] == lines[-1:], err
    return lines[-1]


def _pages_asked(mock: MockServer) -> int:
    requests = mock.stats()["requests"]
    return int(requests.get("list_payouts", 0)) + int(requests.get("search_payouts", 0))


def test_a_server_ignoring_page_stops_the_run_before_any_row_is_created_again(
    fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    references = [f"EMP-{i}" for i in range(110)]  # ten more payouts than the first page shows
    payroll = _payroll(tmp_path / "p.csv", references)
    journal = tmp_path / "p.csv.journal.sqlite"
    assert run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch).code == 0
    _forget(journal)

    ignore = True

    async def ignoring(path: str, query: Query) -> Query:
        if not ignore:
            return query
        if path.endswith(("/payouts", "/payouts/search")):
            query["page"] = "1"  # always the first page, `next_page` still set
        if path.endswith("/payouts/search"):
            query["search"] = ""  # every payout, not those matching the term
        return query

    created = fedapay_mock.stats()["requests"]["create_payout"]
    listed = _pages_asked(fedapay_mock)
    with serve_asgi(Proxy(fedapay_mock.root_url, ignoring), lifespan="off") as proxy:
        refused = run_bulk(fedapay_mock, str(payroll), "--adopt-existing", monkeypatch=monkeypatch,
                           api_key=OTHER_KEY, base_url=proxy.base_url)
        # Each walk (the list, then a search for each of the 10 rows it could not vouch for) stops at its second
        # page, which names itself as the next again: 231 pages were asked when only 20 stale pages stopped it.
        assert _pages_asked(fedapay_mock) - listed <= 2 * (1 + 10)
        assert refused.code == 2, refused.out + refused.err
        line = _error_line(refused.err)
        assert line.startswith("error: 10 row(s) could not be checked for a payout FedaPay may already hold"), line
        assert "ignored paging (the same payouts on every page)" in line
        assert "this run sent nothing" in line
        assert fedapay_mock.stats()["requests"]["create_payout"] == created
        assert _lookup_mark(journal) == "adopt"  # still pending: the next run looks every row up again
        # The server paging again (the same URL: the journal is bound to it): the same command adopts all
        # 110 payouts and creates none.
        ignore = False
        resumed = run_bulk(fedapay_mock, str(payroll), "--adopt-existing", monkeypatch=monkeypatch,
                           api_key=OTHER_KEY, base_url=proxy.base_url)
    assert resumed.code == 0, resumed.out + resumed.err
    assert "note: 10 payout(s) of this file already existed" in resumed.out  # the other 100 were matched by the list
    assert fedapay_mock.stats()["requests"]["create_payout"] == created
    assert set(_counts(fedapay_mock, references).values()) == {1}


@pytest.mark.parametrize("moves", [1, 99], ids=["moves-once", "moves-every-time"])
def test_a_search_the_list_moves_under_is_asked_again_and_never_taken_for_no_payout(
    moves: int, fedapay_mock: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    references = ["EMP-A", "EMP-B"]
    first = run_bulk(fedapay_mock, str(_payroll(tmp_path / "a.csv", references[:1])), monkeypatch=monkeypatch)
    assert first.code == 0, first.out + first.err  # EMP-A is paid; its journal is another file's
    with FedaPay(API_KEY, base_url=fedapay_mock.base_url) as other:
        def create() -> int:
            return other.payouts.create(amount=500, currency="XOF", mode="moov",
                                        customer={"firstname": "Other", "lastname": "Integration"}).id

        others = [create() for _ in range(100)]  # newer: EMP-A's payout is 101st, the first of page 2
        searches = {"EMP-A": 0, "EMP-B": 0}
        done = made = 0  # deletes and creates of the other integration's payouts
        moving_on = True

        async def moving(path: str, query: Query) -> Query:
            nonlocal done, made
            if not moving_on:
                return query
            if path.endswith("/payouts"):
                query["page"] = "1"  # the walk cannot vouch: each row is searched
            if path.endswith("/payouts/search"):
                term = query.get("search", "")
                if query.get("page") == "1":
                    searches[term] += 1
                if term == "EMP-A" and done < moves:
                    if query.get("page") == "1" and done:
                        others.append(create())  # EMP-A's payout back at the first of page 2
                        made += 1
                    if query.get("page") == "2":
                        other.payouts.delete(others.pop())  # page 2 now starts after EMP-A's payout
                        done += 1
                query["search"] = ""  # a search that does not filter by its term: the whole list, paged
            return query

        payroll = _payroll(tmp_path / "p.csv", references)
        created = fedapay_mock.stats()["requests"]["create_payout"]
        with serve_asgi(Proxy(fedapay_mock.root_url, moving), lifespan="off") as proxy:
            # One search at a time: only EMP-A's search sees the list move.
            outcome = run_bulk(fedapay_mock, str(payroll), "--adopt-existing", "--concurrency", "1",
                               monkeypatch=monkeypatch, api_key=OTHER_KEY, base_url=proxy.base_url)
            ours = fedapay_mock.stats()["requests"]["create_payout"] - created - made
            after = _counts(fedapay_mock, references)
            mark = _lookup_mark(tmp_path / "p.csv.journal.sqlite")
            moving_on = False
            # The same URL again (the journal is bound to it), FedaPay paging and the list still.
            resumed = run_bulk(fedapay_mock, str(payroll), monkeypatch=monkeypatch, api_key=OTHER_KEY,
                               base_url=proxy.base_url)
    if moves == 1:
        assert outcome.code == 0, outcome.out + outcome.err
        assert searches == {"EMP-A": 2, "EMP-B": 1}  # asked again once; EMP-B's complete search is believed
        assert ("note: FedaPay's list of payouts ignored paging (the same payouts on every page): 2 row(s) were"
                " looked up one by one") in outcome.out
        assert "1 payout(s) of this file already existed" in outcome.out
        assert ours == 1  # EMP-B
        assert after == {"EMP-A": 1, "EMP-B": 1}
        assert mark == "done"
        assert resumed.code == 0, resumed.out + resumed.err
        assert _counts(fedapay_mock, references) == after
        return
    assert outcome.code == 2, outcome.out + outcome.err
    assert searches["EMP-A"] == SEARCHES
    line = _error_line(outcome.err)
    assert line.startswith("error: 1 row(s) could not be checked for a payout FedaPay may already hold"), line
    assert "moved while it was read" in line
    assert ours == 0  # not even EMP-B, whose search vouched: nothing is created while a row is unchecked
    assert after == {"EMP-A": 1, "EMP-B": 0}
    assert mark == "adopt"  # still pending: the next run looks every row up again, and adopts
    assert resumed.code == 0, resumed.out + resumed.err
    assert _counts(fedapay_mock, references) == {"EMP-A": 1, "EMP-B": 1}


def _payout(payout_id: int) -> Payout:
    return Payout.from_dict({
        "klass": "v1/payout", "id": payout_id, "reference": f"r{payout_id}", "amount": 1000, "status": "pending",
        "customer_id": 1, "currency_id": 1, "mode": "mtn_open", "created_at": "2024-10-24T17:27:45.677Z",
        "updated_at": "2024-10-24T17:27:45.677Z",
    })


def test_a_server_repeating_one_page_under_each_asked_number_is_cut_off_after_the_clients_stale_limit() -> None:
    """A server that ignores `page` yet echoes the number asked (so every page looks like the next one) is
    stopped by the stale-page limit the client's own walk uses: the walk ends, unvouched, never endless."""
    asked: list[int] = []
    same = [_payout(i) for i in range(1, 101)]

    async def fetch(page: int) -> PayoutPage:
        asked.append(page)
        meta = ListMeta(current_page=page, next_page=page + 1, prev_page=page - 1 or None, total_pages=10**6,
                        total_count=10**8, per_page=100)
        return PayoutPage(same, meta, page=page, per_page=100)

    async def walk_all(walk: Walk) -> list[int]:
        return [payout.id async for payout in walk_pages(fetch, walk)]

    walk = Walk()
    assert asyncio.run(walk_all(walk)) == list(range(1, 101))  # each payout once
    assert asked == list(range(1, MAX_STALE_PAGES + 3))  # the first page, then MAX_STALE_PAGES + 1 with nothing new
    assert walk.cut_off
    assert not walk.complete
    assert walk.why == IGNORED_PAGING


def test_a_page_listing_a_payout_twice_yields_it_once() -> None:
    """The look-up counts the payouts each row's reference names: one listed twice on a page was counted twice."""

    async def fetch(page: int) -> PayoutPage:
        meta = ListMeta(current_page=1, next_page=None, prev_page=None, total_pages=1, total_count=2, per_page=100)
        return PayoutPage([_payout(5), _payout(5), _payout(6)], meta, page=1, per_page=100)

    async def walk_all(walk: Walk) -> list[int]:
        return [payout.id async for payout in walk_pages(fetch, walk)]

    walk = Walk()
    assert asyncio.run(walk_all(walk)) == [5, 6]
    assert walk.ended
