"""`stsd agent` and `stsd credential-process` against a running broker,
through the SDKs' own credential chains: botocore's container and
instance-metadata providers, `credential_process` through a boto3 profile
and the AWS CLI. Each then calls GetCallerIdentity on the broker and must
see the role's assumed-role ARN.

The broker trusts a "cluster" (agent_process.Cluster): service-account
tokens signed by a key whose JWKS it is given inline. The sidecar
authenticates with such a token file (as a projected Kubernetes token), a
long-term key, or — as a node agent — with the token each workload
presents. Refresh, token rotation and a broker outage run against a
broker of their own with windows of seconds: the session lasts 900 s (the
least STS grants) and the agent is told to refresh 895 s before expiry and
to stop serving 893 s before, so its schedule passes in seconds; the same
rules are tested against a fixed clock in src/service/vending/tests.rs.
"""

from __future__ import annotations

import datetime
import json
import os
import stat
import subprocess
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from agent_process import AUDIENCE, ISSUER, Agent, Cluster, sidecar_sections
from stsutil import make_user
from support import ACCOUNT, REGION, Daemon, allow, policy, stsd_bin, uniq

pytestmark = pytest.mark.timeout(120)

AUTH_TOKEN = "agent-auth-7c1f0e2b9d"


@pytest.fixture(scope="module")
def env():
    cluster = Cluster()
    daemon = Daemon(extra_config=cluster.broker_config()).start()
    iam = daemon.client("iam")
    iam.create_open_id_connect_provider(Url=ISSUER, ClientIDList=[AUDIENCE])
    roles = {}
    for ns, name in [("prod", "app"), ("prod", "billing"), ("prod", "web")]:
        role = uniq(name)
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=Cluster.trust(ns, name))
        roles[name] = role
    ns = type("Env", (), {})()
    ns.cluster, ns.daemon, ns.iam, ns.roles = cluster, daemon, iam, roles
    ns.dir = Path(daemon.tmp.name)
    yield ns
    daemon.close()


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def assumed(role: str, session: str) -> str:
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def sidecar(env):
    token = write(env.dir / "app-token", env.cluster.token("prod", "app"))
    auth = write(env.dir / "agent-auth", AUTH_TOKEN)
    agent = Agent(env.daemon.endpoint,
                  sidecar_sections(role_arn(env.roles["app"]), "app-pod", token, auth)).start()
    agent.auth_file = auth
    yield agent
    agent.close()


def caller_arn(env, monkeypatch, **variables) -> tuple[str, str]:
    """(GetCallerIdentity's Arn, the provider botocore used), with only
    `variables` in the SDK's environment."""
    for k in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    for k, v in variables.items():
        monkeypatch.setenv(k, v)
    session = boto3.session.Session(region_name=REGION)
    creds = session.get_credentials()
    assert creds is not None, "the SDK found no credentials"
    sts = session.client("sts", endpoint_url=env.daemon.endpoint,
                         config=Config(retries={"total_max_attempts": 1}))
    return sts.get_caller_identity()["Arn"], creds.method


def test_botocore_container_provider_gets_the_role_from_the_sidecar(env, sidecar, monkeypatch):
    arn, method = caller_arn(
        env, monkeypatch,
        AWS_CONTAINER_CREDENTIALS_FULL_URI=sidecar.url("container", "/v1/credentials"),
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(sidecar.auth_file),
        AWS_EC2_METADATA_DISABLED="true",
    )
    assert (arn, method) == (assumed(env.roles["app"], "app-pod"), "container-role")


def test_botocore_instance_metadata_provider_gets_the_role_over_imdsv2(env, sidecar, monkeypatch):
    arn, method = caller_arn(
        env, monkeypatch,
        AWS_EC2_METADATA_SERVICE_ENDPOINT=sidecar.url("imds", "/"),
        AWS_EC2_METADATA_V1_DISABLED="true",
    )
    assert (arn, method) == (assumed(env.roles["app"], "app-pod"), "iam-role")


