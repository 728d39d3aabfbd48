"""Assertions shared by the tests: the SDP answer contract and the recording contract."""

from __future__ import annotations

import re
import time
from pathlib import Path

from support import audio, sipmsg
from support.siprecd import Recording, Siprecd

FREQS = (440.0, 1200.0)


def check_answer_sdp(sdp: str, srv: Siprecd, labels: list[str | None], *,
                     codec_pt: str = "0", telephone_event: bool = True) -> list[int]:
    """siprecd's SDP answer: one recvonly m-line per offered stream, labels echoed, a
    single codec (+ telephone-event when offered), ports from the RTP range, c= media ip."""
    assert sdp, "200 OK without SDP answer"
    sections = sipmsg.sdp_media_sections(sdp)
    session_part = re.split(r"(?m)^m=", sdp.replace("\r\n", "\n"))[0]
    assert len(sections) == len(labels), f"answer has {len(sections)} m-lines, offer {len(labels)}:\n{sdp}"
    ports = []
    for sec, label in zip(sections, labels):
        m = re.match(r"m=audio (\d+) RTP/AVP ((?:\d+ ?)+)", sec)
        assert m, f"bad m-line in answer:\n{sec}"
        port, fmts = int(m.group(1)), m.group(2).split()
        assert port in srv.rtp, f"answer port {port} outside --rtp-ports {srv.rtp.spec()}"
        codecs = [f for f in fmts if f != "101"]
        assert codecs == [codec_pt], f"expected exactly codec {codec_pt}, m-line: {sec.splitlines()[0]}"
        if telephone_event:
            assert "101" in fmts, f"telephone-event (101) was offered but not answered: {fmts}"
        dirs = re.findall(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", sec, re.M) or \
            re.findall(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", session_part, re.M)
        assert dirs == ["recvonly"], f"direction {dirs}, expected recvonly:\n{sec}"
        if label is not None:
            assert re.search(rf"^a=label:{re.escape(label)}\s*$", sec, re.M), \
                f"a=label:{label} not echoed:\n{sec}"
        assert sipmsg.sdp_connection_ip(sdp, sec) == "127.0.0.1", f"c= is not --media-ip:\n{sdp}"
        ports.append(port)
    assert len(set(ports)) == len(ports), f"streams share a port: {ports}"
    return ports


def check_tones(wav: audio.Wav, freqs: list[float]) -> None:
    """Channel i carries mostly freqs[i] (Goertzel power ratio against the other tone)."""
    for ch, freq in enumerate(freqs):
        other = FREQS[1] if freq == FREQS[0] else FREQS[0]
        ratio = audio.band_ratio(wav.data[ch], wav.rate, freq, other)
        frac = audio.tone_fraction(wav.data[ch], wav.rate, freq)
        assert ratio > 100, f"channel {ch + 1}: {freq} Hz / {other} Hz power ratio {ratio:.1f}"
        assert frac > 0.8, f"channel {ch + 1}: only {frac:.2f} of the energy is at {freq} Hz"


def check_wav(rec: Recording, channels: int, seconds: float, freqs: list[float],
              tolerance: float = 0.3, aligned_ms: float = 30.0) -> audio.Wav:
    assert rec.wav_path.is_file(), f"{rec.wav_path} missing; dir has {sorted(p.name for p in rec.dir.iterdir())}"
    wav = rec.wav()
    assert wav.rate == 8000, f"sample rate {wav.rate}"
    assert wav.sample_width == 2
    assert wav.channels == channels, f"{wav.channels} channels, expected {channels}"
    assert abs(wav.duration - seconds) <= tolerance, \
        f"recording lasts {wav.duration:.3f}s, expected {seconds}s +-{tolerance}"
    check_tones(wav, freqs)
    if channels > 1:
        onsets = [audio.onset(ch) for ch in wav.data]
        assert None not in onsets, f"a channel is silent: onsets {onsets}"
        spread = (max(onsets) - min(onsets)) * 1000 / wav.rate
        assert spread <= aligned_ms, f"channels not time-aligned: onsets {onsets} samples ({spread:.0f} ms apart)"
    return wav


