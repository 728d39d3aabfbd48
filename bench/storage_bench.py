#!/usr/bin/env python3
"""make bench, part 5: storage (a report, not a pass/fail test).

1. S3 upload throughput of a one-hour stereo WAV. A real call (Python UAC of the integration
   suite, 1 s of RTP on two streams) leaves a ready recording; bench/storage_spools then
   rewrites its spools, keeping the headers the engine wrote, with BENCH_STORAGE_MINUTES (60)
   of 20 ms G.711 packets, and the session document's byeTime is moved to match. From there
   STORERECORDING (wav, stereo) takes siprecd's own path (REST command, worker pool, render,
   S3 destination, RECORDINGSTORED callback) to npm fauxqs@1.9.2 on loopback, through the
   SigV4-verifying proxy of the integration tests (tests/integration/support/s3_server.py)
   and directly, BENCH_STORAGE_REPEAT (2) times each, as a multipart upload (the defaults:
   above 16 MiB, 8 MiB parts, 4 in flight). fauxqs refuses request bodies over 11 MiB, so
   single PUT vs multipart is compared on a second recording of BENCH_STORAGE_SINGLE_MINUTES
   (5): default threshold (one PUT) vs threshold and parts at 5 MiB. Each store splits, from
   siprecd's debug log and the temporary WAV's mtime, into render (command -> WAV written) and
   upload (WAV written -> the audio object's last S3 answer: SHA-256 of the file + requests);
   MB/s is the object size over the upload. A store to a file destination (render + copy +
   fsync) is the reference.
2. BYE -> RECORDINGSTORED with an auto-store policy: BENCH_STORAGE_CALLS (20) calls per
   destination of BENCH_STORAGE_CALL_SECONDS (10) with RTP on both streams, one starting every
   BENCH_STORAGE_CALL_GAP (0.5) s, alternating between a domain auto-storing to S3 (through
   the proxy) and one auto-storing to a file destination; the time from the BYE's 200 at the
   UAC to the RECORDINGSTORED callback's arrival at the local receiver.

Usage: bench/storage_bench.py BUILD_DIR (needs node/npm for fauxqs; skipped without them)
"""
from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench_common import BenchSiprecd, EventReceiver, summary

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

MINUTES = float(os.environ.get("BENCH_STORAGE_MINUTES", "60"))
SINGLE_MINUTES = float(os.environ.get("BENCH_STORAGE_SINGLE_MINUTES", "5"))
REPEAT = int(os.environ.get("BENCH_STORAGE_REPEAT", "2"))
CALLS = int(os.environ.get("BENCH_STORAGE_CALLS", "20"))
CALL_SECONDS = float(os.environ.get("BENCH_STORAGE_CALL_SECONDS", "10"))
CALL_GAP = float(os.environ.get("BENCH_STORAGE_CALL_GAP", "0.5"))
BUCKET = "siprecd-bench"
MIB = 1 << 20
PART_BYTES = 8 * MIB      # S3 destination defaults (src/storage/s3_destination.hpp)
THRESHOLD_BYTES = 16 * MIB
PARALLEL_PARTS = 4
BUSY_AFTER_STORED: list[float] = []  # how long STORERECORDING got 409 after RECORDINGSTORED
# 20 ms of a 400 Hz square wave in mu-law, so the streams carry sound, not silence.
TONE_20MS = (b"\x9f" * 10 + b"\x1f" * 10) * 8


def s3_yaml(endpoint: str, key_id: str, secret: str, multipart_mib: int = 0) -> dict:
    """An s3 destination's options (path style, keys in the config)."""
    dest = {"type": "s3", "bucket": BUCKET, "region": "us-east-1", "endpoint": endpoint,
            "path_style": True, "access_key_id": key_id, "secret_access_key": secret,
            "key_template": "bench/{recordingId}.{ext}"}
    if multipart_mib:
        dest["multipart_threshold_bytes"] = multipart_mib * MIB
        dest["part_size_bytes"] = multipart_mib * MIB
    return dest