def test_the_container_endpoint_answers_the_sdk_json_only_with_the_token(env, sidecar):
    path = "/v1/credentials"
    status, body = sidecar.get("container", path)
    assert status == 401 and json.loads(body)["code"] == "AccessDenied", body
    assert "Authorization" in json.loads(body)["message"]
    status, body = sidecar.get("container", path, {"Authorization": "wrong"})
    assert status == 401 and json.loads(body)["code"] == "AccessDenied", body
    status, body = sidecar.get("container", path, {"Authorization": AUTH_TOKEN})
    assert status == 200, body
    doc = json.loads(body)
    assert set(doc) == {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "AccountId", "RoleArn"}
    assert doc["AccessKeyId"].startswith("ASIA") and doc["AccountId"] == ACCOUNT
    assert doc["RoleArn"] == role_arn(env.roles["app"])
    expires = datetime.datetime.strptime(doc["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    left = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 3000 < left <= 3600
    assert sidecar.get("container", "/v2/other", {"Authorization": AUTH_TOKEN})[0] == 404
    assert sidecar.get("container", path, {"Authorization": AUTH_TOKEN}, method="POST")[0] == 405


def test_a_rotated_authorization_token_file_replaces_the_old_token(env, sidecar):
    path = "/v1/credentials"
    try:
        sidecar.auth_file.write_text("rotated-token-0042\n")
        deadline = time.monotonic() + 5
        while sidecar.get("container", path, {"Authorization": AUTH_TOKEN})[0] == 200:
            assert time.monotonic() < deadline, "the old token is still accepted"
            time.sleep(0.2)
        assert sidecar.get("container", path, {"Authorization": "rotated-token-0042"})[0] == 200
    finally:
        sidecar.auth_file.write_text(AUTH_TOKEN)
        time.sleep(1.1)


def test_the_sdk_fails_closed_with_a_wrong_authorization_token(env, sidecar, monkeypatch):
    from botocore.exceptions import CredentialRetrievalError, NoCredentialsError

    with pytest.raises((CredentialRetrievalError, NoCredentialsError)):
        caller_arn(
            env, monkeypatch,
            AWS_CONTAINER_CREDENTIALS_FULL_URI=sidecar.url("container", "/v1/credentials"),
            AWS_CONTAINER_AUTHORIZATION_TOKEN="not-the-token",
            AWS_EC2_METADATA_DISABLED="true",
        )


def test_imdsv2_rules(env, sidecar):
    put = lambda headers: sidecar.get("imds", "/latest/api/token", headers, method="PUT")  # noqa: E731
    assert put({})[0] == 400, "a token request needs a TTL"
    for bad in ("0", "21601", "abc"):
        assert put({"X-aws-ec2-metadata-token-ttl-seconds": bad})[0] == 400, bad
    assert put({"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "10.0.0.1"})[0] == 403
    status, token = put({"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
    assert status == 200 and token
    creds_path = "/latest/meta-data/iam/security-credentials/"
    assert sidecar.get("imds", creds_path)[0] == 401, "IMDSv1 is refused unless enabled"
    assert sidecar.get("imds", creds_path, {"X-aws-ec2-metadata-token": "forged"})[0] == 401
    auth = {"X-aws-ec2-metadata-token": token.decode()}
    status, name = sidecar.get("imds", creds_path, auth)
    assert (status, name.decode()) == (200, env.roles["app"])
    status, body = sidecar.get("imds", creds_path + env.roles["app"], auth)
    assert status == 200
    doc = json.loads(body)
    assert doc["Code"] == "Success" and doc["Type"] == "AWS-HMAC"
    assert doc["AccessKeyId"].startswith("ASIA") and doc["Token"] and len(doc["SecretAccessKey"]) == 40
    for key in ("LastUpdated", "Expiration"):
        datetime.datetime.strptime(doc[key], "%Y-%m-%dT%H:%M:%SZ")
    assert sidecar.get("imds", creds_path + "some-other-role", auth)[0] == 404
    status, body = sidecar.get("imds", "/latest/meta-data/iam/info", auth)
    info = json.loads(body)
    assert status == 200 and info["InstanceProfileArn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/{env.roles['app']}"
    assert info["InstanceProfileId"].startswith("AIPA")


def test_health_says_how_fresh_the_credentials_are(sidecar):
    h = sidecar.health()
    assert h["status"] == "fresh" and h["consecutive_failures"] == 0 and h["last_error"] is None
    assert 3000 < h["seconds_left"] <= 3600
    assert h["next_refresh"] < h["expiration"] - 300
    assert h["broker_calls"] == 1, "every read so far was served from memory"


def credential_process_command(env, role: str, token: Path, cache: Path, *extra: str) -> list[str]:
    return [stsd_bin(), "credential-process", "--endpoint", env.daemon.endpoint, "--role-arn", role_arn(role),
            "--web-identity-token-file", str(token), "--role-session-name", "cp", "--cache-dir", str(cache), *extra]


def test_credential_process_through_the_aws_cli_and_boto3_profiles(env, monkeypatch):
    from conftest import _aws_bin

    token = write(env.dir / "cp-token", env.cluster.token("prod", "app"))
    cache = env.dir / "cp-cache"
    command = " ".join(credential_process_command(env, env.roles["app"], token, cache))
    config = write(env.dir / "aws-config", f"[profile agentless]\ncredential_process = {command}\nregion = {REGION}\n")
    cli_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    cli_env.update(AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true")
    out = subprocess.run(
        [_aws_bin(), "sts", "get-caller-identity", "--profile", "agentless", "--endpoint-url", env.daemon.endpoint,
         "--output", "json"],
        env=cli_env, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Arn"] == assumed(env.roles["app"], "cp")

    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    session = boto3.session.Session(profile_name="agentless")
    sts = session.client("sts", endpoint_url=env.daemon.endpoint)
    assert sts.get_caller_identity()["Arn"] == assumed(env.roles["app"], "cp")
    assert session.get_credentials().method == "custom-process"


def test_credential_process_caches_until_near_expiry(env):
    token = write(env.dir / "cache-token", env.cluster.token("prod", "app"))
    cache = env.dir / "cache-test"

    def run(*extra):
        out = subprocess.run(credential_process_command(env, env.roles["app"], token, cache, *extra),
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    first = run()
    assert first["Version"] == 1 and first["AccessKeyId"].startswith("ASIA") and first["SessionToken"]
    assert first["AccountId"] == ACCOUNT
    datetime.datetime.strptime(first["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
    assert run()["AccessKeyId"] == first["AccessKeyId"], "the second call is served from the cache"
    files = list(cache.iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert run("--no-cache")["AccessKeyId"] != first["AccessKeyId"]
    # Cached credentials with less than --refresh-before-secs left are
    # not reused: 3600 s sessions always have less than 4000 s left.
    assert run("--refresh-before-secs", "4000")["AccessKeyId"] != first["AccessKeyId"]
    # Another identity's token written to the same file is not served the
    # cached session: it goes to the broker, whose trust policy refuses it.
    token.write_text(env.cluster.token("prod", "web"))
    out = subprocess.run(credential_process_command(env, env.roles["app"], token, cache),
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "AccessDenied" in out.stderr, out.stdout + out.stderr
    # A cache file others could write is not trusted.
    token.write_text(env.cluster.token("prod", "app"))
    again = run()
    for f in cache.glob("*.json"):
        f.chmod(0o644)
    assert run()["AccessKeyId"] != again["AccessKeyId"], "a world-readable cache file was used"


def test_credential_process_failures_exit_nonzero_with_the_reason(env):
    token = write(env.dir / "bad-token", env.cluster.token("prod", "web"))  # not trusted by app
    out = subprocess.run(credential_process_command(env, env.roles["app"], token, env.dir / "bad-cache"),
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and out.stdout == ""
    assert "AccessDenied" in out.stderr, out.stderr
    out = subprocess.run([stsd_bin(), "credential-process", "--endpoint", env.daemon.endpoint,
                          "--role-arn", role_arn(env.roles["app"]), "--no-cache"],
                         capture_output=True, text=True, timeout=30,
                         env={k: v for k, v in os.environ.items() if not k.startswith("STSD_")})
    assert out.returncode == 1 and "no way to authenticate" in out.stderr


def test_a_sidecar_with_a_long_term_key_vends_over_imds(env, monkeypatch):
    iam = env.iam
    user = make_user(iam, env.daemon, allow("sts:AssumeRole"), prefix="agent")
    role = uniq("keyed")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": user.arn}, "Action": "sts:AssumeRole"}],
    }))
    secret = write(env.dir / "agent-secret", user.secret)
    agent = Agent(env.daemon.endpoint, f"""
[role]
arn = "{role_arn(role)}"
session_name = "node-7"
access_key_id = "{user.key_id}"
secret_access_key_file = "{secret}"

[imds]
listen = "127.0.0.1:{{imds}}"

[health]
listen = "127.0.0.1:{{health}}"
""").start()
    try:
        arn, method = caller_arn(env, monkeypatch, AWS_EC2_METADATA_SERVICE_ENDPOINT=agent.url("imds", "/"))
        assert (arn, method) == (assumed(role, "node-7"), "iam-role")
        assert "secret" not in agent.log_path.read_text().lower().replace("secret_access_key_file", "")
        assert user.secret not in agent.log_path.read_text()
    finally:
        agent.close()


@pytest.fixture(scope="module")
def node_agent(env):
    agent = Agent(env.daemon.endpoint, f"""
[node]
[[node.service_accounts]]
subject = "system:serviceaccount:prod:billing"
role_arn = "{role_arn(env.roles['billing'])}"
[[node.service_accounts]]
subject = "system:serviceaccount:prod:web"
role_arn = "{role_arn(env.roles['web'])}"

[container]
listen = "127.0.0.1:{{container}}"

[health]
listen = "127.0.0.1:{{health}}"
""").start()
    yield agent
    agent.close()


def test_a_node_agent_vends_each_workload_its_own_role(env, node_agent, monkeypatch):
    for sa in ("billing", "web"):
        token = write(env.dir / f"{sa}-sa-token", env.cluster.token("prod", sa))
        arn, method = caller_arn(
            env, monkeypatch,
            AWS_CONTAINER_CREDENTIALS_FULL_URI=node_agent.url("container", "/v1/credentials"),
            AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token),
            AWS_EC2_METADATA_DISABLED="true",
        )
        assert (arn, method) == (assumed(env.roles[sa], f"prod.{sa}"), "container-role")
    assert node_agent.health()["tokens"] == 2


def test_a_node_agent_refuses_unknown_forged_and_missing_tokens(env, node_agent):
    path = "/v1/credentials"
    status, body = node_agent.get("container", path)
    assert status == 401 and json.loads(body)["code"] == "AccessDenied"
    stranger = env.cluster.token("dev", "other")
    status, body = node_agent.get("container", path, {"Authorization": stranger})
    assert status == 403 and "system:serviceaccount:dev:other" in json.loads(body)["message"]
    # Signed by another key: the agent does not verify it, the broker does.
    forged = Cluster().token("prod", "billing")
    status, body = node_agent.get("container", path, {"Authorization": forged})
    assert status == 403 and json.loads(body)["code"] == "InvalidIdentityToken", body
    status, body = node_agent.get("container", path, {"Authorization": "not-a-jwt"})
    assert status == 401


def expiration(doc: dict) -> float:
    return datetime.datetime.strptime(doc["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def test_refresh_ahead_of_expiry_token_rotation_and_broker_outage():
    cluster = Cluster()
    daemon = Daemon(extra_config=cluster.broker_config()).start()
    agent = None
    try:
        iam = daemon.client("iam")
        iam.create_open_id_connect_provider(Url=ISSUER, ClientIDList=[AUDIENCE])
        role = uniq("fast")
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=Cluster.trust("prod", "app"))
        token_file = write(Path(daemon.tmp.name) / "token", cluster.token("prod", "app", lifetime=8))
        token1_expires = time.time() + 8
        agent = Agent(daemon.endpoint, f"""
[role]
arn = "{role_arn(role)}"
duration_secs = 900
web_identity_token_file = "{token_file}"

[refresh]
before_expiry_secs = 895
jitter_secs = 0
serve_margin_secs = 893
retry_min_ms = 200
retry_max_secs = 1

[container]
listen = "127.0.0.1:{{container}}"

[health]
listen = "127.0.0.1:{{health}}"
""").start()

        def read() -> tuple[int, dict]:
            status, body = agent.get("container", "/v1/credentials")
            return status, (json.loads(body) if body else {})

        status, first = read()
        assert status == 200
        # The kubelet rotates the projected token in place.
        token_file.write_text(cluster.token("prod", "app"))
        seen = [first["AccessKeyId"]]
        deadline = time.monotonic() + 25
        while time.time() < token1_expires + 6:
            assert time.monotonic() < deadline
            status, doc = read()
            assert status == 200, doc
            if doc["AccessKeyId"] != seen[-1]:
                seen.append(doc["AccessKeyId"])
            time.sleep(0.25)
        # Refreshed ahead of expiry (every ~5 s here), and still after the
        # first token expired: the rotated file was read.
        assert len(seen) >= 3, seen
        h = agent.health()
        assert h["status"] == "fresh" and h["last_error"] is None, h
        assert h["broker_calls"] >= 3

        # The broker goes away: the last good credentials are served while
        # servable, then nothing — never expired credentials.
        daemon.stop()
        served, statuses, stale_seen = set(), [], False
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status, doc = read()
            statuses.append(status)
            if status == 200:
                served.add(doc["AccessKeyId"])
                assert expiration(doc) > time.time() + 880, "credentials near expiry were served"
            else:
                assert status == 503 and doc["code"] == "CredentialsUnavailable", doc
                break
            h = agent.health()
            if h["status"] == "stale":
                stale_seen = True
                assert "unreachable" in h["last_error"], h
            time.sleep(0.2)
        assert statuses[-1] == 503, "the agent kept serving after the margin"
        assert stale_seen, "health never reported stale while serving the last good credentials"
        assert len(served) == 1, "no new credentials without a broker"
        h = agent.health()
        assert h["status"] == "unavailable" and h["consecutive_failures"] >= 2
        assert agent.get("health", "/readyz")[0] == 503
    finally:
        if agent:
            agent.close()
        daemon.close()
