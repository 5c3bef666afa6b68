"""A raw-socket HTTP/1.1 keep-alive server on loopback that records what each connection carried.

Where `hostile_server.py` closes each connection after one reply, this one keeps connections open
and answers every request with a payout (numbered by the request, or the one a GET asked for), so a
test can see how a client spreads its requests over connections: how many connections were opened,
which ones the client closed, and how many requests were inside the server (read, not yet
answered) at once. `together=N` holds each request until N are inside (a barrier: the replies then
leave at the same moment); `drop={i}` closes the connection instead of answering the i-th request
(counted from 0); `stray={i: seconds}` sends, that many seconds after the reply to the i-th request (0: in
the same write), a second whole reply nobody asked for (payout 999, amount 999999); `double=True` sends every
reply twice in one write; `size=N` pads every reply to exactly N bytes.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field

import orjson

from tests.client.hostile_server import payout

WAIT = 30.0  # seconds: generous bounds for "does not hang", never a timing assertion


@dataclass
class KeepAliveServer:
    together: int = 1
    drop: frozenset[int] = frozenset()
    stray: dict[int, float] = field(default_factory=dict)
    double: bool = False  # every reply sent twice in one write (the second: a stray copy of the first)
    size: int = 0  # when set, each reply padded (an `X-Pad` header) to exactly this many bytes
    requests: list[tuple[int, str]] = field(default_factory=list)  # (connection number, method + path)
    opened: int = 0
    closed: set[int] = field(default_factory=set)  # connections the client closed (EOF between requests)
    inside: int = 0  # requests read and not yet answered
    most_inside: int = 0
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"
        self._lock = threading.Condition()
        self._barrier = threading.Barrier(self.together, timeout=WAIT)
        self._sockets: list[socket.socket] = []
        self.stray_sent = threading.Event()
        threading.Thread(target=self._accept, name="keepalive-server", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                number = self.opened
                self.opened += 1
                self._sockets.append(connection)
            threading.Thread(target=self._serve, args=(connection, number), daemon=True).start()

    def _serve(self, connection: socket.socket, number: int) -> None:
        reader = connection.makefile("rb")
        try:
            while True:
                line = reader.readline()
                if not line:
                    with self._lock:
                        self.closed.add(number)
                        self._lock.notify_all()
                    return
                method, path, _ = line.decode("latin-1").split(" ", 2)
                length = 0
                while (header := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                reader.read(length)
                if not self._answer(connection, number, f"{method} {path}"):
                    return
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                connection.close()

    def _answer(self, connection: socket.socket, number: int, what: str) -> bool:
        with self._lock:
            index = len(self.requests)
            self.requests.append((number, what))
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        if index not in self.drop and self.together > 1:
            try:
                self._barrier.wait()
            except threading.BrokenBarrierError:
                self.problems.append(f"request {index} waited {WAIT} s for {self.together - 1} others")
        with self._lock:
            self.inside -= 1  # before the reply leaves: the client may send its next request at once
        if index in self.drop:
            connection.close()
            return False
        asked = what.rsplit("/", 1)[-1]  # a GET of one payout gets that payout; anything else, a new one
        data = orjson.dumps({"v1/payout": payout(int(asked) if asked.isdigit() else index + 1)})
        status = "201 Created" if what.startswith("POST") else "200 OK"
        head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        if self.size:
            head += "X-Pad: " + "a" * (self.size - len(head) - len("X-Pad: \r\n\r\n") - len(data)) + "\r\n"
        answer = head.encode() + b"\r\n" + data
        if self.double:
            connection.sendall(answer + answer)
            return True
        if index not in self.stray:
            connection.sendall(answer)
            return True
        stray = orjson.dumps({"v1/payout": payout(999, amount=999999)})
        stray_reply = b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
            status.encode(), len(stray), stray)
        if self.stray[index] == 0:
            connection.sendall(answer + stray_reply)
        else:
            connection.sendall(answer)
            threading.Event().wait(self.stray[index])
            connection.sendall(stray_reply)
        self.stray_sent.set()
        return True

    def wait_closed(self, count: int) -> bool:
        """True once the client has closed `count` connections (within the generous bound)."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.closed) >= count, timeout=WAIT)

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for connection in self._sockets:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
