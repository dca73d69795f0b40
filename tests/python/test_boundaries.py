"""Permissions boundaries: Put/Delete {User,Role}PermissionsBoundary, the
PermissionsBoundary parameter of CreateUser/CreateRole, and their effect on
authorization."""

import pytest

from support import ACCOUNT, allow, expect_error, policy, trust, uniq


def managed(iam, doc):
    return iam.create_policy(PolicyName=uniq("boundary"), PolicyDocument=doc)["Policy"]["Arn"]


def test_user_boundary_put_get_delete(iam):
    arn = managed(iam, policy(allow("iam:Get*")))
    user = uniq("bounded")
    iam.create_user(UserName=user)
    assert "PermissionsBoundary" not in iam.get_user(UserName=user)["User"]
    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=arn)
    b = iam.get_user(UserName=user)["User"]["PermissionsBoundary"]
    assert b == {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}
    # Setting a boundary is not an attachment... but the policy is in use.
    iam.delete_user_permissions_boundary(UserName=user)
    assert "PermissionsBoundary" not in iam.get_user(UserName=user)["User"]


def test_role_boundary_put_get_delete(iam):
    arn = managed(iam, policy(allow("s3:*")))
    role = uniq("boundedrole")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=arn)
    assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": arn,
    }
    other = managed(iam, policy(allow("sqs:*")))
    iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=other)  # replaces: at most one
    assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == other
    iam.delete_role_permissions_boundary(RoleName=role)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=role)["Role"]


def test_boundary_at_creation(iam):
    arn = managed(iam, policy(allow("iam:*")))
    u = iam.create_user(UserName=uniq("bornbounded"), PermissionsBoundary=arn)["User"]
    assert u["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    r = iam.create_role(
        RoleName=uniq("bornboundedrole"),
        AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}),
        PermissionsBoundary=arn,
    )["Role"]
    assert r["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn


def test_boundary_errors(iam):
    user = uniq("bu")
    iam.create_user(UserName=user)
    ghost_policy = f"arn:aws:iam::{ACCOUNT}:policy/{uniq('nopolicy')}"
    expect_error("NoSuchEntity", iam.put_user_permissions_boundary, UserName=user, PermissionsBoundary=ghost_policy, names=[ghost_policy])
    expect_error("ValidationError", iam.put_user_permissions_boundary, UserName=user, PermissionsBoundary="arn:nope", names=["arn:nope", "permissionsBoundary"])
    ghost = uniq("ghost")
    arn = managed(iam, policy(allow("s3:*")))
    expect_error("NoSuchEntity", iam.put_user_permissions_boundary, UserName=ghost, PermissionsBoundary=arn, names=[ghost])
    expect_error("NoSuchEntity", iam.put_role_permissions_boundary, RoleName=ghost, PermissionsBoundary=arn, names=[ghost])
    expect_error("NoSuchEntity", iam.delete_user_permissions_boundary, UserName=ghost, names=[ghost])
    # Deleting a boundary the user does not have succeeds and changes
    # nothing: AWS treats it as idempotent (Terraform calls it on every
    # role deletion, hashicorp/terraform-provider-aws#5489).
    iam.delete_user_permissions_boundary(UserName=user)
    assert "PermissionsBoundary" not in iam.get_user(UserName=user)["User"]
    expect_error(
        "NoSuchEntity",
        iam.create_user,
        UserName=uniq("bad"),
        PermissionsBoundary=ghost_policy,
        names=[ghost_policy],
    )


def test_policy_used_as_boundary_cannot_be_deleted(iam):
    arn = managed(iam, policy(allow("s3:*")))
    user = uniq("holder")
    iam.create_user(UserName=user, PermissionsBoundary=arn)
    expect_error("DeleteConflict", iam.delete_policy, PolicyArn=arn, status=409)
    iam.delete_user_permissions_boundary(UserName=user)
    iam.delete_policy(PolicyArn=arn)


def test_boundary_limits_identity_policies(daemon, iam):
    boundary = managed(iam, policy(allow(["iam:GetUser", "iam:ListUsers"])))
    user = uniq("capped")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=policy(allow("iam:*")))
    k = iam.create_access_key(UserName=user)["AccessKey"]
    c = daemon.client("iam", k["AccessKeyId"], k["SecretAccessKey"])

    victim = uniq("victim")
    c.create_user(UserName=victim)  # no boundary yet: iam:* applies
    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=boundary)
    expect_error("AccessDenied", c.create_user, UserName=uniq("blocked"), status=403)
    expect_error("AccessDenied", c.delete_user, UserName=victim, status=403)
    assert c.get_user(UserName=victim)["User"]["UserName"] == victim  # in both: allowed

    iam.delete_user_permissions_boundary(UserName=user)
    c.delete_user(UserName=victim)
