"""Self-checks of the harness, runnable without siprecd: if these fail, a failure elsewhere
says nothing about siprecd.

They prove that the sox test audio is what the analysis expects, that the RTP sender
paces and numbers packets exactly, and that the SIPp scenarios and the Python SIP/TLS
client complete calls against a minimal UAS (support/fake_srs.py).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import wave

import pytest

from support import audio, sipmsg
from support.fake_srs import FakeSrs
from support.rtp import MultiRtpSender, RtpStream, parse_rtp
from support.sipclient import Call, SipUac, Transport, siprec_invite_body
from support.sipp import SippRun

pytestmark = pytest.mark.harness


def test_sox_tones_are_distinguishable(tones):
    a = audio.decode_g711(tones["440"][:8000])
    b = audio.decode_g711(tones["1200"][:8000])
    la = audio.decode_g711(tones["440a"][:8000], "a-law")
    assert len(tones["440"]) == 4 * 8000
    assert audio.band_ratio(a, 8000, 440, 1200) > 1000
    assert audio.band_ratio(b, 8000, 1200, 440) > 1000
    assert audio.band_ratio(la, 8000, 440, 1200) > 1000
    assert audio.tone_fraction(a, 8000, 440) > 0.9
    assert audio.tone_fraction(b, 8000, 440) < 0.01
    assert 7000 < audio.rms(a) < 14000  # -6 dBFS sine: 0.5 * 32767 / sqrt(2) ~ 11600


def test_g711_decoders_match_reference_points():
    assert audio.ULAW[0xFF] == 0 and audio.ULAW[0x7F] == 0
    assert audio.ULAW[0x00] == -32124 and audio.ULAW[0x80] == 32124
    assert audio.ALAW[0xD5] == 8 and audio.ALAW[0x55] == -8
    assert audio.ALAW[0xAA] == 32256 and audio.ALAW[0x2A] == -32256


def test_wav_analysis_finds_tones_onsets_and_gaps(tmp_path):
    rate = 8000
    a = audio.decode_g711(audio.make_tone(tmp_path / "a.ul", 440, 1.0))
    b = audio.decode_g711(audio.make_tone(tmp_path / "b.ul", 1200, 1.0))
    ch1 = [0] * 800 + a + [0] * 800  # starts at 100 ms
    ch2 = [0] * 960 + b[:4000] + [0] * 800 + b[4800:] + [0] * 640  # 100 ms gap
    path = tmp_path / "t.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<hh", x, y) for x, y in zip(ch1, ch2)))
    wav = audio.read_wav(path)
    assert (wav.channels, wav.rate, wav.frames) == (2, 8000, 9600)
    assert abs(wav.duration - 1.2) < 1e-9
    assert audio.band_ratio(wav.data[0], rate, 440, 1200) > 1000
    assert audio.band_ratio(wav.data[1], rate, 1200, 440) > 1000
    assert abs(audio.onset(wav.data[0]) - 800) <= 8
    assert abs(audio.onset(wav.data[1]) - 960) <= 8
    assert audio.silent_gaps(wav.data[0], rate) == []
    gaps = audio.silent_gaps(wav.data[1], rate)
    assert len(gaps) == 1 and abs(gaps[0][1] - 0.1) <= 0.021, gaps


def _receiver():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.5)
    return s


def _collect(sock):
    out = []
    while True:
        try:
            data = sock.recv(2000)
        except socket.timeout:
            return out
        out.append((time.monotonic(), parse_rtp(data)))


class _Collector(threading.Thread):
    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock, self.packets = sock, []

    def run(self):
        self.packets = _collect(self.sock)


def test_rtp_sender_paces_and_numbers_packets(tones):
    r1, r2 = _receiver(), _receiver()
    c1, c2 = _Collector(r1), _Collector(r2)
    c1.start()
    c2.start()
    s1 = RtpStream(payload=tones["440"], dest=r1.getsockname())
    s2 = RtpStream(payload=tones["1200"], dest=r2.getsockname(), payload_type=8)
    sender = MultiRtpSender([s1, s2], 1.0).start()
    sender.join(5)
    c1.join(5)
    c2.join(5)
    p1, p2 = c1.packets, c2.packets
    assert len(p1) == len(p2) == 50
    for stream, pkts in ((s1, p1), (s2, p2)):
        for i, (_, p) in enumerate(pkts):
            assert p["version"] == 2 and p["ssrc"] == stream.ssrc
            assert p["pt"] == stream.payload_type
            assert p["seq"] == (stream.seq + i) & 0xFFFF
            assert p["ts"] == (stream.timestamp + 160 * i) & 0xFFFFFFFF
            assert p["marker"] == (1 if i == 0 else 0)
            assert p["payload"] == stream.payload[160 * i:160 * (i + 1)]
    span = p1[-1][0] - p1[0][0]
    assert abs(span - 0.98) < 0.05, span  # 49 intervals of 20 ms
    assert sender.finished_at - sender.started_at < 1.05
    r1.close()
    r2.close()


def test_rtp_sender_injects_loss_reorder_and_duplicates(tones):
    r = _receiver()
    s = RtpStream(payload=tones["440"], dest=r.getsockname(), loss=0.1, reorder=0.1,
                  duplicate=0.05)
    MultiRtpSender([s], 2.0, seed=7).start().join(5)
    seqs = [(p["seq"] - s.seq) & 0xFFFF for _, p in _collect(r)]
    assert s.dropped > 0
    assert len(set(seqs)) == 100 - s.dropped
    assert len(seqs) > len(set(seqs)), "no duplicate sent"
    assert any(b < a for a, b in zip(seqs, seqs[1:])), "no reordering seen"
    r.close()


@pytest.fixture
def fake_srs():
    srs = FakeSrs().start()
    yield srs
    srs.stop()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("scenario,streams,reinvite", [
    ("siprec_uac.xml", 2, False),
    ("siprec_reinvite_uac.xml", 2, True),
    ("plain_uac.xml", 1, False),
])
def test_sipp_scenarios_complete_against_fake_srs(fake_srs, tmp_path, transport, scenario,
                                                   streams, reinvite):
    keys = {f"rtp{i + 1}": 20000 + 2 * i for i in range(streams)}
    run = SippRun(scenario, fake_srs.port, tmp_path, transport=transport, keys=keys,
                  call_ms=200).start()
    ans = run.wait_answer()
    rc = run.wait()
    assert rc == 0, run.diagnostics()
    assert ans["call_id"] in fake_srs.dialog_ports
    assert [int(ans[f"p{i + 1}"]) for i in range(streams)] == fake_srs.dialog_ports[ans["call_id"]]
    if reinvite:
        re = run.wait_log("REANSWER")[0]
        assert (re["p1"], re["p2"]) == (ans["p1"], ans["p2"])
    methods = [r.method for r in fake_srs.requests if r.call_id == ans["call_id"]]
    expected = ["INVITE", "ACK"] + (["INVITE", "ACK"] if reinvite else []) + ["BYE"]
    assert methods == expected
    invite = next(r for r in fake_srs.requests if r.call_id == ans["call_id"])
    offer = invite.sdp()
    assert sipmsg.sdp_media_ports(offer) == list(keys.values())
    if scenario.startswith("siprec"):
        assert invite.header("require") == "siprec"
        assert "+sip.src" in invite.header("contact")
        parts = sipmsg.parse_multipart(invite.header("content-type"), invite.body)
        assert [p[0]["content-type"] for p in parts] == ["application/sdp",
                                                         "application/rs-metadata+xml"]
        assert parts[1][0]["content-disposition"] == "recording-session"
        assert sipmsg.ALICE_ID in parts[1][1].decode()
        assert re_labels(offer) == ["1", "2"]
    sent = run.messages("sent")
    assert sent and sent[0].method == "INVITE" and sent[0].call_id == ans["call_id"]
    assert sipmsg.sdp_media_ports(sent[0].sdp()) == list(keys.values())
    # the trace parser sees the 200 OK and its SDP
    ok = [m for m in run.responses("INVITE") if m.status == 200]
    assert ok and sipmsg.sdp_media_ports(ok[0].sdp()) == fake_srs.dialog_ports[ans["call_id"]]


def re_labels(sdp: str) -> list[str]:
    import re
    return re.findall(r"^a=label:(\S+)", sdp, re.M)


def test_sipp_options_scenario(fake_srs, tmp_path):
    for transport in ("udp", "tcp"):
        run = SippRun("options_uac.xml", fake_srs.port, tmp_path / transport,
                      transport=transport).start()
        assert run.wait() == 0, run.diagnostics()


@pytest.mark.parametrize("kind", ["udp", "tcp", "tls"])
def test_python_uac_against_fake_srs(tls_cert, kind):
    srs = FakeSrs(certfile=tls_cert[0], keyfile=tls_cert[1]).start()
    try:
        port = srs.tls_port if kind == "tls" else srs.port
        ua = SipUac(Transport(kind, "127.0.0.1", port, cafile=tls_cert[0],
                              server_hostname="localhost"))
        r = ua.options(f"sip:srs@127.0.0.1:{port}")
        assert r.final is not None and r.final.status == 200
        call = Call(ua, f"sip:srs@127.0.0.1:{port}")
        body, ctype = siprec_invite_body([30000, 30002])
        resp = call.invite(body, ctype)
        assert [p.status for p in resp.provisional] == [100]
        assert resp.final.status == 200
        assert sipmsg.sdp_media_ports(resp.final.sdp()) == srs.dialog_ports[call.call_id]
        bye = call.bye()
        assert bye.final.status == 200
        time.sleep(0.1)
        assert [r.method for r in srs.requests if r.call_id == call.call_id] == \
            ["INVITE", "ACK", "BYE"]
        ua.close()
    finally:
        srs.stop()


def test_python_uac_cancel_flow_against_fake_srs():
    srs = FakeSrs(answer_delay=2.0).start()
    try:
        ua = SipUac(Transport("udp", "127.0.0.1", srs.port))
        call = Call(ua, f"sip:srs@127.0.0.1:{srs.port}")
        body, ctype = siprec_invite_body([30000, 30002])
        ua.send(call.build_invite(body, ctype))
        trying = ua.wait(lambda m: m.is_response and m.method == "INVITE", 2)
        assert trying is not None and trying.status == 100
        c = call.cancel()
        assert c.final.status == 200
        inv = ua.transaction(call.invite_branch, "INVITE", 3)
        assert inv.final.status == 487
        call.ack(inv.final)
    finally:
        srs.stop()
