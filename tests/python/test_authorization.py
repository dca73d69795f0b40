"""Every IAM call is authenticated (SigV4) and authorized by the evaluator:
`iam:<Action>` on the target's ARN with the caller's identity policies,
groups and boundary."""

import datetime

import pytest

from support import ACCOUNT, ROOT_KEY_ID, allow, deny, expect_error, policy, uniq


def limited_user(iam, daemon, *statements):
    name = uniq("limited")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="base", PolicyDocument=policy(*statements))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return name, daemon.client("iam", k["AccessKeyId"], k["SecretAccessKey"])


def test_get_user_only_cannot_create(iam, daemon):
    name, c = limited_user(iam, daemon, allow("iam:GetUser"))
    assert c.get_user()["User"]["UserName"] == name
    assert c.get_user(UserName=name)["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"

    target = uniq("wanted")
    msg = expect_error("AccessDenied", c.create_user, UserName=target, status=403)
    # AWS names the caller, the action and the resource.
    assert f"user/{name}" in msg and "iam:CreateUser" in msg and f"user/{target}" in msg, msg
    expect_error("NoSuchEntity", iam.get_user, UserName=target)
    expect_error("AccessDenied", c.list_users, status=403)
    expect_error("AccessDenied", c.create_role, RoleName=uniq("r"), AssumeRolePolicyDocument="{}", status=403)
    expect_error("AccessDenied", c.put_user_policy, UserName=name, PolicyName="escalate", PolicyDocument=policy(allow("*")), status=403)

    iam.put_user_policy(UserName=name, PolicyName="create", PolicyDocument=policy(allow("iam:CreateUser")))
    assert c.create_user(UserName=target)["User"]["UserName"] == target


def test_no_policy_denies_everything(iam, daemon):
    name, c = limited_user(iam, daemon)
    expect_error("AccessDenied", c.get_user, status=403)


def test_resource_scoped_grant(iam, daemon):
    _, c = limited_user(iam, daemon, allow("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/ci/*"))
    assert c.create_user(UserName=uniq("ok"), Path="/ci/")["User"]["Path"] == "/ci/"
    expect_error("AccessDenied", c.create_user, UserName=uniq("no"), Path="/prod/", status=403)


def test_explicit_deny_wins(iam, daemon):
    _, c = limited_user(iam, daemon, allow("iam:*"), deny("iam:DeleteUser"))
    victim = uniq("victim")
    c.create_user(UserName=victim)
    expect_error("AccessDenied", c.delete_user, UserName=victim, status=403)


def test_group_policies_and_attached_policies_apply(iam, daemon):
    name, c = limited_user(iam, daemon)
    group = uniq("admins")
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="g", PolicyDocument=policy(allow("iam:ListGroups")))
    expect_error("AccessDenied", c.list_groups, status=403)
    iam.add_user_to_group(GroupName=group, UserName=name)
    assert "Groups" in c.list_groups()
    iam.remove_user_from_group(GroupName=group, UserName=name)
    expect_error("AccessDenied", c.list_groups, status=403)

    mp = iam.create_policy(PolicyName=uniq("lr"), PolicyDocument=policy(allow("iam:ListRoles")))["Policy"]["Arn"]
    expect_error("AccessDenied", c.list_roles, status=403)
    iam.attach_user_policy(UserName=name, PolicyArn=mp)
    assert "Roles" in c.list_roles()
    # A new default version takes effect at once.
    iam.create_policy_version(PolicyArn=mp, PolicyDocument=policy(allow("iam:ListPolicies")), SetAsDefault=True)
    expect_error("AccessDenied", c.list_roles, status=403)
    c.list_policies(Scope="Local", MaxItems=1)


def test_user_cannot_see_root_only_things_with_wrong_account_resource(iam, daemon):
    other_account_user = "arn:aws:iam::999999999999:user/*"
    _, c = limited_user(iam, daemon, allow("iam:GetUser", other_account_user))
    expect_error("AccessDenied", c.get_user, UserName=uniq("x"), status=403)


def test_root_is_allowed_everything(iam):
    assert iam.list_users(MaxItems=1)["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize("service,op", [("sts", "get_caller_identity"), ("iam", "list_users")])
def test_wrong_secret_is_signature_does_not_match(daemon, service, op):
    c = daemon.client(service, ROOT_KEY_ID, "x" * 40)
    msg = expect_error("SignatureDoesNotMatch", getattr(c, op), status=403)
    assert "signature" in msg.lower()


@pytest.mark.parametrize("service,op", [("sts", "get_caller_identity"), ("iam", "list_users")])
def test_unknown_key_is_invalid_client_token_id(daemon, service, op):
    c = daemon.client(service, "AKIA" + "Q" * 16, "x" * 40)
    expect_error("InvalidClientTokenId", getattr(c, op), status=403)


def test_root_caller_identity(sts):
    me = sts.get_caller_identity()
    assert me["Account"] == ACCOUNT
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"


def test_wrong_secret_of_a_user_key(iam, daemon):
    name = uniq("sig")
    iam.create_user(UserName=name)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    bad = ("A" if k["SecretAccessKey"][0] != "A" else "B") + k["SecretAccessKey"][1:]
    expect_error("SignatureDoesNotMatch", daemon.client("iam", k["AccessKeyId"], bad).get_user, status=403)


def test_deleted_user_key_stops_working(iam, daemon):
    name, c = limited_user(iam, daemon, allow("iam:GetUser"))
    c.get_user()
    key = iam.list_access_keys(UserName=name)["AccessKeyMetadata"][0]["AccessKeyId"]
    iam.delete_access_key(UserName=name, AccessKeyId=key)
    iam.delete_user_policy(UserName=name, PolicyName="base")
    iam.delete_user(UserName=name)
    expect_error("InvalidClientTokenId", c.get_user, status=403)


def _when(statement, condition):
    return {**statement, "Condition": condition}


def test_transport_context_keys_reach_the_evaluator(iam, daemon):
    """aws:SourceIp is the client's address, aws:SecureTransport says
    whether the connection is TLS (plain HTTP here) and
    aws:RequestedRegion is the signing region (the client's us-east-1)."""
    name, c = limited_user(
        iam,
        daemon,
        _when(allow("iam:GetUser"), {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}),
        _when(allow("iam:ListUsers"), {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        _when(allow("iam:ListGroups"), {"Bool": {"aws:SecureTransport": "true"}}),
        _when(allow("iam:ListRoles"), {"Bool": {"aws:SecureTransport": "false"}}),
        _when(allow("iam:ListPolicies"), {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}),
        _when(allow("iam:ListAccessKeys"), {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}),
    )
    assert c.get_user()["User"]["UserName"] == name
    expect_error("AccessDenied", c.list_users, status=403)
    expect_error("AccessDenied", c.list_groups, status=403)
    c.list_roles()
    c.list_policies(Scope="Local")
    expect_error("AccessDenied", c.list_access_keys, status=403)
