"""`fedapay-contract --base-url` against servers that attack the one running it: a reply that never ends, control
characters for the terminal and the JUnit file. Real sockets on loopback, each server a few lines of raw HTTP.

Every wait here is bounded: the command runs in a thread joined with a deadline far above what it needs.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from fedapay_contract import cli, deadline
from fedapay_contract.cli import EXIT_FAILED, EXIT_USAGE, main
from fedapay_contract.suite import Mode, Part, run_suite

KEY = "sk_sandbox_Zq8rT3cOntRActKeY91"
# Far above what each run takes once bounded (a few seconds); a hang fails the test instead of holding it.
BOUND = 90.0
DRIP_PAUSE = 0.2
OK_EMPTY = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

Handler = Callable[[socket.socket, int], None]


def _read_request(conn: socket.socket) -> bool:
    """Read one request (head and Content-Length body); False when the client has gone."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        body += chunk
    return True


@contextlib.contextmanager
def raw_server(handle: Handler) -> Iterator[str]:
    """A server on 127.0.0.1 calling `handle(connection, request number)` for each request; yields its /v1 URL.
    Its connections are shut down when the block ends, which ends every handler (a drip's next send fails)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    connections: list[socket.socket] = []
    count = iter(range(1, 1_000_000))
    lock = threading.Lock()

    def serve(conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            while _read_request(conn):
                with lock:
                    number = next(count)
                handle(conn, number)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                with lock:
                    connections.append(conn)
                threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        with lock:
            for conn in connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


def drip_headers(conn: socket.socket, number: int) -> None:
    """The status line one byte at a time, then the body one byte at a time: never a whole reply."""
    for byte in b"HTTP/1.1 200 OK\r\n":
        conn.sendall(bytes([byte]))
        time.sleep(DRIP_PAUSE)
    drip_body(conn, number)


def drip_body(conn: socket.socket, number: int) -> None:
    """The head at once, then a chunked body one byte at a time: every read is answered, the reply never ends."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    while True:
        conn.sendall(b"1\r\n \r\n")
        time.sleep(DRIP_PAUSE)


def drip_after_the_first(conn: socket.socket, number: int) -> None:
    """Answers the command's first request (is the server there?), then drips every reply."""
    if number == 1:
        conn.sendall(OK_EMPTY)
    else:
        drip_body(conn, number)


def _run_bounded(argv: list[str]) -> tuple[int, str, float]:
    """main(argv) in a thread joined for at most BOUND seconds: (exit status, what it printed, seconds taken)."""
    out = io.StringIO()
    result: list[int] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: result.append(main(argv, out=out)), daemon=True)
    worker.start()
    worker.join(BOUND)
    assert result, f"still running after {BOUND:.0f} s:\n{out.getvalue()}"
    return result[0], out.getvalue(), time.monotonic() - started


