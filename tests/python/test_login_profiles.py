"""IAM users' console passwords and what the sign-in page needs:
CreateLoginProfile, GetLoginProfile, UpdateLoginProfile, DeleteLoginProfile,
ChangePassword, Get/Update/DeleteAccountPasswordPolicy and
Create/Delete/ListAccountAliases, through boto3 and the AWS CLI.

The account password policy and alias are account-wide, so the tests that
set them restore the account afterwards (the `no_policy` and `no_alias`
fixtures)."""

import base64
import datetime
import os

import pytest

from redis_server import RedisServer
from support import ACCOUNT, OTHER_ACCOUNT, Daemon, allow, deny, expect_error, policy, uniq
from botocore.exceptions import ClientError

# Passwords the tests use; none may ever appear in a response or a log line.
STRONG = "Correct-Horse-9"
STRONGER = "Battery-Staple-7"
SECRETS = [STRONG, STRONGER]


def secret(tag: str) -> str:
    """A password meeting every rule below, unique and easy to grep for."""
    value = f"Pw{tag}-{uniq('x')}!9z"
    SECRETS.append(value)
    return value


@pytest.fixture
def user(iam):
    name = uniq("console")
    iam.create_user(UserName=name)
    return name


@pytest.fixture
def no_policy(iam):
    """The account without a password policy, before and after the test."""

    def clear():
        try:
            iam.delete_account_password_policy()
        except ClientError as e:
            assert e.response["Error"]["Code"] == "NoSuchEntity"

    clear()
    yield
    clear()


@pytest.fixture
def no_alias(daemon, iam):
    """Both accounts without an alias, before and after the test."""
    other = daemon.client("iam", *daemon.root_keys(OTHER_ACCOUNT))

    def clear():
        for client in (iam, other):
            for alias in client.list_account_aliases()["AccountAliases"]:
                client.delete_account_alias(AccountAlias=alias)

    clear()
    yield other
    clear()


def user_client(daemon, iam, name, *statements):
    """An IAM client signed with `name`'s own access key, after giving the
    user an inline policy of `statements` (when any)."""
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="console", PolicyDocument=policy(*statements))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return daemon.client("iam", k["AccessKeyId"], k["SecretAccessKey"])


CHANGE_OWN = allow("iam:ChangePassword", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}")


# --- login profiles -------------------------------------------------------------


def test_login_profile_lifecycle_and_shape(iam, user):
    created = iam.create_login_profile(UserName=user, Password=STRONG, PasswordResetRequired=True)
    profile = created["LoginProfile"]
    assert profile["UserName"] == user
    assert profile["PasswordResetRequired"] is True
    assert isinstance(profile["CreateDate"], datetime.datetime)
    assert set(profile) == {"UserName", "CreateDate", "PasswordResetRequired"}
    assert STRONG not in repr(created)

    got = iam.get_login_profile(UserName=user)["LoginProfile"]
    assert got == profile
    assert STRONG not in repr(got) and "argon2" not in repr(got)

    iam.update_login_profile(UserName=user, PasswordResetRequired=False)
    assert iam.get_login_profile(UserName=user)["LoginProfile"]["PasswordResetRequired"] is False

    iam.delete_login_profile(UserName=user)
    message = expect_error("NoSuchEntity", iam.get_login_profile, UserName=user, status=404)
    assert message == f"Login Profile for User {user} cannot be found."
    for call in (iam.delete_login_profile, iam.get_login_profile):
        expect_error("NoSuchEntity", call, UserName=user, names=[user], status=404)
    expect_error("NoSuchEntity", iam.update_login_profile, UserName=user, Password=STRONGER, status=404)


def test_one_login_profile_per_user(iam, user):
    iam.create_login_profile(UserName=user, Password=STRONG)
    message = expect_error("EntityAlreadyExists", iam.create_login_profile, UserName=user, Password=STRONGER, status=409)
    assert user in message and STRONGER not in message
    missing = uniq("nobody")
    message = expect_error("NoSuchEntity", iam.create_login_profile, UserName=missing, Password=STRONG, status=404)
    assert message == f"The user with name {missing} cannot be found."


