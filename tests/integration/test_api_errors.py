"""Every error status of the REST API provoked once (DESIGN.md §2 "Replies"): 400 naming
the faulty field, 401 (no, wrong or expired credentials), 403 (a JWT of another domain, a
replyId of another recording or forged), 404 (unknown recording or command), 409 (wrong
state: STORE/DELETE while recording, DELETE/STORE while storing), 413 (body over 1 MiB),
429 (the per-client rate limit, 50/s with a burst of 100 by default); never a 5xx
(support/api_client.py checks every answer against the error envelope).

One siprecd for the module: domain `default` (API key KEY_A, JWT secret, file destination
`archive`) and domain `other` (KEY_B), with two ready recordings of `default` made by two
concurrent SIPp calls.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.api_client import ApiClient, raw_post
from support.callback_receiver import CallbackReceiver
from support.control import (SECRET, ControlPlane, check_envelope, config_yaml, domain_yaml)
from support.siprecd import Siprecd

pytestmark = pytest.mark.needs_binary

KEY_A = "it-key-default-3b9a51"
KEY_B = "it-key-other-51cd07"
JWT_SECRET = "it-jwt-hs256-secret-of-default"


def jwt_hs256(secret: str, claims: dict) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + \
        b64(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(sig)


@dataclass
class Env:
    cp: ControlPlane
    r1: str
    r2: str
    reply1: str
    reply2: str
    archive: Path

    @property
    def api(self) -> ApiClient:
        return self.cp.api


@pytest.fixture(scope="module")
def env(siprecd_bin, tmp_path_factory, tones):
    work = tmp_path_factory.mktemp("api-errors")
    rcv = CallbackReceiver(SECRET).start()
    archive = work / "archive"
    config = config_yaml(
        domain_yaml("default", rcv, destinations={"archive": {"type": "file", "path": str(archive)}},
                    extra=f"    api:\n      keys: [{KEY_A}]\n      jwt_hs256_secret: {JWT_SECRET}"),
        domain_yaml("other", rcv, extra=f"    match:\n      hosts: [other.example]\n"
                                        f"    api:\n      keys: [{KEY_B}]"))
    srv = Siprecd(siprecd_bin, work / "siprecd", config=config)
    problems: list[str] = []
    try:
        srv.start()
        cp = ControlPlane(srv, rcv, ApiClient(srv.http_port, api_key=KEY_A))
        calls = [cp.call(tones, work / f"sipp{i}", seconds=1.2, name=f"call{i}") for i in (1, 2)]
        for c in calls:
            assert c.wait() == 0, f"{c.diagnostics()}\n{cp.diag()}"
        rids, replies = [], []
        for c in calls:
            rid = rcv.wait_recording_id(c.call_id, diag=cp.diag)
            ready = rcv.wait_event("RECORDINGREADY", rid, timeout=15, diag=cp.diag)
            rids.append(rid)
            replies.append(ready["replyId"])
        yield Env(cp, rids[0], rids[1], replies[0], replies[1], archive)
    finally:
        problems = srv.stop(timeout=15)
        rcv.stop()
    if problems:
        pytest.fail("siprecd shutdown check failed:\n" + "\n".join(problems), pytrace=False)


def expect_error(resp, status: int, *names: str) -> None:
    assert resp.status == status, f"expected {status}: {resp}"
    msg = resp.error_message
    for name in names:
        assert name.lower() in msg.lower(), f"error message does not name {name!r}: {msg!r} ({resp})"


# --- 409 while the call is live ------------------------------------------------------------


def test_store_or_delete_while_recording_is_409(env, tones, tmp_path):
    cp = env.cp
    call = cp.call(tones, tmp_path / "sipp", seconds=1.5)
    try:
        rid = cp.receiver.wait_recording_id(call.call_id, diag=cp.diag)
        reply = cp.receiver.wait_event("RECORDINGSTARTED", rid, diag=cp.diag)["replyId"]
        store = env.api.store(rid, reply, destination="archive")
        delete = env.api.delete(rid, reply)
    finally:
        assert call.wait() == 0, call.diagnostics()
    expect_error(store, 409)
    expect_error(delete, 409)
    cp.receiver.wait_event("RECORDINGREADY", rid, timeout=15, diag=cp.diag)


# --- 400 ----------------------------------------------------------------------------------

BAD_FIELDS = {
    "trim_from_after_to": ({"modificationParams": {"trim": {"from": 2000, "to": 1000}}}, ["trim"]),
    "trim_negative": ({"modificationParams": {"trim": {"from": -100, "to": 500}}}, ["trim"]),
    "trim_not_an_object": ({"modificationParams": {"trim": [1, 2]}}, ["trim"]),
    "mask_unknown_type": ({"modificationParams": {"mask": {"from": 0, "to": 100, "type": "boom"}}},
                          ["mask"]),
    "mask_list_item_from_after_to": (
        {"modificationParams": {"mask": [{"from": 0, "to": 100, "type": "beep"},
                                         {"from": 300, "to": 200, "type": "silence"}]}}, ["mask"]),
    "absolute_times_not_bool": ({"modificationParams": {"absoluteTimes": "yes"}}, ["absoluteTimes"]),
    "unknown_format": ({"format": "aiff"}, ["format"]),
    "unknown_layout": ({"layout": "quad"}, ["layout"]),
    "unknown_destination": ({"destination": "nowhere"}, ["destination"]),
    "key_leaving_the_destination": ({"destination": "archive", "key": "../../outside.wav"}, ["key"]),
}


@pytest.mark.parametrize("case", list(BAD_FIELDS))
def test_bad_store_field_is_400_naming_it(env, case):
    fields, names = BAD_FIELDS[case]
    r = env.api.store(env.r1, env.reply1, **fields)
    expect_error(r, 400, *names)
    assert env.api.state(env.r1) == "ready", "a refused STORE changed the recording's state"


def test_bad_envelopes_are_400(env):
    api = env.api
    path = "/callrecording/default/storerecording"
    auth = api.auth()
    expect_error(api.request("POST", path, b"{not json", auth), 400)
    expect_error(api.request("POST", path, b"[1, 2]", auth), 400)
    no_id = api.command("STORERECORDING", None, env.reply1)
    expect_error(no_id, 400, "recordingId")
    mismatch = api.command("STORERECORDING", None, envelope={
        "method": "DELETERECORDING", "recordingId": env.r1, "replyId": env.reply1})
    expect_error(mismatch, 400, "method")
    assert api.state(env.r1) == "ready"


# --- 401 / 403 ------------------------------------------------------------------------------


def test_missing_or_wrong_api_key_is_401(env):
    api = env.api
    missing = api.recording(env.r1, api_key=None)
    expect_error(missing, 401)
    assert missing.headers.get("www-authenticate", "").startswith("Bearer"), missing.headers
    expect_error(api.get(api.recordings_path(), api_key="wrong-key"), 401)
    expect_error(api.store(env.r1, env.reply1, api_key=None), 401)
    expect_error(api.delete(env.r1, env.reply1, api_key="wrong-key"), 401)
    assert api.state(env.r1) == "ready"


def test_api_key_of_another_domain_is_403(env):
    """KEY_B is a valid credential, of domain `other`: on `default` it is authenticated but
    not authorised (docs/openapi.yaml: "a valid token for another domain: 403"), unlike an
    unknown key (401)."""
    api = env.api
    expect_error(api.recording(env.r1, api_key=KEY_B), 403)
    expect_error(api.delete(env.r1, env.reply1, api_key=KEY_B), 403)
    assert api.state(env.r1) == "ready"


def test_jwt_of_another_domain_is_403_and_other_paths_do_not_leak(env):
    """A JWT that verifies but names another domain is 403, an expired one 401; through
    the other domain's path, default's recording does not exist (404)."""
    api = env.api
    now = int(time.time())
    mine = jwt_hs256(JWT_SECRET, {"domain": "default", "sub": "it", "iat": now, "exp": now + 300})
    assert api.recording(env.r1, api_key=mine).status == 200, "a valid JWT of the domain refused"
    theirs = jwt_hs256(JWT_SECRET, {"domain": "other", "sub": "it", "iat": now, "exp": now + 300})
    expect_error(api.recording(env.r1, api_key=theirs), 403)
    expect_error(api.delete(env.r1, env.reply1, api_key=theirs), 403)
    expired = jwt_hs256(JWT_SECRET, {"domain": "default", "iat": now - 600, "exp": now - 300})
    expect_error(api.recording(env.r1, api_key=expired), 401)
    expect_error(api.recording(env.r1, domain="other", api_key=KEY_B), 404)
    cross = api.command("DELETERECORDING", env.r1, env.reply1, domain="other", api_key=KEY_B)
    assert cross.status in (403, 404), f"DELETE through another domain: {cross}"
    assert api.state(env.r1) == "ready"


def test_reply_id_of_another_recording_is_403(env):
    api = env.api
    expect_error(api.delete(env.r1, env.reply2), 403)
    head, payload, sig = env.reply1.split(".")
    forged = ".".join((head, payload, ("A" if sig[0] != "A" else "B") + sig[1:]))
    expect_error(api.delete(env.r1, forged), 403)
    assert api.state(env.r1) == "ready"


# --- 404 ------------------------------------------------------------------------------------


def test_unknown_recording_is_404(env):
    api = env.api
    ghost = "00000000-0000-4000-8000-000000000000"
    expect_error(api.recording(ghost), 404)
    expect_error(api.audio(ghost), 404)
    expect_error(api.metadata(ghost), 404)
    expect_error(api.store(ghost), 404)
    expect_error(api.delete(ghost), 404)
    unknown_command = api.request("POST", "/callrecording/default/frobrecording",
                                  json.dumps({"method": "FROBRECORDING", "recordingId": env.r1}).encode(),
                                  api.auth())
    assert unknown_command.status in (400, 404), str(unknown_command)


# --- 409 during a store ---------------------------------------------------------------------


def test_delete_or_second_store_during_store_is_409(env):
    """A STORE to an `http` destination whose PUT the receiver holds for 2.5 s keeps the
    recording `storing` long enough for a DELETE and a second STORE to meet it."""
    api, rcv = env.api, env.cp.receiver
    rcv.upload_delay_s = 2.5
    try:
        first = api.store(env.r2, env.reply2, destination="http", url=rcv.upload_url("r2.wav"))
        assert first.status == 200, f"STORE to an http destination refused: {first}"
        delete = api.delete(env.r2, env.reply2)
        second = api.store(env.r2, env.reply2, destination="archive")
        expect_error(delete, 409)
        expect_error(second, 409)
        stored = rcv.wait_event("RECORDINGSTORED", env.r2, timeout=20, diag=env.cp.diag)
    finally:
        rcv.upload_delay_s = 0
    check_envelope(stored, "RECORDINGSTORED", env.r2)
    body = rcv.uploads.get("r2.wav", b"")
    assert body[:4] == b"RIFF" and stored.get("size") == len(body), \
        f"PUT body of {len(body)} bytes, RECORDINGSTORED {stored}"


# --- 413 / 429 ------------------------------------------------------------------------------


def test_body_over_one_mebibyte_is_413(env):
    status, raw = raw_post("127.0.0.1", env.cp.srv.http_port, "/callrecording/default/storerecording",
                           (1 << 20) + 4096, {"Authorization": f"Bearer {KEY_A}"})
    assert status == 413, f"1 MiB + 4 KiB body answered {status}: {raw[:300]!r}"
    assert env.api.state(env.r1) == "ready"  # still serving


def test_rate_limit_is_429(siprecd):
    """The per-client token bucket (http.rate_limit_burst / rate_limit_per_s): a burst over
    it gets 429 with Retry-After, and after that many seconds a request passes again. A
    separate siprecd with a small bucket, so the module's instance is not disturbed."""
    srv = siprecd(config="http:\n  rate_limit_burst: 5\n  rate_limit_per_s: 1\n")
    api = ApiClient(srv.http_port)
    statuses = [api.list().status for _ in range(8)]
    assert statuses[:5] == [200] * 5 and 429 in statuses[5:], f"statuses of a burst of 8: {statuses}"
    limited = api.list()
    assert limited.status == 429, str(limited)
    retry = limited.headers.get("retry-after", "")
    assert retry.isdigit() and 1 <= int(retry) <= 5, f"Retry-After {retry!r}"
    time.sleep(int(retry))
    assert api.list().status == 200, "still limited after Retry-After"
