"""A SIPp call that runs in the background while the test talks to siprecd's API.

support/calls.py's sipp_call() blocks for the whole call; the control-plane tests need to
act in the middle of it (PAUSE, STOP, CANCEL, STORE while recording). `LiveCall` starts
SIPp and the RTP sender, returns once the call is answered and the media flows, and is
finished with wait().

Scenarios: "siprec_uac.xml" (SIPp sends BYE after `seconds` + 100 ms) or
"siprec_uac_remote_bye.xml" (SIPp waits for siprecd's BYE and answers it; the RTP
sender stops when the BYE arrives or after `seconds`).
"""

from __future__ import annotations

import time
from pathlib import Path

from .rtp import MultiRtpSender, RtpStream
from .sipp import SippRun

REMOTE_BYE = "siprec_uac_remote_bye.xml"


class LiveCall:
    def __init__(self, sip_port: int, payloads: list[bytes], workdir: Path, *,
                 seconds: float = 3.0, scenario: str = "siprec_uac.xml", transport: str = "udp",
                 name: str | None = None):
        self.seconds = seconds
        self.scenario = scenario
        self.streams = [RtpStream(payload=p) for p in payloads]
        keys = {f"rtp{i + 1}": s.local_port for i, s in enumerate(self.streams)}
        self.sipp = SippRun(scenario, sip_port, workdir, transport=transport, keys=keys,
                            call_ms=int(seconds * 1000) + 100, name=name)
        self.sender: MultiRtpSender | None = None
        self.call_id = ""
        self.ports: list[int] = []
        self.answered_at = 0.0  # time.monotonic() when the 200 OK was seen
        self.rc: int | None = None

    def start(self, answer_timeout: float = 10.0) -> "LiveCall":
        """Starts SIPp, waits for the 200 OK and starts the RTP of every stream."""
        self.sipp.start()
        try:
            ans = self.sipp.wait_answer(timeout=answer_timeout)
        except BaseException:
            self.close()
            raise
        self.answered_at = time.monotonic()
        self.call_id = ans["call_id"]
        self.ports = [int(ans[f"p{i + 1}"]) for i in range(len(self.streams))]
        for s, p in zip(self.streams, self.ports):
            s.dest = ("127.0.0.1", p)
        self.sender = MultiRtpSender(self.streams, self.seconds).start()
        return self

    def bye_received(self) -> bool:
        return any(ln.startswith("BYE-RECEIVED") for ln in self.sipp.logs())

    def wait_bye(self, timeout: float = 10.0) -> None:
        """For the remote-BYE scenario: waits until siprecd's BYE reached SIPp, then stops
        the media (as a real SRC would)."""
        self.sipp.wait_log("BYE-RECEIVED", timeout=timeout)
        if self.sender:
            self.sender.stop()

    def wait(self, timeout: float | None = None) -> int:
        """Waits for SIPp to finish the call; returns its exit code (0: call succeeded)."""
        limit = timeout if timeout is not None else self.seconds + 15
        try:
            self.rc = self.sipp.wait(limit)
        finally:
            self.close()
        return self.rc

    def close(self) -> None:
        if self.sender:
            self.sender.stop()
        self.sipp.kill()
        for s in self.streams:
            s.close()

    def diagnostics(self) -> str:
        return self.sipp.diagnostics()
