"""AssumeRoleWithWebIdentity against a real OpenID Provider on loopback.

node `oidc-provider` (tests/js/oidc-op.mjs) serves discovery and JWKS over
HTTPS with a certificate of a CA this module generates; stsd trusts that CA
only through STSD_FEDERATION_CA_FILE. Tokens it issues (client_credentials,
RS256 JWT access tokens) drive boto3's unsigned AssumeRoleWithWebIdentity
and the SDK's web-identity-token-file provider; tokens of shapes an OP will
not sign are made with jwcrypto against a second provider whose JWKS is
given inline in stsd's configuration. Every process started here listens
on 127.0.0.1, is bounded in time and is killed by PID at teardown.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from jwcrypto import jwk, jwt

from support import ACCOUNT, REGION, Daemon, error_of, free_port, policy, uniq
from tls_ca import make_ca

JS_DIR = Path(__file__).resolve().parent.parent / "js"
AUD = "sts.amazonaws.com"
INLINE_ISS = "https://tokens.example.test/cluster"
INLINE_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/tokens.example.test/cluster"
CLIENTS = {"ci-runner": "s3cret-runner", "intruder": "s3cret-intruder", "red-team": "s3cret-red"}

pytestmark = pytest.mark.timeout(180)


# --- the OpenID Provider ---------------------------------------------------------

class Op:
    """tests/js/oidc-op.mjs as a process, killed by PID on close."""

    def __init__(self, dir: Path, ca: Path, cert: Path, key: Path, claims: dict):
        if shutil.which("node") is None or not (JS_DIR / "node_modules" / "oidc-provider").is_dir():
            pytest.fail("node and tests/js/node_modules (make deps) are required", pytrace=False)
        self.port = free_port()
        self.issuer = f"https://127.0.0.1:{self.port}"
        self.ssl = ssl.create_default_context(cafile=str(ca))
        cfg = dir / f"op-{self.port}.json"
        cfg.write_text(json.dumps({
            "port": self.port, "cert": str(cert), "key": str(key), "audience": AUD,
            "clients": [{"client_id": c, "client_secret": s} for c, s in CLIENTS.items()],
            "claims": claims, "lifetimeSecs": 170,
        }))
        self.proc = subprocess.Popen(
            ["node", str(JS_DIR / "oidc-op.mjs"), str(cfg)], cwd=JS_DIR,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        line = self._line("READY ")
        if not line.startswith("READY "):
            self.close()
            pytest.fail(f"oidc-op did not start: {line}{self.proc.stderr.read()}", pytrace=False)
        self.kid = line.split()[2]

    def _line(self, prefix: str) -> str:
        """The next stdout line starting with `prefix` (notices skipped), or
        "" at the end of the output."""
        while True:
            line = self.proc.stdout.readline()
            if not line or line.startswith(prefix):
                return line

    def token(self, client: str = "ci-runner") -> str:
        body = urllib.parse.urlencode({"grant_type": "client_credentials", "resource": "urn:stsd:sts", "scope": "sts"})
        auth = base64.b64encode(f"{client}:{CLIENTS[client]}".encode()).decode()
        req = urllib.request.Request(
            f"{self.issuer}/token", data=body.encode(), method="POST",
            headers={"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(req, context=self.ssl, timeout=10) as r:
            return json.loads(r.read())["access_token"]

    def rotate(self) -> str:
        self.proc.stdin.write("rotate\n")
        self.proc.stdin.flush()
        line = self._line("ROTATED ")
        assert line.startswith("ROTATED "), line
        self.kid = line.split()[1]
        return self.kid

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def header_of(token: str) -> dict:
    seg = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))


# --- fixtures ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def env():
    tmp = tempfile.TemporaryDirectory(prefix="stsd-oidc-")
    d = Path(tmp.name)
    ca, cert, key = make_ca(d)
    claims = {
        "ci-runner": {"team": "blue", "https://aws.amazon.com/source_identity": "runner-1"},
        "intruder": {"team": "blue"},
        "red-team": {"team": "red"},
    }
    op = Op(d, ca, cert, key, claims)
    signing = jwk.JWK.generate(kty="RSA", size=2048, kid="inline-1", alg="RS256", use="sig")
    public = json.loads(signing.export_public())
    inline_jwks = json.dumps({"keys": [public]})
    op_arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/127.0.0.1:{op.port}"
    extra = f"""
