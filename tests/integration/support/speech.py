"""Synthetic speech for the codec tests: two speakers made with espeak-ng and sox, and the
analysis that tells them apart in a recording (standard library only).

Each speaker says a few short phrases at fixed times of a common timeline: speaker A
talks in the first half, speaker B in the second, so a recording channel can be matched
to its speaker by the shape of its energy over time (20 ms RMS frames), independently of
the codec, and the times of its talk spurts can be compared with the times they were sent.

The source is built at 48 kHz (every phrase trimmed of leading and trailing silence,
normalised to -3 dBFS peak and placed so that it starts exactly at its planned time) and
resampled by sox (linear phase, no delay) to the rates the codecs are fed with.
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import wave
from dataclasses import dataclass, field
from pathlib import Path

ESPEAK = shutil.which("espeak-ng")
SOX = shutil.which("sox") or "/usr/bin/sox"
MASTER_RATE = 48000
RATES = (8000, 16000, 48000)
FLOOR_DB = -60.0  # envelopes are clipped here: below is "silence" for every codec


@dataclass(frozen=True)
class Phrase:
    at_s: float  # where the phrase's first sample lies on the timeline
    text: str


@dataclass(frozen=True)
class Speaker:
    name: str
    voice: str  # espeak-ng voice (+variant)
    pitch: int  # espeak-ng -p, 0..99
    phrases: tuple[Phrase, ...]


# A talks in the first half, B in the second; each has two spurts with a pause between.
SPEAKER_A = Speaker("A", "en-us+m3", 35, (Phrase(0.15, "Hello, Alice here."),
                                         Phrase(1.40, "Hear me?")))
SPEAKER_B = Speaker("B", "en-gb-x-rp+f3", 75, (Phrase(2.05, "Bob here."),
                                              Phrase(2.80, "Go ahead.")))
SECONDS = 3.5  # timeline length; the last phrase ends 0.2 s before it or earlier


@dataclass
class SpeechSource:
    """One speaker's audio: WAV files (16-bit mono) per rate, the 48 kHz samples and the
    planned spurts [(start_s, end_s)] (a phrase's first and last non-silent sample)."""

    speaker: Speaker
    seconds: float
    paths: dict[int, Path] = field(default_factory=dict)
    samples: list[int] = field(default_factory=list)  # at MASTER_RATE
    spurts: list[tuple[float, float]] = field(default_factory=list)

    def path(self, rate: int) -> Path:
        return self.paths[rate]


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace')}")


def read_mono(path: Path) -> tuple[list[int], int]:
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, path
        rate, raw = w.getframerate(), w.readframes(w.getnframes())
    return list(struct.unpack(f"<{len(raw) // 2}h", raw)), rate


def write_mono(path: Path, samples: list[int], rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))


