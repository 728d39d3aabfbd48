"""A real `nats-server -js` for a test, and a minimal NATS client over a socket.

NatsServer starts /usr/sbin/nats-server on 127.0.0.1 (a port it picks itself, read back
from its ports file) with JetStream and its store under the test's directory.

NatsClient speaks the NATS client protocol (https://docs.nats.io/reference/reference-
protocols/nats-protocol): CONNECT with headers, SUB/UNSUB, PUB/HPUB, MSG/HMSG, PING/PONG.
JetStream needs nothing more: its API is request-reply on $JS.API.* subjects, a publish
into a stream is answered with a PubAck on the reply subject, and a push consumer
delivers the stored messages (with their headers) to a subject of our choosing.
Standard library only (the suite installs nothing with pip).
"""

from __future__ import annotations

import itertools
import json
import queue
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

NATS_SERVER = "/usr/sbin/nats-server"


def installed() -> bool:
    return Path(NATS_SERVER).is_file() or shutil.which("nats-server") is not None


class NatsServer:
    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.store = self.workdir / "store"
        self.log_path = self.workdir / "nats-server.log"
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> "NatsServer":
        binary = NATS_SERVER if Path(NATS_SERVER).is_file() else shutil.which("nats-server")
        port = str(self.port) if self.port else "-1"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [binary, "-js", "-a", "127.0.0.1", "-p", port, "-sd", str(self.store),
             "--ports_file_dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        ports = self.workdir / f"nats-server_{self.proc.pid}.ports"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ports.exists():
                m = re.search(r"nats://127\.0\.0\.1:(\d+)", ports.read_text())
                if m:
                    self.port = int(m.group(1))
                    return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"nats-server did not start:\n{self.log_text()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class NatsMessage:
    subject: str
    reply: str
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)
    status: str = ""  # "503" etc. from a status line "NATS/1.0 503"

    def json(self):
        return json.loads(self.data)


def _encode_headers(headers: dict[str, str]) -> bytes:
    text = "NATS/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return text.encode()


def _decode_headers(block: bytes) -> tuple[str, dict[str, str]]:
    lines = block.decode(errors="replace").split("\r\n")
    status = lines[0][len("NATS/1.0"):].strip().split(" ")[0] if lines else ""
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip()] = value.strip()
    return status, headers


