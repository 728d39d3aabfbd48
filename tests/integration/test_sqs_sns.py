"""SNS and SQS as the application's event topic and command queue (DESIGN.md §2), against
fauxqs (npm `fauxqs@1.9.2`, an SNS/SQS emulator) behind the verifying proxy
(tests/integration/s3proxy/s3proxy.cjs), which recomputes every request's Signature V4 with
AWS's signer and refuses what does not match, and a real SIPp call.

* An SQS command drives STORE and DELETE end to end: STORERECORDING and DELETERECORDING
  sent to the domain's command queue are executed; RECORDINGREADY, RECORDINGSTORED and
  RECORDINGDELETED are published to the domain's SNS topic (read back through an SQS queue
  subscribed to it) with the event name as message attribute; a malformed message is moved
  to the dead-letter queue (reason attribute), counted, and the consumer carries on. The
  same events arrive on NATS JetStream too (a real `nats-server -js`), byte for byte.
* Wrong credentials: both ReceiveMessage and Publish fail with the AWS error code in the log
  and the failure metrics, and the secret appears nowhere.
"""

from __future__ import annotations

import json
import time

import pytest

from support.control import check_envelope, config_yaml, domain_yaml
from support.live_call import LiveCall
from support.nats_server import NatsClient, NatsServer, installed as nats_installed
from support.s3_server import FauxSqs, S3Peers

INIT = {
    "queues": [{"name": "commands"}, {"name": "dead"}, {"name": "events"}],
    "topics": [{"name": "siprecd-events"}],
    "subscriptions": [{"topic": "siprecd-events", "queue": "events"}],
}


@pytest.fixture
def peers(tmp_path):
    peers = S3Peers(tmp_path / "aws", init=INIT)
    yield peers
    peers.stop()


def domain_config(peers: S3Peers, sqs: FauxSqs, archive, secret: str = S3Peers.SECRET,
                  nats_url: str = "") -> str:
    extra = "\n".join([
        f"    sns_topic_arn: {sqs.topic_arn('siprecd-events')}",
        f"    sqs_queue_url: {sqs.queue_url('commands')}",
        f"    sqs_dead_letter_queue_url: {sqs.queue_url('dead')}",
        "    sqs_visibility_timeout_s: 5",
        "    aws:",
        f"      endpoint: {peers.proxy.endpoint}",
        "      region: us-east-1",
        f"      access_key_id: {S3Peers.KEY_ID}",
        f"      secret_access_key: {json.dumps(secret)}",
    ])
    # NATS (when given) publishes the events only: commands come from SQS.
    top = f"nats:\n  url: {nats_url}\n  commands: false\n" if nats_url else ""
    return config_yaml(domain_yaml("default", None, extra=extra, destinations={
        "archive": {"type": "file", "path": str(archive)}}), top=top)


class TopicWatch:
    """The events siprecd published to the SNS topic, read from the subscribed queue."""

    def __init__(self, sqs: FauxSqs):
        self.sqs = sqs
        self.notifications: list[dict] = []

    def events(self, recording_id: str | None = None) -> list[dict]:
        out = [json.loads(n["Message"]) for n in self.notifications]
        return [e for e in out if recording_id is None or e.get("recordingId") == recording_id]

    def wait(self, predicate, what: str, timeout: float = 15.0, diag=None) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for n in self.notifications:
                if predicate(json.loads(n["Message"])):
                    return n
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what} not on SNS within {timeout} s; seen "
                                     f"{[e['method'] for e in self.events()]}"
                                     + (f"\n{diag()}" if diag else ""))
            for message in self.sqs.receive("events", wait=1):
                self.notifications.append(json.loads(message["Body"]))

    def wait_event(self, method: str, recording_id: str, timeout: float = 15.0,
                   diag=None) -> dict:
        notification = self.wait(lambda e: e.get("method") == method
                                 and e.get("recordingId") == recording_id,
                                 f"{method} of {recording_id}", timeout, diag)
        event = json.loads(notification["Message"])
        check_envelope(event, method, recording_id, reply_id=method != "NEWCALL")
        attributes = notification.get("MessageAttributes") or {}
        assert attributes.get("event", {}).get("Value") == method, attributes
        assert attributes.get("eventId", {}).get("Value") == event["eventId"], attributes
        assert attributes.get("recordingId", {}).get("Value") == recording_id, attributes
        return event


@pytest.mark.needs_binary
def test_sqs_commands_store_and_delete_with_events_on_sns_and_nats(siprecd, peers, tones,
                                                                   tmp_path):
    if not nats_installed():
        pytest.skip("nats-server not installed (apt-get install nats-server)")
    nats = NatsServer(tmp_path / "nats").start()
    try:
        run_store_and_delete_over_sqs(siprecd, peers, tones, tmp_path, nats)
    finally:
        nats.stop()


