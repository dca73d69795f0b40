"""STS AssumeRole (reference 1.3-1.6, 6.4) through boto3 and the AWS CLI:
the session it returns, its duration rules, role chaining, session tags and
transitive tags, ExternalId, session policies, cross-account trust, root,
and the session's credentials on later calls.

Expiry (ExpiredToken) is not tested here: it cannot be waited for in real
time (the shortest session is 900 s). The Rust unit tests cover it with an
injected clock (issue 4, stream A).
"""

import json
import secrets

import pytest

from support import ACCOUNT, OTHER_ACCOUNT, account_of_key, allow, deny, expect_error, policy, uniq
from stsutil import (
    ASSUME_ACTIONS,
    TAGGING_TRUST,
    assert_credentials,
    assert_lifetime,
    assume,
    assumer,
    make_role,
    make_user,
    session_client,
    tags_of,
    trust_doc,
)

LIST_USERS = allow("iam:ListUsers")
LIST_ROLES = allow("iam:ListRoles")


# --- the session ----------------------------------------------------------


def test_assume_role_then_caller_identity(iam, daemon):
    me = assumer(iam, daemon)
    # The role's path is not part of the assumed-role ARN (reference 1.3).
    role = make_role(iam, path="/team/")
    session = uniq("alice")
    r = assume(me.client(), role, session)

    creds = r["Credentials"]
    assert_credentials(creds)
    assert account_of_key(creds["AccessKeyId"]) == ACCOUNT
    assert_lifetime(creds, 3600)  # DurationSeconds defaults to one hour
    user = r["AssumedRoleUser"]
    assert user["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/{session}"
    assert user["AssumedRoleId"] == f"{role['RoleId']}:{session}"
    assert user["AssumedRoleId"].startswith("AROA")
    # Neither a session policy nor tags: no PackedPolicySize, no SourceIdentity.
    assert "PackedPolicySize" not in r
    assert "SourceIdentity" not in r

    who = session_client(daemon, creds).get_caller_identity()
    assert who["Arn"] == user["Arn"]
    assert who["UserId"] == f"{role['RoleId']}:{session}"
    assert who["Account"] == ACCOUNT


def test_each_call_mints_new_credentials(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam)
    a = assume(me.client(), role, "same-name")["Credentials"]
    b = assume(me.client(), role, "same-name")["Credentials"]
    assert a["AccessKeyId"] != b["AccessKeyId"]
    assert a["SecretAccessKey"] != b["SecretAccessKey"]
    assert a["SessionToken"] != b["SessionToken"]


def test_aws_cli_assume_role_then_caller_identity(iam, daemon, cli):
    me = assumer(iam, daemon)
    role = make_role(iam)
    out = cli(
        "assume-role", "--role-arn", role["Arn"], "--role-session-name", "cli-session",
        service="sts", key_id=me.key_id, secret=me.secret,
    )
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/cli-session"
    who = cli(
        "get-caller-identity", service="sts",
        key_id=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"],
    )
    assert who["Arn"] == out["AssumedRoleUser"]["Arn"]
    assert who["UserId"] == f"{role['RoleId']}:cli-session"


def test_session_credentials_are_checked(iam, daemon):
    me = assumer(iam, daemon)
    creds = assume(me.client(), make_role(iam))["Credentials"]
    other = assume(me.client(), make_role(iam))["Credentials"]
    token = creds["SessionToken"]
    # A token altered anywhere, or another session's token: invalid.
    mid = len(token) // 2
    flipped = token[:mid] + ("A" if token[mid] != "A" else "B") + token[mid + 1 :]
    for bad in (flipped, other["SessionToken"], token[:-4]):
        c = session_client(daemon, dict(creds, SessionToken=bad))
        expect_error("InvalidClientTokenId", c.get_caller_identity, status=403)
    # The key id without any token is not a known key.
    c = daemon.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"])
    expect_error("InvalidClientTokenId", c.get_caller_identity, status=403)
    # The right token with a wrong secret: the signature does not match.
    c = session_client(daemon, dict(creds, SecretAccessKey="x" * 40))
    expect_error("SignatureDoesNotMatch", c.get_caller_identity, status=403)


@pytest.mark.parametrize(
    "name,member",
    [
        ("a", "roleSessionName"),  # 2-64 characters
        ("x" * 65, "roleSessionName"),
        ("has space", "roleSessionName"),  # [\w+=,.@-]*
    ],
)
def test_role_session_name_is_validated(iam, daemon, name, member):
    me = assumer(iam, daemon)
    role = make_role(iam)
    msg = expect_error("ValidationError", assume, me.client(), role, name, status=400)
    assert msg.startswith("1 validation error detected: "), msg
    assert f"at '{member}'" in msg, msg


def test_missing_role_session_name(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam)
    expect_error(("ValidationError", "MissingParameter"), me.client().assume_role, RoleArn=role["Arn"], names=["roleSessionName"], status=400)


def test_unknown_role_is_access_denied(iam, daemon):
    me = assumer(iam, daemon)
    arn = f"arn:aws:iam::{ACCOUNT}:role/{uniq('nosuch')}"
    msg = expect_error("AccessDenied", me.client().assume_role, RoleArn=arn, RoleSessionName="s1", status=403)
    assert "sts:AssumeRole" in msg, msg


def test_root_cannot_assume_roles(iam, sts):
    role = make_role(iam)
    msg = expect_error("AccessDenied", assume, sts, role, status=403)
    assert "root" in msg.lower(), msg


# --- who may assume: trust policy and identity policy ---------------------


def test_trust_policy_must_allow_the_caller(iam, daemon):
    me = assumer(iam, daemon)
    someone = make_user(iam, daemon, prefix="someone")
    role = make_role(iam, trust=trust_doc({"AWS": someone.arn}))
    msg = expect_error("AccessDenied", assume, me.client(), role, status=403)
    assert me.arn in msg and "sts:AssumeRole" in msg and role["Arn"] in msg, msg


def test_account_trust_needs_an_identity_policy_allow(iam, daemon):
    nobody = make_user(iam, daemon, prefix="nopolicy")
    role = make_role(iam)  # trusts the account: delegation only
    expect_error("AccessDenied", assume, nobody.client(), role, status=403)
    # Naming the user in the trust policy grants directly (reference 6.2 step 4).
    direct = make_role(iam, trust=trust_doc({"AWS": nobody.arn}))
    assert assume(nobody.client(), direct)["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/")


def test_identity_policy_deny_wins(iam, daemon):
    role = make_role(iam)
    me = make_user(iam, daemon, allow("sts:AssumeRole"), deny("sts:AssumeRole", role["Arn"]))
    expect_error("AccessDenied", assume, me.client(), role, status=403)


def test_trust_policy_is_read_when_assuming(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam, trust=trust_doc({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}))
    expect_error("AccessDenied", assume, me.client(), role, status=403)
    iam.update_assume_role_policy(RoleName=role["RoleName"], PolicyDocument=trust_doc())
    assume(me.client(), role)


# --- DurationSeconds --------------------------------------------------------


def test_duration_bounds(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam, max_session=7200)
    sts = me.client()
    assert_lifetime(assume(sts, role, DurationSeconds=900)["Credentials"], 900)
    assert_lifetime(assume(sts, role, DurationSeconds=7200)["Credentials"], 7200)
    # The default is one hour whatever the role's maximum.
    assert_lifetime(assume(sts, role)["Credentials"], 3600)

    msg = expect_error("ValidationError", assume, sts, role, DurationSeconds=899, status=400)
    assert msg == (
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    ), msg
    msg = expect_error("ValidationError", assume, sts, role, DurationSeconds=7201, status=400)
    assert msg == "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", msg
    msg = expect_error("ValidationError", assume, sts, role, DurationSeconds=43201, status=400)
    assert msg == (
        "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value less than or equal to 43200"
    ), msg


def test_role_maximum_of_twelve_hours(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam, max_session=43200)
    assert_lifetime(assume(me.client(), role, DurationSeconds=43200)["Credentials"], 43200)


# --- role chaining ----------------------------------------------------------


def test_chaining_is_capped_at_one_hour(iam, daemon):
    me = assumer(iam, daemon)
    first = make_role(iam, allow("sts:AssumeRole"), max_session=43200, prefix="hop1")
    second = make_role(iam, max_session=43200, prefix="hop2")
    hop1 = assume(me.client(), first, DurationSeconds=7200)["Credentials"]
    assert_lifetime(hop1, 7200)  # the first hop is not chained
    chained = session_client(daemon, hop1)

    msg = expect_error("ValidationError", assume, chained, second, DurationSeconds=3601, status=400)
    assert msg == "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.", msg
    r = assume(chained, second, "chained", DurationSeconds=3600)
    assert_lifetime(r["Credentials"], 3600)
    # Without DurationSeconds a chained session lasts at most one hour.
    default = assume(chained, second)["Credentials"]
    assert_lifetime(default, 3600)

    who = session_client(daemon, r["Credentials"]).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{second['RoleName']}/chained"
    assert who["UserId"] == f"{second['RoleId']}:chained"


def test_chained_assume_role_needs_the_session_to_be_allowed(iam, daemon):
    me = assumer(iam, daemon)
    first = make_role(iam, LIST_USERS, prefix="nochain")  # no sts:AssumeRole
    second = make_role(iam)
    chained = session_client(daemon, assume(me.client(), first)["Credentials"])
    msg = expect_error("AccessDenied", assume, chained, second, status=403)
    assert f"assumed-role/{first['RoleName']}/" in msg, msg


def test_role_can_trust_a_specific_session(iam, daemon):
    me = assumer(iam, daemon)
    first = make_role(iam, allow("sts:AssumeRole"))
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{first['RoleName']}/trusted"
    second = make_role(iam, trust=trust_doc({"AWS": session_arn}))
    ok = session_client(daemon, assume(me.client(), first, "trusted")["Credentials"])
    assume(ok, second)
    other = session_client(daemon, assume(me.client(), first, "untrusted")["Credentials"])
    expect_error("AccessDenied", assume, other, second, status=403)


# --- session policies -------------------------------------------------------


def test_inline_session_policy_narrows_the_role(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam, LIST_USERS, LIST_ROLES)
    # The session policy allows ListUsers and ListGroups; the role allows
    # ListUsers and ListRoles: only ListUsers is left.
    session_policy = policy(allow(["iam:ListUsers", "iam:ListGroups"]))
    r = assume(me.client(), role, Policy=session_policy)
    assert isinstance(r["PackedPolicySize"], int) and 0 <= r["PackedPolicySize"] <= 100
    c = session_client(daemon, r["Credentials"], "iam")
    c.list_users(MaxItems=1)
    expect_error("AccessDenied", c.list_roles, status=403)
    expect_error("AccessDenied", c.list_groups, status=403)

    # Without a session policy the role's own policies apply.
    full = session_client(daemon, assume(me.client(), role)["Credentials"], "iam")
    full.list_users(MaxItems=1)
    full.list_roles(MaxItems=1)


def test_managed_session_policies_narrow_the_role(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam, LIST_USERS, LIST_ROLES)
    p = iam.create_policy(PolicyName=uniq("sessionpol"), PolicyDocument=policy(LIST_ROLES))["Policy"]
    r = assume(me.client(), role, PolicyArns=[{"arn": p["Arn"]}])
    assert 0 <= r["PackedPolicySize"] <= 100
    c = session_client(daemon, r["Credentials"], "iam")
    c.list_roles(MaxItems=1)
    expect_error("AccessDenied", c.list_users, status=403)


def test_session_policy_deny_and_role_policy_changes(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam, LIST_USERS)
    creds = assume(me.client(), role, Policy=policy(allow("iam:*"), deny("iam:ListUsers")))["Credentials"]
    c = session_client(daemon, creds, "iam")
    expect_error("AccessDenied", c.list_users, status=403)
    # The role's current policies apply to existing sessions.
    plain = session_client(daemon, assume(me.client(), role)["Credentials"], "iam")
    plain.list_users(MaxItems=1)
    expect_error("AccessDenied", plain.list_roles, status=403)
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="more", PolicyDocument=policy(LIST_ROLES))
    plain.list_roles(MaxItems=1)
    iam.delete_role_policy(RoleName=role["RoleName"], PolicyName="perms")
    expect_error("AccessDenied", plain.list_users, status=403)


