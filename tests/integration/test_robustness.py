"""(7) INVITE retransmissions, (8) malformed input, (9) unacceptable offers."""

from __future__ import annotations

import os
import random
import socket
import threading
import time

import pytest

from checks import check_tones, check_wav, wait_metric
from support import audio, sipmsg
from support.calls import PyCall, sipp_call
from support.rtp import MultiRtpSender, RtpStream
from support.sipclient import Call, siprec_invite_body
from support.sipmsg import build_message, new_branch, new_call_id

pytestmark = pytest.mark.needs_binary


# --- (7) retransmitted INVITE -------------------------------------------------------------

def test_retransmitted_invite_creates_one_call(siprecd, tones):
    """The same INVITE bytes sent twice (and once more after the 200) make one dialog and
    one recording; every 200 carries the same To tag and the same SDP answer."""
    srv = siprecd()
    ua = srv.ua("udp")
    streams = [RtpStream(payload=tones["440"]), RtpStream(payload=tones["1200"])]
    call = Call(ua, srv.request_uri)
    body, ctype = siprec_invite_body([s.local_port for s in streams])
    data = call.build_invite(body, ctype)
    ua.send(data)
    time.sleep(0.02)
    ua.send(data)
    first = ua.drain(0.8)
    ua.send(data)  # a retransmission crossing the 200 OK
    second = ua.drain(0.8)
    responses = [m for m in first + second if m.is_response and m.cseq[1] == "INVITE"]
    oks = [m for m in responses if m.status == 200]
    others = [m.first_line for m in responses if m.status not in (100, 180, 183, 200)]
    assert oks, f"no 200 OK; responses: {[m.first_line for m in responses]}\n{srv.log_tail()}"
    assert not others, f"unexpected responses to a retransmitted INVITE: {others}"
    assert len({m.to_tag for m in oks}) == 1, f"several dialogs (To tags {[m.to_tag for m in oks]})"
    assert len({tuple(sipmsg.sdp_media_ports(m.sdp())) for m in oks}) == 1, "different SDP answers"
    assert all(m.top_branch == call.invite_branch for m in oks)
    call.on_final(oks[0])
    call.ack(oks[0])
    assert srv.metric("siprecd_sessions_active") == 1, "sessions_active after a retransmitted INVITE"

    ports = sipmsg.sdp_media_ports(oks[0].sdp())
    for s, p in zip(streams, ports):
        s.dest = ("127.0.0.1", p)
    MultiRtpSender(streams, 1.0).start().join(5)
    assert call.bye().final.status == 200
    rec = srv.wait_recording(call.call_id)
    # The call lasted ~2.6 s (1.6 s of retransmission checks, then 1 s of audio): the WAV
    # may or may not include the silent lead-in, but it carries exactly 1 s of tone.
    wav = rec.wav()
    assert wav.channels == 2 and 0.9 <= wav.duration <= 3.0, (wav.channels, wav.duration)
    check_tones(wav, [440.0, 1200.0])
    for ch in range(2):
        span = audio.active_span(wav.data[ch], wav.rate)
        assert abs(span - 1.0) <= 0.1, f"channel {ch + 1} carries {span:.2f}s of tone, sent 1 s"
    time.sleep(0.3)
    assert len(srv.recordings_for(call.call_id)) == 1
    rows = srv.db_rows(call.call_id)
    assert len(rows) == 1, f"db rows for one call: {rows}"
    for s in streams:
        s.close()
    ua.close()


def test_ack_stops_200_retransmissions(siprecd):
    """RFC 3261 section 13.3.1.4: the 200 is retransmitted until the ACK, then no more."""
    srv = siprecd()
    ua = srv.ua("udp")
    call = Call(ua, srv.request_uri)
    body, ctype = siprec_invite_body([40000, 40002])
    ua.send(call.build_invite(body, ctype))
    oks = [m for m in ua.drain(1.7) if m.is_response and m.status == 200]
    assert len(oks) >= 2, f"200 OK not retransmitted without ACK (got {len(oks)} in 1.7 s)"
    call.on_final(oks[0])
    call.ack(oks[0])
    time.sleep(0.1)
    later = [m for m in ua.drain(2.2) if m.is_response and m.status == 200
             and m.cseq[1] == "INVITE"]
    assert not later, f"{len(later)} 200 OK retransmission(s) after the ACK"
    assert call.bye().final.status == 200
    ua.close()