@pytest.mark.parametrize(
    "value, constraint",
    [
        ("", "greater than or equal to 1"),
        ("Aa1!" * 33, "less than or equal to 128"),
        ("Euro\u20acSign-1", "regular expression pattern"),
        ("Bell\u0007Sign-1", "regular expression pattern"),
    ],
)
def test_bad_passwords_are_refused_by_field_never_echoed(iam, user, value, constraint):
    message = expect_error("ValidationError", iam.create_login_profile, UserName=user, Password=value, status=400)
    assert "'password'" in message and constraint in message, message
    if value:
        assert value not in message
    expect_error("NoSuchEntity", iam.get_login_profile, UserName=user)


def test_missing_password_names_the_field(iam, user):
    expect_error("ValidationError", iam.create_login_profile, UserName=user, names=["password"])
    message = expect_error("ValidationError", iam.change_password, OldPassword=STRONG, names=["newPassword"])
    assert "null" in message


def test_the_default_policy_applies_without_a_policy(iam, user, no_policy):
    cases = {
        "Sh0rt-x": "minimum length of 8",
        "lowercaseonly": "at least 3 of these types",
        ACCOUNT: "account ID or alias",
    }
    for weak, rule in cases.items():
        message = expect_error("PasswordPolicyViolation", iam.create_login_profile, UserName=user, Password=weak, status=400)
        assert rule in message, message
        assert weak not in message
    expect_error("NoSuchEntity", iam.get_login_profile, UserName=user)
    iam.create_login_profile(UserName=user, Password="Three-classes1")


def test_delete_user_waits_for_the_login_profile(iam, user):
    iam.create_login_profile(UserName=user, Password=STRONG)
    expect_error("DeleteConflict", iam.delete_user, UserName=user, names=["login profile"], status=409)
    iam.delete_login_profile(UserName=user)
    iam.delete_user(UserName=user)


def test_rename_keeps_the_login_profile(iam, user):
    iam.create_login_profile(UserName=user, Password=STRONG, PasswordResetRequired=True)
    renamed = uniq("renamed")
    iam.update_user(UserName=user, NewUserName=renamed)
    profile = iam.get_login_profile(UserName=renamed)["LoginProfile"]
    assert profile["UserName"] == renamed and profile["PasswordResetRequired"] is True
    expect_error("NoSuchEntity", iam.get_login_profile, UserName=user, names=[user])


def test_login_profile_actions_are_authorized_on_the_users_arn(daemon, iam, user):
    target = uniq("target")
    iam.create_user(UserName=target)
    c = user_client(daemon, iam, user, allow("iam:GetLoginProfile", f"arn:aws:iam::{ACCOUNT}:user/{user}"))
    iam.create_login_profile(UserName=user, Password=STRONG)
    assert c.get_login_profile()["LoginProfile"]["UserName"] == user, "UserName defaults to the caller"
    for call, kwargs in [
        (c.get_login_profile, {"UserName": target}),
        (c.create_login_profile, {"UserName": target, "Password": STRONG}),
        (c.update_login_profile, {"UserName": target, "Password": STRONG}),
        (c.delete_login_profile, {"UserName": target}),
        (c.create_login_profile, {"UserName": uniq("absent"), "Password": STRONG}),
    ]:
        message = expect_error("AccessDenied", call, **kwargs, status=403)
        assert f":user/{kwargs['UserName']}" in message
    expect_error("NoSuchEntity", iam.get_login_profile, UserName=target)


# --- ChangePassword ---------------------------------------------------------------


def test_users_change_their_own_password(daemon, iam, user, no_policy):
    iam.create_login_profile(UserName=user, Password=STRONG, PasswordResetRequired=True)
    before = iam.get_login_profile(UserName=user)["LoginProfile"]
    c = user_client(daemon, iam, user, CHANGE_OWN)
    new = secret("new")
    message = expect_error("AccessDenied", c.change_password, OldPassword=STRONGER, NewPassword=new, status=403)
    assert "OldPassword" in message and STRONGER not in message and new not in message
    expect_error("PasswordPolicyViolation", c.change_password, OldPassword=STRONG, NewPassword="weak", names=["minimum length"])
    c.change_password(OldPassword=STRONG, NewPassword=new)
    after = iam.get_login_profile(UserName=user)["LoginProfile"]
    assert after["PasswordResetRequired"] is False, "a change clears the reset flag"
    assert after["CreateDate"] >= before["CreateDate"]
    # The old password no longer works; the new one does.
    expect_error("AccessDenied", c.change_password, OldPassword=STRONG, NewPassword=secret("again"), names=["OldPassword"])
    c.change_password(OldPassword=new, NewPassword=secret("third"))