@pytest.mark.parametrize("drip", [drip_headers, drip_body])
def test_a_server_that_never_finishes_its_first_reply_cannot_be_reached(
    drip: Handler, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", KEY)
    monkeypatch.setattr(cli, "REACH_SECONDS", 1.0)
    with raw_server(drip) as url:
        code, out, seconds = _run_bounded(["--base-url", url])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE, out + err
    assert err == (f"fedapay-contract: could not reach the server at {url}: no complete answer within 1 s (the server "
                   "sends its reply too slowly or never ends it)\n")
    assert seconds < 30, seconds  # the cap (1 s here), not the 10 s per read that a drip never reaches


def test_a_server_that_drips_every_reply_fails_the_run_at_its_time_limit_with_a_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", KEY)
    junit = tmp_path / "contract.xml"
    with raw_server(drip_after_the_first) as url:
        code, out, _ = _run_bounded(["--base-url", url, "--max-examples", "2", "--time-limit", "3",
                                     "--junit-xml", str(junit)])
    assert code == EXIT_FAILED, out
    assert "- error: stopped at its time limit of 3 s: the figures are those of the cases run until then" in out
    assert "cut at 30 s (the wall-clock cap of a request) or at the run's time limit" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    (error,) = suite.iter("error")
    assert (error.get("message") or "").startswith("stopped at its time limit of 3 s")


def test_the_time_limit_comes_from_the_environment_and_a_bad_one_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", KEY)
    monkeypatch.setenv("FEDAPAY_CONTRACT_TIME_LIMIT", "0")
    assert main(["--base-url", "http://127.0.0.1:9/v1"], out=io.StringIO()) == EXIT_USAGE
    assert capsys.readouterr().err == (
        "fedapay-contract: FEDAPAY_CONTRACT_TIME_LIMIT must be a whole number of seconds >= 1, not '0'\n"
    )
    monkeypatch.setenv("FEDAPAY_CONTRACT_TIME_LIMIT", "2")
    with raw_server(drip_after_the_first) as url:
        code, out, _ = _run_bounded(["--base-url", url, "--max-examples", "2"])
    assert code == EXIT_FAILED, out
    assert "stopped at its time limit of 2 s" in out


@pytest.mark.parametrize("drip", [drip_headers, drip_body])
def test_each_request_is_cut_at_its_wall_clock_cap_and_a_whole_reply_is_not(drip: Handler) -> None:
    """The adapter every session of the suite sends with: one reply that never ends costs the cap, not forever."""
    with raw_server(drip) as url, deadline.mount(requests.Session(), 1.0) as session:
        started = time.monotonic()
        cuts = deadline.cuts()
        with pytest.raises((requests.ReadTimeout, requests.exceptions.ChunkedEncodingError)):
            session.get(url, timeout=10)
        assert time.monotonic() - started < 9  # below the per-read timeout a drip never reaches
        assert deadline.cuts() == cuts + 1
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    with raw_server(lambda conn, _: conn.sendall(answer)) as url, deadline.mount(requests.Session(), 1.0) as session:
        for _ in range(3):  # one kept-alive connection, handed back after each reply: nothing is cut later
            assert session.get(url, timeout=10).text == "ok"
        time.sleep(1.5)
        assert session.get(url, timeout=10).text == "ok"
    assert deadline.cuts() == cuts + 1


def test_the_suite_caps_the_requests_of_every_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a time limit too: schemathesis' own sessions (probes, cases) go through the adapter."""
    monkeypatch.setattr(deadline, "REQUEST_SECONDS", 1.0)
    part = Part("retrieve", ("examples",), ("retrieve_payout",))
    with raw_server(drip_body) as url:
        started = time.monotonic()
        report = run_suite(base_url=url, api_key=KEY, mode=Mode.TEETH, target="drip", part=part)
    assert time.monotonic() - started < BOUND
    assert not report.ok
    assert any(error.endswith("cut at 1 s (the wall-clock cap of a request) or at the run's time limit, without a "
                              "complete reply") for error in report.errors), report.errors


def control_characters(conn: socket.socket, number: int) -> None:
    """Every reply 200 with escape sequences in its Content-Type and a NUL, a bell and an OSC title in its body."""
    body = b"\x1b[31mRED\x1b]0;pwned\x07 \x00\x01 <not json>"
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/\x1b[31mhtml\x1b[0m\r\nX-Evil: \x1b[2J\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body) + body)


def test_control_characters_from_a_server_are_shown_as_escapes_on_the_terminal_and_in_the_junit_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", KEY)
    junit = tmp_path / "contract.xml"
    results = tmp_path / "RESULTS.md"
    with raw_server(control_characters) as url:
        code, out, _ = _run_bounded(["--base-url", url, "--max-examples", "2", "--junit-xml", str(junit),
                                     "--write-results", str(results)])
    assert code == EXIT_FAILED, out
    # The Content-Type is quoted by content_type_conformance: visible, inert.
    assert "Received: text/\\x1b[31mhtml\\x1b[0m" in out
    written = junit.read_text(encoding="utf-8")
    for text in (out, written, results.read_text(encoding="utf-8")):
        unsafe = {char for char in text if (ord(char) < 32 and char not in "\n\t") or 0x7F <= ord(char) <= 0x9F}
        assert not unsafe, unsafe
    suite = ET.fromstring(written).find("testsuite")  # parses: no character XML 1.0 forbids
    assert suite is not None
    assert "text/\\x1b[31mhtml" in "".join(suite.itertext())


HUGE = 48 * 1024 * 1024  # far past the cap (deadline.MAX_REPLY_BYTES, 10 MiB): what a server sends whole


@functools.cache
def _bomb() -> bytes:
    return gzip.compress(b"0" * HUGE, compresslevel=1)


def _huge_reply(kind: str, sent: list[int]) -> Handler:
    """A 200 whose body is HUGE bytes: declared up front, in chunks, or gzip-compressed into a few KB."""

    def handle(conn: socket.socket, number: int) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        if kind == "declared":
            conn.sendall(head + b"Content-Length: %d\r\n\r\n" % HUGE)
            body, chunked = b"0" * HUGE, False
        elif kind == "chunked":
            conn.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
            body, chunked = b"0" * HUGE, True
        else:
            body, chunked = _bomb(), False
            conn.sendall(head + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body))
        step = 1 << 20
        for start in range(0, len(body), step):
            piece = body[start : start + step]
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent[0] += len(piece)
        if chunked:
            conn.sendall(b"0\r\n\r\n")

    return handle


@pytest.mark.parametrize("stream", [False, True], ids=["read whole", "streamed as schemathesis asks"])
@pytest.mark.parametrize("kind", ["declared", "chunked", "gzip"])
def test_a_reply_past_the_size_cap_is_not_read_past_it(kind: str, stream: bool) -> None:
    """requests reads a body whole: 48 MB, endless chunks or a compression bomb filled the runner's memory. The
    suite's cases ask their replies streamed, then read `.content` (schemathesis' `_request`): capped too (a 512
    MiB gzip bomb took 3.7 GB when only unstreamed replies were)."""
    sent = [0]
    oversized = deadline.oversized()
    with raw_server(_huge_reply(kind, sent)) as url, deadline.mount(requests.Session()) as session:
        with pytest.raises(deadline.ReplyTooLargeError, match="larger than 10485760 bytes"):
            session.get(url, timeout=10, stream=stream).content  # noqa: B018 - what schemathesis does
        # The connection was closed near the cap: the rest of the body never left the server (socket buffers aside).
        assert sent[0] < HUGE // 2, sent[0]
    assert deadline.oversized() == oversized + 1
    small = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    with raw_server(lambda conn, _: conn.sendall(small)) as url, deadline.mount(requests.Session()) as session:
        assert session.get(url, timeout=10).content == b"ok"  # a reply within the cap is read as before
        assert session.get(url, timeout=10, stream=True).content == b"ok"
    event = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 9\r\n\r\ndata: 1\n\n"
    with raw_server(lambda conn, _: conn.sendall(event)) as url, deadline.mount(requests.Session()) as session:
        assert session.get(url, timeout=10, stream=True).raw.read() == b"data: 1\n\n"  # an event stream: streamed


def huge_after_the_first(conn: socket.socket, number: int) -> None:
    """Answers the command's first request (is the server there?), then every reply is a compression bomb."""
    if number == 1:
        conn.sendall(OK_EMPTY)
    else:
        _huge_reply("gzip", [0])(conn, number)


def test_a_server_answering_huge_replies_fails_the_run_saying_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", KEY)
    with raw_server(huge_after_the_first) as url:
        # Each case meets 10 MiB of decompression before the cap: a short time limit bounds the run.
        code, out, _ = _run_bounded(["--base-url", url, "--max-examples", "2", "--time-limit", "3"])
    assert code == EXIT_FAILED, out
    capped = r"- error: \d+ repl(y|ies) larger than 10485760 bytes \(the size cap of a reply\), not read past it"
    assert re.search(capped, out), out


# Requests answered before a server stops answering: the examples phase (18 requests, cases and probes) ends first.
ANSWERED = 40
HANG_TIME_LIMIT = 10.0  # seconds; see the test below


def answer_then_hang(conn: socket.socket, number: int) -> None:
    """The first ANSWERED requests get an (empty) answer, then no reply ever begins."""
    if number <= ANSWERED:
        conn.sendall(OK_EMPTY)
    else:
        conn.recv(1)  # until the client (or the server's end) closes the connection


def test_a_run_reaching_its_time_limit_mid_request_keeps_what_it_ran() -> None:
    """The request in flight at the time limit is cut. Its error reached schemathesis' reporting, which read the
    cut's plain-text `ReadTimeout` as urllib3's and raised AttributeError: the run ended with no result at all
    (`fedapay-contract --time-limit` against a slow server said "0 cases"). A probe hanging was not cut at all."""
    part = Part("examples, then coverage", ("examples", "coverage"))
    with raw_server(answer_then_hang) as url:
        started = time.monotonic()
        # The limit must fall while the hanging request waits, so it is far past the ANSWERED replies: with a
        # 2 s limit a loaded machine (a full check, or three busy processes beside it) had not reached the
        # hanging request by then, and the run stopped before sending it (5 failures in 6 runs).
        report = run_suite(base_url=url, api_key=KEY, mode=Mode.TEETH, target="hang", part=part,
                           time_limit=HANG_TIME_LIMIT)
    assert time.monotonic() - started < BOUND
    assert report.timed_out
    assert report.cases_by_phase.get("examples", 0) >= 7, report.headline()  # one per operation at least
    cut = [error for error in report.errors if "Network Error" in error]
    assert cut, report.errors
    assert "no complete reply within" in cut[0], cut
    assert "the run's time limit" in cut[0], cut


def _not_sent(url: str) -> Exception:
    deadline.set_run_deadline(time.monotonic() - 1)
    try:
        with deadline.mount(requests.Session()) as session:
            session.get(url, timeout=10)
    except requests.RequestException as error:
        return error
    finally:
        deadline.set_run_deadline(None)
    raise AssertionError("sent after the run's end")


def _caught(handler: Handler, seconds: float | None = None) -> Callable[[str], Exception]:
    def send(url: str) -> Exception:
        with raw_server(handler) as served, deadline.mount(requests.Session(), seconds) as session:
            try:
                session.get(served, timeout=10)
            except requests.RequestException as error:
                return error
        raise AssertionError("answered")

    return send


@pytest.mark.parametrize(
    ("send", "kind", "shown"),
    [
        (_caught(drip_headers, 1.0), requests.ReadTimeout, "Read timed out after 1 seconds"),
        (_not_sent, requests.ConnectTimeout, "not sent, the run reached its time limit"),
        (_caught(_huge_reply("gzip", [0])), deadline.ReplyTooLargeError, "larger than 10485760 bytes"),
    ],
    ids=["cut", "not sent", "too large"],
)
def test_every_error_the_cap_raises_renders_in_schemathesis_reports(
    send: Callable[[str], Exception], kind: type[Exception], shown: str
) -> None:
    """Each error `deadline` raises goes through schemathesis' error reporting (what its engine does with a
    network error) without breaking it, and says what happened."""
    from schemathesis.engine.errors import EngineErrorInfo, canonicalize_error_message

    error = send("http://127.0.0.1:9/v1")
    assert isinstance(error, kind), repr(error)
    info = EngineErrorInfo(error)
    assert info.title == "Network Error"
    text = info.format()
    assert shown in text, text
    assert canonicalize_error_message(error)
    assert str(error)


def refuse_slowly(conn: socket.socket, number: int) -> None:
    """Answers the first request (is the server there?), then each later one 422 after a pause."""
    if number > 1:
        time.sleep(DRIP_PAUSE)
    body = b'{"message": "no", "errors": {}}'
    conn.sendall(b"HTTP/1.1 422 Unprocessable\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                 % len(body) + body)


def test_a_run_stopped_at_its_time_limit_says_what_it_saw_not_that_an_operation_never_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After an early stop the run may not have reached an operation's valid cases: "never answered a 2xx" said
    more than it knew (eleventh review)."""
    monkeypatch.setenv("FEDAPAY_CONTRACT_API_KEY", KEY)
    with raw_server(refuse_slowly) as url:
        code, out, _ = _run_bounded(["--base-url", url, "--max-examples", "2", "--time-limit", "3"])
    assert code == EXIT_FAILED, out
    assert "stopped at its time limit of 3 s" in out
    assert "never answered a 2xx" not in out
    assert "no 2xx among the cases run before the time limit: " in out
