"""GetAccountAuthorizationDetails."""

import json

from support import allow, policy, trust, uniq


def test_account_authorization_details(iam):
    user, group, role = uniq("adu"), uniq("adg"), uniq("adr")
    mp = iam.create_policy(PolicyName=uniq("adp"), PolicyDocument=policy(allow("s3:GetObject")))["Policy"]
    iam.create_policy_version(PolicyArn=mp["Arn"], PolicyDocument=policy(allow("s3:PutObject")), SetAsDefault=True)
    boundary = iam.create_policy(PolicyName=uniq("adb"), PolicyDocument=policy(allow("*")))["Policy"]["Arn"]

    iam.create_user(UserName=user, Path="/ad/", PermissionsBoundary=boundary, Tags=[{"Key": "a", "Value": "b"}])
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="inline-u", PolicyDocument=policy(allow("sqs:*")))
    iam.attach_user_policy(UserName=user, PolicyArn=mp["Arn"])
    iam.put_group_policy(GroupName=group, PolicyName="inline-g", PolicyDocument=policy(allow("sns:*")))
    iam.attach_group_policy(GroupName=group, PolicyArn=mp["Arn"])
    r = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))["Role"]
    iam.put_role_policy(RoleName=role, PolicyName="inline-r", PolicyDocument=policy(allow("ec2:*")))
    iam.attach_role_policy(RoleName=role, PolicyArn=mp["Arn"])

    details = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for page in iam.get_paginator("get_account_authorization_details").paginate(PaginationConfig={"PageSize": 3}):
        for k in details:
            details[k] += page.get(k, [])

    u = next(x for x in details["UserDetailList"] if x["UserName"] == user)
    assert u["Path"] == "/ad/"
    assert u["GroupList"] == [group]
    assert u["UserPolicyList"] == [{"PolicyName": "inline-u", "PolicyDocument": json.loads(policy(allow("sqs:*")))}]
    assert u["AttachedManagedPolicies"] == [{"PolicyName": mp["PolicyName"], "PolicyArn": mp["Arn"]}]
    assert u["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    assert u["Tags"] == [{"Key": "a", "Value": "b"}]

    g = next(x for x in details["GroupDetailList"] if x["GroupName"] == group)
    assert g["GroupPolicyList"][0]["PolicyName"] == "inline-g"
    assert g["AttachedManagedPolicies"] == [{"PolicyName": mp["PolicyName"], "PolicyArn": mp["Arn"]}]

    rd = next(x for x in details["RoleDetailList"] if x["RoleName"] == role)
    assert rd["RoleId"] == r["RoleId"]
    assert rd["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert rd["RolePolicyList"][0]["PolicyName"] == "inline-r"
    assert rd["AttachedManagedPolicies"][0]["PolicyArn"] == mp["Arn"]

    p = next(x for x in details["Policies"] if x["Arn"] == mp["Arn"])
    assert p["DefaultVersionId"] == "v2"
    assert p["AttachmentCount"] == 3
    versions = {v["VersionId"]: v for v in p["PolicyVersionList"]}
    assert set(versions) == {"v1", "v2"}
    assert versions["v2"]["IsDefaultVersion"] is True
    assert versions["v2"]["Document"] == json.loads(policy(allow("s3:PutObject")))


def test_filter(iam):
    user = uniq("onlyusers")
    iam.create_user(UserName=user)
    got = iam.get_account_authorization_details(Filter=["User"], MaxItems=1000)
    assert any(u["UserName"] == user for u in got["UserDetailList"])
    assert got.get("RoleDetailList", []) == []
    assert got.get("GroupDetailList", []) == []
    assert got.get("Policies", []) == []


def test_truncation(iam):
    for _ in range(3):
        iam.create_user(UserName=uniq("trunc"))
    first = iam.get_account_authorization_details(Filter=["User"], MaxItems=1)
    assert len(first["UserDetailList"]) == 1
    assert first["IsTruncated"] is True and first["Marker"]
    second = iam.get_account_authorization_details(Filter=["User"], MaxItems=1, Marker=first["Marker"])
    assert second["UserDetailList"][0]["UserName"] != first["UserDetailList"][0]["UserName"]
