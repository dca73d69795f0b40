"""GetSessionToken, GetFederationToken, GetAccessKeyInfo and
DecodeAuthorizationMessage (reference 1.3), through boto3 and the AWS CLI.

Expiry (ExpiredToken) is left to the Rust unit tests, which inject a clock:
the shortest session here lasts 900 s.
"""

import json
import re

import pytest

from support import ACCOUNT, OTHER_ACCOUNT, account_of_key, allow, deny, expect_error, policy, uniq
from stsutil import (
    assert_credentials,
    assert_lifetime,
    assume,
    assumer,
    make_role,
    make_user,
    session_client,
    tags_of,
)

LIST_USERS = allow("iam:ListUsers")
FEDERATE = allow("sts:GetFederationToken")


# --- GetSessionToken ------------------------------------------------------------


def test_get_session_token_for_a_user(iam, daemon):
    me = make_user(iam, daemon, LIST_USERS)
    r = me.client().get_session_token()
    assert set(r) - {"ResponseMetadata"} == {"Credentials"}
    creds = r["Credentials"]
    assert_credentials(creds)
    assert account_of_key(creds["AccessKeyId"]) == ACCOUNT
    assert_lifetime(creds, 43200)  # the default for IAM users: 12 h
    # The session acts as the user.
    who = session_client(daemon, creds).get_caller_identity()
    assert who["Arn"] == me.arn
    assert who["UserId"] == me.user_id
    assert who["Account"] == ACCOUNT


def test_get_session_token_durations(iam, daemon):
    me = make_user(iam, daemon)
    sts = me.client()
    assert_lifetime(sts.get_session_token(DurationSeconds=900)["Credentials"], 900)
    assert_lifetime(sts.get_session_token(DurationSeconds=129600)["Credentials"], 129600)
    msg = expect_error("ValidationError", sts.get_session_token, DurationSeconds=899, status=400)
    assert msg == (
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    ), msg
    msg = expect_error("ValidationError", sts.get_session_token, DurationSeconds=129601, status=400)
    assert msg == (
        "1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value less than or equal to 129600"
    ), msg


