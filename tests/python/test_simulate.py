"""SimulateCustomPolicy and SimulatePrincipalPolicy through the evaluator."""

import json

import pytest

from support import ACCOUNT, allow, deny, expect_error, policy, trust, uniq

BUCKET = "arn:aws:s3:::reports/q1.csv"


def decisions(resp):
    return {(r["EvalActionName"], r.get("EvalResourceName", "*")): r["EvalDecision"] for r in resp["EvaluationResults"]}


def test_custom_policy_allow_implicit_and_explicit_deny(iam):
    doc = policy(allow("s3:*", "arn:aws:s3:::reports/*"), deny("s3:DeleteObject"))
    resp = iam.simulate_custom_policy(
        PolicyInputList=[doc],
        ActionNames=["s3:GetObject", "s3:DeleteObject", "sqs:SendMessage"],
        ResourceArns=[BUCKET],
    )
    assert resp["IsTruncated"] is False
    assert decisions(resp) == {
        ("s3:GetObject", BUCKET): "allowed",
        ("s3:DeleteObject", BUCKET): "explicitDeny",
        ("sqs:SendMessage", BUCKET): "implicitDeny",
    }
    by_action = {r["EvalActionName"]: r for r in resp["EvaluationResults"]}
    assert by_action["s3:GetObject"]["MatchedStatements"]
    assert by_action["sqs:SendMessage"]["MatchedStatements"] == []


def test_custom_policy_default_resource_is_star(iam):
    resp = iam.simulate_custom_policy(PolicyInputList=[policy(allow("iam:GetUser"))], ActionNames=["iam:GetUser"])
    assert [r["EvalDecision"] for r in resp["EvaluationResults"]] == ["allowed"]
    assert resp["EvaluationResults"][0]["EvalResourceName"] == "*"


def test_custom_policy_context_entries(iam):
    doc = policy(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        }
    )

    def run(ip):
        return iam.simulate_custom_policy(
            PolicyInputList=[doc],
            ActionNames=["s3:GetObject"],
            ResourceArns=[BUCKET],
            ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": [ip], "ContextKeyType": "ip"}],
        )["EvaluationResults"][0]["EvalDecision"]

    assert run("10.1.2.3") == "allowed"
    assert run("192.168.0.1") == "implicitDeny"

    missing = iam.simulate_custom_policy(PolicyInputList=[doc], ActionNames=["s3:GetObject"], ResourceArns=[BUCKET])
    r = missing["EvaluationResults"][0]
    assert r["EvalDecision"] == "implicitDeny"
    assert "aws:SourceIp" in r.get("MissingContextValues", [])


def test_custom_policy_with_boundary(iam):
    resp = iam.simulate_custom_policy(
        PolicyInputList=[policy(allow("s3:*"))],
        PermissionsBoundaryPolicyInputList=[policy(allow("s3:GetObject"))],
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=[BUCKET],
    )
    assert decisions(resp) == {("s3:GetObject", BUCKET): "allowed", ("s3:PutObject", BUCKET): "implicitDeny"}


def test_custom_policy_errors(iam):
    expect_error("MalformedPolicyDocument", iam.simulate_custom_policy, PolicyInputList=["{bad"], ActionNames=["s3:GetObject"])
    expect_error(
        ("InvalidInput", "ValidationError"),
        iam.simulate_custom_policy,
        PolicyInputList=[policy(allow("s3:*"))],
        ActionNames=["not an action"],
        names=["not an action"],
    )


def test_custom_policy_pagination(iam):
    actions = [f"s3:Action{i}" for i in range(5)]
    first = iam.simulate_custom_policy(PolicyInputList=[policy(allow("s3:*"))], ActionNames=actions, MaxItems=2)
    assert len(first["EvaluationResults"]) == 2 and first["IsTruncated"] is True
    seen = [
        r["EvalActionName"]
        for p in iam.get_paginator("simulate_custom_policy").paginate(
            PolicyInputList=[policy(allow("s3:*"))], ActionNames=actions, PaginationConfig={"PageSize": 2}
        )
        for r in p["EvaluationResults"]
    ]
    assert sorted(seen) == actions


def test_principal_policy_of_user_with_groups_and_managed(iam):
    user, group = uniq("simu"), uniq("simg")
    arn = iam.create_user(UserName=user)["User"]["Arn"]
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="get", PolicyDocument=policy(allow("s3:GetObject")))
    iam.put_group_policy(GroupName=group, PolicyName="put", PolicyDocument=policy(allow("s3:PutObject")))
    mp = iam.create_policy(PolicyName=uniq("simmp"), PolicyDocument=policy(allow("s3:ListBucket"), deny("s3:DeleteObject")))["Policy"]["Arn"]
    iam.attach_user_policy(UserName=user, PolicyArn=mp)

    actions = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "sqs:SendMessage"]
    resp = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions, ResourceArns=[BUCKET])
    assert decisions(resp) == {
        ("s3:GetObject", BUCKET): "allowed",
        ("s3:PutObject", BUCKET): "allowed",
        ("s3:ListBucket", BUCKET): "allowed",
        ("s3:DeleteObject", BUCKET): "explicitDeny",
        ("sqs:SendMessage", BUCKET): "implicitDeny",
    }

    # Extra policies in PolicyInputList are added to the principal's.
    resp = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["sqs:SendMessage"], PolicyInputList=[policy(allow("sqs:*"))]
    )
    assert resp["EvaluationResults"][0]["EvalDecision"] == "allowed"

    # A boundary on the user limits the result.
    boundary = iam.create_policy(PolicyName=uniq("simb"), PolicyDocument=policy(allow("s3:GetObject")))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=boundary)
    resp = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:PutObject"], ResourceArns=[BUCKET])
    assert decisions(resp) == {("s3:GetObject", BUCKET): "allowed", ("s3:PutObject", BUCKET): "implicitDeny"}


def test_principal_policy_of_role_and_group(iam):
    role = uniq("simr")
    rarn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=policy(allow("dynamodb:GetItem")))
    resp = iam.simulate_principal_policy(PolicySourceArn=rarn, ActionNames=["dynamodb:GetItem", "dynamodb:PutItem"])
    assert {r["EvalActionName"]: r["EvalDecision"] for r in resp["EvaluationResults"]} == {
        "dynamodb:GetItem": "allowed",
        "dynamodb:PutItem": "implicitDeny",
    }
    group = uniq("simgrp")
    garn = iam.create_group(GroupName=group)["Group"]["Arn"]
    iam.put_group_policy(GroupName=group, PolicyName="p", PolicyDocument=policy(allow("sns:Publish")))
    resp = iam.simulate_principal_policy(PolicySourceArn=garn, ActionNames=["sns:Publish"])
    assert resp["EvaluationResults"][0]["EvalDecision"] == "allowed"


def test_principal_policy_errors(iam):
    ghost = f"arn:aws:iam::{ACCOUNT}:user/{uniq('ghost')}"
    expect_error("NoSuchEntity", iam.simulate_principal_policy, PolicySourceArn=ghost, ActionNames=["s3:GetObject"], names=[ghost])
    expect_error("ValidationError", iam.simulate_principal_policy, PolicySourceArn="arn:nope", ActionNames=["s3:GetObject"], names=["arn:nope", "policySourceArn"])
