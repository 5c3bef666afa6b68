"""Cancelling an async call (`task.cancel()`, `asyncio.timeout`) at any point (fifth review):

- a cancellation landing while a reply is closed could leave its place's one-connection pool counting that
  connection busy forever: every later call handed that place (the first handed out) waited out its pool
  timeout and failed. A cancelled attempt's place now gets a new transport.
- a cancelled create, start or delete whose request may have reached FedaPay raised a bare `CancelledError`
  (or the `TimeoutError` of `asyncio.timeout`) with no way to know what happened: the caller's exception now
  carries a note saying so, with the create's Idempotency-Key to look the payout up, and the note is logged as a
  warning (a TaskGroup or `gather(return_exceptions=True)` can drop it on the way to the caller).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fedapay_payouts import AsyncFedaPay

from tests.client.client_support import API_KEY, CUSTOMER

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

ORDER: dict[str, Any] = {"amount": 1000, "currency": "XOF", "mode": "moov", "customer": CUSTOMER}


def test_calls_cancelled_as_their_replies_arrive_leave_every_place_usable(fedapay_mock: MockServer) -> None:
    async def main() -> list[str]:
        failures: list[str] = []
        async with AsyncFedaPay(API_KEY, base_url=fedapay_mock.base_url, timeout=httpx.Timeout(10, pool=0.3),
                                max_retries=0) as client:
            payout = await client.payouts.create(**ORDER)
            for i in range(60):
                # The cancel lands at a different moment around the reply each time (5-7 ms steps).
                fedapay_mock.arm_fault("retrieve_payout", "delay_before_reply", delay=0.02 + (i % 5) * 0.005)
                task = asyncio.create_task(client.payouts.retrieve(payout.id))
                await asyncio.sleep(0.015 + (i % 7) * 0.0035)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                try:  # the next call gets the place given back last
                    await client.payouts.retrieve(payout.id)
                except Exception as exc:  # noqa: BLE001 - any failure is the finding
                    failures.append(f"after {i + 1} cancellations: {type(exc).__name__}: {exc}")
                    break
        return failures

    assert asyncio.run(main()) == []


@pytest.mark.parametrize("how", ["task.cancel()", "asyncio.timeout"])
def test_a_create_cancelled_after_its_request_left_says_so_with_its_key(
    fedapay_mock: MockServer, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> BaseException:
        async with AsyncFedaPay(API_KEY, base_url=fedapay_mock.base_url) as client:
            fedapay_mock.arm_fault("create_payout", "delay_before_reply", delay=1.0)
            call = client.payouts.create(**ORDER, idempotency_key="order-cancel-1")
            try:
                if how == "asyncio.timeout":
                    async with asyncio.timeout(0.3):
                        await call
                else:
                    task = asyncio.create_task(call)
                    await asyncio.sleep(0.3)
                    task.cancel()
                    await task
            except BaseException as exc:  # noqa: BLE001 - the caller's own exception is under test
                return exc
            raise AssertionError("the create was not interrupted")

    caught = asyncio.run(main())
    cancelled = caught if isinstance(caught, asyncio.CancelledError) else caught.__context__
    assert isinstance(cancelled, asyncio.CancelledError), repr(caught)
    notes = getattr(cancelled, "__notes__", [])
    assert len(notes) == 1, notes
    assert "POST /v1/payouts was interrupted after its request was sent" in notes[0]
    assert "idempotency_key='order-cancel-1'" in notes[0]
    assert fedapay_mock.stats()["created"] == 1  # it was created: the note is the caller's only way to know
    # Logged too (fifteenth review): a TaskGroup reports its first failure, not the siblings it cancelled, and
    # gather(return_exceptions=True) makes a new CancelledError, so the note may never reach the caller.
    logged = [record for record in caplog.records if record.name == "fedapay_payouts"]
    assert [record.levelname for record in logged] == ["WARNING"]
    assert logged[0].getMessage() == notes[0]


def test_a_call_cancelled_before_its_request_left_has_no_note(fedapay_mock: MockServer) -> None:
    async def main() -> BaseException:
        async with AsyncFedaPay(API_KEY, base_url=fedapay_mock.base_url, max_in_flight=1,
                                timeout=httpx.Timeout(10, pool=5)) as client:
            fedapay_mock.arm_fault("create_payout", "delay_before_reply", delay=1.0)
            holder = asyncio.create_task(client.payouts.create(**ORDER))  # holds the one place
            await asyncio.sleep(0.2)
            waiting = asyncio.create_task(client.payouts.create(**ORDER))  # waits for a place: nothing sent
            await asyncio.sleep(0.2)
            waiting.cancel()
            caught = (await asyncio.gather(waiting, return_exceptions=True))[0]
            await holder
            assert isinstance(caught, BaseException)
            return caught

    caught = asyncio.run(main())
    assert isinstance(caught, asyncio.CancelledError)
    assert getattr(caught, "__notes__", []) == []
    assert fedapay_mock.stats()["created"] == 1


def test_a_sync_call_interrupted_mid_attempt_leaves_its_place_usable() -> None:
    """Ctrl-C (a signal handler's exception) inside httpcore could leave the place's one-connection pool counting
    its request active: every later call on that place waited out its pool timeout (tenth review). The sync
    driver now gives an interrupted attempt's place a new transport, as the async one does a cancelled one."""
    import signal
    import threading

    from fedapay_payouts import FedaPay

    from tests.client.hostile_server import HostileServer, payout, reply

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread only")
    server = HostileServer()
    slow = reply(200, {"v1/payout": payout(5)})

    def slowly(request: Any) -> Any:
        yield 2.0  # the alarm interrupts the read waiting for this
        yield from slow(request)

    server.script(slowly, reply(200, {"v1/payout": payout(5)}))

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with FedaPay(API_KEY, base_url=server.base_url, max_in_flight=1, max_retries=0) as client:
            [place] = client._turns.slots
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            with pytest.raises(KeyboardInterrupt):
                client.payouts.retrieve(5)
            signal.setitimer(signal.ITIMER_REAL, 0)
            assert place.transport is None  # let go: the next attempt makes a new one
            assert client.payouts.retrieve(5, timeout=5).id == 5
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        server.close()
