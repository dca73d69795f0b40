"""The gRPC API with a real grpcio client.

Stubs are generated from proto/ inside the test (grpcio-tools); every
signed call is signed by botocore's SigV4Auth on an AWSRequest whose body
is the gRPC-framed message (flag byte 0, 4-byte big-endian length, the
protobuf bytes), scope service `stsd`, and the signed headers are sent as
gRPC metadata. Every STS RPC is called; errors carry the AWS code in
`x-amzn-errortype` and the request id in `x-amzn-requestid`.
"""

from __future__ import annotations

import json

import grpc
import pytest
from botocore.credentials import Credentials

from grpc_support import framed, generate, signed_metadata
from support import ROOT_KEY_ID, ROOT_SECRET, uniq


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    """The generated modules (sts_pb2, sts_pb2_grpc)."""
    msgs, svc, _, _ = generate(
        tmp_path_factory.mktemp("stubs"), "sts_pb2", "sts_pb2_grpc", "authorizer_pb2_grpc", "sessions_pb2_grpc"
    )
    return msgs, svc


class Signed:
    """Calls SecurityTokenService methods, signed with SigV4 (botocore)."""

    def __init__(self, daemon, pb, key=ROOT_KEY_ID, secret=ROOT_SECRET, token=None):
        self.msgs, svc = pb
        self.authority = f"127.0.0.1:{daemon.port}"
        self.channel = grpc.insecure_channel(self.authority)
        self.stub = svc.SecurityTokenServiceStub(self.channel)
        self.creds = Credentials(key, secret, token) if key else None

    def metadata(self, method: str, message, body: bytes | None = None) -> list[tuple[str, str]]:
        signed_body = framed(message) if body is None else body
        return signed_metadata(
            self.creds, self.authority, f"/stsd.v1.SecurityTokenService/{method}", signed_body
        )

    def __call__(self, method: str, message, **kw):
        md = self.metadata(method, message, **kw) if self.creds else None
        return getattr(self.stub, method).with_call(message, metadata=md, timeout=30)


def status_of(excinfo) -> tuple[grpc.StatusCode, str, str]:
    e = excinfo.value
    md = dict(e.trailing_metadata() or ())
    md.update(dict(e.initial_metadata() or ()))
    assert len(md.get("x-amzn-requestid", "")) == 36, md
    return e.code(), md.get("x-amzn-errortype"), e.details()


@pytest.fixture(scope="module")
def alice(daemon, iam):
    """A user with a key, and a role that trusts her."""
    name = uniq("alice")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    arn = f"arn:aws:iam::123456789012:user/{name}"
    trust = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": ["sts:AssumeRole", "sts:TagSession"]},
    }
    role = uniq("deploy")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    return key["AccessKeyId"], key["SecretAccessKey"], arn, f"arn:aws:iam::123456789012:role/{role}"


