"""Hostile input against the real daemon (issue 12, SECURITY.md).

Each attack runs while a well-formed boto3 client keeps calling the daemon
in another thread (`Bystander`): the attack must get a clear error, the
bystander must be served *during* the attack, nothing may be minted (a
canary role stays unused: no `RoleLastUsed`) and no data lost (the IAM
state before equals the state after). Limits under test are the
daemon's, configured small here so attacks stay cheap:
`[server] request_timeout_secs` (also the header-read and TLS-handshake
deadline), `max_connections`, `body_limit_bytes`; hyper's header limits
(100 headers, ~400 KB of head); the policy parser's depth (16) and size
quotas; the wildcard matcher (linear backtracking, no exponential case).

Cases already covered elsewhere are not repeated (SECURITY.md lists them):
oversized bodies and parameters (test_errors.py), hostile web-identity
tokens (test_federation_oidc.py), hostile SAML (test_federation_saml.py),
tampered/forged/retired session tokens (tests/it/sessions.rs).
"""

from __future__ import annotations

import datetime
import json
import socket
import ssl
import threading
import time
import urllib.parse
import warnings
from unittest import mock

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from support import ACCOUNT, REGION, ROOT_KEY_ID, ROOT_SECRET, Daemon, expect_error, uniq

TIMEOUT = 3  # [server] request_timeout_secs of the daemon under attack
MAX_CONNECTIONS = 48


@pytest.fixture(scope="module")
def daemon():
    d = Daemon(
        extra_config=f"""
[server]
request_timeout_secs = {TIMEOUT}
max_connections = {MAX_CONNECTIONS}
body_limit_bytes = 65536
"""
    ).start()
    yield d
    d.close()


@pytest.fixture(scope="module")
def canary(iam):
    """A role anyone in the account may assume: if an attack mints a
    session for it, its RoleLastUsed shows it."""
    name = uniq("canary")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    return name, arn


def snapshot(iam) -> dict:
    """The IAM state an attack must not change."""
    return {
        "users": sorted(u["UserName"] for u in iam.list_users()["Users"]),
        "roles": sorted((r["RoleName"], r["Arn"]) for r in iam.list_roles()["Roles"]),
        "policies": sorted(p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]),
        "root_keys": sorted(k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]),
    }


class Bystander:
    """A well-formed client calling GetCallerIdentity in a loop; records
    when each call started and ended and whether it succeeded."""

    def __init__(self, daemon: Daemon):
        self.sts = daemon.client("sts")
        self.calls: list[tuple[float, float, bool, str]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                ok = self.sts.get_caller_identity()["Account"] == ACCOUNT
                why = ""
            except Exception as e:  # noqa: BLE001 - recorded and asserted on
                ok, why = False, repr(e)
            self.calls.append((t0, time.monotonic(), ok, why))
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)

    def served_between(self, start: float, end: float) -> int:
        """Calls that started and succeeded within [start, end]."""
        return sum(1 for (t0, t1, ok, _) in self.calls if ok and start <= t0 and t1 <= end)

    def failures(self) -> list[str]:
        return [why for (_, _, ok, why) in self.calls if not ok]


def attack(daemon, iam, canary, during, settle: float = 0.0):
    """Runs `during()` while a bystander calls the daemon; asserts the
    bystander was served while the attack was under way and never failed,
    nothing was minted for the canary, and the IAM state is unchanged.
    Returns what `during()` returned."""
    before = snapshot(iam)
    with Bystander(daemon) as b:
        time.sleep(0.2)
        start = time.monotonic()
        result = during(b)
        if settle:
            time.sleep(settle)
        end = time.monotonic()
        # The attack may be over before a call fits in it: wait for one.
        deadline = time.monotonic() + 30
        while b.served_between(start, max(end, time.monotonic())) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert b.failures() == [], b.failures()[:3]
    assert b.served_between(start, time.monotonic()) > 0, "the bystander was not served"
    assert "LastUsedDate" not in iam.get_role(RoleName=canary[0])["Role"].get("RoleLastUsed", {}), "a session was minted"
    assert snapshot(iam) == before, "the attack changed the IAM state"
    assert daemon.alive() and daemon.healthy()
    return result


def raw(daemon, data: bytes, timeout: float = 15) -> bytes:
    """Sends `data` on a fresh connection and returns everything read until
    the server closes (or `timeout`)."""
    out = b""
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    return out


def status_of(response: bytes) -> int:
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response.split(b" ", 2)[1])


