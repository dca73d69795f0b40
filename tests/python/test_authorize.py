"""Authorize over HTTP JSON (`POST /v1/authorize`, issue 6): requests signed
by botocore (`SigV4Auth`, and presigned URLs from `SigV4QueryAuth`) for some
other service, handed to stsd by a service that itself signs its call with
botocore. Allowed, denied by identity policy, by session policy, by
boundary, by explicit deny, by resource policy; tampered path, header,
query and body; expired; wrong region or service scope; policy changes on
the very next call; bad input named by field.
"""

import json
import time

import pytest

from authz_client import Authorize, creds_of, presigned_service_request, request_parts, signed_service_request
from support import ACCOUNT, ROOT_KEY_ID, ROOT_SECRET, allow, deny, policy, uniq
from stsutil import assume, assumer, make_role, make_user

ALBUM = f"arn:aws:photos:us-east-1:{ACCOUNT}:album/summer"
OTHER_ALBUM = f"arn:aws:photos:us-east-1:{ACCOUNT}:album/winter"


@pytest.fixture(scope="module")
def authorize(daemon):
    """Asks as root (allowed everything, stsd:Authorize included)."""
    return Authorize(daemon.endpoint, creds_of(ROOT_KEY_ID, ROOT_SECRET))


def user_creds(u):
    return creds_of(u.key_id, u.secret)


# --- decisions ------------------------------------------------------------


def test_allowed_by_identity_policy_names_principal_and_statement(iam, daemon, authorize):
    u = make_user(iam, daemon, {**allow("photos:GetAlbum", ALBUM), "Sid": "ReadSummer"})
    iam.tag_user(UserName=u.name, Tags=[{"Key": "Team", "Value": "blue"}])
    a = authorize(signed_service_request(user_creds(u)), "photos:GetAlbum", ALBUM)
    assert a["Decision"] == "Allow"
    assert "ErrorCode" not in a
    p = a["Principal"]
    assert p["Arn"] == u.arn and p["Account"] == ACCOUNT
    assert p["UserId"] == u.user_id and p["Type"] == "User"
    assert p["Tags"] == [{"Key": "Team", "Value": "blue"}]
    assert a["Statements"] == [
        {"Policy": f"{u.arn}:perms", "Kind": "identity", "Sid": "ReadSummer", "Index": 0, "Effect": "Allow"}
    ]
    assert "is allowed to perform: photos:GetAlbum" in a["Reason"]
    assert 0 < a["CacheTtlSeconds"] <= 5


def test_implicit_deny_when_no_policy_allows(iam, daemon, authorize):
    u = make_user(iam, daemon, allow("photos:GetAlbum", ALBUM))
    a = authorize(signed_service_request(user_creds(u)), "photos:GetAlbum", OTHER_ALBUM)
    assert a["Decision"] == "ImplicitDeny"
    assert a["ErrorCode"] == "AccessDenied"
    assert a["Statements"] == []
    assert a["Reason"] == (
        f"User: {u.arn} is not authorized to perform: photos:GetAlbum on resource: {OTHER_ALBUM} "
        "because no identity-based policy allows the photos:GetAlbum action"
    )


def test_explicit_deny_wins_and_is_named(iam, daemon, authorize):
    u = make_user(iam, daemon, allow("photos:*"), {**deny("photos:DeleteAlbum"), "Sid": "NoDelete"})
    a = authorize(signed_service_request(user_creds(u), method="DELETE"), "photos:DeleteAlbum", ALBUM)
    assert a["Decision"] == "ExplicitDeny"
    assert a["ErrorCode"] == "AccessDenied"
    assert [(s["Sid"], s["Effect"]) for s in a["Statements"]] == [("NoDelete", "Deny")]
    assert "with an explicit deny in a identity-based policy" in a["Reason"]


def test_boundary_limits_the_user(iam, daemon, authorize):
    arn = iam.create_policy(PolicyName=uniq("bound"), PolicyDocument=policy(allow("photos:ListAlbums")))["Policy"]["Arn"]
    u = make_user(iam, daemon, allow("photos:*"))
    iam.put_user_permissions_boundary(UserName=u.name, PermissionsBoundary=arn)
    req = signed_service_request(user_creds(u))
    assert authorize(req, "photos:ListAlbums", "*")["Decision"] == "Allow"
    a = authorize(req, "photos:GetAlbum", ALBUM)
    assert a["Decision"] == "ImplicitDeny"
    assert "because no permissions boundary allows" in a["Reason"]


