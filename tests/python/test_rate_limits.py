"""Rate limits and the MFA lockout (issue 10): each limit is hit with
boto3, answered with AWS's `Throttling` (HTTP 400, a message naming the
limit), and recovered from once its short configured period has passed.
Each test starts a daemon with tiny windows of its own."""

from __future__ import annotations

import json
import time

import pytest

from support import Daemon, error_of, expect_error, totp, current_step
from stsutil import MFA_PRESENT, assume, assumer, make_role, mfa_user, trust_doc
from support import allow

PERIOD_MS = 1500


def limited(config: str) -> Daemon:
    return Daemon(extra_config=config).start()


def throttled(call, *args, limit: str, **kw) -> None:
    msg = expect_error("Throttling", call, *args, status=400, **kw)
    assert limit in msg, msg


def recover() -> None:
    """Waits out the configured period (no assertion on time)."""
    time.sleep(PERIOD_MS / 1000 + 0.3)


@pytest.fixture
def per_ip():
    d = limited(f"""
[limits]
auth_failures_per_source_ip = {{ burst = 3, period_ms = {PERIOD_MS} }}
""")
    yield d
    d.close()


def test_failed_authentications_block_the_source_address(per_ip):
    good = per_ip.client("sts")
    bad = per_ip.client("sts", secret="y" * 40)
    good.get_caller_identity()
    for _ in range(3):
        expect_error("SignatureDoesNotMatch", bad.get_caller_identity, status=403)
    # The address is blocked, good credentials or not.
    throttled(good.get_caller_identity, limit="auth_failures_per_source_ip")
    throttled(per_ip.client("iam").list_users, limit="auth_failures_per_source_ip")
    assert "stsd_rate_limited_total{limit=\"auth_failures_per_source_ip\"}" in metrics(per_ip)
    recover()
    good.get_caller_identity()


def metrics(d: Daemon) -> str:
    import urllib.request

    with urllib.request.urlopen(d.endpoint + "/metrics", timeout=5) as r:
        return r.read().decode()


def test_failed_authentications_block_the_access_key():
    d = limited(f"""
[limits]
auth_failures_per_source_ip = {{ burst = 0, period_ms = 1 }}
auth_failures_per_principal = {{ burst = 2, period_ms = {PERIOD_MS} }}
""")
    try:
        iam = d.client("iam")
        user = assumer(iam, d)
        wrong = d.client("sts", user.key_id, "z" * 40)
        for _ in range(2):
            expect_error("SignatureDoesNotMatch", wrong.get_caller_identity, status=403)
        # The key is blocked even with its right secret; other keys are not.
        throttled(user.client().get_caller_identity, limit="auth_failures_per_principal")
        iam.list_users()
        recover()
        assert user.client().get_caller_identity()["Arn"] == user.arn
    finally:
        d.close()


def test_assume_role_is_limited_per_principal():
    d = limited(f"""
[limits]
assume_role_per_principal = {{ burst = 2, period_ms = {PERIOD_MS} }}
""")
    try:
        iam = d.client("iam")
        alice, bob = assumer(iam, d, prefix="alice"), assumer(iam, d, prefix="bob")
        role = make_role(iam)
        assume(alice.client(), role)
        assume(alice.client(), role)
        throttled(assume, alice.client(), role, limit="assume_role_per_principal")
        # Another principal has its own allowance.
        assume(bob.client(), role)
        recover()
        assume(alice.client(), role)
    finally:
        d.close()


def test_wrong_mfa_codes_lock_the_device_and_the_lock_is_audited():
    d = limited("""
[limits]
mfa_max_failed_codes = 2
mfa_lockout_secs = 2
""")
    try:
        iam = d.client("iam")
        m = mfa_user(iam, d, allow("sts:GetSessionToken"))
        sts = m.user.client()
        good = m.code()
        wrong = "000000" if good != "000000" else "111111"
        for _ in range(2):
            expect_error("AccessDenied", sts.get_session_token, SerialNumber=m.serial, TokenCode=wrong, status=403)
        # Locked: even the right code is refused, with Throttling.
        throttled(sts.get_session_token, SerialNumber=m.serial, TokenCode=good, limit="MFA device")
        log = d.stderr()
        assert "stsd::audit_hint" in log and "MfaDeviceLocked" in log, d.logs()
        assert m.serial in log
        # …and a record of the audit trail (an AwsServiceEvent of stsd).
        deadline = time.monotonic() + 10
        locks = []
        while not locks and time.monotonic() < deadline:
            lines = [l for f in sorted(d.audit_dir.glob("audit-*.jsonl")) for l in f.read_text().splitlines()]
            locks = [json.loads(l) for l in lines if '"MfaDeviceLocked"' in l]
            time.sleep(0.2)
        assert len(locks) == 1, locks
        assert locks[0]["eventType"] == "AwsServiceEvent" and locks[0]["eventSource"] == "stsd"
        assert locks[0]["requestParameters"]["serialNumber"] == m.serial
        time.sleep(2.2)
        code = totp(m.seed, max(current_step(), m.step))
        r = sts.get_session_token(SerialNumber=m.serial, TokenCode=code)
        assert r["Credentials"]["AccessKeyId"].startswith("ASIA")
    finally:
        d.close()


def test_limits_are_validated_with_the_key_named(tmp_path):
    import subprocess

    from support import stsd_bin

    cfg = tmp_path / "stsd.toml"
    cfg.write_text("[limits]\nassume_role_per_principal = { burst = 5, period_ms = 0 }\n")
    r = subprocess.run([stsd_bin(), "check-config", "--config", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "period_ms" in r.stderr or "limits" in r.stderr, r.stderr
    assert "must be an integer from 1" in r.stderr, r.stderr


def test_assume_role_over_grpc_is_limited_like_the_query_api(tmp_path):
    """The per-principal AssumeRole allowance is one: the Query API and
    gRPC spend from it alike, and gRPC answers RESOURCE_EXHAUSTED with
    Throttling."""
    import grpc

    from grpc_support import generate
    from test_grpc import Signed

    d = limited("""
[limits]
assume_role_per_principal = { burst = 2, period_ms = 600000 }
""")
    try:
        msgs, svc, _, _ = generate(tmp_path, "sts_pb2", "sts_pb2_grpc", "authorizer_pb2_grpc", "sessions_pb2_grpc")
        iam = d.client("iam")
        user = assumer(iam, d, prefix="grpc")
        role = make_role(iam)
        as_user = Signed(d, (msgs, svc), user.key_id, user.secret)
        request = msgs.AssumeRoleRequest(role_arn=role["Arn"], role_session_name="grpc-limited")
        # One over the Query API, one over gRPC: the allowance is spent.
        assume(user.client(), role)
        out, _ = as_user("AssumeRole", request)
        assert out.credentials.access_key_id.startswith("ASIA")
        with pytest.raises(grpc.RpcError) as refused:
            as_user("AssumeRole", request)
        e = refused.value
        md = dict(e.trailing_metadata() or ())
        md.update(dict(e.initial_metadata() or ()))
        assert e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, e
        assert md.get("x-amzn-errortype") == "Throttling" and "assume_role_per_principal" in e.details()
    finally:
        d.close()