def test_change_password_without_a_login_profile(daemon, iam, user):
    c = user_client(daemon, iam, user, CHANGE_OWN)
    message = expect_error("NoSuchEntity", c.change_password, OldPassword=STRONG, NewPassword=STRONGER, status=404)
    assert message == f"Login Profile for User {user} cannot be found."


def test_change_password_is_for_iam_users_only(iam):
    expect_error("InvalidUserType", iam.change_password, OldPassword=STRONG, NewPassword=STRONGER, status=400)


def test_change_password_needs_permission_or_the_account_setting(daemon, iam, user, no_policy):
    iam.create_login_profile(UserName=user, Password=STRONG)
    c = user_client(daemon, iam, user, allow("iam:GetUser"))
    expect_error("AccessDenied", c.change_password, OldPassword=STRONG, NewPassword=STRONGER, names=["iam:ChangePassword"])
    expect_error("AccessDenied", c.get_account_password_policy, names=["iam:GetAccountPasswordPolicy"])

    iam.update_account_password_policy(MinimumPasswordLength=8, AllowUsersToChangePassword=True)
    assert c.get_account_password_policy()["PasswordPolicy"]["AllowUsersToChangePassword"] is True
    c.change_password(OldPassword=STRONG, NewPassword=STRONGER)

    # An explicit Deny still wins over the account setting.
    iam.put_user_policy(UserName=user, PolicyName="console", PolicyDocument=policy(deny("iam:ChangePassword")))
    expect_error("AccessDenied", c.change_password, OldPassword=STRONGER, NewPassword=STRONG)


# --- the account password policy --------------------------------------------------


def test_account_password_policy_round_trip(iam, no_policy):
    message = expect_error("NoSuchEntity", iam.get_account_password_policy, status=404)
    assert message == f"The Password Policy with domain name {ACCOUNT} cannot be found."
    expect_error("NoSuchEntity", iam.delete_account_password_policy, status=404)

    iam.update_account_password_policy(
        MinimumPasswordLength=14,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=24,
        HardExpiry=True,
    )
    assert iam.get_account_password_policy()["PasswordPolicy"] == {
        "MinimumPasswordLength": 14,
        "RequireSymbols": True,
        "RequireNumbers": True,
        "RequireUppercaseCharacters": True,
        "RequireLowercaseCharacters": True,
        "AllowUsersToChangePassword": True,
        "ExpirePasswords": True,
        "MaxPasswordAge": 90,
        "PasswordReusePrevention": 24,
        "HardExpiry": True,
    }
    # Settings left out return to their defaults, as in AWS.
    iam.update_account_password_policy(RequireNumbers=True)
    assert iam.get_account_password_policy()["PasswordPolicy"] == {
        "MinimumPasswordLength": 6,
        "RequireSymbols": False,
        "RequireNumbers": True,
        "RequireUppercaseCharacters": False,
        "RequireLowercaseCharacters": False,
        "AllowUsersToChangePassword": False,
        "ExpirePasswords": False,
    }
    iam.delete_account_password_policy()
    expect_error("NoSuchEntity", iam.get_account_password_policy)


@pytest.mark.parametrize(
    "setting, value, member, bound",
    [
        ("MinimumPasswordLength", 5, "minimumPasswordLength", "greater than or equal to 6"),
        ("MinimumPasswordLength", 129, "minimumPasswordLength", "less than or equal to 128"),
        ("MaxPasswordAge", 0, "maxPasswordAge", "greater than or equal to 1"),
        ("MaxPasswordAge", 1096, "maxPasswordAge", "less than or equal to 1095"),
        ("PasswordReusePrevention", 0, "passwordReusePrevention", "greater than or equal to 1"),
        ("PasswordReusePrevention", 25, "passwordReusePrevention", "less than or equal to 24"),
    ],
)
def test_policy_ranges_name_the_setting(iam, no_policy, setting, value, member, bound):
    message = expect_error("ValidationError", iam.update_account_password_policy, **{setting: value}, status=400)
    assert f"'{member}'" in message and bound in message, message
    expect_error("NoSuchEntity", iam.get_account_password_policy)


