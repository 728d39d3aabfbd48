"""Crash safety: kill -9 during a call, restart, and the recording up to the kill is there
(DESIGN.md §3: interrupted sessions are finalised from their spools, never lost)."""

from __future__ import annotations

import signal
import time

import pytest

from checks import check_tones
from support.calls import PyCall

pytestmark = pytest.mark.needs_binary


def test_kill_during_call_then_restart_recovers_the_recording(siprecd, tones):
    srv = siprecd()
    ua = srv.ua("udp")
    call = PyCall(ua, srv.request_uri, [tones["440"], tones["1200"]])
    final = call.setup()
    assert final is not None and final.status == 200, f"INVITE got {final}"
    sender = call.send_audio(3.0)
    time.sleep(2.5)  # > the 1 s spool flush interval: about 2 s of audio is on disk
    srv.signal(signal.SIGKILL)
    assert srv.wait_exit(5) is not None, "siprecd did not die on SIGKILL"
    sender.stop()
    ua.close()

    srv.start()  # same data directory and ports
    rec = srv.wait_recording(call.call_id, timeout=15)
    meta = rec.meta
    assert meta.get("interrupted") is True, f"recording.json lacks interrupted=true: {meta}"
    assert meta.get("state") == "ready" and meta.get("endReason") == "interrupted", meta
    wav = rec.wav()
    assert wav.channels == 2
    # Audio ran ~2.5 s before the kill and at least the flushed part (>= 1.5 s) survives.
    assert 1.4 <= wav.duration <= 2.8, f"recovered {wav.duration:.2f}s of audio"
    check_tones(wav, [440.0, 1200.0])
    rows = [r for r in srv.db_rows(call.call_id)]
    assert rows and rows[0]["state"] == "ready", rows
