"""RTP inactivity timeout (DESIGN.md §3): a session whose media stops is ended by siprecd
with BYE and its recording finalised with endReason rtp-timeout; held streams are spared."""

from __future__ import annotations

import time

import pytest

from support.calls import PyCall
from support.sipclient import Call, siprec_invite_body

pytestmark = pytest.mark.needs_binary

CONFIG = "media:\n  rtp_timeout_s: 2\n"


def test_dead_media_ends_the_session_with_bye(siprecd, tones):
    srv = siprecd(config=CONFIG)
    ua = srv.ua("udp")
    call = PyCall(ua, srv.request_uri, [tones["440"], tones["1200"]])
    final = call.setup()
    assert final is not None and final.status == 200, f"INVITE got {final}"
    call.send_audio(1.0).join(5)
    bye = ua.wait(lambda m: not m.is_response and m.method == "BYE", timeout=6.0)
    assert bye is not None, f"siprecd sent no BYE after the media stopped\n{srv.log_tail()}"
    assert bye.call_id == call.call_id
    rec = srv.wait_recording(call.call_id)
    assert rec.meta["endReason"] == "rtp-timeout", rec.meta
    assert 0.8 <= rec.wav().duration <= 4.5, rec.wav().duration
    ua.close()


def test_held_call_is_not_timed_out(siprecd):
    srv = siprecd(config=CONFIG)
    ua = srv.ua("udp")
    call = Call(ua, srv.request_uri)
    body, ctype = siprec_invite_body([40000, 40002])
    body = body.replace("a=sendonly", "a=inactive")
    resp = call.invite(body, ctype)
    assert resp.final is not None and resp.final.status == 200, f"got {resp.final}"
    time.sleep(3.5)
    assert ua.wait(lambda m: not m.is_response and m.method == "BYE", timeout=0.5) is None, \
        "siprecd ended a call on hold (a=inactive) for lack of RTP"
    assert call.bye().final.status == 200
    ua.close()
