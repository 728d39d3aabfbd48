#!/usr/bin/env python3
"""make bench, part 4: the control plane's throughput (a report, not a pass/fail test).

1. Callback delivery: siprecd records BENCH_CONTROL_CALLS calls set up by SIPp (no RTP)
   with a newCall callback and events going to a local receiver (Python's threading HTTP
   server, which answers every request with 200); the report gives how fast the outbox
   delivered RECORDINGSTARTED + RECORDINGREADY (events/s from the first to the last) and
   how long the last event took after the last call ended.
2. REST API: `wrk` against two read endpoints (the recordings list, one recording) for
   BENCH_WRK_SECONDS each, 2 threads, 16 connections.

Usage: bench/control_bench.py BUILD_DIR
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CALLS = int(os.environ.get("BENCH_CONTROL_CALLS", "5000"))
RATE = int(os.environ.get("BENCH_CONTROL_RATE", "500"))
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "10"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """Counts events by name with their arrival times; answers newCall with recordCall."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: dict[str, list[float]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                name = self.path.rsplit("/", 1)[-1]
                with receiver.lock:
                    receiver.arrivals.setdefault(name, []).append(time.monotonic())
                body = b'{"recordCall": true}' if name == "newCall" else b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default 5 drops connections under a burst

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, name: str) -> int:
        with self.lock:
            return len(self.arrivals.get(name, []))

    def times(self, names: list[str]) -> list[float]:
        with self.lock:
            return sorted(t for n in names for t in self.arrivals.get(n, []))


def wait_ready(http_port: int) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{http_port}/readyz", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("siprecd did not become ready")


def wrk(url: str) -> str:
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{WRK_SECONDS}s", url],
                         capture_output=True, text=True, check=False).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    latency = re.search(r"Latency\s+(\S+)", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return (f"{float(rps.group(1)):.0f} requests/s, mean latency {latency.group(1)}"
            f"{', non-2xx: ' + errors.group(1) if errors else ''}") if rps else "wrk failed"


def main() -> int:
    build = Path(sys.argv[1] if len(sys.argv) > 1 else "build")
    binary = REPO / build / "siprecd"
    if not shutil.which("wrk") or not shutil.which("sipp"):
        print("control plane bench skipped: wrk and sipp are needed (scripts/setup)")
        return 0
    receiver = Receiver()
    work = Path(tempfile.mkdtemp(prefix="siprecd-control-bench-"))
    sip_port, http_port = free_port(), free_port()
    config = work / "siprecd.yaml"
    config.write_text(
        "http: {rate_limit_per_s: 0}\n"
        "domains:\n  - name: default\n"
        f"    callback_base: http://127.0.0.1:{receiver.port}/cb\n"
        "    callback_secret: bench-secret\n")
    proc = subprocess.Popen(
        [str(binary), "--config", str(config), "--sip-listen", f"udp:127.0.0.1:{sip_port}",
         "--http-listen", f"127.0.0.1:{http_port}", "--data-dir", str(work / "data"),
         "--rtp-ports", "10000-59999", "--media-ip", "127.0.0.1", "--log-level", "warn"],
        stderr=open(work / "siprecd.log", "wb"))
    try:
        wait_ready(http_port)
        print(f"== Control plane: {CALLS} calls at {RATE}/s with newCall + events to a local "
              "receiver ==")
        subprocess.run(["sipp", "-sf", str(REPO / "bench/sipp/call_setup.xml"), "-i", "127.0.0.1",
                        "-r", str(RATE), "-m", str(CALLS), "-l", "2000", "-nostdin",
                        "-timeout", "300", f"127.0.0.1:{sip_port}"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        calls_done = time.monotonic()
        deadline = calls_done + 300
        while time.monotonic() < deadline and receiver.count("recordingReady") < CALLS:
            time.sleep(0.2)
        events = receiver.times(["recordingStarted", "recordingReady"])
        print(f"newCall callbacks answered: {receiver.count('newCall')}")
        print(f"events delivered:           {len(events)} "
              f"(RECORDINGSTARTED {receiver.count('recordingStarted')}, "
              f"RECORDINGREADY {receiver.count('recordingReady')})")
        if len(events) > 1:
            span = events[-1] - events[0]
            print(f"delivery rate:              {len(events) / span:.0f} events/s over {span:.1f} s")
            print(f"last event after last call: {max(0.0, events[-1] - calls_done):.2f} s")
        pending = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics").read().decode()
        match = re.search(r"^siprecd_events_pending (\S+)", pending, re.M)
        print(f"events still pending:       {match.group(1) if match else '?'}")

        listing = json.load(urllib.request.urlopen(
            f"http://127.0.0.1:{http_port}/callrecording/default/recordings?limit=1"))
        print(f"== REST API read throughput (wrk, 2 threads, 16 connections, {WRK_SECONDS} s) ==")
        base = f"http://127.0.0.1:{http_port}/callrecording/default/recordings"
        print(f"list (limit 50):            {wrk(base + '?limit=50')}")
        if listing.get("items"):
            one = listing["items"][0]["recordingId"]
            print(f"one recording:              {wrk(base + '/' + one)}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