# --- (8) malformed input -------------------------------------------------------------------

def _req(ua, method: str, uri: str, extra: list[tuple[str, str]], *, cseq: str | None = None,
         body: bytes = b"", drop: tuple[str, ...] = ()) -> tuple[bytes, str]:
    branch = new_branch()
    headers = [("Via", ua.via(branch)), ("Max-Forwards", "70"),
               ("From", f"<sip:src@{ua.host}>;tag=mal"), ("To", f"<{uri}>"),
               ("Call-ID", new_call_id("mal")), ("CSeq", cseq or f"1 {method}")]
    headers = [h for h in headers if h[0] not in drop] + extra
    return build_message(f"{method} {uri} SIP/2.0", headers, body), branch


BROKEN_REQUESTS = {
    # name: (builder args, must the answer be 400 (True) or may the request be dropped (False))
    "cseq-not-a-number": (dict(cseq="abc OPTIONS"), True),
    "cseq-method-mismatch": (dict(cseq="1 INVITE"), True),
    "missing-call-id": (dict(drop=("Call-ID",)), True),
    "missing-from": (dict(drop=("From",)), True),
    "header-without-colon": (dict(extra=[("X-Broken", "x")]), False),
    "content-length-beyond-datagram": (dict(extra=[("Content-Length", "500")]), False),
    "negative-content-length": (dict(extra=[("Content-Length", "-5")]), False),
}


@pytest.mark.parametrize("case", sorted(BROKEN_REQUESTS))
def test_broken_request_gets_400_or_is_dropped(siprecd, case):
    srv = siprecd()
    ua = srv.ua("udp")
    kw, must_answer = BROKEN_REQUESTS[case]
    kw = dict(kw)
    data, branch = _req(ua, "OPTIONS", srv.request_uri, kw.pop("extra", []), **kw)
    if case == "header-without-colon":
        data = data.replace(b"X-Broken: x", b"This line is not a header")
    ua.send(data)
    answer = ua.wait(lambda m: m.is_response, 1.0)
    if must_answer or answer:
        assert answer, f"{case}: no answer (expected 400)\n{srv.log_tail()}"
        assert answer.status == 400, f"{case}: got {answer.first_line}, expected 400"
    assert ua.options(srv.request_uri).final.status == 200, "siprecd stopped answering"
    ua.close()


def test_garbage_datagrams_are_ignored(siprecd):
    srv = siprecd()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.5)
    rng = random.Random(5)
    payloads = [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 1400))) for _ in range(200)]
    payloads += [b"", b"\r\n\r\n", b"\x00" * 1000, b"INVITE", b"SIP/2.0 200 OK\r\n\r\n",
                 b"INVITE sip:x SIP/2.0\r\n\r\n", b"OPTIONS sip:x SIP/3.0\r\nVia: x\r\n\r\n",
                 "OPTIONS sip:\u00e9\u00e8 SIP/2.0\r\n\r\n".encode("latin-1")]
    for p in payloads:
        s.sendto(p, ("127.0.0.1", srv.sip_port))
    replies = []
    try:
        while True:
            replies.append(s.recv(70000))
    except socket.timeout:
        pass
    for r in replies:
        assert r.startswith(b"SIP/2.0 4") or r.startswith(b"SIP/2.0 5"), \
            f"garbage answered with something else than an error: {r[:80]!r}"
    assert srv.alive()
    ua = srv.ua("udp")
    assert ua.options(srv.request_uri).final.status == 200
    assert srv.http("/healthz").status == 200
    s.close()
    ua.close()


