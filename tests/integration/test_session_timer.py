"""RFC 4028 session timers: siprecd honours the SRC's interval and lets it refresh."""

from __future__ import annotations

import pytest

from support.sipclient import Call, siprec_invite_body

pytestmark = pytest.mark.needs_binary


def test_session_expires_below_min_se_gets_422(siprecd):
    srv = siprecd()
    ua = srv.ua("udp")
    call = Call(ua, srv.request_uri)
    body, ctype = siprec_invite_body([40000, 40002])
    resp = call.invite(body, ctype, extra=[("Supported", "timer"), ("Session-Expires", "30")])
    assert resp.final is not None and resp.final.status == 422, f"got {resp.final}"
    assert resp.final.header("min-se") == "90", resp.final.first_line
    ua.close()


def test_session_timer_answered_with_uac_refresher_and_refreshed_by_update(siprecd):
    srv = siprecd()
    ua = srv.ua("udp")
    call = Call(ua, srv.request_uri)
    body, ctype = siprec_invite_body([40000, 40002])
    resp = call.invite(body, ctype,
                       extra=[("Supported", "timer"), ("Session-Expires", "1800;refresher=uac")])
    assert resp.final is not None and resp.final.status == 200, f"got {resp.final}"
    assert resp.final.header("session-expires", "").replace(" ", "") == "1800;refresher=uac"
    assert "timer" in resp.final.header("require", "")
    refresh = call.in_dialog("UPDATE", headers=[("Supported", "timer"),
                                                ("Session-Expires", "1800;refresher=uac")])
    assert refresh.final is not None and refresh.final.status == 200, f"got {refresh.final}"
    assert refresh.final.header("session-expires", "").replace(" ", "") == "1800;refresher=uac"
    assert call.bye().final.status == 200
    ua.close()


def test_no_session_timer_without_uac_support(siprecd):
    srv = siprecd()
    ua = srv.ua("udp")
    call = Call(ua, srv.request_uri)
    body, ctype = siprec_invite_body([40000, 40002])
    resp = call.invite(body, ctype, extra=[("Session-Expires", "1800")])
    assert resp.final is not None and resp.final.status == 200, f"got {resp.final}"
    # Without Supported: timer the UAC cannot refresh, so siprecd runs no timer (RFC 4028 §9).
    assert not resp.final.header("session-expires", "")
    assert call.bye().final.status == 200
    ua.close()
