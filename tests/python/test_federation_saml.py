"""AssumeRoleWithSAML against a real IdP: pysaml2 (with Debian's xmlsec1)
signs the responses at response level, at assertion level, or both, and
encrypts assertions for the broker's SP key; boto3 sends them unsigned, as
the SDK does. Then the session's own calls, trust conditions on `saml:*`
keys, session tags as `aws:PrincipalTag/*`, the claim mapping — and hostile
documents, each refused with its code and no session minted (the role's
RoleLastUsed stays empty: the core records a use only after minting).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import tempfile
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from saml_idp import AES128_GCM, ATTR, OTHER_SP, RECIPIENT, IdP, b64
from support import ACCOUNT, REGION, Daemon, allow, expect_error, policy, uniq

PROVIDER = "pysaml-idp"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:saml-provider/{PROVIDER}"


@pytest.fixture(scope="module")
def idp():
    tmp = tempfile.TemporaryDirectory(prefix="stsd-saml-")
    yield IdP(Path(tmp.name))
    tmp.cleanup()


@pytest.fixture(scope="module")
def daemon(idp):
    extra = f"""
[[federation.providers]]
arn = "{PROVIDER_ARN}"
saml_private_key_file = "{idp.sp_key}"
[federation.providers.claims]
tags = {{ department = "department" }}
keys = {{ department = "department" }}
"""
    d = Daemon(extra_config=extra).start()
    d.client("iam").create_saml_provider(Name=PROVIDER, SAMLMetadataDocument=idp.metadata())
    yield d
    d.close()


@pytest.fixture(scope="module")
def iam(daemon):
    return daemon.client("iam")


@pytest.fixture(scope="module")
def anon(daemon):
    """An STS client with no credentials: AssumeRoleWithSAML is unsigned."""
    return boto3.session.Session(region_name=REGION).client(
        "sts",
        endpoint_url=daemon.endpoint,
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}, parameter_validation=False),
    )


def saml_trust(conditions: dict | None = None, tags: bool = True) -> str:
    actions = ["sts:AssumeRoleWithSAML"] + (["sts:TagSession", "sts:SetSourceIdentity"] if tags else [])
    statement = {"Effect": "Allow", "Principal": {"Federated": PROVIDER_ARN}, "Action": actions}
    if conditions:
        statement["Condition"] = conditions
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def make_role(iam, trust: str, permissions: str | None = None) -> str:
    name = uniq("saml-role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    if permissions:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=permissions)
    return arn


def assume(anon, role_arn: str, xml: str, **kw):
    return anon.assume_role_with_saml(RoleArn=role_arn, PrincipalArn=PROVIDER_ARN, SAMLAssertion=b64(xml), **kw)


def session_client(daemon, result, service="sts"):
    c = result["Credentials"]
    return daemon.client(service, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


@pytest.mark.parametrize("mode", ["response", "assertion", "both", "encrypted", "encrypted-gcm"])
def test_signed_responses_mint_a_role_session(daemon, iam, anon, idp, mode):
    role = make_role(iam, saml_trust({"StringEquals": {"saml:aud": RECIPIENT}}))
    enc = {"encryption": AES128_GCM} if mode == "encrypted-gcm" else {}
    xml = idp.response(role, PROVIDER_ARN, mode=mode.split("-")[0], **enc)
    r = assume(anon, role, xml, DurationSeconds=900)
    name = role.split("/")[-1]
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/alice"
    assert r["Subject"] == "alice@example.org"
    assert r["SubjectType"] == "persistent"
    assert r["Issuer"] == idp.entity_id
    assert r["Audience"] == RECIPIENT
    digest = hashlib.sha1(f"{idp.entity_id}{ACCOUNT}/{PROVIDER}".encode()).digest()
    assert r["NameQualifier"] == base64.b64encode(digest).decode()
    me = session_client(daemon, r).get_caller_identity()
    assert me["Arn"] == r["AssumedRoleUser"]["Arn"]
    assert me["UserId"] == r["AssumedRoleUser"]["AssumedRoleId"]


def test_role_attribute_in_either_order_and_durations(iam, anon, idp):
    role = make_role(iam, saml_trust())
    xml = idp.response(
        role, PROVIDER_ARN, role_value=f"{PROVIDER_ARN},{role}", attributes={ATTR + "SessionDuration": ["1000"]}
    )
    r = assume(anon, role, xml)
    # SessionDuration (1000 s) shortens the default hour.
    left = r["Credentials"]["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
    assert 900 < left.total_seconds() <= 1000


def test_trust_conditions_on_saml_keys(iam, anon, idp):
    role = make_role(iam, saml_trust({"StringEquals": {"saml:sub": "bob@example.org", "saml:doc": f"{ACCOUNT}/{PROVIDER}"}}))
    assert assume(anon, role, idp.response(role, PROVIDER_ARN, subject="bob@example.org"))["Subject"] == "bob@example.org"
    expect_error("AccessDenied", assume, anon, role, idp.response(role, PROVIDER_ARN), status=403)
    # The Role attribute must pair the requested role with the provider.
    other = make_role(iam, saml_trust())
    expect_error("AccessDenied", assume, anon, other, idp.response(role, PROVIDER_ARN), status=403)


def test_session_tags_and_mapped_claims_are_principal_tags(daemon, iam, anon, idp):
    permissions = policy(
        {
            "Effect": "Allow",
            "Action": "iam:ListRoles",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue", "aws:PrincipalTag/department": "eng"}},
        }
    )
    role = make_role(iam, saml_trust({"StringEquals": {"saml:department": "eng"}}), permissions)
    attrs = {ATTR + "PrincipalTag:team": ["blue"], "department": ["eng"], ATTR + "SourceIdentity": ["alice"]}
    r = assume(anon, role, idp.response(role, PROVIDER_ARN, attributes=attrs))
    assert r["SourceIdentity"] == "alice"
    session_client(daemon, r, "iam").list_roles()
    attrs[ATTR + "PrincipalTag:team"] = ["red"]
    r = assume(anon, role, idp.response(role, PROVIDER_ARN, attributes=attrs))
    expect_error("AccessDenied", session_client(daemon, r, "iam").list_roles)
    # Tags need sts:TagSession in the trust policy.
    bare = make_role(iam, saml_trust(tags=False))
    expect_error("AccessDenied", assume, anon, bare, idp.response(bare, PROVIDER_ARN, attributes=attrs))


# --- hostile input ------------------------------------------------------------


def span(xml: str, start: str, end: str) -> tuple[int, int]:
    a = xml.index(start)
    return a, xml.index(end, a) + len(end)


def assertion_of(xml: str) -> tuple[int, int]:
    return span(xml, "<ns1:Assertion ", "</ns1:Assertion>")


@pytest.fixture(scope="module")
def target(iam):
    """A role every hostile document names; it must never be used."""
    name = uniq("saml-target")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=saml_trust())
    yield f"arn:aws:iam::{ACCOUNT}:role/{name}"
    assert "RoleLastUsed" not in iam.get_role(RoleName=name)["Role"] or not iam.get_role(RoleName=name)["Role"][
        "RoleLastUsed"
    ], "a hostile document minted a session"


def evil_assertion(idp, role) -> str:
    xml = idp.response(role, PROVIDER_ARN, mode="unsigned", subject="admin@example.org")
    a, b = assertion_of(xml)
    return xml[a:b].replace('ID="', 'ID="evil-', 1)


def wrapping_variants(idp, role) -> dict[str, str]:
    signed = idp.response(role, PROVIDER_ARN, mode="assertion")
    a, b = assertion_of(signed)
    inner = signed[a:b]
    evil = evil_assertion(idp, role)
    sig_a, sig_b = span(inner, "<ns2:Signature", "</ns2:Signature>")
    signature = inner[sig_a:sig_b]
    inner_id = inner.split('ID="', 1)[1].split('"', 1)[0]
    evil_id = evil.split('ID="', 1)[1].split('"', 1)[0]
    return {
        "beside-before": signed[:a] + evil + signed[a:],
        "beside-after": signed[:b] + evil + signed[b:],
        "wrapping": signed[:a] + evil.replace("<ns1:Subject>", "<ns1:Subject>" + inner, 1) + signed[b:],
        "moved-signature": signed[:a]
        + "<ns0:Extensions>" + inner.replace(signature, "") + "</ns0:Extensions>"
        + evil.replace("</ns1:Issuer>", "</ns1:Issuer>" + signature, 1)
        + signed[b:],
        "duplicated-id": signed[:a] + evil.replace(evil_id, inner_id) + signed[a:],
    }


@pytest.mark.parametrize("variant", ["beside-before", "beside-after", "wrapping", "moved-signature", "duplicated-id"])
def test_signature_wrapping_is_refused(anon, idp, target, variant):
    xml = wrapping_variants(idp, target)[variant]
    expect_error("InvalidIdentityToken", assume, anon, target, xml, status=400)


def test_unsigned_and_foreign_signatures_are_refused(anon, idp, target):
    msg = expect_error("InvalidIdentityToken", assume, anon, target, idp.response(target, PROVIDER_ARN, mode="unsigned"))
    assert msg == "Response signature invalid"
    with tempfile.TemporaryDirectory() as d:
        other = IdP(Path(d), name="other")
        expect_error("InvalidIdentityToken", assume, anon, target, other.response(target, PROVIDER_ARN, mode="assertion"))
    signed = idp.response(target, PROVIDER_ARN, mode="response")
    expect_error("InvalidIdentityToken", assume, anon, target, signed.replace("alice@example.org", "admin@example.org"))


def test_comment_in_name_id_neither_truncates_nor_impersonates(iam, anon, idp):
    role = make_role(iam, saml_trust({"StringEquals": {"saml:sub": "admin@example.org"}}))
    xml = idp.response(role, PROVIDER_ARN, mode="assertion", subject="admin@example.org.evil.example")
    injected = xml.replace("admin@example.org.evil.example<", "admin@example.org<!---->.evil.example<", 1)
    assert injected != xml
    expect_error("AccessDenied", assume, anon, role, injected, status=403)
    open_role = make_role(iam, saml_trust())
    xml = idp.response(open_role, PROVIDER_ARN, mode="assertion", subject="admin@example.org.evil.example")
    injected = xml.replace("admin@example.org.evil.example<", "admin@example.org<!---->.evil.example<", 1)
    assert assume(anon, open_role, injected)["Subject"] == "admin@example.org.evil.example"


def test_audience_recipient_and_expiry(anon, idp, target):
    expect_error("InvalidIdentityToken", assume, anon, target, idp.response(target, PROVIDER_ARN, audience=OTHER_SP),
                 names=["audience"])
    expect_error("InvalidIdentityToken", assume, anon, target,
                 idp.response(target, PROVIDER_ARN, recipient="https://evil.example/saml"), names=["recipient"])
    # The same IdP keys, issuing assertions that ended 10 minutes ago.
    expired = IdP(idp.dir, lifetime_minutes=-10).response(target, PROVIDER_ARN)
    expect_error("ExpiredTokenException", assume, anon, target, expired, status=400)


def test_replayed_assertion_is_refused(iam, anon, idp):
    role = make_role(iam, saml_trust())
    xml = idp.response(role, PROVIDER_ARN)
    assume(anon, role, xml)
    expect_error("InvalidIdentityToken", assume, anon, role, xml, names=["already been used"])


def test_dtds_entities_and_size(anon, idp, target):
    signed = idp.response(target, PROVIDER_ARN, mode="assertion")
    laughs = '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    bomb = signed.replace("?>", "?>" + laughs, 1).replace("alice@example.org<", "&c;<", 1)
    expect_error("InvalidIdentityToken", assume, anon, target, bomb)
    xxe = signed.replace("?>", '?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', 1).replace(
        "alice@example.org<", "&x;<", 1
    )
    expect_error("InvalidIdentityToken", assume, anon, target, xxe)
    huge = signed.replace("alice@example.org<", "a" * 80_000 + "<", 1)
    expect_error("ValidationError", assume, anon, target, huge, names=["sAMLAssertion"])
    expect_error(
        "InvalidIdentityToken",
        anon.assume_role_with_saml,
        RoleArn=target,
        PrincipalArn=PROVIDER_ARN,
        SAMLAssertion="not base64!",
    )
