"""(12) Command line: --help, --version, --check-config; configuration by environment."""

from __future__ import annotations

import re
import subprocess

import pytest

from support.siprecd import Siprecd

pytestmark = pytest.mark.needs_binary

FLAGS = ["--sip-listen", "--http-listen", "--data-dir", "--rtp-ports", "--media-ip",
         "--log-level", "--config", "--tls-cert", "--tls-key", "--check-config", "--version",
         "--help"]


def run(binary, *args, timeout=10):
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_help_mentions_every_flag(siprecd_bin):
    r = run(siprecd_bin, "--help")
    assert r.returncode == 0, f"--help exit {r.returncode}: {r.stderr[-500:]}"
    text = r.stdout + r.stderr
    missing = [f for f in FLAGS if f not in text]
    assert not missing, f"--help does not mention {missing}:\n{text}"


def test_version(siprecd_bin):
    r = run(siprecd_bin, "--version")
    assert r.returncode == 0, f"--version exit {r.returncode}: {r.stderr[-500:]}"
    out = (r.stdout + r.stderr).strip()
    assert re.search(r"\d+\.\d+", out), f"--version prints no version number: {out!r}"
    assert "siprecd" in out.lower(), f"--version does not name the program: {out!r}"


def test_unknown_flag_fails(siprecd_bin):
    r = run(siprecd_bin, "--no-such-flag")
    assert r.returncode != 0
    assert "--no-such-flag" in r.stderr or "no-such-flag" in r.stderr, r.stderr


VALID = """domains:
  - name: default
    decision_delay_ms: 3000
"""


def test_check_config_accepts_valid_file(siprecd_bin, tmp_path):
    cfg = tmp_path / "ok.yaml"
    cfg.write_text(VALID)
    r = run(siprecd_bin, "--config", str(cfg), "--check-config")
    assert r.returncode == 0, f"valid config rejected (exit {r.returncode}): {r.stderr[-1000:]}"


@pytest.mark.parametrize("text,bad_key", [
    ("domains:\n  - name: default\n    decision_delay_ms: soon\n", "decision_delay_ms"),
    ("domains:\n  - name: default\n    decison_delay_ms: 10\n", "decison_delay_ms"),
    ("no_such_section:\n  x: 1\n", "no_such_section"),
], ids=["bad-value", "misspelt-domain-key", "unknown-top-level-key"])
def test_check_config_rejects_invalid_file_naming_the_key(siprecd_bin, tmp_path, text, bad_key):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    r = run(siprecd_bin, "--config", str(cfg), "--check-config")
    assert r.returncode == 2, f"invalid config: exit {r.returncode} (expected 2); stderr: {r.stderr[-1000:]}"
    assert bad_key in r.stderr, f"stderr does not name {bad_key!r}: {r.stderr[-1000:]}"


def test_check_config_rejects_unparseable_yaml(siprecd_bin, tmp_path):
    cfg = tmp_path / "broken.yaml"
    cfg.write_text("domains: [\n  - name: default\n")
    r = run(siprecd_bin, "--config", str(cfg), "--check-config")
    assert r.returncode == 2, f"exit {r.returncode}; stderr: {r.stderr[-500:]}"


def test_environment_variables_configure_the_listeners(siprecd):
    """SIPRECD_SIP_LISTEN, _HTTP_LISTEN, _DATA_DIR, _RTP_PORTS, _MEDIA_IP, _LOG_LEVEL
    instead of flags (log level warn: no info line may appear)."""
    srv: Siprecd = siprecd(via_env=True, log_level="warn")
    ua = srv.ua("udp")
    assert ua.options(srv.request_uri).final.status == 200
    ua.close()
    tcp = srv.ua("tcp")
    assert tcp.options(srv.request_uri).final.status == 200
    tcp.close()
    assert (srv.data_dir / "siprecd.db").is_file(), "SIPRECD_DATA_DIR not used"
    chatty = [r for r in srv.log_records() if r.get("level") in ("trace", "debug", "info")]
    assert not chatty, f"SIPRECD_LOG_LEVEL=warn but got: {chatty[:3]}"


def test_logs_are_json_lines(siprecd):
    srv = siprecd()
    ua = srv.ua("udp")
    ua.options(srv.request_uri)
    ua.close()
    records = srv.log_records()
    assert records, "no log output on stderr"
    bad = [r["raw"] for r in records if "raw" in r]
    assert not bad, f"non-JSON log lines on stderr: {bad[:5]}"
    assert all("level" in r for r in records), "log records without level"
