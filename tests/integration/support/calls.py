"""Whole calls: SIPp (or the Python UAC) for signalling + the Python RTP sender for media."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import sipmsg
from .rtp import MultiRtpSender, RtpStream
from .sipclient import Call, SipUac, siprec_invite_body
from .sipp import SippRun


@dataclass
class CallResult:
    call_id: str
    rc: int  # SIPp exit code (0: the call succeeded); 0 for Python-driven calls
    ports: list[int]  # siprecd's answer ports, m-line order
    streams: list[RtpStream]
    sender: MultiRtpSender
    sipp: SippRun | None = None
    reanswer_ports: list[int] = field(default_factory=list)
    answer: sipmsg.SipMessage | None = None

    def answer_sdp(self) -> str:
        if self.answer is not None:
            return self.answer.sdp()
        if self.sipp is not None:
            oks = [m for m in self.sipp.responses("INVITE") if m.status == 200]
            return oks[0].sdp() if oks else ""
        return ""


def sipp_call(port: int, payloads: list[bytes], workdir: Path, *, transport: str = "udp",
              seconds: float = 3.0, scenario: str = "siprec_uac.xml",
              reinvite_at_ms: int = 0, rtp_kw: dict | None = None,
              start_sipp: bool = True) -> CallResult:
    """Runs one SIPp call against siprecd at `port` while sending `payloads` (one per
    m-line) as RTP for `seconds`. SIPp sends BYE ~100 ms after the audio ends.

    For scenarios with a fixed pause before a re-INVITE, pass `reinvite_at_ms` so the
    total call still lasts `seconds`.
    """
    streams = [RtpStream(payload=p, **(rtp_kw or {})) for p in payloads]
    keys = {f"rtp{i + 1}": s.local_port for i, s in enumerate(streams)}
    call_ms = int(seconds * 1000) + 100 - reinvite_at_ms
    sipp = SippRun(scenario, port, workdir, transport=transport, keys=keys, call_ms=call_ms)
    sipp.start()
    try:
        ans = sipp.wait_answer(timeout=10)
        ports = [int(ans[f"p{i + 1}"]) for i in range(len(streams))]
        for s, p in zip(streams, ports):
            s.dest = ("127.0.0.1", p)
        sender = MultiRtpSender(streams, seconds).start()
        reanswer: list[int] = []
        if reinvite_at_ms:
            re = sipp.wait_log("REANSWER", timeout=reinvite_at_ms / 1000 + 10)[0]
            reanswer = [int(re[f"p{i + 1}"]) for i in range(len(streams)) if re.get(f"p{i + 1}")]
        rc = sipp.wait()
        sender.join(seconds + 5)
    finally:
        sipp.kill()
        for s in streams:
            s.close()
    return CallResult(ans["call_id"], rc, ports, streams, sender, sipp, reanswer)


class PyCall:
    """A SIPREC call driven by the Python UAC (for TLS, drain, concurrency tests)."""

    def __init__(self, ua: SipUac, request_uri: str, payloads: list[bytes], *,
                 codecs: str = "pcmu_pcma_te"):
        self.ua = ua
        self.streams = [RtpStream(payload=p) for p in payloads]
        self.call = Call(ua, request_uri)
        self.codecs = codecs
        self.sender: MultiRtpSender | None = None
        self.answer: sipmsg.SipMessage | None = None
        self.ports: list[int] = []

    def setup(self) -> sipmsg.SipMessage | None:
        body, ctype = siprec_invite_body([s.local_port for s in self.streams], codecs=self.codecs)
        resp = self.call.invite(body, ctype)
        self.answer = resp.final
        if resp.final is not None and resp.final.status == 200:
            self.ports = sipmsg.sdp_media_ports(resp.final.sdp())
            for s, p in zip(self.streams, self.ports):
                s.dest = ("127.0.0.1", p)
        return resp.final

    def send_audio(self, seconds: float) -> MultiRtpSender:
        self.sender = MultiRtpSender(self.streams, seconds).start()
        return self.sender

    def hangup(self) -> sipmsg.SipMessage | None:
        if self.sender:
            self.sender.join(30)
        resp = self.call.bye()
        for s in self.streams:
            s.close()
        return resp.final

    @property
    def call_id(self) -> str:
        return self.call.call_id
