"""Inline policies of users, groups and roles: Put/Get/List/Delete
{User,Group,Role}Policy."""

import json

import pytest

from support import allow, deny, expect_error, policy, trust, uniq

DOC = policy(allow(["s3:GetObject", "s3:ListBucket"], "arn:aws:s3:::bucket/*"), deny("s3:DeleteObject"))


def make(iam, kind):
    name = uniq(kind)
    if kind == "user":
        iam.create_user(UserName=name)
    elif kind == "group":
        iam.create_group(GroupName=name)
    else:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    return name


OPS = {
    "user": ("put_user_policy", "get_user_policy", "list_user_policies", "delete_user_policy", "UserName"),
    "group": ("put_group_policy", "get_group_policy", "list_group_policies", "delete_group_policy", "GroupName"),
    "role": ("put_role_policy", "get_role_policy", "list_role_policies", "delete_role_policy", "RoleName"),
}


def ops(iam, kind):
    *methods, key = OPS[kind]
    return (*(getattr(iam, m) for m in methods), key)


KINDS = ["user", "group", "role"]


@pytest.mark.parametrize("kind", KINDS)
def test_put_get_list_delete(iam, kind):
    put, get, list_, delete, key = ops(iam, kind)
    owner = make(iam, kind)
    put(**{key: owner}, PolicyName="read", PolicyDocument=DOC)
    put(**{key: owner}, PolicyName="other", PolicyDocument=policy(allow("sqs:*")))

    got = get(**{key: owner}, PolicyName="read")
    assert got[key] == owner
    assert got["PolicyName"] == "read"
    assert got["PolicyDocument"] == json.loads(DOC)  # botocore URL-decodes and parses it

    listed = list_(**{key: owner})
    assert sorted(listed["PolicyNames"]) == ["other", "read"]
    assert listed["IsTruncated"] is False

    # Put replaces.
    put(**{key: owner}, PolicyName="read", PolicyDocument=policy(allow("s3:GetObject")))
    assert get(**{key: owner}, PolicyName="read")["PolicyDocument"]["Statement"][0]["Action"] == "s3:GetObject"

    delete(**{key: owner}, PolicyName="read")
    assert list_(**{key: owner})["PolicyNames"] == ["other"]
    expect_error("NoSuchEntity", get, **{key: owner}, PolicyName="read", names=["read"], status=404)
    expect_error("NoSuchEntity", delete, **{key: owner}, PolicyName="read", names=["read"], status=404)


@pytest.mark.parametrize("kind", KINDS)
def test_missing_owner(iam, kind):
    put, get, list_, delete, key = ops(iam, kind)
    ghost = uniq("ghost")
    expect_error("NoSuchEntity", put, **{key: ghost}, PolicyName="p", PolicyDocument=DOC, names=[ghost])
    expect_error("NoSuchEntity", get, **{key: ghost}, PolicyName="p", names=[ghost])
    expect_error("NoSuchEntity", list_, **{key: ghost}, names=[ghost])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "doc",
    [
        pytest.param("not json", id="not-json"),
        pytest.param(json.dumps({"Version": "2012-10-17"}), id="no-statement"),
        pytest.param(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}), id="bad-effect"),
        pytest.param(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}), id="no-resource"),
        pytest.param(
            json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}),
            id="principal-in-identity-policy",
        ),
    ],
)
def test_malformed_documents(iam, kind, doc):
    put, _, list_, _, key = ops(iam, kind)
    owner = make(iam, kind)
    expect_error("MalformedPolicyDocument", put, **{key: owner}, PolicyName="bad", PolicyDocument=doc, status=400)
    assert list_(**{key: owner})["PolicyNames"] == []


def test_invalid_policy_name(iam):
    owner = make(iam, "user")
    expect_error("ValidationError", iam.put_user_policy, UserName=owner, PolicyName="bad name", PolicyDocument=DOC, names=["policyName"])
    expect_error("ValidationError", iam.put_user_policy, UserName=owner, PolicyName="p" * 129, PolicyDocument=DOC, names=["policyName"])


@pytest.mark.parametrize("kind,limit", [("user", 2048), ("group", 5120), ("role", 10240)])
def test_aggregate_size_limit(iam, kind, limit):
    put, _, list_, _, key = ops(iam, kind)
    owner = make(iam, kind)
    # One statement whose resource list makes the non-whitespace size exceed the limit.
    resources = [f"arn:aws:s3:::b{i:05d}" for i in range(limit // 20 + 10)]
    big = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resources}]})
    expect_error("LimitExceeded", put, **{key: owner}, PolicyName="big", PolicyDocument=big, status=409)
    assert list_(**{key: owner})["PolicyNames"] == []


def test_list_user_policies_pagination(iam):
    owner = make(iam, "user")
    names = [f"p{i}" for i in range(5)]
    for n in names:
        iam.put_user_policy(UserName=owner, PolicyName=n, PolicyDocument=policy(allow("s3:GetObject")))
    first = iam.list_user_policies(UserName=owner, MaxItems=2)
    assert len(first["PolicyNames"]) == 2 and first["IsTruncated"] is True
    seen = [
        n
        for p in iam.get_paginator("list_user_policies").paginate(UserName=owner, PaginationConfig={"PageSize": 2})
        for n in p["PolicyNames"]
    ]
    assert sorted(seen) == names
