"""Issue 10, item 5: a core a newcomer can follow.

No import cycle inside the package; `_payouts` sees a client only through `_core`'s small interface;
operations are generators of named sans-IO events (`Send`, `Sleep`); one call crosses four layers;
tests get public seams (`transport=`, `sleep=`) that keep the client's own pool and its deadline.
"""

from __future__ import annotations

import ast
import asyncio
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import fedapay_payouts
import httpx
import pytest
from fedapay_payouts import APITimeoutError, AsyncFedaPay, FedaPay, InvalidArgumentError, Payout, RetryPolicy
from fedapay_payouts._core import AsyncCore, SyncCore
from fedapay_payouts._payouts import PayoutOperations
from fedapay_payouts._retry import Send, Sleep

from tests.client.client_support import API_KEY, CUSTOMER
from tests.client.hostile_server import HostileServer, drip
from tests.client.twin_support import Twin

if TYPE_CHECKING:
    from fedapay_mock.server import MockServer

PACKAGE = Path(fedapay_payouts.__file__).parent
LAYERS = ("_payouts", "_operations", "_retry", "_client")  # the order a call goes down (see `_core.py`)
PAYOUT = {"klass": "v1/payout", "id": 7, "reference": "trx_7", "amount": 1000, "status": "pending",
          "customer_id": 1, "currency_id": 1, "mode": "mtn_open", "created_at": "2024-10-24T17:27:45.677Z",
          "updated_at": "2024-10-24T17:27:45.677Z"}


