"""Free ports and small HTTP helpers (standard library only)."""

from __future__ import annotations

import fcntl
import os
import random
import socket
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass


def free_port(kind: str = "tcp") -> int:
    """A port free right now for `kind` ('tcp', 'udp' or 'both': same number on both)."""
    for _ in range(200):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        if kind == "tcp":
            t.close()
            return port
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            t.close()
            u.close()
            continue
        t.close()
        u.close()
        return port
    raise RuntimeError("no free port")


class PortRange:
    """A block of UDP ports reserved for one siprecd instance's RTP.

    Chosen below the kernel's ephemeral range (32768+) so that ephemeral sockets do not
    land in it; an flock on /tmp/siprecd-it-rtp-<base>.lock keeps parallel test
    processes (pytest -n, several checkouts) from picking the same block.
    """

    def __init__(self, size: int = 200, low: int = 10000, high: int = 32000):
        self.size = size
        self._lock_fd = None
        bases = list(range(low, high - size, size))
        random.shuffle(bases)
        for base in bases:
            fd = os.open(os.path.join(tempfile.gettempdir(), f"siprecd-it-rtp-{base}.lock"),
                         os.O_CREAT | os.O_RDWR, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            if self._all_free(base, size):
                self.first, self.last, self._lock_fd = base, base + size - 1, fd
                return
            os.close(fd)
        raise RuntimeError("no free RTP port block")

    @staticmethod
    def _all_free(base: int, size: int) -> bool:
        socks = []
        try:
            for p in range(base, base + size):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return True
        except OSError:
            return False
        finally:
            for s in socks:
                s.close()

    def __contains__(self, port: int) -> bool:
        return self.first <= port <= self.last

    def spec(self) -> str:
        return f"{self.first}-{self.last}"

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def http_get(url: str, timeout: float = 3.0) -> HttpResponse:
    req = urllib.request.Request(url, method="GET")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return HttpResponse(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return HttpResponse(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


def parse_prometheus(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """{metric name: [(labels, value), ...]} from the Prometheus text format."""
    import re

    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        out.setdefault(m.group(1), []).append((labels, value))
    return out
