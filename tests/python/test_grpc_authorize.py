"""Authorizer and Sessions over gRPC with a real grpcio client (issue 6):
stubs generated from proto/ in the test, every call signed by botocore's
SigV4Auth over the framed body (scope service `stsd`); the requests asked
about are signed by botocore too (`SigV4Auth`, `SigV4QueryAuth`).
Authorize (allowed, denied by identity / session policy / boundary /
explicit deny / resource policy, tampered, wrong scope), Simulate,
Sessions.List and Sessions.Revoke — revocation effective on the very next
Authorize and the very next boto3 call.
"""

from __future__ import annotations

import json
import time

import grpc
import pytest
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError
from botocore.credentials import Credentials

from authz_client import creds_of, presigned_service_request, request_parts, signed_service_request
from grpc_support import framed, generate, signed_metadata
from support import ACCOUNT, ROOT_KEY_ID, ROOT_SECRET, allow, deny, policy, uniq
from stsutil import assume, assumer, make_role, make_user, session_client, trust_doc

ALBUM = f"arn:aws:photos:us-east-1:{ACCOUNT}:album/summer"


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    """(authorizer_pb2, authorizer_pb2_grpc, sessions_pb2, sessions_pb2_grpc)."""
    return generate(
        tmp_path_factory.mktemp("stubs"),
        "authorizer_pb2",
        "authorizer_pb2_grpc",
        "sessions_pb2",
        "sessions_pb2_grpc",
    )


class Client:
    """Calls one gRPC service of stsd, signed by botocore."""

    def __init__(self, daemon, service: str, stub_class, creds: Credentials):
        self.authority = f"127.0.0.1:{daemon.port}"
        self.service = service
        self.stub = stub_class(grpc.insecure_channel(self.authority))
        self.creds = creds

    def __call__(self, method: str, message):
        path = f"/stsd.v1.{self.service}/{method}"
        md = signed_metadata(self.creds, self.authority, path, framed(message))
        return getattr(self.stub, method)(message, metadata=md, timeout=30)


ROOT_CREDS = Credentials(ROOT_KEY_ID, ROOT_SECRET)


@pytest.fixture(scope="module")
def az(daemon, pb):
    return Client(daemon, "Authorizer", pb[1].AuthorizerStub, ROOT_CREDS)


@pytest.fixture(scope="module")
def ss(daemon, pb):
    return Client(daemon, "Sessions", pb[3].SessionsStub, ROOT_CREDS)


def ask(pb, request: AWSRequest, action: str, resource: str = ALBUM, body: bytes | None = None, **extra):
    m = pb[0]
    parts = request_parts(request, body)
    http = m.HttpRequest(
        method=parts["Method"],
        scheme=parts["Scheme"],
        host=parts["Host"],
        path=parts["Path"],
        query=parts["Query"],
        headers=[m.HttpHeader(name=h["Name"], value=h["Value"]) for h in parts["Headers"]],
        payload_sha256=parts["PayloadSha256"],
    )
    return m.AuthorizeRequest(http=http, action=action, resource=resource, **extra)


def decision(pb, answer) -> str:
    return pb[0].Decision.Name(answer.decision)


