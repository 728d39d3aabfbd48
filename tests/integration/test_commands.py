"""Commands on live calls and the read side of the API (DESIGN.md §2 command table).

* STOPRECORDING mid-call: siprecd ends the dialog with BYE, the recording is ready and
  holds what was captured;
* CANCELRECORDING mid-call: BYE, RECORDINGDELETED (reason cancelled), nothing kept;
* PAUSERECORDING .. RESUMERECORDING: that span is not captured (packets counted, not
  spooled), silent in the recording and listed in its pauses;
* GET recordings (list, one, audio with Range, metadata) of a ready recording.
"""

from __future__ import annotations

import time

import pytest

from checks import check_tones, sent_metadata
from support import audio, sipmsg
from support.audio_checks import check_tone
from support.control import (check_envelope, config_yaml, domain_yaml, receiver,  # noqa: F401
                             start_control_plane)
from support.live_call import REMOTE_BYE

pytestmark = pytest.mark.needs_binary


def norm_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.replace("\r\n", "\n").split("\n") if ln.strip()]


def sleep_until(t: float) -> None:
    time.sleep(max(0.0, t - time.monotonic()))


def test_stop_recording_ends_the_call_with_bye_and_keeps_the_audio(siprecd, receiver, tones,
                                                                    tmp_path):
    cp = start_control_plane(siprecd, receiver, config_yaml(domain_yaml("default", receiver)))
    call = cp.call(tones, tmp_path / "sipp", seconds=4.0, scenario=REMOTE_BYE)
    try:
        rid = receiver.wait_recording_id(call.call_id, diag=cp.diag)
        started = receiver.wait_event("RECORDINGSTARTED", rid, diag=cp.diag)
        sleep_until(call.answered_at + 1.5)
        r = cp.api.command("STOPRECORDING", rid, started["replyId"])
        assert r.status == 200 and (r.json or {}).get("success") is True, f"{r}\n{cp.diag()}"
        call.wait_bye(timeout=5)
        rc = call.wait()
    finally:
        call.close()  # on a failure above, do not wait for SIPp's 30 s timeout
    assert rc == 0, f"SIPp did not get/answer siprecd's BYE (rc {rc})\n{call.diagnostics()}"
    ready = receiver.wait_event("RECORDINGREADY", rid, timeout=15, diag=cp.diag)
    check_envelope(ready, "RECORDINGREADY", rid)
    assert abs(ready.get("duration", 0) - 1500) <= 300, \
        f"STOP after ~1.5 s, RECORDINGREADY duration {ready.get('duration')} ms"
    rec = cp.srv.wait_recording(call.call_id)
    wav = rec.wav()
    assert wav.channels == 2 and abs(wav.duration - 1.5) <= 0.3, \
        f"recording of {wav.duration:.2f}s / {wav.channels} ch after STOP at 1.5 s"
    check_tones(wav, [440.0, 1200.0])
    assert cp.api.state(rid) == "ready"
    again = cp.api.command("STOPRECORDING", rid, ready["replyId"])
    assert again.status == 409, f"STOP of a ready recording: {again}"
    assert receiver.check_order(rid)


def test_cancel_recording_ends_the_call_and_keeps_nothing(siprecd, receiver, tones, tmp_path):
    cp = start_control_plane(siprecd, receiver, config_yaml(domain_yaml("default", receiver)))
    call = cp.call(tones, tmp_path / "sipp", seconds=4.0, scenario=REMOTE_BYE)
    try:
        rid = receiver.wait_recording_id(call.call_id, diag=cp.diag)
        started = receiver.wait_event("RECORDINGSTARTED", rid, diag=cp.diag)
        sleep_until(call.answered_at + 1.5)
        r = cp.api.command("CANCELRECORDING", rid, started["replyId"])
        assert r.status == 200 and (r.json or {}).get("success") is True, f"{r}\n{cp.diag()}"
        call.wait_bye(timeout=5)
        rc = call.wait()
    finally:
        call.close()  # on a failure above, do not wait for SIPp's 30 s timeout
    assert rc == 0, f"SIPp did not get/answer siprecd's BYE (rc {rc})\n{call.diagnostics()}"
    deleted = receiver.wait_event("RECORDINGDELETED", rid, timeout=10, diag=cp.diag)
    check_envelope(deleted, "RECORDINGDELETED", rid)
    assert deleted.get("reason") == "cancelled", deleted
    cp.wait_db_state(rid, "cancelled")
    deadline = time.monotonic() + 5
    while cp.session_dir(rid).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not cp.session_dir(rid).exists(), \
        f"cancelled recording kept {sorted(p.name for p in cp.session_dir(rid).iterdir())}"
    leftovers = list(cp.srv.data_dir.rglob(f"*{rid}*"))
    assert not leftovers, f"files of the cancelled recording: {leftovers}"
    time.sleep(0.5)
    methods = receiver.check_order(rid)
    assert "RECORDINGREADY" not in methods, f"a cancelled recording was announced ready: {methods}"
    assert cp.api.state(rid) in ("cancelled", None)


