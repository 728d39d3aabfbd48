"""The newCall decision and the delivery of events (DESIGN.md §2 "Callbacks and events").

* newCall {"recordCall": false} -> 603, nothing kept (state declined);
* newCall too slow (> callback_timeout_ms) or failing -> the domain's default_decision,
  both `record` and `decline`;
* a receiver answering 500, or with its port closed, gets every event later, in order per
  recording, under stable eventIds; events pending in the outbox survive a restart;
* every callback is signed: the receiver's verifier is self-tested, and a receiver with
  the wrong secret sees every request fail the check.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request

import pytest

from support.callback_receiver import CallbackReceiver, sign, verify_signature
from support.calls import PyCall
from support.control import (SECRET, check_envelope, config_yaml, domain_yaml,  # noqa: F401
                             receiver, start_control_plane)

# --- harness self-checks (no binary) ----------------------------------------------------


@pytest.mark.harness
def test_signature_verifier_accepts_good_and_rejects_tampered_signatures():
    body = b'{"method":"RECORDINGREADY","recordingId":"r1"}'
    now = int(time.time())
    good = sign(SECRET, now, body)
    assert verify_signature(SECRET, good, body) is None
    assert verify_signature(SECRET, good + ",v1=" + "0" * 64, body) is None  # extra v1 ignored
    assert verify_signature(SECRET, good, body.replace(b"r1", b"r2")) is not None  # tampered
    assert verify_signature("another-secret", good, body) is not None  # wrong secret
    assert verify_signature(SECRET, sign(SECRET, now - 3600, body), body) is not None  # stale
    assert verify_signature(SECRET, None, body) is not None
    assert verify_signature(SECRET, "v1=" + good.split("v1=")[1], body) is not None  # no t
    assert verify_signature(SECRET, f"t={now}", body) is not None  # no v1
    assert verify_signature(SECRET, "garbage", body) is not None


@pytest.mark.harness
def test_receiver_records_good_posts_and_refuses_bad_signatures():
    rcv = CallbackReceiver(SECRET).start()
    try:
        def post(name: str, body: bytes, header: str) -> int:
            req = urllib.request.Request(f"{rcv.base_url}/{name}", data=body, method="POST",
                                         headers={"X-Siprecd-Signature": header,
                                                  "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=3) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        ev = json.dumps({"method": "RECORDINGSTARTED", "eventId": "e1", "recordingId": "r1"}).encode()
        assert post("recordingStarted", ev, sign(SECRET, int(time.time()), ev)) == 200
        assert post("recordingStarted", ev + b" ", sign(SECRET, int(time.time()), ev)) == 401
        assert [e["eventId"] for e in rcv.events("r1")] == ["e1"]
        assert len(rcv.bad_signatures()) == 1
        nc = json.dumps({"method": "NEWCALL", "recordingId": "r2", "callId": "c2"}).encode()
        req = urllib.request.Request(f"{rcv.base_url}/newCall", data=nc, method="POST",
                                     headers={"X-Siprecd-Signature": sign(SECRET, int(time.time()), nc)})
        with urllib.request.urlopen(req, timeout=3) as r:
            assert json.loads(r.read()) == {"recordCall": True}
        assert rcv.wait_recording_id("c2") == "r2"
        rcv.stop()
        with pytest.raises(OSError):
            urllib.request.urlopen(urllib.request.Request(f"{rcv.base_url}/x", data=b"{}"), timeout=2)
        rcv.start()  # same port again
        assert post("recordingReady", ev, sign(SECRET, int(time.time()), ev)) == 200
    finally:
        rcv.stop()


# --- with siprecd --------------------------------------------------------------------------


def first_line(msg) -> str:
    return msg.first_line if msg is not None else "no final response"


def py_call(cp, tones):
    """A SIPREC call from the Python UAC; returns (call, final response, seconds to it)."""
    ua = cp.srv.ua("udp")
    call = PyCall(ua, cp.srv.request_uri, [tones["440"], tones["1200"]])
    t0 = time.monotonic()
    final = call.setup()
    return call, final, time.monotonic() - t0


@pytest.mark.needs_binary
def test_declined_call_gets_603_and_leaves_nothing(siprecd, receiver, tones):
    receiver.record_call = False
    cp = start_control_plane(siprecd, receiver, config_yaml(domain_yaml("default", receiver)))
    call, final, _ = py_call(cp, tones)
    assert final is not None and final.status == 603, \
        f"declined call got {first_line(final)}\n{cp.diag()}"
    rid = receiver.wait_recording_id(call.call_id, diag=cp.diag)
    check_envelope(receiver.posts(rid)[0].json, "NEWCALL", rid, reply_id=False)
    row = cp.wait_db_state(rid, "declined")
    assert not cp.session_dir(rid).exists(), \
        f"a declined call left {sorted(p.name for p in cp.session_dir(rid).iterdir())}"
    leftovers = [p for p in cp.srv.data_dir.rglob(f"*{rid}*")]
    assert not leftovers, f"files of the declined recording: {leftovers}"
    assert cp.api.state(rid) == "declined", f"API: {cp.api.recording(rid)}"
    time.sleep(1.0)
    later = [e["method"] for e in receiver.events(rid) if e.get("method") != "NEWCALL"]
    assert not later, f"events after a declined newCall: {later} (db row {row})"
    call.ua.close()


@pytest.mark.needs_binary
@pytest.mark.parametrize("failure", ["slow", "error"])
@pytest.mark.parametrize("default", ["record", "decline"])
def test_newcall_timeout_or_error_applies_default_decision(siprecd, receiver, tones, default,
                                                           failure):
    timeout_ms = 500
    record_default = default == "record"
    # The receiver's own (late or failed) answer says the opposite of the default, so only
    # the default can explain the outcome.
    receiver.record_call = not record_default
    if failure == "slow":
        receiver.newcall_delay_s = 1.5
    else:
        receiver.newcall_status = 500
    extra = f"    callback_timeout_ms: {timeout_ms}\n    default_decision: {default}"
    cp = start_control_plane(siprecd, receiver, config_yaml(domain_yaml("default", receiver,
                                                                        extra=extra)))
    call, final, took = py_call(cp, tones)
    assert final is not None, f"no final response to the INVITE\n{cp.diag()}"
    want = 200 if record_default else 603
    assert final.status == want, \
        f"newCall {failure} with default_decision {default}: got {final.status}, expected {want}\n{cp.diag()}"
    if failure == "slow":
        assert timeout_ms / 1000 - 0.05 <= took < 1.4, \
            f"the answer came {took:.2f}s after the INVITE; callback_timeout_ms is {timeout_ms}"
    else:
        assert took < 1.0, f"a failing newCall held the INVITE {took:.2f}s"
    rid = receiver.wait_recording_id(call.call_id, diag=cp.diag)
    if record_default:
        call.send_audio(0.6)
        assert call.hangup().status == 200
        receiver.newcall_delay_s = 0
        cp.wait_db_state(rid, "ready", timeout=10)
        started = receiver.wait_event("RECORDINGSTARTED", rid, diag=cp.diag)
        check_envelope(started, "RECORDINGSTARTED", rid)
        call.ua.close()
    else:
        cp.wait_db_state(rid, "declined")
        assert not cp.session_dir(rid).exists()
        call.ua.close()


@pytest.mark.needs_binary
def test_receiver_with_wrong_secret_rejects_every_callback(siprecd, tones):
    """The verifier is live: siprecd signs with the configured secret, a receiver holding
    another one refuses every request (401), and siprecd falls back to its default."""
    rcv = CallbackReceiver("not-the-configured-secret").start()
    try:
        cp = start_control_plane(siprecd, rcv, config_yaml(domain_yaml("default", rcv)))
        call, final, _ = py_call(cp, tones)
        assert final is not None and final.status == 200, f"got {first_line(final)}\n{cp.diag()}"
        call.send_audio(0.4)
        assert call.hangup().status == 200
        deadline = time.monotonic() + 5
        while len(rcv.posts()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        posts = rcv.posts()
        assert posts, f"no callback arrived\n{cp.diag()}"
        assert all(r.signature_error for r in posts), \
            f"a request passed verification with the wrong secret: {[str(r) for r in posts]}"
        assert not rcv.events(), "events counted as delivered despite bad signatures"
        assert all(r.status == 401 for r in posts)
        call.ua.close()
    finally:
        rcv.stop()


@pytest.mark.needs_binary
def test_events_reach_a_receiver_that_answered_500_in_order(siprecd, receiver, tones, tmp_path):
    receiver.event_status = 500  # newCall still answered; every other event refused
    cp = start_control_plane(siprecd, receiver, config_yaml(domain_yaml("default", receiver)))
    call = cp.call(tones, tmp_path / "sipp", seconds=1.5)
    rid = receiver.wait_recording_id(call.call_id, diag=cp.diag)
    assert call.wait() == 0, call.diagnostics()
    cp.wait_db_state(rid, "ready", timeout=10)
    # Let siprecd fail at least twice on its first event, then recover.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        failed = [r for r in receiver.posts(rid) if r.status == 500]
        if len(failed) >= 2:
            break
        time.sleep(0.1)
    failed = [r for r in receiver.posts(rid) if r.status == 500]
    assert len(failed) >= 2, \
        f"siprecd did not retry the refused event: {[str(r) for r in receiver.posts()]}\n{cp.diag()}"
    first = failed[0].json
    assert first.get("method") == "RECORDINGSTARTED", \
        f"the first event refused was {first.get('method')}, RECORDINGSTARTED must come first"
    assert {r.json.get("eventId") for r in failed if r.json.get("method") == "RECORDINGSTARTED"} \
        == {first.get("eventId")}, "a retry of RECORDINGSTARTED changed its eventId"
    early = [str(r) for r in receiver.posts(rid) if r.json.get("method") == "RECORDINGREADY"]
    assert not early, f"RECORDINGREADY sent while RECORDINGSTARTED was still undelivered: {early}"
    receiver.event_status = 200
    ready = receiver.wait_event("RECORDINGREADY", rid, timeout=40, diag=cp.diag)
    started = receiver.events(rid, "RECORDINGSTARTED")
    assert started and started[0]["eventId"] == first.get("eventId"), \
        "RECORDINGSTARTED delivered under another eventId than its failed attempts"
    check_envelope(ready, "RECORDINGREADY", rid)
    methods = receiver.check_order(rid)
    assert [m for m in methods if m != "METADATAUPDATED"] == \
        ["NEWCALL", "RECORDINGSTARTED", "RECORDINGREADY"], methods


@pytest.mark.needs_binary
def test_pending_events_survive_restart_and_closed_port(siprecd, tones, tmp_path):
    """Receiver port closed from the start (newCall refused -> default record), the call
    ends, siprecd is stopped with the events still in its outbox, started again on the same
    data directory, and the receiver comes up: every event arrives, in order, once per
    eventId."""
    rcv = CallbackReceiver(SECRET)  # not started: connection refused
    try:
        cp = start_control_plane(siprecd, rcv, config_yaml(domain_yaml("default", rcv)))
        call = cp.call(tones, tmp_path / "sipp", seconds=1.5)
        assert call.wait() == 0, f"{call.diagnostics()}\n{cp.diag()}"
        rows = cp.srv.db_rows(call.call_id)
        assert rows, f"no db row for the call\n{cp.diag()}"
        rid = rows[0]["id"]
        cp.wait_db_state(rid, "ready", timeout=10)
        deadline = time.monotonic() + 5
        while True:  # the outbox is written behind the state change
            pending = [e for e in cp.pending_events() if e["recording_id"] == rid]
            names = " ".join(e["name"] for e in pending).lower()
            if ("started" in names and "ready" in names) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert "started" in names and "ready" in names, \
            f"outbox of {rid} before the restart (pending only): {pending}"

        cp.srv.signal(signal.SIGTERM)
        rc = cp.srv.wait_exit(15)
        assert rc == 0, f"siprecd exit {rc} on SIGTERM with events pending\n{cp.diag()}"
        cp.srv.start()  # same data dir, ports and configuration
        rcv.start()
        ready = rcv.wait_event("RECORDINGREADY", rid, timeout=40, diag=cp.diag)
        check_envelope(ready, "RECORDINGREADY", rid)
        methods = rcv.check_order(rid)
        assert [m for m in methods if m != "METADATAUPDATED"] == ["RECORDINGSTARTED", "RECORDINGREADY"], \
            f"events after the restart: {methods}"
        delivered_ids = {e["eventId"] for e in rcv.events(rid)}
        assert {e["event_id"] for e in pending} <= delivered_ids, \
            f"outbox events lost: {pending} vs delivered {delivered_ids}"
        assert not rcv.bad_signatures()
    finally:
        rcv.stop()
