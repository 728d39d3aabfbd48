"""Per-stream receive quality in recording.json: loss and duplicates injected by the
sender are counted per RFC 3550 (the seed of the recording-assurance report)."""

from __future__ import annotations

import pytest

from support.calls import PyCall

pytestmark = pytest.mark.needs_binary


def test_injected_loss_and_duplicates_are_counted_per_stream(siprecd, tones):
    srv = siprecd()
    ua = srv.ua("udp")
    call = PyCall(ua, srv.request_uri, [tones["440"], tones["1200"]])
    lossy, clean = call.streams
    lossy.loss = 0.1
    clean.duplicate = 0.1
    final = call.setup()
    assert final is not None and final.status == 200, f"INVITE got {final}"
    call.send_audio(2.0)
    assert call.hangup().status == 200
    streams = srv.wait_recording(call.call_id).meta["streams"]
    # The last packets may be dropped too, which RFC 3550 cannot see: allow one short.
    assert lossy.dropped - 1 <= streams[0]["lost"] <= lossy.dropped, (lossy.dropped, streams[0])
    assert streams[0]["duplicates"] == 0, streams[0]
    assert streams[1]["lost"] == 0, streams[1]
    assert streams[1]["duplicates"] >= 1, streams[1]
    assert streams[0]["ssrcChanges"] == 0 and streams[0]["jitterMs"] < 20, streams[0]
    ua.close()
