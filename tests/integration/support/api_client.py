"""A client of siprecd's REST API (DESIGN.md §2 "Commands", read side; docs/openapi.yaml).

Commands: POST /callrecording/{domain}/{method lower-cased} with the JSON envelope
{"method", "recordingId", "replyId", ...fields}. Read side: GET
/callrecording/{domain}/recordings[...]. Credentials, when given, travel as
`Authorization: Bearer <key>`.

Every answer is checked against the error contract as it arrives: siprecd must never
answer 5xx to a request, and an error status must carry {"success": false, "error":
{"code", "message"}}; a breach raises AssertionError at once, naming the request.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlencode

API_KEY_HEADER = "Authorization"


def api_key_headers(key: str | None) -> dict[str, str]:
    return {API_KEY_HEADER: f"Bearer {key}"} if key else {}


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    request: str  # "POST /callrecording/... {body excerpt}", for messages

    @property
    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def error_message(self) -> str:
        doc = self.json
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            return str(doc["error"].get("message", ""))
        return ""

    def __str__(self) -> str:
        return f"{self.request} -> HTTP {self.status} {self.body[:600]!r}"


def check_reply_contract(resp: ApiResponse) -> None:
    """No 5xx ever; 4xx carry the error envelope with code == status and a message."""
    assert resp.status < 500, f"server error: {resp}"
    if resp.status >= 400:
        doc = resp.json
        assert isinstance(doc, dict) and doc.get("success") is False and \
            isinstance(doc.get("error"), dict), f"error reply without the error envelope: {resp}"
        err = doc["error"]
        assert err.get("code") not in (None, ""), f"error.code missing: {resp}"
        assert err.get("message"), f"error.message empty: {resp}"


class ApiClient:
    def __init__(self, port: int, domain: str = "default", api_key: str | None = None,
                 host: str = "127.0.0.1", timeout: float = 10.0):
        self.host, self.port = host, port
        self.domain = domain
        self.api_key = api_key
        self.timeout = timeout
        self.log: list[ApiResponse] = []

    # --- transport ----------------------------------------------------------------------
    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, check: bool = True) -> ApiResponse:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            resp = ApiResponse(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read(),
                               f"{method} {path} {(body or b'')[:300]!r}")
        finally:
            conn.close()
        self.log.append(resp)
        if check:
            check_reply_contract(resp)
        return resp

    def auth(self, api_key: str | None | bool = True) -> dict[str, str]:
        """Headers for `api_key`: True = the client's key, None/False = none, str = that key."""
        if api_key is True:
            return api_key_headers(self.api_key)
        return api_key_headers(api_key or None)

    # --- commands -----------------------------------------------------------------------
    def command(self, method: str, recording_id: str | None, reply_id: str | None = None, *,
                domain: str | None = None, api_key: str | None | bool = True,
                idempotency_key: str | None = None, envelope: dict | None = None,
                **fields) -> ApiResponse:
        """POST /callrecording/{domain}/{method lower-cased} with the envelope (or exactly
        `envelope` when given)."""
        body = envelope if envelope is not None else {"method": method.upper()}
        if envelope is None:
            if recording_id is not None:
                body["recordingId"] = recording_id
            if reply_id is not None:
                body["replyId"] = reply_id
            body.update(fields)
        headers = self.auth(api_key)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return self.request("POST", f"/callrecording/{domain or self.domain}/{method.lower()}",
                            json.dumps(body).encode(), headers)

    def store(self, recording_id: str, reply_id: str | None = None, **fields) -> ApiResponse:
        return self.command("STORERECORDING", recording_id, reply_id, **fields)

    def delete(self, recording_id: str, reply_id: str | None = None, **fields) -> ApiResponse:
        return self.command("DELETERECORDING", recording_id, reply_id, **fields)

    # --- read side ----------------------------------------------------------------------
    def get(self, path: str, *, api_key: str | None | bool = True,
            headers: dict[str, str] | None = None, check: bool = True) -> ApiResponse:
        hdrs = self.auth(api_key)
        hdrs.update(headers or {})
        return self.request("GET", path, None, hdrs, check)

    def recordings_path(self, domain: str | None = None) -> str:
        return f"/callrecording/{domain or self.domain}/recordings"

    def list(self, *, domain: str | None = None, **query) -> ApiResponse:
        q = urlencode({k: v for k, v in query.items() if v is not None})
        return self.get(self.recordings_path(domain) + (f"?{q}" if q else ""))

    def recording(self, recording_id: str, *, domain: str | None = None, **kw) -> ApiResponse:
        return self.get(f"{self.recordings_path(domain)}/{recording_id}", **kw)

    def audio(self, recording_id: str, byte_range: str | None = None, **kw) -> ApiResponse:
        headers = {"Range": byte_range} if byte_range else None
        return self.get(f"{self.recordings_path()}/{recording_id}/audio", headers=headers, **kw)

    def metadata(self, recording_id: str, **kw) -> ApiResponse:
        return self.get(f"{self.recordings_path()}/{recording_id}/metadata", **kw)

    def state(self, recording_id: str) -> str | None:
        """The recording's state per GET .../recordings/{id}; None when 404."""
        r = self.recording(recording_id)
        if r.status == 404:
            return None
        assert r.status == 200, str(r)
        doc = r.json or {}
        return doc.get("state") or (doc.get("recording") or {}).get("state")

    def wait_state(self, recording_id: str, states: set[str | None], timeout: float = 10.0) -> str | None:
        deadline = time.monotonic() + timeout
        while True:
            s = self.state(recording_id)
            if s in states or time.monotonic() > deadline:
                return s
            time.sleep(0.1)


def raw_post(host: str, port: int, path: str, body_size: int, headers: dict[str, str] | None = None,
             timeout: float = 10.0) -> tuple[int | None, bytes]:
    """POSTs `body_size` bytes of JSON-ish filler over a plain socket, tolerating the server
    closing the connection early (as it may for a body over its limit). Returns (status,
    raw response) or (None, b"") when the connection was closed without an answer."""
    head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
            f"Content-Length: {body_size}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    sock = socket.create_connection((host, port), timeout=timeout)
    data = b""
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        chunk = b"{\"method\":\"STORERECORDING\",\"pad\":\"" + b"x" * 65536
        sent = 0
        # Read while sending: a server refusing the body answers early and closes, and a
        # reset would discard an answer not read yet.
        try:
            while sent < body_size:
                piece = chunk[: body_size - sent]
                sock.sendall(piece)
                sent += len(piece)
                while select.select([sock], [], [], 0)[0]:
                    part = sock.recv(65536)
                    if not part:
                        raise ConnectionResetError
                    data += part
        except OSError:
            pass  # closed by the server after its answer
        try:
            while True:
                part = sock.recv(65536)
                if not part:
                    break
                data += part
        except OSError:
            pass
    finally:
        sock.close()
    if not data.startswith(b"HTTP/"):
        return None, data
    return int(data.split(b" ", 2)[1]), data
