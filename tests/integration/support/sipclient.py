"""A small SIP user agent client (UDP, TCP, TLS) for precise protocol tests.

SIPp drives the "normal" calls; this client is used where a test needs control of
every byte and every timing: retransmissions, CANCEL races, malformed input, TLS (SIPp
3.6 has no TLS), drain behaviour.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass

from . import sipmsg
from .sipmsg import SipMessage, build_message, new_branch, new_call_id, random_token


class Transport:
    """One client socket to siprecd; frames messages for stream transports."""

    def __init__(self, kind: str, host: str, port: int, *, cafile: str | None = None,
                 server_hostname: str | None = None, local_port: int = 0):
        self.kind = kind.lower()
        self.remote = (host, port)
        self._buf = b""
        if self.kind == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", local_port))
        elif self.kind in ("tcp", "tls"):
            raw = socket.create_connection(self.remote, timeout=5)
            if self.kind == "tls":
                ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
                if cafile is None:
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                self.sock = ctx.wrap_socket(raw, server_hostname=server_hostname or host)
            else:
                self.sock = raw
        else:
            raise ValueError(f"unknown transport {kind}")
        self.local = self.sock.getsockname()
        self.closed_by_peer = False

    @property
    def via_proto(self) -> str:
        return self.kind.upper()

    def send(self, data: bytes) -> None:
        if self.kind == "udp":
            self.sock.sendto(data, self.remote)
        else:
            self.sock.sendall(data)

    def recv_raw(self, timeout: float) -> bytes | None:
        """One datagram (UDP) or the next chunk of the stream; None on timeout."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            if self.kind == "udp":
                data, _ = self.sock.recvfrom(70000)
                return data
            data = self.sock.recv(65536)
            if not data:
                self.closed_by_peer = True
            return data
        except (socket.timeout, ssl.SSLWantReadError, TimeoutError):
            return None
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            self.closed_by_peer = True
            return b""

    def recv(self, timeout: float) -> SipMessage | None:
        """The next complete SIP message, or None when none arrived within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if self.kind != "udp":
                msg = self._frame()
                if msg is not None:
                    return msg
                if self.closed_by_peer:
                    return None
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            data = self.recv_raw(left)
            if data is None:
                continue
            if self.kind == "udp":
                if data.strip(b"\r\n"):
                    return sipmsg.parse_message(data)
                continue
            if not data:
                continue
            self._buf += data

    def _frame(self) -> SipMessage | None:
        self._buf = self._buf.lstrip(b"\r\n")  # RFC 5626 keep-alives
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = sipmsg.parse_message(self._buf[: end + 4])
        length = int((head.header("content-length") or "0").strip() or 0)
        total = end + 4 + length
        if len(self._buf) < total:
            return None
        data, self._buf = self._buf[:total], self._buf[total:]
        return sipmsg.parse_message(data)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


@dataclass
class Response:
    final: SipMessage | None
    provisional: list[SipMessage]


class SipUac:
    """A UAC bound to one transport; collects everything siprecd sends it."""

    def __init__(self, transport: Transport):
        self.t = transport
        self.received: list[SipMessage] = []  # everything, in arrival order
        self.pending: list[SipMessage] = []  # not yet consumed by a wait
        self.host, self.port = self.t.local[0], self.t.local[1]

    def via(self, branch: str) -> str:
        return f"SIP/2.0/{self.t.via_proto} {self.host}:{self.port};branch={branch};rport"

    def contact(self, src: bool = True) -> str:
        tp = "" if self.t.kind == "udp" else f";transport={self.t.kind}"
        return f"<sip:src@{self.host}:{self.port}{tp}>" + (";+sip.src" if src else "")

    def send(self, data: bytes) -> None:
        self.t.send(data)

    def _pump(self, timeout: float) -> SipMessage | None:
        msg = self.t.recv(timeout)
        if msg is not None:
            self.received.append(msg)
            if not msg.is_response:
                self._auto_answer(msg)
        return msg

    def _auto_answer(self, req: SipMessage) -> None:
        """Answers requests siprecd sends us (OPTIONS pings, BYE on its own) with 200."""
        if req.method == "ACK":
            return
        headers = [("Via", v) for v in req.header_all("via")]
        headers += [("From", req.header("from") or ""),
                    ("To", (req.header("to") or "") + ("" if req.to_tag else ";tag=uac")),
                    ("Call-ID", req.call_id), ("CSeq", req.header("cseq") or "")]
        self.send(build_message("SIP/2.0 200 OK", headers))
        self.pending.append(req)

    def wait(self, pred, timeout: float) -> SipMessage | None:
        """The first message (already pending or new) satisfying pred, else None."""
        for i, m in enumerate(self.pending):
            if pred(m):
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            m = self._pump(left)
            if m is None:
                if self.t.closed_by_peer:
                    return None
                continue
            if pred(m):
                if not m.is_response:
                    self.pending.remove(m)
                return m
            if m.is_response:
                self.pending.append(m)
        return None

    def drain(self, duration: float) -> list[SipMessage]:
        """Receives everything for `duration` seconds (returns the new messages)."""
        start = len(self.received)
        deadline = time.monotonic() + duration
        while (left := deadline - time.monotonic()) > 0:
            if self._pump(left) is None and self.t.closed_by_peer:
                break
        return self.received[start:]

    def transaction(self, branch: str, method: str, timeout: float = 5.0,
                    retransmit: bytes | None = None) -> Response:
        """Waits for the final response of a client transaction (and its provisionals).

        With `retransmit` (UDP), the request is re-sent with RFC 3261 timer A/E back-off
        until a response arrives.
        """
        prov: list[SipMessage] = []
        deadline = time.monotonic() + timeout
        interval = 0.5
        next_tx = time.monotonic() + interval

        def match(m: SipMessage) -> bool:
            return m.is_response and m.top_branch == branch and m.cseq[1] == method

        while (now := time.monotonic()) < deadline:
            step = min(deadline, next_tx) - now if retransmit else deadline - now
            m = self.wait(match, max(step, 0.001))
            if m is None:
                if self.t.closed_by_peer:
                    break
                if retransmit and not prov and time.monotonic() >= next_tx:
                    self.send(retransmit)
                    interval = min(interval * 2, 4.0)
                    next_tx = time.monotonic() + interval
                continue
            if m.status < 200:
                prov.append(m)
                continue
            return Response(m, prov)
        return Response(None, prov)

    def request(self, method: str, uri: str, *, call_id: str | None = None, cseq: int = 1,
                from_tag: str | None = None, to_uri: str | None = None, to_tag: str = "",
                branch: str | None = None, headers: list[tuple[str, str]] | None = None,
                body: bytes | str = b"", content_type: str | None = None) -> tuple[bytes, str]:
        """Builds a request; returns (bytes, branch)."""
        branch = branch or new_branch()
        to = f"<{to_uri or uri}>" + (f";tag={to_tag}" if to_tag else "")
        hdrs = [
            ("Via", self.via(branch)),
            ("Max-Forwards", "70"),
            ("From", f"<sip:src@{self.host}>;tag={from_tag or random_token(8)}"),
            ("To", to),
            ("Call-ID", call_id or new_call_id()),
            ("CSeq", f"{cseq} {method}"),
        ]
        if method in ("INVITE", "OPTIONS", "UPDATE"):
            hdrs.append(("Contact", self.contact()))
        hdrs += headers or []
        if content_type:
            hdrs.append(("Content-Type", content_type))
        return build_message(f"{method} {uri} SIP/2.0", hdrs, body), branch

    def options(self, uri: str, timeout: float = 3.0) -> Response:
        data, branch = self.request("OPTIONS", uri, headers=[("Accept", "application/sdp")])
        self.send(data)
        return self.transaction(branch, "OPTIONS", timeout,
                                retransmit=data if self.t.kind == "udp" else None)

    def close(self) -> None:
        self.t.close()


class Call:
    """One dialog initiated by us (the SRC) towards siprecd."""

    def __init__(self, ua: SipUac, request_uri: str, *, call_id: str | None = None):
        self.ua = ua
        self.request_uri = request_uri
        self.call_id = call_id or new_call_id()
        self.local_tag = random_token(8)
        self.remote_tag = ""
        self.remote_target = request_uri
        self.cseq = 0
        self.invite_bytes = b""
        self.invite_branch = ""
        self.invite_cseq = 0
        self.last_final: SipMessage | None = None

    def build_invite(self, body: str | bytes, content_type: str, *, siprec: bool = True,
                     extra: list[tuple[str, str]] | None = None, in_dialog: bool = False) -> bytes:
        self.cseq += 1
        headers = []
        if siprec:
            headers += [("Require", "siprec"), ("Accept", "application/sdp, application/rs-metadata+xml")]
        headers += [("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE")]
        headers += extra or []
        data, branch = self.ua.request(
            "INVITE", self.remote_target if in_dialog else self.request_uri,
            call_id=self.call_id, cseq=self.cseq, from_tag=self.local_tag,
            to_uri=self.request_uri, to_tag=self.remote_tag if in_dialog else "",
            headers=headers, body=body, content_type=content_type)
        if not siprec:
            # Plain INVITE: Contact without +sip.src.
            data = data.replace(b";+sip.src", b"")
        self.invite_bytes, self.invite_branch, self.invite_cseq = data, branch, self.cseq
        return data

    def invite(self, body: str | bytes, content_type: str, *, siprec: bool = True,
               extra: list[tuple[str, str]] | None = None, timeout: float = 8.0,
               ack: bool = True) -> Response:
        """Sends an (initial or re-)INVITE and waits for its final response; ACKs it."""
        in_dialog = bool(self.remote_tag)
        data = self.build_invite(body, content_type, siprec=siprec, extra=extra, in_dialog=in_dialog)
        self.ua.send(data)
        resp = self.ua.transaction(self.invite_branch, "INVITE", timeout,
                                   retransmit=data if self.ua.t.kind == "udp" else None)
        self.on_final(resp.final)
        if resp.final is not None and ack:
            self.ack(resp.final)
        return resp

    def on_final(self, final: SipMessage | None) -> None:
        self.last_final = final
        if final is not None and 200 <= final.status < 300 and not self.remote_tag:
            self.remote_tag = final.to_tag
            if final.contact_uri:
                self.remote_target = final.contact_uri

    def ack(self, final: SipMessage) -> None:
        """ACK for a final response: in-dialog new branch for 2xx, same branch otherwise."""
        if 200 <= final.status < 300:
            branch, uri = new_branch(), self.remote_target
        else:
            branch, uri = self.invite_branch, self.request_uri
        data, _ = self.ua.request(
            "ACK", uri, call_id=self.call_id, cseq=self.invite_cseq, from_tag=self.local_tag,
            to_uri=self.request_uri, to_tag=final.to_tag, branch=branch)
        self.ua.send(data)

    def cancel(self, timeout: float = 5.0) -> Response:
        """CANCEL of the pending INVITE (RFC 3261 section 9.1: same branch, same CSeq number)."""
        data, _ = self.ua.request(
            "CANCEL", self.request_uri, call_id=self.call_id, cseq=self.invite_cseq,
            from_tag=self.local_tag, to_uri=self.request_uri, branch=self.invite_branch)
        self.ua.send(data)
        return self.ua.transaction(self.invite_branch, "CANCEL", timeout,
                                   retransmit=data if self.ua.t.kind == "udp" else None)

    def bye(self, timeout: float = 5.0) -> Response:
        self.cseq += 1
        data, branch = self.ua.request(
            "BYE", self.remote_target, call_id=self.call_id, cseq=self.cseq,
            from_tag=self.local_tag, to_uri=self.request_uri, to_tag=self.remote_tag)
        self.ua.send(data)
        return self.ua.transaction(branch, "BYE", timeout,
                                   retransmit=data if self.ua.t.kind == "udp" else None)

    def in_dialog(self, method: str, timeout: float = 5.0,
                  headers: list[tuple[str, str]] | None = None) -> Response:
        self.cseq += 1
        data, branch = self.ua.request(
            method, self.remote_target, call_id=self.call_id, cseq=self.cseq,
            from_tag=self.local_tag, to_uri=self.request_uri, to_tag=self.remote_tag,
            headers=headers)
        self.ua.send(data)
        return self.ua.transaction(branch, method, timeout,
                                   retransmit=data if self.ua.t.kind == "udp" else None)


def siprec_invite_body(rtp_ports: list[int], labels=("1", "2"), codecs="pcmu_pcma_te",
                       version: int = 1) -> tuple[str, str]:
    """(body, content-type) of a SIPREC INVITE offering one stream per port."""
    sdp = sipmsg.offer_sdp(rtp_ports, labels=list(labels)[: len(rtp_ports)], codecs=codecs,
                           version=version)
    body = sipmsg.siprec_body(sdp, sipmsg.rs_metadata(tuple(labels)))
    return body, f"multipart/mixed;boundary={sipmsg.BOUNDARY}"
