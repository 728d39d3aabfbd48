"""Helpers for bench/storage_bench.py (make bench part 5), beside control_bench.py's
free_port() and wait_ready(), which they reuse:

* EventReceiver: a local callback receiver (control_bench.Receiver's approach) that keeps
  every event's JSON body with its arrival time, so a bench can follow one recording;
* BenchSiprecd: siprecd started with a YAML configuration on free loopback ports;
* summary(): min / median / p95 / max of a list of durations.
"""
from __future__ import annotations

import json
import math
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from control_bench import free_port, wait_ready


@dataclass
class Event:
    name: str      # the callback path's last segment: recordingStored, ...
    wall: float    # time.time() at arrival
    body: dict


class EventReceiver:
    """Answers every POST with 200 (newCall with recordCall: true) and keeps the events."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[Event] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                arrived = time.time()
                try:
                    body = json.loads(data or b"{}")
                except ValueError:
                    body = {}
                name = self.path.rsplit("/", 1)[-1]
                with receiver.lock:
                    receiver.events.append(Event(name, arrived, body))
                reply = b'{"recordCall": true}' if name == "newCall" else b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default 5 drops connections under a burst

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/cb"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, predicate, timeout: float) -> Event | None:
        """The first event for which `predicate(event)` holds, waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = next((e for e in self.events if predicate(e)), None)
            if found is not None:
                return found
            time.sleep(0.005)
        return None

    def recording_of_call(self, call_id: str) -> str | None:
        with self.lock:
            for e in self.events:
                if e.body.get("callId") == call_id and e.body.get("recordingId"):
                    return e.body["recordingId"]
        return None

    def stop(self) -> None:
        self.server.shutdown()


class BenchSiprecd:
    """siprecd with `config` (YAML text) on free loopback ports, its log in `work`."""

    def __init__(self, binary: Path, work: Path, config: str, log_level: str = "warn") -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.sip_port, self.http_port = free_port(), free_port()
        self.data_dir = work / "data"
        self.log = work / "siprecd.log"
        (work / "siprecd.yaml").write_text(config)
        self.proc = subprocess.Popen(
            [str(binary), "--config", str(work / "siprecd.yaml"),
             "--sip-listen", f"udp:127.0.0.1:{self.sip_port}",
             "--http-listen", f"127.0.0.1:{self.http_port}", "--data-dir", str(self.data_dir),
             "--rtp-ports", "20000-29999", "--media-ip", "127.0.0.1", "--log-level", log_level],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"))
        try:
            wait_ready(self.http_port)
        except SystemExit:
            self.stop()
            raise SystemExit(f"siprecd did not become ready:\n{self.log_tail()}")

    def command(self, domain: str, method: str, **fields) -> dict:
        """POSTs a command envelope; returns the JSON reply (errors included)."""
        body = json.dumps({"method": method, **fields}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}/callrecording/{domain}/{method.lower()}",
            data=body, headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return json.loads(reply.read() or b"{}")
        except urllib.error.HTTPError as error:
            return json.loads(error.read() or b"{}") | {"status": error.code}

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def summary(values: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    """"min .. / median .. / p95 .. / max .." of `values` (seconds, printed times `scale`)."""
    if not values:
        return "no sample"
    ordered = sorted(values)
    p95 = ordered[math.ceil(0.95 * len(ordered)) - 1]  # nearest rank
    return (f"min {ordered[0] * scale:.0f} / median {statistics.median(ordered) * scale:.0f} / "
            f"p95 {p95 * scale:.0f} / max {ordered[-1] * scale:.0f} {unit}")
