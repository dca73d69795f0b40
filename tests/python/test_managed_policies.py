"""Managed policies: CreatePolicy, GetPolicy, DeletePolicy, ListPolicies,
versions (Create/Get/List/Delete PolicyVersion, SetDefaultPolicyVersion; at
most 5), and Attach/Detach/ListAttached {User,Group,Role}Policies."""

import datetime
import json

import pytest

from support import ACCOUNT, allow, expect_error, policy, trust, uniq

DOC = policy(allow("s3:GetObject", "arn:aws:s3:::reports/*"))


def create(iam, **kw):
    name = uniq("mp")
    return iam.create_policy(PolicyName=name, PolicyDocument=kw.pop("doc", DOC), **kw)["Policy"]


def test_create_get_delete_policy(iam):
    name = uniq("readreports")
    p = iam.create_policy(PolicyName=name, Path="/team/", PolicyDocument=DOC, Description="read reports")["Policy"]
    assert p["PolicyName"] == name
    assert p["Arn"] == f"arn:aws:iam::{ACCOUNT}:policy/team/{name}"
    assert p["PolicyId"].startswith("ANPA")
    assert p["Path"] == "/team/"
    assert p["DefaultVersionId"] == "v1"
    assert p["AttachmentCount"] == 0
    assert p["IsAttachable"] is True
    assert isinstance(p["CreateDate"], datetime.datetime)

    g = iam.get_policy(PolicyArn=p["Arn"])["Policy"]
    assert g["PolicyId"] == p["PolicyId"]
    assert g["Description"] == "read reports"
    v = iam.get_policy_version(PolicyArn=p["Arn"], VersionId="v1")["PolicyVersion"]
    assert v["Document"] == json.loads(DOC)
    assert v["IsDefaultVersion"] is True
    assert v["VersionId"] == "v1"

    iam.delete_policy(PolicyArn=p["Arn"])
    expect_error("NoSuchEntity", iam.get_policy, PolicyArn=p["Arn"], names=[p["Arn"]], status=404)


def test_duplicate_malformed_invalid(iam):
    p = create(iam)
    expect_error("EntityAlreadyExists", iam.create_policy, PolicyName=p["PolicyName"], PolicyDocument=DOC, names=[p["PolicyName"]], status=409)
    expect_error("MalformedPolicyDocument", iam.create_policy, PolicyName=uniq("bad"), PolicyDocument="{", status=400)
    expect_error("ValidationError", iam.create_policy, PolicyName="bad name", PolicyDocument=DOC, names=["policyName"])
    expect_error("ValidationError", iam.get_policy, PolicyArn="not-an-arn", names=["not-an-arn", "policyArn"], status=400)


def test_managed_policy_size_limit(iam):
    resources = [f"arn:aws:s3:::b{i:05d}" for i in range(6144 // 20 + 10)]
    big = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resources}]})
    expect_error("LimitExceeded", iam.create_policy, PolicyName=uniq("big"), PolicyDocument=big, status=409)


