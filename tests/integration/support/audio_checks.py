"""Checks of short audio segments (masks, pauses) for the control-plane tests.

support/audio.py's tone helpers look at 1 s windows; masks and pauses are shorter, so
these cut each segment to a whole number of periods of the tone first: the Goertzel bin
then sits exactly on the tone and no energy leaks into neighbouring bins.
"""

from __future__ import annotations

import math

from . import audio

FULL_SCALE = 32767.0


def whole_periods(samples: list[int], rate: int, freq: float) -> list[int]:
    """The longest prefix holding a whole number of periods of `freq` (integer Hz)."""
    step = rate // math.gcd(rate, int(freq))
    return samples[: len(samples) // step * step]


def tone_share(samples: list[int], rate: int, freq: float) -> float:
    """Share (0..1) of the segment's energy at `freq`."""
    seg = whole_periods(samples, rate, freq)
    energy = sum(x * x for x in seg) / len(seg) if seg else 0.0
    if energy == 0:
        return 0.0
    return min(1.0, 2 * audio.goertzel_power(seg, rate, freq) / energy)


def sine_dbfs(samples: list[int]) -> float:
    """Level of a sine in dBFS (its peak relative to full scale), from its RMS."""
    r = audio.rms(samples)
    return 20 * math.log10(max(r * math.sqrt(2), 1e-9) / FULL_SCALE)


def check_tone(samples: list[int], rate: int, freq: float, where: str, *, share: float = 0.8,
               other: float | None = None) -> None:
    """Mostly `freq`, and (with `other`) at least 100 times the power of `other`."""
    frac = tone_share(samples, rate, freq)
    msg = f"{where}: {frac:.2f} of the energy at {freq:.0f} Hz (RMS {audio.rms(samples):.0f})"
    assert frac > share, msg
    if other is not None:
        seg = whole_periods(samples, rate, math.gcd(int(freq), int(other)))
        ratio = audio.goertzel_power(seg, rate, freq) / max(audio.goertzel_power(seg, rate, other), 1e-9)
        assert ratio > 100, f"{msg}; only {ratio:.1f} times the power at {other:.0f} Hz"
