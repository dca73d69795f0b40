"""Three stsd replicas on one real `redis-server` act as one broker
(issue 7): a user created through A signs requests B verifies; a session
revoked through B is refused by C on its next call (the delay is measured
and printed); an MFA code used on A is refused on B; a SAML assertion
replayed to another replica is refused. All through boto3 and a grpcio
client, as in the single-daemon tests.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from pathlib import Path

import grpc
import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from grpc_support import framed, generate, signed_metadata
from redis_server import RedisServer
from saml_idp import IdP, b64
from support import ACCOUNT, ROOT_KEY_ID, ROOT_SECRET, Daemon, allow, expect_error, uniq
from stsutil import assume, assumer, make_role, make_user, mfa_user, session_client, trust_doc

SAML_PROVIDER = "replica-idp"
SAML_PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:saml-provider/{SAML_PROVIDER}"


def redis_config(url: str, prefix: str, extra: str = "") -> str:
    return f'[store]\nbackend = "redis"\n[store.redis]\nurl = "{url}"\nprefix = "{prefix}"\n{extra}'


def start_replicas(redis: RedisServer, n: int = 3, prefix: str | None = None, extra: str = "") -> list[Daemon]:
    """`n` daemons on `redis` sharing one master key (so each opens what
    another sealed) and nothing else: their data directories differ."""
    master_key = base64.b64encode(os.urandom(32)).decode()
    config = redis_config(redis.url, prefix or uniq("stsd") + ":", extra)
    return [Daemon(master_key=master_key, additional_accounts=(), extra_config=config).start() for _ in range(n)]


@pytest.fixture(scope="module")
def redis():
    server = RedisServer().start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def replicas(redis):
    daemons = start_replicas(redis)
    yield daemons
    for d in daemons:
        d.close()


def test_a_user_created_through_one_replica_signs_requests_another_verifies(replicas):
    a, b, c = replicas
    user = make_user(a.client("iam"), a, allow("sts:GetCallerIdentity"))
    for other in (b, c):
        seen = other.client("sts", user.key_id, user.secret).get_caller_identity()
        assert seen["Arn"] == user.arn
    # A deactivation through C is seen by A.
    c.client("iam").update_access_key(UserName=user.name, AccessKeyId=user.key_id, Status="Inactive")
    deadline = time.monotonic() + 10
    while True:
        try:
            a.client("sts", user.key_id, user.secret).get_caller_identity()
        except ClientError as e:
            assert e.response["Error"]["Code"] == "InvalidClientTokenId"
            break
        assert time.monotonic() < deadline, "A still accepts a key deactivated through C"
        time.sleep(0.02)


def test_names_are_unique_across_replicas(replicas):
    a, b, _ = replicas
    name = uniq("shared")
    a.client("iam").create_user(UserName=name)
    expect_error("EntityAlreadyExists", b.client("iam").create_user, UserName=name, status=409)


def test_at_most_two_access_keys_even_when_replicas_race(replicas):
    from concurrent.futures import ThreadPoolExecutor

    name = uniq("racer")
    replicas[0].client("iam").create_user(UserName=name)
    clients = [d.client("iam") for d in replicas] * 2

    def create(client):
        try:
            client.create_access_key(UserName=name)
            return "ok"
        except ClientError as e:
            return e.response["Error"]["Code"]

    with ThreadPoolExecutor(len(clients)) as pool:
        outcomes = list(pool.map(create, clients))
    assert outcomes.count("ok") == 2, outcomes
    assert set(outcomes) <= {"ok", "LimitExceeded", "ConcurrentModification"}, outcomes
    keys = replicas[2].client("iam").list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert len(keys) == 2


class Sessions:
    """The gRPC Sessions service of one replica, signed by botocore."""

    def __init__(self, daemon: Daemon, pb):
        self.authority = f"127.0.0.1:{daemon.port}"
        self.stub = pb[1].SessionsStub(grpc.insecure_channel(self.authority))
        self.pb = pb[0]

    def revoke(self, **target):
        message = self.pb.RevokeRequest(**target)
        md = signed_metadata(Credentials(ROOT_KEY_ID, ROOT_SECRET), self.authority, "/stsd.v1.Sessions/Revoke", framed(message))
        return self.stub.Revoke(message, metadata=md, timeout=30)


def test_a_session_revoked_through_b_is_refused_by_c(replicas, tmp_path_factory):
    a, b, c = replicas
    pb = generate(tmp_path_factory.mktemp("stubs"), "sessions_pb2", "sessions_pb2_grpc")
    me = assumer(a.client("iam"), a)
    role = make_role(a.client("iam"), allow("sts:GetCallerIdentity"), trust=trust_doc())
    creds = assume(me.client(), role, "revoked")["Credentials"]
    kept = assume(me.client(), role, "kept")["Credentials"]
    on_c = session_client(c, creds)
    assert on_c.get_caller_identity()["Arn"].endswith("/revoked")

    Sessions(b, pb).revoke(access_key_id=creds["AccessKeyId"])
    revoked_at = time.monotonic()
    calls = 0
    while True:
        calls += 1
        try:
            on_c.get_caller_identity()
        except ClientError as e:
            assert e.response["Error"]["Code"] == "InvalidClientTokenId"
            break
        assert time.monotonic() - revoked_at < 10, "C still accepts a session revoked through B"
    delay_ms = (time.monotonic() - revoked_at) * 1000
    # Reported, not asserted on: pub/sub usually beats the first call.
    print(f"\nrevocation through B refused by C after {delay_ms:.1f} ms ({calls} call(s))")
    # A and B refuse it too; the other session of the role lives on everywhere.
    for d in (a, b):
        expect_error("InvalidClientTokenId", session_client(d, creds).get_caller_identity, status=403)
    for d in replicas:
        assert session_client(d, kept).get_caller_identity()["Arn"].endswith("/kept")


def test_an_mfa_code_used_on_a_is_refused_on_b(replicas):
    a, b, _ = replicas
    m = mfa_user(a.client("iam"), a, allow("sts:GetSessionToken"))
    code = m.code()
    a_sts = a.client("sts", m.user.key_id, m.user.secret)
    a_sts.get_session_token(SerialNumber=m.serial, TokenCode=code)
    b_sts = b.client("sts", m.user.key_id, m.user.secret)
    expect_error("AccessDenied", b_sts.get_session_token, SerialNumber=m.serial, TokenCode=code, status=403)
    # The next step's code still works, on B.
    b_sts.get_session_token(SerialNumber=m.serial, TokenCode=m.code(1))


def test_a_saml_assertion_replayed_to_another_replica_is_refused(replicas):
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    a, b, c = replicas
    tmp = tempfile.TemporaryDirectory(prefix="stsd-saml-")
    try:
        idp = IdP(Path(tmp.name))
        a.client("iam").create_saml_provider(Name=SAML_PROVIDER, SAMLMetadataDocument=idp.metadata())
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Federated": SAML_PROVIDER_ARN}, "Action": "sts:AssumeRoleWithSAML"}
            ],
        }
        role = a.client("iam").create_role(RoleName=uniq("saml"), AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        xml = idp.response(role, SAML_PROVIDER_ARN, mode="assertion")

        def anon(d):
            return boto3.session.Session(region_name="us-east-1").client(
                "sts", endpoint_url=d.endpoint, config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1})
            )

        got = anon(b).assume_role_with_saml(RoleArn=role, PrincipalArn=SAML_PROVIDER_ARN, SAMLAssertion=b64(xml))
        assert got["AssumedRoleUser"]["Arn"].endswith("/alice")
        for d in (a, c, b):
            expect_error(
                "InvalidIdentityToken",
                anon(d).assume_role_with_saml,
                RoleArn=role,
                PrincipalArn=SAML_PROVIDER_ARN,
                SAMLAssertion=b64(xml),
                names=["already been used"],
            )
    finally:
        tmp.cleanup()