def test_every_sts_rpc(daemon, pb, alice, sts):
    m = pb[0]
    root = Signed(daemon, pb)
    key, secret, alice_arn, role_arn = alice
    as_alice = Signed(daemon, pb, key, secret)

    me, call = root("GetCallerIdentity", m.GetCallerIdentityRequest())
    assert (me.arn, me.account) == ("arn:aws:iam::123456789012:root", "123456789012")
    assert len(dict(call.initial_metadata())["x-amzn-requestid"]) == 36

    out, _ = as_alice(
        "AssumeRole",
        m.AssumeRoleRequest(
            role_arn=role_arn,
            role_session_name="py-grpc",
            duration_seconds=900,
            tags=[m.Tag(key="Project", value="Apollo")],
            transitive_tag_keys=["Project"],
        ),
    )
    c = out.credentials
    assert c.access_key_id.startswith("ASIA") and len(c.secret_access_key) == 40
    assert out.assumed_role_user.arn.endswith(":assumed-role/" + role_arn.split("/")[-1] + "/py-grpc")
    assert out.packed_policy_size > 0
    # The session works over gRPC and over the Query API alike.
    session = Signed(daemon, pb, c.access_key_id, c.secret_access_key, c.session_token)
    me, _ = session("GetCallerIdentity", m.GetCallerIdentityRequest())
    assert me.arn == out.assumed_role_user.arn
    q = daemon.client("sts", c.access_key_id, c.secret_access_key, c.session_token).get_caller_identity()
    assert q["Arn"] == me.arn and q["UserId"] == me.user_id

    out, _ = as_alice("GetSessionToken", m.GetSessionTokenRequest(duration_seconds=900))
    c = out.credentials
    me, _ = Signed(daemon, pb, c.access_key_id, c.secret_access_key, c.session_token)(
        "GetCallerIdentity", m.GetCallerIdentityRequest()
    )
    assert me.arn == alice_arn
    assert c.expiration.seconds > 0

    out, _ = root(
        "GetFederationToken",
        m.GetFederationTokenRequest(
            name="bob",
            policy=json.dumps(
                {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}
            ),
        ),
    )
    assert out.federated_user.arn == "arn:aws:sts::123456789012:federated-user/bob"
    assert out.federated_user.federated_user_id == "123456789012:bob"

    out, _ = root("GetAccessKeyInfo", m.GetAccessKeyInfoRequest(access_key_id=key))
    assert out.account == "123456789012"

    # alice has no policy: denied, with the Query API's encoded message,
    # which root decodes.
    with pytest.raises(grpc.RpcError) as ei:
        as_alice("GetAccessKeyInfo", m.GetAccessKeyInfoRequest(access_key_id=key))
    code, aws, message = status_of(ei)
    assert (code, aws) == (grpc.StatusCode.PERMISSION_DENIED, "AccessDenied")
    blob = message.split("Encoded authorization failure message: ", 1)[1]
    out, _ = root("DecodeAuthorizationMessage", m.DecodeAuthorizationMessageRequest(encoded_message=blob))
    decoded = json.loads(out.decoded_message)
    assert decoded["allowed"] is False and decoded["context"]["action"] == "sts:GetAccessKeyInfo"

    # The unsigned actions run without a signature.
    anon = Signed(daemon, pb, key=None)
    with pytest.raises(grpc.RpcError) as ei:
        anon(
            "AssumeRoleWithWebIdentity",
            m.AssumeRoleWithWebIdentityRequest(role_arn=role_arn, role_session_name="w1", web_identity_token="not-a-jwt"),
        )
    assert status_of(ei)[:2] == (grpc.StatusCode.UNAUTHENTICATED, "InvalidIdentityToken")
    with pytest.raises(grpc.RpcError) as ei:
        anon(
            "AssumeRoleWithSAML",
            m.AssumeRoleWithSAMLRequest(
                role_arn=role_arn,
                principal_arn="arn:aws:iam::123456789012:saml-provider/nope",
                saml_assertion="bm90LXNhbWw=",
            ),
        )
    code, aws, message = status_of(ei)
    assert aws == "InvalidIdentityToken" and "Specified provider doesn't exist" in message


def test_validation_matches_the_query_api(daemon, pb, alice):
    m = pb[0]
    key, secret, _, role_arn = alice
    with pytest.raises(grpc.RpcError) as ei:
        Signed(daemon, pb, key, secret)(
            "AssumeRole", m.AssumeRoleRequest(role_arn=role_arn, role_session_name="s1", duration_seconds=100)
        )
    code, aws, message = status_of(ei)
    assert (code, aws) == (grpc.StatusCode.INVALID_ARGUMENT, "ValidationError")
    assert message == (
        "1 validation error detected: Value '100' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    )


def test_refusals_are_unauthenticated(daemon, pb):
    m = pb[0]
    req = m.GetCallerIdentityRequest()
    with pytest.raises(grpc.RpcError) as ei:
        Signed(daemon, pb, key=None)("GetCallerIdentity", req)
    assert status_of(ei)[:2] == (grpc.StatusCode.UNAUTHENTICATED, "MissingAuthenticationToken")

    with pytest.raises(grpc.RpcError) as ei:
        Signed(daemon, pb, ROOT_KEY_ID, "x" * 40)("GetCallerIdentity", req)
    assert status_of(ei)[:2] == (grpc.StatusCode.UNAUTHENTICATED, "SignatureDoesNotMatch")

    # Signed over another body than the one sent.
    wrong = framed(m.GetAccessKeyInfoRequest(access_key_id=ROOT_KEY_ID))
    with pytest.raises(grpc.RpcError) as ei:
        Signed(daemon, pb)("GetAccessKeyInfo", m.GetAccessKeyInfoRequest(access_key_id="AKIAI44QH8DHBEXAMPLE"), body=wrong)
    code, aws, message = status_of(ei)
    assert (code, aws) == (grpc.StatusCode.UNAUTHENTICATED, "SignatureDoesNotMatch")
    assert "x-amz-content-sha256" in message
