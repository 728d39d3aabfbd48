"""End-to-end recordings: SIPp as the SIPREC SRC, the Python RTP sender as the media.

Each call sends 440 Hz on stream 1 (label 1, Alice) and 1200 Hz on stream 2 (label 2,
Bob) and then checks the produced recording.wav, recording.json, metadata.xml and the
database row.
"""

from __future__ import annotations

import pytest

from checks import (check_answer_sdp, check_db_state, check_metadata_xml, check_recording_json,
                    check_wav, sent_metadata)
from support import audio
from support.calls import PyCall, sipp_call

pytestmark = pytest.mark.needs_binary

SECONDS = 3.0
PACKETS = int(SECONDS * 50)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_siprec_call_is_recorded(siprecd, tones, tmp_path, transport):
    """(1)/(2) A SIPREC call over UDP/TCP: 2-channel WAV with the right tone on each
    channel, ~3 s, time-aligned; recording.json, metadata.xml and db row complete."""
    srv = siprecd()
    res = sipp_call(srv.sip_port, [tones["440"], tones["1200"]], tmp_path / "sipp",
                    transport=transport, seconds=SECONDS)
    assert res.rc == 0, f"SIPp call failed (rc {res.rc})\n{res.sipp.diagnostics()}\n{srv.log_tail()}"
    provisional = [m.status for m in res.sipp.responses("INVITE") if m.status < 200]
    assert 100 in provisional, f"no 100 Trying: {provisional}"
    ports = check_answer_sdp(res.answer_sdp(), srv, ["1", "2"])
    assert ports == res.ports
    rec = srv.wait_recording(res.call_id)
    wav = check_wav(rec, 2, SECONDS, [440.0, 1200.0])
    check_recording_json(rec, res.call_id, seconds=SECONDS, wav=wav, streams=[
        {"label": "1", "codec": "PCMU", "payloadType": 0, "port": ports[0], "packets": PACKETS},
        {"label": "2", "codec": "PCMU", "payloadType": 0, "port": ports[1], "packets": PACKETS},
    ])
    check_metadata_xml(rec, sent_metadata(res.sipp.messages("sent")))
    check_db_state(srv, res.call_id, "ready")


def test_plain_invite_is_recorded(siprecd, tones, tmp_path):
    """(3) A plain INVITE (SDP only, no metadata, no Require: siprec) is recorded by the
    default domain: one channel, no metadata.xml."""
    srv = siprecd()
    seconds = 2.0
    res = sipp_call(srv.sip_port, [tones["440"]], tmp_path / "sipp", scenario="plain_uac.xml",
                    seconds=seconds)
    assert res.rc == 0, f"SIPp call failed (rc {res.rc})\n{res.sipp.diagnostics()}\n{srv.log_tail()}"
    check_answer_sdp(res.answer_sdp(), srv, [None])
    rec = srv.wait_recording(res.call_id)
    wav = check_wav(rec, 1, seconds, [440.0])
    check_recording_json(rec, res.call_id, seconds=seconds, wav=wav, metadata=False, streams=[
        {"codec": "PCMU", "payloadType": 0, "port": res.ports[0], "packets": int(seconds * 50)}])
    assert not (rec.dir / "metadata.xml").exists(), "metadata.xml written for a call without metadata"
    check_db_state(srv, res.call_id, "ready")