def test_session_credentials_and_session_policy(iam, daemon, authorize):
    me = assumer(iam, daemon)
    role = make_role(iam, allow("photos:*"))
    narrow = policy(allow("photos:GetAlbum", ALBUM))
    creds = assume(me.client(), role, "alice", Policy=narrow)["Credentials"]
    session = creds_of(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    req = signed_service_request(session)
    a = authorize(req, "photos:GetAlbum", ALBUM)
    assert a["Decision"] == "Allow"
    p = a["Principal"]
    assert p["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/alice"
    assert p["Type"] == "AssumedRole"
    assert p["UserId"] == f"{role['RoleId']}:alice"
    assert {s["Kind"] for s in a["Statements"]} == {"identity", "session"}
    # The role allows photos:*, the session policy only GetAlbum.
    d = authorize(req, "photos:DeleteAlbum", ALBUM)
    assert d["Decision"] == "ImplicitDeny"
    assert "because no session policy allows" in d["Reason"]


def test_resource_policy_allows_and_denies(iam, daemon, authorize):
    u = make_user(iam, daemon)  # no identity policy at all
    grant = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": u.arn}, "Action": "photos:GetAlbum", "Resource": ALBUM}
            ],
        }
    )
    req = signed_service_request(user_creds(u))
    assert authorize(req, "photos:GetAlbum", ALBUM)["Decision"] == "ImplicitDeny"
    a = authorize(req, "photos:GetAlbum", ALBUM, ResourcePolicy=grant)
    assert a["Decision"] == "Allow"
    assert a["Statements"][0]["Kind"] == "resource"
    refuse = grant.replace('"Allow"', '"Deny"')
    u2 = make_user(iam, daemon, allow("photos:*"))
    d = authorize(signed_service_request(user_creds(u2)), "photos:GetAlbum", ALBUM,
                  ResourcePolicy=refuse.replace(u.arn, u2.arn))
    assert d["Decision"] == "ExplicitDeny"
    assert "explicit deny in a resource-based policy" in d["Reason"]


def test_service_control_policy_caps_the_account(iam, daemon, authorize):
    u = make_user(iam, daemon, allow("photos:*"))
    scp = policy(allow("photos:GetAlbum"))
    req = signed_service_request(user_creds(u))
    assert authorize(req, "photos:GetAlbum", ALBUM, ServiceControlPolicies=[scp])["Decision"] == "Allow"
    a = authorize(req, "photos:DeleteAlbum", ALBUM, ServiceControlPolicies=[scp])
    assert a["Decision"] == "ImplicitDeny"
    assert "service control policy" in a["Reason"]


def test_request_context_keys_decide(iam, daemon, authorize):
    tagged = {
        **allow("photos:CreateAlbum"),
        "Condition": {"StringEquals": {"aws:RequestTag/team": "blue", "aws:SecureTransport": "true"}},
    }
    u = make_user(iam, daemon, tagged)
    req = signed_service_request(user_creds(u), method="POST")
    ctx = [{"Key": "aws:RequestTag/team", "Values": ["blue"]}]
    assert authorize(req, "photos:CreateAlbum", "*", Context=ctx)["Decision"] == "Allow"
    red = [{"Key": "aws:RequestTag/team", "Values": ["red"]}]
    assert authorize(req, "photos:CreateAlbum", "*", Context=red)["Decision"] == "ImplicitDeny"
    # aws:SecureTransport comes from the request's scheme, not from the asker.
    plain = signed_service_request(user_creds(u), method="POST", url="http://photos.example.com/albums")
    assert authorize(plain, "photos:CreateAlbum", "*", Context=ctx)["Decision"] == "ImplicitDeny"


