#!/usr/bin/env python3
"""RTP receive capacity of siprecd against a bare reference receiver (part of `make bench`).

Usage: bench/capacity.py BUILD_DIR

Every figure comes from real runs on loopback: the receiver (siprecd, or bench/bare_receiver)
is pinned to CPU 0, the load generator (bench/rtp_load) to CPU 1. A probe sets up N
two-stream G.711 calls (through siprecd's SIP for real; straight to the ports for the bare
receiver), sends 20 ms RTP to every stream for a window, reads the receiver's packet count
and ends the calls with BYE. A probe passes when every call was answered and no packet was
lost. When the generator could not send the nominal rate (50 packets/s per stream, within
2 %) the probe says nothing about the receiver: the search stops there and the capacity is
reported as at least the last passing N ("generator-limited"; give the generator a quieter
CPU). Late bursts that the generator catches up on are fine: they only make the test harder.

Capacity: the largest N that passes, found by doubling from BENCH_CPU_CALLS up to
BENCH_MAX_CALLS with short probes (the bare receiver's search starts at siprecd's result),
bisecting to a sixth, then confirmed over BENCH_CAPACITY_SECONDS (stepping down 10 % when
the confirmation fails). The first probe (BENCH_CPU_CALLS calls over BENCH_CPU_SECONDS)
gives CPU, RSS and descriptors per call. A default run takes about 8 minutes.

Environment (all optional):
  BENCH_CAPACITY_SECONDS  confirmation window, default 60
  BENCH_PROBE_SECONDS     search probe window, default 8
  BENCH_CPU_CALLS         calls of the CPU/RSS probe and first search step, default 1000
  BENCH_CPU_SECONDS       its window, default 20
  BENCH_MAX_CALLS         search ceiling; default: what the open-file hard limit allows
                          siprecd (6 descriptors per call), rounded down to 100
  BENCH_STEP              search resolution in calls, default 100
  BENCH_SETUP_RATE        call set-ups per second, default 500
  BENCH_CAPACITY=0        skip the capacity search (CPU/RSS probe only)
  BENCH_FD_CALLS          calls of the descriptor probe (siprecd, open descriptors counted
                          in /proc/PID/fd during the window), default 3000; 0 skips it
  BENCH_FD_SECONDS        its window, default 10
  BENCH_BARE=0            skip the bare receiver
  BENCH_BACKENDS=0        skip the recvmmsg / io_uring comparison of the engine alone
  BENCH_RECEIVE_BACKEND   siprecd's media.receive_backend (recvmmsg or io_uring); default:
                          siprecd's default
  BENCH_RX_CPU, BENCH_GEN_CPU   CPUs of the receiver and the generator (taskset lists),
                          default 0 and 1
  BENCH_RX_NICE           nice value of both receivers (siprecd and the bare one alike),
                          default 0; e.g. -10 on a machine shared with other work (needs
                          root or CAP_SYS_NICE), so that the receivers, not the neighbours,
                          are measured
  BENCH_GEN_THREADS       generator sender threads, default 1 (more need more BENCH_GEN_CPU)
  BENCH_GEN_REALTIME=0    do not run the generator's sender threads SCHED_FIFO (they do
                          when permitted, so that other load on their CPU cannot starve them)

On loopback the generator's CPU also pays the kernel's delivery of every packet, so one
generator core offers roughly what one receiver core takes: on a two-CPU machine the bare
receiver's capacity is usually "generator-limited". With more CPUs, e.g.
BENCH_GEN_CPU=1-3 BENCH_GEN_THREADS=3.
"""

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

DESCRIPTORS_PER_CALL = 6  # 2 streams x (RTP socket + RTCP socket + spool file)


def env_int(name, default):
    return int(os.environ.get(name, default))


BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
SIPRECD = os.path.join(BUILD, "siprecd")
TOOLS = os.path.join(BUILD, "bench")
RX_CPU = os.environ.get("BENCH_RX_CPU", "0")
RX_NICE = env_int("BENCH_RX_NICE", 0)
RX_PREFIX = ["taskset", "-c", RX_CPU] + (["nice", "-n", str(RX_NICE)] if RX_NICE else [])
GEN_CPU = os.environ.get("BENCH_GEN_CPU", "1")
RECEIVE_BACKEND = os.environ.get("BENCH_RECEIVE_BACKEND", "")
GEN_THREADS = env_int("BENCH_GEN_THREADS", 1)
GEN_REALTIME = os.environ.get("BENCH_GEN_REALTIME", "1") != "0"
CAPACITY_S = env_int("BENCH_CAPACITY_SECONDS", 60)
PROBE_S = env_int("BENCH_PROBE_SECONDS", 8)
CPU_CALLS = env_int("BENCH_CPU_CALLS", 1000)
CPU_S = env_int("BENCH_CPU_SECONDS", 20)
STEP = env_int("BENCH_STEP", 100)
FD_CALLS = env_int("BENCH_FD_CALLS", 3000)
FD_S = env_int("BENCH_FD_SECONDS", 10)
SETUP_RATE = env_int("BENCH_SETUP_RATE", 500)
HARD_FDS = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
DEFAULT_MAX = (min(HARD_FDS, 1 << 20) - 300) // DESCRIPTORS_PER_CALL // STEP * STEP
MAX_CALLS = env_int("BENCH_MAX_CALLS", DEFAULT_MAX)
FIRST_RTP_PORT, LAST_RTP_PORT = 10000, 59999


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_load(args):
    command = ["taskset", "-c", GEN_CPU, os.path.join(TOOLS, "rtp_load"),
               "--setup-rate", str(SETUP_RATE), "--sender-threads", str(GEN_THREADS)] + \
        (["--realtime"] if GEN_REALTIME else []) + [str(a) for a in args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"rtp_load failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return json.loads(lines[-1])


MIN_OFFERED = 0.98


def verdict(result):
    if result["answered"] < result["calls"]:
        return "setup failed"
    if result["received"] < 0:
        return "no count"
    if result["lost"] > 0:
        return "loss"
    if result["offered_ratio"] < MIN_OFFERED:
        return "generator-limited"
    return "ok"


def siprecd_probe(calls, seconds):
    work = tempfile.mkdtemp(prefix="siprecd-bench-")
    sip, http = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    config = os.path.join(work, "siprecd.yaml")
    with open(config, "w") as out:
        out.write("media:\n  threads: 1\n")
        if RECEIVE_BACKEND:
            out.write(f"  receive_backend: {RECEIVE_BACKEND}\n")
    log = open(os.path.join(work, "siprecd.log"), "w")
    proc = subprocess.Popen(
        RX_PREFIX + [SIPRECD, "--config", config,
         "--sip-listen", f"udp:127.0.0.1:{sip}", "--http-listen", f"127.0.0.1:{http}",
         "--data-dir", os.path.join(work, "data"),
         "--rtp-ports", f"{FIRST_RTP_PORT}-{LAST_RTP_PORT}", "--media-ip", "127.0.0.1",
         "--log-level", "warn"], stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http}/readyz", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("siprecd did not become ready")
                time.sleep(0.1)
        return run_load(["--calls", calls, "--seconds", seconds, "--sip", f"127.0.0.1:{sip}",
                         "--metrics", f"127.0.0.1:{http}", "--watch-pid", proc.pid])
    finally:
        # The calls have ended; their recordings' rendering is not what is measured.
        proc.kill()
        proc.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def direct_probe(command, calls, seconds):
    """Runs a receiver that writes its ports to --ports-file, and loads it directly."""
    work = tempfile.mkdtemp(prefix="siprecd-bench-")
    ports, metrics = os.path.join(work, "ports"), free_port(socket.SOCK_STREAM)
    proc = subprocess.Popen(
        RX_PREFIX + command +
        ["--streams", str(2 * calls), "--first-port", str(FIRST_RTP_PORT),
         "--last-port", str(LAST_RTP_PORT), "--dir", os.path.join(work, "data"),
         "--metrics-port", str(metrics), "--ports-file", ports],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not os.path.exists(ports):
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("receiver did not start: " + (proc.stderr.read() or "")[-500:])
            time.sleep(0.1)
        return run_load(["--calls", calls, "--seconds", seconds, "--direct", ports,
                         "--metrics", f"127.0.0.1:{metrics}", "--watch-pid", proc.pid])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def bare_probe(calls, seconds):
    return direct_probe([os.path.join(TOOLS, "bare_receiver")], calls, seconds)


def engine_probe(backend):
    def probe(calls, seconds):
        return direct_probe([os.path.join(TOOLS, "media_engine_bench"), "--backend", backend,
                             "--threads", "1"], calls, seconds)
    return probe


def log_probe(name, calls, seconds, result):
    print(f"  {name:<8} {calls:>6} calls {seconds:>3} s: {verdict(result):<18} "
          f"lost {result['lost']:.0f}/{result['sent']}, "
          f"offered {100 * result['offered_ratio']:.1f} %, "
          f"{result['cpu_core_percent']:.1f} % core, "
          f"{result['cpu_us_per_packet']:.2f} us/packet, generator late max "
          f"{result['max_late_ms']:.1f} ms ({result.get('elapsed_s', 0):.0f} s)", flush=True)


def capacity(name, probe, first_result, start=None):
    """Doubling search, bisection, confirmation.

    Returns (calls, limit, result at calls): limit is None when packets were lost above,
    "setup" when calls were refused there (see siprecd's log: ports, descriptors), "generator"
    when only the generator stopped the search, "ceiling" at BENCH_MAX_CALLS.
    """
    probed = {CPU_CALLS: first_result}
    failures = {}  # calls -> verdict, for every probe that did not pass

    def passes(calls, seconds=PROBE_S):
        result = probed.get(calls) if seconds == PROBE_S else None
        if result is None:
            began = time.time()
            result = probe(calls, seconds)
            result["elapsed_s"] = time.time() - began
            log_probe(name, calls, seconds, result)
            if seconds == PROBE_S:
                probed[calls] = result
        outcome = verdict(result)
        if outcome != "ok":
            failures[calls] = outcome
        return outcome == "ok", result

    good, bad = (CPU_CALLS, None) if passes(CPU_CALLS)[0] else (0, CPU_CALLS)
    if bad is None and good < MAX_CALLS:
        calls = min(MAX_CALLS, start if start and start > good else good * 2)
        while True:
            if passes(calls)[0]:
                good = calls
                if calls >= MAX_CALLS:
                    break
                calls = min(MAX_CALLS, calls * 2)
            else:
                bad = calls
                break
    while bad is not None and bad - good > max(STEP, good // 6):
        mid = (good + bad) // 2 // STEP * STEP
        if mid <= good or mid >= bad:
            break
        if passes(mid)[0]:
            good = mid
        else:
            bad = mid
    confirmed = None
    for _ in range(3):
        if good <= 0:
            break
        ok, confirmed = passes(good, CAPACITY_S)
        if ok:
            break
        if verdict(confirmed) == "generator-limited":
            # Nothing lost: the generator could not hold the rate over the longer window.
            # The short probe's pass stands, as a lower bound.
            confirmed = probed.get(good, confirmed)
            break
        good = good * 9 // 10 // STEP * STEP
    else:
        good = 0 if confirmed is None or verdict(confirmed) != "ok" else good
    above = {outcome for n, outcome in failures.items() if n > good}
    if "loss" in above:
        limit = None
    elif "setup failed" in above:
        limit = "setup"
    elif above:
        limit = "generator"
    else:
        limit = "ceiling" if good >= MAX_CALLS else None
    return good, limit, confirmed


def per_call(result, key):
    return result[key] if result else float("nan")


def main():
    started = time.time()
    print(f"== RTP receive capacity: one media thread (receiver on CPU {RX_CPU}, "
          f"load generator on CPU {GEN_CPU}, loopback) ==")
    backend = RECEIVE_BACKEND or "siprecd's default"
    print(f"siprecd receive backend: {backend}; receivers' nice value {RX_NICE}")
    print(f"G.711 20 ms, 2 streams per call; probes of {PROBE_S} s, confirmation {CAPACITY_S} s, "
          f"search ceiling {MAX_CALLS} calls (open-file hard limit {HARD_FDS}, "
          f"{DESCRIPTORS_PER_CALL} descriptors per siprecd call)", flush=True)
    rows = {}
    for name, probe, wanted in (("siprecd", siprecd_probe, True),
                                ("bare", bare_probe, os.environ.get("BENCH_BARE", "1") != "0")):
        if not wanted:
            continue
        began = time.time()
        first = probe(CPU_CALLS, CPU_S)
        first["elapsed_s"] = time.time() - began
        log_probe(name, CPU_CALLS, CPU_S, first)
        row = {"first": first}
        if os.environ.get("BENCH_CAPACITY", "1") != "0":
            start = rows["siprecd"]["capacity"] if "siprecd" in rows else None
            row["capacity"], row["limit"], row["confirm"] = capacity(name, probe, first, start)
        rows[name] = row

    print()
    header = f"{'':<36}{'siprecd':>22}{'bare receiver':>22}"
    print(header)

    def line(label, render, target=""):
        cells = [render(rows[n]) if n in rows else "-" for n in ("siprecd", "bare")]
        print(f"{label:<36}{cells[0]:>22}{cells[1]:>22}  {target}")

    if all("capacity" in row for row in rows.values()) and rows:
        line(f"capacity, zero loss over {CAPACITY_S} s",
             lambda r: "not established" if r["capacity"] == 0
             else (">= " if r["limit"] else "") + f"{r['capacity']} calls")
        line("  limited by", lambda r: {None: "packet loss", "ceiling": "BENCH_MAX_CALLS",
                                        "setup": "calls refused",
                                        "generator": "load generator"}[r["limit"]])
        if "bare" in rows and rows["bare"]["capacity"] > 0 and rows["siprecd"]["capacity"] > 0:
            ratio = 100.0 * rows["siprecd"]["capacity"] / rows["bare"]["capacity"]
            note = ""
            if rows["siprecd"]["limit"] or rows["bare"]["limit"]:
                note = " (a lower bound stands in for a capacity: see 'limited by')"
            print(f"{'  siprecd / bare':<36}{ratio:>21.0f}%{'':>22}  target >= 90 %{note}")
        line("packets lost at capacity",
             lambda r: f"{per_call(r['confirm'], 'lost'):.0f} of {per_call(r['confirm'], 'sent'):.0f}"
             if r["confirm"] else "-")
    line(f"CPU per call at {CPU_CALLS} calls",
         lambda r: f"{r['first']['cpu_percent_per_call']:.4f} % core", "target <= 0.05 % "
         "(CPU per packet x 100 packets/s)")
    line("  CPU per packet",
         lambda r: f"{r['first']['cpu_us_per_packet']:.2f} us")
    line("  of which media threads",
         lambda r: f"{r['first']['media_us_per_packet']:.2f} us" if r["first"]["media_core_percent"] > 0 else "-")
    # The bare receiver binds its sockets and allocates its buffers before the first sample.
    line(f"RSS per call at {CPU_CALLS} calls",
         lambda r: f"{r['first']['rss_per_call_kib']:.1f} KiB" if r is rows.get("siprecd") else "-",
         "target < 64 KiB")
    line("descriptors per call",
         lambda r: f"{r['first']['fds_per_call']:.2f}" if r is rows.get("siprecd") else "-",
         f"target <= {DESCRIPTORS_PER_CALL} (2 x RTP, RTCP, spool)")
    line(f"loss at {CPU_CALLS} calls",
         lambda r: f"{r['first']['lost']:.0f} of {r['first']['sent']}")

    if FD_CALLS > 0:
        # Whether the descriptor budget holds at scale: every call must be answered (a call
        # over budget gets 503) and hold at most DESCRIPTORS_PER_CALL descriptors.
        print(f"\n== Descriptors at {FD_CALLS} calls (siprecd, {FD_S} s window) ==")
        fd = siprecd_probe(FD_CALLS, FD_S)
        print(f"answered {fd['answered']} of {FD_CALLS}; open descriptors {fd['fds']} "
              f"(base {fd['fds_base']}, open-file limit {HARD_FDS}): "
              f"{fd['fds_per_call']:.2f} per call (target <= {DESCRIPTORS_PER_CALL}); "
              f"RSS {fd['rss_per_call_kib']:.1f} KiB per call; "
              f"lost {fd['lost']:.0f} of {fd['sent']}, offered {100 * fd['offered_ratio']:.1f} %",
              flush=True)

    if os.environ.get("BENCH_BACKENDS", "1") != "0":
        print(f"\n== Receive backends: the engine alone (bench/media_engine_bench), 1 thread, "
              f"{CPU_CALLS} calls, {CPU_S} s ==")
        for backend in ("recvmmsg", "io_uring"):
            result = engine_probe(backend)(CPU_CALLS, CPU_S)
            print(f"{backend:<10} {result['cpu_us_per_packet']:.2f} us/packet "
                  f"(media thread {result['media_us_per_packet']:.2f}), "
                  f"{result['cpu_percent_per_call']:.4f} % core per call, "
                  f"lost {result['lost']:.0f} of {result['sent']}, {verdict(result)}", flush=True)
    print(f"\n(capacity benchmark took {time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
