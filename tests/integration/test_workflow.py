"""The application workflow end to end (DESIGN.md §1 lifecycle, §2 contract): a SIPREC call
from SIPp with RTP on two streams, the application's callbacks answered by a real HTTP
receiver that verifies every signature, and the REST commands that trim, mask, store and
delete the recording.

newCall {"recordCall": true} -> 200 OK -> RECORDINGSTARTED (replyId) -> 3 s of RTP (440 Hz
caller, 1200 Hz callee) -> BYE -> RECORDINGREADY -> STORERECORDING (absolute trim
window inside the call, beep mask) -> RECORDINGSTORED -> the stored WAV checked sample by
sample -> DELETERECORDING -> RECORDINGDELETED (reason command), siprecd's copy gone, the
stored copy kept.
"""

from __future__ import annotations

import hashlib
import math
import time

import pytest

from checks import sent_metadata
from support import audio, sipmsg
from support.audio_checks import FULL_SCALE, check_tone, sine_dbfs
from support.control import (check_envelope, config_yaml, domain_yaml, receiver,  # noqa: F401
                             start_control_plane)

SECONDS = 3.0
TRIM_MS = (500, 2500)  # offsets from the recording's start; 2 s window inside the call
MASK_MS = (1000, 1500)  # on the recording's timeline, inside the trim window
BEEP_HZ = 1000.0


def norm_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.replace("\r\n", "\n").split("\n") if ln.strip()]


def check_beep(samples: list[int], rate: int, where: str) -> None:
    check_tone(samples, rate, BEEP_HZ, f"{where} (beep mask expected)", share=0.95)
    level = sine_dbfs(samples)
    assert -21.5 <= level <= -18.5, f"{where}: beep at {level:.1f} dBFS, expected -20"


def check_call_audio(samples: list[int], rate: int, freq: float, where: str) -> None:
    check_tone(samples, rate, freq, f"{where}: the call's audio expected",
               other=1200.0 if freq == 440.0 else 440.0)


def boundary(samples: list[int], around: int, loud_before: bool, threshold: int = 4000,
             search: int = 80) -> int:
    """Index where the loud call audio (-6 dBFS tones) ends (loud_before) or starts again,
    near `around`: the sample after the last loud one, or the first loud one."""
    lo, hi = max(0, around - search), min(len(samples), around + search)
    loud = [i for i in range(lo, hi) if abs(samples[i]) > threshold]
    assert loud, f"no loud sample within {search} samples of {around}"
    if loud_before:
        before = [i for i in loud if i < around + 4]
        assert before, f"no loud sample before {around}"
        return before[-1] + 1
    after = [i for i in loud if i > around - 4]
    assert after, f"no loud sample after {around}"
    return after[0]


def check_stored_audio(wav: audio.Wav) -> None:
    """The stored file: exactly the trim window, stereo, the beep mask on both channels at
    the computed samples, the call's tone per channel elsewhere."""
    rate = wav.rate
    assert wav.channels == 2, f"{wav.channels} channels, stereo asked"
    want_frames = (TRIM_MS[1] - TRIM_MS[0]) * rate // 1000
    assert wav.frames == want_frames, \
        f"{wav.frames} frames at {rate} Hz, the trim window is exactly {want_frames}"
    ms = rate // 1000
    m0, m1 = (MASK_MS[0] - TRIM_MS[0]) * ms, (MASK_MS[1] - TRIM_MS[0]) * ms
    edge = 20 * ms
    for ch, freq in enumerate((440.0, 1200.0)):
        x = wav.data[ch]
        name = f"channel {ch + 1}"
        check_call_audio(x[edge:m0 - edge], rate, freq, f"{name} before the mask")
        check_beep(x[m0 + edge:m1 - edge], rate, f"{name} masked span")
        check_call_audio(x[m1 + edge:len(x) - edge], rate, freq, f"{name} after the mask")
        # The mask's edges land on the computed samples (a period of tone, -6 dBFS, around
        # them is loud; the beep never exceeds -20 dBFS).
        b0 = boundary(x, m0, loud_before=True)
        b1 = boundary(x, m1, loud_before=False)
        assert abs(b0 - m0) <= 3 and abs(b1 - m1) <= 3, \
            f"{name}: mask spans samples {b0}..{b1}, expected {m0}..{m1}"