def test_role_boundary_applies_to_sessions(iam, daemon):
    me = assumer(iam, daemon)
    boundary = iam.create_policy(PolicyName=uniq("bound"), PolicyDocument=policy(LIST_USERS))["Policy"]["Arn"]
    role = make_role(iam, LIST_USERS, LIST_ROLES, boundary=boundary)
    c = session_client(daemon, assume(me.client(), role)["Credentials"], "iam")
    c.list_users(MaxItems=1)
    expect_error("AccessDenied", c.list_roles, status=403)


def test_malformed_session_policy(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam)
    expect_error("MalformedPolicyDocument", assume, me.client(), role, Policy='{"Version": "2012-10-17", "Statement": [', status=400)
    expect_error("MalformedPolicyDocument", assume, me.client(), role, Policy=json.dumps({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}), status=400)


def test_packed_policy_size_grows_and_is_limited(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam, trust=trust_doc(actions=TAGGING_TRUST))
    small = assume(me.client(), role, Policy=policy(LIST_USERS))["PackedPolicySize"]
    # Resources of random hex do not compress away.
    larger = policy(*(allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/{secrets.token_hex(16)}") for _ in range(12)))
    bigger = assume(me.client(), role, Policy=larger)["PackedPolicySize"]
    assert 0 <= small < bigger <= 100, (small, bigger)
    # Tags count too.
    tagged = assume(me.client(), role, Tags=tags_of({"team": "blue"}))
    assert 0 <= tagged["PackedPolicySize"] <= 100

    # 50 tags, each within its own limits (key 128, value 256 characters),
    # are far beyond the packed budget.
    huge = [{"Key": secrets.token_hex(64), "Value": secrets.token_hex(128)} for _ in range(50)]
    msg = expect_error("PackedPolicyTooLarge", assume, me.client(), role, Tags=huge, status=400)
    assert "%" in msg, msg


# --- session tags -------------------------------------------------------------


def tag_gated_role(iam, tag_key: str, tag_value: str, **kw):
    """A role that may ListRoles only when the principal tag matches."""
    return make_role(
        iam,
        {
            "Effect": "Allow",
            "Action": "iam:ListRoles",
            "Resource": "*",
            "Condition": {"StringEquals": {f"aws:PrincipalTag/{tag_key}": tag_value}},
        },
        **kw,
    )


def test_session_tags_become_principal_tags(iam, daemon):
    me = assumer(iam, daemon)
    role = tag_gated_role(iam, "team", "blue", trust=trust_doc(actions=TAGGING_TRUST))
    r = assume(me.client(), role, Tags=tags_of({"team": "blue", "cost": "42"}))
    assert 0 <= r["PackedPolicySize"] <= 100
    session_client(daemon, r["Credentials"], "iam").list_roles(MaxItems=1)
    red = assume(me.client(), role, Tags=tags_of({"team": "red"}))
    expect_error("AccessDenied", session_client(daemon, red["Credentials"], "iam").list_roles, status=403)
    untagged = assume(me.client(), role)
    expect_error("AccessDenied", session_client(daemon, untagged["Credentials"], "iam").list_roles, status=403)


def test_session_tag_overrides_role_tag_whatever_the_case(iam, daemon):
    me = assumer(iam, daemon)
    role = tag_gated_role(iam, "team", "blue", trust=trust_doc(actions=TAGGING_TRUST), tags={"team": "red"})
    # The role's own tag applies to its sessions...
    plain = assume(me.client(), role)
    expect_error("AccessDenied", session_client(daemon, plain["Credentials"], "iam").list_roles, status=403)
    # ...unless a session tag of the same key, in any case, overrides it.
    r = assume(me.client(), role, Tags=tags_of({"Team": "blue"}))
    session_client(daemon, r["Credentials"], "iam").list_roles(MaxItems=1)


def test_tags_need_tag_session_in_the_trust_policy(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam)  # trust allows sts:AssumeRole only
    msg = expect_error("AccessDenied", assume, me.client(), role, Tags=tags_of({"team": "blue"}), status=403)
    assert "sts:TagSession" in msg, msg
    assume(me.client(), role)  # without tags it is fine


def test_tags_need_tag_session_in_the_identity_policy(iam, daemon):
    me = make_user(iam, daemon, allow("sts:AssumeRole"))
    role = make_role(iam, trust=trust_doc(actions=TAGGING_TRUST))
    expect_error("AccessDenied", assume, me.client(), role, Tags=tags_of({"team": "blue"}), status=403)


def test_at_most_fifty_tags(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam, trust=trust_doc(actions=TAGGING_TRUST))
    fifty = tags_of({f"k{i}": "v" for i in range(50)})
    assume(me.client(), role, Tags=fifty)
    msg = expect_error("ValidationError", assume, me.client(), role, Tags=fifty + tags_of({"k50": "v"}), status=400)
    assert "at 'tags'" in msg and "less than or equal to 50" in msg, msg


@pytest.mark.parametrize(
    "tag,member",
    [
        ({"Key": "k" * 129, "Value": "v"}, "key"),  # keys 1-128
        ({"Key": "k", "Value": "v" * 257}, "value"),  # values 0-256
        ({"Key": "bad*key", "Value": "v"}, "key"),  # [\p{L}\p{Z}\p{N}_.:/=+\-@]+
    ],
)
def test_tag_limits(iam, daemon, tag, member):
    me = assumer(iam, daemon)
    role = make_role(iam, trust=trust_doc(actions=TAGGING_TRUST))
    msg = expect_error("ValidationError", assume, me.client(), role, Tags=[tag], status=400)
    assert "1 validation error detected" in msg and member in msg.lower(), msg


def test_empty_tag_value_is_allowed(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam, trust=trust_doc(actions=TAGGING_TRUST))
    assume(me.client(), role, Tags=[{"Key": "empty", "Value": ""}])


def test_transitive_keys_must_be_passed_tags(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam, trust=trust_doc(actions=TAGGING_TRUST))
    expect_error(
        ("ValidationError", "InvalidParameterValue"),
        assume, me.client(), role, Tags=tags_of({"team": "blue"}), TransitiveTagKeys=["project"], status=400,
    )


def test_transitive_tags_are_inherited_through_a_chain(iam, daemon):
    me = assumer(iam, daemon)
    trust = trust_doc(actions=TAGGING_TRUST)
    first = make_role(iam, allow(ASSUME_ACTIONS), trust=trust, tags={"dept": "x"}, prefix="tt1")
    # The chained roles may ListRoles with team=blue, ListUsers with cost=42,
    # GetUser with dept=x (the first role's own tag).
    gated = [
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}},
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/cost": "42"}}},
        {"Effect": "Allow", "Action": "iam:ListGroups", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/dept": "x"}}},
        allow(ASSUME_ACTIONS),
    ]
    second = make_role(iam, *gated, trust=trust, prefix="tt2")
    third = make_role(iam, *gated, trust=trust, prefix="tt3")

    hop1 = assume(me.client(), first, Tags=tags_of({"team": "blue", "cost": "42"}), TransitiveTagKeys=["team"])
    hop2 = assume(session_client(daemon, hop1["Credentials"]), second)
    c2 = session_client(daemon, hop2["Credentials"], "iam")
    c2.list_roles(MaxItems=1)  # team=blue was inherited
    expect_error("AccessDenied", c2.list_users, status=403)  # cost was not transitive
    expect_error("AccessDenied", c2.list_groups, status=403)  # role tags are never transitive

    # Inherited transitive tags stay transitive down the chain.
    hop3 = assume(session_client(daemon, hop2["Credentials"]), third)
    session_client(daemon, hop3["Credentials"], "iam").list_roles(MaxItems=1)


@pytest.mark.parametrize("key", ["team", "TEAM"])
def test_chained_call_cannot_override_a_transitive_tag(iam, daemon, key):
    me = assumer(iam, daemon)
    trust = trust_doc(actions=TAGGING_TRUST)
    first = make_role(iam, allow(ASSUME_ACTIONS), trust=trust)
    second = make_role(iam, trust=trust)
    hop1 = assume(me.client(), first, Tags=tags_of({"team": "blue"}), TransitiveTagKeys=["team"])
    chained = session_client(daemon, hop1["Credentials"])
    # AWS: "If you pass a session tag with the same key as an inherited tag,
    # the operation fails" (keys compare without case).
    expect_error(
        ("InvalidParameterValue", "ValidationError", "AccessDenied"),
        assume, chained, second, Tags=tags_of({key: "red"}),
    )
    # Other keys may still be added.
    assume(chained, second, Tags=tags_of({"project": "apollo"}))


# --- SourceIdentity -----------------------------------------------------------


def test_source_identity_is_set_once_and_carried(iam, daemon):
    me = assumer(iam, daemon)
    trust = trust_doc(actions=("sts:AssumeRole", "sts:SetSourceIdentity"))
    first = make_role(iam, allow(ASSUME_ACTIONS), trust=trust)
    # The chained role may ListRoles only for alice's sessions.
    second = make_role(
        iam,
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceIdentity": "alice@example.com"}}},
        trust=trust,
    )
    r = assume(me.client(), first, SourceIdentity="alice@example.com")
    assert r["SourceIdentity"] == "alice@example.com"
    chained = session_client(daemon, r["Credentials"])
    r2 = assume(chained, second)
    assert r2.get("SourceIdentity", "alice@example.com") == "alice@example.com"
    session_client(daemon, r2["Credentials"], "iam").list_roles(MaxItems=1)
    other = assume(me.client(), second)  # no source identity
    expect_error("AccessDenied", session_client(daemon, other["Credentials"], "iam").list_roles, status=403)
    # It cannot change along the chain.
    expect_error(("AccessDenied", "ValidationError"), assume, chained, second, SourceIdentity="mallory")
    # Setting it needs sts:SetSourceIdentity in the trust policy.
    plain = make_role(iam)
    expect_error("AccessDenied", assume, me.client(), plain, SourceIdentity="alice", status=403)
    # "aws:" is reserved.
    expect_error("ValidationError", assume, me.client(), first, SourceIdentity="aws:me", status=400)


# --- ExternalId ---------------------------------------------------------------


def test_external_id_required_by_the_trust_policy(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam, trust=trust_doc(condition={"StringEquals": {"sts:ExternalId": "ext-4711-abc"}}))
    expect_error("AccessDenied", assume, me.client(), role, status=403)
    expect_error("AccessDenied", assume, me.client(), role, ExternalId="ext-4711-abd", status=403)
    r = assume(me.client(), role, ExternalId="ext-4711-abc")
    assert r["Credentials"]["AccessKeyId"].startswith("ASIA")
    # externalIdType: 2-1224 characters of [\w+=,.@:\/-]*.
    expect_error("ValidationError", assume, me.client(), role, ExternalId="e", names=["externalId"], status=400)
    expect_error("ValidationError", assume, me.client(), role, ExternalId="ext id", names=["externalId"], status=400)


# --- cross-account ------------------------------------------------------------


def test_cross_account_assume_role(iam, daemon):
    other_iam = daemon.client("iam", *daemon.root_keys(OTHER_ACCOUNT))
    role = make_role(other_iam, trust=trust_doc(account=ACCOUNT), prefix="xacct")
    assert role["Arn"] == f"arn:aws:iam::{OTHER_ACCOUNT}:role/{role['RoleName']}"

    # Both sides must allow: the trust policy names the account, so the
    # caller needs an identity-policy allow on the role too.
    me = make_user(iam, daemon, allow("sts:AssumeRole", role["Arn"]))
    r = assume(me.client(), role, "xs")
    creds = r["Credentials"]
    assert_credentials(creds)
    assert account_of_key(creds["AccessKeyId"]) == OTHER_ACCOUNT
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/{role['RoleName']}/xs"
    who = session_client(daemon, creds).get_caller_identity()
    assert who["Account"] == OTHER_ACCOUNT
    assert who["Arn"] == r["AssumedRoleUser"]["Arn"]
    assert who["UserId"] == f"{role['RoleId']}:xs"

    nobody = make_user(iam, daemon, prefix="xnobody")
    expect_error("AccessDenied", assume, nobody.client(), role, status=403)
    # An identity allow is not enough without the other account's trust.
    closed = make_role(other_iam, trust=trust_doc(account=OTHER_ACCOUNT), prefix="xclosed")
    expect_error("AccessDenied", assume, me.client(), closed, status=403)


def test_cross_account_session_uses_the_role_account_policies(iam, daemon):
    other_iam = daemon.client("iam", *daemon.root_keys(OTHER_ACCOUNT))
    role = make_role(other_iam, LIST_USERS, trust=trust_doc(account=ACCOUNT), prefix="xlist")
    mine = make_user(iam, daemon, prefix="local-only")
    me = make_user(iam, daemon, allow("sts:AssumeRole", role["Arn"]))
    c = session_client(daemon, assume(me.client(), role)["Credentials"], "iam")
    names = [u["UserName"] for u in c.list_users()["Users"]]
    assert mine.name not in names  # the other account's users
    expect_error("AccessDenied", c.list_roles, status=403)


# --- the broker's own STS calls with a session ---------------------------------


def test_session_calls_to_sts_are_authorized(iam, daemon):
    me = assumer(iam, daemon)
    allowed = make_role(iam, allow("sts:GetAccessKeyInfo"))
    denied = make_role(iam, LIST_USERS)
    key = me.key_id
    ok = session_client(daemon, assume(me.client(), allowed)["Credentials"])
    assert ok.get_access_key_info(AccessKeyId=key)["Account"] == ACCOUNT
    no = session_client(daemon, assume(me.client(), denied)["Credentials"])
    expect_error("AccessDenied", no.get_access_key_info, AccessKeyId=key, status=403)
    # GetCallerIdentity needs no permission.
    assert no.get_caller_identity()["Account"] == ACCOUNT


# --- ProvidedContexts ---------------------------------------------------


def test_provided_contexts_are_refused_not_ignored(iam, daemon):
    # stsd trusts no context provider (their assertions are signed by AWS):
    # a request that carries one is refused, never served without it.
    me = assumer(iam, daemon)
    role = make_role(iam)
    provider = "arn:aws:iam::aws:contextProvider/IdentityCenter"
    msg = expect_error(
        "InvalidParameterValue",
        me.client().assume_role,
        RoleArn=role["Arn"],
        RoleSessionName=uniq("ctx"),
        ProvidedContexts=[{"ProviderArn": provider, "ContextAssertion": "x" * 40}],
        status=400,
    )
    assert provider in msg
    # Six contexts break the list limit; a short assertion its length.
    expect_error(
        "ValidationError",
        me.client().assume_role,
        RoleArn=role["Arn"],
        RoleSessionName=uniq("ctx"),
        ProvidedContexts=[{"ProviderArn": provider, "ContextAssertion": "abcd"}] * 6,
        names=("providedContexts",),
    )
    expect_error(
        "ValidationError",
        me.client().assume_role,
        RoleArn=role["Arn"],
        RoleSessionName=uniq("ctx"),
        ProvidedContexts=[{"ProviderArn": provider, "ContextAssertion": "abc"}],
        names=("contextAssertion",),
    )
