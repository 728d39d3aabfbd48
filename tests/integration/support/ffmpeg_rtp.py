"""Real RTP from ffmpeg (an encoder and packetiser independent of siprecd) through a
Python UDP relay that timestamps every packet and can drop and reorder them.

    relay = RtpRelay().start()                     # RTP and RTCP in, nothing out yet
    sender = FfmpegRtpSender(CODECS["G722"], wav_path, relay, lead_s=0.8).start()
    relay.wait_first_packet(15)                    # ffmpeg is up and sending
    relay.delay_s = ...                            # to line up with other streams
    ...INVITE... 200 OK ...
    relay.forward_to(("127.0.0.1", answer_port))  # RTP there, RTCP to answer_port + 1
    sender.wait(...); relay.stop()

ffmpeg reads the WAV through lavfi (`amovie`) cut into 20 ms frames, so that `-re` paces
each 20 ms packet by itself (a plain WAV input is read in ~40-250 ms blocks whose packets
would leave in bursts). The RTP muxer's payload size (`pkt_size` = 12-byte header + 20 ms
of payload) keeps G.711 and G.722 at one 20 ms frame per packet; libopus encodes 20 ms
frames.

ffmpeg takes 0.1-0.7 s to start on a loaded 2-core machine (up to 1.9 s), too long and
too variable to start it after the 200 OK. So it starts before the INVITE with `lead_s`
of silence in front of the audio; the relay records but drops what is due before
`forward_to` (fate "early"), and its delay line (`delay_s`) holds back the streams whose
ffmpeg started first so that all streams' audio starts together. The times the relay
sends packets on (wall clock, `time.time()`) are the reference for where the audio
belongs on the recording's epoch-ms timeline.
"""

from __future__ import annotations

import collections
import os
import random
import selectors
import shutil
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

FFMPEG = shutil.which("ffmpeg")


@dataclass(frozen=True)
class RtpCodec:
    name: str  # as siprecd names it in recording.json (compared case-insensitively)
    encoder: str  # ffmpeg encoder
    payload_type: int
    sample_rate: int  # audio rate fed to the encoder = the decoded rate
    clock_rate: int  # RTP timestamp clock (RFC 3551 / RFC 7587)
    frame_samples: int  # samples per 20 ms frame at sample_rate
    pkt_size: int  # RTP header + payload of one 20 ms frame (ffmpeg's pkt_size)
    rtpmap: str  # encoding name/clock[/channels] of the SDP a=rtpmap
    extra: tuple[str, ...] = ()


CODECS = {
    "PCMU": RtpCodec("PCMU", "pcm_mulaw", 0, 8000, 8000, 160, 12 + 160, "PCMU/8000"),
    # G.722: 16 kHz audio, 64 kbit/s (160 bytes per 20 ms), RTP clock 8000 (RFC 3551 4.5.2).
    "G722": RtpCodec("G722", "g722", 9, 16000, 8000, 320, 12 + 160, "G722/8000"),
    # Opus: RTP clock 48000 and "/2" whatever is sent (RFC 7587 section 7); mono here.
    "OPUS": RtpCodec("OPUS", "libopus", 111, 48000, 48000, 960, 1400, "opus/48000/2",
                     ("-b:a", "48k", "-application", "voip", "-frame_duration", "20")),
}


def parse_header(pkt: bytes) -> tuple[int, int, int, int] | None:
    """(payload type, sequence number, timestamp, SSRC) of an RTP packet, else None."""
    if len(pkt) < 12 or pkt[0] >> 6 != 2:
        return None
    b0, b1, seq, ts, ssrc = struct.unpack("!BBHII", pkt[:12])
    return b1 & 0x7F, seq, ts, ssrc


@dataclass
class RelayedPacket:
    arrival: float  # time.time() when the relay received it from ffmpeg
    seq: int
    ts: int
    payload_type: int
    # "early" (due before forward_to: not sent), "sent", "dropped", "swapped" (sent after
    # its successor) or "queued" (not due yet)
    fate: str
    data: bytes = b""  # the whole packet as ffmpeg sent it
    sent_at: float = 0.0  # time.time() when the relay sent it on (delivered packets)

    @property
    def delivered(self) -> bool:
        return self.fate in ("sent", "swapped")


