"""MFA in STS (reference 10): a trust policy that requires
`aws:MultiFactorAuthPresent`, AssumeRole and GetSessionToken with
SerialNumber + TokenCode from a virtual device whose seed the test knows,
a code accepted at most once, and the MFA context of the sessions."""

from support import ACCOUNT, allow, expect_error, totp
from stsutil import MFA_PRESENT, assume, make_role, mfa_user, session_client, trust_doc

ASSUME = allow("sts:AssumeRole")
MFA_LIST_ROLES = {
    "Effect": "Allow",
    "Action": "iam:ListRoles",
    "Resource": "*",
    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
}


def test_trust_policy_requires_mfa(iam, daemon):
    m = mfa_user(iam, daemon, ASSUME)
    role = make_role(iam, trust=trust_doc(condition=MFA_PRESENT))
    sts = m.user.client()
    # No MFA, or a wrong code: refused.
    expect_error("AccessDenied", assume, sts, role, status=403)
    wrong = "000000" if m.code() != "000000" else "111111"
    expect_error("AccessDenied", assume, sts, role, SerialNumber=m.serial, TokenCode=wrong, status=403)
    # The current code: the session is MFA-authenticated.
    r = assume(sts, role, "with-mfa", SerialNumber=m.serial, TokenCode=m.code())
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/with-mfa"
    who = session_client(daemon, r["Credentials"]).get_caller_identity()
    assert who["Arn"] == r["AssumedRoleUser"]["Arn"]


def test_a_code_is_accepted_once(iam, daemon):
    m = mfa_user(iam, daemon, ASSUME)
    role = make_role(iam, trust=trust_doc(condition=MFA_PRESENT))
    other = make_role(iam, trust=trust_doc(condition=MFA_PRESENT))
    sts = m.user.client()
    code = m.code()
    assume(sts, role, SerialNumber=m.serial, TokenCode=code)
    # The same code again, for the same or another role: refused.
    expect_error("AccessDenied", assume, sts, role, SerialNumber=m.serial, TokenCode=code, status=403)
    expect_error("AccessDenied", assume, sts, other, SerialNumber=m.serial, TokenCode=code, status=403)
    # The codes spent enabling the device are refused too.
    expect_error("AccessDenied", assume, sts, role, SerialNumber=m.serial, TokenCode=m.code(-1), status=403)
    # The next code is fresh.
    assume(sts, other, SerialNumber=m.serial, TokenCode=m.code(1))


def test_serial_must_be_the_callers_device(iam, daemon):
    alice = mfa_user(iam, daemon, ASSUME, prefix="alice")
    bob = mfa_user(iam, daemon, ASSUME, prefix="bob")
    role = make_role(iam, trust=trust_doc(condition=MFA_PRESENT))
    # Bob presents Alice's device with a valid code of it.
    expect_error("AccessDenied", assume, bob.user.client(), role, SerialNumber=alice.serial, TokenCode=alice.code(), status=403)
    # An unknown serial.
    fake = f"arn:aws:iam::{ACCOUNT}:mfa/nosuchdevice"
    expect_error("AccessDenied", assume, bob.user.client(), role, SerialNumber=fake, TokenCode=bob.code(), status=403)


def test_token_code_is_validated(iam, daemon):
    m = mfa_user(iam, daemon, ASSUME)
    role = make_role(iam, trust=trust_doc(condition=MFA_PRESENT))
    # tokenCodeType: exactly 6 digits.
    expect_error("ValidationError", assume, m.user.client(), role, SerialNumber=m.serial, TokenCode="12345", names=["tokenCode"], status=400)
    expect_error("ValidationError", assume, m.user.client(), role, SerialNumber=m.serial, TokenCode="12345a", names=["tokenCode"], status=400)


def test_mfa_context_in_the_role_session(iam, daemon):
    m = mfa_user(iam, daemon, ASSUME)
    role = make_role(iam, MFA_LIST_ROLES)  # no MFA needed to assume it
    with_mfa = assume(m.user.client(), role, SerialNumber=m.serial, TokenCode=m.code())
    session_client(daemon, with_mfa["Credentials"], "iam").list_roles(MaxItems=1)
    without = assume(m.user.client(), role)
    expect_error("AccessDenied", session_client(daemon, without["Credentials"], "iam").list_roles, status=403)


def test_get_session_token_with_mfa(iam, daemon):
    m = mfa_user(iam, daemon, ASSUME, allow("iam:ListUsers"))
    role = make_role(iam, trust=trust_doc(condition=MFA_PRESENT))
    sts = m.user.client()
    creds = sts.get_session_token(SerialNumber=m.serial, TokenCode=m.code())["Credentials"]
    # An MFA session may call IAM as the user.
    session_client(daemon, creds, "iam").list_users(MaxItems=1)
    # It satisfies an MFA trust condition on AssumeRole (the aws-vault way).
    r = assume(session_client(daemon, creds), role, "via-gst")
    assert r["AssumedRoleUser"]["Arn"].endswith(f"/{role['RoleName']}/via-gst")

    # The code cannot be used again; a session without MFA cannot assume it.
    expect_error("AccessDenied", sts.get_session_token, SerialNumber=m.serial, TokenCode=m.code(), status=403)
    plain = sts.get_session_token()["Credentials"]
    expect_error("AccessDenied", assume, session_client(daemon, plain), role, status=403)
    wrong = totp(m.seed, m.step + 5)
    expect_error("AccessDenied", sts.get_session_token, SerialNumber=m.serial, TokenCode=wrong, status=403)