def test_pause_resume_silences_the_span_and_lists_it(siprecd, receiver, tones, tmp_path):
    cp = start_control_plane(siprecd, receiver, config_yaml(domain_yaml("default", receiver)))
    call = cp.call(tones, tmp_path / "sipp", seconds=3.5)
    try:
        rid = receiver.wait_recording_id(call.call_id, diag=cp.diag)
        reply = receiver.wait_event("RECORDINGSTARTED", rid, diag=cp.diag)["replyId"]
        sleep_until(call.answered_at + 1.0)
        r = cp.api.command("PAUSERECORDING", rid, reply)
        assert r.status == 200, f"{r}\n{cp.diag()}"
        state = cp.api.wait_state(rid, {"paused"}, timeout=2)
        twice = cp.api.command("PAUSERECORDING", rid, reply)
        sleep_until(call.answered_at + 2.2)
        r = cp.api.command("RESUMERECORDING", rid, reply)
        assert r.status == 200, f"{r}\n{cp.diag()}"
        resumed_twice = cp.api.command("RESUMERECORDING", rid, reply)
    finally:
        rc = call.wait()
    assert rc == 0, call.diagnostics()
    assert state == "paused", f"API state while paused: {state!r}"
    assert twice.status == 409, f"PAUSE while paused: {twice}"
    assert resumed_twice.status == 409, f"RESUME while recording: {resumed_twice}"

    ready = receiver.wait_event("RECORDINGREADY", rid, timeout=15, diag=cp.diag)
    pauses = ready.get("pauses")
    assert isinstance(pauses, list) and len(pauses) == 1, f"RECORDINGREADY pauses: {pauses!r}"
    p = pauses[0]
    assert abs((p["to"] - p["from"]) - 1200) <= 250, f"pause {p} lasted {p['to'] - p['from']} ms, ~1200 sent"
    rec = cp.srv.wait_recording(call.call_id)
    assert rec.meta.get("pauses") == pauses, f"recording.json pauses {rec.meta.get('pauses')}"
    # Paused audio is not captured: ~60 packets per stream (1.2 s of 20 ms) received, counted,
    # not spooled.
    paused = [s.get("pausedPackets") for s in rec.meta.get("streams", [])]
    assert len(paused) == 2 and all(40 <= n <= 75 for n in paused), f"pausedPackets {paused}"
    assert cp.srv.metric("siprecd_rtp_packets_paused_total") == sum(paused)
    wav = rec.wav()
    rate, start = wav.rate, ready["startTime"]
    a = (p["from"] - start) * rate // 1000
    b = (p["to"] - start) * rate // 1000
    edge = rate * 30 // 1000
    for ch, freq in enumerate((440.0, 1200.0)):
        x = wav.data[ch]
        inside = audio.rms(x[a + edge:b - edge])
        assert inside < 30, f"channel {ch + 1}: RMS {inside:.0f} during the pause (silence expected)"
        for seg, where in ((x[a - rate // 2:a - edge], "before"), (x[b + edge:b + rate // 2], "after")):
            assert audio.rms(seg) > 3000, f"channel {ch + 1} {where} the pause: RMS {audio.rms(seg):.0f}"
            check_tone(seg, rate, freq, f"channel {ch + 1} {where} the pause")
    r = cp.api.recording(rid)
    assert r.status == 200, str(r)
    listed = (r.json or {}).get("pauses")
    assert listed and len(listed) == 1 and listed[0].get("from") == p["from"], \
        f"GET recording does not list the pause {p}: {r}"


def test_read_api_lists_and_serves_a_ready_recording(siprecd, receiver, tones, tmp_path):
    cp = start_control_plane(siprecd, receiver, config_yaml(domain_yaml("default", receiver)))
    call = cp.call(tones, tmp_path / "sipp", seconds=1.5)
    assert call.wait() == 0, call.diagnostics()
    sent = call.sipp.messages("sent")
    rid = receiver.wait_recording_id(call.call_id, diag=cp.diag)
    ready = receiver.wait_event("RECORDINGREADY", rid, timeout=15, diag=cp.diag)
    api = cp.api

    one = api.recording(rid)
    assert one.status == 200, str(one)
    doc = one.json or {}
    assert doc.get("state") == "ready" and (doc.get("recordingId") or doc.get("id")) == rid, str(one)

    listing = api.list(state="ready")
    assert listing.status == 200, str(listing)
    items = (listing.json or {}).get("recordings") or (listing.json or {}).get("items") or []
    assert rid in [i.get("recordingId") or i.get("id") for i in items], f"{rid} not listed: {listing}"
    assert api.list(state="deleted").status == 200
    none = api.list(state="deleted").json or {}
    assert rid not in str(none), "a ready recording listed under state=deleted"
    by_participant = api.list(participant=sipmsg.ALICE_AOR)
    assert by_participant.status == 200 and rid in by_participant.body.decode(), \
        f"participant filter: {by_participant}"
    assert rid not in api.list(participant="sip:nobody@example.org").body.decode()
    page = api.list(limit=1)
    assert page.status == 200, str(page)
    assert api.list(limit="abc").status == 400
    assert api.list(cursor="not-a-cursor").status == 400

    whole = api.audio(rid)
    assert whole.status == 200 and whole.body[:4] == b"RIFF", str(whole)[:200]
    wav_file = cp.session_dir(rid) / "recording.wav"
    assert whole.body == wav_file.read_bytes(), "GET audio differs from the temp recording"
    part = api.audio(rid, "bytes=0-43")
    assert part.status == 206, str(part)[:200]
    assert part.body == whole.body[:44]
    assert part.headers.get("content-range") == f"bytes 0-43/{len(whole.body)}", part.headers
    assert api.audio(rid, f"bytes={len(whole.body) + 10}-").status == 416

    meta = api.metadata(rid)
    assert meta.status == 200, str(meta)
    text = meta.body.decode()
    assert sipmsg.ALICE_AOR in text and sipmsg.BOB_AOR in text, f"metadata: {text[:1000]}"
    xml = api.get(f"{api.recordings_path()}/{rid}/metadata?format=xml")
    assert xml.status == 200 and "xml" in xml.headers.get("content-type", ""), str(xml)[:300]
    assert norm_lines(xml.body.decode()) == norm_lines(sent_metadata(sent)), \
        "metadata?format=xml is not the XML the SRC sent"
    assert ready.get("replyId")