def imports_of(path: Path) -> set[str]:
    """Every module of the package that `path` imports: at the top, inside functions, under TYPE_CHECKING."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                found.update([node.module] if node.module else [alias.name for alias in node.names])
            elif node.module and node.module.startswith("fedapay_payouts."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("fedapay_payouts."))
    return found


def import_graph() -> dict[str, set[str]]:
    return {path.stem: imports_of(path) for path in PACKAGE.glob("*.py") if path.stem != "__init__"}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each once, as the path that closes it (depth-first search)."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            found.append([*path[path.index(module):], module])
            return
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    return found


def test_no_import_cycle_inside_fedapay_payouts() -> None:
    graph = import_graph()
    assert {"_client", "_payouts", "_retry", "_core"} <= set(graph)  # the walk sees the package
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_payouts_sees_a_client_only_through_the_core_interface() -> None:
    """`_payouts` imports nothing of `_client` and touches no private attribute of a client."""
    source = (PACKAGE / "_payouts.py").read_text()
    assert "_client" not in imports_of(PACKAGE / "_payouts.py")
    interface = {"retry_policy", "build_request", "drive"}
    used: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute | ast.Name):
            owner = node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id
            if owner in ("_client", "client"):
                used.add(node.attr)
    assert used == interface


def test_both_twins_offer_the_core_interface() -> None:
    sync_core: SyncCore = FedaPay(API_KEY)
    async_core: AsyncCore = AsyncFedaPay(API_KEY)
    for core in (sync_core, async_core):
        assert isinstance(core.retry_policy, RetryPolicy)
        assert core.build_request("GET", "/payouts/7").url.path == "/v1/payouts/7"


def test_an_operation_is_a_generator_of_named_events() -> None:
    """A retrieve that meets a 503: Send, then Sleep (the back-off), then Send again; no I/O of its own."""
    client = FedaPay(API_KEY, retry_policy=RetryPolicy(1, initial_delay=2.0))
    steps = PayoutOperations(client).retrieve(7)

    first = next(steps)
    assert type(first) is Send
    assert (first.request.method, first.request.url.path) == ("GET", "/v1/payouts/7")
    wait = steps.send(httpx.Response(503, json={"message": "busy"}, request=first.request))
    assert type(wait) is Sleep
    assert 1.5 <= wait.seconds <= 2.0  # 2 s less a jitter of up to 25 %
    again = steps.send(None)
    assert type(again) is Send
    assert again.request is first.request  # the same request, resent unchanged
    with pytest.raises(StopIteration) as done:
        steps.send(httpx.Response(200, json={"v1/payout": PAYOUT}, request=first.request))
    assert isinstance(done.value.value, Payout)
    assert done.value.value.id == 7


def test_a_driver_refuses_an_event_it_does_not_know() -> None:
    def steps() -> Iterator[Any]:
        yield 1.5  # the old "a float means sleep"

    client = FedaPay(API_KEY, sleep=lambda seconds: None)
    with pytest.raises(TypeError, match="yielded float, not Send or Sleep"):
        client.drive(steps)  # type: ignore[arg-type]


def test_one_call_crosses_four_layers_and_helpers_call_no_layer_back(fedapay_mock: MockServer) -> None:
    """`send_now` goes through `_payouts`, `_operations`, `_retry` and `_client` only; every other module
    it enters is a helper that a layer calls and that calls no layer back (sync and async)."""
    edges: set[tuple[str, str]] = set()

    def package_module(frame: FrameType | None) -> str | None:
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith(str(PACKAGE)):
                return Path(filename).stem
            frame = frame.f_back
        return None

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code.co_filename.startswith(str(PACKAGE)):
            callee = Path(frame.f_code.co_filename).stem
            caller = package_module(frame.f_back)
            if caller is not None and caller != callee:
                edges.add((caller, callee))

    with FedaPay(API_KEY, base_url=fedapay_mock.base_url) as client:
        payout = client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER)
        sys.setprofile(profile)
        try:
            client.payouts.send_now(payout.id)
        finally:
            sys.setprofile(None)

    async def send_async() -> None:
        async with AsyncFedaPay(API_KEY, base_url=fedapay_mock.base_url) as client:
            payout = await client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER)
            sys.setprofile(profile)
            try:
                await client.payouts.send_now(payout.id)
            finally:
                sys.setprofile(None)

    asyncio.run(send_async())
    entered = {module for edge in edges for module in edge}
    assert {module for module in entered if module in LAYERS} == set(LAYERS)
    assert [edge for edge in edges if edge[0] not in LAYERS and edge[1] in LAYERS] == []


# The public seams: transport= under the client's own pool, sleep= for the back-off waits.


class Counting(httpx.MockTransport):
    def __init__(self, *statuses: int) -> None:
        self.seen: list[httpx.Request] = []
        replies = iter(statuses)

        def handle(request: httpx.Request) -> httpx.Response:
            self.seen.append(request)
            status = next(replies)
            return httpx.Response(status, json={"v1/payout": PAYOUT} if status == 200 else {"message": "busy"})

        super().__init__(handle)


def test_the_sleep_hook_performs_every_back_off_wait_sync_and_async() -> None:
    policy = RetryPolicy(2, initial_delay=3.0)
    waits: list[float] = []
    transport = Counting(503, 503, 200)
    with FedaPay(API_KEY, transport=transport, retry_policy=policy, sleep=waits.append) as client:
        assert client.payouts.retrieve(7).id == 7
    assert len(transport.seen) == 3
    assert len(waits) == 2
    assert 2.25 <= waits[0] <= 3.0
    assert 4.5 <= waits[1] <= 6.0

    async def main() -> list[float]:
        awaited: list[float] = []

        async def sleep(seconds: float) -> None:
            awaited.append(seconds)

        async with AsyncFedaPay(API_KEY, transport=Counting(503, 200), retry_policy=policy, sleep=sleep) as client:
            assert (await client.payouts.retrieve(7)).id == 7
        return awaited

    awaited = asyncio.run(main())
    assert len(awaited) == 1
    assert 2.25 <= awaited[0] <= 3.0


def test_a_transport_goes_under_the_clients_own_pool_with_its_headers() -> None:
    transport = Counting(200)
    with FedaPay(API_KEY, account_id=42, transport=transport) as client:
        client.payouts.retrieve(7)
    (request,) = transport.seen
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["fedapay-account"] == "42"


@pytest.mark.timeout(60)
def test_a_transport_given_keeps_the_deadline_machinery(twin: Twin, hostile_server: HostileServer) -> None:
    """A real transport passed in is still held to the call's deadline, even when the headers drip."""
    # A byte every 50 ms for 30 s: only the deadline can end the read.
    headers = b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"a" * 1000 + b"\r\n\r\n"
    hostile_server.script(drip(b"", headers, every=0.05))
    transport = httpx.HTTPTransport() if twin.mode == "sync" else httpx.AsyncHTTPTransport()

    with pytest.raises(APITimeoutError) as caught:
        twin.call(lambda p: p.retrieve(5, timeout=5.0, deadline=0.25), transport=transport)

    assert "the call's deadline of 0.25 s passed" in str(caught.value)
    assert twin.elapsed < 3.0  # 0.25 s deadline; a generous "does not hang" bound


