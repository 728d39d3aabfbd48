"""RTP sender (RFC 3550) for G.711 test audio, with exact pacing and fault injection.

SIPp's rtp_stream only plays to the first audio m-line, so the suite sends every
stream with this sender. Several streams are paced by one thread (MultiRtpSender) so
they leave at the same instants, which is what "time-aligned by arrival" is checked
against.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

PACKET_MS = 20
SAMPLES_PER_PACKET = 160  # 8 kHz * 20 ms, one byte per G.711 sample


def free_udp_socket(host: str = "127.0.0.1") -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    return s


@dataclass
class RtpStream:
    """One outgoing RTP stream: payload bytes split into 160-byte packets."""

    payload: bytes
    dest: tuple[str, int] | None = None  # siprecd's port, known after the 200 OK
    payload_type: int = 0  # 0 PCMU, 8 PCMA
    sock: socket.socket = field(default_factory=free_udp_socket)
    ssrc: int = field(default_factory=lambda: random.getrandbits(32))
    seq: int = field(default_factory=lambda: random.getrandbits(16))
    timestamp: int = field(default_factory=lambda: random.getrandbits(32))
    loss: float = 0.0  # probability of dropping a packet (not sending it)
    reorder: float = 0.0  # probability of swapping a packet with the next one
    duplicate: float = 0.0  # probability of sending a packet twice
    marker_first: bool = True
    sent: int = 0
    dropped: int = 0
    _held: bytes | None = None

    @property
    def local_port(self) -> int:
        return self.sock.getsockname()[1]

    def packet(self, index: int) -> bytes:
        chunk = self.payload[index * SAMPLES_PER_PACKET:(index + 1) * SAMPLES_PER_PACKET]
        if len(chunk) < SAMPLES_PER_PACKET:
            silence = b"\xff" if self.payload_type == 0 else b"\xd5"
            chunk = chunk + silence * (SAMPLES_PER_PACKET - len(chunk))
        marker = 0x80 if (index == 0 and self.marker_first) else 0
        hdr = struct.pack("!BBHII", 0x80, marker | self.payload_type,
                          (self.seq + index) & 0xFFFF,
                          (self.timestamp + index * SAMPLES_PER_PACKET) & 0xFFFFFFFF,
                          self.ssrc)
        return hdr + chunk

    def emit(self, index: int, rng: random.Random) -> None:
        pkt = self.packet(index)
        if self.loss and rng.random() < self.loss:
            self.dropped += 1
            return
        if self._held is not None:  # reordered: send current first, then the held one
            self._send(pkt)
            self._send(self._held)
            self._held = None
            return
        if self.reorder and rng.random() < self.reorder:
            self._held = pkt
            return
        self._send(pkt)
        if self.duplicate and rng.random() < self.duplicate:
            self._send(pkt)

    def flush(self) -> None:
        if self._held is not None:
            self._send(self._held)
            self._held = None

    def _send(self, pkt: bytes) -> None:
        assert self.dest is not None, "RTP destination not set"
        try:
            self.sock.sendto(pkt, self.dest)
            self.sent += 1
        except OSError:
            pass  # ICMP port unreachable from a previous packet: keep pacing

    def close(self) -> None:
        self.sock.close()


class MultiRtpSender:
    """Sends several RtpStreams in lock-step: packet i of every stream at t0 + i*20 ms.

    Pacing uses absolute time.monotonic() deadlines so there is no drift; a late wake-up
    sends the overdue packets at once (like a real sender catching up).
    """

    def __init__(self, streams: list[RtpStream], duration_s: float, seed: int = 1234):
        self.streams = streams
        self.packets = int(round(duration_s * 1000 / PACKET_MS))
        self.rng = random.Random(seed)
        self.thread: threading.Thread | None = None
        self.started_at = 0.0
        self.finished_at = 0.0
        self._stop = threading.Event()

    def run(self) -> None:
        t0 = time.monotonic()
        self.started_at = t0
        for i in range(self.packets):
            if self._stop.is_set():
                break
            deadline = t0 + i * PACKET_MS / 1000.0
            delay = deadline - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            for s in self.streams:
                s.emit(i, self.rng)
        for s in self.streams:
            s.flush()
        self.finished_at = time.monotonic()

    def start(self) -> "MultiRtpSender":
        self.thread = threading.Thread(target=self.run, name="rtp-sender", daemon=True)
        self.thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        if self.thread:
            self.thread.join(timeout)

    def stop(self) -> None:
        self._stop.set()
        self.join(5)


def parse_rtp(pkt: bytes) -> dict:
    b0, b1, seq, ts, ssrc = struct.unpack("!BBHII", pkt[:12])
    cc = b0 & 0x0F
    return {"version": b0 >> 6, "marker": b1 >> 7, "pt": b1 & 0x7F, "seq": seq, "ts": ts,
            "ssrc": ssrc, "payload": pkt[12 + 4 * cc:]}
