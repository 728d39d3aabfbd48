"""(5) CANCEL before the final response (RFC 3261 section 9.2): 200 to the CANCEL, 487 to
the INVITE, and no recording is kept. The record decision is held back with the test
hook `decision_delay_ms` so that the CANCEL reliably arrives first."""

from __future__ import annotations

import time

import pytest

from checks import wait_metric
from support.sipclient import Call, siprec_invite_body

pytestmark = pytest.mark.needs_binary

DELAY_MS = 2000
CONFIG = f"""domains:
  - name: default
    decision_delay_ms: {DELAY_MS}
"""


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_cancel_before_answer_gives_487_and_no_recording(siprecd, transport):
    srv = siprecd(config=CONFIG)
    ua = srv.ua(transport)
    call = Call(ua, srv.request_uri)
    body, ctype = siprec_invite_body([40000, 40002])
    t0 = time.monotonic()
    ua.send(call.build_invite(body, ctype))
    first = ua.wait(lambda m: m.is_response and m.top_branch == call.invite_branch, 2.0)
    assert first is not None, f"no response to the INVITE within 2 s\n{srv.log_tail()}"
    assert first.status == 100, f"expected 100 Trying while deciding, got {first.first_line}"

    cancel = call.cancel()
    assert cancel.final is not None, f"no response to CANCEL\n{srv.log_tail()}"
    assert cancel.final.status == 200, f"CANCEL got {cancel.final.first_line}"
    inv = ua.transaction(call.invite_branch, "INVITE", 5.0)
    assert inv.final is not None, f"no final response to the cancelled INVITE\n{srv.log_tail()}"
    assert inv.final.status == 487, f"cancelled INVITE got {inv.final.first_line}"
    assert inv.final.to_tag, "487 without To tag"
    call.ack(inv.final)

    # Past the decision delay no 200 may arrive for the cancelled INVITE.
    rest = DELAY_MS / 1000 + 0.5 - (time.monotonic() - t0)
    late = [m for m in ua.drain(max(rest, 0.2)) if m.is_response and m.cseq[1] == "INVITE"
            and m.status == 200]
    assert not late, f"200 OK after CANCEL/487: {late[0]}"

    assert wait_metric(srv, "siprecd_sessions_active", 0) == 0
    ready = [r for r in srv.recordings_for(call.call_id) if r.meta.get("state") == "ready"]
    assert not ready, f"a cancelled call left a ready recording: {ready[0]}"
    rows = srv.db_rows(call.call_id)
    assert all(r.get("state") == "cancelled" for r in rows), f"db rows after CANCEL: {rows}"
    ua.close()