def _udp_socket(rcvbuf: int = 0) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind(("127.0.0.1", 0))
    return s


class RtpRelay:
    """UDP relay ffmpeg -> siprecd on loopback, for RTP (port) and RTCP (rtcp_port).

    Every datagram is held `delay_s` (a fixed delay line, so that streams whose ffmpegs
    started at different times can be lined up) and then, before forward_to(), discarded.
    After it, each RTP packet is dropped with probability `loss` or, with probability
    `reorder`, held back and sent right after the next one (neighbours swapped; a held
    packet with no successor within 100 ms goes out alone). RTCP goes unchanged to the
    RTP destination's port + 1. RTP leaves from `rtp_source_port` (what the SDP offer
    names), RTCP from another socket."""

    def __init__(self, dest: tuple[str, int] | None = None, *, loss: float = 0.0,
                 reorder: float = 0.0, seed: int = 4711):
        self.loss, self.reorder = loss, reorder
        self.rng = random.Random(seed)
        self.rx = _udp_socket(1 << 20)
        self.rtcp_rx = _udp_socket()
        self.tx = _udp_socket()
        self.rtcp_tx = _udp_socket()
        self.dest: tuple[str, int] | None = dest
        self.delay_s = 0.0
        self.packets: list[RelayedPacket] = []
        self.rtcp_packets = 0
        self._queue: collections.deque[tuple[float, RelayedPacket | None, bytes]] = \
            collections.deque()
        self._held: tuple[bytes, RelayedPacket, float] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rtp-relay", daemon=True)

    @property
    def port(self) -> int:
        return self.rx.getsockname()[1]

    @property
    def rtcp_port(self) -> int:
        return self.rtcp_rx.getsockname()[1]

    @property
    def rtp_source_port(self) -> int:
        return self.tx.getsockname()[1]

    def start(self) -> "RtpRelay":
        self._thread.start()
        return self

    def forward_to(self, dest: tuple[str, int]) -> None:
        self.dest = dest

    def wait_first_packet(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.packets and time.monotonic() < deadline:
            time.sleep(0.005)
        return bool(self.packets)

    def stop(self) -> None:
        """Sends what is still queued, then stops."""
        while self._thread.is_alive() and self._queue:
            time.sleep(0.01)
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        for s in (self.rx, self.rtcp_rx, self.tx, self.rtcp_tx):
            s.close()

    def _send(self, data: bytes, rec: RelayedPacket) -> None:
        rec.sent_at = time.time()
        try:
            self.tx.sendto(data, self.dest)
        except OSError:
            pass  # ICMP unreachable from an earlier packet: keep relaying

    def _flush_held(self) -> None:
        if self._held is not None:
            self._send(self._held[0], self._held[1])
            self._held = None

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.rx, selectors.EVENT_READ, "rtp")
        sel.register(self.rtcp_rx, selectors.EVENT_READ, "rtcp")
        while not self._stop.is_set():
            wait = 0.02
            if self._queue:
                wait = min(wait, max(0.0, self._queue[0][0] + self.delay_s - time.time()))
            for key, _ in sel.select(wait):
                try:
                    data = key.fileobj.recv(2048)
                except OSError:
                    continue
                now = time.time()
                if key.data == "rtcp":
                    self.rtcp_packets += 1
                    self._queue.append((now, None, data))
                    continue
                hdr = parse_header(data)
                if hdr is not None:
                    rec = RelayedPacket(now, hdr[1], hdr[2], hdr[0], "queued", data)
                    self.packets.append(rec)
                    self._queue.append((now, rec, data))
            now = time.time()
            while self._queue and self._queue[0][0] + self.delay_s <= now:
                _, rec, data = self._queue.popleft()
                if rec is None:
                    if self.dest is not None:
                        try:
                            self.rtcp_tx.sendto(data, (self.dest[0], self.dest[1] + 1))
                        except OSError:
                            pass
                else:
                    self._forward(rec, data)
            if self._held is not None and time.monotonic() - self._held[2] > 0.1:
                self._held[1].fate = "sent"
                self._flush_held()
        self._flush_held()
        sel.close()

    def _forward(self, rec: RelayedPacket, data: bytes) -> None:
        if self.dest is None:
            rec.fate = "early"
            return
        rec.fate = "sent"
        if self.loss and self.rng.random() < self.loss:
            rec.fate = "dropped"
            return
        if self._held is not None:
            self._send(data, rec)
            self._flush_held()
            return
        if self.reorder and self.rng.random() < self.reorder:
            rec.fate = "swapped"
            self._held = (data, rec, time.monotonic())
            return
        self._send(data, rec)

    # --- what was relayed -----------------------------------------------------------------
    def count(self, fate: str) -> int:
        return sum(1 for p in self.packets if p.fate == fate)

    def delivered(self) -> list[RelayedPacket]:
        return [p for p in self.packets if p.delivered]

    def ticks(self, p: RelayedPacket) -> int:
        """p's RTP timestamp relative to the stream's first packet (sent or not)."""
        return (p.ts - self.packets[0].ts) & 0xFFFFFFFF

    def anchor_epoch(self, clock_rate: int) -> float | None:
        """Wall-clock time (epoch s) of the stream's first sample (of ffmpeg's first
        packet, forwarded or not) on the line sent_at = anchor + ticks / clock_rate drawn
        under the departures of the delivered packets (the least-delayed one lies on it):
        where a receiver that trusts the timestamps and not the jitter puts the audio.
        None when nothing was delivered."""
        sent = self.delivered()
        if not sent:
            return None
        return min(p.sent_at - self.ticks(p) / clock_rate for p in sent)

    def first_arrival(self) -> float | None:
        return self.packets[0].arrival if self.packets else None


