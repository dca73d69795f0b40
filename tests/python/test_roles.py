"""Roles: CreateRole, GetRole, UpdateRole, UpdateRoleDescription,
UpdateAssumeRolePolicy, DeleteRole, ListRoles; trust principals stored by
unique ID and rendered back as ARNs (or the raw ID once deleted)."""

import datetime
import json
import urllib.parse

import pytest

from support import ACCOUNT, allow, as_list, expect_error, policy, trust, uniq


def statement(role):
    doc = role["AssumeRolePolicyDocument"]
    if isinstance(doc, str):  # botocore decodes it; be tolerant of raw text
        doc = json.loads(urllib.parse.unquote(doc))
    return doc["Statement"][0]


def test_create_get_delete_role(iam):
    name = uniq("builder")
    doc = trust({"Service": "ec2.amazonaws.com"})
    r = iam.create_role(
        RoleName=name,
        Path="/svc/",
        AssumeRolePolicyDocument=doc,
        Description="builds things",
        MaxSessionDuration=7200,
        Tags=[{"Key": "env", "Value": "test"}],
    )["Role"]
    assert r["RoleName"] == name
    assert r["Path"] == "/svc/"
    assert r["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/svc/{name}"
    assert r["RoleId"].startswith("AROA")
    assert isinstance(r["CreateDate"], datetime.datetime)
    assert statement(r)["Principal"] == {"Service": "ec2.amazonaws.com"}

    g = iam.get_role(RoleName=name)["Role"]
    assert g["RoleId"] == r["RoleId"]
    assert g["Description"] == "builds things"
    assert g["MaxSessionDuration"] == 7200
    assert g["Tags"] == [{"Key": "env", "Value": "test"}]
    assert statement(g)["Action"] == "sts:AssumeRole"
    assert statement(g)["Effect"] == "Allow"

    iam.delete_role(RoleName=name)
    expect_error("NoSuchEntity", iam.get_role, RoleName=name, names=[name], status=404)


def test_defaults(iam):
    name = uniq("plain")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust({"Service": "lambda.amazonaws.com"}))
    g = iam.get_role(RoleName=name)["Role"]
    assert g["Path"] == "/"
    assert g["MaxSessionDuration"] == 3600


def test_duplicate_and_invalid_roles(iam):
    name = uniq("Dup")
    doc = trust({"Service": "ec2.amazonaws.com"})
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc)
    expect_error("EntityAlreadyExists", iam.create_role, RoleName=name, AssumeRolePolicyDocument=doc, names=[name], status=409)
    expect_error("EntityAlreadyExists", iam.create_role, RoleName=name.lower(), AssumeRolePolicyDocument=doc, status=409)
    expect_error("ValidationError", iam.create_role, RoleName="r" * 65, AssumeRolePolicyDocument=doc, names=["roleName"])
    expect_error("ValidationError", iam.create_role, RoleName="bad role", AssumeRolePolicyDocument=doc, names=["roleName"])
    for bad in (3599, 43201):
        expect_error(
            "ValidationError",
            iam.create_role,
            RoleName=uniq("dur"),
            AssumeRolePolicyDocument=doc,
            MaxSessionDuration=bad,
            names=["maxSessionDuration"],
        )
    expect_error("MalformedPolicyDocument", iam.create_role, RoleName=uniq("m"), AssumeRolePolicyDocument="{not json", status=400)
    # A trust policy needs a principal.
    expect_error(
        "MalformedPolicyDocument",
        iam.create_role,
        RoleName=uniq("noprin"),
        AssumeRolePolicyDocument=policy(allow("sts:AssumeRole")),
    )


def test_trust_principal_must_exist(iam):
    ghost = f"arn:aws:iam::{ACCOUNT}:user/{uniq('nobody')}"
    expect_error(
        "MalformedPolicyDocument",
        iam.create_role,
        RoleName=uniq("r"),
        AssumeRolePolicyDocument=trust({"AWS": ghost}),
        names=["principal"],
        status=400,
    )