def test_get_session_token_for_root_is_clamped_to_an_hour(sts, daemon):
    assert_lifetime(sts.get_session_token()["Credentials"], 3600)
    creds = sts.get_session_token(DurationSeconds=7200)["Credentials"]
    assert_lifetime(creds, 3600)
    who = session_client(daemon, creds).get_caller_identity()
    assert who["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert who["UserId"] == ACCOUNT


def test_session_without_mfa_cannot_call_iam(iam, daemon):
    me = make_user(iam, daemon, LIST_USERS)
    me.client("iam").list_users(MaxItems=1)  # the long-term key may
    creds = me.client().get_session_token()["Credentials"]
    c = session_client(daemon, creds, "iam")
    msg = expect_error("InvalidClientTokenId", c.list_users, status=403)
    assert msg == "The security token included in the request is invalid.", msg


def test_get_session_token_needs_long_term_credentials(iam, daemon):
    me = assumer(iam, daemon)
    gst = session_client(daemon, me.client().get_session_token()["Credentials"])
    msg = expect_error("AccessDenied", gst.get_session_token, status=403)
    assert "Cannot call GetSessionToken with session credentials" in msg, msg
    role_session = session_client(daemon, assume(me.client(), make_role(iam))["Credentials"])
    expect_error("AccessDenied", role_session.get_session_token, status=403)


def test_get_session_token_session_may_assume_roles(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam)
    gst = session_client(daemon, me.client().get_session_token()["Credentials"])
    r = assume(gst, role, "from-gst")
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/from-gst"


def test_get_session_token_ignores_policies(iam, daemon):
    # An authentication step: an explicit deny does not stop it.
    me = make_user(iam, daemon, deny("sts:*"))
    me.client().get_session_token()


def test_aws_cli_get_session_token(iam, daemon, cli):
    me = make_user(iam, daemon)
    out = cli("get-session-token", "--duration-seconds", "900", service="sts", key_id=me.key_id, secret=me.secret)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    who = cli("get-caller-identity", service="sts", key_id=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    assert who["Arn"] == me.arn


# --- GetFederationToken -------------------------------------------------------


def test_federation_token_without_policy(iam, daemon):
    me = make_user(iam, daemon, FEDERATE, allow("iam:*"), allow("sts:*"))
    name = uniq("fed")[:32]
    r = me.client().get_federation_token(Name=name)
    creds = r["Credentials"]
    assert_credentials(creds)
    assert_lifetime(creds, 43200)  # the default for IAM users: 12 h
    fed = r["FederatedUser"]
    assert fed["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/{name}"
    assert fed["FederatedUserId"] == f"{ACCOUNT}:{name}"
    assert "PackedPolicySize" not in r

    who = session_client(daemon, creds).get_caller_identity()
    assert who == {**who, "Arn": fed["Arn"], "UserId": fed["FederatedUserId"], "Account": ACCOUNT}
    # No session policy: no permissions, though the user may do everything.
    # (IAM refuses federated sessions in any case; AWS answers with an
    # invalid-token error.)
    expect_error(("AccessDenied", "InvalidClientTokenId"), session_client(daemon, creds, "iam").list_users, status=403)
    sts = session_client(daemon, creds)
    expect_error("AccessDenied", sts.get_access_key_info, AccessKeyId=me.key_id, status=403)
    expect_error("AccessDenied", sts.decode_authorization_message, EncodedMessage="abcd", status=403)


def test_federation_token_with_policy(iam, daemon):
    me = make_user(iam, daemon, FEDERATE, allow("sts:*"), allow("iam:*"))
    name = uniq("fedp")[:32]
    r = me.client().get_federation_token(
        Name=name,
        Policy=policy(allow(["sts:*", "iam:ListUsers"])),
        Tags=tags_of({"team": "blue"}),
        DurationSeconds=900,
    )
    assert isinstance(r["PackedPolicySize"], int) and 0 <= r["PackedPolicySize"] <= 100
    assert_lifetime(r["Credentials"], 900)
    sts = session_client(daemon, r["Credentials"])
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/{name}"
    # Federated sessions may call no STS action but GetCallerIdentity, and
    # cannot assume roles, whatever their policies say.
    expect_error("AccessDenied", assume, sts, make_role(iam), status=403)
    expect_error("AccessDenied", sts.get_session_token, status=403)
    expect_error("AccessDenied", sts.get_federation_token, Name="again", status=403)
    # Nor IAM.
    expect_error(("AccessDenied", "InvalidClientTokenId"), session_client(daemon, r["Credentials"], "iam").list_users, status=403)


def test_federation_token_rules(iam, daemon, sts):
    nope = make_user(iam, daemon, LIST_USERS)
    expect_error("AccessDenied", nope.client().get_federation_token, Name="fed-x", status=403)
    me = make_user(iam, daemon, FEDERATE)
    c = me.client()
    expect_error("ValidationError", c.get_federation_token, Name="x", names=["name"], status=400)  # 2-32
    expect_error("ValidationError", c.get_federation_token, Name="x" * 33, names=["name"], status=400)
    expect_error("ValidationError", c.get_federation_token, Name="fed-y", DurationSeconds=129601, names=["durationSeconds"], status=400)
    expect_error("MalformedPolicyDocument", c.get_federation_token, Name="fed-z", Policy="{not json", status=400)
    # sessionPolicyDocumentType: at most 2048 characters.
    long_policy = policy(*(allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/u{i:04d}") for i in range(60)))
    assert len(long_policy) > 2048
    expect_error(("ValidationError", "PackedPolicyTooLarge"), c.get_federation_token, Name="fed-w", Policy=long_policy, status=400)
    # Session credentials cannot federate.
    gst = session_client(daemon, c.get_session_token()["Credentials"])
    msg = expect_error("AccessDenied", gst.get_federation_token, Name="fed-v", status=403)
    assert "Cannot call GetFederationToken with session credentials" in msg, msg
    # Root may, for at most an hour.
    r = sts.get_federation_token(Name="root-fed", DurationSeconds=7200)
    assert_lifetime(r["Credentials"], 3600)
    assert r["FederatedUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/root-fed"


# --- GetAccessKeyInfo -----------------------------------------------------------


def test_get_access_key_info(iam, daemon, sts):
    me = assumer(iam, daemon)
    assert sts.get_access_key_info(AccessKeyId=me.key_id)["Account"] == ACCOUNT
    session = assume(me.client(), make_role(iam))["Credentials"]
    assert sts.get_access_key_info(AccessKeyId=session["AccessKeyId"])["Account"] == ACCOUNT
    other_key, _ = daemon.root_keys(OTHER_ACCOUNT)
    assert sts.get_access_key_info(AccessKeyId=other_key)["Account"] == OTHER_ACCOUNT
    # Any key of the documented layout decodes, known or not (reference 3.2).
    assert sts.get_access_key_info(AccessKeyId="ASIAY34FZKBOKMUTVV7A")["Account"] == "609629065308"
    assert sts.get_access_key_info(AccessKeyId="ASIARTX3GSDSRXX7C2ZC")["Account"] == "111122223333"
    # accessKeyIdType: 16-128 characters of \w.
    expect_error("ValidationError", sts.get_access_key_info, AccessKeyId="AKIA123", names=["accessKeyId"], status=400)
    expect_error("ValidationError", sts.get_access_key_info, AccessKeyId="AKIA-0123456789ABCDEF", names=["accessKeyId"], status=400)


def test_get_access_key_info_needs_permission(iam, daemon):
    allowed = make_user(iam, daemon, allow("sts:GetAccessKeyInfo"))
    denied = make_user(iam, daemon, LIST_USERS)
    assert allowed.client().get_access_key_info(AccessKeyId=denied.key_id)["Account"] == ACCOUNT
    expect_error("AccessDenied", denied.client().get_access_key_info, AccessKeyId=allowed.key_id, status=403)


def test_aws_cli_get_access_key_info(iam, daemon, cli):
    me = make_user(iam, daemon)
    assert cli("get-access-key-info", "--access-key-id", me.key_id, service="sts")["Account"] == ACCOUNT


# --- DecodeAuthorizationMessage -------------------------------------------------

ENCODED = re.compile(r"Encoded authorization failure message: (\S+)")


def encoded_message(msg: str) -> str:
    m = ENCODED.search(msg)
    assert m, f"no encoded authorization message in {msg!r}"
    return m.group(1)


def test_decode_authorization_message(iam, daemon):
    victim = make_user(iam, daemon, deny("iam:ListRoles"), prefix="denied")
    decoder = make_user(iam, daemon, allow("sts:DecodeAuthorizationMessage"), prefix="decoder")
    stranger = make_user(iam, daemon, LIST_USERS, prefix="stranger")

    # An implicit deny: nothing allows iam:ListUsers.
    blob = encoded_message(expect_error("AccessDenied", victim.client("iam").list_users, status=403))
    decoded = json.loads(decoder.client().decode_authorization_message(EncodedMessage=blob)["DecodedMessage"])
    assert decoded["allowed"] is False
    assert decoded["explicitDeny"] is False
    assert decoded["context"]["action"] == "iam:ListUsers"
    assert decoded["context"]["principal"]["arn"] == victim.arn

    # An explicit deny says so.
    blob = encoded_message(expect_error("AccessDenied", victim.client("iam").list_roles, status=403))
    decoded = json.loads(decoder.client().decode_authorization_message(EncodedMessage=blob)["DecodedMessage"])
    assert decoded["allowed"] is False
    assert decoded["explicitDeny"] is True
    assert decoded["context"]["action"] == "iam:ListRoles"

    # Decoding needs sts:DecodeAuthorizationMessage (and its own denial
    # carries a message of its own).
    msg = expect_error("AccessDenied", stranger.client().decode_authorization_message, EncodedMessage=blob, status=403)
    assert "sts:DecodeAuthorizationMessage" in msg, msg


def test_assume_role_denial_is_encoded(iam, daemon):
    me = make_user(iam, daemon, prefix="noassume")
    role = make_role(iam)
    blob = encoded_message(expect_error("AccessDenied", assume, me.client(), role, status=403))
    decoded = json.loads(daemon.client("sts").decode_authorization_message(EncodedMessage=blob)["DecodedMessage"])
    assert decoded["allowed"] is False
    assert decoded["context"]["action"] == "sts:AssumeRole"


@pytest.mark.parametrize("mangle", ["garbage", "flip", "newline"])
def test_undecodable_messages(iam, daemon, sts, mangle):
    if mangle == "garbage":
        bad = "this-is-not-an-encoded-message"
    else:
        victim = make_user(iam, daemon, prefix="victim")
        blob = encoded_message(expect_error("AccessDenied", victim.client("iam").list_users, status=403))
        if mangle == "flip":
            mid = len(blob) // 2
            bad = blob[:mid] + ("A" if blob[mid] != "A" else "B") + blob[mid + 1 :]
        else:  # line breaks, as a copy from a terminal may add
            bad = blob[:20] + "\n" + blob[20:]
    expect_error("InvalidAuthorizationMessageException", sts.decode_authorization_message, EncodedMessage=bad, status=400)
