"""A tiny SIP UAS imitating siprecd's signalling, used only by the harness self-tests
(test_harness.py) to prove the SIPp scenarios, the SIP client and the TLS client work
before (and independently of) the real binary.

It answers INVITE with 100 + 200 (SDP answer: one recvonly m-line per offered one,
labels echoed, fixed ports per dialog), re-INVITE keeping the ports, ACK, BYE, OPTIONS,
CANCEL (with optional answer delay), over UDP, TCP and TLS on 127.0.0.1.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time

from . import sipmsg
from .sipmsg import SipMessage, build_message


class FakeSrs:
    def __init__(self, answer_delay: float = 0.0, certfile: str | None = None,
                 keyfile: str | None = None):
        self.answer_delay = answer_delay
        self.udp, self.tcp = self._bind_udp_and_tcp()
        self.port = self.udp.getsockname()[1]
        self.tcp.listen(8)
        self.tls = None
        self.tls_ctx = None
        if certfile:
            self.tls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tls.bind(("127.0.0.1", 0))
            self.tls.listen(8)
            self.tls_port = self.tls.getsockname()[1]
            self.tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_ctx.load_cert_chain(certfile, keyfile)
        self.requests: list[SipMessage] = []
        self.dialog_ports: dict[str, list[int]] = {}
        self.cancelled: set[str] = set()
        self._next_port = 40000
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._udp_loop, daemon=True),
                         threading.Thread(target=self._accept_loop, args=(self.tcp, False),
                                          daemon=True)]
        if self.tls:
            self._threads.append(threading.Thread(target=self._accept_loop,
                                                  args=(self.tls, True), daemon=True))

    @staticmethod
    def _bind_udp_and_tcp() -> tuple[socket.socket, socket.socket]:
        """A UDP and a TCP socket on the same free port. The kernel's free UDP port may be
        the local port of some TCP connection (other tests open many): try another then."""
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind(("127.0.0.1", 0))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind(("127.0.0.1", udp.getsockname()[1]))
                return udp, tcp
            except OSError:
                udp.close()
                tcp.close()
        raise OSError("no port free for both UDP and TCP on 127.0.0.1")
    def start(self) -> "FakeSrs":
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for s in (self.udp, self.tcp, self.tls):
            if s:
                try:
                    s.close()
                except OSError:
                    pass

    # --- transports -------------------------------------------------------------------
    def _udp_loop(self) -> None:
        self.udp.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data, addr = self.udp.recvfrom(70000)
            except (socket.timeout, OSError):
                continue
            msg = sipmsg.parse_message(data)
            threading.Thread(target=self._handle, daemon=True,
                             args=(msg, lambda b, a=addr: self.udp.sendto(b, a))).start()

    def _accept_loop(self, lsock: socket.socket, tls: bool) -> None:
        lsock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = lsock.accept()
            except (socket.timeout, OSError):
                continue
            if tls:
                try:
                    conn = self.tls_ctx.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    conn.close()
                    continue
            threading.Thread(target=self._stream_loop, args=(conn, tls), daemon=True).start()

    def _stream_loop(self, conn: socket.socket, tls: bool = False) -> None:
        buf = b""
        lock = threading.Lock()

        def send(b: bytes) -> None:
            with lock:
                conn.sendall(b)

        conn.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data = conn.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except OSError:
                break
            if not data:
                break
            buf += data
            while True:
                buf = buf.lstrip(b"\r\n")
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = sipmsg.parse_message(buf[: end + 4])
                total = end + 4 + int(head.header("content-length") or 0)
                if len(buf) < total:
                    break
                msg, buf = sipmsg.parse_message(buf[:total]), buf[total:]
                if tls:  # an SSL object must not read and write from two threads at once
                    self._handle(msg, send)
                else:
                    threading.Thread(target=self._handle, args=(msg, send), daemon=True).start()
        conn.close()

    # --- UAS ------------------------------------------------------------------------
    def _response(self, req: SipMessage, code: int, reason: str, to_tag: str = "",
                  body: str = "", extra: list[tuple[str, str]] | None = None) -> bytes:
        headers = [("Via", v) for v in req.header_all("via")]
        to = req.header("to") or ""
        if to_tag and "tag=" not in to:
            to += f";tag={to_tag}"
        headers += [("From", req.header("from") or ""), ("To", to),
                    ("Call-ID", req.call_id), ("CSeq", req.header("cseq") or "")]
        if code == 200 and req.method in ("INVITE",):
            headers.append(("Contact", f"<sip:srs@127.0.0.1:{self.port}>"))
        headers += extra or []
        if body:
            headers.append(("Content-Type", "application/sdp"))
        return build_message(f"SIP/2.0 {code} {reason}", headers, body)

    def _answer(self, call_id: str, offer: str) -> str:
        sections = sipmsg.sdp_media_sections(offer)
        with self._lock:
            if call_id not in self.dialog_ports:
                self.dialog_ports[call_id] = [self._next_port + 2 * i for i in range(len(sections))]
                self._next_port += 2 * len(sections)
            ports = self.dialog_ports[call_id]
        lines = ["v=0", "o=srs 1 1 IN IP4 127.0.0.1", "s=fake", "c=IN IP4 127.0.0.1", "t=0 0"]
        for port, sec in zip(ports, sections):
            lines += [f"m=audio {port} RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000",
                      "a=rtpmap:101 telephone-event/8000", "a=recvonly"]
            label = re.search(r"^a=label:(\S+)", sec, re.M)
            if label:
                lines.append(f"a=label:{label.group(1)}")
        return "\r\n".join(lines) + "\r\n"

    def _handle(self, req: SipMessage, send) -> None:
        if req.is_response:
            return
        with self._lock:
            self.requests.append(req)
        m = req.method
        tag = "fake" + str(abs(hash(req.call_id)) % 100000)
        if m == "INVITE":
            send(self._response(req, 100, "Trying"))
            if self.answer_delay and not req.to_tag:
                deadline = time.monotonic() + self.answer_delay
                while time.monotonic() < deadline:
                    if req.call_id in self.cancelled:
                        send(self._response(req, 487, "Request Terminated", tag))
                        return
                    time.sleep(0.02)
            sdp = req.sdp()
            if "m=audio" not in sdp:
                send(self._response(req, 488, "Not Acceptable Here", tag,
                                    extra=[("Warning", '304 fake "no media"')]))
                return
            send(self._response(req, 200, "OK", tag, self._answer(req.call_id, sdp)))
        elif m == "CANCEL":
            self.cancelled.add(req.call_id)
            send(self._response(req, 200, "OK", tag))
        elif m in ("BYE", "OPTIONS"):
            send(self._response(req, 200, "OK", tag))
        elif m == "ACK":
            return
        else:
            send(self._response(req, 501, "Not Implemented", tag))
