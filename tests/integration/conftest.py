"""Fixtures of the siprecd integration suite.

* siprecd_bin  - the binary ($SIPRECD_BIN or <repo>/build/siprecd); tests needing it are
                 skipped, with the path in the reason, when it does not exist.
* siprecd      - factory: siprecd(config=YAML, tls=(cert, key), via_env=..., extra_args=...)
                 starts an instance on free ports with a fresh data dir and waits for
                 /readyz; at teardown SIGTERM, then a clean exit (code 0) and no critical
                 log line are asserted.
* tones        - 8 kHz G.711 test audio made with sox: tones["440"], tones["1200"] (mu-law,
                 4 s each) and tones["440a"] (A-law).
* tls_cert     - (cert, key) of a self-signed certificate for 127.0.0.1/localhost (openssl).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import audio  # noqa: E402
from support.siprecd import Siprecd, binary_path  # noqa: E402


@pytest.fixture(scope="session")
def siprecd_bin() -> Path:
    path = binary_path()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"siprecd binary not found at {path} (build it or set SIPRECD_BIN)")
    return path


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def siprecd(siprecd_bin, tmp_path, request):
    """Factory starting siprecd instances; all are stopped and checked at teardown.

    After a passed test the full shutdown contract is checked (SIGTERM drains, exit code
    0, no critical log line). After a failed test a call may still be up, which would
    make the drain wait for the RTP timeout: then siprecd gets 3 s before SIGKILL and
    only crash markers are reported, so the test's own failure stays the headline.
    """
    instances: list[Siprecd] = []

    def start(**kw) -> Siprecd:
        inst = Siprecd(siprecd_bin, tmp_path / f"siprecd-{len(instances)}", **kw)
        instances.append(inst)
        try:
            inst.start()
        except BaseException:
            inst.stop(timeout=5)
            raise
        return inst

    yield start
    rep = getattr(request.node, "rep_call", None)
    failed = rep is None or rep.failed
    problems = []
    for inst in instances:
        found = inst.stop(timeout=3.0 if failed else 15.0)
        if failed:
            found = [p for p in found if p.startswith("stderr contains")
                     or " critical log line" in p.split(":")[0]]
        problems += found
    if problems:
        pytest.fail("siprecd shutdown check failed:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def tones(tmp_path_factory) -> dict[str, bytes]:
    if not shutil.which("sox"):
        pytest.skip("sox not installed (apt-get install sox)")
    d = tmp_path_factory.mktemp("audio")
    return {
        "440": audio.make_tone(d / "tone440.ul", 440, 4.0),
        "1200": audio.make_tone(d / "tone1200.ul", 1200, 4.0),
        "440a": audio.make_tone(d / "tone440.al", 440, 4.0, encoding="a-law"),
    }


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory) -> tuple[str, str]:
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    return str(cert), str(key)