def check_recording_json(rec: Recording, call_id: str, *, streams: list[dict],
                         seconds: float, wav: audio.Wav | None = None,
                         end_reason: str = "bye", metadata: bool = True) -> None:
    """recording.json per the Foundation contract. `streams`: expected
    [{"label":..., "codec":..., "payloadType":..., "port":..., "packets":...}].
    Every deviation is collected and reported together."""
    m = rec.meta
    errors: list[str] = []

    def expect(cond: bool, msg: str) -> None:
        if not cond:
            errors.append(msg)

    missing = [k for k in ("recordingId", "domain", "state", "callId", "from", "to", "requestUri",
                           "source", "startTime", "endTime", "duration", "endReason", "audio",
                           "streams") if k not in m]
    assert not missing, f"recording.json lacks {missing}: {rec}"
    expect(m["recordingId"] == rec.dir.name,
           f"recordingId {m['recordingId']!r} differs from its directory {rec.dir.name!r}")
    expect(m["domain"] == "default", f"domain {m['domain']!r}")
    expect(m["state"] == "ready", f"state {m['state']!r}")
    expect(m["callId"] == call_id, f"callId {m['callId']!r}")
    for k in ("from", "to", "requestUri", "source"):
        expect(isinstance(m[k], str) and bool(m[k]), f"{k} empty: {m[k]!r}")
    expect(str(m["requestUri"]).startswith("sip:"), f"requestUri {m['requestUri']!r}")
    now_ms = time.time() * 1000
    times_ok = all(isinstance(m[k], int) for k in ("startTime", "endTime", "duration"))
    expect(times_ok, "startTime/endTime/duration must be integers (epoch ms, ms)")
    if times_ok:
        expect(now_ms - 120_000 < m["startTime"] <= now_ms,
               f"startTime {m['startTime']} is not epoch ms of the last minutes")
        expect(m["startTime"] <= m["endTime"] <= now_ms, f"endTime {m['endTime']}")
        expect(abs(m["duration"] - (m["endTime"] - m["startTime"])) <= 50,
               f"duration {m['duration']} vs endTime-startTime {m['endTime'] - m['startTime']}")
        expect(abs(m["duration"] - seconds * 1000) <= 400,
               f"duration {m['duration']} ms, call ~{seconds}s")
        if wav is not None:
            expect(abs(m["duration"] - wav.duration * 1000) <= 300,
                   f"duration {m['duration']} ms but WAV lasts {wav.duration * 1000:.0f} ms")
    expect(m["endReason"] == end_reason, f"endReason {m['endReason']!r}, expected {end_reason!r}")
    a = m["audio"] if isinstance(m["audio"], dict) else {}
    expect(a.get("file") == "recording.wav" and a.get("format") == "wav", f"audio {a}")
    expect(a.get("sampleRate") == 8000, f"audio.sampleRate {a.get('sampleRate')}")
    expect(a.get("channels") == len(streams), f"audio.channels {a.get('channels')}")
    got = m["streams"]
    expect(len(got) == len(streams), f"{len(got)} streams, expected {len(streams)}: {got}")
    indexes = [s.get("index") for s in got]
    expect(None not in indexes and indexes == sorted(indexes) and len(set(indexes)) == len(indexes),
           f"stream indexes {indexes}")
    for i, (g, want) in enumerate(zip(got, streams)):
        for k, v in want.items():
            if k == "packets":
                ok = abs(g.get("packets", -1) - v) <= 3
            elif k == "codec":
                ok = str(g.get("codec", "")).upper() == v
            else:
                ok = g.get(k) == v
            expect(ok, f"streams[{i}].{k} = {g.get(k)!r}, expected {'~' if k == 'packets' else ''}{v!r}")
    if metadata:
        md = m.get("metadata") or {}
        parts = {p.get("participantId"): p for p in md.get("participants", [])}
        expect(set(parts) == {sipmsg.ALICE_ID, sipmsg.BOB_ID}, f"metadata participants: {md}")
        for pid, aor in ((sipmsg.ALICE_ID, sipmsg.ALICE_AOR), (sipmsg.BOB_ID, sipmsg.BOB_AOR)):
            if pid in parts:
                expect(aor in parts[pid].get("aors", []), f"participant {pid} aors: {parts[pid]}")
        expect(len(md.get("streams", [])) == 2, f"metadata streams: {md.get('streams')}")
    assert not errors, "recording.json deviates from the contract:\n  " + "\n  ".join(errors) + \
        f"\n{rec}"


def check_metadata_xml(rec: Recording, sent_xml: str) -> None:
    path = rec.dir / "metadata.xml"
    assert path.is_file(), f"metadata.xml missing in {rec.dir}"

    def norm(t: str) -> list[str]:
        return [ln.strip() for ln in t.replace("\r\n", "\n").split("\n") if ln.strip()]

    assert norm(path.read_text()) == norm(sent_xml), "metadata.xml differs from the XML sent"


def check_db_state(srv: Siprecd, call_id: str, state: str = "ready") -> None:
    rows = srv.db_rows(call_id)
    assert len(rows) == 1, f"expected one db row for {call_id}, got {rows}"
    assert rows[0].get("state") == state, f"db row: {rows[0]}"


def sent_metadata(messages: list[sipmsg.SipMessage]) -> str:
    inv = next(m for m in messages if not m.is_response and m.method == "INVITE")
    for headers, part in sipmsg.parse_multipart(inv.header("content-type"), inv.body):
        if headers.get("content-type", "").startswith("application/rs-metadata+xml"):
            return part.decode()
    raise AssertionError("no metadata part in the sent INVITE")


def wait_metric(srv: Siprecd, name: str, value: float, timeout: float = 5.0) -> float | None:
    deadline = time.monotonic() + timeout
    while True:
        v = srv.metric(name)
        if v == value or time.monotonic() > deadline:
            return v
        time.sleep(0.1)


def sessions_dirs(srv: Siprecd) -> list[Path]:
    d = srv.data_dir / "sessions"
    return sorted(d.iterdir()) if d.is_dir() else []