@pytest.mark.parametrize(("twin_class", "options", "argument"), [
    (FedaPay, {"transport": httpx.AsyncHTTPTransport()}, "transport"),
    (AsyncFedaPay, {"transport": httpx.HTTPTransport()}, "transport"),
    (FedaPay, {"transport": httpx.HTTPTransport(), "http_client": httpx.Client()}, "transport"),
    (FedaPay, {"sleep": 0.5}, "sleep"),
    (AsyncFedaPay, {"sleep": "asyncio.sleep"}, "sleep"),
    (FedaPay, {"max_in_flight": 0}, "max_in_flight"),
    (AsyncFedaPay, {"max_in_flight": True}, "max_in_flight"),
    (AsyncFedaPay, {"max_in_flight": 2.0}, "max_in_flight"),
])
def test_bad_seams_are_refused_naming_the_argument(twin_class: Any, options: dict[str, Any], argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        twin_class(API_KEY, **options)
    assert caught.value.argument == argument


# Issue 15, item 4: no more than max_in_flight attempts of a client on the wire at once.


class Gate(httpx.AsyncBaseTransport):
    """Holds every request until `opened`, counting how many are inside at once."""

    def __init__(self) -> None:
        self.inside = self.most = 0
        self.opened = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.inside += 1
        self.most = max(self.most, self.inside)
        await self.opened.wait()
        self.inside -= 1
        return httpx.Response(200, json={"v1/payout": PAYOUT})


@pytest.mark.parametrize(("options", "limit"), [({"max_in_flight": 3}, 3), ({}, 8)])
def test_no_more_than_max_in_flight_async_attempts_are_on_the_wire(options: dict[str, Any], limit: int) -> None:
    async def main() -> tuple[int, int, list[Payout]]:
        gate = Gate()
        async with AsyncFedaPay(API_KEY, transport=gate, **options) as client:
            assert client.max_in_flight == limit
            calls = asyncio.gather(*(client.payouts.retrieve(7) for _ in range(limit + 12)))
            await asyncio.sleep(0.3)  # every call that can get in is in
            waiting = gate.inside
            gate.opened.set()
            return waiting, gate.most, await calls

    waiting, most, payouts = asyncio.run(main())
    assert (waiting, most) == (limit, limit)
    assert [payout.id for payout in payouts] == [7] * (limit + 12)


def test_no_more_than_max_in_flight_sync_attempts_are_on_the_wire() -> None:
    inside: list[int] = [0, 0]  # now, most
    lock = threading.Lock()
    opened = threading.Event()

    def handle(request: httpx.Request) -> httpx.Response:
        with lock:
            inside[0] += 1
            inside[1] = max(inside[1], inside[0])
        opened.wait(30)
        with lock:
            inside[0] -= 1
        return httpx.Response(200, json={"v1/payout": PAYOUT})

    results: list[int] = []
    with FedaPay(API_KEY, transport=httpx.MockTransport(handle), max_in_flight=2) as client:
        threads = [threading.Thread(target=lambda: results.append(client.payouts.retrieve(7).id)) for _ in range(6)]
        for thread in threads:
            thread.start()
        opened.wait(0.3)  # every call that can get in is in
        waiting = inside[0]
        opened.set()
        for thread in threads:
            thread.join(30)
    assert (waiting, inside[1]) == (2, 2)
    assert results == [7] * 6


def test_a_call_that_gets_no_place_in_time_fails_as_not_sent() -> None:
    """The wait for a place is bounded by the pool timeout: the error says nothing was sent."""

    async def main() -> tuple[BaseException | None, int]:
        gate = Gate()
        async with AsyncFedaPay(API_KEY, transport=gate, max_in_flight=1, max_retries=0) as client:
            held = asyncio.ensure_future(client.payouts.retrieve(7))
            await asyncio.sleep(0.05)
            try:
                await client.payouts.create(amount=1000, currency="XOF", mode="moov", customer=CUSTOMER,
                                            timeout=httpx.Timeout(5.0, pool=0.2))
                error = None
            except APITimeoutError as exc:
                error = exc
            gate.opened.set()
            await held
            return error, gate.most

    error, most = asyncio.run(main())
    assert isinstance(error, APITimeoutError)
    assert error.request_sent is False
    assert "PoolTimeout" in str(error)
    assert "max_in_flight=1" in str(error)
    assert most == 1  # the create never reached the transport


def _stack_modules(frame: FrameType | None) -> list[str]:
    """The hand-written modules on the stack from `frame` down, innermost first, each once."""
    found: list[str] = []
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(str(PACKAGE)) and Path(filename).stem not in found:
            found.append(Path(filename).stem)
        frame = frame.f_back
    return found


@pytest.mark.parametrize("twin_name", ["sync", "async"])
def test_when_a_request_reaches_the_transport_at_most_four_modules_are_on_the_stack(twin_name: str) -> None:
    """The measure of "a call crosses at most four modules": the distinct hand-written modules on the call
    stack at the moment the request reaches the transport (a real `httpx.MockTransport` looks at its own
    stack), for create and send_now. The sans-IO core has yielded its `Send` event by then, so only the
    entry point (`_payouts`) and the driver (`_client`) are there: `_retry` and `_operations` are not."""
    seen: list[list[str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(_stack_modules(sys._getframe()))
        if request.url.path.endswith("/start"):
            started = dict(PAYOUT, status="started", started_at="2024-10-24T17:28:00Z")
            return httpx.Response(200, json={"v1/payouts": [started]})
        return httpx.Response(201, json={"v1/payout": PAYOUT})

    if twin_name == "sync":
        with FedaPay(API_KEY, transport=httpx.MockTransport(handle)) as client:
            client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER)
            client.payouts.send_now(7)
    else:
        async def calls() -> None:
            async with AsyncFedaPay(API_KEY, transport=httpx.MockTransport(handle)) as client:
                await client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER)
                await client.payouts.send_now(7)

        asyncio.run(calls())
    assert len(seen) == 2
    for stack in seen:
        assert len(stack) <= 4
        assert stack == ["_client", "_payouts"]  # the driver, called by the method the user called


def test_over_a_whole_call_no_stack_holds_more_than_the_layers_and_the_reply_reader() -> None:
    """Over all of create and send_now (every call event, `sys.setprofile`), the deepest stack of
    hand-written modules is the driver, the core, the operation reading its reply, and the wire reader
    with the JSON codec under it: five, of which three layers. A helper that called a layer back, or a
    new layer of indirection, would show here."""
    deepest: list[str] = []

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal deepest
        if event == "call" and frame.f_code.co_filename.startswith(str(PACKAGE)):
            stack = _stack_modules(frame)
            if len(stack) > len(deepest):
                deepest = stack

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/start"):
            started = dict(PAYOUT, status="started", started_at="2024-10-24T17:28:00Z")
            return httpx.Response(200, json={"v1/payouts": [started]})
        return httpx.Response(201, json={"v1/payout": PAYOUT})

    with FedaPay(API_KEY, transport=httpx.MockTransport(handle)) as client:
        sys.setprofile(profile)
        try:
            client.payouts.create(amount=1000, currency="XOF", mode="mtn_open", customer=CUSTOMER)
            client.payouts.send_now(7)
        finally:
            sys.setprofile(None)
    assert deepest == ["_json", "_wire", "_payouts", "_retry", "_client"]


def test_the_clients_own_pool_keeps_no_cookie_and_sends_none() -> None:
    """A bearer-token API needs no cookies: a Set-Cookie is ignored (httpx's jar bookkeeping per reply was
    a tenth of the client's own time) and no Cookie header goes out. If an httpx upgrade moved the jar,
    the cookie would be kept and this test would say so."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"v1/payout": PAYOUT}, headers={"Set-Cookie": "session=abc; Path=/"})

    with FedaPay(API_KEY, transport=httpx.MockTransport(handle)) as client:
        client.payouts.retrieve(7)
        client.payouts.retrieve(7)
        jar = client._http.cookies
    assert list(jar.jar) == []
    assert [request.headers.get("cookie") for request in seen] == [None, None]


def test_the_default_max_in_flight_depends_on_who_owns_the_pool() -> None:
    """32 places, each with its own connection, on the client's pool; 8 turns when one pool of yours serves them all
    (httpcore's pool loses to its own bookkeeping past about 8 requests in flight: benchmarks/client/RESULTS.md)."""
    with FedaPay(API_KEY, base_url="http://127.0.0.1:9/v1") as own:
        assert own.max_in_flight == 32
    with httpx.Client() as yours, FedaPay(API_KEY, base_url="http://127.0.0.1:9/v1", http_client=yours) as shared:
        assert shared.max_in_flight == 8
    with FedaPay(API_KEY, base_url="http://127.0.0.1:9/v1", transport=httpx.HTTPTransport()) as through:
        assert through.max_in_flight == 8
    with FedaPay(API_KEY, base_url="http://127.0.0.1:9/v1", http_client=httpx.Client(), max_in_flight=20) as chosen:
        assert chosen.max_in_flight == 20


def test_every_client_shares_one_verifying_ssl_context() -> None:
    """Loading the CA bundle costs about 20 ms a client; the one context made instead must still verify."""
    import ssl

    from fedapay_payouts._client import default_ssl_context

    context = default_ssl_context()
    assert context is default_ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.get_ca_certs() or context.cert_store_stats()["x509_ca"] > 0
