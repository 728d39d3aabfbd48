#!/usr/bin/python3
"""A Python stand-in for the siprecd binary that implements the "Foundation" contract the
integration suite tests, crudely. It exists only to validate the suite itself
(tests/integration/README.md, "Validating the suite"):

    SIPRECD_BIN=tests/integration/tools/fake_siprecd.py /usr/bin/python3 -m pytest tests/integration

It is not a reference for the product: no real transaction layer, no timers beyond the
2xx retransmission, threads instead of an event loop, everything in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import sqlite3
import ssl
import struct
import sys
import threading
import time
import uuid
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from support import audio, sipmsg  # noqa: E402
from support.sipmsg import SipMessage, build_message  # noqa: E402

VERSION = "0.0.0-fake"
LEVELS = ["trace", "debug", "info", "warn", "error", "critical", "off"]
FLAGS = {"sip-listen": "SIPRECD_SIP_LISTEN", "http-listen": "SIPRECD_HTTP_LISTEN",
         "data-dir": "SIPRECD_DATA_DIR", "rtp-ports": "SIPRECD_RTP_PORTS",
         "media-ip": "SIPRECD_MEDIA_IP", "log-level": "SIPRECD_LOG_LEVEL"}
LOG_LEVEL = 1
LOCK = threading.RLock()


def log(level: str, msg: str, **kw) -> None:
    if LEVELS.index(level) >= LOG_LEVEL:
        rec = {"ts": time.time(), "level": level, "msg": msg, **kw}
        sys.stderr.write(json.dumps(rec) + "\n")
        sys.stderr.flush()


def parse_config(path: str) -> dict:
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ValueError(f"cannot read {path}: {e}")
    for k in doc:
        if k not in ("domains", "log_level"):
            raise ValueError(f"{k}: unknown key")
    for i, d in enumerate(doc.get("domains") or []):
        for k, v in d.items():
            if k not in ("name", "decision_delay_ms"):
                raise ValueError(f"domains[{i}].{k}: unknown key")
            if k == "decision_delay_ms" and not isinstance(v, int):
                raise ValueError(f"domains[{i}].decision_delay_ms: expected an integer")
    return doc


class Stream:
    def __init__(self, index: int, label: str, codec: str, pt: int, sock: socket.socket):
        self.index, self.label, self.codec, self.pt, self.sock = index, label, codec, pt, sock
        self.port = sock.getsockname()[1]
        self.packets: list[tuple[float, int, bytes]] = []  # arrival, timestamp, payload
        self.seen: set[int] = set()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        self.sock.settimeout(0.1)
        while True:
            try:
                data = self.sock.recv(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(data) < 12 or data[0] >> 6 != 2 or data[1] & 0x7F != self.pt:
                continue
            seq, ts = struct.unpack("!HI", data[2:8])
            if seq in self.seen:
                continue
            self.seen.add(seq)
            self.packets.append((time.time(), ts, data[12:]))


class Session:
    def __init__(self, invite: SipMessage, source: str):
        self.id = str(uuid.uuid4())
        self.call_id = invite.call_id
        self.invite = invite
        self.source = source
        self.to_tag = uuid.uuid4().hex[:10]
        self.streams: list[Stream] = []
        self.metadata_xml = ""
        self.start = time.time()
        self.acked = threading.Event()
        self.ended = False


class Fake:
    def __init__(self, args, cfg: dict):
        self.args = args
        self.media_ip = args.media_ip or "127.0.0.1"
        first, last = (int(x) for x in args.rtp_ports.split("-"))
        self.free_ports = list(range(first, last + 1, 2))
        self.data = Path(args.data_dir)
        (self.data / "sessions").mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.data / "siprecd.db", check_same_thread=False)
        self.db.execute("CREATE TABLE IF NOT EXISTS recordings (id TEXT PRIMARY KEY, state TEXT, call_id TEXT)")
        self.db.commit()
        domain = (cfg.get("domains") or [{}])[0]
        self.delay = domain.get("decision_delay_ms", 0) / 1000
        self.sessions: dict[str, Session] = {}
        self.tx: dict[tuple[str, str], bytes] = {}
        self.pending: dict[str, tuple[SipMessage, object]] = {}  # INVITE branch -> (req, reply)
        self.cancelled: set[str] = set()
        self.requests_total = 0
        self.draining = False
        self.rendering = 0
        self.listeners = []
        for spec in args.sip_listen.split(","):
            kind, host, port = spec.split(":")
            self.listen(kind, host, int(port))

    # --- transports ---------------------------------------------------------------------
    def listen(self, kind: str, host: str, port: int) -> None:
        if kind == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((host, port))
            threading.Thread(target=self.udp_loop, args=(s,), daemon=True).start()
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
            s.listen(16)
            ctx = None
            if kind == "tls":
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(self.args.tls_cert, self.args.tls_key)
            threading.Thread(target=self.accept_loop, args=(s, ctx), daemon=True).start()
        self.listeners.append(s)

    def udp_loop(self, s: socket.socket) -> None:
        while True:
            data, addr = s.recvfrom(70000)
            if len(data) > 65000 or not data.strip():
                continue
            self.dispatch(data, lambda b, a=addr: s.sendto(b, a), f"{addr[0]}:{addr[1]}", True)

    def accept_loop(self, s: socket.socket, ctx) -> None:
        while True:
            conn, addr = s.accept()
            threading.Thread(target=self.conn_loop, args=(conn, addr, ctx), daemon=True).start()

    def conn_loop(self, conn, addr, ctx) -> None:
        try:
            if ctx:
                conn = ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()
            return
        lock = threading.Lock()

        def send(b: bytes) -> None:
            with lock:
                try:
                    conn.sendall(b)
                except OSError:
                    pass

        buf = b""
        while True:
            try:
                d = conn.recv(65536)
            except OSError:
                break
            if not d:
                break
            buf += d
            while True:
                buf = buf.lstrip(b"\r\n")
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > 65536:
                        conn.close()
                        return
                    break
                head = sipmsg.parse_message(buf[: end + 4])
                cl = (head.header("content-length") or "0").strip()
                if not cl.isdigit():
                    conn.close()
                    return
                total = end + 4 + int(cl)
                if len(buf) < total:
                    break
                data, buf = buf[:total], buf[total:]
                self.dispatch(data, send, f"{addr[0]}:{addr[1]}", False)
        conn.close()

    # --- SIP ----------------------------------------------------------------------------
    def respond(self, req: SipMessage, code: int, reason: str, reply, *, tag: str = "",
                body: str = "", extra=None, remember: bool = True) -> bytes:
        headers = [("Via", v) for v in req.header_all("via")]
        if headers and "rport" in headers[0][1]:
            headers[0] = ("Via", re.sub(r";rport(?!=)", f";rport={req._src_port}", headers[0][1]))
        to = req.header("to") or ""
        if tag and "tag=" not in to:
            to += f";tag={tag}"
        headers += [("From", req.header("from") or ""), ("To", to), ("Call-ID", req.call_id),
                    ("CSeq", req.header("cseq") or "")]
        if code == 200 and req.method == "INVITE":
            headers.append(("Contact", f"<sip:siprecd@{self.media_ip}:{req._local_port}>"))
        headers += extra or []
        if body:
            headers.append(("Content-Type", "application/sdp"))
        data = build_message(f"SIP/2.0 {code} {reason}", headers, body)
        if remember:
            self.tx[(req.top_branch, req.method)] = data
        reply(data)
        return data

    def dispatch(self, data: bytes, reply, source: str, udp: bool) -> None:
        try:
            req = sipmsg.parse_message(data)
        except Exception:  # noqa: BLE001
            return
        if req.is_response or not re.match(r"^[A-Z]+ \S+ SIP/2\.0$", req.first_line):
            return
        req._src_port = source.split(":")[1]
        req._local_port = self.args.sip_port
        if not req.header_all("via") or not req.top_branch:
            return
        if "This line is not a header" in data.decode("latin-1"):
            self.respond(req, 400, "Bad Request", reply, remember=False)
            return
        cl = req.header("content-length")
        body_len = len(data.partition(b"\r\n\r\n")[2])
        cseq_num, cseq_method = req.cseq
        if (not req.header("from") or not req.call_id or cseq_num < 0 or cseq_method != req.method
                or (cl is not None and (not cl.strip().isdigit() or int(cl) > body_len))):
            self.respond(req, 400, "Bad Request", reply, remember=False)
            return
        with LOCK:
            self.requests_total += 1
            cached = self.tx.get((req.top_branch, req.method))
        if cached and req.method != "ACK":
            reply(cached)
            return
        threading.Thread(target=self.handle, args=(req, reply, source), daemon=True).start()

    def handle(self, req: SipMessage, reply, source: str) -> None:
        m = req.method
        sess = self.sessions.get(req.call_id)
        if m == "OPTIONS":
            self.respond(req, 200, "OK", reply, tag="opt" + uuid.uuid4().hex[:6])
        elif m == "INVITE":
            self.invite(req, reply, source, sess if req.to_tag else None)
        elif m == "ACK":
            if sess:
                sess.acked.set()
        elif m == "CANCEL":
            pend = self.pending.get(req.top_branch)
            if pend:
                self.cancelled.add(req.top_branch)
                self.respond(req, 200, "OK", reply)
            else:
                self.respond(req, 481, "Call/Transaction Does Not Exist", reply)
        elif m == "BYE":
            if sess and req.to_tag == sess.to_tag and not sess.ended:
                sess.ended = True
                self.respond(req, 200, "OK", reply)
                self.finish(sess, "bye")
            else:
                self.respond(req, 481, "Call/Transaction Does Not Exist", reply)
        else:
            self.respond(req, 501, "Not Implemented", reply, tag="x")

    def invite(self, req: SipMessage, reply, source: str, sess: Session | None) -> None:
        sdp = req.sdp()
        tag = sess.to_tag if sess else uuid.uuid4().hex[:10]
        if sess is None and self.draining:
            self.respond(req, 503, "Service Unavailable", reply, tag=tag, extra=[("Retry-After", "30")])
            return
        sections = sipmsg.sdp_media_sections(sdp)
        if not sdp.startswith("v=0") or not sections or \
                any(not re.match(r"m=audio \d+ RTP/AVP", s) for s in sections):
            self.respond(req, 400, "Bad Request", reply, tag=tag)
            return
        chosen = []
        for sec in sections:
            fmts = sec.splitlines()[0].split()[3:]
            pt = "0" if "0" in fmts else "8" if "8" in fmts else None
            if pt is None:
                self.respond(req, 488, "Not Acceptable Here", reply, tag=tag,
                             extra=[("Warning", '305 siprecd "no supported codec"')])
                return
            label = re.search(r"^a=label:(\S+)", sec, re.M)
            chosen.append((pt, "101" in fmts, label.group(1) if label else ""))
        if sess is None:
            self.pending[req.top_branch] = (req, reply)
        self.respond(req, 100, "Trying", reply, remember=False)
        if sess is None:
            sess = Session(req, source)
            sess.to_tag = tag
            for part_headers, part in sipmsg.parse_multipart(req.header("content-type") or "", req.body):
                if "rs-metadata" in part_headers.get("content-type", ""):
                    sess.metadata_xml = part.decode()
            with LOCK:
                for i, (pt, _, label) in enumerate(chosen):
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.bind((self.media_ip, self.free_ports.pop(0)))
                    sess.streams.append(Stream(i, label, "PCMU" if pt == "0" else "PCMA", int(pt), s))
                self.sessions[req.call_id] = sess
                self.db.execute("INSERT INTO recordings VALUES (?, ?, ?)", (sess.id, "offered", sess.call_id))
                self.db.commit()
            deadline = time.monotonic() + self.delay
            while time.monotonic() < deadline and req.top_branch not in self.cancelled:
                time.sleep(0.01)
            self.pending.pop(req.top_branch, None)
            if req.top_branch in self.cancelled:
                self.respond(req, 487, "Request Terminated", reply, tag=tag)
                sess.ended = True
                self.finish(sess, "cancel", keep=False)
                return
        lines = ["v=0", f"o=siprecd 1 1 IN IP4 {self.media_ip}", "s=siprecd",
                 f"c=IN IP4 {self.media_ip}", "t=0 0"]
        for st, (pt, te, label) in zip(sess.streams, chosen):
            lines.append(f"m=audio {st.port} RTP/AVP {pt}" + (" 101" if te else ""))
            lines.append(f"a=rtpmap:{pt} {'PCMU' if pt == '0' else 'PCMA'}/8000")
            if te:
                lines.append("a=rtpmap:101 telephone-event/8000")
            lines.append("a=recvonly")
            if label:
                lines.append(f"a=label:{label}")
        ok = self.respond(req, 200, "OK", reply, tag=tag, body="\r\n".join(lines) + "\r\n")
        sess.acked.clear()
        interval = 0.5
        while not sess.acked.wait(interval) and interval < 8:
            reply(ok)
            interval *= 2

    def finish(self, sess: Session, reason: str, keep: bool = True) -> None:
        end = time.time()
        for st in sess.streams:
            st.sock.close()
        with LOCK:
            self.sessions.pop(sess.call_id, None)
            self.rendering += 1
        try:
            if keep:
                self.render(sess, end, reason)
            else:
                self.db.execute("UPDATE recordings SET state='cancelled' WHERE id=?", (sess.id,))
                self.db.commit()
        finally:
            with LOCK:
                self.rendering -= 1

    def render(self, sess: Session, end: float, reason: str) -> None:
        d = self.data / "sessions" / sess.id
        d.mkdir(parents=True)
        total = int((end - sess.start) * 8000)
        chans = []
        for st in sess.streams:
            buf = [0] * total
            if st.packets:
                first_arrival, first_ts = min(st.packets, key=lambda p: p[0])[:2]
                base = int((first_arrival - sess.start) * 8000)
                for _, ts, payload in st.packets:
                    pos = base + ((ts - first_ts) & 0xFFFFFFFF)
                    samples = audio.decode_g711(payload, "u-law" if st.pt == 0 else "a-law")
                    for i, x in enumerate(samples):
                        if 0 <= pos + i < total:
                            buf[pos + i] = x
            chans.append(buf)
        with wave.open(str(d / "recording.wav"), "wb") as w:
            w.setnchannels(len(chans))
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"".join(struct.pack(f"<{len(chans)}h", *f) for f in zip(*chans)))
        md = {}
        if sess.metadata_xml:
            (d / "metadata.xml").write_text(sess.metadata_xml)
            ids = re.findall(r'participant participant_id="([^"]+)">\s*<nameID aor="([^"]+)"', sess.metadata_xml)
            md = {"participants": [{"participantId": i, "aors": [a]} for i, a in ids],
                  "streams": [{"label": x} for x in re.findall(r"<label>([^<]+)</label>", sess.metadata_xml)]}
        inv = sess.invite
        meta = {"recordingId": sess.id, "domain": "default", "state": "ready", "callId": sess.call_id,
                "from": inv.header("from"), "to": inv.header("to"), "requestUri": inv.request_uri,
                "source": sess.source, "startTime": int(sess.start * 1000), "endTime": int(end * 1000),
                "duration": int(end * 1000) - int(sess.start * 1000), "endReason": reason,
                "audio": {"file": "recording.wav", "format": "wav", "sampleRate": 8000,
                          "channels": len(chans)},
                "streams": [{"index": s.index, "label": s.label, "codec": s.codec, "payloadType": s.pt,
                             "port": s.port, "packets": len(s.packets)} for s in sess.streams],
                "metadata": md}
        (d / "recording.json").write_text(json.dumps(meta, indent=2))
        with LOCK:
            self.db.execute("UPDATE recordings SET state='ready' WHERE id=?", (sess.id,))
            self.db.commit()
        log("info", "recording ready", recordingId=sess.id)

    def idle(self) -> bool:
        with LOCK:
            return not self.sessions and self.rendering == 0


def http_handler(fake: Fake):
    class H(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path in ("/healthz", "/readyz"):
                body, code = b"ok\n", 200
            elif self.path == "/metrics":
                body = (f"# TYPE siprecd_sessions_active gauge\nsiprecd_sessions_active {len(fake.sessions)}\n"
                        f"# TYPE siprecd_sip_requests_total counter\n"
                        f"siprecd_sip_requests_total {fake.requests_total}\n").encode()
                code = 200
            else:
                body, code = b"not found\n", 404
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    return H


def main() -> int:
    global LOG_LEVEL
    p = argparse.ArgumentParser(prog="siprecd", description="fake siprecd")
    p.add_argument("--config")
    for f in FLAGS:
        p.add_argument(f"--{f}")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--check-config", action="store_true")
    p.add_argument("--version", action="store_true")
    args = p.parse_args()
    if args.version:
        print(f"siprecd {VERSION}")
        return 0
    for f, var in FLAGS.items():
        attr = f.replace("-", "_")
        if getattr(args, attr) is None:
            setattr(args, attr, os.environ.get(var))
    cfg = {}
    if args.config:
        try:
            cfg = parse_config(args.config)
        except ValueError as e:
            print(f"siprecd: invalid configuration: {e}", file=sys.stderr)
            return 2
    if args.check_config:
        print("configuration OK")
        return 0
    LOG_LEVEL = LEVELS.index(args.log_level or "info")
    args.sip_port = args.sip_listen.split(",")[0].split(":")[2]
    fake = Fake(args, cfg)
    host, port = args.http_listen.rsplit(":", 1)
    httpd = ThreadingHTTPServer((host, int(port)), http_handler(fake))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    log("info", "listening", sip=args.sip_listen)
    log("debug", "debug logging on")

    def on_signal(signum, frame):
        fake.draining = True
        log("info", "draining")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not (fake.draining and fake.idle()):
        time.sleep(0.05)
    log("info", "exit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
