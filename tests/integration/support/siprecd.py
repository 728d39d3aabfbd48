"""Starting, observing and stopping one siprecd process for a test."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import audio
from .net import PortRange, free_port, http_get, parse_prometheus
from .sipclient import SipUac, Transport

REPO = Path(__file__).resolve().parents[3]


def binary_path() -> Path:
    return Path(os.environ.get("SIPRECD_BIN") or REPO / "build" / "siprecd")


@dataclass
class Recording:
    dir: Path
    meta: dict

    @property
    def wav_path(self) -> Path:
        return self.dir / (self.meta.get("audio", {}).get("file") or "recording.wav")

    def wav(self) -> audio.Wav:
        return audio.read_wav(self.wav_path)

    def __str__(self) -> str:
        return f"{self.dir}: {json.dumps(self.meta, indent=1)[:3000]}"


class Siprecd:
    """One siprecd process on free loopback ports with its own data directory.

    `config` is YAML text written to <workdir>/siprecd.yaml and passed with --config.
    `tls` is (cert_path, key_path) to also listen on tls:127.0.0.1:<tls_port>.
    `via_env` passes the listen/data/rtp settings as SIPRECD_* variables instead of flags.
    """

    def __init__(self, binary: Path, workdir: Path, *, config: str | None = None,
                 tls: tuple[str, str] | None = None, via_env: bool = False,
                 extra_args: list[str] | None = None, env: dict[str, str] | None = None,
                 log_level: str = "debug"):
        self.binary = Path(binary)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / "siprecd.stderr"
        self.stdout_path = self.workdir / "siprecd.stdout"
        self.sip_port = free_port("both")
        self.http_port = free_port("tcp")
        self.tls_port = free_port("tcp") if tls else None
        self.rtp = PortRange(200)
        self.config_path: Path | None = None
        if config is not None:
            self.config_path = self.workdir / "siprecd.yaml"
            self.config_path.write_text(config)
        self.tls = tls
        self.via_env = via_env
        self.extra_args = extra_args or []
        self.extra_env = env or {}
        self.log_level = log_level
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None
        self._stopped = False

    # --- process ------------------------------------------------------------------
    @property
    def sip_listen(self) -> str:
        spec = f"udp:127.0.0.1:{self.sip_port},tcp:127.0.0.1:{self.sip_port}"
        if self.tls_port:
            spec += f",tls:127.0.0.1:{self.tls_port}"
        return spec

    def command(self) -> tuple[list[str], dict[str, str]]:
        env = dict(os.environ)
        env.update(self.extra_env)
        settings = {
            "--sip-listen": ("SIPRECD_SIP_LISTEN", self.sip_listen),
            "--http-listen": ("SIPRECD_HTTP_LISTEN", f"127.0.0.1:{self.http_port}"),
            "--data-dir": ("SIPRECD_DATA_DIR", str(self.data_dir)),
            "--rtp-ports": ("SIPRECD_RTP_PORTS", self.rtp.spec()),
            "--media-ip": ("SIPRECD_MEDIA_IP", "127.0.0.1"),
            "--log-level": ("SIPRECD_LOG_LEVEL", self.log_level),
        }
        cmd = [str(self.binary)]
        for flag, (var, value) in settings.items():
            if self.via_env:
                env[var] = value
            else:
                cmd += [flag, value]
        if self.config_path:
            cmd += ["--config", str(self.config_path)]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        cmd += self.extra_args
        return cmd, env

    def start(self, ready_timeout: float = 10.0) -> "Siprecd":
        cmd, env = self.command()
        self._err = open(self.log_path, "wb")
        self._out = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err)
        self.wait_ready(ready_timeout)
        return self

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"siprecd exited with {self.proc.returncode} before /readyz was 200\n"
                    f"command: {' '.join(self.command()[0])}\n{self.log_tail()}")
            try:
                r = http_get(self.url("/readyz"), timeout=1)
                if r.status == 200:
                    return
                last = f"HTTP {r.status}: {r.text[:200]}"
            except OSError as e:
                last = str(e)
            time.sleep(0.05)
        raise AssertionError(f"siprecd not ready within {timeout}s (last /readyz: {last})\n"
                             f"{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> int | None:
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, timeout: float = 15.0) -> list[str]:
        """SIGTERM, wait for exit; returns the problems found (empty list when clean)."""
        problems: list[str] = []
        if self._stopped or self.proc is None:
            return problems
        self._stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(timeout) is None:
                self.proc.kill()
                self.returncode = self.proc.wait()
                problems.append(f"siprecd did not exit within {timeout}s of SIGTERM (killed)")
        self.returncode = self.proc.returncode
        if self.returncode != 0 and not problems:
            problems.append(f"siprecd exit code {self.returncode} (expected 0)")
        crit = [ln for ln in self.log_records() if str(ln.get("level", "")).lower()
                in ("critical", "crit", "fatal")]
        if crit:
            problems.append(f"{len(crit)} critical log line(s): {crit[:3]}")
        raw = self.log_text()
        for marker in ("AddressSanitizer", "runtime error:", "Segmentation fault", "terminate called"):
            if marker in raw:
                problems.append(f"stderr contains {marker!r}")
        self._err.close()
        self._out.close()
        self.rtp.release()
        if problems:
            problems.append(self.log_tail())
        return problems

    # --- observation ----------------------------------------------------------------
    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    def http(self, path: str, timeout: float = 3.0):
        return http_get(self.url(path), timeout)

    def metrics(self) -> dict:
        r = self.http("/metrics")
        assert r.status == 200, f"/metrics: HTTP {r.status}"
        return parse_prometheus(r.text)

    def metric(self, name: str, **labels: str) -> float | None:
        """Sum of the samples of `name` whose labels include `labels`; None if absent."""
        samples = self.metrics().get(name)
        if samples is None:
            return None
        return sum(v for lab, v in samples if all(lab.get(k) == w for k, w in labels.items()))

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_records(self) -> list[dict]:
        out = []
        for line in self.log_text().splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
                out.append(rec if isinstance(rec, dict) else {"raw": line})
            except ValueError:
                out.append({"raw": line})
        return out

    def log_tail(self, n: int = 40) -> str:
        lines = self.log_text().splitlines()
        return "--- siprecd stderr (last %d of %d lines)\n%s" % (
            min(n, len(lines)), len(lines), "\n".join(lines[-n:]))

    def log_grep(self, text: str) -> list[str]:
        return [ln for ln in self.log_text().splitlines() if text in ln]

    # --- recordings ------------------------------------------------------------------
    def recordings(self) -> list[Recording]:
        out = []
        sessions = self.data_dir / "sessions"
        if not sessions.is_dir():
            return out
        for d in sorted(sessions.iterdir()):
            f = d / "recording.json"
            if f.is_file():
                try:
                    out.append(Recording(d, json.loads(f.read_text())))
                except ValueError:
                    continue  # being written
        return out

    def recordings_for(self, call_id: str) -> list[Recording]:
        return [r for r in self.recordings() if r.meta.get("callId") == call_id]

    def wait_recording(self, call_id: str, timeout: float = 10.0) -> Recording:
        """The recording of `call_id` once its recording.json says state ready."""
        deadline = time.monotonic() + timeout
        while True:
            recs = [r for r in self.recordings_for(call_id) if r.meta.get("state") == "ready"]
            if recs:
                return recs[0]
            if time.monotonic() > deadline:
                dirs = sorted(p.name for p in (self.data_dir / "sessions").glob("*")) \
                    if (self.data_dir / "sessions").is_dir() else []
                raise AssertionError(
                    f"no ready recording.json for Call-ID {call_id} within {timeout}s; "
                    f"session dirs: {dirs}; recordings: {[r.meta.get('callId') for r in self.recordings()]}; "
                    f"db rows: {self.db_rows(call_id)}\n{self.log_tail()}")
            time.sleep(0.1)

    def db_rows(self, call_id: str | None = None) -> list[dict]:
        db = self.data_dir / "siprecd.db"
        if not db.exists():
            return []
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            con.row_factory = sqlite3.Row
            try:
                if call_id is None:
                    rows = con.execute("SELECT * FROM recordings").fetchall()
                else:
                    rows = con.execute("SELECT * FROM recordings WHERE call_id = ?",
                                       (call_id,)).fetchall()
                return [dict(r) for r in rows]
            finally:
                con.close()
        except sqlite3.Error as e:
            return [{"error": str(e)}]

    # --- SIP clients -------------------------------------------------------------------
    def ua(self, kind: str = "udp", **kw) -> SipUac:
        port = self.tls_port if kind == "tls" else self.sip_port
        return SipUac(Transport(kind, "127.0.0.1", port, **kw))

    @property
    def request_uri(self) -> str:
        return f"sip:srs@127.0.0.1:{self.sip_port}"
