"""SDES-SRTP (RFC 3711, RFC 4568): SIPp offers two RTP/SAVP streams with a=crypto keys the
test generates; ffmpeg (an SRTP implementation independent of siprecd's libsrtp) sends
real SRTP, with the offered key on stream 1 and a wrong key on stream 2. The recording
must carry the tone on channel 1 and silence on channel 2, with stream 2's packets
counted as authentication failures in recording.json. The domain's `srtp` policy refuses
plain offers (required) or SRTP offers (refused) with 488.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from support import audio, sipmsg
from support.net import free_port
from support.sipclient import Call, siprec_invite_body
from support.sipp import SippRun

pytestmark = pytest.mark.needs_binary

SECONDS = 3.0
SUITE = "AES_CM_128_HMAC_SHA1_80"
FFMPEG = shutil.which("ffmpeg")


def srtp_key() -> str:
    """A fresh AES_CM_128 master key || salt (16 + 14 bytes), base64 as in a=crypto."""
    return base64.b64encode(os.urandom(30)).decode()


def start_srtp_sender(freq: int, key: str, port: int, log: Path) -> subprocess.Popen:
    """ffmpeg sending `SECONDS` of a sine as PCMU in 20 ms SRTP packets (160-byte payloads:
    pkt_size leaves room for the 10-byte tag) to 127.0.0.1:port, SRTCP to port + 1."""
    cmd = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
           "-f", "lavfi", "-i",
           f"sine=frequency={freq}:duration={SECONDS}:sample_rate=8000:samples_per_frame=160",
           "-ac", "1", "-ar", "8000", "-acodec", "pcm_mulaw", "-payload_type", "0",
           "-f", "rtp", "-sdp_file", os.devnull,
           "-srtp_out_suite", SUITE, "-srtp_out_params", key,
           f"srtp://127.0.0.1:{port}?pkt_size=200"]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(log, "wb"))


def answer_cryptos(sdp: str) -> list[list[str]]:
    """The a=crypto values of each m-line of an SDP answer."""
    return [re.findall(r"^a=crypto:(.+?)\s*$", sec, re.M) for sec in sipmsg.sdp_media_sections(sdp)]


@pytest.mark.skipif(FFMPEG is None, reason="ffmpeg not installed")
def test_srtp_streams_are_decrypted_and_a_wrong_key_records_silence(siprecd, tmp_path):
    srv = siprecd()
    offered = [srtp_key(), srtp_key()]
    wrong_key = srtp_key()
    sipp = SippRun("siprec_srtp_uac.xml", srv.sip_port, tmp_path / "sipp",
                   keys={"rtp1": free_port("udp"), "rtp2": free_port("udp"),
                         "key1": offered[0], "key2": offered[1]},
                   call_ms=int(SECONDS * 1000) + 1500)
    sipp.start()
    senders: list[subprocess.Popen] = []
    try:
        ans = sipp.wait_answer(timeout=10)
        ports = [int(ans["p1"]), int(ans["p2"])]
        senders = [start_srtp_sender(440, offered[0], ports[0], tmp_path / "ffmpeg1.log"),
                   start_srtp_sender(1200, wrong_key, ports[1], tmp_path / "ffmpeg2.log")]
        for sender in senders:
            assert sender.wait(SECONDS + 15) == 0, \
                f"ffmpeg failed: {(tmp_path / 'ffmpeg1.log').read_text()}" \
                f"{(tmp_path / 'ffmpeg2.log').read_text()}"
        rc = sipp.wait()
    finally:
        for sender in senders:
            if sender.poll() is None:
                sender.kill()
        sipp.kill()
    assert rc == 0, f"SIPp call failed (rc {rc})\n{sipp.diagnostics()}\n{srv.log_tail()}"

    # The answer: RTP/SAVP with our own key for the chosen tag and suite (RFC 4568 §7.1.2).
    oks = [m for m in sipp.responses("INVITE") if m.status == 200]
    assert oks, sipp.diagnostics()
    sdp = oks[0].sdp()
    assert re.findall(r"^m=audio \d+ (\S+)", sdp, re.M) == ["RTP/SAVP", "RTP/SAVP"], sdp
    cryptos = answer_cryptos(sdp)
    assert [len(c) for c in cryptos] == [1, 1], f"one a=crypto per answered stream:\n{sdp}"
    for crypto, tag, key in ((cryptos[0][0], "2", offered[0]), (cryptos[1][0], "1", offered[1])):
        m = re.fullmatch(rf"{tag} {SUITE} inline:([A-Za-z0-9+/=]+)", crypto)
        assert m, f"answer a=crypto:{crypto} (expected tag {tag}, {SUITE})"
        assert len(base64.b64decode(m.group(1))) == 30
        assert m.group(1) != key, "the answer echoed the SRC's key instead of its own"

    rec = srv.wait_recording(ans["call_id"])
    wav = rec.wav()
    assert wav.channels == 2 and wav.rate == 8000, f"{wav.channels} channels at {wav.rate} Hz"
    tone, silent = wav.data
    assert audio.band_ratio(tone, wav.rate, 440.0, 1200.0) > 100, "channel 1 lacks the 440 Hz tone"
    assert audio.tone_fraction(tone, wav.rate, 440.0) > 0.8, "channel 1 is not mostly 440 Hz"
    assert abs(audio.active_span(tone, wav.rate) - SECONDS) <= 0.3, \
        f"channel 1 carries {audio.active_span(tone, wav.rate):.2f}s of audio"
    assert audio.rms(silent) < 50, \
        f"channel 2 (wrong key) is not silent: rms {audio.rms(silent):.0f}"

    streams = rec.meta["streams"]
    packets = int(SECONDS * 50)
    assert abs(streams[0].get("packets", -1) - packets) <= 3, f"stream 1: {streams[0]}"
    assert streams[0].get("srtpAuthFailures") == 0, f"stream 1: {streams[0]}"
    assert streams[1].get("packets") == 0, f"stream 2 accepted packets: {streams[1]}"
    assert streams[1].get("srtpAuthFailures", 0) >= packets - 3, \
        f"stream 2's wrong-key packets not counted as authentication failures: {streams[1]}"


def _refusal(srv, body: str, ctype: str):
    ua = srv.ua("udp")
    final = Call(ua, srv.request_uri).invite(body, ctype).final
    assert final is not None, "no final response"
    return final


def test_srtp_required_refuses_plain_rtp_offer(siprecd):
    srv = siprecd(config="domains:\n  - name: default\n    srtp: required\n")
    body, ctype = siprec_invite_body([free_port("udp"), free_port("udp")])
    final = _refusal(srv, body, ctype)
    assert final.status == 488, f"{final.status} {final.reason}"
    warning = final.header("Warning") or ""
    assert "SRTP is required" in warning, f"Warning: {warning!r}"
    assert not srv.recordings(), "a refused offer left a recording"


def test_srtp_refused_refuses_srtp_only_offer(siprecd):
    srv = siprecd(config="domains:\n  - name: default\n    srtp: refused\n")
    body, ctype = siprec_invite_body([free_port("udp"), free_port("udp")])
    key = srtp_key()
    body = re.sub(r"(m=audio \d+) RTP/AVP ([^\r\n]*)",
                  rf"\1 RTP/SAVP \2\r\na=crypto:1 {SUITE} inline:{key}", body)
    assert body.count("RTP/SAVP") == 2
    final = _refusal(srv, body, ctype)
    assert final.status == 488, f"{final.status} {final.reason}"
    warning = final.header("Warning") or ""
    assert "refused by policy" in warning, f"Warning: {warning!r}"