def test_the_policy_holds_on_every_change(daemon, iam, user, no_policy):
    iam.update_account_password_policy(
        MinimumPasswordLength=12,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        PasswordReusePrevention=2,
    )
    rules = {
        "Short-1a": "minimum length of 12",
        "NoSymbolsHere1a": "at least one symbol",
        "No-Numbers-Here": "at least one number",
        "no-upper-case-1": "at least one uppercase letter",
        "NO-LOWER-CASE-1": "at least one lowercase letter",
    }
    for weak, rule in rules.items():
        message = expect_error("PasswordPolicyViolation", iam.create_login_profile, UserName=user, Password=weak)
        assert rule in message and weak not in message, message
    message = expect_error("PasswordPolicyViolation", iam.create_login_profile, UserName=user, Password="short")
    assert message.count("Password should") == 4, message

    first, second, third = secret("one"), secret("two"), secret("three")
    iam.create_login_profile(UserName=user, Password=first)
    message = expect_error("PasswordPolicyViolation", iam.update_login_profile, UserName=user, Password=first)
    assert "2 most recent passwords" in message and first not in message
    iam.update_login_profile(UserName=user, Password=second)
    expect_error("PasswordPolicyViolation", iam.update_login_profile, UserName=user, Password=first, names=["most recent"])

    c = user_client(daemon, iam, user, CHANGE_OWN)
    expect_error("PasswordPolicyViolation", c.change_password, OldPassword=second, NewPassword=second, names=["most recent"])
    expect_error("PasswordPolicyViolation", c.change_password, OldPassword=second, NewPassword="Too-short-1", names=["minimum length of 12"])
    c.change_password(OldPassword=second, NewPassword=third)
    # Two changes later the first password may come back.
    c.change_password(OldPassword=third, NewPassword=first)


# --- account aliases ----------------------------------------------------------------


def test_account_alias_lifecycle(iam, no_alias):
    other = no_alias
    alias = uniq("corp")
    assert iam.list_account_aliases()["AccountAliases"] == []
    iam.create_account_alias(AccountAlias=alias)
    listed = iam.list_account_aliases()
    assert listed["AccountAliases"] == [alias] and listed["IsTruncated"] is False

    expect_error("EntityAlreadyExists", iam.create_account_alias, AccountAlias=alias, names=[alias], status=409)
    expect_error("LimitExceeded", iam.create_account_alias, AccountAlias=uniq("second"), names=["AccountAliasesPerAccount"], status=409)
    # Unique across accounts.
    expect_error("EntityAlreadyExists", other.create_account_alias, AccountAlias=alias, names=[alias])
    expect_error("NoSuchEntity", other.delete_account_alias, AccountAlias=alias, names=[alias], status=404)
    assert other.list_account_aliases()["AccountAliases"] == []

    iam.delete_account_alias(AccountAlias=alias)
    assert iam.list_account_aliases()["AccountAliases"] == []
    other.create_account_alias(AccountAlias=alias)
    assert other.list_account_aliases()["AccountAliases"] == [alias]


@pytest.mark.parametrize("bad", ["ab", "-corp", "corp-", "two--dashes", "Upper", "dot.corp", "x" * 64])
def test_account_alias_pattern(iam, no_alias, bad):
    message = expect_error("ValidationError", iam.create_account_alias, AccountAlias=bad, status=400)
    assert "'accountAlias'" in message, message
    assert iam.list_account_aliases()["AccountAliases"] == []


def test_the_default_policy_refuses_the_alias(iam, user, no_policy, no_alias):
    alias = uniq("named")
    iam.create_account_alias(AccountAlias=alias)
    expect_error("PasswordPolicyViolation", iam.create_login_profile, UserName=user, Password=alias.upper(), names=["alias"])