def test_reinvite_keeps_ports_and_recording_covers_whole_call(siprecd, tones, tmp_path):
    """(4) A re-INVITE 1.5 s into the call gets a 200 with the same ports; the audio
    continues across it and the recording has no gap."""
    srv = siprecd()
    res = sipp_call(srv.sip_port, [tones["440"], tones["1200"]], tmp_path / "sipp",
                    scenario="siprec_reinvite_uac.xml", seconds=SECONDS, reinvite_at_ms=1500)
    assert res.rc == 0, f"SIPp call failed (rc {res.rc})\n{res.sipp.diagnostics()}\n{srv.log_tail()}"
    assert res.reanswer_ports == res.ports, \
        f"re-INVITE answer moved the streams: {res.ports} -> {res.reanswer_ports}"
    oks = [m for m in res.sipp.responses("INVITE") if m.status == 200]
    assert len({m.to_tag for m in oks}) == 1, "re-INVITE answered with a different To tag"
    check_answer_sdp(oks[-1].sdp(), srv, ["1", "2"])
    rec = srv.wait_recording(res.call_id)
    wav = check_wav(rec, 2, SECONDS, [440.0, 1200.0])
    for ch in range(2):
        gaps = [g for g in audio.silent_gaps(wav.data[ch], wav.rate) if g[1] > 0.06]
        assert not gaps, f"channel {ch + 1} has silent gaps (start s, length s): {gaps}"
        span = audio.active_span(wav.data[ch], wav.rate)
        assert abs(span - SECONDS) <= 0.15, f"channel {ch + 1} carries {span:.2f}s of audio"
    check_recording_json(rec, res.call_id, seconds=SECONDS, wav=wav, streams=[
        {"label": "1", "port": res.ports[0], "packets": PACKETS},
        {"label": "2", "port": res.ports[1], "packets": PACKETS},
    ])


def test_pcma_only_offer_is_answered_and_recorded_as_pcma(siprecd, tones):
    """Codec choice: an offer of PCMA + telephone-event is answered with PCMA (8) and the
    A-law audio is decoded correctly."""
    srv = siprecd()
    ua = srv.ua("udp")
    call = PyCall(ua, srv.request_uri, [tones["440a"], tones["440a"]], codecs="pcma_te")
    for s in call.streams:
        s.payload_type = 8
    final = call.setup()
    assert final is not None and final.status == 200, f"INVITE got {final}\n{srv.log_tail()}"
    check_answer_sdp(final.sdp(), srv, ["1", "2"], codec_pt="8")
    call.send_audio(1.0)
    bye = call.hangup()
    assert bye is not None and bye.status == 200
    rec = srv.wait_recording(call.call_id)
    check_wav(rec, 2, 1.0, [440.0, 440.0], tolerance=0.25)
    assert all(str(s.get("codec", "")).upper() == "PCMA" and s.get("payloadType") == 8
               for s in rec.meta["streams"]), rec.meta["streams"]
    ua.close()


def test_lossy_reordered_stream_is_recorded(siprecd, tones):
    """Media robustness: 5 % loss, reordering and duplicates on stream 1 still give a
    recording of the right length with the right tone; packets counts what arrived."""
    srv = siprecd()
    ua = srv.ua("udp")
    call = PyCall(ua, srv.request_uri, [tones["440"], tones["1200"]])
    s1 = call.streams[0]
    s1.loss, s1.reorder, s1.duplicate = 0.05, 0.05, 0.02
    final = call.setup()
    assert final is not None and final.status == 200, f"INVITE got {final}\n{srv.log_tail()}"
    call.send_audio(2.0)
    assert call.hangup().status == 200
    rec = srv.wait_recording(call.call_id)
    check_wav(rec, 2, 2.0, [440.0, 1200.0])
    got = rec.meta["streams"]
    unique_sent = 100 - s1.dropped
    assert unique_sent - 3 <= got[0]["packets"] <= unique_sent + 3 or \
        got[0]["packets"] == s1.sent, \
        f"stream 1 packets {got[0]['packets']}: sent {s1.sent} datagrams, {unique_sent} distinct"
    assert abs(got[1]["packets"] - 100) <= 3
    ua.close()


def test_answer_sdp_of_python_offer_matches_contract(siprecd):
    """The SDP answer to the Python client's two-stream SIPREC offer (no RTP sent)."""
    srv = siprecd()
    ua = srv.ua("tcp")
    call = PyCall(ua, srv.request_uri, [b"", b""])
    final = call.setup()
    assert final is not None and final.status == 200, f"INVITE got {final}\n{srv.log_tail()}"
    assert final.to_tag, "200 OK without To tag"
    assert final.contact_uri, "200 OK without Contact"
    assert final.content_type == "application/sdp"
    check_answer_sdp(final.sdp(), srv, ["1", "2"])
    assert call.hangup().status == 200
    ua.close()