def run_store_and_delete_over_sqs(siprecd, peers, tones, tmp_path, nats: NatsServer):
    sqs = FauxSqs(peers.fauxqs)
    archive = tmp_path / "archive"
    srv = siprecd(config=domain_config(peers, sqs, archive, nats_url=nats.url))
    diag = lambda: srv.log_tail(60)  # noqa: E731
    watch = TopicWatch(sqs)

    call = LiveCall(srv.sip_port, [tones["440"], tones["1200"]], tmp_path / "sipp",
                    seconds=2.0).start()
    rc = call.wait()
    assert rc == 0, f"SIPp call failed (rc {rc})\n{call.diagnostics()}\n{diag()}"
    started = watch.wait(lambda e: e.get("method") == "RECORDINGSTARTED"
                         and e.get("callId", call.call_id) == call.call_id,
                         "RECORDINGSTARTED", diag=diag)
    rid = json.loads(started["Message"])["recordingId"]
    ready = watch.wait_event("RECORDINGREADY", rid, diag=diag)
    assert abs(ready["duration"] - 2000) <= 400, ready

    # --- a malformed message first: moved aside, the consumer carries on ------------------
    sqs.send("commands", "{not json", {"Idempotency-Key": "garbage-1"})
    store = {"method": "STORERECORDING", "recordingId": rid, "replyId": ready["replyId"],
             "destination": "archive", "format": "wav", "layout": "stereo"}
    sqs.send("commands", json.dumps(store), {"Idempotency-Key": "store-1"})
    stored = watch.wait_event("RECORDINGSTORED", rid, timeout=25, diag=diag)
    path = archive / stored["key"]
    assert path.is_file() and path.stat().st_size == stored["size"], stored

    dead = []
    deadline = time.monotonic() + 10
    while not dead and time.monotonic() < deadline:
        dead = sqs.receive("dead", wait=1)
    assert len(dead) == 1, f"dead-letter queue: {dead}\n{diag()}"
    assert dead[0]["Body"] == "{not json"
    attributes = {k: v.get("StringValue") for k, v in dead[0].get("MessageAttributes", {}).items()}
    assert attributes.get("siprecd-reason") == "malformed", attributes
    assert attributes.get("siprecd-status") == "400", attributes
    assert attributes.get("siprecd-source-queue") == sqs.queue_url("commands"), attributes

    # --- DELETERECORDING --------------------------------------------------------------------
    delete = {"method": "DELETERECORDING", "recordingId": rid, "replyId": stored["replyId"]}
    sqs.send("commands", json.dumps(delete))
    deleted = watch.wait_event("RECORDINGDELETED", rid, diag=diag)
    assert deleted.get("reason") == "command", deleted
    assert path.is_file(), "DELETERECORDING removed the stored copy"

    deadline = time.monotonic() + 10
    while sqs.counts("commands") != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sqs.counts("commands") == (0, 0), "commands left in the queue"
    for name, want in (("siprecd_sqs_commands_received_total", 3),
                       ("siprecd_sqs_commands_accepted_total", 2),
                       ("siprecd_sqs_commands_malformed_total", 1)):
        assert srv.metric(name) == want, f"{name} = {srv.metric(name)}, expected {want}"

    methods = [e["method"] for e in watch.events(rid) if e["method"] != "METADATAUPDATED"]
    # A domain without callbacks keeps NEWCALL in its outbox (no callback decided the call).
    assert methods == ["NEWCALL", "RECORDINGSTARTED", "RECORDINGREADY", "RECORDINGSTORED",
                       "RECORDINGDELETED"], methods
    assert srv.metric("siprecd_sns_events_published_total") >= len(methods)
    assert (srv.metric("siprecd_sns_publish_failures_total") or 0) == 0

    # Every SNS and SQS request went through the verifying proxy and passed it.
    entries = peers.proxy.entries()
    actions = {(e["service"], e["action"]) for e in entries}
    assert {("sns", "Publish"), ("sqs", "ReceiveMessage"), ("sqs", "DeleteMessage"),
            ("sqs", "SendMessage")} <= actions, actions
    rejected = [e for e in entries if e.get("rejected")]
    assert not rejected, rejected

    # The same events on NATS JetStream, byte for byte as on SNS.
    client = NatsClient(nats.url)
    try:
        client.wait_stream("SIPRECD_EVENTS")
        sub = client.js_watch("SIPRECD_EVENTS", "siprecd.default.events.>")
        wanted = ("RECORDINGSTORED", "RECORDINGDELETED")
        on_nats = {}
        deadline = time.monotonic() + 10
        while not all(m in on_nats for m in wanted) and time.monotonic() < deadline:
            msg = sub.next(0.5)
            if msg is not None and msg.json().get("recordingId") == rid:
                on_nats.setdefault(msg.json()["method"], msg.data.decode())
        on_sns = {json.loads(n["Message"])["method"]: n["Message"] for n in watch.notifications
                  if json.loads(n["Message"]).get("recordingId") == rid}
        for method in wanted:
            assert on_nats.get(method) == on_sns[method], (
                f"{method}: NATS {on_nats.get(method)!r} vs SNS {on_sns[method]!r}")
    finally:
        client.close()


@pytest.mark.needs_binary
def test_wrong_aws_credentials_are_reported_with_the_aws_error(siprecd, peers, tones, tmp_path):
    sqs = FauxSqs(peers.fauxqs)
    wrong = "not/the+right-secret-9876543210"
    srv = siprecd(config=domain_config(peers, sqs, tmp_path / "archive", secret=wrong))
    call = LiveCall(srv.sip_port, [tones["440"], tones["1200"]], tmp_path / "sipp",
                    seconds=1.0).start()
    assert call.wait() == 0, call.diagnostics()

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (
            srv.metric("siprecd_sns_publish_failures_total")
            and srv.metric("siprecd_sqs_receive_failures_total")):
        time.sleep(0.2)
    assert srv.metric("siprecd_sqs_receive_failures_total") >= 1, srv.log_tail(40)
    assert srv.metric("siprecd_sns_publish_failures_total") >= 1, srv.log_tail(40)
    receive = srv.log_grep("ReceiveMessage")
    assert any("SignatureDoesNotMatch (HTTP 403)" in line for line in receive), receive
    publish = srv.log_grep("Publish")
    assert any("SignatureDoesNotMatch (HTTP 403)" in line for line in publish), publish
    assert wrong not in srv.log_text()
    assert (srv.metric("siprecd_sns_events_published_total") or 0) == 0
    assert sqs.receive("events", wait=0) == []
