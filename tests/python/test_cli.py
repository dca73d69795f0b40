"""The AWS CLI (v1, from PyPI) against stsd: a representative
create/get/list/delete path of every area, plus simulate-custom-policy."""

import os

import pytest

from support import ACCOUNT, allow, current_step, policy, saml_metadata, totp, trust, uniq


def test_users_and_pagination(cli):
    prefix = f"/{uniq('cli')}/"
    names = sorted(uniq("cu") for _ in range(3))
    for n in names:
        u = cli("create-user", "--user-name", n, "--path", prefix)["User"]
        assert u["Arn"] == f"arn:aws:iam::{ACCOUNT}:user{prefix}{n}"
    assert cli("get-user", "--user-name", names[0])["User"]["UserName"] == names[0]
    # --page-size 1 makes the CLI follow Marker through every page.
    listed = cli("list-users", "--path-prefix", prefix, "--page-size", "1")["Users"]
    assert sorted(u["UserName"] for u in listed) == names
    cli("update-user", "--user-name", names[0], "--new-path", "/moved/")
    assert cli("get-user", "--user-name", names[0])["User"]["Path"] == "/moved/"
    assert cli("delete-user", "--user-name", names[0]) is None
    err = cli.error("NoSuchEntity", "get-user", "--user-name", names[0])
    assert names[0] in err


def test_groups(cli):
    g, u = uniq("cg"), uniq("cgu")
    cli("create-group", "--group-name", g)
    cli("create-user", "--user-name", u)
    cli("add-user-to-group", "--group-name", g, "--user-name", u)
    assert [x["UserName"] for x in cli("get-group", "--group-name", g)["Users"]] == [u]
    assert [x["GroupName"] for x in cli("list-groups-for-user", "--user-name", u)["Groups"]] == [g]
    assert g in [x["GroupName"] for x in cli("list-groups")["Groups"]]
    cli.error("DeleteConflict", "delete-group", "--group-name", g)
    cli("remove-user-from-group", "--group-name", g, "--user-name", u)
    cli("delete-group", "--group-name", g)


def test_access_keys_and_using_them(cli):
    u = uniq("cku")
    cli("create-user", "--user-name", u)
    cli("put-user-policy", "--user-name", u, "--policy-name", "self", "--policy-document", policy(allow("iam:GetUser")))
    k = cli("create-access-key", "--user-name", u)["AccessKey"]
    assert k["Status"] == "Active" and len(k["SecretAccessKey"]) == 40
    assert [m["AccessKeyId"] for m in cli("list-access-keys", "--user-name", u)["AccessKeyMetadata"]] == [k["AccessKeyId"]]
    # The CLI, signed with the new key.
    me = cli("get-user", key_id=k["AccessKeyId"], secret=k["SecretAccessKey"])["User"]
    assert me["UserName"] == u
    cli.error("AccessDenied", "list-users", key_id=k["AccessKeyId"], secret=k["SecretAccessKey"])
    last = cli("get-access-key-last-used", "--access-key-id", k["AccessKeyId"])["AccessKeyLastUsed"]
    assert "LastUsedDate" in last
    cli("update-access-key", "--user-name", u, "--access-key-id", k["AccessKeyId"], "--status", "Inactive")
    cli.error("InvalidClientTokenId", "get-user", key_id=k["AccessKeyId"], secret=k["SecretAccessKey"])
    cli("delete-access-key", "--user-name", u, "--access-key-id", k["AccessKeyId"])
    assert cli("list-access-keys", "--user-name", u)["AccessKeyMetadata"] == []
    cli.error("SignatureDoesNotMatch", "list-users", secret="z" * 40)


