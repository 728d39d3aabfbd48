"""A real HTTP endpoint for siprecd's callbacks (DESIGN.md §2 "Callbacks and events").

`CallbackReceiver` listens on 127.0.0.1 (http.server in a thread) under a path prefix and
plays the application:

* POST {prefix}/newCall is answered {"recordCall": record_call} after `newcall_delay_s`
  (or with `newcall_status` when that is not 200);
* POST {prefix}/{eventName} (recordingStarted, recordingReady, ...) is answered
  `event_status` (200 by default; 500 makes siprecd retry later);
* PUT {upload_prefix}/... stores the body (an `http` destination's pre-signed URL) after
  `upload_delay_s`.

Every POST's `X-Siprecd-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, t + "." +
body)>` is verified against `secret`; a request that fails is answered 401 and kept in
`bad_signatures()`, so a wrong secret can never pass unnoticed. `stop()` closes the port
(connection refused), `start()` opens it again on the same port.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .net import free_port

SIGNATURE_HEADER = "X-Siprecd-Signature"

# The lifecycle rank of each event (DESIGN.md §1): per recording, events must be delivered
# in non-decreasing rank. METADATAUPDATED may repeat between start and ready.
EVENT_RANK = {
    "NEWCALL": 0,
    "RECORDINGSTARTED": 1,
    "METADATAUPDATED": 2,
    "RECORDINGREADY": 3,
    "RECORDINGFAILED": 3,
    "RECORDINGSTORED": 4,
    "RECORDINGDELETED": 5,
}
# callback path segment -> body method
EVENT_NAMES = {
    "newCall": "NEWCALL",
    "recordingStarted": "RECORDINGSTARTED",
    "metadataUpdated": "METADATAUPDATED",
    "recordingReady": "RECORDINGREADY",
    "recordingStored": "RECORDINGSTORED",
    "recordingDeleted": "RECORDINGDELETED",
    "recordingFailed": "RECORDINGFAILED",
}


def sign(secret: str, unix_s: int, body: bytes) -> str:
    """The header value siprecd must send for `body` signed at `unix_s`."""
    mac = hmac.new(secret.encode(), str(unix_s).encode() + b"." + body, hashlib.sha256)
    return f"t={unix_s},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str | None, body: bytes, now_s: float | None = None,
                     tolerance_s: int = 300) -> str | None:
    """None when `header` is a valid signature of `body` under `secret`, else why not.

    Accepts the Stripe-like form `t=<unix s>,v1=<hex>[,v1=<hex>...]` (other keys are
    ignored); the timestamp must be within `tolerance_s` of now.
    """
    if not header:
        return f"no {SIGNATURE_HEADER} header"
    t_value: str | None = None
    v1: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            return f"malformed element {item.strip()!r} in {header!r}"
        if key == "t":
            t_value = value
        elif key == "v1":
            v1.append(value)
    if t_value is None or not t_value.isdigit():
        return f"no numeric t= in {header!r}"
    if not v1:
        return f"no v1= in {header!r}"
    now_s = time.time() if now_s is None else now_s
    if abs(now_s - int(t_value)) > tolerance_s:
        return f"timestamp t={t_value} is {now_s - int(t_value):.0f}s away from now"
    mac = hmac.new(secret.encode(), t_value.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(mac, v.lower()) for v in v1):
        return "v1 does not match HMAC-SHA256(secret, t + '.' + body)"
    return None


def read_body(h: BaseHTTPRequestHandler) -> bytes:
    """The request body, by Content-Length or chunked transfer coding."""
    if "chunked" in h.headers.get("Transfer-Encoding", "").lower():
        out = b""
        while True:
            size = int(h.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return out
            out += h.rfile.read(size)
            h.rfile.readline()
    length = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(length) if length else b""


@dataclass
class Received:
    """One request as the receiver saw it."""

    method: str  # HTTP method
    path: str
    name: str  # the path segment after the prefix: "newCall", "recordingReady", ...
    body: bytes
    headers: dict[str, str]
    status: int = 0  # what the receiver answered
    signature_error: str | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> dict:
        try:
            doc = json.loads(self.body)
        except ValueError:
            return {}
        return doc if isinstance(doc, dict) else {}

    @property
    def delivered(self) -> bool:
        """Accepted by the application: a 2xx answer to a correctly signed request."""
        return 200 <= self.status < 300 and self.signature_error is None

    def __str__(self) -> str:
        return (f"{self.method} {self.path} -> {self.status}"
                f"{' (signature: ' + self.signature_error + ')' if self.signature_error else ''}"
                f" {self.body[:300]!r}")


class CallbackReceiver:
    def __init__(self, secret: str, *, prefix: str = "/hooks", upload_prefix: str = "/upload",
                 port: int | None = None):
        self.secret = secret
        self.prefix = prefix.rstrip("/")
        self.upload_prefix = upload_prefix.rstrip("/")
        self.port = port or free_port("tcp")
        # behaviour (may be changed while running)
        self.record_call: bool = True
        self.newcall_delay_s: float = 0.0
        self.newcall_status: int = 200
        self.newcall_body: bytes | None = None  # overrides {"recordCall": ...}
        self.event_status: int = 200
        self.upload_delay_s: float = 0.0
        # observation
        self.requests: list[Received] = []
        self.uploads: dict[str, bytes] = {}
        self._lock = threading.Condition(threading.RLock())
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The domain's callback_base."""
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def upload_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}{self.upload_prefix}/{name}"

    def start(self) -> "CallbackReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: one request per connection, so stop() really cuts siprecd off
            # (no kept-alive connection keeps being served).
            protocol_version = "HTTP/1.0"

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:
                receiver._handle(self)

            def do_PUT(self) -> None:
                receiver._handle(self)

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="callback-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Closes the listening port: siprecd's requests get connection refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    # --- request handling -------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("Expect", "").lower() == "100-continue":
            # libcurl asks before sending larger bodies; answering at once avoids its 1 s wait.
            h.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            h.wfile.flush()
        body = read_body(h)
        path = h.path.split("?", 1)[0]
        rec = Received(h.command, h.path, path.rsplit("/", 1)[-1], body,
                       {k.lower(): v for k, v in h.headers.items()})
        reply_status, reply_body = 404, b'{"error":"unknown path"}'
        if h.command == "PUT" and path.startswith(self.upload_prefix + "/"):
            if self.upload_delay_s:
                time.sleep(self.upload_delay_s)
            with self._lock:
                self.uploads[path[len(self.upload_prefix) + 1:]] = body
            reply_status, reply_body = 200, b""
        elif h.command == "POST" and path.startswith(self.prefix + "/"):
            rec.signature_error = verify_signature(self.secret, h.headers.get(SIGNATURE_HEADER), body)
            if rec.signature_error is not None:
                reply_status, reply_body = 401, b'{"error":"bad signature"}'
            elif rec.name == "newCall":
                if self.newcall_delay_s:
                    time.sleep(self.newcall_delay_s)
                reply_status = self.newcall_status
                reply_body = self.newcall_body if self.newcall_body is not None else \
                    json.dumps({"recordCall": self.record_call}).encode()
            else:
                reply_status, reply_body = self.event_status, b'{"ok":true}'
        # Recorded before answering: whoever got the answer must find the request here.
        with self._lock:
            rec.status = reply_status
            self.requests.append(rec)
            self._lock.notify_all()
        try:
            h.send_response(reply_status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(reply_body)))
            h.end_headers()
            h.wfile.write(reply_body)
        except OSError:
            with self._lock:
                rec.status = -1  # the client gave up waiting (e.g. newCall timeout)

    # --- observation ------------------------------------------------------------------
    def bad_signatures(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.signature_error is not None]

    def posts(self, recording_id: str | None = None) -> list[Received]:
        """Every callback POST (any outcome), in arrival order."""
        with self._lock:
            reqs = [r for r in self.requests if r.method == "POST"]
        if recording_id is not None:
            reqs = [r for r in reqs if r.json.get("recordingId") == recording_id]
        return reqs

    def events(self, recording_id: str | None = None, method: str | None = None) -> list[dict]:
        """Bodies of the delivered events (2xx to a valid signature), first delivery of each
        eventId only, in arrival order; NEWCALL included."""
        seen: set[str] = set()
        out = []
        for r in self.posts(recording_id):
            if not r.delivered:
                continue
            doc = r.json
            key = str(doc.get("eventId"))
            if key in seen:
                continue
            seen.add(key)
            if method is None or doc.get("method") == method:
                out.append(doc)
        return out

    def wait_event(self, method: str, recording_id: str | None = None, timeout: float = 10.0,
                   pred=None, diag=None) -> dict:
        """The first delivered event `method` (of `recording_id`) satisfying `pred`."""
        deadline = time.monotonic() + timeout
        with self._lock:  # an RLock underneath: events() may take it again
            while True:
                found = [e for e in self.events(recording_id, method) if pred is None or pred(e)]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(min(left, 0.2))
        raise AssertionError(
            f"no {method} event{' for ' + recording_id if recording_id else ''} delivered within "
            f"{timeout}s; callbacks received:\n  " + "\n  ".join(str(r) for r in self.posts()[-20:])
            + (f"\n{diag()}" if diag else ""))

    def wait_recording_id(self, call_id: str, timeout: float = 10.0, diag=None) -> str:
        """The recordingId of the call with `call_id`, from its first callback (newCall or
        any event carrying callId)."""
        deadline = time.monotonic() + timeout
        while True:
            for r in self.posts():
                doc = r.json
                if doc.get("callId") == call_id and doc.get("recordingId"):
                    return str(doc["recordingId"])
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no callback mentioned Call-ID {call_id} within {timeout}s; received:\n  "
                    + "\n  ".join(str(r) for r in self.posts()[-20:]) + (f"\n{diag()}" if diag else ""))
            time.sleep(0.05)

    def check_order(self, recording_id: str) -> list[str]:
        """Asserts that the recording's delivered events follow the lifecycle (by first
        delivery of each eventId) and that eventIds are unique per event; returns the
        methods in delivery order."""
        events = self.events(recording_id)
        methods = [e.get("method") for e in events]
        ranks = [EVENT_RANK.get(str(m), -1) for m in methods]
        assert -1 not in ranks, f"unknown event method in {methods}"
        assert ranks == sorted(ranks), f"events of {recording_id} out of order: {methods}"
        # A redelivery must repeat the same body under the same eventId; two different
        # events must never share an eventId.
        by_id: dict[str, str] = {}
        for r in self.posts(recording_id):
            if r.signature_error is None and r.json:
                eid = str(r.json.get("eventId"))
                m = str(r.json.get("method"))
                assert by_id.setdefault(eid, m) == m, \
                    f"eventId {eid} used for both {by_id[eid]} and {m}"
        once = [m for m in methods if m not in ("METADATAUPDATED",)]
        assert len(once) == len(set(once)), f"an event was announced twice under new ids: {methods}"
        return [str(m) for m in methods]
