"""(11) Graceful drain on SIGTERM: new INVITEs get 503 + Retry-After, the call in progress
continues to its BYE and is fully recorded, then the process exits with code 0."""

from __future__ import annotations

import signal
import time

import pytest

from checks import check_wav
from support.calls import PyCall
from support.sipclient import Call, siprec_invite_body

pytestmark = pytest.mark.needs_binary


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_drain_refuses_new_calls_and_finishes_running_one(siprecd, tones, sig):
    srv = siprecd()
    ua = srv.ua("udp")
    running = PyCall(ua, srv.request_uri, [tones["440"], tones["1200"]])
    final = running.setup()
    assert final is not None and final.status == 200, f"INVITE got {final}\n{srv.log_tail()}"
    sender = running.send_audio(2.0)
    time.sleep(0.5)

    srv.signal(sig)
    time.sleep(0.3)
    assert srv.alive(), f"siprecd exited on {sig.name} with a call in progress\n{srv.log_tail()}"

    ua2 = srv.ua("udp")
    new = Call(ua2, srv.request_uri)
    body, ctype = siprec_invite_body([40000, 40002])
    resp = new.invite(body, ctype, timeout=5)
    assert resp.final is not None, f"no answer to an INVITE while draining\n{srv.log_tail()}"
    assert resp.final.status == 503, f"INVITE while draining got {resp.final.first_line}"
    retry = resp.final.header("retry-after")
    assert retry and retry.split(";")[0].strip().isdigit(), f"503 without valid Retry-After: {retry!r}"
    # OPTIONS still answered while draining (SBCs use it to see the node's state).
    opt = ua2.options(srv.request_uri)
    assert opt.final is not None, "OPTIONS unanswered while draining"

    sender.join(10)
    assert srv.alive(), "siprecd exited before the running call ended"
    bye = running.hangup()
    assert bye is not None and bye.status == 200, f"BYE while draining got {bye}"

    rc = srv.wait_exit(15)
    assert rc is not None, f"siprecd still running 15 s after the last call ended\n{srv.log_tail()}"
    assert rc == 0, f"exit code {rc} after drain\n{srv.log_tail()}"
    recs = [r for r in srv.recordings_for(running.call_id) if r.meta.get("state") == "ready"]
    assert recs, (f"the drained call's recording was not completed before exit; "
                  f"db: {srv.db_rows(running.call_id)}\n{srv.log_tail()}")
    check_wav(recs[0], 2, 2.0, [440.0, 1200.0])
    assert srv.db_rows(running.call_id)[0].get("state") == "ready"
    ua.close()
    ua2.close()


def test_sigterm_without_calls_exits_promptly(siprecd):
    srv = siprecd()
    t0 = time.monotonic()
    srv.signal(signal.SIGTERM)
    rc = srv.wait_exit(5)
    assert rc == 0, f"exit code {rc} (None = still running after 5 s)\n{srv.log_tail()}"
    assert time.monotonic() - t0 < 3, "idle siprecd took more than 3 s to exit"
