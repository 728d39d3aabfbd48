"""NATS JetStream as the application's event bus and command queue (DESIGN.md §2, §5), with
a real `nats-server -js` and a real SIPp call.

* A domain without webhooks (the on-premise set-up): NEWCALL, RECORDINGSTARTED and
  RECORDINGREADY arrive on siprecd.default.events.*; STORERECORDING published on
  siprecd.default.commands stores the recording (RECORDINGSTORED on NATS, the file in the
  archive), DELETERECORDING deletes it (RECORDINGDELETED); replies come on
  siprecd.default.replies; a malformed and a refused command are acknowledged and counted,
  never retried.
* A domain with webhooks: every event is published on NATS with the webhook's body, byte
  for byte, under Nats-Msg-Id = eventId.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from support.control import (check_envelope, config_yaml, domain_yaml, receiver,  # noqa: F401
                             start_control_plane)
from support.live_call import LiveCall
from support.nats_server import NatsClient, NatsServer, Subscription, installed

EVENT_NAMES = {"NEWCALL": "newCall", "RECORDINGSTARTED": "recordingStarted",
               "METADATAUPDATED": "metadataUpdated", "RECORDINGREADY": "recordingReady",
               "RECORDINGSTORED": "recordingStored", "RECORDINGDELETED": "recordingDeleted",
               "RECORDINGFAILED": "recordingFailed"}


@pytest.fixture
def nats_server(tmp_path):
    if not installed():
        pytest.skip("nats-server not installed (apt-get install nats-server)")
    server = NatsServer(tmp_path / "nats").start()
    yield server
    server.stop()


def nats_top(server: NatsServer) -> str:
    return f"nats:\n  url: {server.url}\n"


class EventWatch:
    """The events siprecd published on JetStream, in stream order."""

    def __init__(self, client: NatsClient, domain: str = "default"):
        client.wait_stream("SIPRECD_EVENTS")
        self.sub: Subscription = client.js_watch("SIPRECD_EVENTS", f"siprecd.{domain}.events.>")
        self.messages = []

    def _drain(self, timeout: float) -> None:
        msg = self.sub.next(timeout)
        while msg is not None:
            self.messages.append(msg)
            msg = self.sub.next(0.01)

    def events(self, recording_id: str | None = None) -> list[dict]:
        out = [m.json() for m in self.messages]
        return [e for e in out if recording_id is None or e.get("recordingId") == recording_id]

    def wait(self, predicate, what: str, timeout: float = 15.0, diag=None):
        deadline = time.monotonic() + timeout
        while True:
            for m in self.messages:
                if predicate(m):
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                seen = [(m.subject, m.json().get("recordingId")) for m in self.messages]
                raise AssertionError(f"{what} not on NATS within {timeout} s; seen {seen}"
                                     + (f"\n{diag()}" if diag else ""))
            self._drain(min(left, 0.5))

    def wait_event(self, method: str, recording_id: str, timeout: float = 15.0, diag=None):
        return self.wait(lambda m: m.json().get("method") == method
                         and m.json().get("recordingId") == recording_id,
                         f"{method} of {recording_id}", timeout, diag)


def check_message(msg, method: str, recording_id: str, domain: str = "default") -> dict:
    """Subject, Nats-Msg-Id and envelope of one published event."""
    body = msg.json()
    assert msg.subject == f"siprecd.{domain}.events.{EVENT_NAMES[method]}", msg.subject
    assert msg.headers.get("Nats-Msg-Id") == body.get("eventId"), \
        f"Nats-Msg-Id {msg.headers.get('Nats-Msg-Id')!r} != eventId {body.get('eventId')!r}"
    check_envelope(body, method, recording_id, domain=domain, reply_id=method != "NEWCALL")
    return body


def wait_reply(replies: Subscription, key: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = replies.next(max(0.05, deadline - time.monotonic()))
        if msg is not None and msg.headers.get("Idempotency-Key") == key:
            return msg
    raise AssertionError(f"no reply for command {key} on siprecd.default.replies")


@pytest.mark.needs_binary
def test_nats_events_and_commands_for_a_domain_without_webhooks(siprecd, nats_server, tones,
                                                                tmp_path):
    archive = tmp_path / "archive"
    config = config_yaml(domain_yaml("default", None, destinations={
        "archive": {"type": "file", "path": str(archive)}}), top=nats_top(nats_server))
    srv = siprecd(config=config)
    diag = lambda: srv.log_tail(60)  # noqa: E731
    client = NatsClient(nats_server.url)
    try:
        client.wait_stream("SIPRECD_COMMANDS")
        watch = EventWatch(client)
        replies = client.subscribe("siprecd.default.replies")

        # --- the call: NEWCALL, RECORDINGSTARTED, RECORDINGREADY on NATS ----------------
        call = LiveCall(srv.sip_port, [tones["440"], tones["1200"]], tmp_path / "sipp",
                        seconds=2.0).start()
        new_call = watch.wait(lambda m: m.json().get("method") == "NEWCALL"
                              and m.json().get("callId") == call.call_id, "NEWCALL", diag=diag)
        rid = new_call.json()["recordingId"]
        check_message(new_call, "NEWCALL", rid)
        check_message(watch.wait_event("RECORDINGSTARTED", rid, diag=diag),
                      "RECORDINGSTARTED", rid)
        rc = call.wait()
        assert rc == 0, f"SIPp call failed (rc {rc})\n{call.diagnostics()}\n{diag()}"
        ready = check_message(watch.wait_event("RECORDINGREADY", rid, diag=diag),
                              "RECORDINGREADY", rid)
        assert abs(ready["duration"] - 2000) <= 400, ready

        # --- STORERECORDING from NATS -----------------------------------------------------
        store = {"method": "STORERECORDING", "recordingId": rid, "replyId": ready["replyId"],
                 "destination": "archive", "format": "wav", "layout": "stereo"}
        ack = client.js_publish("siprecd.default.commands", json.dumps(store).encode(),
                                {"Idempotency-Key": "store-1"})
        assert ack.get("stream") == "SIPRECD_COMMANDS", ack
        reply = wait_reply(replies, "store-1")
        assert reply.headers.get("Siprecd-Status") == "200", (reply.headers, reply.data)
        assert reply.json().get("success") is True and reply.json().get("state") == "storing", \
            reply.data
        assert reply.headers.get("Siprecd-Command-Sequence") == str(ack["seq"]), reply.headers
        stored = check_message(watch.wait_event("RECORDINGSTORED", rid, timeout=20, diag=diag),
                               "RECORDINGSTORED", rid)
        path = archive / stored["key"]
        assert path.is_file() and path.stat().st_size == stored["size"], stored

        # --- DELETERECORDING from NATS ----------------------------------------------------
        delete = {"method": "DELETERECORDING", "recordingId": rid, "replyId": stored["replyId"]}
        client.js_publish("siprecd.default.commands", json.dumps(delete).encode(),
                          {"Idempotency-Key": "delete-1"})
        assert wait_reply(replies, "delete-1").headers.get("Siprecd-Status") == "200"
        deleted = check_message(watch.wait_event("RECORDINGDELETED", rid, diag=diag),
                                "RECORDINGDELETED", rid)
        assert deleted.get("reason") == "command", deleted
        assert path.is_file(), "DELETERECORDING removed the stored copy"

        # --- refused and malformed commands: acknowledged, counted, never retried ---------
        client.js_publish("siprecd.default.commands", json.dumps(
            {"method": "STORERECORDING", "recordingId": "no-such-recording"}).encode(),
            {"Idempotency-Key": "unknown-1"})
        refused = wait_reply(replies, "unknown-1")
        assert refused.headers.get("Siprecd-Status") == "404", (refused.headers, refused.data)
        assert refused.json().get("success") is False, refused.data
        client.js_publish("siprecd.default.commands", b"{not json",
                          {"Idempotency-Key": "garbage-1"})
        garbage = wait_reply(replies, "garbage-1")
        assert garbage.headers.get("Siprecd-Status") == "400", garbage.headers

        deadline = time.monotonic() + 5
        while (client.stream_info("SIPRECD_COMMANDS") or {}).get("state", {}).get("messages") \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        state = client.stream_info("SIPRECD_COMMANDS")["state"]
        assert state["messages"] == 0, f"commands left unacknowledged: {state}"
        for name, want in (("siprecd_nats_commands_received_total", 4),
                           ("siprecd_nats_commands_accepted_total", 2),
                           ("siprecd_nats_commands_rejected_total", 1),
                           ("siprecd_nats_commands_malformed_total", 1)):
            assert srv.metric(name) == want, f"{name} = {srv.metric(name)}, expected {want}"

        # --- the recording's events as a whole --------------------------------------------
        methods = [e["method"] for e in watch.events(rid) if e["method"] != "METADATAUPDATED"]
        assert methods == ["NEWCALL", "RECORDINGSTARTED", "RECORDINGREADY", "RECORDINGSTORED",
                           "RECORDINGDELETED"], methods
        ids = [e["eventId"] for e in watch.events(rid)]
        assert len(ids) == len(set(ids)), f"an event was stored twice: {ids}"
        assert srv.metric("siprecd_nats_events_published_total") >= len(ids)
        assert not client.errors, client.errors
    finally:
        client.close()


@pytest.mark.needs_binary
def test_nats_carries_the_webhook_body_of_every_event(siprecd, nats_server, receiver, tones,
                                                      tmp_path):
    config = config_yaml(domain_yaml("default", receiver), top=nats_top(nats_server))
    cp = start_control_plane(siprecd, receiver, config)
    client = NatsClient(nats_server.url)
    try:
        watch = EventWatch(client)
        rid, _started, _ready = cp.recorded_call(tones, tmp_path / "sipp")
        posts = [p for p in receiver.posts(rid) if p.name != "newCall" and p.delivered]
        assert {p.json["method"] for p in posts} >= {"RECORDINGSTARTED", "RECORDINGREADY"}, posts
        for post in posts:
            event_id = post.json["eventId"]
            msg = watch.wait(lambda m, e=event_id: m.headers.get("Nats-Msg-Id") == e,
                             f"{post.json['method']} {event_id}", diag=cp.diag)
            check_message(msg, post.json["method"], rid)
            assert msg.data == post.body, \
                f"NATS payload differs from the webhook body:\n{msg.data!r}\n{post.body!r}"
        # The synchronous newCall callback is not an outbox event: not on NATS.
        assert "NEWCALL" not in [e["method"] for e in watch.events(rid)]
    finally:
        client.close()


@pytest.mark.needs_binary
def test_siprecd_starts_before_nats_and_publishes_once_it_is_up(siprecd, tmp_path, tones):
    if not installed():
        pytest.skip("nats-server not installed (apt-get install nats-server)")
    server = NatsServer(tmp_path / "nats").start()
    server.stop()  # keep its port: siprecd starts with nobody listening there
    config = config_yaml(domain_yaml("default", None), top=nats_top(server))
    srv = siprecd(config=config)
    try:
        call = LiveCall(srv.sip_port, [tones["440"], tones["1200"]], tmp_path / "sipp",
                        seconds=1.0).start()
        assert call.wait() == 0, call.diagnostics()
        server.start()
        client = NatsClient(server.url)
        try:
            watch = EventWatch(client)
            ready = watch.wait(lambda m: m.json().get("method") == "RECORDINGREADY",
                               "RECORDINGREADY", timeout=20, diag=lambda: srv.log_tail(60))
            rid = ready.json()["recordingId"]
            methods = [e["method"] for e in watch.events(rid) if e["method"] != "METADATAUPDATED"]
            assert methods == ["NEWCALL", "RECORDINGSTARTED", "RECORDINGREADY"], methods
        finally:
            client.close()
    finally:
        server.stop()
