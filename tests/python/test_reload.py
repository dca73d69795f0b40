"""Reload without restart (issue 10): SIGHUP and `POST /admin/reload` apply
a good configuration — a new limit, a rotated sealing key ring, a new
federation provider, a new TLS certificate — while an open keep-alive
connection keeps working; a bad configuration is refused with the reason
logged and the old one stays whole. `PUT /admin/log-level` changes the log
level at run time."""

from __future__ import annotations

import datetime
import http.client
import json
import signal
import socket
import ssl
import time
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jwcrypto import jwk, jwt

from support import ACCOUNT, Daemon, expect_error
from stsutil import assume, assumer, make_role, session_client

ISSUER = "https://reload.example.test/cluster"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/reload.example.test/cluster"
AUD = "sts.amazonaws.com"


def reload_count(d: Daemon, result: str) -> float:
    with urllib.request.urlopen(d.endpoint + "/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(f'stsd_config_reloads_total{{result="{result}"}}'):
                return float(line.split()[-1])
    return 0.0


def hangup(d: Daemon, result: str = "ok") -> None:
    """SIGHUP by PID, then waits until the daemon counted the reload."""
    before = reload_count(d, result)
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while reload_count(d, result) <= before:
        assert time.monotonic() < deadline, f"no {result} reload after SIGHUP\n{d.logs()}"
        time.sleep(0.05)


def admin(d: Daemon, path: str, body: bytes = b"", method: str = "POST") -> tuple[int, str]:
    req = urllib.request.Request(d.endpoint + path, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def rewrite(d: Daemon, extra: str) -> None:
    d.extra_config = extra
    d.config_path.write_text(d.config_toml())


@pytest.fixture
def daemon():
    d = Daemon().start()
    yield d
    d.close()


def test_sighup_applies_a_new_limit_while_a_keep_alive_connection_stays(daemon):
    iam = daemon.client("iam")
    user = assumer(iam, daemon)
    role = make_role(iam)
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=10)
    conn.request("GET", "/healthz")
    assert conn.getresponse().read() is not None
    sock = conn.sock
    for _ in range(3):
        assume(user.client(), role)
    rewrite(daemon, "[limits]\nassume_role_per_principal = { burst = 1, period_ms = 600000 }\n")
    hangup(daemon)
    assume(user.client(), role)
    msg = expect_error("Throttling", assume, user.client(), role, status=400)
    assert "assume_role_per_principal" in msg
    # The connection opened before the reload is the same one and serves.
    conn.request("GET", "/healthz")
    r = conn.getresponse()
    assert r.status == 200 and r.read()
    assert conn.sock is sock
    conn.close()


def test_a_bad_configuration_is_refused_and_the_old_one_kept(daemon):
    iam = daemon.client("iam")
    user = assumer(iam, daemon)
    role = make_role(iam)
    rewrite(daemon, "[limits]\nassume_role_per_principal = { burst = 1, period_ms = 600000 }\n")
    hangup(daemon)
    rewrite(daemon, "[limits]\nassume_role_per_principal = { burst = 5, period_ms = 600000 }\nno_such_key = 1\n")
    hangup(daemon, result="failure")
    assert "configuration reload refused" in daemon.stderr() and "no_such_key" in daemon.stderr()
    # The admin call says why, too.
    status, body = admin(daemon, "/admin/reload")
    assert status == 400, body
    answer = json.loads(body)
    assert answer["status"] == "refused" and "no_such_key" in answer["reason"]
    # The old limit (burst 1) still holds.
    assume(user.client(), role)
    expect_error("Throttling", assume, user.client(), role, status=400)
    # A fixed file is applied through the admin call.
    rewrite(daemon, "")
    status, body = admin(daemon, "/admin/reload")
    assert status == 200, body
    assert "limits" in json.loads(body)["changes"]
    assume(user.client(), role)
    assume(user.client(), role)


def test_the_sealing_key_ring_rotates_and_retires(daemon):
    iam = daemon.client("iam")
    user = assumer(iam, daemon)
    role = make_role(iam)
    old = assume(user.client(), role)["Credentials"]
    rewrite(daemon, '[sessions]\nsealing_keys = ["s2", "s1"]\n')
    hangup(daemon)
    # Tokens of the old key still open; new ones are sealed with s2.
    session_client(daemon, old).get_caller_identity()
    new = assume(user.client(), role)["Credentials"]
    session_client(daemon, new).get_caller_identity()
    # Retiring s1: its tokens stop working at once, s2's go on.
    rewrite(daemon, '[sessions]\nsealing_keys = ["s2"]\n')
    status, body = admin(daemon, "/admin/reload")
    assert status == 200 and "sealing keys: s2" in body, body
    expect_error("InvalidClientTokenId", session_client(daemon, old).get_caller_identity, status=403)
    session_client(daemon, new).get_caller_identity()


def test_a_provider_added_by_reload_serves_web_identity(daemon):
    iam = daemon.client("iam")
    iam.create_open_id_connect_provider(Url=ISSUER, ClientIDList=[AUD])
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": PROVIDER_ARN},
        "Action": "sts:AssumeRoleWithWebIdentity"}]})
    role = iam.create_role(RoleName="web-reload", AssumeRolePolicyDocument=trust)["Role"]
    key = jwk.JWK.generate(kty="RSA", size=2048, kid="reload-1", alg="RS256", use="sig")
    now = int(time.time())
    token = jwt.JWT(header={"alg": "RS256", "kid": "reload-1"},
                    claims={"iss": ISSUER, "sub": "app", "aud": AUD, "iat": now, "exp": now + 600})
    token.make_signed_token(key)
    sts = daemon.client("sts")
    call = lambda: sts.assume_role_with_web_identity(  # noqa: E731
        RoleArn=role["Arn"], RoleSessionName="web", WebIdentityToken=token.serialize())
    # The issuer cannot be reached: no keys.
    expect_error("IDPCommunicationError", call, status=400)
    public = json.dumps({"keys": [json.loads(key.export_public())]})
    rewrite(daemon, f"[[federation.providers]]\narn = \"{PROVIDER_ARN}\"\njwks = '{public}'\n")
    hangup(daemon)
    r = call()
    assert r["AssumedRoleUser"]["Arn"].endswith("assumed-role/web-reload/web")


