"""A scripted HTTP server on 127.0.0.1 for unit tests of the Kaltura client's transport.

It is not a Kaltura: each test queues the exact answers it wants (status, body, a dropped
connection, a stall), and the server records every request and every accepted connection so a
test can prove what was sent - or that nothing was sent at all. The real protocol is exercised
against the sandbox in ``tests/integration/kaltura``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer. ``kind`` is "http" (status/body/headers), "drop", "stall" or "drip".

    "drip" sends the answer one byte every ``seconds``, from the status line on (or, with
    ``drip_from_body``, the headers at once and then the body byte by byte): a server that never
    stalls long enough for a read timeout yet never finishes either.
    """

    kind: str = "http"
    status: int = 200
    body: bytes = b"null"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    seconds: float = 0.0
    #: Wait this long before answering (a slow but working server).
    delay: float = 0.0
    #: Send no Content-Length and close the connection to end the body.
    omit_length: bool = False
    drip_from_body: bool = False


def json_reply(value: Any, status: int = 200) -> Reply:
    return Reply(status=status, body=json.dumps(value).encode())


@dataclass
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FakeKaltura:
    """``with FakeKaltura() as fake: fake.queue(json_reply(...)); fake.url``."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.connections = 0
        #: For each "drip" answer: (bytes sent, bytes it had) when it ended.
        self.drips: list[tuple[int, int]] = []
        self._replies: deque[Reply] = deque()
        self._default: Callable[[Seen], Reply] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = self._make_server()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def answer_with(self, handler: Callable[[Seen], Reply]) -> None:
        """Answer every request without a queued reply by calling ``handler``."""
        self._default = handler

    def __enter__(self) -> FakeKaltura:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            if self._replies:
                return self._replies.popleft()
        if self._default is not None:
            return self._default(seen)
        return Reply(status=500, body=b"no scripted reply")

    def _make_server(self) -> ThreadingHTTPServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                seen = Seen("POST", self.path, {k: v for k, v in self.headers.items()}, body)
                reply = fake._next(seen)
                if reply.kind == "stall":
                    fake._stop.wait(reply.seconds)
                if reply.kind in {"drop", "stall"}:
                    self.close_connection = True
                    return
                if reply.delay:
                    fake._stop.wait(reply.delay)
                if reply.kind == "drip":
                    self._drip(reply)
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.omit_length:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST

            def _drip(self, reply: Reply) -> None:
                self.close_connection = True
                head = (
                    f"HTTP/1.1 {reply.status} OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(reply.body)}\r\n\r\n"
                ).encode()
                whole = head + reply.body
                sent = len(head) if reply.drip_from_body else 0
                try:
                    if sent:
                        self.wfile.write(head)
                        self.wfile.flush()
                    while sent < len(whole) and not fake._stop.is_set():
                        self.wfile.write(whole[sent : sent + 1])
                        self.wfile.flush()
                        sent += 1
                        fake._stop.wait(reply.seconds)
                except OSError:
                    pass  # the client hung up: that is what a deadline does
                with fake._lock:
                    fake.drips.append((sent, len(whole)))

            def log_message(self, format: str, *args: Any) -> None:  # keep tests quiet
                return

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def process_request(self, request: Any, client_address: Any) -> None:
                with fake._lock:
                    fake.connections += 1
                super().process_request(request, client_address)

        return Server(("127.0.0.1", 0), Handler)


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until true or ``timeout``; for server-side effects that land asynchronously."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