def synthetic(rate: int = 8000, beep_db: float = -20.0, shift: int = 0, mix: bool = False,
              frames_extra: int = 0) -> audio.Wav:
    """What siprecd should store (or a flawed variant) for the harness self-check."""
    n = (TRIM_MS[1] - TRIM_MS[0]) * rate // 1000 + frames_extra
    ms = rate // 1000
    m0, m1 = (MASK_MS[0] - TRIM_MS[0]) * ms + shift, (MASK_MS[1] - TRIM_MS[0]) * ms + shift
    amp = FULL_SCALE * 10 ** (beep_db / 20)
    data = []
    for freq in (440.0, 1200.0):
        ch = []
        for i in range(n):
            tone = 16000 * math.sin(2 * math.pi * freq * i / rate + 0.3)
            beep = amp * math.sin(2 * math.pi * BEEP_HZ * (i - m0) / rate)
            ch.append(int(round(beep + (tone if mix else 0))) if m0 <= i < m1 else int(round(tone)))
        data.append(ch)
    return audio.Wav(2, rate, 2, n, data)


@pytest.mark.harness
def test_stored_audio_check_accepts_right_and_rejects_wrong_files():
    check_stored_audio(synthetic())
    check_stored_audio(synthetic(rate=16000))
    for flawed in (dict(beep_db=-14.0), dict(shift=12), dict(mix=True), dict(frames_extra=1)):
        with pytest.raises(AssertionError):
            check_stored_audio(synthetic(**flawed))