def test_alias_actions_need_permission(daemon, iam, user, no_alias):
    c = user_client(daemon, iam, user, allow("iam:GetUser"))
    expect_error("AccessDenied", c.list_account_aliases, names=["iam:ListAccountAliases"])
    expect_error("AccessDenied", c.create_account_alias, AccountAlias=uniq("mine"), names=["iam:CreateAccountAlias"])
    assert iam.list_account_aliases()["AccountAliases"] == []


# --- the AWS CLI ----------------------------------------------------------------------


def test_cli_console_settings(cli, iam, user, no_policy, no_alias):
    profile = cli("create-login-profile", "--user-name", user, "--password", STRONG, "--password-reset-required")
    assert profile["LoginProfile"]["UserName"] == user
    assert profile["LoginProfile"]["PasswordResetRequired"] is True
    assert cli("get-login-profile", "--user-name", user)["LoginProfile"]["UserName"] == user
    cli("update-login-profile", "--user-name", user, "--no-password-reset-required")
    assert cli("get-login-profile", "--user-name", user)["LoginProfile"]["PasswordResetRequired"] is False

    cli("update-account-password-policy", "--minimum-password-length", "10", "--require-numbers", "--max-password-age", "30")
    got = cli("get-account-password-policy")["PasswordPolicy"]
    assert got["MinimumPasswordLength"] == 10 and got["RequireNumbers"] is True
    assert got["ExpirePasswords"] is True and got["MaxPasswordAge"] == 30
    err = cli.error("PasswordPolicyViolation", "update-login-profile", "--user-name", user, "--password", "no-digits-at-all")
    assert "no-digits-at-all" not in err
    cli.error("ValidationError", "update-account-password-policy", "--minimum-password-length", "200")
    cli("delete-account-password-policy")
    cli.error("NoSuchEntity", "get-account-password-policy")

    alias = uniq("cli")
    cli("create-account-alias", "--account-alias", alias)
    assert cli("list-account-aliases")["AccountAliases"] == [alias]
    cli("delete-account-alias", "--account-alias", alias)
    cli("delete-login-profile", "--user-name", user)
    cli.error("NoSuchEntity", "get-login-profile", "--user-name", user)


# --- replicas on one Redis ------------------------------------------------------------


def test_replicas_share_login_profiles_policy_and_alias():
    redis = RedisServer().start()
    replicas = []
    try:
        # One master key (each replica opens what another sealed), one prefix.
        master_key = base64.b64encode(os.urandom(32)).decode()
        config = f'[store]\nbackend = "redis"\n[store.redis]\nurl = "{redis.url}"\nprefix = "{uniq("login")}:"\n'
        for _ in range(2):
            replicas.append(Daemon(master_key=master_key, additional_accounts=(), extra_config=config).start())
        a, b = (d.client("iam") for d in replicas)
        name = uniq("shared")
        a.create_user(UserName=name)
        a.update_account_password_policy(MinimumPasswordLength=16, PasswordReusePrevention=1)
        expect_error("PasswordPolicyViolation", b.create_login_profile, UserName=name, Password=STRONG, names=["minimum length of 16"])
        first = secret("replica") + "-long"
        b.create_login_profile(UserName=name, Password=first)
        assert a.get_login_profile(UserName=name)["LoginProfile"]["UserName"] == name
        expect_error("PasswordPolicyViolation", a.update_login_profile, UserName=name, Password=first, names=["current password"])
        expect_error("DeleteConflict", a.delete_user, UserName=name, names=["login profile"])

        alias = uniq("replica")
        a.create_account_alias(AccountAlias=alias)
        assert b.list_account_aliases()["AccountAliases"] == [alias]
        expect_error("EntityAlreadyExists", b.create_account_alias, AccountAlias=alias)
        b.delete_account_alias(AccountAlias=alias)
        assert a.list_account_aliases()["AccountAliases"] == []
        for d in replicas:
            assert first not in d.stderr()
    finally:
        for d in replicas:
            d.close()
        redis.close()


# --- last, after every test above has used its passwords --------------------------------


def test_zz_no_password_or_hash_reaches_the_log(daemon):
    log = daemon.stderr()
    assert log, "the daemon logs something"
    for value in SECRETS:
        assert value not in log, f"a password is in the log: {value[:4]}…"
    assert "$argon2id$" not in log