def signed_head(daemon, fields: dict, service: str = "sts", at=None, extra: dict | None = None) -> tuple[bytes, bytes]:
    """(head without the final CRLF, body) of a SigV4-signed POST."""
    body = urllib.parse.urlencode(fields).encode()
    req = AWSRequest(method="POST", url=daemon.endpoint + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", **(extra or {})})
    signer = SigV4Auth(Credentials(ROOT_KEY_ID, ROOT_SECRET), service, REGION)
    if at is not None:
        with mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: at):
            signer.add_auth(req)
    else:
        signer.add_auth(req)
    p = req.prepare()
    head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in p.headers.items() if k.lower() not in ("content-length", "host"))
    return head.encode(), body


# --- connections ---------------------------------------------------------------

def test_slowloris_and_idle_connections_do_not_starve_other_clients(daemon, iam, canary):
    """Half the connection limit held by clients that never finish their
    headers (one byte a second) and a quarter by clients that send
    nothing: boto3 is served meanwhile, and the server closes every one of
    them after the header deadline (request_timeout_secs)."""
    slow, idle = [], []

    def during(b):
        for _ in range(MAX_CONNECTIONS // 2):
            s = socket.create_connection(("127.0.0.1", daemon.port), timeout=30)
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        for _ in range(MAX_CONNECTIONS // 4):
            idle.append(socket.create_connection(("127.0.0.1", daemon.port), timeout=30))
        # Drip a header byte a second for longer than the deadline; the
        # bystander must be served while the connections are held.
        closed_early = 0
        for i in range(TIMEOUT + 2):
            for s in slow:
                try:
                    s.sendall(b"X")
                except OSError:
                    closed_early += 1
            time.sleep(1)
        return closed_early

    attack(daemon, iam, canary, during)
    # Every held connection is closed by the server (EOF or reset), none
    # answered with a request it never completed.
    for s in slow + idle:
        s.settimeout(TIMEOUT * 5)
        try:
            data = s.recv(65536)
            while chunk := s.recv(65536):
                data += chunk
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        finally:
            s.close()
        assert data == b"" or status_of(data) in (400, 408), data[:200]


def test_connection_limit_queues_instead_of_failing(daemon, iam, canary):
    """All MAX_CONNECTIONS slots held by idle sockets: a new client waits
    for a slot (freed at the header deadline) and is then served; the
    daemon never refuses with an error or dies."""
    before = snapshot(iam)
    held = [socket.create_connection(("127.0.0.1", daemon.port), timeout=30) for _ in range(MAX_CONNECTIONS)]
    try:
        sts = daemon.client("sts")
        assert sts.get_caller_identity()["Account"] == ACCOUNT
    finally:
        for s in held:
            s.close()
    assert snapshot(iam) == before
    assert daemon.healthy()


# --- sizes and shapes ----------------------------------------------------------

def test_oversized_and_too_many_headers(daemon, iam, canary):
    def during(b):
        huge = raw(daemon, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1024 * 1024) + b"\r\n\r\n")
        many = raw(daemon, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(500)) + b"\r\n")
        return huge, many

    huge, many = attack(daemon, iam, canary, during)
    assert status_of(huge) == 431, huge[:200]
    assert status_of(many) == 431, many[:200]


