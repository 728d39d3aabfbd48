"""The s3 destination against a real S3-compatible server (DESIGN.md §2 "Destinations").

fauxqs (npm) stores the objects behind a proxy that checks every request's Signature V4 with
AWS's own signer, the payload hash and the SHA-256 checksums (support/s3_server.py), so a
wrongly signed or corrupted request fails the test. Objects are read back with the AWS SDK
for JavaScript v3 through the same proxy.

* small recording -> one PutObject (checksum, SSE, storage class), bytes and sha256 equal
  to RECORDINGSTORED, the .json/.xml documents beside it; credentials from the config;
* large recording (8 L16/44.1 kHz streams, multitrack, > 5 MiB) -> CreateMultipartUpload,
  parallel UploadPart with checksums, CompleteMultipartUpload; credentials from the
  AWS_* environment;
* wrong secret -> RECORDINGFAILED naming SignatureDoesNotMatch, the temp recording kept
  (and stored fine afterwards);
* S3 down during a store (proxy stopped, started again) -> retried, then stored;
  credentials from a profile of the shared credentials file;
* objects are tagged with the domain and recordingId (needs the job runner to pass tags).
No credential appears in siprecd's log or in any callback.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from support import sipmsg
from support.api_client import ApiClient
from support.control import (ControlPlane, check_envelope, config_yaml, domain_yaml,  # noqa: F401
                             receiver, start_control_plane)
from support.rtp import MultiRtpSender, RtpStream
from support.s3_server import S3Peers
from support.sipclient import Call

BUCKET = "siprecd-recordings"
MIB = 1 << 20

pytestmark = pytest.mark.needs_binary


@pytest.fixture(scope="module")
def s3(siprecd_bin, tmp_path_factory):
    peers = S3Peers(tmp_path_factory.mktemp("s3"))
    try:
        peers.create_bucket(BUCKET)
        yield peers
    finally:
        peers.stop()


def s3_destination(proxy, **extra) -> dict:
    dest = {"type": "s3", "bucket": BUCKET, "region": "us-east-1", "endpoint": proxy.endpoint,
            "path_style": True}
    dest.update(extra)
    return dest


def object_path(key: str) -> str:
    """The request path of `key` as S3 (and the proxy's log) sees it: path style, encoded."""
    return f"/{BUCKET}/" + quote(key, safe="/~")


def writes_of(proxy, key: str) -> list[dict]:
    """The proxy's log of the requests that wrote `key` (siprecd's; the read-backs are GETs)."""
    return [e for e in proxy.entries() if e["path"] == object_path(key) and e["method"] != "GET"]


def check_no_secret(cp, secret: str) -> None:
    log = cp.srv.log_text()
    assert secret not in log, "the S3 secret appears in siprecd's log"
    for post in cp.receiver.posts():
        assert secret.encode() not in post.body, f"the S3 secret appears in a callback: {post}"


def read_back(s3: S3Peers, stored: dict, out: Path) -> bytes:
    """Downloads the stored object with the SDK and checks it against RECORDINGSTORED."""
    key = stored.get("key")
    assert isinstance(key, str) and key, stored
    assert stored.get("location") == f"s3://{BUCKET}/{key}", stored
    meta = s3.get_object(BUCKET, key, out)
    data = out.read_bytes()
    assert stored.get("size") == len(data) == meta["contentLength"], \
        f"size {stored.get('size')} vs object {len(data)} / {meta}"
    assert str(stored.get("sha256", "")).lower() == hashlib.sha256(data).hexdigest() == meta["sha256"]
    return data


def wav_format(data: bytes) -> tuple[int, int, int]:
    """(channels, sample rate, bits per sample) from a RIFF/WAVE header (any fmt tag)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", f"not a WAV file: {data[:16]!r}"
    at = 12
    while at + 8 <= len(data):
        chunk, size = data[at:at + 4], struct.unpack("<I", data[at + 4:at + 8])[0]
        if chunk == b"fmt ":
            _, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[at + 8:at + 24])
            return channels, rate, bits
        at += 8 + size + (size & 1)
    raise AssertionError("WAV without a fmt chunk")


def store(cp, rid: str, reply_id: str, destination: str, **fields):
    r = cp.api.store(rid, reply_id, destination=destination, format="wav", **fields)
    assert r.status == 200 and (r.json or {}).get("success") is True, f"{r}\n{cp.diag()}"


def wait_stored(cp, rid: str, destination: str, timeout: float = 30.0) -> dict:
    """RECORDINGSTORED for `destination`; fails at once, with the reason, on RECORDINGFAILED."""
    deadline = time.monotonic() + timeout
    while True:
        for event in cp.receiver.events(rid):
            if event.get("destination") != destination:
                continue
            assert event.get("method") != "RECORDINGFAILED", f"store failed: {event}"
            if event.get("method") == "RECORDINGSTORED":
                check_envelope(event, "RECORDINGSTORED", rid)
                return event
        assert time.monotonic() < deadline, \
            f"no RECORDINGSTORED to {destination} within {timeout}s\n{cp.diag()}"
        time.sleep(0.1)


# --- a multi-stream L16 call: a > 5 MiB recording in a few seconds ---------------------------

L16_RATE = 44100
L16_SAMPLES = L16_RATE // 50  # per 20 ms packet


@dataclass
class L16Stream(RtpStream):
    """An RtpStream of 16-bit linear PCM at 44.1 kHz (RFC 3551 L16, static payload type 11):
    the same 20 ms of tone in every packet (the tone is a multiple of 50 Hz)."""

    payload_type: int = 11

    def packet(self, index: int) -> bytes:
        marker = 0x80 if (index == 0 and self.marker_first) else 0
        hdr = struct.pack("!BBHII", 0x80, marker | self.payload_type, (self.seq + index) & 0xFFFF,
                          (self.timestamp + index * L16_SAMPLES) & 0xFFFFFFFF, self.ssrc)
        return hdr + self.payload


def l16_tone(freq_hz: int) -> bytes:
    assert freq_hz % 50 == 0
    return struct.pack(f"!{L16_SAMPLES}h", *(
        int(8000 * math.sin(2 * math.pi * freq_hz * i / L16_RATE)) for i in range(L16_SAMPLES)))


def l16_offer(ports: list[int]) -> str:
    lines = ["v=0", "o=src 2000 1 IN IP4 127.0.0.1", "s=SIPREC S3 test", "c=IN IP4 127.0.0.1",
             "t=0 0"]
    for i, port in enumerate(ports):
        lines += [f"m=audio {port} RTP/AVP 11", "a=rtpmap:11 L16/44100", "a=ptime:20",
                  "a=sendonly", f"a=label:{i + 1}"]
    return "\r\n".join(lines) + "\r\n"


def l16_call(cp, streams: int, seconds: float) -> str:
    """A SIPREC call from the Python UAC with `streams` L16 streams; returns the recordingId
    once RECORDINGREADY arrived."""
    rtp = [L16Stream(payload=l16_tone(300 + 100 * i)) for i in range(streams)]
    ua = cp.srv.ua("tcp")
    call = Call(ua, cp.srv.request_uri)
    try:
        body = sipmsg.siprec_body(l16_offer([s.local_port for s in rtp]), sipmsg.rs_metadata())
        resp = call.invite(body, f"multipart/mixed;boundary={sipmsg.BOUNDARY}")
        assert resp.final is not None and resp.final.status == 200, \
            f"INVITE -> {resp.final and resp.final.status}\n{cp.diag()}"
        ports = sipmsg.sdp_media_ports(resp.final.sdp())
        assert len(ports) == streams and all(ports), f"answer ports {ports}"
        assert "L16/44100" in resp.final.sdp(), resp.final.sdp()
        for s, p in zip(rtp, ports):
            s.dest = ("127.0.0.1", p)
        sender = MultiRtpSender(rtp, seconds).start()
        sender.join(seconds + 10)
        bye = call.bye()
        assert bye.final is not None and bye.final.status == 200, "BYE not answered 200"
    finally:
        for s in rtp:
            s.close()
        ua.close()
    rid = cp.receiver.wait_recording_id(call.call_id, diag=cp.diag)
    cp.receiver.wait_event("RECORDINGREADY", rid, timeout=20, diag=cp.diag)
    return rid


# --- the tests -----------------------------------------------------------------------------


def test_small_recording_is_one_signed_put_with_checksum_and_encryption(siprecd, receiver, tones,
                                                                        s3, tmp_path):
    # A key needing percent-encoding: the path is sent and signed encoded once (S3 rules).
    config = config_yaml(domain_yaml("default", receiver, destinations={"cloud": s3_destination(
        s3.proxy, access_key_id=s3.KEY_ID, secret_access_key=s3.SECRET, sse="AES256",
        storage_class="STANDARD_IA", key_template="calls/{date}/rec {recordingId}+$1.{ext}")}))
    cp = start_control_plane(siprecd, receiver, config)
    rid, started, ready = cp.recorded_call(tones, tmp_path / "sipp", seconds=2.0)

    store(cp, rid, ready["replyId"], "cloud")
    stored = wait_stored(cp, rid, "cloud")
    data = read_back(s3, stored, tmp_path / "object.wav")
    channels, _, bits = wav_format(data)
    assert (channels, bits) == (2, 16), "the stored object is not the stereo 16-bit WAV"

    assert stored["key"].endswith(f"/rec {rid}+$1.wav"), stored
    entries = writes_of(s3.proxy, stored["key"])
    assert [(e["method"], e["query"], e["status"]) for e in entries] == [("PUT", "", 200)], \
        f"expected one PutObject of the audio, the proxy saw {entries}"
    put = entries[0]
    headers = put["headers"]
    assert headers.get("x-amz-content-sha256") == stored["sha256"], headers
    assert headers.get("x-amz-checksum-sha256") == \
        base64.b64encode(bytes.fromhex(stored["sha256"])).decode(), headers
    assert headers.get("x-amz-server-side-encryption") == "AES256", headers
    assert headers.get("x-amz-storage-class") == "STANDARD_IA", headers
    assert headers.get("content-type") == "audio/wav", headers
    for name in ("host", "x-amz-date", "x-amz-content-sha256", "x-amz-checksum-sha256",
                 "x-amz-server-side-encryption", "content-type"):
        assert name in put["signedHeaders"].split(";"), f"{name} not signed: {put['signedHeaders']}"
    assert not any(e.get("rejected") for e in s3.proxy.entries() if rid in e["path"]), \
        "the proxy rejected a request of siprecd"

    # The documents beside the audio, in the same bucket.
    keys = s3.list_keys(BUCKET)
    stem = stored["key"].rsplit(".", 1)[0]
    assert {stem + ".json", stem + ".xml"} <= set(keys), f"bucket holds {keys}"
    assert stored.get("documents", {}).get("json") == f"s3://{BUCKET}/{stem}.json", stored
    doc = s3.get_object(BUCKET, stem + ".json", tmp_path / "doc.json")
    assert doc["contentType"] == "application/json"
    assert rid in (tmp_path / "doc.json").read_text()
    check_no_secret(cp, s3.SECRET)


def test_large_recording_goes_up_as_parallel_multipart_upload(siprecd, receiver, s3, tmp_path):
    config = config_yaml(domain_yaml(
        "default", receiver, extra="    codecs: [L16, PCMU]",
        destinations={"big": s3_destination(s3.proxy, multipart_threshold_bytes=5 * MIB,
                                            part_size_bytes=5 * MIB)}))
    # Credentials from the standard AWS environment (nothing in the config).
    srv = siprecd(config=config, env={"AWS_ACCESS_KEY_ID": s3.KEY_ID,
                                      "AWS_SECRET_ACCESS_KEY": s3.SECRET})
    cp = ControlPlane(srv, receiver, ApiClient(srv.http_port))
    # 8 streams x 44.1 kHz x 2 bytes x 8 s = 5.6 MB: two parts of at most 5 MiB.
    rid = l16_call(cp, streams=8, seconds=8.0)
    ready = receiver.wait_event("RECORDINGREADY", rid)

    store(cp, rid, ready["replyId"], "big", layout="multitrack")
    stored = wait_stored(cp, rid, "big", timeout=40)
    assert stored.get("channels") == 8 and stored.get("sampleRate") == L16_RATE, stored
    assert stored["size"] > 5 * MIB, f"{stored['size']} bytes: too small for a multipart upload"
    data = read_back(s3, stored, tmp_path / "big.wav")
    assert wav_format(data) == (8, L16_RATE, 16)

    entries = writes_of(s3.proxy, stored["key"])
    creates = [e for e in entries if e["method"] == "POST" and e["query"] == "uploads"]
    parts = [e for e in entries if e["method"] == "PUT" and "partNumber=" in e["query"]]
    completes = [e for e in entries if e["method"] == "POST" and e["query"].startswith("uploadId=")]
    assert len(creates) == 1 and len(completes) == 1, f"proxy saw {entries}"
    assert not [e for e in entries if e["method"] == "PUT" and not e["query"]], \
        "a single PutObject was used for a file above the threshold"
    assert creates[0]["headers"].get("x-amz-checksum-algorithm") == "SHA256"
    assert creates[0]["headers"].get("content-type") == "audio/wav"
    assert len(parts) == 2, f"expected 2 parts, got {[p['query'] for p in parts]}"
    assert sorted(p["bodySize"] for p in parts) == sorted([5 * MIB, stored["size"] - 5 * MIB])
    for p in parts:
        assert p["status"] == 200 and "x-amz-checksum-sha256" in p["headers"], p
    assert all(e["status"] == 200 for e in entries), entries
    check_no_secret(cp, s3.SECRET)


def test_wrong_secret_fails_with_the_s3_error_code_and_keeps_the_recording(siprecd, receiver,
                                                                           tones, s3, tmp_path):
    config = config_yaml(domain_yaml("default", receiver, destinations={
        "wrong": s3_destination(s3.proxy, access_key_id=s3.KEY_ID,
                                secret_access_key="not-the-secret-0123456789"),
        "right": s3_destination(s3.proxy, access_key_id=s3.KEY_ID, secret_access_key=s3.SECRET)}))
    cp = start_control_plane(siprecd, receiver, config)
    rid, started, ready = cp.recorded_call(tones, tmp_path / "sipp", seconds=2.0)

    store(cp, rid, ready["replyId"], "wrong")
    failed = receiver.wait_event("RECORDINGFAILED", rid, timeout=20, diag=cp.diag)
    check_envelope(failed, "RECORDINGFAILED", rid)
    reason = str(failed.get("reason", ""))
    assert "SignatureDoesNotMatch" in reason and "403" in reason, failed
    assert f"s3://{BUCKET}/" in reason, f"the reason does not name the location: {failed}"
    assert failed.get("destination") == "wrong", failed
    assert "not-the-secret" not in str(failed)
    rejected = [e for e in s3.proxy.entries()
                if e.get("rejected") == "SignatureDoesNotMatch" and rid in e["path"]]
    assert len(rejected) == 1, f"a signature error must not be retried: {rejected}"

    # The temp recording is kept: still served, still storable.
    assert cp.api.wait_state(rid, {"ready"}) == "ready"
    audio = cp.api.audio(rid)
    assert audio.status == 200 and audio.body[:4] == b"RIFF", audio
    store(cp, rid, ready["replyId"], "right")
    stored = wait_stored(cp, rid, "right")
    read_back(s3, stored, tmp_path / "object.wav")
    check_no_secret(cp, "not-the-secret-0123456789")
    check_no_secret(cp, s3.SECRET)


def test_store_is_retried_while_s3_is_down_then_stored(siprecd, receiver, tones, s3, tmp_path):
    proxy = s3.new_proxy("flaky")
    # Credentials from a profile of the shared credentials file.
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(f"[default]\naws_access_key_id = AKIAWRONGDEFAULT\n"
                           f"aws_secret_access_key = wrong\n\n[archive]\n"
                           f"aws_access_key_id = {s3.KEY_ID}\naws_secret_access_key = {s3.SECRET}\n")
    config = config_yaml(domain_yaml("default", receiver, destinations={
        "flaky": s3_destination(proxy, profile="archive")}))
    srv = siprecd(config=config, env={"AWS_SHARED_CREDENTIALS_FILE": str(credentials)})
    cp = ControlPlane(srv, receiver, ApiClient(srv.http_port))
    rid, started, ready = cp.recorded_call(tones, tmp_path / "sipp", seconds=2.0)

    proxy.stop()
    store(cp, rid, ready["replyId"], "flaky")
    deadline = time.monotonic() + 15
    while not srv.log_grep("retrying") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert srv.log_grep("retrying"), f"no retry logged while S3 was down\n{cp.diag()}"
    assert not receiver.events(rid, "RECORDINGSTORED") and not receiver.events(rid, "RECORDINGFAILED")
    time.sleep(1.0)
    proxy.start()

    stored = wait_stored(cp, rid, "flaky", timeout=40)
    read_back(s3, stored, tmp_path / "object.wav")
    assert not receiver.events(rid, "RECORDINGFAILED"), receiver.events(rid, "RECORDINGFAILED")
    check_no_secret(cp, s3.SECRET)


def test_stored_objects_are_tagged_with_domain_and_recording_id(siprecd, receiver, tones, s3,
                                                                 tmp_path):
    config = config_yaml(domain_yaml("default", receiver, destinations={"cloud": s3_destination(
        s3.proxy, access_key_id=s3.KEY_ID, secret_access_key=s3.SECRET)}))
    cp = start_control_plane(siprecd, receiver, config)
    rid, started, ready = cp.recorded_call(tones, tmp_path / "sipp", seconds=1.0)
    store(cp, rid, ready["replyId"], "cloud")
    stored = wait_stored(cp, rid, "cloud")
    puts = writes_of(s3.proxy, stored["key"])
    assert puts and puts[0]["headers"].get("x-amz-tagging") == f"domain=default&recordingId={rid}", puts
    assert "x-amz-tagging" in puts[0]["signedHeaders"].split(";")
