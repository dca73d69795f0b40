"""Helpers shared by the STS tests (tests/python/test_sts*.py): principals
to assume roles with, roles, MFA devices, and clients for the temporary
credentials STS returns.

conftest.py scans these functions like a test's own when it gates tests on
the actions they use: a test that calls `assume()` is gated on AssumeRole.
So every helper names only the API calls it makes.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass

from support import ACCOUNT, Daemon, allow, current_step, policy, totp, uniq

ASIA_KEY = re.compile(r"ASIA[A-Z2-7]{16}")
# 40 characters of the base64 alphabet (reference 3.3).
SECRET = re.compile(r"[A-Za-z0-9+/]{40}")
# A leeway for comparing an Expiration with now + duration: request time,
# clock granularity and the daemon's and the test's clocks.
LEEWAY = 60

# What every assumer below may do (the role's trust policy still decides).
ASSUME_ACTIONS = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]


@dataclass
class Principal:
    """An IAM user with a long-term access key."""

    name: str
    arn: str
    user_id: str
    key_id: str
    secret: str
    daemon: Daemon

    def client(self, service: str = "sts"):
        return self.daemon.client(service, self.key_id, self.secret)


def make_user(iam, daemon: Daemon, *statements, prefix: str = "user", path: str = "/") -> Principal:
    """A user with one access key and, when given, an inline policy."""
    name = uniq(prefix)
    u = iam.create_user(UserName=name, Path=path)["User"]
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="perms", PolicyDocument=policy(*statements))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return Principal(name, u["Arn"], u["UserId"], k["AccessKeyId"], k["SecretAccessKey"], daemon)


def assumer(iam, daemon: Daemon, *statements, prefix: str = "assumer") -> Principal:
    """A user whose identity policy allows assuming (and tagging) any role."""
    return make_user(iam, daemon, allow(ASSUME_ACTIONS), *statements, prefix=prefix)


def trust_doc(principal=None, actions=("sts:AssumeRole",), condition=None, account: str = ACCOUNT) -> str:
    """A trust policy: `principal` (default: the whole of `account`) may
    perform `actions`, under `condition` when given."""
    statement = {
        "Effect": "Allow",
        "Principal": principal or {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": list(actions),
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


TAGGING_TRUST = ("sts:AssumeRole", "sts:TagSession")


def make_role(iam, *statements, trust: str | None = None, prefix: str = "role", path: str = "/", max_session=None, tags=None, boundary=None) -> dict:
    """A role (default trust: any principal of ACCOUNT that its own policy
    lets assume it) with an inline policy of `statements` when given."""
    kw = {"RoleName": uniq(prefix), "AssumeRolePolicyDocument": trust or trust_doc(), "Path": path}
    if max_session:
        kw["MaxSessionDuration"] = max_session
    if tags:
        kw["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    if boundary:
        kw["PermissionsBoundary"] = boundary
    role = iam.create_role(**kw)["Role"]
    if statements:
        iam.put_role_policy(RoleName=role["RoleName"], PolicyName="perms", PolicyDocument=policy(*statements))
    return role


def assume(sts, role: dict, session: str | None = None, **kw) -> dict:
    """AssumeRole of `role` with the `sts` client; returns the whole result."""
    return sts.assume_role(RoleArn=role["Arn"], RoleSessionName=session or uniq("s"), **kw)


def session_client(daemon: Daemon, creds: dict, service: str = "sts"):
    """A client signing with the temporary `creds` (a Credentials element)."""
    return daemon.client(service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def tags_of(mapping: dict) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in mapping.items()]


def seconds_left(creds: dict) -> float:
    """Seconds from now until the credentials' Expiration."""
    return (creds["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()


def assert_lifetime(creds: dict, seconds: int) -> None:
    left = seconds_left(creds)
    assert seconds - LEEWAY <= left <= seconds + LEEWAY, f"expires in {left:.0f} s, expected {seconds} s"


def assert_credentials(creds: dict, account: str = ACCOUNT) -> None:
    """The Credentials element (reference 1.4, 3.2, 3.3)."""
    assert ASIA_KEY.fullmatch(creds["AccessKeyId"]), creds["AccessKeyId"]
    assert SECRET.fullmatch(creds["SecretAccessKey"]), "secret is not 40 base64 characters"
    assert isinstance(creds["SessionToken"], str) and len(creds["SessionToken"]) > 20
    assert isinstance(creds["Expiration"], datetime.datetime) and creds["Expiration"].tzinfo is not None


@dataclass
class MfaUser:
    """A user with an enabled virtual MFA device whose seed the test knows.
    Enabling spent the codes of steps `step - 2` and `step - 1`: the codes
    of `step` and `step + 1` are fresh and within the accepted window."""

    user: Principal
    serial: str
    seed: str
    step: int

    def code(self, offset: int = 0) -> str:
        return totp(self.seed, self.step + offset)


def mfa_user(iam, daemon: Daemon, *statements, prefix: str = "mfa") -> MfaUser:
    user = make_user(iam, daemon, *statements, prefix=prefix)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=uniq("dev"))["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode("ascii")  # boto3 decodes the base64 blob
    step = current_step()
    iam.enable_mfa_device(
        UserName=user.name,
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=totp(seed, step - 2),
        AuthenticationCode2=totp(seed, step - 1),
    )
    return MfaUser(user, device["SerialNumber"], seed, step)


MFA_PRESENT = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