[federation]
allow_private_addresses = true
clock_skew_secs = 30

[[federation.providers]]
arn = "{op_arn}"
[federation.providers.claims]
tags = {{ team = "team" }}

[[federation.providers]]
arn = "{INLINE_ARN}"
jwks = '{inline_jwks}'
"""
    daemon = Daemon(extra_env={"STSD_FEDERATION_CA_FILE": str(ca)}, extra_config=extra).start()
    iam = daemon.client("iam")
    iam.create_open_id_connect_provider(Url=op.issuer, ClientIDList=[AUD])
    iam.create_open_id_connect_provider(Url=INLINE_ISS, ClientIDList=[AUD])
    ns = type("Env", (), {})()
    ns.tmp, ns.dir, ns.ca, ns.op, ns.daemon, ns.iam = tmp, d, ca, op, daemon, iam
    ns.signing, ns.public, ns.op_arn, ns.prefix = signing, public, op_arn, f"127.0.0.1:{op.port}"
    yield ns
    try:
        daemon.close()
    finally:
        op.close()
        tmp.cleanup()


def unsigned_sts(daemon: Daemon):
    return boto3.session.Session(region_name=REGION).client(
        "sts", endpoint_url=daemon.endpoint,
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1, "mode": "standard"},
                      parameter_validation=False),
    )


def web_role(env, name: str, condition: dict | None = None, actions=("sts:AssumeRoleWithWebIdentity",), provider=None, policy_doc=None) -> str:
    statement = {"Effect": "Allow", "Principal": {"Federated": provider or env.op_arn}, "Action": list(actions)}
    if condition:
        statement["Condition"] = condition
    arn = env.iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )["Role"]["Arn"]
    if policy_doc:
        env.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy_doc)
    return arn


def assume(env, role_arn: str, token: str, session: str = "web", **kw):
    return unsigned_sts(env.daemon).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName=session, WebIdentityToken=token, **kw
    )


def expect(code: str, status: int, call, *args, contains: str = "", **kw) -> str:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as ei:
        call(*args, **kw)
    got, message, http = error_of(ei)
    assert (got, http) == (code, status), f"{got} {http}: {message}"
    assert contains in message, message
    return message


def session_client(env, service: str, creds: dict):
    return env.daemon.client(service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


# --- tests ---------------------------------------------------------------------------

def test_a_token_from_the_op_assumes_a_role_with_its_keys(env):
    p = env.prefix
    role = web_role(
        env, uniq("ci"),
        {"StringEquals": {f"{p}:sub": "ci-runner", f"{p}:aud": AUD}},
        actions=("sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:SetSourceIdentity"),
    )
    token = env.op.token("ci-runner")
    out = assume(env, role, token, "runner", DurationSeconds=900)
    assert out["SubjectFromWebIdentityToken"] == "ci-runner"
    assert out["Provider"] == env.op.issuer
    assert out["Audience"] == AUD
    assert out["SourceIdentity"] == "runner-1"
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.split('/')[-1]}/runner"
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert "PackedPolicySize" in out  # the mapped team tag
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    who = session_client(env, "sts", creds).get_caller_identity()
    assert who["Arn"] == out["AssumedRoleUser"]["Arn"]

    # Another client of the same OP: the :sub condition refuses it.
    expect("AccessDenied", 403, assume, env, role, env.op.token("intruder"),
           contains="Not authorized to perform sts:AssumeRoleWithWebIdentity")


def test_the_json_variant_of_the_response(env):
    role = web_role(env, uniq("json"), actions=("sts:AssumeRoleWithWebIdentity", "sts:TagSession"))
    token = env.op.token("intruder")
    body = urllib.parse.urlencode({
        "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": role,
        "RoleSessionName": "json", "WebIdentityToken": token,
    }).encode()
    req = urllib.request.Request(env.daemon.endpoint + "/", data=body, headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        doc = json.loads(r.read())
    result = doc["AssumeRoleWithWebIdentityResponse"]["AssumeRoleWithWebIdentityResult"]
    assert result["SubjectFromWebIdentityToken"] == "intruder"
    assert result["Audience"] == AUD and result["Provider"] == env.op.issuer
    assert result["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_key_rotation_at_the_op_is_picked_up_without_a_restart(env):
    role = web_role(env, uniq("rot"), actions=("sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:SetSourceIdentity"))
    first = env.op.token()
    assume(env, role, first)
    old = header_of(first)["kid"]
    new = env.op.rotate()
    assert new != old
    second = env.op.token()
    assert header_of(second)["kid"] == new
    assume(env, role, second)  # stsd had cached only the old key
    assume(env, role, first)  # the old key is still published


def test_claim_mapping_tags_decide_later_authorization(env):
    doc = policy({
        "Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}},
    })
    role = web_role(env, uniq("tags"), actions=("sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:SetSourceIdentity"), policy_doc=doc)
    blue = assume(env, role, env.op.token("ci-runner"))["Credentials"]
    session_client(env, "iam", blue).list_users()
    red = assume(env, role, env.op.token("red-team"))["Credentials"]
    expect("AccessDenied", 403, session_client(env, "iam", red).list_users)
    # Tags need sts:TagSession in the trust policy.
    bare = web_role(env, uniq("notag"))
    expect("AccessDenied", 403, assume, env, bare, env.op.token("red-team"))


def jwt_of(env, claims: dict, header: dict | None = None, key=None) -> str:
    now = int(time.time())
    base = {"iss": INLINE_ISS, "sub": "system:serviceaccount:ns:app", "aud": AUD, "iat": now, "exp": now + 600}
    base.update(claims)
    base = {k: v for k, v in base.items() if v is not None}
    t = jwt.JWT(header=header or {"alg": "RS256", "kid": "inline-1"}, claims=base)
    t.make_signed_token(key or env.signing)
    return t.serialize()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_hostile_tokens_are_refused_with_the_right_code_and_mint_nothing(env):
    name = uniq("hostile")
    role = web_role(env, name, provider=INLINE_ARN)
    good = jwt_of(env, {})
    assume(env, role, good, "good")  # the inline key set works
    name2 = uniq("untouched")
    role = web_role(env, name2, provider=INLINE_ARN)
    now = int(time.time())
    none_header = b64(b'{"alg":"none","typ":"JWT"}')
    payload = b64(json.dumps({"iss": INLINE_ISS, "sub": "x", "aud": AUD, "exp": now + 600}).encode())
    pem = jwk.JWK(**env.public).export_to_pem()
    hmac_key = jwk.JWK(kty="oct", k=b64(pem))
    other = jwk.JWK.generate(kty="RSA", size=2048, kid="inline-1")
    cases = [
        ("alg none", f"{none_header}.{payload}.", "InvalidIdentityToken", 400, "none"),
        ("HS256 with the public key", jwt_of(env, {}, {"alg": "HS256", "kid": "inline-1"}, hmac_key), "InvalidIdentityToken", 400, "HS256"),
        ("signed by another key", jwt_of(env, {}, key=other), "InvalidIdentityToken", 400, "signature"),
        ("unknown kid", jwt_of(env, {}, {"alg": "RS256", "kid": "nope"}), "InvalidIdentityToken", 400, "Couldn't retrieve verification key"),
        ("wrong iss", jwt_of(env, {"iss": "https://evil.example.test"}), "InvalidIdentityToken", 400, "No OpenIDConnect provider found in your account for https://evil.example.test"),
        ("wrong aud", jwt_of(env, {"aud": "someone-else"}), "InvalidIdentityToken", 400, "Incorrect token audience"),
        ("expired", jwt_of(env, {"exp": now - 3600}), "ExpiredTokenException", 400, "Token expired: current date/time"),
        ("not yet valid", jwt_of(env, {"nbf": now + 3600}), "InvalidIdentityToken", 400, "not valid before"),
        ("missing sub", jwt_of(env, {"sub": None}), "InvalidIdentityToken", 400, "no sub claim"),
        ("oversized", jwt_of(env, {"pad": "x" * 20_000}), "ValidationError", 400, "webIdentityToken"),
        ("garbage segments", "!!!.???.***", "InvalidIdentityToken", 400, ""),
        ("two segments", "abc.def", "InvalidIdentityToken", 400, ""),
    ]
    for what, token, code, status, contains in cases:
        msg = expect(code, status, assume, env, role, token, contains=contains)
        assert "eyJ" not in msg, f"{what}: the message echoes the token: {msg}"
    # Against the OP's issuer, an unknown kid makes stsd refetch, then refuse.
    op_role = web_role(env, uniq("opkid"))
    forged = jwt_of(env, {"iss": env.op.issuer}, {"alg": "RS256", "kid": "not-at-the-op"})
    expect("InvalidIdentityToken", 400, assume, env, op_role, forged, contains="Couldn't retrieve verification key")
    # No session was minted: the roles were never used.
    for n in (name2, op_role.split("/")[-1]):
        assert "LastUsedDate" not in env.iam.get_role(RoleName=n)["Role"].get("RoleLastUsed", {}), n


def test_without_the_ca_the_op_is_unreachable(env):
    other = Daemon(extra_config=f'[federation]\nallow_private_addresses = true\n[[federation.providers]]\narn = "{env.op_arn}"\n').start()
    try:
        iam = other.client("iam")
        iam.create_open_id_connect_provider(Url=env.op.issuer, ClientIDList=[AUD])
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Federated": env.op_arn}, "Action": "sts:AssumeRoleWithWebIdentity"}],
        }))["Role"]["Arn"]
        expect("IDPCommunicationError", 400, unsigned_sts(other).assume_role_with_web_identity,
               RoleArn=role, RoleSessionName="session", WebIdentityToken=env.op.token())
    finally:
        other.close()


def test_the_ssrf_guard_refuses_an_op_on_a_private_address_and_mints_nothing(env):
    # The same OP and CA, without [federation] allow_private_addresses: the
    # OP on 127.0.0.1 is refused before any request reaches it.
    other = Daemon(extra_env={"STSD_FEDERATION_CA_FILE": str(env.ca)}).start()
    try:
        iam = other.client("iam")
        iam.create_open_id_connect_provider(Url=env.op.issuer, ClientIDList=[AUD])
        role = iam.create_role(RoleName="ssrf", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Federated": env.op_arn}, "Action": "sts:AssumeRoleWithWebIdentity"}],
        }))["Role"]["Arn"]
        expect("InvalidIdentityToken", 400, unsigned_sts(other).assume_role_with_web_identity,
               RoleArn=role, RoleSessionName="session", WebIdentityToken=env.op.token(),
               contains="allow_private_addresses")
        assert "LastUsedDate" not in iam.get_role(RoleName="ssrf")["Role"].get("RoleLastUsed", {})
        assert other.healthy()
    finally:
        other.close()


def test_the_sdk_web_identity_token_file_provider(env):
    role = web_role(env, uniq("file"), actions=("sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:SetSourceIdentity"))
    token_file = env.dir / "token"
    token_file.write_text(env.op.token())
    script = (
        "import boto3, json\n"
        "print(json.dumps(boto3.client('sts').get_caller_identity()))\n"
    )
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    child_env.update(
        AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file), AWS_ROLE_ARN=role, AWS_ROLE_SESSION_NAME="from-file",
        AWS_ENDPOINT_URL_STS=env.daemon.endpoint, AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true",
    )
    p = subprocess.run([sys.executable, "-c", script], env=child_env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    who = json.loads(p.stdout)
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.split('/')[-1]}/from-file"