def make_speech(workdir: Path, speaker: Speaker, seconds: float = SECONDS) -> SpeechSource:
    """Synthesises `speaker`'s phrases and writes <name>_<rate>.wav for every RATES entry."""
    if ESPEAK is None:
        raise RuntimeError("espeak-ng not installed")
    workdir.mkdir(parents=True, exist_ok=True)
    total = int(round(seconds * MASTER_RATE))
    timeline = [0] * total
    src = SpeechSource(speaker, seconds)
    for i, phrase in enumerate(speaker.phrases):
        raw = workdir / f"{speaker.name}_phrase{i}_espeak.wav"
        trimmed = workdir / f"{speaker.name}_phrase{i}.wav"
        _run([ESPEAK, "-v", speaker.voice, "-p", str(speaker.pitch), "-s", "190", "-w", str(raw),
              phrase.text])
        # Leading and trailing silence off (reverse trick), 48 kHz, peak at -3 dBFS.
        _run([SOX, str(raw), "-b", "16", str(trimmed), "silence", "1", "0.005", "0.5%", "reverse",
              "silence", "1", "0.005", "0.5%", "reverse", "rate", "-v", str(MASTER_RATE),
              "gain", "-n", "-3"])
        samples, _ = read_mono(trimmed)
        start = int(round(phrase.at_s * MASTER_RATE))
        end = start + len(samples)
        limit = (int(round(speaker.phrases[i + 1].at_s * MASTER_RATE)) - MASTER_RATE // 5
                 if i + 1 < len(speaker.phrases) else total - MASTER_RATE // 5)
        if end > limit:
            raise RuntimeError(f"speaker {speaker.name}: phrase {phrase.text!r} lasts "
                               f"{len(samples) / MASTER_RATE:.2f}s and runs into the next one")
        timeline[start:end] = samples
        src.spurts.append((start / MASTER_RATE, end / MASTER_RATE))
    src.samples = timeline
    master = workdir / f"{speaker.name}_{MASTER_RATE}.wav"
    write_mono(master, timeline, MASTER_RATE)
    src.paths[MASTER_RATE] = master
    for rate in RATES:
        if rate != MASTER_RATE:
            out = workdir / f"{speaker.name}_{rate}.wav"
            _run([SOX, str(master), "-b", "16", str(out), "rate", "-v", str(rate)])
            src.paths[rate] = out
    return src


# --- analysis ----------------------------------------------------------------------------


def envelope_db(samples: list[int], rate: int, frame_ms: float = 20.0) -> list[float]:
    """RMS of consecutive frames in dBFS, clipped at FLOOR_DB."""
    n = max(1, int(round(rate * frame_ms / 1000)))
    out = []
    for start in range(0, len(samples) - n + 1, n):
        frame = samples[start:start + n]
        ms = sum(x * x for x in frame) / n
        db = 10 * math.log10(ms / (32768.0 * 32768.0)) if ms > 0 else FLOOR_DB
        out.append(max(db, FLOOR_DB))
    return out


def pearson(a: list[float], b: list[float]) -> float:
    """Correlation coefficient of the common prefix of a and b (0 when one is constant)."""
    n = min(len(a), len(b))
    if n < 2:
        return 0.0
    a, b = a[:n], b[:n]
    ma, mb = sum(a) / n, sum(b) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    return cov / math.sqrt(va * vb) if va > 0 and vb > 0 else 0.0


def shifted(env: list[float], frames: int, length: int) -> list[float]:
    """env delayed by `frames` (FLOOR_DB before it; negative: advanced), cut to `length`."""
    if frames >= 0:
        out = [FLOOR_DB] * frames + env
    else:
        out = env[-frames:]
    out = out[:length]
    return out + [FLOOR_DB] * (length - len(out))


def correlation_at(source: list[int], source_rate: int, channel: list[int], rate: int,
                   offset_s: float, frame_ms: float = 20.0) -> float:
    """Envelope correlation of `channel` with `source` placed `offset_s` into it."""
    ch_env = envelope_db(channel, rate, frame_ms)
    src_env = envelope_db(source, source_rate, frame_ms)
    return pearson(shifted(src_env, int(round(offset_s * 1000 / frame_ms)), len(ch_env)), ch_env)


def best_offset(source: list[int], source_rate: int, channel: list[int], rate: int,
                around_s: float, search_s: float = 0.3, frame_ms: float = 5.0
                ) -> tuple[float, float]:
    """(offset_s, correlation): where in `channel` the source lies, searched within
    around_s +- search_s on envelopes of frame_ms frames."""
    ch_env = envelope_db(channel, rate, frame_ms)
    src_env = envelope_db(source, source_rate, frame_ms)
    centre = int(round(around_s * 1000 / frame_ms))
    reach = int(round(search_s * 1000 / frame_ms))
    best = (around_s, -2.0)
    for lag in range(centre - reach, centre + reach + 1):
        c = pearson(shifted(src_env, lag, len(ch_env)), ch_env)
        if c > best[1]:
            best = (lag * frame_ms / 1000, c)
    return best


def talk_spurts(samples: list[int], rate: int, threshold_db: float = -45.0,
                frame_ms: float = 5.0, hangover_ms: float = 150.0,
                min_ms: float = 40.0) -> list[tuple[float, float]]:
    """[(start_s, end_s)] of the runs of frames louder than threshold_db; runs closer than
    hangover_ms are merged, shorter ones than min_ms dropped."""
    env = envelope_db(samples, rate, frame_ms)
    step = frame_ms / 1000
    runs: list[list[float]] = []
    for i, db in enumerate(env):
        if db <= threshold_db:
            continue
        t = i * step
        if runs and t - runs[-1][1] <= hangover_ms / 1000:
            runs[-1][1] = t + step
        else:
            runs.append([t, t + step])
    return [(a, b) for a, b in runs if b - a >= min_ms / 1000]