def test_header_injection_is_refused(daemon, iam, canary):
    """CR/LF smuggled into a header value, and into parameters that could
    be echoed into a header or a log line."""

    def during(b):
        split = raw(daemon, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rSet-Cookie: evil=1\r\n\r\n")
        # A parameter carrying a CRLF and a forged header.
        expect_error("ValidationError", iam.create_user, UserName="x\r\nSet-Cookie: evil=1", names=["userName"])
        sts = daemon.client("sts")
        expect_error("ValidationError", sts.assume_role, RoleArn=canary[1], RoleSessionName="a\r\nX-Injected: 1",
                     names=["roleSessionName"])
        # Action is logged: a newline in it must not forge a log line.
        head, body = signed_head(daemon, {"Action": "Nope\n2030-01-01T00:00:00Z ERROR forged-log-line", "Version": "2011-06-15"})
        forged = raw(daemon, head + b"\r\n" + body)
        return split, forged

    split, forged = attack(daemon, iam, canary, during)
    assert status_of(split) == 400, split[:200]
    assert status_of(forged) == 400 and b"InvalidAction" in forged, forged[:500]
    assert b"set-cookie" not in forged.lower()
    for line in daemon.stderr().splitlines():
        assert not line.startswith("2030-01-01T00:00:00Z"), f"a forged log line: {line}"


def test_invalid_utf8_and_unicode_lookalikes_in_names(daemon, iam, canary):
    def during(b):
        head, _ = signed_head(daemon, {"Action": "CreateUser", "Version": "2010-05-08"}, service="iam")
        # Invalid UTF-8 after percent-decoding: refused, never replaced.
        bad = b"Action=CreateUser&Version=2010-05-08&UserName=%C3%28"
        req = AWSRequest(method="POST", url=daemon.endpoint + "/", data=bad,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(Credentials(ROOT_KEY_ID, ROOT_SECRET), "iam", REGION).add_auth(req)
        p = req.prepare()
        h = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\nContent-Length: {len(bad)}\r\nConnection: close\r\n"
        h += "".join(f"{k}: {v}\r\n" for k, v in p.headers.items() if k.lower() not in ("content-length", "host"))
        invalid = raw(daemon, h.encode() + b"\r\n" + bad)
        # Look-alikes of an existing name: Cyrillic а, a zero-width space,
        # a right-to-left override, full-width letters.
        for name in ("\u0430dmin", "ad\u200bmin", "ad\u202emin", "\uff41dmin"):
            expect_error("ValidationError", iam.create_user, UserName=name, names=["userName"])
            expect_error("ValidationError", iam.create_role, RoleName=name, AssumeRolePolicyDocument="{}",
                         names=["roleName"])
        return invalid

    invalid = attack(daemon, iam, canary, during)
    assert status_of(invalid) == 400 and b"InvalidParameterValue" in invalid, invalid[:500]
    assert b"UserName" in invalid or b"userName" in invalid, invalid[:500]


def test_deeply_nested_and_huge_policies(daemon, iam, canary):
    user = uniq("victim")

    def during(b):
        iam.create_user(UserName=user)
        nested = '{"Version":"2012-10-17","Statement":' + "[" * 500 + "]" * 500 + "}"
        expect_error("MalformedPolicyDocument", iam.put_user_policy, UserName=user, PolicyName="p",
                     PolicyDocument=nested, names=["nests too deeply"])
        # Thousands of statements: every API that takes a policy bounds
        # its size first (2,048 user inline, 6,144 managed and simulated).
        many = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": f"s3:Get{i}", "Resource": "*"} for i in range(500)]})
        expect_error("LimitExceeded", iam.put_user_policy, UserName=user, PolicyName="p",
                     PolicyDocument=many, names=["2048"])
        expect_error("LimitExceeded", iam.create_policy, PolicyName=uniq("huge"), PolicyDocument=many,
                     names=["PolicySize"])
        expect_error("MalformedPolicyDocument", iam.simulate_custom_policy, PolicyInputList=[many],
                     ActionNames=["s3:GetObject"], names=["PolicyInputList.1", "6144"])
        # As many conditions as the quota lets in: evaluated and answered.
        conds = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
             "Condition": {"StringLike": {f"aws:PrincipalTag/k{i}": ["*v*", "*w*"] for i in range(150)}}}]}
        assert len(json.dumps(conds, separators=(",", ":"))) < 6144
        r = iam.simulate_custom_policy(PolicyInputList=[json.dumps(conds)], ActionNames=["s3:GetObject"])
        assert r["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
        iam.delete_user(UserName=user)

    attack(daemon, iam, canary, during)


def test_pathological_wildcards_match_in_polynomial_time(daemon, iam, canary):
    """`*a*a*…*b` against `aaaa…a`: exponential for naive backtracking,
    linear-per-star here. The daemon answers and serves others meanwhile
    (timing itself is benchmarked, never asserted: BENCHMARKS.md)."""
    pattern = "arn:aws:s3:::" + "*a" * 300 + "*b"
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:" + "*?" * 3 + "*", "Resource": [pattern] * 8}]}
    resource = "arn:aws:s3:::" + "a" * 1000

    def during(b):
        for _ in range(5):
            r = iam.simulate_custom_policy(PolicyInputList=[json.dumps(policy)], ActionNames=["s3:GetObject"],
                                           ResourceArns=[resource])
            assert r["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
        r = iam.simulate_custom_policy(PolicyInputList=[json.dumps(policy)], ActionNames=["s3:GetObject"],
                                       ResourceArns=[resource + "b"])
        assert r["EvaluationResults"][0]["EvalDecision"] == "allowed"

    attack(daemon, iam, canary, during)


# --- TLS -------------------------------------------------------------------------

class TlsDaemon(Daemon):
    """A daemon serving HTTPS only; ready once /readyz answers over TLS."""

    ca = None

    def _wait_ready(self) -> bool:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    with ctx.wrap_socket(s, server_hostname="localhost") as t:
                        t.sendall(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                        if t.recv(64).startswith(b"HTTP/1.1 200"):
                            return True
            except OSError:
                pass
            time.sleep(0.1)
        return False


@pytest.fixture(scope="module")
def tls_daemon(tmp_path_factory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    d = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    (d / "key.pem").chmod(0o600)
    daemon = TlsDaemon(extra_config=f"""
[server]
request_timeout_secs = {TIMEOUT}
[server.tls]
cert_file = "{d / 'cert.pem'}"
key_file = "{d / 'key.pem'}"
""")
    daemon.ca = d / "cert.pem"
    yield daemon, d / "cert.pem"


def test_tls_misconfigured_clients_are_refused(tls_daemon):
    daemon, ca = tls_daemon
    daemon.start()
    port = daemon.port
    context = ssl.create_default_context(cafile=str(ca))

    def handshake(ctx, host="localhost"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname=host) as t:
                t.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                return t.recv(65536)

    try:
        assert handshake(context).startswith(b"HTTP/1.1 200")
        # Plain HTTP to the TLS port: no answer in clear, connection closed.
        plain = raw(daemon, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=TIMEOUT * 5)
        assert not plain.startswith(b"HTTP/1.1 200"), plain[:200]
        # TLS 1.0/1.1 only: the handshake fails (rustls speaks 1.2+).
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(cafile=str(ca))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # deliberately old
            old.minimum_version = ssl.TLSVersion.TLSv1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            old.set_ciphers("ALL:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
            handshake(old)
        # A client that opens TCP and never says hello is dropped at the
        # handshake deadline, and meanwhile others are served.
        silent = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT * 5)
        assert handshake(context).startswith(b"HTTP/1.1 200")
        assert silent.recv(1) == b""
        silent.close()
        # An untrusting client (no CA) fails verification: the daemon
        # serves a certificate only for its names.
        with pytest.raises(ssl.SSLCertVerificationError):
            handshake(ssl.create_default_context())
        assert handshake(context).startswith(b"HTTP/1.1 200")
    finally:
        daemon.close()


# --- clock skew ------------------------------------------------------------------

@pytest.mark.parametrize("minutes,accepted", [(-14, True), (14, True), (-16, False), (16, False)])
def test_sigv4_clock_skew_window_is_15_minutes_both_ways(daemon, minutes, accepted):
    at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(minutes=minutes)
    head, body = signed_head(daemon, {"Action": "GetCallerIdentity", "Version": "2011-06-15"}, at=at)
    r = raw(daemon, head + b"\r\n" + body)
    if accepted:
        assert status_of(r) == 200, r[:500]
        assert b"<Account>" + ACCOUNT.encode() in r
    else:
        assert status_of(r) == 403, r[:500]
        assert b"<Code>SignatureDoesNotMatch</Code>" in r, r[:500]
        want = b"Signature expired" if minutes < 0 else b"Signature not yet current"
        assert want.lower() in r.lower(), r[:600]
        assert b"15 min." in r, r[:600]


# --- privilege escalation through policy edits -----------------------------------

def test_policy_edits_cannot_escape_a_boundary_or_reach_a_role(daemon, iam, canary):
    """A user allowed to edit its own inline policy (the classic
    escalation path) writes itself `*:*`: its permissions boundary still
    caps it, it cannot remove the boundary, edit another user, or assume a
    role its boundary does not allow — whatever the role's trust says —
    and the canary role stays unused."""
    from support import allow, policy

    name = uniq("climber")
    me = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    boundary = iam.create_policy(PolicyName=uniq("cap"), PolicyDocument=policy(
        allow(["iam:PutUserPolicy", "iam:GetUser"], me)))["Policy"]["Arn"]
    iam.create_user(UserName=name, PermissionsBoundary=boundary)
    iam.put_user_policy(UserName=name, PolicyName="self-edit",
                        PolicyDocument=policy(allow(["iam:PutUserPolicy", "iam:GetUser"], me)))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    mine = daemon.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    other = uniq("bystander-user")
    iam.create_user(UserName=other)

    def during(b):
        mine.put_user_policy(UserName=name, PolicyName="admin", PolicyDocument=policy(allow("*")))
        expect_error("AccessDenied", mine.create_user, UserName=uniq("sneaky"), status=403)
        expect_error("AccessDenied", mine.delete_user_permissions_boundary, UserName=name, status=403)
        expect_error("AccessDenied", mine.put_user_policy, UserName=other, PolicyName="x",
                     PolicyDocument=policy(allow("*")), status=403)
        expect_error("AccessDenied", mine.create_access_key, UserName="root", status=403)
        sts = daemon.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
        expect_error("AccessDenied", sts.assume_role, RoleArn=canary[1], RoleSessionName="climb", status=403)

    attack(daemon, iam, canary, during)
    assert iam.get_user(UserName=name)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    assert iam.list_user_policies(UserName=other)["PolicyNames"] == []
    assert len(iam.list_access_keys(UserName=name)["AccessKeyMetadata"]) == 1
