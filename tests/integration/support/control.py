"""Shared set-up of the control-plane tests (test_workflow, test_callbacks, test_commands,
test_api_errors, test_retention): a configuration with callbacks to a real
CallbackReceiver, a started siprecd, an API client, and helpers to get a recording to a
given state through real calls.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from .api_client import ApiClient
from .callback_receiver import CallbackReceiver
from .live_call import LiveCall
from .siprecd import Siprecd

SECRET = "whsec-integration-7c1f"  # callback_secret of the test domains


def domain_yaml(name: str, receiver: CallbackReceiver | None, *, secret: str = SECRET,
                extra: str = "", destinations: dict[str, dict] | None = None) -> str:
    """One `domains:` list item. `extra` is further YAML keys (already indented by 4)."""
    lines = [f"  - name: {name}"]
    if receiver is not None:
        lines += [f"    callback_base: {receiver.base_url}", f"    callback_secret: \"{secret}\""]
    if destinations:
        lines.append("    destinations:")
        for dest, opts in destinations.items():
            lines.append(f"      {dest}:")
            lines += [f"        {k}: {json.dumps(v) if isinstance(v, str) else v}"
                      for k, v in opts.items()]
    if extra:
        lines += [ln for ln in extra.rstrip("\n").split("\n")]
    return "\n".join(lines) + "\n"


def config_yaml(*domains: str, top: str = "") -> str:
    return top + "domains:\n" + "".join(domains)


JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def check_envelope(event: dict, method: str, recording_id: str, *, domain: str = "default",
                   reply_id: bool = True) -> None:
    """The fields every event body carries (DESIGN.md §2): method, eventId, timestamp,
    domain, recordingId and, from RECORDINGSTARTED on, replyId (a JWT)."""
    errors = []
    if event.get("method") != method:
        errors.append(f"method {event.get('method')!r}, expected {method}")
    if not isinstance(event.get("eventId"), str) or not event.get("eventId"):
        errors.append(f"eventId {event.get('eventId')!r}")
    if not event.get("timestamp"):
        errors.append("timestamp missing")
    if event.get("domain") != domain:
        errors.append(f"domain {event.get('domain')!r}, expected {domain!r}")
    if event.get("recordingId") != recording_id:
        errors.append(f"recordingId {event.get('recordingId')!r}, expected {recording_id!r}")
    if reply_id and not JWT.match(str(event.get("replyId", ""))):
        errors.append(f"replyId {event.get('replyId')!r} is not a JWT")
    assert not errors, f"{method} envelope: " + "; ".join(errors) + f"\n{json.dumps(event)[:2000]}"


@dataclass
class ControlPlane:
    srv: Siprecd
    receiver: CallbackReceiver
    api: ApiClient

    def diag(self) -> str:
        return self.srv.log_tail(60)

    def session_dir(self, recording_id: str) -> Path:
        return self.srv.data_dir / "sessions" / recording_id

    def db_row(self, recording_id: str) -> dict | None:
        rows = [r for r in self.srv.db_rows() if r.get("id") == recording_id]
        return rows[0] if rows else None

    def wait_db_state(self, recording_id: str, state: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            row = self.db_row(recording_id)
            if row and row.get("state") == state:
                return row
            if time.monotonic() > deadline:
                raise AssertionError(f"recording {recording_id} not '{state}' in the db within "
                                     f"{timeout}s: {row}\n{self.diag()}")
            time.sleep(0.1)

    def pending_events(self) -> list[dict]:
        """Rows of the outbox not yet delivered (read-only; WAL lets siprecd keep writing)."""
        db = self.srv.data_dir / "siprecd.db"
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute(
                "SELECT sequence, event_id, recording_id, name, status, attempts FROM events "
                "WHERE status = 'pending' ORDER BY sequence")]
        finally:
            con.close()

    def call(self, tones: dict[str, bytes], workdir: Path, *, seconds: float = 2.0,
             scenario: str = "siprec_uac.xml", name: str | None = None) -> LiveCall:
        """Starts a two-stream call (440 Hz caller, 1200 Hz callee); returns once answered."""
        return LiveCall(self.srv.sip_port, [tones["440"], tones["1200"]], workdir,
                        seconds=seconds, scenario=scenario, name=name).start()

    def recorded_call(self, tones: dict[str, bytes], workdir: Path, seconds: float = 2.0,
                      name: str | None = None) -> tuple[str, dict, dict]:
        """A whole call; returns (recordingId, RECORDINGSTARTED body, RECORDINGREADY body)."""
        call = self.call(tones, workdir, seconds=seconds, name=name)
        rc = call.wait()
        assert rc == 0, f"SIPp call failed (rc {rc})\n{call.diagnostics()}\n{self.diag()}"
        rid = self.receiver.wait_recording_id(call.call_id, diag=self.diag)
        started = self.receiver.wait_event("RECORDINGSTARTED", rid, diag=self.diag)
        ready = self.receiver.wait_event("RECORDINGREADY", rid, timeout=15, diag=self.diag)
        return rid, started, ready


@pytest.fixture
def receiver():
    """A running CallbackReceiver verifying signatures with SECRET (test modules import
    this fixture: `from support.control import receiver  # noqa: F401`)."""
    r = CallbackReceiver(SECRET).start()
    yield r
    r.stop()


def start_control_plane(siprecd_factory, receiver: CallbackReceiver, config: str,
                        api_key: str | None = None) -> ControlPlane:
    srv = siprecd_factory(config=config)
    return ControlPlane(srv, receiver, ApiClient(srv.http_port, api_key=api_key))