def test_versions_and_the_five_version_limit(iam):
    p = create(iam)
    arn = p["Arn"]
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy(allow("s3:PutObject")), SetAsDefault=True)["PolicyVersion"]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"] is True
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy(allow("s3:ListBucket")))
    versions = iam.list_policy_versions(PolicyArn=arn)
    assert sorted(v["VersionId"] for v in versions["Versions"]) == ["v1", "v2", "v3", "v4", "v5"]
    assert [v["VersionId"] for v in versions["Versions"] if v["IsDefaultVersion"]] == ["v2"]
    assert versions["IsTruncated"] is False

    expect_error(
        "LimitExceeded",
        iam.create_policy_version,
        PolicyArn=arn,
        PolicyDocument=policy(allow("s3:ListBucket")),
        names=["version"],
        status=409,
    )

    expect_error("DeleteConflict", iam.delete_policy_version, PolicyArn=arn, VersionId="v2", names=["default"], status=409)
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    v6 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy(allow("s3:ListBucket")))["PolicyVersion"]
    assert v6["VersionId"] == "v6"  # numbers are never reused
    assert v6["IsDefaultVersion"] is False

    iam.set_default_policy_version(PolicyArn=arn, VersionId="v6")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v6"
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]["IsDefaultVersion"] is False

    expect_error("NoSuchEntity", iam.get_policy_version, PolicyArn=arn, VersionId="v1", names=["v1"])
    expect_error("NoSuchEntity", iam.set_default_policy_version, PolicyArn=arn, VersionId="v1", names=["v1"])
    expect_error("ValidationError", iam.get_policy_version, PolicyArn=arn, VersionId="version1", names=["versionId"])
    expect_error("MalformedPolicyDocument", iam.create_policy_version, PolicyArn=arn, PolicyDocument="nope")

    # As in AWS, DeletePolicy refuses while non-default versions remain; the
    # default version goes with the policy.
    expect_error("DeleteConflict", iam.delete_policy, PolicyArn=arn, names=["version"], status=409)
    for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not v["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=arn, VersionId=v["VersionId"])
    iam.delete_policy(PolicyArn=arn)
    expect_error("NoSuchEntity", iam.list_policy_versions, PolicyArn=arn, names=[arn])


ATTACH_OPS = {
    "user": ("attach_user_policy", "detach_user_policy", "list_attached_user_policies"),
    "group": ("attach_group_policy", "detach_group_policy", "list_attached_group_policies"),
    "role": ("attach_role_policy", "detach_role_policy", "list_attached_role_policies"),
}


@pytest.mark.parametrize("kind", ["user", "group", "role"])
def test_attach_list_detach(iam, kind):
    owner = uniq(kind)
    key = f"{kind.capitalize()}Name"
    if kind == "user":
        iam.create_user(UserName=owner)
    elif kind == "group":
        iam.create_group(GroupName=owner)
    else:
        iam.create_role(RoleName=owner, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    attach, detach, listed = (getattr(iam, m) for m in ATTACH_OPS[kind])

    a, b = create(iam, Path="/att/"), create(iam)
    attach(**{key: owner}, PolicyArn=a["Arn"])
    attach(**{key: owner}, PolicyArn=b["Arn"])
    attach(**{key: owner}, PolicyArn=a["Arn"])  # idempotent
    got = listed(**{key: owner})
    assert sorted((x["PolicyName"], x["PolicyArn"]) for x in got["AttachedPolicies"]) == sorted(
        [(a["PolicyName"], a["Arn"]), (b["PolicyName"], b["Arn"])]
    )
    assert got["IsTruncated"] is False
    assert [x["PolicyArn"] for x in listed(**{key: owner}, PathPrefix="/att/")["AttachedPolicies"]] == [a["Arn"]]
    assert iam.get_policy(PolicyArn=a["Arn"])["Policy"]["AttachmentCount"] == 1

    expect_error("DeleteConflict", iam.delete_policy, PolicyArn=a["Arn"], names=["attached"], status=409)

    detach(**{key: owner}, PolicyArn=a["Arn"])
    assert [x["PolicyArn"] for x in listed(**{key: owner})["AttachedPolicies"]] == [b["Arn"]]
    assert iam.get_policy(PolicyArn=a["Arn"])["Policy"]["AttachmentCount"] == 0
    expect_error("NoSuchEntity", detach, **{key: owner}, PolicyArn=a["Arn"], names=[a["Arn"]])
    iam.delete_policy(PolicyArn=a["Arn"])

    ghost_policy = f"arn:aws:iam::{ACCOUNT}:policy/{uniq('nopolicy')}"
    expect_error("NoSuchEntity", attach, **{key: owner}, PolicyArn=ghost_policy, names=[ghost_policy], status=404)
    ghost = uniq("ghost")
    expect_error("NoSuchEntity", attach, **{key: ghost}, PolicyArn=b["Arn"], names=[ghost], status=404)


def test_attach_limit_is_10(iam):
    user = uniq("many")
    iam.create_user(UserName=user)
    for _ in range(10):
        iam.attach_user_policy(UserName=user, PolicyArn=create(iam)["Arn"])
    expect_error("LimitExceeded", iam.attach_user_policy, UserName=user, PolicyArn=create(iam)["Arn"], status=409)


def test_list_policies(iam):
    prefix = f"/{uniq('lp')}/"
    made = sorted(create(iam, Path=prefix)["Arn"] for _ in range(5))
    first = iam.list_policies(Scope="Local", PathPrefix=prefix, MaxItems=2)
    assert len(first["Policies"]) == 2 and first["IsTruncated"] is True and first["Marker"]
    seen = [
        p["Arn"]
        for page in iam.get_paginator("list_policies").paginate(Scope="Local", PathPrefix=prefix, PaginationConfig={"PageSize": 2})
        for p in page["Policies"]
    ]
    assert sorted(seen) == made

    user = uniq("attacher")
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn=made[0])
    only = [p["Arn"] for p in iam.list_policies(Scope="Local", PathPrefix=prefix, OnlyAttached=True)["Policies"]]
    assert only == [made[0]]


def test_list_entities_for_policy(iam):
    arn = create(iam)["Arn"]
    user, group, role = uniq("eu"), uniq("eg"), uniq("er")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)

    all_ = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in all_["PolicyUsers"]] == [user]
    assert [g["GroupName"] for g in all_["PolicyGroups"]] == [group]
    assert [r["RoleName"] for r in all_["PolicyRoles"]] == [role]
    assert all_["PolicyUsers"][0]["UserId"].startswith("AIDA")
    assert all_["PolicyRoles"][0]["RoleId"].startswith("AROA")

    only_roles = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")
    assert (only_roles["PolicyUsers"], only_roles["PolicyGroups"]) == ([], [])
    assert [r["RoleName"] for r in only_roles["PolicyRoles"]] == [role]

    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    assert iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="User")["PolicyUsers"] == []
    ghost = f"arn:aws:iam::{ACCOUNT}:policy/{uniq('ghost')}"
    expect_error("NoSuchEntity", iam.list_entities_for_policy, PolicyArn=ghost, names=[ghost], status=404)
