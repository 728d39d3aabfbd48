"""Test audio: generation with sox (8 kHz G.711) and analysis of siprecd's WAV output."""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

SOX = shutil.which("sox") or "/usr/bin/sox"


def make_tone(path: Path, freq_hz: float, seconds: float, encoding: str = "u-law",
              gain_db: float = -6.0) -> bytes:
    """Writes a raw 8 kHz mono G.711 (encoding "u-law" or "a-law") sine with sox."""
    subprocess.run(
        [SOX, "-n", "-r", "8000", "-c", "1", "-e", encoding, "-t", "raw", str(path),
         "synth", f"{seconds}", "sine", f"{freq_hz}", "gain", f"{gain_db}"],
        check=True, capture_output=True)
    return path.read_bytes()


def _ulaw_table() -> list[int]:
    out = []
    for u in range(256):
        u = ~u & 0xFF
        sign, exponent, mantissa = u & 0x80, (u >> 4) & 0x07, u & 0x0F
        sample = (((mantissa << 3) + 0x84) << exponent) - 0x84
        out.append(-sample if sign else sample)
    return out


def _alaw_table() -> list[int]:
    out = []
    for a in range(256):
        a ^= 0x55
        sign, exponent, mantissa = a & 0x80, (a >> 4) & 0x07, a & 0x0F
        if exponent == 0:
            sample = (mantissa << 4) + 8
        else:
            sample = ((mantissa << 4) + 0x108) << (exponent - 1)
        out.append(sample if sign else -sample)
    return out


ULAW = _ulaw_table()
ALAW = _alaw_table()


def decode_g711(data: bytes, law: str = "u-law") -> list[int]:
    table = ULAW if law == "u-law" else ALAW
    return [table[b] for b in data]


@dataclass
class Wav:
    channels: int
    rate: int
    sample_width: int
    frames: int
    data: list[list[int]]  # per channel

    @property
    def duration(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


def read_wav(path: Path) -> Wav:
    with wave.open(str(path), "rb") as w:
        ch, rate, width, n = w.getnchannels(), w.getframerate(), w.getsampwidth(), w.getnframes()
        raw = w.readframes(n)
    if width != 2:
        raise AssertionError(f"{path}: sample width {width} bytes, expected 2 (PCM 16-bit)")
    samples = struct.unpack(f"<{len(raw) // 2}h", raw)
    frames = len(samples) // ch if ch else 0
    return Wav(ch, rate, width, frames, [list(samples[c::ch]) for c in range(ch)])


def goertzel_power(samples: list[int], rate: int, freq: float) -> float:
    """Normalised power of one frequency bin (Goertzel algorithm)."""
    n = len(samples)
    if n == 0:
        return 0.0
    k = round(n * freq / rate)
    w = 2 * math.pi * k / n
    coeff = 2 * math.cos(w)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + coeff * s1 - s2
        s2, s1 = s1, s0
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n)


def band_ratio(samples: list[int], rate: int, want: float, other: float,
               window: int = 8000) -> float:
    """Power at `want` over power at `other`, on the loudest `window` samples region."""
    seg = loudest_segment(samples, window)
    p_want = goertzel_power(seg, rate, want)
    p_other = goertzel_power(seg, rate, other)
    return p_want / max(p_other, 1e-9)


def tone_fraction(samples: list[int], rate: int, freq: float, window: int = 8000) -> float:
    """Share of the segment's energy carried by the tone at `freq` (0..1)."""
    seg = loudest_segment(samples, window)
    if not seg:
        return 0.0
    energy = sum(x * x for x in seg) / len(seg)
    if energy == 0:
        return 0.0
    # A pure sine of amplitude A: mean square A^2/2; Goertzel power = A^2/4.
    return min(1.0, 2 * goertzel_power(seg, rate, freq) / energy)


def loudest_segment(samples: list[int], window: int) -> list[int]:
    if len(samples) <= window:
        return list(samples)
    step = window // 4
    best, best_e = 0, -1.0
    for start in range(0, len(samples) - window + 1, step):
        e = sum(x * x for x in samples[start:start + window:8])
        if e > best_e:
            best, best_e = start, e
    return list(samples[best:best + window])


def rms(samples: list[int]) -> float:
    return math.sqrt(sum(x * x for x in samples) / len(samples)) if samples else 0.0


def onset(samples: list[int], threshold: int = 2000) -> int | None:
    """Index of the first sample whose magnitude exceeds threshold."""
    for i, x in enumerate(samples):
        if abs(x) > threshold:
            return i
    return None


def active_span(samples: list[int], rate: int, threshold: int = 2000) -> float:
    """Seconds between the first and the last loud sample."""
    first = onset(samples, threshold)
    if first is None:
        return 0.0
    last = len(samples) - 1 - onset(samples[::-1], threshold)
    return (last - first + 1) / rate


def silent_gaps(samples: list[int], rate: int, window_ms: int = 20,
                threshold_rms: float = 500.0) -> list[tuple[float, float]]:
    """(start_s, length_s) of silent runs strictly inside the active span."""
    first = onset(samples, 2000)
    if first is None:
        return []
    last = len(samples) - onset(samples[::-1], 2000)
    win = rate * window_ms // 1000
    gaps, run_start = [], None
    for start in range(first, last - win + 1, win):
        quiet = rms(samples[start:start + win]) < threshold_rms
        if quiet and run_start is None:
            run_start = start
        elif not quiet and run_start is not None:
            gaps.append((run_start / rate, (start - run_start) / rate))
            run_start = None
    return gaps