class NatsClient:
    """One connection; a reader thread files each message under its subscription."""

    def __init__(self, url: str, timeout: float = 5.0):
        host, port = url.removeprefix("nats://").rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.settimeout(None)
        self.file = self.sock.makefile("rb")
        self.lock = threading.Lock()
        self.sids = itertools.count(1)
        self.queues: dict[str, queue.Queue] = {}
        self.pongs: queue.Queue = queue.Queue()
        self.errors: list[str] = []
        info = self.file.readline()
        if not info.startswith(b"INFO "):
            raise AssertionError(f"not a NATS server: {info[:100]!r}")
        connect = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True,
                   "protocol": 1, "name": "siprecd-integration-test", "lang": "python",
                   "version": "0"}
        self._send(f"CONNECT {json.dumps(connect)}\r\nPING\r\n".encode())
        line = self.file.readline()
        if not line.startswith(b"PONG"):
            raise AssertionError(f"CONNECT refused: {line!r}")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    # --- protocol -------------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)

    def _read(self) -> None:
        try:
            while True:
                line = self.file.readline()
                if not line:
                    return
                op = line.split(b" ", 1)[0].strip().upper()
                if op == b"PING":
                    self._send(b"PONG\r\n")
                elif op == b"PONG":
                    self.pongs.put(True)
                elif op in (b"MSG", b"HMSG"):
                    parts = line.decode().split()
                    if op == b"MSG":
                        subject, sid = parts[1], parts[2]
                        reply = parts[3] if len(parts) == 5 else ""
                        hlen, total = 0, int(parts[-1])
                    else:
                        subject, sid = parts[1], parts[2]
                        reply = parts[3] if len(parts) == 6 else ""
                        hlen, total = int(parts[-2]), int(parts[-1])
                    payload = self.file.read(total + 2)[:total]
                    status, headers = _decode_headers(payload[:hlen]) if hlen else ("", {})
                    q = self.queues.get(sid)
                    if q is not None:
                        q.put(NatsMessage(subject, reply, payload[hlen:], headers, status))
                elif op == b"-ERR":
                    self.errors.append(line.decode(errors="replace").strip())
        except (OSError, ValueError):
            return

    def flush(self, timeout: float = 5.0) -> None:
        self._send(b"PING\r\n")
        self.pongs.get(timeout=timeout)

    def subscribe(self, subject: str) -> "Subscription":
        sid = str(next(self.sids))
        self.queues[sid] = queue.Queue()
        self._send(f"SUB {subject} {sid}\r\n".encode())
        self.flush()
        return Subscription(self, sid, subject)

    def publish(self, subject: str, data: bytes = b"", *, reply: str = "",
                headers: dict[str, str] | None = None) -> None:
        rep = f" {reply}" if reply else ""
        if headers:
            hdr = _encode_headers(headers)
            self._send(f"HPUB {subject}{rep} {len(hdr)} {len(hdr) + len(data)}\r\n".encode()
                       + hdr + data + b"\r\n")
        else:
            self._send(f"PUB {subject}{rep} {len(data)}\r\n".encode() + data + b"\r\n")

    def request(self, subject: str, data: bytes = b"", *, headers: dict[str, str] | None = None,
                timeout: float = 5.0) -> NatsMessage:
        inbox = self.subscribe(f"_INBOX.test.{next(self.sids)}.{time.monotonic_ns()}")
        try:
            self.publish(subject, data, reply=inbox.subject, headers=headers)
            msg = inbox.next(timeout)
            if msg is None:
                raise AssertionError(f"no reply to {subject} within {timeout} s")
            if msg.status == "503":
                raise AssertionError(f"no responders for {subject}")
            return msg
        finally:
            inbox.unsubscribe()

    # --- JetStream --------------------------------------------------------------------
    def js_api(self, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else b""
        return self.request(f"$JS.API.{path}", data).json()

    def stream_info(self, stream: str) -> dict | None:
        info = self.js_api(f"STREAM.INFO.{stream}")
        return None if "error" in info else info

    def wait_stream(self, stream: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            info = self.stream_info(stream)
            if info:
                return info
            if time.monotonic() > deadline:
                raise AssertionError(f"JetStream stream {stream} not created within {timeout} s")
            time.sleep(0.1)

    def js_publish(self, subject: str, data: bytes, headers: dict[str, str] | None = None) -> dict:
        """Publishes into a stream; returns the PubAck ({"stream", "seq", ...}). A stream just
        created may not listen on its subjects yet: "no responders" is retried for 5 s."""
        deadline = time.monotonic() + 5
        while True:
            try:
                ack = self.request(subject, data, headers=headers).json()
                break
            except AssertionError as e:
                if "no responders" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        if "error" in ack:
            raise AssertionError(f"JetStream refused the publish on {subject}: {ack}")
        return ack

    def js_watch(self, stream: str, filter_subject: str) -> "Subscription":
        """An ephemeral push consumer delivering the stream's messages on `filter_subject`
        from its start (stored headers kept)."""
        sub = self.subscribe(f"_INBOX.watch.{next(self.sids)}.{time.monotonic_ns()}")
        created = self.js_api(f"CONSUMER.CREATE.{stream}", {
            "stream_name": stream,
            "config": {"deliver_subject": sub.subject, "deliver_policy": "all",
                       "ack_policy": "none", "filter_subject": filter_subject,
                       "inactive_threshold": 60_000_000_000}})
        if "error" in created:
            raise AssertionError(f"cannot watch {stream}: {created}")
        return sub


class Subscription:
    def __init__(self, client: NatsClient, sid: str, subject: str):
        self.client = client
        self.sid = sid
        self.subject = subject

    def next(self, timeout: float = 5.0) -> NatsMessage | None:
        try:
            return self.client.queues[self.sid].get(timeout=timeout)
        except queue.Empty:
            return None

    def unsubscribe(self) -> None:
        self.client._send(f"UNSUB {self.sid}\r\n".encode())
        self.client.queues.pop(self.sid, None)
