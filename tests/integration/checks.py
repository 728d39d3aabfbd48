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
    [{"label":..., "codec":..., "payloadType":..., "port":..., "packets":...}]."""
    m = rec.meta
    missing = [k for k in ("recordingId", "domain", "state", "callId", "from", "to", "requestUri",
                           "source", "startTime", "endTime", "duration", "endReason", "audio",
                           "streams") if k not in m]
    assert not missing, f"recording.json lacks {missing}: {rec}"
    assert m["recordingId"] == rec.dir.name, "recordingId differs from its directory name"
    assert m["domain"] == "default"
    assert m["state"] == "ready"
    assert m["callId"] == call_id
    for k in ("from", "to", "requestUri", "source"):
        assert isinstance(m[k], str) and m[k], f"{k} empty: {m[k]!r}"
    assert m["requestUri"].startswith("sip:"), m["requestUri"]
    now_ms = time.time() * 1000
    assert isinstance(m["startTime"], int) and now_ms - 120_000 < m["startTime"] <= now_ms, \
        f"startTime {m['startTime']} is not epoch ms of the last minutes"
    assert m["startTime"] <= m["endTime"] <= now_ms
    assert abs(m["duration"] - (m["endTime"] - m["startTime"])) <= 50, \
        f"duration {m['duration']} vs endTime-startTime {m['endTime'] - m['startTime']}"
    assert abs(m["duration"] - seconds * 1000) <= 400, f"duration {m['duration']} ms, call ~{seconds}s"
    if wav is not None:
        assert abs(m["duration"] - wav.duration * 1000) <= 300, \
            f"duration {m['duration']} ms but WAV lasts {wav.duration * 1000:.0f} ms"
    assert m["endReason"] == end_reason
    a = m["audio"]
    assert a.get("file") == "recording.wav" and a.get("format") == "wav"
    assert a.get("sampleRate") == 8000
    assert a.get("channels") == len(streams)
    got = m["streams"]
    assert len(got) == len(streams), f"streams: {got}"
    indexes = [s.get("index") for s in got]
    assert indexes == sorted(indexes) and len(set(indexes)) == len(indexes), f"indexes {indexes}"
    for g, want in zip(got, streams):
        for k, v in want.items():
            if k == "packets":
                assert abs(g.get("packets", -1) - v) <= 3, f"stream {g}: packets, expected ~{v}"
            elif k == "codec":
                assert str(g.get("codec", "")).upper() == v, f"stream {g}: codec, expected {v}"
            else:
                assert g.get(k) == v, f"stream {g}: {k} expected {v!r}"
    if metadata:
        md = m.get("metadata") or {}
        parts = {p.get("participantId"): p for p in md.get("participants", [])}
        assert set(parts) == {sipmsg.ALICE_ID, sipmsg.BOB_ID}, f"metadata participants: {md}"
        assert sipmsg.ALICE_AOR in parts[sipmsg.ALICE_ID].get("aors", []), parts[sipmsg.ALICE_ID]
        assert sipmsg.BOB_AOR in parts[sipmsg.BOB_ID].get("aors", []), parts[sipmsg.BOB_ID]
        assert len(md.get("streams", [])) == 2, f"metadata streams: {md.get('streams')}"


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
