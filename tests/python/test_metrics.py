"""Prometheus `/metrics` (issue 10): scraped over HTTP from the real daemon
and parsed with the `prometheus_client` text parser; the counters move with
real boto3 traffic."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support import Daemon, expect_error
from stsutil import assume, assumer, make_role


def scrape(daemon: Daemon) -> dict:
    """{(sample name, frozenset of labels): value} of one scrape, and the
    families' types under the key "types"."""
    with urllib.request.urlopen(daemon.endpoint + "/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    samples, types = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    samples["types"] = types
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_credentials_and_failures_are_counted(daemon, iam):
    before = scrape(daemon)
    user = assumer(iam, daemon)
    role = make_role(iam)
    sts = user.client()
    for _ in range(3):
        assume(sts, role)
    sts.get_caller_identity()
    bad = daemon.client("sts", user.key_id, "x" * 40)
    expect_error("SignatureDoesNotMatch", bad.get_caller_identity, status=403)
    expect_error("AccessDenied", daemon.client("iam", user.key_id, user.secret).list_users, status=403)
    after = scrape(daemon)

    assert after["types"]["stsd_requests"] == "counter"
    assert after["types"]["stsd_request_duration_seconds"] == "histogram"
    delta = lambda name, **l: value(after, name, **l) - value(before, name, **l)  # noqa: E731
    assert delta("stsd_requests_total", action="AssumeRole", outcome="success") == 3
    assert delta("stsd_requests_total", action="GetCallerIdentity", outcome="success") == 1
    assert delta("stsd_requests_total", action="GetCallerIdentity", outcome="client_error") == 1
    assert delta("stsd_requests_total", action="ListUsers", outcome="denied") == 1
    assert delta("stsd_requests_total", action="CreateAccessKey", outcome="success") == 1
    assert delta("stsd_credentials_issued_total", type="AssumeRole") == 3
    assert delta("stsd_credentials_issued_total", type="AccessKey") == 1
    # The histogram's count follows the requests; its buckets are cumulative.
    assert delta("stsd_request_duration_seconds_count", action="AssumeRole") == 3
    inf = value(after, "stsd_request_duration_seconds_bucket", action="AssumeRole", le="+Inf")
    assert inf == value(after, "stsd_request_duration_seconds_count", action="AssumeRole")
    assert value(after, "stsd_request_duration_seconds_bucket", action="AssumeRole", le="0.0005") <= inf
    # Writes went through the store; the session cache was consulted.
    assert delta("stsd_store_operation_seconds_count", op="commit") >= 3
    hits = delta("stsd_cache_requests_total", cache="signing_keys", result="hit")
    misses = delta("stsd_cache_requests_total", cache="signing_keys", result="miss")
    assert hits + misses >= 5


def test_session_cache_and_revocation_series_exist(daemon, iam):
    user = assumer(iam, daemon)
    role = make_role(iam)
    creds = assume(user.client(), role)["Credentials"]
    session = daemon.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    before = scrape(daemon)
    session.get_caller_identity()
    session.get_caller_identity()
    after = scrape(daemon)
    delta = lambda name, **l: value(after, name, **l) - value(before, name, **l)  # noqa: E731
    assert delta("stsd_cache_requests_total", cache="sessions", result="hit") >= 1
    assert delta("stsd_cache_requests_total", cache="sessions", result="hit") + delta(
        "stsd_cache_requests_total", cache="sessions", result="miss"
    ) == 2
    for name in ("stsd_revocations_total", "stsd_rate_limited_total", "stsd_idp_refreshes_total",
                 "stsd_authorize_decisions_total", "stsd_config_reloads_total"):
        assert any(k[0] == name for k in after if k != "types"), name


def test_unknown_paths_share_one_label(daemon):
    for path in ("/nope-1", "/nope-2"):
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(daemon.endpoint + path, timeout=5)
    samples = scrape(daemon)
    actions = {dict(k[1]).get("action") for k in samples if k != "types" and k[0] == "stsd_requests_total"}
    assert "other" in actions
    assert not any(a and a.startswith("/nope") for a in actions)


def test_metrics_can_be_turned_off():
    d = Daemon(extra_config="[metrics]\nenabled = false\n").start()
    try:
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(d.endpoint + "/metrics", timeout=5)
        assert e.value.code == 404
    finally:
        d.close()


def test_authorize_decisions_are_counted(daemon, iam):
    from authz_client import Authorize, creds_of, signed_service_request
    from stsutil import make_user
    from support import ROOT_KEY_ID, ROOT_SECRET, allow

    album = "arn:aws:photos:us-east-1:123456789012:album/summer"
    other = "arn:aws:photos:us-east-1:123456789012:album/winter"
    authorize = Authorize(daemon.endpoint, creds_of(ROOT_KEY_ID, ROOT_SECRET))
    u = make_user(iam, daemon, allow("photos:GetAlbum", album))
    before = scrape(daemon)
    creds = creds_of(u.key_id, u.secret)
    assert authorize(signed_service_request(creds), "photos:GetAlbum", album)["Decision"] == "Allow"
    assert authorize(signed_service_request(creds), "photos:GetAlbum", album)["Decision"] == "Allow"
    assert authorize(signed_service_request(creds), "photos:GetAlbum", other)["Decision"] == "ImplicitDeny"
    bad = creds_of(u.key_id, "q" * 40)
    assert authorize(signed_service_request(bad), "photos:GetAlbum", album)["Decision"] == "Unauthenticated"
    after = scrape(daemon)
    delta = lambda d: value(after, "stsd_authorize_decisions_total", decision=d) - value(  # noqa: E731
        before, "stsd_authorize_decisions_total", decision=d)
    assert (delta("allow"), delta("implicit_deny"), delta("unauthenticated")) == (2, 1, 1)
    assert value(after, "stsd_requests_total", action="Authorize", outcome="success") >= 4