def test_source_ip_condition(iam, daemon, authorize):
    u = make_user(iam, daemon, {**allow("photos:GetAlbum"), "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})
    req = signed_service_request(user_creds(u))
    assert authorize(req, "photos:GetAlbum", ALBUM, SourceIp="10.1.2.3")["Decision"] == "Allow"
    assert authorize(req, "photos:GetAlbum", ALBUM, SourceIp="192.0.2.1")["Decision"] == "ImplicitDeny"


# --- policy changes apply on the very next call ---------------------------


def test_policy_change_applies_on_the_next_call(iam, daemon, authorize):
    me = assumer(iam, daemon)
    role = make_role(iam, allow("photos:GetAlbum"))
    creds = assume(me.client(), role)["Credentials"]
    req = signed_service_request(creds_of(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]))
    assert authorize(req, "photos:GetAlbum", ALBUM)["Decision"] == "Allow"
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="stop", PolicyDocument=policy(deny("photos:*")))
    assert authorize(req, "photos:GetAlbum", ALBUM)["Decision"] == "ExplicitDeny"
    iam.delete_role_policy(RoleName=role["RoleName"], PolicyName="stop")
    assert authorize(req, "photos:GetAlbum", ALBUM)["Decision"] == "Allow"
    managed = iam.create_policy(PolicyName=uniq("stop"), PolicyDocument=policy(deny("photos:GetAlbum")))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=managed)
    assert authorize(req, "photos:GetAlbum", ALBUM)["Decision"] == "ExplicitDeny"
    iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=managed)
    assert authorize(req, "photos:GetAlbum", ALBUM)["Decision"] == "Allow"
    arn = iam.create_policy(PolicyName=uniq("b"), PolicyDocument=policy(allow("photos:ListAlbums")))["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName=role["RoleName"], PermissionsBoundary=arn)
    assert authorize(req, "photos:GetAlbum", ALBUM)["Decision"] == "ImplicitDeny"


def test_deactivated_key_is_unauthenticated_on_the_next_call(iam, daemon, authorize):
    u = make_user(iam, daemon, allow("photos:*"))
    req = signed_service_request(user_creds(u))
    assert authorize(req, "photos:GetAlbum", ALBUM)["Decision"] == "Allow"
    iam.update_access_key(UserName=u.name, AccessKeyId=u.key_id, Status="Inactive")
    a = authorize(req, "photos:GetAlbum", ALBUM)
    assert (a["Decision"], a["ErrorCode"]) == ("Unauthenticated", "InvalidClientTokenId")
    assert a["CacheTtlSeconds"] == 0


# --- authenticity ---------------------------------------------------------


@pytest.fixture(scope="module")
def reader(iam, daemon):
    return make_user(iam, daemon, allow("photos:*"))


def tampered(parts: dict, **changes) -> dict:
    return {**parts, **changes}


@pytest.mark.parametrize(
    "change",
    [
        {"Path": "/albums/winter"},
        {"Query": "max=11"},
        {"Method": "DELETE"},
        {"PayloadSha256": "0" * 64},
    ],
    ids=["path", "query", "method", "body"],
)
def test_tampered_request_is_unauthenticated(reader, authorize, change):
    parts = request_parts(signed_service_request(user_creds(reader), method="GET"))
    status, _, a = authorize.raw({"Request": tampered(parts, **change), "Action": "photos:GetAlbum", "Resource": ALBUM})
    assert status == 200
    assert (a["Decision"], a["ErrorCode"]) == ("Unauthenticated", "SignatureDoesNotMatch")
    assert "Principal" not in a


def test_tampered_signed_header_is_unauthenticated(reader, authorize):
    req = signed_service_request(user_creds(reader), headers={"X-Album-Owner": "alice"})
    parts = request_parts(req)
    parts["Headers"] = [
        {**h, "Value": "mallory"} if h["Name"].lower() == "x-album-owner" else h for h in parts["Headers"]
    ]
    _, _, a = authorize.raw({"Request": parts, "Action": "photos:GetAlbum", "Resource": ALBUM})
    assert (a["Decision"], a["ErrorCode"]) == ("Unauthenticated", "SignatureDoesNotMatch")


def test_body_hash_is_checked(reader, authorize):
    body = b'{"title": "beach"}'
    req = signed_service_request(user_creds(reader), method="PUT", body=body)
    assert authorize(req, "photos:PutAlbum", ALBUM, body=body)["Decision"] == "Allow"
    a = authorize(req, "photos:PutAlbum", ALBUM, body=b'{"title": "other"}')
    assert (a["Decision"], a["ErrorCode"]) == ("Unauthenticated", "SignatureDoesNotMatch")


def test_presigned_url(reader, authorize):
    req = presigned_service_request(user_creds(reader))
    a = authorize(req, "photos:GetAlbum", ALBUM)
    assert a["Decision"] == "Allow" and a["Principal"]["Arn"] == reader.arn
    parts = request_parts(req)
    parts["Path"] = "/albums/winter"
    _, _, t = authorize.raw({"Request": parts, "Action": "photos:GetAlbum", "Resource": ALBUM})
    assert (t["Decision"], t["ErrorCode"]) == ("Unauthenticated", "SignatureDoesNotMatch")


def test_expired_presigned_url(reader, authorize):
    req = presigned_service_request(user_creds(reader), expires=1)
    time.sleep(2.2)
    a = authorize(req, "photos:GetAlbum", ALBUM)
    assert a["Decision"] == "Unauthenticated"
    assert a["ErrorCode"] in {"RequestExpired"}, a


def test_wrong_region_scope(reader, authorize):
    req = signed_service_request(user_creds(reader), region="eu-west-1")
    a = authorize(req, "photos:GetAlbum", ALBUM)
    assert (a["Decision"], a["ErrorCode"]) == ("Unauthenticated", "SignatureDoesNotMatch")
    assert "region" in a["Reason"]
    # The asking service says which region it serves.
    assert authorize(req, "photos:GetAlbum", ALBUM, SigningRegion="eu-west-1")["Decision"] == "Allow"
    us = signed_service_request(user_creds(reader))
    b = authorize(us, "photos:GetAlbum", ALBUM, SigningRegion="eu-west-1")
    assert b["Decision"] == "Unauthenticated"


def test_wrong_service_scope(reader, authorize):
    req = signed_service_request(user_creds(reader), service="videos")
    a = authorize(req, "photos:GetAlbum", ALBUM)
    assert (a["Decision"], a["ErrorCode"]) == ("Unauthenticated", "SignatureDoesNotMatch")
    assert "service" in a["Reason"]
    assert authorize(req, "photos:GetAlbum", ALBUM, SigningService="videos")["Decision"] == "Allow"


def test_unknown_key_and_garbage_token(authorize):
    a = authorize(signed_service_request(creds_of("AKIAZZZZZZZZZZZZZZZZ", "x" * 40)), "photos:GetAlbum", ALBUM)
    assert (a["Decision"], a["ErrorCode"]) == ("Unauthenticated", "InvalidClientTokenId")
    b = authorize(
        signed_service_request(creds_of("ASIAZZZZZZZZZZZZZZZZ", "x" * 40, "bm90IGEgdG9rZW4=")), "photos:GetAlbum", ALBUM
    )
    assert (b["Decision"], b["ErrorCode"]) == ("Unauthenticated", "InvalidClientTokenId")


def test_unsigned_service_request(authorize):
    from botocore.awsrequest import AWSRequest

    a = authorize(AWSRequest(method="GET", url="https://photos.example.com/albums"), "photos:GetAlbum", ALBUM)
    assert (a["Decision"], a["ErrorCode"]) == ("Unauthenticated", "MissingAuthenticationToken")


# --- the asker --------------------------------------------------------------


def test_asker_needs_stsd_authorize_on_the_resource(iam, daemon, reader):
    asker = make_user(iam, daemon, allow("stsd:Authorize", ALBUM))
    client = Authorize(daemon.endpoint, user_creds(asker))
    req = signed_service_request(user_creds(reader))
    assert client(req, "photos:GetAlbum", ALBUM)["Decision"] == "Allow"
    status, headers, body = client.raw(
        {"Request": request_parts(req), "Action": "photos:GetAlbum", "Resource": OTHER_ALBUM}
    )
    assert status == 403
    assert body["__type"] == "AccessDenied"
    assert f"is not authorized to perform: stsd:Authorize on resource: {OTHER_ALBUM}" in body["message"]
    assert headers.get("x-amzn-errortype") == "AccessDenied"


def test_unsigned_asker_is_refused(daemon, reader):
    client = Authorize(daemon.endpoint, None)
    req = signed_service_request(user_creds(reader))
    status, _, body = client.raw({"Request": request_parts(req), "Action": "photos:GetAlbum", "Resource": ALBUM}, sign=False)
    assert (status, body["__type"]) == (403, "MissingAuthenticationToken")


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda b: b.update(Action="nocolon"), "Action"),
        (lambda b: b["Request"].update(Scheme="ftp"), "Request.Scheme"),
        (lambda b: b["Request"].update(PayloadSha256="abc"), "Request.PayloadSha256"),
        (lambda b: b.update(SourceIp="not-an-ip"), "SourceIp"),
        (lambda b: b.update(Context=[{"Key": "aws:PrincipalArn", "Values": ["x"]}]), "Context.1.Key"),
        (lambda b: b.update(Context=[{"Key": "aws:PrincipalTag/team", "Values": ["x"]}]), "Context.1.Key"),
        (lambda b: b.update(Unknown=1), "Unknown"),
        (lambda b: b.update(ResourcePolicy="{"), "ResourcePolicy"),
    ],
    ids=["action", "scheme", "payload", "source-ip", "derived-key", "principal-tag", "unknown-member", "policy"],
)
def test_bad_input_is_named(reader, authorize, mutate, field):
    body = {"Request": request_parts(signed_service_request(user_creds(reader))), "Action": "photos:GetAlbum", "Resource": ALBUM}
    mutate(body)
    status, headers, err = authorize.raw(body)
    assert status == 400, err
    assert err["__type"] in {"InvalidParameterValue", "MalformedPolicyDocument"}
    assert field in err["message"], err