class FfmpegRtpSender:
    """One ffmpeg process sending a WAV file, after lead_s of silence, as RTP with `codec`
    to the relay (RTP to relay.port, RTCP sender reports to relay.rtcp_port)."""

    def __init__(self, codec: RtpCodec, wav: Path, relay: RtpRelay, *, lead_s: float = 0.0,
                 log: Path | None = None):
        if FFMPEG is None:
            raise RuntimeError("ffmpeg not installed")
        if any(c in str(wav) for c in "':,;[]\\"):
            raise ValueError(f"path unusable in a lavfi graph: {wav}")
        self.codec = codec
        self.log = log
        self.lead_s = lead_s
        url = f"rtp://127.0.0.1:{relay.port}?pkt_size={codec.pkt_size}&rtcpport={relay.rtcp_port}"
        graph = f"amovie='{wav}',aresample={codec.sample_rate}"
        if lead_s > 0:
            graph += f",adelay=delays={int(round(lead_s * 1000))}:all=1"
        graph += f",asetnsamples=n={codec.frame_samples}:p=0"
        self.cmd = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
                    "-f", "lavfi", "-i", graph, "-ac", "1", "-ar", str(codec.sample_rate),
                    "-acodec", codec.encoder, *codec.extra,
                    "-payload_type", str(codec.payload_type), "-f", "rtp",
                    "-sdp_file", os.devnull, url]
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0  # time.time() just before the process was started
        self._log_file = None

    def start(self) -> "FfmpegRtpSender":
        self._log_file = open(self.log, "wb") if self.log else subprocess.DEVNULL
        self.started_at = time.time()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self._log_file)
        return self

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self._log_file not in (None, subprocess.DEVNULL):
            self._log_file.close()
            self._log_file = None

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace") if self.log else ""
        except FileNotFoundError:
            return ""


@dataclass
class MediaLeg:
    """A relay and the ffmpeg feeding it, for one m-line."""

    relay: RtpRelay
    sender: FfmpegRtpSender | None = None

    def startup_s(self) -> float | None:
        """Seconds from starting ffmpeg to its first packet reaching the relay."""
        first = self.relay.first_arrival()
        return first - self.sender.started_at if first and self.sender else None