def yaml_scalar(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int) else json.dumps(value)


def domain_yaml(name: str, receiver: EventReceiver, destinations: dict[str, dict],
                host: str | None = None, auto_store: str | None = None) -> str:
    lines = [f"  - name: {name}", f"    callback_base: {receiver.base_url}",
             "    callback_secret: bench-secret"]
    if host:
        lines.append(f"    match: {{hosts: [{host}]}}")
    lines.append("    destinations:")
    for dest, options in destinations.items():
        lines.append(f"      {dest}:")
        lines += [f"        {k}: {yaml_scalar(v)}" for k, v in options.items()]
    if auto_store:
        lines.append(f"    auto_store: {{destination: {auto_store}, format: wav, layout: stereo}}")
    return "\n".join(lines) + "\n"


def config_yaml(*domains: str) -> str:
    return "http: {rate_limit_per_s: 0}\ndomains:\n" + "".join(domains)


def one_call(sip_port: int, host: str, seconds: float) -> tuple[str, float | None, str]:
    """A SIPREC call with RTP on both streams: (Call-ID, time.time() of the BYE's 200 or None,
    what went wrong)."""
    from support.calls import PyCall
    from support.sipclient import SipUac, Transport

    ua = SipUac(Transport("udp", "127.0.0.1", sip_port))
    try:
        call = PyCall(ua, f"sip:record@{host}", [TONE_20MS * int(seconds * 50)] * 2)
        answer = call.setup()
        if answer is None or answer.status != 200:
            return call.call_id, None, f"INVITE answered {answer.status if answer else 'nothing'}"
        call.send_audio(seconds)
        final = call.hangup()
        if final is None or final.status != 200:
            return call.call_id, None, f"BYE answered {final.status if final else 'nothing'}"
        return call.call_id, time.time(), ""
    finally:
        ua.close()


