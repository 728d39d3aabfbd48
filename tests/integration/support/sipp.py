"""Runs SIPp (Debian sip-tester 3.6.1) scenarios as the SIPREC SRC.

SIPp does the signalling; the test reads the answer ports that the scenario logs from
the 200 OK (`<log message="ANSWER call_id=... p1=... p2=...">`, -trace_logs) and sends
the RTP itself with support.rtp while SIPp pauses (-d) before its BYE.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from . import sipmsg
from .net import free_port

SIPP = shutil.which("sipp", path="/usr/bin:/usr/local/bin") or "/usr/bin/sipp"
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


class SippRun:
    """One SIPp process running one call of a scenario."""

    def __init__(self, scenario: str, remote_port: int, workdir: Path, *,
                 transport: str = "udp", keys: dict[str, str | int] | None = None,
                 call_ms: int = 3000, timeout_s: int = 30, remote_host: str = "127.0.0.1",
                 name: str | None = None):
        self.scenario = SCENARIOS / scenario if not Path(scenario).is_absolute() else Path(scenario)
        self.name = name or self.scenario.stem
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_file = self.workdir / f"{self.name}.log"
        self.msg_file = self.workdir / f"{self.name}.messages"
        self.err_file = self.workdir / f"{self.name}.errors"
        self.out_file = self.workdir / f"{self.name}.stdout"
        self.local_port = free_port("udp" if transport == "udp" else "tcp")
        self.cmd = [
            SIPP, f"{remote_host}:{remote_port}", "-sf", str(self.scenario),
            "-i", "127.0.0.1", "-p", str(self.local_port), "-mi", "127.0.0.1",
            "-mp", str(free_port("udp")),
            "-t", "u1" if transport == "udp" else "t1",
            "-m", "1", "-l", "1", "-d", str(call_ms),
            "-timeout", f"{timeout_s}s", "-timeout_error", "-nostdin", "-aa",
            "-trace_logs", "-log_file", str(self.log_file),
            "-trace_msg", "-message_file", str(self.msg_file),
            "-trace_err", "-error_file", str(self.err_file),
        ]
        for k, v in (keys or {}).items():
            self.cmd += ["-key", k, str(v)]
        self.proc: subprocess.Popen | None = None
        self.timeout_s = timeout_s

    def start(self) -> "SippRun":
        self._out = open(self.out_file, "wb")
        self.proc = subprocess.Popen(self.cmd, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=subprocess.STDOUT)
        return self

    def logs(self) -> list[str]:
        try:
            return self.log_file.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def wait_log(self, prefix: str, timeout: float = 10.0, count: int = 1) -> list[dict[str, str]]:
        """Waits until `count` log lines starting with `prefix` exist; returns their k=v fields."""
        deadline = time.monotonic() + timeout
        while True:
            found = [ln for ln in self.logs() if ln.startswith(prefix)]
            if len(found) >= count:
                return [dict(re.findall(r"(\w+)=(\S*)", ln)) for ln in found]
            if time.monotonic() > deadline or (self.proc and self.proc.poll() is not None):
                raise AssertionError(
                    f"SIPp did not log {prefix!r} x{count} within {timeout}s "
                    f"(rc={self.proc.poll() if self.proc else None}).\n{self.diagnostics()}")
            time.sleep(0.005)

    def wait_answer(self, timeout: float = 10.0, count: int = 1) -> dict[str, str]:
        """The `count`-th ANSWER line: {'call_id':..., 'p1':..., 'p2':...}."""
        return self.wait_log("ANSWER", timeout, count)[count - 1]

    def wait(self, timeout: float | None = None) -> int:
        assert self.proc is not None
        try:
            rc = self.proc.wait(timeout or self.timeout_s + 5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self._out.close()
        return rc

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if hasattr(self, "_out"):
            self._out.close()

    def messages(self, direction: str = "received") -> list[sipmsg.SipMessage]:
        """SIP messages from SIPp's -trace_msg file ('received' or 'sent')."""
        try:
            text = self.msg_file.read_bytes()
        except FileNotFoundError:
            return []
        out = []
        blocks = re.split(rb"-{10,} [^\n]*\n", text)
        for block in blocks:
            m = re.match(rb"\s*(UDP|TCP|TLS|SCTP) message (received|sent) (?:\[\d+\] bytes|\(\d+ bytes\)) ?:\s*\n\n",
                         block)
            if not m or m.group(2).decode() != direction:
                continue
            raw = block[m.end():].rstrip(b"\n") + b"\n"
            raw = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
            out.append(sipmsg.parse_message(raw))
        return out

    def responses(self, method: str | None = None) -> list[sipmsg.SipMessage]:
        return [m for m in self.messages("received") if m.is_response
                and (method is None or m.cseq[1] == method)]

    def diagnostics(self) -> str:
        parts = [f"command: {' '.join(self.cmd)}"]
        for f in (self.err_file, self.log_file, self.out_file):
            if f.exists():
                txt = f.read_text(errors="replace")
                parts.append(f"--- {f.name} (last 3000 chars)\n{txt[-3000:]}")
        if self.msg_file.exists():
            parts.append(f"--- {self.msg_file.name} (last 4000 chars)\n"
                         f"{self.msg_file.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)
