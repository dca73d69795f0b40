"""The AWS CLI for the IAM actions test_cli.py does not reach: group and
role policies (inline and attached), policy versions, boundaries on roles,
tags on every taggable kind, provider updates, virtual MFA housekeeping and
ListEntitiesForPolicy. Together the two files drive every IAM action stsd
serves through the CLI."""

from support import ACCOUNT, allow, current_step, policy, saml_metadata, totp, trust, uniq

THUMB = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def test_group_policies_inline_and_attached(cli):
    g = uniq("cgp")
    cli("create-group", "--group-name", g)
    doc = policy(allow("s3:ListBucket"))
    cli("put-group-policy", "--group-name", g, "--policy-name", "list", "--policy-document", doc)
    assert cli("get-group-policy", "--group-name", g, "--policy-name", "list")["PolicyDocument"]["Statement"][0]["Action"] == "s3:ListBucket"
    assert cli("list-group-policies", "--group-name", g)["PolicyNames"] == ["list"]
    cli("delete-group-policy", "--group-name", g, "--policy-name", "list")
    assert cli("list-group-policies", "--group-name", g)["PolicyNames"] == []

    arn = cli("create-policy", "--policy-name", uniq("cgm"), "--policy-document", doc)["Policy"]["Arn"]
    cli("attach-group-policy", "--group-name", g, "--policy-arn", arn)
    assert [p["PolicyArn"] for p in cli("list-attached-group-policies", "--group-name", g)["AttachedPolicies"]] == [arn]
    assert [x["GroupName"] for x in cli("list-entities-for-policy", "--policy-arn", arn)["PolicyGroups"]] == [g]
    cli("detach-group-policy", "--group-name", g, "--policy-arn", arn)
    assert cli("list-attached-group-policies", "--group-name", g)["AttachedPolicies"] == []

    renamed = uniq("cgr")
    cli("update-group", "--group-name", g, "--new-group-name", renamed, "--new-path", "/teams/")
    assert cli("get-group", "--group-name", renamed)["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/teams/{renamed}"
    cli.error("NoSuchEntity", "get-group", "--group-name", g)


def test_user_inline_policies(cli):
    u = uniq("cup")
    cli("create-user", "--user-name", u)
    cli("put-user-policy", "--user-name", u, "--policy-name", "self", "--policy-document", policy(allow("iam:GetUser")))
    assert cli("get-user-policy", "--user-name", u, "--policy-name", "self")["PolicyName"] == "self"
    assert cli("list-user-policies", "--user-name", u)["PolicyNames"] == ["self"]
    cli("delete-user-policy", "--user-name", u, "--policy-name", "self")
    cli.error("NoSuchEntity", "get-user-policy", "--user-name", u, "--policy-name", "self")


def test_role_policies_boundary_description_and_tags(cli):
    r = uniq("crp")
    cli("create-role", "--role-name", r, "--assume-role-policy-document", trust({"Service": "ec2.amazonaws.com"}))
    arn = cli("create-policy", "--policy-name", uniq("crm"), "--policy-document", policy(allow("s3:GetObject")))["Policy"]["Arn"]
    cli("attach-role-policy", "--role-name", r, "--policy-arn", arn)
    assert [p["PolicyArn"] for p in cli("list-attached-role-policies", "--role-name", r)["AttachedPolicies"]] == [arn]
    cli("detach-role-policy", "--role-name", r, "--policy-arn", arn)
    assert cli("list-attached-role-policies", "--role-name", r)["AttachedPolicies"] == []

    cli("put-role-permissions-boundary", "--role-name", r, "--permissions-boundary", arn)
    assert cli("get-role", "--role-name", r)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    cli("delete-role-permissions-boundary", "--role-name", r)
    assert "PermissionsBoundary" not in cli("get-role", "--role-name", r)["Role"]

    cli("update-role-description", "--role-name", r, "--description", "builds things")
    assert cli("get-role", "--role-name", r)["Role"]["Description"] == "builds things"

    cli("tag-role", "--role-name", r, "--tags", "Key=env,Value=prod")
    assert cli("list-role-tags", "--role-name", r)["Tags"] == [{"Key": "env", "Value": "prod"}]
    cli("untag-role", "--role-name", r, "--tag-keys", "env")
    assert cli("list-role-tags", "--role-name", r)["Tags"] == []


def test_policy_versions_and_tags(cli):
    arn = cli("create-policy", "--policy-name", uniq("cpv"), "--policy-document", policy(allow("s3:GetObject")))["Policy"]["Arn"]
    cli("create-policy-version", "--policy-arn", arn, "--policy-document", policy(allow("s3:PutObject")))
    v1 = cli("get-policy-version", "--policy-arn", arn, "--version-id", "v1")["PolicyVersion"]
    assert v1["IsDefaultVersion"] is True and v1["Document"]["Statement"][0]["Action"] == "s3:GetObject"
    cli("set-default-policy-version", "--policy-arn", arn, "--version-id", "v2")
    assert cli("get-policy", "--policy-arn", arn)["Policy"]["DefaultVersionId"] == "v2"

    cli("tag-policy", "--policy-arn", arn, "--tags", "Key=owner,Value=sec")
    assert cli("list-policy-tags", "--policy-arn", arn)["Tags"] == [{"Key": "owner", "Value": "sec"}]
    cli("untag-policy", "--policy-arn", arn, "--tag-keys", "owner")
    assert cli("list-policy-tags", "--policy-arn", arn)["Tags"] == []


def test_provider_updates_and_tags(cli, tmp_path):
    host = f"{uniq('clio')}.example.com"
    arn = cli(
        "create-open-id-connect-provider",
        "--url", f"https://{host}",
        "--client-id-list", "sts.amazonaws.com",
        "--thumbprint-list", THUMB,
    )["OpenIDConnectProviderArn"]
    cli("add-client-id-to-open-id-connect-provider", "--open-id-connect-provider-arn", arn, "--client-id", "web-app")
    cli("remove-client-id-from-open-id-connect-provider", "--open-id-connect-provider-arn", arn, "--client-id", "sts.amazonaws.com")
    cli("update-open-id-connect-provider-thumbprint", "--open-id-connect-provider-arn", arn, "--thumbprint-list", "b" * 40)
    got = cli("get-open-id-connect-provider", "--open-id-connect-provider-arn", arn)
    assert (got["ClientIDList"], got["ThumbprintList"]) == (["web-app"], ["b" * 40])
    cli("tag-open-id-connect-provider", "--open-id-connect-provider-arn", arn, "--tags", "Key=k,Value=v")
    assert cli("list-open-id-connect-provider-tags", "--open-id-connect-provider-arn", arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    cli("untag-open-id-connect-provider", "--open-id-connect-provider-arn", arn, "--tag-keys", "k")
    assert cli("list-open-id-connect-provider-tags", "--open-id-connect-provider-arn", arn)["Tags"] == []

    meta = tmp_path / "metadata.xml"
    meta.write_text(saml_metadata())
    sarn = cli("create-saml-provider", "--name", uniq("clis"), "--saml-metadata-document", f"file://{meta}")["SAMLProviderArn"]
    meta.write_text(saml_metadata("https://idp2.example.org/saml"))
    cli("update-saml-provider", "--saml-provider-arn", sarn, "--saml-metadata-document", f"file://{meta}")
    assert "idp2.example.org" in cli("get-saml-provider", "--saml-provider-arn", sarn)["SAMLMetadataDocument"]
    cli("tag-saml-provider", "--saml-provider-arn", sarn, "--tags", "Key=k,Value=v")
    assert cli("list-saml-provider-tags", "--saml-provider-arn", sarn)["Tags"] == [{"Key": "k", "Value": "v"}]
    cli("untag-saml-provider", "--saml-provider-arn", sarn, "--tag-keys", "k")
    assert cli("list-saml-provider-tags", "--saml-provider-arn", sarn)["Tags"] == []


def test_virtual_mfa_housekeeping(cli, tmp_path):
    u, name = uniq("cmh"), uniq("cmhd")
    cli("create-user", "--user-name", u)
    seed_file = tmp_path / "seed.txt"
    dev = cli(
        "create-virtual-mfa-device",
        "--virtual-mfa-device-name", name,
        "--outfile", seed_file,
        "--bootstrap-method", "Base32StringSeed",
    )["VirtualMFADevice"]
    serial, seed = dev["SerialNumber"], seed_file.read_text().strip()
    cli("tag-mfa-device", "--serial-number", serial, "--tags", "Key=k,Value=v")
    assert cli("list-mfa-device-tags", "--serial-number", serial)["Tags"] == [{"Key": "k", "Value": "v"}]
    cli("untag-mfa-device", "--serial-number", serial, "--tag-keys", "k")
    assert cli("list-mfa-device-tags", "--serial-number", serial)["Tags"] == []
    unassigned = cli("list-virtual-mfa-devices", "--assignment-status", "Unassigned")["VirtualMFADevices"]
    assert serial in [d["SerialNumber"] for d in unassigned]

    step = current_step(margin=12)  # two slow CLI starts follow
    cli(
        "enable-mfa-device",
        "--user-name", u,
        "--serial-number", serial,
        "--authentication-code1", totp(seed, step - 1),
        "--authentication-code2", totp(seed, step),
    )
    cli(
        "resync-mfa-device",
        "--user-name", u,
        "--serial-number", serial,
        "--authentication-code1", totp(seed, step + 2),
        "--authentication-code2", totp(seed, step + 3),
    )
    cli.error("DeleteConflict", "delete-virtual-mfa-device", "--serial-number", serial)
    cli("deactivate-mfa-device", "--user-name", u, "--serial-number", serial)
    cli("delete-virtual-mfa-device", "--serial-number", serial)
    assert serial not in [d["SerialNumber"] for d in cli("list-virtual-mfa-devices")["VirtualMFADevices"]]