def test_roles(cli):
    r = uniq("cr")
    u = cli("create-user", "--user-name", uniq("crt"))["User"]
    created = cli(
        "create-role",
        "--role-name", r,
        "--assume-role-policy-document", trust({"AWS": u["Arn"]}),
        "--description", "from the cli",
        "--max-session-duration", "7200",
    )["Role"]
    assert created["RoleId"].startswith("AROA")
    got = cli("get-role", "--role-name", r)["Role"]
    assert got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"] in (u["Arn"], [u["Arn"]])
    assert got["MaxSessionDuration"] == 7200
    cli("update-role", "--role-name", r, "--max-session-duration", "3600")
    cli("update-assume-role-policy", "--role-name", r, "--policy-document", trust({"Service": "ec2.amazonaws.com"}))
    got = cli("get-role", "--role-name", r)["Role"]
    assert got["MaxSessionDuration"] == 3600
    assert got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert r in [x["RoleName"] for x in cli("list-roles")["Roles"]]
    cli.error(
        "MalformedPolicyDocument",
        "update-assume-role-policy", "--role-name", r,
        "--policy-document", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/{uniq('nobody')}"}),
    )
    cli("delete-role", "--role-name", r)
    cli.error("NoSuchEntity", "get-role", "--role-name", r)


def test_inline_policies(cli):
    r = uniq("cir")
    cli("create-role", "--role-name", r, "--assume-role-policy-document", trust({"Service": "ec2.amazonaws.com"}))
    doc = policy(allow("s3:GetObject", "arn:aws:s3:::b/*"))
    cli("put-role-policy", "--role-name", r, "--policy-name", "read", "--policy-document", doc)
    got = cli("get-role-policy", "--role-name", r, "--policy-name", "read")
    assert got["PolicyDocument"]["Statement"][0]["Action"] == "s3:GetObject"
    assert cli("list-role-policies", "--role-name", r)["PolicyNames"] == ["read"]
    cli.error("MalformedPolicyDocument", "put-role-policy", "--role-name", r, "--policy-name", "bad", "--policy-document", "nope")
    cli("delete-role-policy", "--role-name", r, "--policy-name", "read")
    assert cli("list-role-policies", "--role-name", r)["PolicyNames"] == []


