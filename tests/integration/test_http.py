"""(13) Operations endpoints: /healthz, /readyz, /metrics."""

from __future__ import annotations

import pytest

from support.net import parse_prometheus

pytestmark = pytest.mark.needs_binary


def test_health_and_ready(siprecd):
    srv = siprecd()
    assert srv.http("/healthz").status == 200
    assert srv.http("/readyz").status == 200


def test_unknown_path_is_404(siprecd):
    srv = siprecd()
    assert srv.http("/no/such/path").status == 404


def test_metrics_exposes_required_series_and_counts_requests(siprecd):
    srv = siprecd()
    r = srv.http("/metrics")
    assert r.status == 200
    assert r.headers.get("content-type", "").startswith("text/plain"), r.headers.get("content-type")
    m = parse_prometheus(r.text)
    for name in ("siprecd_sessions_active", "siprecd_sip_requests_total"):
        assert name in m, f"{name} missing from /metrics:\n{r.text[:2000]}"
        assert f"# TYPE {name}" in r.text, f"no # TYPE line for {name}"
    assert sum(v for _, v in m["siprecd_sessions_active"]) == 0
    before = srv.metric("siprecd_sip_requests_total")
    ua = srv.ua("udp")
    for _ in range(3):
        assert ua.options(srv.request_uri).final.status == 200
    ua.close()
    after = srv.metric("siprecd_sip_requests_total")
    assert after - before >= 3, f"siprecd_sip_requests_total {before} -> {after} after 3 OPTIONS"
    # If the counter is labelled by method, the OPTIONS must be under method="OPTIONS".
    samples = parse_prometheus(srv.http("/metrics").text)["siprecd_sip_requests_total"]
    if any("method" in lab for lab, _ in samples):
        assert sum(v for lab, v in samples if lab.get("method") == "OPTIONS") >= 3, samples


def test_sessions_active_follows_a_call(siprecd):
    from support.calls import PyCall

    srv = siprecd()
    ua = srv.ua("udp")
    call = PyCall(ua, srv.request_uri, [b"", b""])
    final = call.setup()
    assert final is not None and final.status == 200
    assert srv.metric("siprecd_sessions_active") == 1
    assert call.hangup().status == 200
    from checks import wait_metric
    assert wait_metric(srv, "siprecd_sessions_active", 0) == 0
    ua.close()
