"""Tags: Tag/Untag/List…Tags for users, roles, managed policies, OIDC and
SAML providers; at most 50 per resource, key <= 128, value <= 256."""

import pytest

from support import ACCOUNT, allow, expect_error, policy, saml_metadata, trust, uniq


def make_user(iam):
    n = uniq("tu")
    iam.create_user(UserName=n)
    return {"UserName": n}


def make_role(iam):
    n = uniq("tr")
    iam.create_role(RoleName=n, AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    return {"RoleName": n}


def make_policy(iam):
    arn = iam.create_policy(PolicyName=uniq("tp"), PolicyDocument=policy(allow("s3:GetObject")))["Policy"]["Arn"]
    return {"PolicyArn": arn}


def make_oidc(iam):
    arn = iam.create_open_id_connect_provider(
        Url=f"https://{uniq('tags')}.example.com", ClientIDList=["a"], ThumbprintList=["b" * 40]
    )["OpenIDConnectProviderArn"]
    return {"OpenIDConnectProviderArn": arn}


def make_saml(iam):
    arn = iam.create_saml_provider(SAMLMetadataDocument=saml_metadata(), Name=uniq("tags"))["SAMLProviderArn"]
    return {"SAMLProviderArn": arn}


KINDS = {
    "user": make_user,
    "role": make_role,
    "policy": make_policy,
    "open_id_connect_provider": make_oidc,
    "saml_provider": make_saml,
}


TAG_OPS = {
    "user": ("tag_user", "untag_user", "list_user_tags"),
    "role": ("tag_role", "untag_role", "list_role_tags"),
    "policy": ("tag_policy", "untag_policy", "list_policy_tags"),
    "open_id_connect_provider": (
        "tag_open_id_connect_provider",
        "untag_open_id_connect_provider",
        "list_open_id_connect_provider_tags",
    ),
    "saml_provider": ("tag_saml_provider", "untag_saml_provider", "list_saml_provider_tags"),
}


def ops(iam, kind):
    return tuple(getattr(iam, m) for m in TAG_OPS[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_tag_list_untag(iam, kind):
    target = KINDS[kind](iam)
    tag, untag, list_ = ops(iam, kind)
    tag(**target, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "core"}])
    got = list_(**target)
    assert sorted((t["Key"], t["Value"]) for t in got["Tags"]) == [("env", "dev"), ("team", "core")]
    assert got["IsTruncated"] is False

    tag(**target, Tags=[{"Key": "env", "Value": "prod"}])  # overwrites
    assert {t["Key"]: t["Value"] for t in list_(**target)["Tags"]} == {"env": "prod", "team": "core"}

    untag(**target, TagKeys=["env", "absent"])
    assert list_(**target)["Tags"] == [{"Key": "team", "Value": "core"}]


@pytest.mark.parametrize("kind", KINDS)
def test_fifty_tags_at_most(iam, kind):
    target = KINDS[kind](iam)
    tag, _, list_ = ops(iam, kind)
    tag(**target, Tags=[{"Key": f"k{i}", "Value": str(i)} for i in range(50)])
    expect_error("LimitExceeded", tag, **target, Tags=[{"Key": "one-more", "Value": "x"}], status=409)
    assert len(list_(**target)["Tags"]) == 50
    tag(**target, Tags=[{"Key": "k0", "Value": "replaced"}])  # replacing is not adding


def test_tag_size_limits(iam):
    target = make_user(iam)
    expect_error("ValidationError", iam.tag_user, **target, Tags=[{"Key": "k" * 129, "Value": "v"}], names=["key"])
    expect_error("ValidationError", iam.tag_user, **target, Tags=[{"Key": "k", "Value": "v" * 257}], names=["value"])
    expect_error("InvalidInput", iam.tag_user, **target, Tags=[{"Key": "aws:reserved", "Value": "v"}], names=["aws:"])


def test_tags_on_missing_entities(iam):
    ghost = uniq("ghost")
    expect_error("NoSuchEntity", iam.tag_user, UserName=ghost, Tags=[{"Key": "a", "Value": "b"}], names=[ghost], status=404)
    expect_error("NoSuchEntity", iam.list_role_tags, RoleName=ghost, names=[ghost], status=404)
    arn = f"arn:aws:iam::{ACCOUNT}:policy/{ghost}"
    expect_error("NoSuchEntity", iam.untag_policy, PolicyArn=arn, TagKeys=["a"], names=[arn], status=404)


def test_list_user_tags_pagination(iam):
    target = make_user(iam)
    iam.tag_user(**target, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(5)])
    first = iam.list_user_tags(**target, MaxItems=2)
    assert len(first["Tags"]) == 2 and first["IsTruncated"] is True
    rest = iam.list_user_tags(**target, Marker=first["Marker"])
    assert sorted(t["Key"] for t in first["Tags"] + rest["Tags"]) == [f"k{i}" for i in range(5)]