def test_managed_policies_and_boundary(cli):
    name, u = uniq("cmp"), uniq("cmu")
    arn = cli("create-policy", "--policy-name", name, "--policy-document", policy(allow("s3:GetObject")))["Policy"]["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/{name}"
    v = cli("create-policy-version", "--policy-arn", arn, "--policy-document", policy(allow("s3:*")), "--set-as-default")
    assert v["PolicyVersion"]["VersionId"] == "v2"
    assert len(cli("list-policy-versions", "--policy-arn", arn)["Versions"]) == 2
    cli("create-user", "--user-name", u)
    cli("attach-user-policy", "--user-name", u, "--policy-arn", arn)
    assert [p["PolicyArn"] for p in cli("list-attached-user-policies", "--user-name", u)["AttachedPolicies"]] == [arn]
    assert arn in [p["Arn"] for p in cli("list-policies", "--scope", "Local", "--only-attached")["Policies"]]
    cli("put-user-permissions-boundary", "--user-name", u, "--permissions-boundary", arn)
    assert cli("get-user", "--user-name", u)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    cli("delete-user-permissions-boundary", "--user-name", u)
    cli.error("DeleteConflict", "delete-policy", "--policy-arn", arn)
    cli("detach-user-policy", "--user-name", u, "--policy-arn", arn)
    cli("delete-policy-version", "--policy-arn", arn, "--version-id", "v1")
    cli("delete-policy", "--policy-arn", arn)
    cli.error("NoSuchEntity", "get-policy", "--policy-arn", arn)


def test_virtual_mfa(cli, tmp_path):
    u, name = uniq("cmfa"), uniq("cdev")
    cli("create-user", "--user-name", u)
    seed_file = tmp_path / "seed.txt"
    dev = cli(
        "create-virtual-mfa-device",
        "--virtual-mfa-device-name", name,
        "--outfile", seed_file,
        "--bootstrap-method", "Base32StringSeed",
    )["VirtualMFADevice"]
    seed = seed_file.read_text().strip()
    png_file = tmp_path / "qr.png"
    cli("create-virtual-mfa-device", "--virtual-mfa-device-name", uniq("cpng"), "--outfile", png_file, "--bootstrap-method", "QRCodePNG")
    assert png_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    step = current_step(margin=6)  # the CLI starts slowly
    cli(
        "enable-mfa-device",
        "--user-name", u,
        "--serial-number", dev["SerialNumber"],
        "--authentication-code1", totp(seed, step - 1),
        "--authentication-code2", totp(seed, step),
    )
    assert [m["SerialNumber"] for m in cli("list-mfa-devices", "--user-name", u)["MFADevices"]] == [dev["SerialNumber"]]
    cli("deactivate-mfa-device", "--user-name", u, "--serial-number", dev["SerialNumber"])
    assert cli("list-mfa-devices", "--user-name", u)["MFADevices"] == []


def test_providers(cli, tmp_path):
    host = f"{uniq('cli')}.example.com"
    arn = cli(
        "create-open-id-connect-provider",
        "--url", f"https://{host}",
        "--client-id-list", "sts.amazonaws.com",
        "--thumbprint-list", "d" * 40,
    )["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"
    assert cli("get-open-id-connect-provider", "--open-id-connect-provider-arn", arn)["Url"] == host
    assert arn in [p["Arn"] for p in cli("list-open-id-connect-providers")["OpenIDConnectProviderList"]]
    cli("delete-open-id-connect-provider", "--open-id-connect-provider-arn", arn)
    cli.error("NoSuchEntity", "get-open-id-connect-provider", "--open-id-connect-provider-arn", arn)

    meta = tmp_path / "metadata.xml"
    meta.write_text(saml_metadata())
    name = uniq("clisaml")
    sarn = cli("create-saml-provider", "--name", name, "--saml-metadata-document", f"file://{meta}")["SAMLProviderArn"]
    assert sarn == f"arn:aws:iam::{ACCOUNT}:saml-provider/{name}"
    assert "EntityDescriptor" in cli("get-saml-provider", "--saml-provider-arn", sarn)["SAMLMetadataDocument"]
    assert sarn in [p["Arn"] for p in cli("list-saml-providers")["SAMLProviderList"]]
    cli("delete-saml-provider", "--saml-provider-arn", sarn)


def test_tags(cli):
    u = uniq("ctag")
    cli("create-user", "--user-name", u)
    cli("tag-user", "--user-name", u, "--tags", "Key=env,Value=dev", "Key=team,Value=core")
    assert sorted(t["Key"] for t in cli("list-user-tags", "--user-name", u)["Tags"]) == ["env", "team"]
    cli("untag-user", "--user-name", u, "--tag-keys", "env")
    assert cli("list-user-tags", "--user-name", u)["Tags"] == [{"Key": "team", "Value": "core"}]


def test_account_authorization_details(cli):
    u = uniq("cad")
    cli("create-user", "--user-name", u)
    got = cli("get-account-authorization-details", "--filter", "User")
    assert u in [x["UserName"] for x in got["UserDetailList"]]


def test_simulate_custom_policy(cli):
    doc = policy(allow("s3:GetObject", "arn:aws:s3:::reports/*"))
    got = cli(
        "simulate-custom-policy",
        "--policy-input-list", doc,
        "--action-names", "s3:GetObject", "s3:PutObject",
        "--resource-arns", "arn:aws:s3:::reports/a.csv",
    )
    assert {r["EvalActionName"]: r["EvalDecision"] for r in got["EvaluationResults"]} == {
        "s3:GetObject": "allowed",
        "s3:PutObject": "implicitDeny",
    }


def test_simulate_principal_policy(cli):
    u = uniq("csp")
    arn = cli("create-user", "--user-name", u)["User"]["Arn"]
    cli("put-user-policy", "--user-name", u, "--policy-name", "p", "--policy-document", policy(allow("sqs:SendMessage")))
    got = cli("simulate-principal-policy", "--policy-source-arn", arn, "--action-names", "sqs:SendMessage", "sqs:DeleteQueue")
    assert {r["EvalActionName"]: r["EvalDecision"] for r in got["EvaluationResults"]} == {
        "sqs:SendMessage": "allowed",
        "sqs:DeleteQueue": "implicitDeny",
    }