def creds_of_session(c: dict):
    return creds_of(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


def test_authorize_decisions(iam, daemon, pb, az):
    u = make_user(iam, daemon, {**allow("photos:*"), "Sid": "All"}, {**deny("photos:DeleteAlbum"), "Sid": "NoDelete"})
    c = creds_of(u.key_id, u.secret)
    a = az("Authorize", ask(pb, signed_service_request(c), "photos:GetAlbum", source_ip="10.0.0.1"))
    assert decision(pb, a) == "DECISION_ALLOW"
    assert a.principal.arn == u.arn and a.principal.type == "User" and a.principal.user_id == u.user_id
    assert [(s.sid, pb[0].PolicyKind.Name(s.kind)) for s in a.statements] == [("All", "POLICY_KIND_IDENTITY")]
    assert a.cache_ttl.seconds > 0
    d = az("Authorize", ask(pb, signed_service_request(c, method="DELETE"), "photos:DeleteAlbum"))
    assert decision(pb, d) == "DECISION_EXPLICIT_DENY" and d.error_code == "AccessDenied"
    assert [s.sid for s in d.statements] == ["NoDelete"]
    # A resource policy that denies this user.
    refuse = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": {"AWS": u.arn}, "Action": "photos:*", "Resource": "*"}]})
    r = az("Authorize", ask(pb, signed_service_request(c), "photos:GetAlbum", resource_policy=refuse))
    assert decision(pb, r) == "DECISION_EXPLICIT_DENY"
    assert pb[0].PolicyKind.Name(r.statements[0].kind) == "POLICY_KIND_RESOURCE"


def test_session_policy_and_boundary(iam, daemon, pb, az):
    me = assumer(iam, daemon)
    bound = iam.create_policy(PolicyName=uniq("b"), PolicyDocument=policy(allow("photos:Get*"), allow("photos:List*")))
    role = make_role(iam, allow("photos:*"), boundary=bound["Policy"]["Arn"])
    creds = assume(me.client(), role, Policy=policy(allow("photos:GetAlbum")))["Credentials"]
    c = creds_of_session(creds)
    assert decision(pb, az("Authorize", ask(pb, signed_service_request(c), "photos:GetAlbum"))) == "DECISION_ALLOW"
    # Allowed by the role and the boundary, not by the session policy.
    s = az("Authorize", ask(pb, signed_service_request(c), "photos:ListAlbums"))
    assert decision(pb, s) == "DECISION_IMPLICIT_DENY" and "session policy" in s.reason
    # Allowed by the role and the session policy? No: not by the boundary.
    creds2 = assume(me.client(), role, Policy=policy(allow("photos:*")))["Credentials"]
    b = az("Authorize", ask(pb, signed_service_request(creds_of_session(creds2)), "photos:PutAlbum"))
    assert decision(pb, b) == "DECISION_IMPLICIT_DENY" and "permissions boundary" in b.reason


def test_tampered_presigned_and_scope(iam, daemon, pb, az):
    u = make_user(iam, daemon, allow("photos:*"))
    c = creds_of(u.key_id, u.secret)
    pre = presigned_service_request(c)
    assert decision(pb, az("Authorize", ask(pb, pre, "photos:GetAlbum"))) == "DECISION_ALLOW"
    body = b'{"title": "x"}'
    put = signed_service_request(c, method="PUT", body=body)
    t = az("Authorize", ask(pb, put, "photos:PutAlbum", body=b"other"))
    assert (decision(pb, t), t.error_code) == ("DECISION_UNAUTHENTICATED", "SignatureDoesNotMatch")
    west = signed_service_request(c, region="eu-west-1")
    w = az("Authorize", ask(pb, west, "photos:GetAlbum"))
    assert decision(pb, w) == "DECISION_UNAUTHENTICATED"
    assert decision(pb, az("Authorize", ask(pb, west, "photos:GetAlbum", expected_signing_region="eu-west-1"))) == "DECISION_ALLOW"
    other = signed_service_request(c, service="videos")
    assert az("Authorize", ask(pb, other, "photos:GetAlbum")).error_code == "SignatureDoesNotMatch"


def test_asker_needs_permission(iam, daemon, pb):
    u = make_user(iam, daemon, allow("photos:*"))
    asker = make_user(iam, daemon)
    client = Client(daemon, "Authorizer", pb[1].AuthorizerStub, Credentials(asker.key_id, asker.secret))
    with pytest.raises(grpc.RpcError) as e:
        client("Authorize", ask(pb, signed_service_request(creds_of(u.key_id, u.secret)), "photos:GetAlbum"))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert dict(e.value.trailing_metadata())["x-amzn-errortype"] == "AccessDenied"
    assert "stsd:Authorize" in e.value.details()


def test_simulate(iam, daemon, pb, az):
    u = make_user(iam, daemon, allow("photos:GetAlbum"))
    m = pb[0]
    s = az("Simulate", m.SimulateRequest(principal_arn=u.arn, action="photos:GetAlbum", resource=ALBUM))
    assert decision(pb, s) == "DECISION_ALLOW"
    assert list(s.matched_policies) == ["perms"]
    n = az("Simulate", m.SimulateRequest(principal_arn=u.arn, action="photos:PutAlbum", resource=ALBUM))
    assert decision(pb, n) == "DECISION_IMPLICIT_DENY"
    c = az("Simulate", m.SimulateRequest(policies=[policy(deny("photos:*"), allow("*"))], action="photos:GetAlbum"))
    assert decision(pb, c) == "DECISION_EXPLICIT_DENY"


def test_list_and_revoke_take_effect_on_the_next_call(iam, daemon, pb, az, ss):
    me = assumer(iam, daemon)
    role = make_role(iam, allow("photos:*"), trust=trust_doc(actions=("sts:AssumeRole", "sts:SetSourceIdentity")))
    one = assume(me.client(), role, "one", SourceIdentity="alice@example.com")["Credentials"]
    two = assume(me.client(), role, "two")["Credentials"]
    m = pb[2]
    listed = ss("List", m.ListRequest(role_arn=role["Arn"]))
    assert sorted(s.access_key_id for s in listed.sessions) == sorted([one["AccessKeyId"], two["AccessKeyId"]])
    by_source = ss("List", m.ListRequest(source_identity="alice@example.com"))
    assert [s.access_key_id for s in by_source.sessions] == [one["AccessKeyId"]]

    sts_one = session_client(daemon, one)
    assert sts_one.get_caller_identity()["Arn"].endswith("/one")
    ss("Revoke", m.RevokeRequest(source_identity="alice@example.com"))
    a = az("Authorize", ask(pb, signed_service_request(creds_of_session(one)), "photos:GetAlbum"))
    assert (decision(pb, a), a.error_code) == ("DECISION_UNAUTHENTICATED", "InvalidClientTokenId")
    with pytest.raises(ClientError) as e:
        sts_one.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    # The other session of the role is untouched.
    b = az("Authorize", ask(pb, signed_service_request(creds_of_session(two)), "photos:GetAlbum"))
    assert decision(pb, b) == "DECISION_ALLOW"
    assert session_client(daemon, two).get_caller_identity()["Arn"].endswith("/two")


def test_revoke_everything_before_now(iam, daemon, pb, az, ss):
    u = make_user(iam, daemon, allow("sts:GetSessionToken"), allow("photos:*"))
    creds = u.client().get_session_token()["Credentials"]
    before = az("Authorize", ask(pb, signed_service_request(creds_of_session(creds)), "photos:GetAlbum"))
    assert decision(pb, before) == "DECISION_ALLOW"
    from google.protobuf.timestamp_pb2 import Timestamp

    ss("Revoke", pb[2].RevokeRequest(all_issued_before=Timestamp(seconds=int(time.time()))))
    after = az("Authorize", ask(pb, signed_service_request(creds_of_session(creds)), "photos:GetAlbum"))
    assert after.error_code == "InvalidClientTokenId"
    # Long-term keys are not sessions: unaffected.
    assert decision(pb, az("Authorize", ask(pb, signed_service_request(creds_of(u.key_id, u.secret)), "photos:GetAlbum"))) == "DECISION_ALLOW"


def test_bad_revoke_input_is_named(pb, ss):
    with pytest.raises(grpc.RpcError) as e:
        ss("Revoke", pb[2].RevokeRequest(role_arn="not-an-arn"))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "RoleArn" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        ss("Revoke", pb[2].RevokeRequest())
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(e.value.trailing_metadata())["x-amzn-errortype"] == "MissingParameter"
