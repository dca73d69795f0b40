"""Groups and membership: CreateGroup, GetGroup, UpdateGroup, DeleteGroup,
ListGroups, AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser."""

import datetime

from support import ACCOUNT, expect_error, trust, uniq


def test_create_get_list_delete_group(iam):
    name = uniq("devs")
    g = iam.create_group(GroupName=name, Path="/teams/")["Group"]
    assert g["GroupName"] == name
    assert g["Path"] == "/teams/"
    assert g["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/teams/{name}"
    assert g["GroupId"].startswith("AGPA")
    assert isinstance(g["CreateDate"], datetime.datetime)

    got = iam.get_group(GroupName=name)
    assert got["Group"]["GroupId"] == g["GroupId"]
    assert got["Users"] == []
    assert got["IsTruncated"] is False

    listed = [x["GroupName"] for x in iam.list_groups(PathPrefix="/teams/")["Groups"]]
    assert name in listed

    iam.delete_group(GroupName=name)
    expect_error("NoSuchEntity", iam.get_group, GroupName=name, names=[name], status=404)


def test_duplicate_and_invalid_group(iam):
    name = uniq("Grp")
    iam.create_group(GroupName=name)
    expect_error("EntityAlreadyExists", iam.create_group, GroupName=name, names=[name], status=409)
    expect_error("EntityAlreadyExists", iam.create_group, GroupName=name.upper(), status=409)
    expect_error("ValidationError", iam.create_group, GroupName="bad name", names=["groupName"], status=400)
    expect_error("ValidationError", iam.create_group, GroupName="g" * 129, names=["groupName"], status=400)


def test_membership(iam):
    group, u1, u2 = uniq("grp"), uniq("m1"), uniq("m2")
    iam.create_group(GroupName=group)
    iam.create_user(UserName=u1)
    iam.create_user(UserName=u2)
    iam.add_user_to_group(GroupName=group, UserName=u1)
    iam.add_user_to_group(GroupName=group, UserName=u2)
    iam.add_user_to_group(GroupName=group, UserName=u1)  # idempotent, as in AWS

    members = sorted(u["UserName"] for u in iam.get_group(GroupName=group)["Users"])
    assert members == sorted([u1, u2])
    groups = iam.list_groups_for_user(UserName=u1)
    assert [g["GroupName"] for g in groups["Groups"]] == [group]
    assert groups["IsTruncated"] is False

    iam.remove_user_from_group(GroupName=group, UserName=u1)
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [u2]
    assert iam.list_groups_for_user(UserName=u1)["Groups"] == []

    expect_error("DeleteConflict", iam.delete_group, GroupName=group, names=["user"], status=409)
    iam.remove_user_from_group(GroupName=group, UserName=u2)
    iam.delete_group(GroupName=group)


def test_membership_errors(iam):
    group, user = uniq("grp"), uniq("usr")
    iam.create_group(GroupName=group)
    iam.create_user(UserName=user)
    ghost_user, ghost_group = uniq("ghost"), uniq("ghostgrp")
    expect_error("NoSuchEntity", iam.add_user_to_group, GroupName=group, UserName=ghost_user, names=[ghost_user])
    expect_error("NoSuchEntity", iam.add_user_to_group, GroupName=ghost_group, UserName=user, names=[ghost_group])
    expect_error("NoSuchEntity", iam.remove_user_from_group, GroupName=ghost_group, UserName=user, names=[ghost_group])
    expect_error("NoSuchEntity", iam.list_groups_for_user, UserName=ghost_user, names=[ghost_user])
    # Removing a user who is not a member.
    expect_error("NoSuchEntity", iam.remove_user_from_group, GroupName=group, UserName=user, names=[user])


def test_user_in_at_most_10_groups(iam):
    user = uniq("joiner")
    iam.create_user(UserName=user)
    for _ in range(10):
        g = uniq("ten")
        iam.create_group(GroupName=g)
        iam.add_user_to_group(GroupName=g, UserName=user)
    g = uniq("eleventh")
    iam.create_group(GroupName=g)
    expect_error("LimitExceeded", iam.add_user_to_group, GroupName=g, UserName=user, status=409)


def test_update_group(iam):
    old, new, user = uniq("oldg"), uniq("newg"), uniq("member")
    gid = iam.create_group(GroupName=old)["Group"]["GroupId"]
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=old, UserName=user)
    iam.update_group(GroupName=old, NewGroupName=new, NewPath="/renamed/")
    got = iam.get_group(GroupName=new)
    assert got["Group"]["GroupId"] == gid
    assert got["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/renamed/{new}"
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [new]
    expect_error("NoSuchEntity", iam.get_group, GroupName=old, names=[old])
    expect_error("NoSuchEntity", iam.update_group, GroupName=old, NewGroupName=uniq("x"), names=[old])


def test_get_group_users_pagination(iam):
    group = uniq("big")
    iam.create_group(GroupName=group)
    users = sorted(uniq("gm") for _ in range(5))
    for u in users:
        iam.create_user(UserName=u)
        iam.add_user_to_group(GroupName=group, UserName=u)
    first = iam.get_group(GroupName=group, MaxItems=2)
    assert len(first["Users"]) == 2 and first["IsTruncated"] is True
    seen = [
        u["UserName"]
        for p in iam.get_paginator("get_group").paginate(GroupName=group, PaginationConfig={"PageSize": 2})
        for u in p["Users"]
    ]
    assert sorted(seen) == users


def test_list_groups_pagination(iam):
    prefix = f"/{uniq('gp')}/"
    names = sorted(uniq("lg") for _ in range(5))
    for n in names:
        iam.create_group(GroupName=n, Path=prefix)
    first = iam.list_groups(PathPrefix=prefix, MaxItems=3)
    assert len(first["Groups"]) == 3 and first["IsTruncated"] is True and first["Marker"]
    rest = iam.list_groups(PathPrefix=prefix, Marker=first["Marker"])
    assert rest["IsTruncated"] is False
    assert sorted(g["GroupName"] for g in first["Groups"] + rest["Groups"]) == names


def test_group_is_not_a_principal(iam):
    group = uniq("notprincipal")
    arn = iam.create_group(GroupName=group)["Group"]["Arn"]
    expect_error(
        "MalformedPolicyDocument",
        iam.create_role,
        RoleName=uniq("r"),
        AssumeRolePolicyDocument=trust({"AWS": arn}),
        names=[arn],
        status=400,
    )
