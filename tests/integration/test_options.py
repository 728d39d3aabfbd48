"""(6) OPTIONS outside a dialog (SBC keep-alive) and unknown methods."""

from __future__ import annotations

import pytest

from support.calls import PyCall
from support.sipmsg import build_message, new_branch, new_call_id
from support.sipp import SippRun

pytestmark = pytest.mark.needs_binary


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_options_gets_200_with_matching_headers(siprecd, transport):
    srv = siprecd()
    ua = srv.ua(transport)
    data, branch = ua.request("OPTIONS", srv.request_uri, call_id="opt-" + new_call_id(),
                              from_tag="fromtag1", headers=[("Accept", "application/sdp")])
    ua.send(data)
    r = ua.transaction(branch, "OPTIONS", 3.0)
    assert r.final is not None, f"no answer to OPTIONS over {transport}\n{srv.log_tail()}"
    resp = r.final
    assert resp.status == 200, resp.first_line
    assert resp.top_branch == branch
    assert resp.call_id.startswith("opt-")
    assert resp.cseq == (1, "OPTIONS")
    assert resp.from_tag == "fromtag1"
    assert resp.to_tag, "200 to OPTIONS without To tag"
    via = resp.header_all("via")
    assert len(via) == 1 and f"{ua.host}:{ua.port}" in via[0]
    if transport == "udp":
        # RFC 3581: the request asked for rport, so the response carries the source port.
        assert f"rport={ua.port}" in via[0], f"Via without rport value: {via[0]}"
    ua.close()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_options_from_sipp(siprecd, tmp_path, transport):
    srv = siprecd()
    run = SippRun("options_uac.xml", srv.sip_port, tmp_path, transport=transport).start()
    rc = run.wait()
    assert rc == 0, f"SIPp OPTIONS failed (rc {rc})\n{run.diagnostics()}\n{srv.log_tail()}"


def _unknown_ok(resp) -> tuple[bool, str]:
    if resp is None:
        return False, "no response"
    if resp.status == 501:
        return True, ""
    if resp.status == 405:
        return bool(resp.header("allow")), "405 without Allow header"
    return False, f"got {resp.first_line}"


def test_unknown_method_outside_dialog_gets_501_or_405(siprecd):
    srv = siprecd()
    ua = srv.ua("udp")
    data, branch = ua.request("FROBNICATE", srv.request_uri)
    ua.send(data)
    r = ua.transaction(branch, "FROBNICATE", 3.0, retransmit=data)
    ok, why = _unknown_ok(r.final)
    assert ok, f"unknown method outside a dialog: {why}\n{srv.log_tail()}"
    # and the server still answers
    assert ua.options(srv.request_uri).final.status == 200
    ua.close()


def test_unknown_method_in_dialog_gets_501_or_405(siprecd):
    srv = siprecd()
    ua = srv.ua("udp")
    call = PyCall(ua, srv.request_uri, [b"", b""])
    final = call.setup()
    assert final is not None and final.status == 200, f"INVITE got {final}\n{srv.log_tail()}"
    r = call.call.in_dialog("FROBNICATE")
    ok, why = _unknown_ok(r.final)
    assert ok, f"unknown method in a dialog: {why}\n{srv.log_tail()}"
    assert call.hangup().status == 200, "BYE after the unknown method"
    ua.close()


def test_bye_for_unknown_dialog_gets_481(siprecd):
    """RFC 3261 section 12.2.2: a request within a dialog that does not exist -> 481."""
    srv = siprecd()
    ua = srv.ua("udp")
    data, branch = ua.request("BYE", srv.request_uri, to_tag="nosuchdialog", cseq=2)
    ua.send(data)
    r = ua.transaction(branch, "BYE", 3.0, retransmit=data)
    assert r.final is not None and r.final.status == 481, \
        f"BYE for an unknown dialog: {r.final.first_line if r.final else 'no response'}"
    ua.close()


def test_options_over_udp_without_content_length(siprecd):
    """UDP messages may omit Content-Length (RFC 3261 section 18.3 makes it optional)."""
    srv = siprecd()
    ua = srv.ua("udp")
    branch = new_branch()
    data = build_message(f"OPTIONS {srv.request_uri} SIP/2.0", [
        ("Via", ua.via(branch)), ("Max-Forwards", "70"),
        ("From", f"<sip:src@{ua.host}>;tag=abc"), ("To", f"<{srv.request_uri}>"),
        ("Call-ID", new_call_id()), ("CSeq", "7 OPTIONS")], content_length=False)
    ua.send(data)
    r = ua.transaction(branch, "OPTIONS", 3.0, retransmit=data)
    assert r.final is not None and r.final.status == 200, \
        f"OPTIONS without Content-Length over UDP: {r.final.first_line if r.final else 'no response'}"
    ua.close()
