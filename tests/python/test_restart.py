"""Durability: what was created survives SIGTERM + restart on the same data
dir; SIGKILL mid-write loses no acknowledged write. Each test starts its
own daemon."""

import threading
import time

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from support import Daemon, allow, expect_error, current_step, policy, saml_metadata, totp, trust, uniq


@pytest.fixture
def fresh():
    d = Daemon().start()
    yield d
    d.close()


def restart(d: Daemon, how: str = "term") -> Daemon:
    if how == "term":
        code = d.stop()
        assert code == 0, f"stsd exited {code} on SIGTERM\n{d.logs()}"
    else:
        assert d.kill() == -9
    # Same data dir, master key and log files; the temp dir lives on.
    return Daemon(data_dir=d.data_dir, master_key=d.master_key, tmp=d.tmp).start()


def test_users_groups_keys_survive_sigterm(fresh):
    iam = fresh.client()
    user, group = uniq("durable"), uniq("durgrp")
    u = iam.create_user(UserName=user, Path="/keep/", Tags=[{"Key": "a", "Value": "b"}])["User"]
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    k = iam.create_access_key(UserName=user)["AccessKey"]
    inactive = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName=user, AccessKeyId=inactive, Status="Inactive")

    d2 = restart(fresh)
    try:
        iam = d2.client()
        got = iam.get_user(UserName=user)["User"]
        assert (got["UserId"], got["Arn"], got["CreateDate"]) == (u["UserId"], u["Arn"], u["CreateDate"])
        assert got["Tags"] == [{"Key": "a", "Value": "b"}]
        assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
        keys = {m["AccessKeyId"]: m["Status"] for m in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
        assert keys == {k["AccessKeyId"]: "Active", inactive: "Inactive"}
        # The sealed secret still verifies signatures after the restart.
        me = d2.client("sts", k["AccessKeyId"], k["SecretAccessKey"]).get_caller_identity()
        assert me["Arn"] == u["Arn"]
        expect_error("InvalidClientTokenId", d2.client("sts", inactive, k["SecretAccessKey"]).get_caller_identity)
    finally:
        d2.close()


def test_roles_policies_providers_mfa_survive_sigterm(fresh):
    iam = fresh.client()
    user = uniq("trustee")
    uarn = iam.create_user(UserName=user)["User"]["Arn"]
    role = uniq("durrole")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"AWS": uarn}), MaxSessionDuration=7200)
    mp = iam.create_policy(PolicyName=uniq("durmp"), PolicyDocument=policy(allow("s3:GetObject")))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=mp, PolicyDocument=policy(allow("s3:PutObject")), SetAsDefault=True)
    iam.attach_role_policy(RoleName=role, PolicyArn=mp)
    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=mp)
    iam.put_role_policy(RoleName=role, PolicyName="inline", PolicyDocument=policy(allow("sqs:*")))
    oidc = iam.create_open_id_connect_provider(
        Url=f"https://{uniq('dur')}.example.com", ClientIDList=["c"], ThumbprintList=["c" * 40]
    )["OpenIDConnectProviderArn"]
    saml = iam.create_saml_provider(SAMLMetadataDocument=saml_metadata(), Name=uniq("dursaml"))["SAMLProviderArn"]
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=uniq("durmfa"))["VirtualMFADevice"]
    seed = dev["Base32StringSeed"].decode()
    step = current_step()
    iam.enable_mfa_device(
        UserName=user, SerialNumber=dev["SerialNumber"], AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step)
    )

    d2 = restart(fresh)
    try:
        iam = d2.client()
        r = iam.get_role(RoleName=role)["Role"]
        assert r["MaxSessionDuration"] == 7200
        assert r["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"] in (uarn, [uarn])
        assert [a["PolicyArn"] for a in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]] == [mp]
        assert iam.get_policy(PolicyArn=mp)["Policy"]["DefaultVersionId"] == "v2"
        assert iam.get_role_policy(RoleName=role, PolicyName="inline")["PolicyDocument"]["Statement"][0]["Action"] == "sqs:*"
        assert iam.get_user(UserName=user)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == mp
        assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc)["ClientIDList"] == ["c"]
        assert "EntityDescriptor" in iam.get_saml_provider(SAMLProviderArn=saml)["SAMLMetadataDocument"]
        assert [m["SerialNumber"] for m in iam.list_mfa_devices(UserName=user)["MFADevices"]] == [dev["SerialNumber"]]
    finally:
        d2.close()


def test_sigkill_mid_write_loses_no_acknowledged_create(fresh):
    prefix = f"/{uniq('kill')}/"
    acked: list[str] = []
    stop = threading.Event()
    errors: list[str] = []

    def hammer():
        c = fresh.client()
        i = 0
        while not stop.is_set():
            name = f"k{i}-{uniq('u')}"
            i += 1
            try:
                c.create_user(UserName=name, Path=prefix)
            except (ClientError, BotoCoreError, OSError) as e:
                errors.append(repr(e))
                if not fresh.alive():
                    return
                continue
            acked.append(name)

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(acked) < 40 and time.monotonic() < deadline and not (len(errors) > 50 and not acked):
        time.sleep(0.02)
    snapshot_before_kill = len(acked)
    d2 = restart(fresh, how="kill")
    stop.set()
    for t in threads:
        t.join(30)
    assert snapshot_before_kill >= 10, f"only {snapshot_before_kill} creates in 10 s; errors: {errors[:3]}"
    try:
        iam = d2.client()
        present = {
            u["UserName"] for p in iam.get_paginator("list_users").paginate(PathPrefix=prefix) for u in p["Users"]
        }
        lost = sorted(set(acked) - present)
        assert not lost, f"{len(lost)} of {len(acked)} acknowledged users lost after SIGKILL: {lost[:5]}"
        # The store is usable after the crash.
        iam.create_user(UserName=uniq("after"), Path=prefix)
    finally:
        d2.close()


def test_sigkill_loses_no_issued_session_record(fresh, tmp_path):
    """The default issued-session log (`relaxed`) answers a mint once its
    record is written: a SIGKILL right after loses none of them, and
    Sessions.List on the restarted daemon shows every one."""
    import grpc
    from botocore.credentials import Credentials

    from grpc_support import framed, generate, signed_metadata
    from stsutil import assume, assumer, make_role, trust_doc
    from support import ROOT_KEY_ID, ROOT_SECRET

    iam = fresh.client()
    me = assumer(iam, fresh)
    role = make_role(iam, allow("sts:GetCallerIdentity"), trust=trust_doc())
    minted = {assume(me.client(), role, f"s{i}")["Credentials"]["AccessKeyId"] for i in range(25)}
    d2 = restart(fresh, how="kill")
    try:
        pb, pb_grpc = generate(tmp_path, "sessions_pb2", "sessions_pb2_grpc")
        authority = f"127.0.0.1:{d2.port}"
        stub = pb_grpc.SessionsStub(grpc.insecure_channel(authority))
        request = pb.ListRequest(role_arn=role["Arn"])
        md = signed_metadata(Credentials(ROOT_KEY_ID, ROOT_SECRET), authority, "/stsd.v1.Sessions/List", framed(request))
        listed = {s.access_key_id for s in stub.List(request, metadata=md, timeout=30).sessions}
        assert listed == minted
    finally:
        d2.close()
