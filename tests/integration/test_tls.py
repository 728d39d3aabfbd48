"""(10) SIP over TLS (SIPp 3.6 has no TLS, so the Python ssl client is the SRC here)."""

from __future__ import annotations

import socket

import pytest

from checks import check_answer_sdp, check_recording_json, check_wav
from support.calls import PyCall
from support.sipclient import SipUac, Transport

pytestmark = pytest.mark.needs_binary


def test_tls_options_and_recorded_call(siprecd, tls_cert, tones):
    srv = siprecd(tls=tls_cert)
    # The certificate siprecd presents is the one configured (verified against it).
    ua = SipUac(Transport("tls", "127.0.0.1", srv.tls_port, cafile=tls_cert[0],
                          server_hostname="localhost"))
    assert ua.t.sock.version() in ("TLSv1.2", "TLSv1.3")
    r = ua.options(f"sip:srs@127.0.0.1:{srv.tls_port};transport=tls")
    assert r.final is not None and r.final.status == 200, \
        f"OPTIONS over TLS: {r.final.first_line if r.final else 'no response'}\n{srv.log_tail()}"

    call = PyCall(ua, f"sip:srs@127.0.0.1:{srv.tls_port};transport=tls",
                  [tones["440"], tones["1200"]])
    final = call.setup()
    assert final is not None and final.status == 200, f"INVITE over TLS got {final}\n{srv.log_tail()}"
    ports = check_answer_sdp(final.sdp(), srv, ["1", "2"])
    call.send_audio(2.0)
    bye = call.hangup()
    assert bye is not None and bye.status == 200, f"BYE over TLS got {bye}"
    rec = srv.wait_recording(call.call_id)
    wav = check_wav(rec, 2, 2.0, [440.0, 1200.0])
    check_recording_json(rec, call.call_id, seconds=2.0, wav=wav, streams=[
        {"label": "1", "codec": "PCMU", "port": ports[0], "packets": 100},
        {"label": "2", "codec": "PCMU", "port": ports[1], "packets": 100},
    ])
    ua.close()


def test_tls_rejects_plaintext_and_keeps_serving(siprecd, tls_cert):
    """A plaintext SIP message on the TLS port fails the handshake; TLS clients still work."""
    srv = siprecd(tls=tls_cert)
    c = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=3)
    c.sendall("OPTIONS sip:srs@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n".encode())
    try:
        data = c.recv(1000)
    except (socket.timeout, ConnectionResetError):
        data = b""
    c.close()
    assert not data.startswith(b"SIP/2.0"), "plaintext SIP answered on the TLS port"
    ua = SipUac(Transport("tls", "127.0.0.1", srv.tls_port, cafile=tls_cert[0],
                          server_hostname="localhost"))
    assert ua.options(f"sip:srs@127.0.0.1:{srv.tls_port};transport=tls").final.status == 200
    ua.close()

