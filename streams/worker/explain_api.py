"""The worker's live explain (Kafka Streams' "interactive queries"): ``GET /subjects/<subject_id>`` answers one
person's explain document from this worker's own state.

* **Off by default** (``CLEARANCE_EXPLAIN_PORT`` unset or 0), bound to ``CLEARANCE_EXPLAIN_HOST`` (127.0.0.1), and
  never started without a bearer token (``CLEARANCE_EXPLAIN_TOKEN`` or ``_TOKEN_FILE``): :func:`start` refuses with
  one line. The token is compared in constant time (:func:`hmac.compare_digest`); any request without it, or with
  another, is 401 before the path is even looked at, so an unauthenticated client learns nothing.
* **One exact key, read only**: the only route is ``GET /subjects/<id>``; ``/subjects`` and every other path is 404,
  every other method 405. There is no listing and no search.
* ``200`` + the document (:func:`streams.explain.explain_document` over the last emitted determinations; JSON, or
  text with ``?format=text``); ``404`` when this worker holds no state for the subject and owns its partition (or
  does not know its assignment yet); ``421 Misdirected Request`` with a hint when the subject's partition is
  assigned to another worker (``clearance explain --live`` then asks the next worker).
* **No personal data in the log**: each lookup logs one line with the status and the latency, nothing of the
  subject (not even a hash: a subject id is a short number, so any hash of it is reversible by enumeration);
  http.server's own access log, which prints the path, is silenced.

The server is the standard library's ``ThreadingHTTPServer`` in a daemon thread, like /metrics. The state is read
on the worker's event loop (:func:`store_lookup` marshals the read there with ``call_soon_threadsafe`` and waits
with a timeout; a timed-out read is cancelled), so a lookup never races the agent's writes to the table.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from streams.errors import ClearanceError
from streams.explain import explain_document, render_text
from streams.kafka.partitioner import partition_for_key
from streams.worker.store import SubjectStore

log = logging.getLogger(__name__)

PREFIX = "/subjects/"
MAX_SUBJECT_ID = 64  # longer ids are not looked up (400)
READ_TIMEOUT = 5.0  # seconds a lookup waits for the event loop


class ExplainConfigError(ClearanceError):
    """The endpoint is configured (a port) but has no token."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a lookup found: ``status`` 200 with ``document``, 404 (not held), 421 (another worker's partition)."""

    status: int
    document: dict[str, Any] | None = None
    hint: str = ""


Lookup = Callable[[str], Answer]


def answer_from_store(
    store: SubjectStore, subject_id: str, partitions: int, owned: Callable[[], set[int] | None] = lambda: None
) -> Answer:
    """The subject's answer from ``store``: its last emitted determinations as the explain document."""
    key = subject_id.encode()
    state = store.get(key)
    if state is None:
        partition = partition_for_key(key, partitions)
        mine = owned()
        if mine is not None and partition not in mine:
            return Answer(421, hint=f"partition {partition} of the input is assigned to another worker: ask it")
        return Answer(404, hint="this worker holds no state for this subject")
    determinations = [emitted.determination for emitted in state.emitted.values()]
    history = {cid: [revision._asdict() for revision in revisions] for cid, revisions in state.history.items()}
    return Answer(200, explain_document(state.subject_id, determinations, source="live", history=history))


def store_lookup(
    store: SubjectStore,
    partitions: int,
    owned: Callable[[], set[int] | None] = lambda: None,
    loop: asyncio.AbstractEventLoop | None = None,
    timeout: float = READ_TIMEOUT,
) -> Lookup:
    """A lookup for the server's threads: on ``loop`` (the worker's, so the read never races the agent) or, without
    one (tests with a :class:`~streams.worker.store.DictStore`), directly."""

    def lookup(subject_id: str) -> Answer:
        if loop is None:
            return answer_from_store(store, subject_id, partitions, owned)

        future: concurrent.futures.Future[Answer] = concurrent.futures.Future()

        def read() -> None:  # on the loop, between two of the agent's steps
            if not future.set_running_or_notify_cancel():
                return  # the request gave up waiting
            try:
                future.set_result(answer_from_store(store, subject_id, partitions, owned))
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(read)
        try:
            return future.result(timeout)
        finally:
            future.cancel()  # no-op once done; a read still queued then does nothing

    return lookup


class _Handler(BaseHTTPRequestHandler):
    server: ExplainServer
    server_version = "clearance-explain"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # http.server's signature
        """Silenced: http.server's access and error lines print the request path, i.e. the subject id."""

    def _send(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", f"{reply.content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def _authorised(self) -> bool:
        given = self.headers.get("Authorization", "").encode()
        return hmac.compare_digest(given, self.server.expected_header)

    def do_GET(self) -> None:  # http.server's naming
        started = time.perf_counter()
        reply = self._get()
        # logged before the reply is written, so a client that has its answer can rely on the line being there
        log.info("explain lookup: status %d in %.1f ms", reply.status, (time.perf_counter() - started) * 1000)
        self._send(reply)

    def _get(self) -> _Reply:
        if not self._authorised():
            return _error(401, "a bearer token is required", {"WWW-Authenticate": 'Bearer realm="clearance-explain"'})
        url = urlsplit(self.path)
        subject_id = unquote(url.path[len(PREFIX):]) if url.path.startswith(PREFIX) else ""
        if not subject_id or "/" in subject_id:
            return _error(404, "the only resource is /subjects/<subject_id>; subjects are never listed")
        if len(subject_id) > MAX_SUBJECT_ID:
            return _error(400, "subject id too long")
        try:
            answer = self.server.lookup(subject_id)
        except Exception as exc:  # a timeout on a busy loop, a store error: no traceback with the id in it
            log.warning("explain lookup failed: %s", type(exc).__name__)
            return _error(503, "the worker could not read its state in time; try again")
        if answer.status != 200 or answer.document is None:
            return _error(answer.status, answer.hint or "not held by this worker")
        if parse_qs(url.query).get("format") == ["text"]:
            return _Reply(200, render_text(answer.document).encode(), "text/plain")
        return _Reply(200, json.dumps(answer.document, indent=2, ensure_ascii=False).encode() + b"\n")

    def _not_allowed(self) -> None:
        status = 401 if not self._authorised() else 405
        log.info("explain lookup: status %d", status)
        self._send(_error(status, "read only: GET /subjects/<subject_id>", {"Allow": "GET"}))

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_allowed


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(status, json.dumps({"error": message}).encode() + b"\n", headers=headers or {})


class ExplainServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], lookup: Lookup, token: str) -> None:
        super().__init__(address, _Handler)
        self.lookup = lookup
        self.expected_header = f"Bearer {token}".encode()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def serve(lookup: Lookup, host: str, port: int, token: str) -> ExplainServer:
    """Serve the endpoint from a daemon thread; port 0 picks a free one (``server.server_port``)."""
    if not token:
        raise ExplainConfigError(
            "explain endpoint not started: set CLEARANCE_EXPLAIN_TOKEN or CLEARANCE_EXPLAIN_TOKEN_FILE "
            "(or unset CLEARANCE_EXPLAIN_PORT)")
    server = ExplainServer((host, port), lookup, token)
    threading.Thread(target=server.serve_forever, name="clearance-explain", daemon=True).start()
    return server