def test_the_log_level_changes_at_run_time(daemon):
    bogus = daemon.client("sts", "ASIAIOSFODNN7EXAMPLE", "x" * 40, token="not-a-token")
    expect_error("InvalidClientTokenId", bogus.get_caller_identity, status=403)
    assert "session token refused" not in daemon.stderr()
    status, body = admin(daemon, "/admin/log-level", b"verbose", method="PUT")
    assert status == 400 and "level" in body
    status, body = admin(daemon, "/admin/log-level", b"debug", method="PUT")
    assert status == 200, body
    expect_error("InvalidClientTokenId", bogus.get_caller_identity, status=403)
    assert "session token refused" in daemon.stderr(), daemon.logs()
    # A reload sets the configured level (info) again.
    status, _ = admin(daemon, "/admin/reload")
    assert status == 200
    n = daemon.stderr().count("session token refused")
    expect_error("InvalidClientTokenId", bogus.get_caller_identity, status=403)
    assert daemon.stderr().count("session token refused") == n


def make_cert(dir, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (dir / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (dir / "tls.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert.fingerprint(hashes.SHA256())


class TlsDaemon(Daemon):
    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _wait_ready(self) -> bool:
        ctx = ssl._create_unverified_context()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.endpoint + "/readyz", timeout=2, context=ctx) as r:
                    if r.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        return False


def served_fingerprint(port: int) -> bytes:
    """The SHA-256 of the certificate a new TLS connection is served."""
    ctx = ssl._create_unverified_context()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            der = tls.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der).fingerprint(hashes.SHA256())


def test_sighup_swaps_the_tls_certificate_and_keeps_connections(tmp_path):
    first = make_cert(tmp_path, "first")
    tls = f'[server.tls]\ncert_file = "{tmp_path}/tls.crt"\nkey_file = "{tmp_path}/tls.key"\nreload_interval_secs = 0\n'
    d = TlsDaemon(extra_config=tls).start()
    try:
        ctx = ssl._create_unverified_context()
        conn = http.client.HTTPSConnection("127.0.0.1", d.port, timeout=10, context=ctx)
        conn.request("GET", "/healthz")
        first_response = conn.getresponse()
        assert first_response.status == 200 and first_response.read()
        sock = conn.sock
        assert served_fingerprint(d.port) == first
        second = make_cert(tmp_path, "second")
        before = d.stderr().count("configuration reloaded")
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while d.stderr().count("configuration reloaded") <= before:
            assert time.monotonic() < deadline, d.logs()
            time.sleep(0.05)
        assert "tls certificate reloaded" in d.stderr()
        assert served_fingerprint(d.port) == second
        # The connection made with the first certificate keeps working.
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        assert r.status == 200 and r.read()
        assert conn.sock is sock
        assert x509.load_der_x509_certificate(sock.getpeercert(binary_form=True)).fingerprint(hashes.SHA256()) == first
        # A broken key file is refused; the second certificate stays.
        (tmp_path / "tls.key").write_text("not a key")
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "configuration reload refused" not in d.stderr():
            assert time.monotonic() < deadline, d.logs()
            time.sleep(0.05)
        assert served_fingerprint(d.port) == second
        conn.close()
    finally:
        d.close()