def test_oversize_udp_message(siprecd):
    """A 60 KB datagram: answered with 513/4xx or dropped, never a crash."""
    srv = siprecd()
    ua = srv.ua("udp")
    data, _ = _req(ua, "OPTIONS", srv.request_uri, [("X-Padding", "a" * 60000)])
    ua.send(data)
    answers = [m for m in ua.drain(1.0) if m.is_response]
    assert all(m.status >= 400 or m.status == 200 for m in answers), \
        [m.first_line for m in answers]
    assert srv.alive()
    assert ua.options(srv.request_uri).final.status == 200
    ua.close()


def test_oversize_tcp_message_is_rejected(siprecd):
    """Endless headers on TCP: siprecd must answer with an error or close the connection
    instead of buffering forever; other connections keep working."""
    srv = siprecd()
    c = socket.create_connection(("127.0.0.1", srv.sip_port), timeout=5)
    c.sendall(f"OPTIONS {srv.request_uri} SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKbig\r\n"
              .encode())
    closed, answer = False, b""
    chunk = b"X-Padding: " + b"a" * 1000 + b"\r\n"
    try:
        for _ in range(1024):  # up to 1 MB of headers
            c.sendall(chunk)
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    c.settimeout(5)
    try:
        while not closed:
            d = c.recv(65536)
            if not d:
                closed = True
                break
            answer += d
            if b"\r\n\r\n" in answer:
                break
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    c.close()
    assert closed or answer.startswith(b"SIP/2.0 4") or answer.startswith(b"SIP/2.0 5"), \
        f"1 MB header block neither rejected nor disconnected (answer {answer[:80]!r})"
    assert srv.alive()
    ua = srv.ua("tcp")
    assert ua.options(srv.request_uri).final.status == 200
    ua.close()


@pytest.mark.parametrize("sdp", [
    "this is not sdp\r\n",
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio notaport RTP/AVP 0\r\n",
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",  # no media at all
])
def test_invite_with_bad_sdp_gets_400_or_488(siprecd, sdp):
    srv = siprecd()
    ua = srv.ua("udp")
    call = Call(ua, srv.request_uri)
    metadata = sipmsg.rs_metadata()
    body = (f"--{sipmsg.BOUNDARY}\r\nContent-Type: application/sdp\r\n\r\n{sdp}"
            f"--{sipmsg.BOUNDARY}\r\nContent-Type: application/rs-metadata+xml\r\n"
            f"Content-Disposition: recording-session\r\n\r\n{metadata}--{sipmsg.BOUNDARY}--\r\n")
    resp = call.invite(body, f"multipart/mixed;boundary={sipmsg.BOUNDARY}", timeout=5)
    assert resp.final is not None, f"no final response to a bad SDP\n{srv.log_tail()}"
    assert resp.final.status in (400, 488), f"bad SDP got {resp.final.first_line}"
    assert wait_metric(srv, "siprecd_sessions_active", 0) == 0
    assert ua.options(srv.request_uri).final.status == 200
    ua.close()


