"""Users: CreateUser, GetUser, UpdateUser, DeleteUser, ListUsers."""

import datetime

import pytest

from support import ACCOUNT, allow, expect_error, policy, uniq


def test_create_get_delete_user(iam):
    name = uniq("alice")
    u = iam.create_user(UserName=name, Path="/eng/")["User"]
    assert u["UserName"] == name
    assert u["Path"] == "/eng/"
    assert u["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/eng/{name}"
    assert u["UserId"].startswith("AIDA") and len(u["UserId"]) >= 16
    assert isinstance(u["CreateDate"], datetime.datetime)

    got = iam.get_user(UserName=name)["User"]
    assert {k: got[k] for k in ("UserName", "Path", "Arn", "UserId", "CreateDate")} == {
        k: u[k] for k in ("UserName", "Path", "Arn", "UserId", "CreateDate")
    }

    iam.delete_user(UserName=name)
    expect_error("NoSuchEntity", iam.get_user, UserName=name, names=[name], status=404)


def test_default_path_is_slash(iam):
    name = uniq("dflt")
    u = iam.create_user(UserName=name)["User"]
    assert u["Path"] == "/"
    assert u["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"


def test_get_user_without_name_is_the_caller_root(iam):
    u = iam.get_user()["User"]
    assert u["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert u["UserId"] == ACCOUNT


def test_create_user_with_tags(iam):
    name = uniq("tagged")
    u = iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": "core"}])["User"]
    assert u.get("Tags") == [{"Key": "team", "Value": "core"}]
    assert iam.get_user(UserName=name)["User"]["Tags"] == [{"Key": "team", "Value": "core"}]


def test_duplicate_user_names_case_insensitively(iam):
    name = uniq("Dup")
    iam.create_user(UserName=name)
    expect_error("EntityAlreadyExists", iam.create_user, UserName=name, names=[name], status=409)
    expect_error("EntityAlreadyExists", iam.create_user, UserName=name.lower(), status=409)


@pytest.mark.parametrize("bad", ["has space", "slash/name", "x" * 65, "bang!"])
def test_invalid_user_name(iam, bad):
    expect_error("ValidationError", iam.create_user, UserName=bad, names=["userName"], status=400)


@pytest.mark.parametrize("bad", ["eng", "/eng", "eng/", "/sp ace/"])
def test_invalid_path(iam, bad):
    expect_error("ValidationError", iam.create_user, UserName=uniq("p"), Path=bad, names=["path"], status=400)


def test_update_user_rename_and_move(iam):
    old, new = uniq("old"), uniq("new")
    uid = iam.create_user(UserName=old)["User"]["UserId"]
    iam.update_user(UserName=old, NewUserName=new, NewPath="/moved/")
    u = iam.get_user(UserName=new)["User"]
    assert u["UserId"] == uid
    assert u["Path"] == "/moved/"
    assert u["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/moved/{new}"
    expect_error("NoSuchEntity", iam.get_user, UserName=old, names=[old])


def test_update_user_errors(iam):
    missing = uniq("ghost")
    expect_error("NoSuchEntity", iam.update_user, UserName=missing, NewPath="/x/", names=[missing])
    a, b = uniq("ua"), uniq("ub")
    iam.create_user(UserName=a)
    iam.create_user(UserName=b)
    expect_error("EntityAlreadyExists", iam.update_user, UserName=a, NewUserName=b, names=[b])


def test_delete_missing_user(iam):
    name = uniq("nobody")
    expect_error("NoSuchEntity", iam.delete_user, UserName=name, names=[name], status=404)


def test_delete_user_with_attachments_conflicts(iam):
    name = uniq("busy")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    expect_error("DeleteConflict", iam.delete_user, UserName=name, names=["access key"], status=409)
    iam.delete_access_key(UserName=name, AccessKeyId=key)

    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(allow("iam:GetUser")))
    expect_error("DeleteConflict", iam.delete_user, UserName=name, names=["polic"], status=409)
    iam.delete_user_policy(UserName=name, PolicyName="p")

    group = uniq("g")
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=name)
    expect_error("DeleteConflict", iam.delete_user, UserName=name, names=["group"], status=409)
    iam.remove_user_from_group(GroupName=group, UserName=name)

    iam.delete_user(UserName=name)


def test_list_users_pagination(iam):
    prefix = f"/{uniq('pag')}/"
    names = sorted(uniq("pu") for _ in range(5))
    for n in names:
        iam.create_user(UserName=n, Path=prefix)

    seen, marker, pages = [], None, 0
    while True:
        kw = {"PathPrefix": prefix, "MaxItems": 2}
        if marker:
            kw["Marker"] = marker
        page = iam.list_users(**kw)
        pages += 1
        assert len(page["Users"]) <= 2
        seen += [u["UserName"] for u in page["Users"]]
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        assert page["Marker"]
        marker = page["Marker"]
    assert sorted(seen) == names
    assert len(seen) == len(set(seen))
    assert pages == 3

    paginated = [
        u["UserName"]
        for p in iam.get_paginator("list_users").paginate(PathPrefix=prefix, PaginationConfig={"PageSize": 2})
        for u in p["Users"]
    ]
    assert sorted(paginated) == names


def test_list_users_whole_account_includes_new_user(iam):
    name = uniq("listed")
    iam.create_user(UserName=name)
    everyone = [u["UserName"] for p in iam.get_paginator("list_users").paginate() for u in p["Users"]]
    assert name in everyone


def test_list_users_max_items_above_1000(iam):
    expect_error("ValidationError", iam.list_users, MaxItems=1001, names=["maxItems"])
