"""Access keys: CreateAccessKey, UpdateAccessKey, DeleteAccessKey,
ListAccessKeys, GetAccessKeyLastUsed; at most 2 per user."""

import datetime
import re

import pytest

from support import ACCOUNT, account_of_key, allow, error_of, expect_error, policy, uniq
from botocore.exceptions import ClientError


@pytest.fixture
def user(iam):
    name = uniq("keyed")
    iam.create_user(UserName=name)
    return name


def may_get_user(iam, name):
    iam.put_user_policy(UserName=name, PolicyName="self", PolicyDocument=policy(allow("iam:GetUser")))


def test_create_access_key_shape(iam, user):
    k = iam.create_access_key(UserName=user)["AccessKey"]
    assert k["UserName"] == user
    assert k["Status"] == "Active"
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", k["AccessKeyId"]), k["AccessKeyId"]
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", k["SecretAccessKey"])
    assert isinstance(k["CreateDate"], datetime.datetime)
    # Reference 3.2: new-format key ids carry the account.
    assert account_of_key(k["AccessKeyId"]) == ACCOUNT


def test_new_key_authenticates(daemon, iam, user):
    k = iam.create_access_key(UserName=user)["AccessKey"]
    me = daemon.client("sts", k["AccessKeyId"], k["SecretAccessKey"]).get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{user}"
    assert me["UserId"] == iam.get_user(UserName=user)["User"]["UserId"]


def test_new_key_authenticates_iam_calls(daemon, iam, user):
    may_get_user(iam, user)
    k = iam.create_access_key(UserName=user)["AccessKey"]
    me = daemon.client("iam", k["AccessKeyId"], k["SecretAccessKey"]).get_user()["User"]
    assert me["UserName"] == user


def test_list_access_keys_never_returns_the_secret(iam, user):
    ids = {iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"] for _ in range(2)}
    listed = iam.list_access_keys(UserName=user)
    assert listed["IsTruncated"] is False
    meta = listed["AccessKeyMetadata"]
    assert {m["AccessKeyId"] for m in meta} == ids
    for m in meta:
        assert m["UserName"] == user and m["Status"] == "Active"
        assert "SecretAccessKey" not in m
        assert isinstance(m["CreateDate"], datetime.datetime)


def test_two_key_limit(iam, user):
    iam.create_access_key(UserName=user)
    iam.create_access_key(UserName=user)
    expect_error("LimitExceeded", iam.create_access_key, UserName=user, names=["AccessKeysPerUser"], status=409)
    assert len(iam.list_access_keys(UserName=user)["AccessKeyMetadata"]) == 2


def test_deactivate_reactivate_delete(daemon, iam, user):
    k = iam.create_access_key(UserName=user)["AccessKey"]
    c = daemon.client("sts", k["AccessKeyId"], k["SecretAccessKey"])
    c.get_caller_identity()

    iam.update_access_key(UserName=user, AccessKeyId=k["AccessKeyId"], Status="Inactive")
    assert iam.list_access_keys(UserName=user)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    expect_error("InvalidClientTokenId", c.get_caller_identity, status=403)

    iam.update_access_key(UserName=user, AccessKeyId=k["AccessKeyId"], Status="Active")
    assert c.get_caller_identity()["Arn"].endswith(f":user/{user}")

    iam.delete_access_key(UserName=user, AccessKeyId=k["AccessKeyId"])
    assert iam.list_access_keys(UserName=user)["AccessKeyMetadata"] == []
    expect_error("InvalidClientTokenId", c.get_caller_identity, status=403)


def test_update_access_key_bad_status(iam, user):
    k = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    expect_error("ValidationError", iam.update_access_key, UserName=user, AccessKeyId=k, Status="Sleeping", names=["status"])


def test_key_errors(iam, user):
    ghost = uniq("ghost")
    expect_error("NoSuchEntity", iam.create_access_key, UserName=ghost, names=[ghost], status=404)
    expect_error("NoSuchEntity", iam.list_access_keys, UserName=ghost, names=[ghost], status=404)
    missing = "AKIA" + "Z" * 16
    expect_error("NoSuchEntity", iam.delete_access_key, UserName=user, AccessKeyId=missing, names=[missing])
    expect_error("NoSuchEntity", iam.update_access_key, UserName=user, AccessKeyId=missing, Status="Inactive", names=[missing])


def test_key_of_another_user_is_not_found_under_this_user(iam, user):
    other = uniq("other")
    iam.create_user(UserName=other)
    k = iam.create_access_key(UserName=other)["AccessKey"]["AccessKeyId"]
    expect_error("NoSuchEntity", iam.delete_access_key, UserName=user, AccessKeyId=k, names=[k])
    assert len(iam.list_access_keys(UserName=other)["AccessKeyMetadata"]) == 1


def test_user_manages_own_keys_without_user_name(daemon, iam, user):
    iam.put_user_policy(
        UserName=user,
        PolicyName="own-keys",
        PolicyDocument=policy(allow(["iam:ListAccessKeys", "iam:CreateAccessKey"], f"arn:aws:iam::{ACCOUNT}:user/{user}")),
    )
    k = iam.create_access_key(UserName=user)["AccessKey"]
    c = daemon.client("iam", k["AccessKeyId"], k["SecretAccessKey"])
    assert [m["AccessKeyId"] for m in c.list_access_keys()["AccessKeyMetadata"]] == [k["AccessKeyId"]]
    k2 = c.create_access_key()["AccessKey"]
    assert k2["UserName"] == user


def test_get_access_key_last_used(daemon, iam, user):
    k = iam.create_access_key(UserName=user)["AccessKey"]
    before = iam.get_access_key_last_used(AccessKeyId=k["AccessKeyId"])
    assert before["UserName"] == user
    assert "LastUsedDate" not in before["AccessKeyLastUsed"]
    assert before["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    assert before["AccessKeyLastUsed"]["Region"] == "N/A"

    daemon.client("sts", k["AccessKeyId"], k["SecretAccessKey"]).get_caller_identity()
    after = iam.get_access_key_last_used(AccessKeyId=k["AccessKeyId"])["AccessKeyLastUsed"]
    assert isinstance(after["LastUsedDate"], datetime.datetime)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - after["LastUsedDate"]).total_seconds()) < 300
    assert after["ServiceName"] == "sts"
    assert after["Region"] == "us-east-1"


def test_get_access_key_last_used_unknown(iam):
    missing = "AKIA" + "Z" * 16
    with pytest.raises(ClientError) as ei:
        iam.get_access_key_last_used(AccessKeyId=missing)
    code, _, _ = error_of(ei)
    # AWS answers AccessDenied for keys it does not know (no existence oracle);
    # NoSuchEntity is also acceptable for an administrator.
    assert code in ("AccessDenied", "NoSuchEntity"), code