def test_call_records_fine_while_garbage_arrives(siprecd, tones, tmp_path):
    """(8) A SIPp call with RTP runs while garbage, broken and oversize messages and a
    bad-SDP INVITE hit the same listeners; the call is still recorded correctly."""
    srv = siprecd()
    result = {}

    def run_call():
        try:
            result["call"] = sipp_call(srv.sip_port, [tones["440"], tones["1200"]],
                                       tmp_path / "sipp", seconds=3.0)
        except BaseException as e:  # re-raised in the test thread below
            result["error"] = e

    t = threading.Thread(target=run_call)
    t.start()
    time.sleep(0.5)
    rng = random.Random(11)
    g = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    g.bind(("127.0.0.1", 0))
    ua = srv.ua("udp")
    end = time.monotonic() + 2.0
    rounds = 0
    while time.monotonic() < end:
        rounds += 1
        for _ in range(20):
            g.sendto(os.urandom(rng.randint(1, 1500)), ("127.0.0.1", srv.sip_port))
        g.sendto(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n", ("127.0.0.1", srv.sip_port))
        data, _ = _req(ua, "OPTIONS", srv.request_uri, [], cseq="zz OPTIONS")
        ua.send(data)
        big, _ = _req(ua, "OPTIONS", srv.request_uri, [("X-Padding", "b" * 60000)])
        ua.send(big)
        try:
            c = socket.create_connection(("127.0.0.1", srv.sip_port), timeout=1)
            c.sendall(os.urandom(3000) + b"\r\n\r\n")
            c.close()
        except OSError:
            pass
        bad = Call(ua, srv.request_uri)
        ua.send(bad.build_invite("v=0\r\nbroken\r\n", "application/sdp", siprec=False))
        time.sleep(0.1)
    t.join(30)
    if "error" in result:
        raise result["error"]
    res = result["call"]
    assert res.rc == 0, f"SIPp call failed during the garbage (rc {res.rc})\n{res.sipp.diagnostics()}\n{srv.log_tail()}"
    rec = srv.wait_recording(res.call_id)
    check_wav(rec, 2, 3.0, [440.0, 1200.0])
    assert srv.alive() and srv.http("/healthz").status == 200
    assert ua.options(srv.request_uri).final.status == 200
    assert rounds >= 5
    g.close()
    ua.close()


def test_junk_on_rtp_port_does_not_break_recording(siprecd, tones):
    """Non-RTP datagrams and RTP with a payload type that was not negotiated (96, random
    SSRC) at a stream's port, before and during the call's media: they are not latched as
    the stream's source and the recording still carries the tone."""
    srv = siprecd()
    ua = srv.ua("udp")
    call = PyCall(ua, srv.request_uri, [tones["440"], tones["1200"]])
    final = call.setup()
    assert final is not None and final.status == 200, f"INVITE got {final}"
    j = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    j.sendto(b"not rtp at all", ("127.0.0.1", call.ports[0]))
    j.sendto(b"\x80\x60" + os.urandom(170), ("127.0.0.1", call.ports[1]))  # PT 96 first
    time.sleep(0.05)
    sender = call.send_audio(2.0)
    for i in range(20):
        j.sendto(os.urandom(random.randint(1, 300)), ("127.0.0.1", call.ports[0]))
        j.sendto(b"\x80\x60" + os.urandom(170), ("127.0.0.1", call.ports[1]))  # PT 96
        time.sleep(0.05)
    sender.join(5)
    assert call.hangup().status == 200
    rec = srv.wait_recording(call.call_id)
    check_wav(rec, 2, 2.0, [440.0, 1200.0])
    got = rec.meta["streams"]
    assert abs(got[0].get("packets", 0) - 100) <= 3 and abs(got[1].get("packets", 0) - 100) <= 3, \
        f"genuine packets not all counted: {got}"
    j.close()
    ua.close()


# --- (9) unacceptable offers ------------------------------------------------------------

@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_unsupported_codec_offer_gets_488_with_warning(siprecd, transport):
    srv = siprecd()
    ua = srv.ua(transport)
    call = Call(ua, srv.request_uri)
    body, ctype = siprec_invite_body([40000, 40002], codecs="g723")
    resp = call.invite(body, ctype, timeout=5)
    assert resp.final is not None, f"no final response\n{srv.log_tail()}"
    assert resp.final.status == 488, f"G.723-only offer got {resp.final.first_line}"
    warning = resp.final.header("warning")
    assert warning, "488 without Warning header (RFC 3261 section 20.43)"
    assert warning.strip()[:3].isdigit() and warning.strip()[0] == "3", \
        f"Warning should carry a 3xx warn-code (e.g. 304/305): {warning}"
    assert wait_metric(srv, "siprecd_sessions_active", 0) == 0
    ready = [r for r in srv.recordings_for(call.call_id) if r.meta.get("state") == "ready"]
    assert not ready, "a rejected offer produced a recording"
    ua.close()
