"""Retention (DESIGN.md §1: no DELETERECORDING within the retention period -> automatic
delete -> RECORDINGDELETED with reason retention).

Two recordings of a domain with retention_hours: 1; one is made two hours old in the
database (created_ms, written with sqlite3 while siprecd runs: WAL mode allows it), and the
janitor (retention.check_interval_s: 1) must delete it (event, files, state) while the young
one stays.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from support.control import (check_envelope, config_yaml, domain_yaml, receiver,  # noqa: F401
                             start_control_plane)

pytestmark = pytest.mark.needs_binary


def make_old(db_path, recording_id: str, age_ms: int) -> None:
    con = sqlite3.connect(str(db_path), timeout=10)
    try:
        con.execute("PRAGMA busy_timeout = 10000")
        cur = con.execute("UPDATE recordings SET created_ms = ? WHERE id = ?",
                          (int(time.time() * 1000) - age_ms, recording_id))
        con.commit()
        assert cur.rowcount == 1, f"no recordings row {recording_id} to age"
    finally:
        con.close()


def test_retention_deletes_only_recordings_past_their_period(siprecd, receiver, tones, tmp_path):
    config = config_yaml(domain_yaml("default", receiver, extra="    retention_hours: 1"),
                         top="retention:\n  check_interval_s: 1\n")
    cp = start_control_plane(siprecd, receiver, config)
    calls = [cp.call(tones, tmp_path / f"sipp{i}", seconds=1.0, name=f"call{i}") for i in (1, 2)]
    for c in calls:
        assert c.wait() == 0, f"{c.diagnostics()}\n{cp.diag()}"
    old, young = (receiver.wait_recording_id(c.call_id, diag=cp.diag) for c in calls)
    for rid in (old, young):
        receiver.wait_event("RECORDINGREADY", rid, timeout=15, diag=cp.diag)
    assert cp.session_dir(old).is_dir() and cp.session_dir(young).is_dir()

    time.sleep(1.5)  # a janitor round or two with nothing to do
    assert not receiver.events(old, "RECORDINGDELETED"), "deleted before its retention period"
    make_old(cp.srv.data_dir / "siprecd.db", old, age_ms=2 * 3600 * 1000)

    deleted = receiver.wait_event("RECORDINGDELETED", old, timeout=10, diag=cp.diag)
    check_envelope(deleted, "RECORDINGDELETED", old)
    assert deleted.get("reason") == "retention", deleted
    cp.wait_db_state(old, "deleted")
    deadline = time.monotonic() + 5
    while cp.session_dir(old).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not cp.session_dir(old).exists(), \
        f"retention left {sorted(p.name for p in cp.session_dir(old).iterdir())}"
    assert cp.api.state(old) in ("deleted", None)
    methods = receiver.check_order(old)
    assert methods[-1] == "RECORDINGDELETED", methods

    time.sleep(1.0)  # anything wrongly queued for the young one would be out by now
    assert (cp.db_row(young) or {}).get("state") == "ready", cp.db_row(young)
    assert (cp.session_dir(young) / "recording.wav").is_file(), "the young recording lost its audio"
    assert not receiver.events(young, "RECORDINGDELETED"), "the young recording was deleted"