def recording_of(receiver: EventReceiver, call_id: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rid := receiver.recording_of_call(call_id):
            return rid
        time.sleep(0.02)
    raise SystemExit(f"no event names the recording of call {call_id}")


def log_epoch(ts: str) -> float:
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


@dataclass
class StoreRun:
    label: str
    total_s: float
    render_s: float | None
    upload_s: float | None
    size: int
    parts: int
    error: str = ""


class WavWatcher:
    """Polls the session directory during a store for the temporary WAV's last mtime."""

    def __init__(self, session: Path) -> None:
        self.session = session
        self.mtime: float | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.done.is_set():
            for path in self.session.glob("store-*.wav"):
                try:
                    mtime = path.stat().st_mtime
                except OSError:
                    continue
                self.mtime = mtime if self.mtime is None else max(self.mtime, mtime)
            time.sleep(0.01)

    def stop(self) -> float | None:
        self.done.set()
        self.thread.join()
        return self.mtime


def s3_lines(srv: BenchSiprecd, since: float) -> list[tuple[float, str]]:
    """(epoch, msg) of the storage component's debug lines logged at or after `since`."""
    out = []
    for line in srv.log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("component") == "storage" and "ts" in entry:
            at = log_epoch(entry["ts"])
            if at >= since - 0.002:
                out.append((at, entry.get("msg", "")))
    return out


def timed_store(srv: BenchSiprecd, receiver: EventReceiver, rid: str, session: Path,
                destination: str, label: str) -> StoreRun:
    # The recording stays claimed until the previous store's state is written, a little after
    # its RECORDINGSTORED: a STORERECORDING sent meanwhile gets 409, so it is sent again.
    first_try = time.time()
    while True:
        watcher = WavWatcher(session)
        started = time.time()
        reply = srv.command("default", "STORERECORDING", recordingId=rid,
                            destination=destination, format="wav", layout="stereo")
        if reply.get("status") != 409 or started - first_try > 10:
            break
        watcher.stop()
        time.sleep(0.01)
    BUSY_AFTER_STORED.append(started - first_try)
    if not reply.get("success"):
        watcher.stop()
        return StoreRun(label, 0, None, None, 0, 0, f"STORERECORDING refused: {reply}")
    event = receiver.wait(lambda e: e.wall >= started and e.body.get("recordingId") == rid
                          and e.name in ("recordingStored", "recordingFailed"), timeout=600)
    written = watcher.stop()
    if event is None or event.name != "recordingStored":
        return StoreRun(label, 0, None, None, 0, 0,
                        f"no RECORDINGSTORED: {event.body if event else 'timeout'}")
    total = event.wall - started
    size = int(event.body.get("size", 0))
    lines = s3_lines(srv, started)
    audio = f"s3://{BUCKET}/bench/{rid}.wav: HTTP 2"
    finished = [at for at, msg in lines if audio in msg and
                (msg.startswith("PutObject") or msg.startswith("CompleteMultipartUpload"))]
    parts = sum(1 for _, msg in lines if audio in msg and msg.startswith("UploadPart"))
    render = written - started if written else None
    upload = finished[-1] - written if finished and written else None
    return StoreRun(label, total, render, upload, size, parts)


def long_recording(srv: BenchSiprecd, receiver: EventReceiver, spools_tool: Path,
                   minutes: float) -> tuple[str, Path, dict]:
    """A real call's ready recording whose spools then hold `minutes` of audio:
    (recording id, session directory, storage_spools' report)."""
    call_id, _, error = one_call(srv.sip_port, "127.0.0.1", 1.0)
    if error:
        raise SystemExit(f"the recording's call failed: {error}\n{srv.log_tail()}")
    rid = recording_of(receiver, call_id)
    if not receiver.wait(lambda e: e.name == "recordingReady"
                         and e.body.get("recordingId") == rid, timeout=30):
        raise SystemExit(f"no RECORDINGREADY for {rid}\n{srv.log_tail()}")
    session = srv.data_dir / "sessions" / rid
    document_path = session / "recording.json"
    document = json.loads(document_path.read_text())
    made = subprocess.run([str(spools_tool), "--session", str(session), "--start-ms",
                           str(document["answeredTime"]), "--minutes", str(minutes)],
                          capture_output=True, text=True, check=True)
    spools = json.loads(made.stdout)
    document["byeTime"] = spools["end_ms"]
    temporary = document_path.with_suffix(".json.bench")
    temporary.write_text(json.dumps(document))
    temporary.replace(document_path)
    return rid, session, spools


def print_runs(runs: list[StoreRun]) -> None:
    print(f"{'':46} {'STORE->STORED':>13} {'render':>8} {'upload':>8} {'upload MB/s':>12} "
          f"{'overall MB/s':>13}")
    for run in runs:
        if run.error:
            print(f"{run.label:46} failed: {run.error[:300]}")
            continue
        render = f"{run.render_s:.2f} s" if run.render_s is not None else "?"
        upload = f"{run.upload_s:.2f} s" if run.upload_s else "-"
        rate = f"{run.size / 1e6 / run.upload_s:.0f}" if run.upload_s else "-"
        label = run.label + (f" ({run.parts} parts)" if run.parts else "")
        print(f"{label:46} {run.total_s:>11.2f} s {render:>8} {upload:>8} {rate:>12} "
              f"{run.size / 1e6 / run.total_s:>13.0f}")


def upload_throughput(binary: Path, spools_tool: Path, work: Path) -> None:
    from support.s3_server import S3Peers

    peers = S3Peers(work / "s3")
    receiver = EventReceiver()
    srv = None
    try:
        peers.create_bucket(BUCKET)
        proxy, direct = peers.proxy.endpoint, f"http://127.0.0.1:{peers.fauxqs.port}"
        key, secret = peers.KEY_ID, peers.SECRET
        destinations = {
            "s3-proxy": s3_yaml(proxy, key, secret),
            "s3-direct": s3_yaml(direct, key, secret),
            "s3-proxy-5mib": s3_yaml(proxy, key, secret, multipart_mib=5),
            "s3-direct-5mib": s3_yaml(direct, key, secret, multipart_mib=5),
            "file": {"type": "file", "path": str(work / "stored"),
                     "key_template": "bench/{recordingId}.{ext}"},
        }
        srv = BenchSiprecd(binary, work / "upload",
                           config_yaml(domain_yaml("default", receiver, destinations)),
                           log_level="debug")
        rid, session, spools = long_recording(srv, receiver, spools_tool, MINUTES)
        runs = [timed_store(srv, receiver, rid, session, "file", "file (render + copy + fsync)")]
        for destination, label in (("s3-proxy", "multipart, via the verifying proxy"),
                                   ("s3-direct", "multipart, fauxqs directly")):
            for _ in range(REPEAT):
                runs.append(timed_store(srv, receiver, rid, session, destination, label))
        short_rid, short_session, _ = long_recording(srv, receiver, spools_tool, SINGLE_MINUTES)
        short_runs = []
        for destination, label in (("s3-proxy", "single PUT, via the verifying proxy"),
                                   ("s3-direct", "single PUT, fauxqs directly"),
                                   ("s3-proxy-5mib", "multipart, via the verifying proxy"),
                                   ("s3-direct-5mib", "multipart, fauxqs directly")):
            for _ in range(REPEAT):
                short_runs.append(timed_store(srv, receiver, short_rid, short_session,
                                              destination, label))

        size = next((r.size for r in runs if r.size), 0)
        print(f"== Storage: STORERECORDING of a {MINUTES:g}-minute stereo WAV to S3 "
              "(npm fauxqs@1.9.2 on loopback) ==")
        print(f"object: {size / 1e6:.1f} MB (WAV, 2 x 8 kHz 16-bit, rendered from "
              f"{spools['streams']} spools of {spools['spool_bytes'] / 1e6:.1f} MB); multipart "
              f"(above {THRESHOLD_BYTES // MIB} MiB) in {PART_BYTES // MIB} MiB parts, "
              f"{PARALLEL_PARTS} in flight")
        print_runs(runs)
        short_size = next((r.size for r in short_runs if r.size), 0)
        print(f"single PUT vs multipart: fauxqs refuses request bodies over 11 MiB, so a single "
              f"PUT is timed on a {SINGLE_MINUTES:g}-minute WAV ({short_size / 1e6:.1f} MB): "
              f"default threshold (single PUT) vs threshold and parts at 5 MiB "
              f"({PARALLEL_PARTS} in flight)")
        print_runs(short_runs)
        print(f"a STORERECORDING sent on RECORDINGSTORED's arrival got 409 (store running) for "
              f"up to {max(BUSY_AFTER_STORED, default=0) * 1000:.0f} ms and was sent again")
        print("(render: command -> temporary WAV written; upload: WAV written -> the audio "
              "object's last S3 answer, SHA-256 of the file included; overall: size / "
              "STORE->STORED, which adds the .json/.xml documents and the event; MB = 10^6 bytes)")
    finally:
        if srv:
            srv.stop()
        receiver.stop()
        peers.stop()


def auto_store_latency(binary: Path, work: Path) -> None:
    from support.s3_server import S3Peers

    peers = S3Peers(work / "s3-auto")
    receiver = EventReceiver()
    srv = None
    try:
        peers.create_bucket(BUCKET)
        s3 = s3_yaml(peers.proxy.endpoint, peers.KEY_ID, peers.SECRET)
        archive = {"type": "file", "path": str(work / "auto-stored"),
                   "key_template": "auto/{recordingId}.{ext}"}
        srv = BenchSiprecd(binary, work / "auto", config_yaml(
            domain_yaml("s3-auto", receiver, {"s3": s3}, host="s3-auto.bench", auto_store="s3"),
            domain_yaml("file-auto", receiver, {"archive": archive}, host="file-auto.bench",
                        auto_store="archive"),
            domain_yaml("default", receiver, {"archive": archive})))
        results: list[tuple[str, str, float | None, str]] = []
        lock = threading.Lock()

        def run(host: str) -> None:
            outcome = one_call(srv.sip_port, host, CALL_SECONDS)
            with lock:
                results.append((host, *outcome))

        threads = []
        for i in range(2 * CALLS):
            host = "s3-auto.bench" if i % 2 == 0 else "file-auto.bench"
            threads.append(threading.Thread(target=run, args=(host,), daemon=True))
            threads[-1].start()
            time.sleep(CALL_GAP)
        for thread in threads:
            thread.join(CALL_SECONDS + 60)

        latencies: dict[str, list[float]] = {"s3-auto.bench": [], "file-auto.bench": []}
        problems: dict[str, list[str]] = {"s3-auto.bench": [], "file-auto.bench": []}
        emitted: dict[str, list[float]] = {"s3-auto.bench": [], "file-auto.bench": []}
        to_ready: dict[str, list[float]] = {"s3-auto.bench": [], "file-auto.bench": []}
        for host, call_id, bye_at, error in results:
            if error:
                problems[host].append(error)
                continue
            rid = recording_of(receiver, call_id)
            event = receiver.wait(lambda e: e.body.get("recordingId") == rid and e.name in
                                  ("recordingStored", "recordingFailed"), timeout=60)
            if event is None or event.name != "recordingStored":
                problems[host].append(f"{rid}: {event.body.get('reason') if event else 'timeout'}")
                continue
            latencies[host].append(event.wall - bye_at)
            if isinstance(event.body.get("timestamp"), int):
                emitted[host].append(event.body["timestamp"] / 1000 - bye_at)
            ready = receiver.wait(lambda e: e.body.get("recordingId") == rid
                                  and e.name == "recordingReady", timeout=1)
            if ready:
                to_ready[host].append(ready.wall - bye_at)
        print(f"== Storage: BYE -> RECORDINGSTORED with auto-store ({CALLS} calls per destination "
              f"of {CALL_SECONDS:.0f} s with RTP on 2 streams, one call every {CALL_GAP} s, "
              "alternating) ==")
        for host, label in (("s3-auto.bench", "s3 (via the verifying proxy)"),
                            ("file-auto.bench", "file")):
            line = f"{label:34} {summary(latencies[host])} ({len(latencies[host])} stored"
            if problems[host]:
                line += f", {len(problems[host])} failed: {problems[host][0][:200]}"
            print(line + ")")
            print(f"{'  BYE -> RECORDINGREADY arrival':34} {summary(to_ready[host])}")
            print(f"{'  BYE -> RECORDINGSTORED emitted':34} {summary(emitted[host])} "
                  "(the event's timestamp)")
        print("(from the BYE's 200 at the UAC to the callback's arrival: render of a "
              f"{CALL_SECONDS:.0f} s stereo WAV, upload of it and its .json/.xml, outbox delivery)")
    finally:
        if srv:
            srv.stop()
        receiver.stop()
        peers.stop()


def main() -> int:
    build = REPO / (sys.argv[1] if len(sys.argv) > 1 else "build")
    binary = build / "siprecd"
    spools_tool = build / "bench" / "storage_spools"
    if not shutil.which("node") or not shutil.which("npm"):
        print("storage bench skipped: node and npm are needed for fauxqs (scripts/setup)")
        return 0
    try:
        from support.s3_server import ensure_node_modules
        ensure_node_modules()
    except BaseException as skipped:  # pytest.skip() raises a BaseException subclass
        if type(skipped).__name__ != "Skipped":
            raise
        print(f"storage bench skipped: {skipped}")
        return 0
    work = Path(tempfile.mkdtemp(prefix="siprecd-storage-bench-"))
    try:
        upload_throughput(binary, spools_tool, work)
        print()
        auto_store_latency(binary, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