@pytest.mark.needs_binary
def test_seed_workflow_record_store_trimmed_and_masked_then_delete(siprecd, receiver, tones,
                                                                   tmp_path):
    archive = tmp_path / "archive"
    config = config_yaml(domain_yaml("default", receiver, destinations={
        "archive": {"type": "file", "path": str(archive), "file_mode": "0600"}}))
    cp = start_control_plane(siprecd, receiver, config)

    # --- the call ---------------------------------------------------------------------
    call = cp.call(tones, tmp_path / "sipp", seconds=SECONDS)
    rid = receiver.wait_recording_id(call.call_id, diag=cp.diag)
    new_call = [r for r in receiver.posts(rid) if r.name == "newCall"]
    assert new_call, f"no POST {receiver.base_url}/newCall for the call\n{cp.diag()}"
    assert new_call[0].at <= call.answered_at, "the 200 OK came before newCall was answered"
    assert new_call[0].delivered, f"newCall not accepted: {new_call[0]}"
    check_envelope(new_call[0].json, "NEWCALL", rid, reply_id=False)
    assert new_call[0].json.get("callId") == call.call_id

    started = receiver.wait_event("RECORDINGSTARTED", rid, diag=cp.diag)
    check_envelope(started, "RECORDINGSTARTED", rid)
    rc = call.wait()
    assert rc == 0, f"SIPp call failed (rc {rc})\n{call.diagnostics()}\n{cp.diag()}"

    ready = receiver.wait_event("RECORDINGREADY", rid, timeout=15, diag=cp.diag)
    check_envelope(ready, "RECORDINGREADY", rid)
    errors = []
    now_ms = time.time() * 1000
    for k in ("duration", "startTime", "endTime"):
        if not isinstance(ready.get(k), int):
            errors.append(f"{k} = {ready.get(k)!r}, expected integer ms")
    if not errors:
        if not now_ms - 60_000 < ready["startTime"] < ready["endTime"] <= now_ms + 1000:
            errors.append(f"startTime/endTime {ready['startTime']}/{ready['endTime']} are not "
                          "epoch ms of this call")
        if abs(ready["duration"] - SECONDS * 1000) > 400:
            errors.append(f"duration {ready['duration']} ms for a {SECONDS} s call")
        if abs(ready["duration"] - (ready["endTime"] - ready["startTime"])) > 50:
            errors.append("duration differs from endTime - startTime")
    if len(ready.get("streams") or []) != 2:
        errors.append(f"streams {ready.get('streams')!r}, expected 2")
    aors = {a for p in ready.get("participants") or [] for a in (p.get("aors") or [])}
    if not {sipmsg.ALICE_AOR, sipmsg.BOB_AOR} <= aors:
        errors.append(f"participants lack the metadata's AORs: {ready.get('participants')!r}")
    if "assurance" not in ready:
        errors.append("assurance missing")
    if ready.get("interrupted") is not False:
        errors.append(f"interrupted {ready.get('interrupted')!r}, expected false")
    assert not errors, "RECORDINGREADY: " + "; ".join(errors) + f"\n{ready}"

    # --- STORERECORDING: trim window and beep mask in absolute times --------------------
    start = ready["startTime"]
    trim = {"from": start + TRIM_MS[0], "to": start + TRIM_MS[1]}
    mask = {"from": start + MASK_MS[0], "to": start + MASK_MS[1], "type": "beep"}
    r = cp.api.store(rid, ready["replyId"], destination="archive", format="wav", layout="stereo",
                     modificationParams={"absoluteTimes": True, "trim": trim, "mask": mask})
    assert r.status == 200 and (r.json or {}).get("success") is True, f"{r}\n{cp.diag()}"
    stored = receiver.wait_event("RECORDINGSTORED", rid, timeout=20, diag=cp.diag)
    check_envelope(stored, "RECORDINGSTORED", rid)
    assert stored.get("destination") == "archive", stored
    assert stored.get("format") == "wav", stored
    key = stored.get("key")
    assert isinstance(key, str) and key and not key.startswith("/") and ".." not in key, stored
    path = archive / key
    assert path.is_file(), f"stored file {path} missing; archive holds " \
        f"{sorted(str(p.relative_to(archive)) for p in archive.rglob('*'))}"
    assert stored.get("location") and key in str(stored["location"]), \
        f"location {stored.get('location')!r} does not name the key {key!r}"
    data = path.read_bytes()
    assert stored.get("size") == len(data), f"size {stored.get('size')} != file {len(data)}"
    assert str(stored.get("sha256", "")).lower() == hashlib.sha256(data).hexdigest(), \
        f"sha256 {stored.get('sha256')} != file's {hashlib.sha256(data).hexdigest()}"
    assert (path.stat().st_mode & 0o777) == 0o600, f"file mode {oct(path.stat().st_mode)}"
    assert stored.get("startTime") == trim["from"] and stored.get("endTime") == trim["to"], \
        f"stored window {stored.get('startTime')}..{stored.get('endTime')}, trim {trim}"
    assert stored.get("duration") == TRIM_MS[1] - TRIM_MS[0], stored
    # Beside the audio: the recording's JSON document and the RFC 7865 XML as received.
    beside = {p.suffix: p for p in path.parent.iterdir() if p.stem == path.stem}
    assert ".json" in beside and ".xml" in beside, f"documents beside the audio: {sorted(beside)}"
    assert rid in beside[".json"].read_text()
    assert norm_lines(beside[".xml"].read_text()) == norm_lines(sent_metadata(call.sipp.messages("sent"))), \
        "stored metadata XML differs from the one sent"

    # --- the stored audio, sample by sample ---------------------------------------------
    check_stored_audio(audio.read_wav(path))

    # --- DELETERECORDING ----------------------------------------------------------------
    session = cp.session_dir(rid)
    r = cp.api.delete(rid, stored["replyId"])
    assert r.status == 200 and (r.json or {}).get("success") is True, f"{r}\n{cp.diag()}"
    deleted = receiver.wait_event("RECORDINGDELETED", rid, timeout=10, diag=cp.diag)
    check_envelope(deleted, "RECORDINGDELETED", rid)
    assert deleted.get("reason") == "command", deleted
    deadline = time.monotonic() + 5
    while session.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not session.exists(), \
        f"session directory still there after RECORDINGDELETED: {sorted(p.name for p in session.iterdir())}"
    assert path.is_file(), "DELETERECORDING removed the application's stored copy"
    state = cp.api.state(rid)
    assert state in (None, "deleted"), f"API state after delete: {state!r}"
    gone = cp.api.audio(rid)
    assert gone.status in (404, 409), f"audio of a deleted recording: {gone}"
    assert (cp.db_row(rid) or {}).get("state") == "deleted", cp.db_row(rid)

    # --- the callbacks as a whole --------------------------------------------------------
    methods = receiver.check_order(rid)
    core = [m for m in methods if m != "METADATAUPDATED"]
    assert core == ["NEWCALL", "RECORDINGSTARTED", "RECORDINGREADY", "RECORDINGSTORED",
                    "RECORDINGDELETED"], f"events of the recording: {methods}"
    assert not receiver.bad_signatures(), \
        f"badly signed callbacks: {[str(r) for r in receiver.bad_signatures()]}"
    ids = [e["eventId"] for e in receiver.events(rid)]
    assert len(ids) == len(set(ids)), f"eventIds repeat: {ids}"