def test_trust_principal_by_arn_then_unique_id_after_delete(iam):
    user = uniq("truster")
    u = iam.create_user(UserName=user)["User"]
    peer = uniq("peer")
    p = iam.create_role(RoleName=peer, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))["Role"]
    role = uniq("trusting")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"AWS": [u["Arn"], p["Arn"], ACCOUNT]}))

    got = as_list(statement(iam.get_role(RoleName=role)["Role"])["Principal"]["AWS"])
    assert sorted(got) == sorted([u["Arn"], p["Arn"], f"arn:aws:iam::{ACCOUNT}:root"])

    # Recreating under the same name does not restore the grant: stored by ID.
    iam.delete_user(UserName=user)
    iam.create_user(UserName=user)
    got = as_list(statement(iam.get_role(RoleName=role)["Role"])["Principal"]["AWS"])
    assert u["UserId"] in got
    assert u["Arn"] not in got
    assert p["Arn"] in got

    iam.delete_role(RoleName=peer)
    got = as_list(statement(iam.get_role(RoleName=role)["Role"])["Principal"]["AWS"])
    assert p["RoleId"] in got


def test_update_role(iam):
    name = uniq("upd")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}), Description="one")
    iam.update_role(RoleName=name, Description="two", MaxSessionDuration=43200)
    g = iam.get_role(RoleName=name)["Role"]
    assert (g["Description"], g["MaxSessionDuration"]) == ("two", 43200)

    r = iam.update_role_description(RoleName=name, Description="three")["Role"]
    assert r["Description"] == "three"
    assert iam.get_role(RoleName=name)["Role"]["Description"] == "three"

    expect_error("ValidationError", iam.update_role, RoleName=name, MaxSessionDuration=60, names=["maxSessionDuration"])
    ghost = uniq("ghost")
    expect_error("NoSuchEntity", iam.update_role, RoleName=ghost, Description="x", names=[ghost])
    expect_error("NoSuchEntity", iam.update_role_description, RoleName=ghost, Description="x", names=[ghost])


def test_update_assume_role_policy(iam):
    name = uniq("trustupd")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    user = iam.create_user(UserName=uniq("newtrustee"))["User"]
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust({"AWS": user["Arn"]}))
    assert as_list(statement(iam.get_role(RoleName=name)["Role"])["Principal"]["AWS"]) == [user["Arn"]]

    ghost = f"arn:aws:iam::{ACCOUNT}:role/{uniq('nope')}"
    expect_error("MalformedPolicyDocument", iam.update_assume_role_policy, RoleName=name, PolicyDocument=trust({"AWS": ghost}))
    expect_error("MalformedPolicyDocument", iam.update_assume_role_policy, RoleName=name, PolicyDocument="[]")
    missing = uniq("ghost")
    expect_error(
        "NoSuchEntity",
        iam.update_assume_role_policy,
        RoleName=missing,
        PolicyDocument=trust({"Service": "ec2.amazonaws.com"}),
        names=[missing],
    )
    # The failed updates left the trust policy as it was.
    assert as_list(statement(iam.get_role(RoleName=name)["Role"])["Principal"]["AWS"]) == [user["Arn"]]


def test_delete_role_with_policies_conflicts(iam):
    name = uniq("attached")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=policy(allow("s3:GetObject")))
    expect_error("DeleteConflict", iam.delete_role, RoleName=name, names=["polic"], status=409)
    iam.delete_role_policy(RoleName=name, PolicyName="inline")

    arn = iam.create_policy(PolicyName=uniq("mp"), PolicyDocument=policy(allow("s3:GetObject")))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    expect_error("DeleteConflict", iam.delete_role, RoleName=name, names=["polic"], status=409)
    iam.detach_role_policy(RoleName=name, PolicyArn=arn)
    iam.delete_role(RoleName=name)


def test_list_roles_pagination(iam):
    prefix = f"/{uniq('rp')}/"
    names = sorted(uniq("lr") for _ in range(5))
    for n in names:
        iam.create_role(RoleName=n, Path=prefix, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    first = iam.list_roles(PathPrefix=prefix, MaxItems=2)
    assert len(first["Roles"]) == 2 and first["IsTruncated"] is True
    all_roles = [
        r for p in iam.get_paginator("list_roles").paginate(PathPrefix=prefix, PaginationConfig={"PageSize": 2}) for r in p["Roles"]
    ]
    assert sorted(r["RoleName"] for r in all_roles) == names
    for r in all_roles:
        assert statement(r)["Principal"] == {"Service": "ec2.amazonaws.com"}
