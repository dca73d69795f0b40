"""Virtual MFA: CreateVirtualMFADevice, EnableMFADevice, DeactivateMFADevice,
ListMFADevices. TOTP codes are computed here (RFC 6238), not by stsd."""

import base64
import datetime
import re

import pytest

from support import ACCOUNT, current_step, expect_error, totp, uniq

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_totp_matches_rfc6238_vector():
    # RFC 6238 appendix B, SHA-1, T=59 s: 94287082 (8 digits) -> 287082.
    seed = base64.b32encode(b"12345678901234567890").decode()
    assert totp(seed, 59 // 30) == "287082"
    assert totp(seed, 1111111109 // 30) == "081804"


def create_device(iam, path=None):
    name = uniq("phone")
    kw = {"VirtualMFADeviceName": name}
    if path:
        kw["Path"] = path
    d = iam.create_virtual_mfa_device(**kw)["VirtualMFADevice"]
    return name, d


def seed_of(device) -> str:
    # boto3 base64-decodes the blob: what is left is the Base32 text.
    return device["Base32StringSeed"].decode("ascii")


def test_create_virtual_mfa_device_shape(iam):
    name, d = create_device(iam, path="/mfa/")
    assert d["SerialNumber"] == f"arn:aws:iam::{ACCOUNT}:mfa/mfa/{name}"
    seed = seed_of(d)
    assert re.fullmatch(r"[A-Z2-7]+=*", seed), seed
    assert len(base64.b32decode(seed + "=" * (-len(seed) % 8))) >= 10  # >= 80 bits
    png = d["QRCodePNG"]
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width >= 21 and height >= 21  # a QR code is at least 21x21 modules


def test_duplicate_virtual_device(iam):
    name, _ = create_device(iam)
    expect_error("EntityAlreadyExists", iam.create_virtual_mfa_device, VirtualMFADeviceName=name, names=[name], status=409)


def test_enable_list_deactivate(iam):
    user = uniq("mfauser")
    iam.create_user(UserName=user)
    _, d = create_device(iam)
    serial, seed = d["SerialNumber"], seed_of(d)

    step = current_step()
    iam.enable_mfa_device(
        UserName=user,
        SerialNumber=serial,
        AuthenticationCode1=totp(seed, step - 1),
        AuthenticationCode2=totp(seed, step),
    )
    devices = iam.list_mfa_devices(UserName=user)
    assert devices["IsTruncated"] is False
    assert [m["SerialNumber"] for m in devices["MFADevices"]] == [serial]
    m = devices["MFADevices"][0]
    assert m["UserName"] == user
    assert isinstance(m["EnableDate"], datetime.datetime)

    # A user with an MFA device cannot be deleted.
    expect_error("DeleteConflict", iam.delete_user, UserName=user, status=409)

    # Already enabled: a second enable is refused.
    step = current_step()
    expect_error(
        "EntityAlreadyExists",
        iam.enable_mfa_device,
        UserName=user,
        SerialNumber=serial,
        AuthenticationCode1=totp(seed, step),
        AuthenticationCode2=totp(seed, step + 1),
    )

    iam.deactivate_mfa_device(UserName=user, SerialNumber=serial)
    assert iam.list_mfa_devices(UserName=user)["MFADevices"] == []
    expect_error("NoSuchEntity", iam.deactivate_mfa_device, UserName=user, SerialNumber=serial, names=[serial])


@pytest.mark.parametrize(
    "codes",
    [
        pytest.param(lambda seed, s: ("000000", "000000"), id="zeros"),
        pytest.param(lambda seed, s: (totp(seed, s - 200), totp(seed, s - 199)), id="stale-pair"),
        pytest.param(lambda seed, s: (totp(seed, s), totp(seed, s)), id="same-code-twice"),
        pytest.param(lambda seed, s: (totp(seed, s), totp(seed, s - 1)), id="reversed"),
    ],
)
def test_wrong_codes_are_refused(iam, codes):
    user = uniq("wrong")
    iam.create_user(UserName=user)
    _, d = create_device(iam)
    seed = seed_of(d)
    c1, c2 = codes(seed, current_step())
    if (c1, c2) == (totp(seed, current_step() - 1), totp(seed, current_step())):
        pytest.skip("random seed made the wrong pair right")
    expect_error(
        "InvalidAuthenticationCode",
        iam.enable_mfa_device,
        UserName=user,
        SerialNumber=d["SerialNumber"],
        AuthenticationCode1=c1,
        AuthenticationCode2=c2,
        status=403,
    )
    assert iam.list_mfa_devices(UserName=user)["MFADevices"] == []


def test_enable_errors(iam):
    user = uniq("mfaerr")
    iam.create_user(UserName=user)
    ghost_serial = f"arn:aws:iam::{ACCOUNT}:mfa/{uniq('nodevice')}"
    expect_error(
        "NoSuchEntity",
        iam.enable_mfa_device,
        UserName=user,
        SerialNumber=ghost_serial,
        AuthenticationCode1="123456",
        AuthenticationCode2="234567",
        names=[ghost_serial],
    )
    _, d = create_device(iam)
    ghost_user = uniq("ghost")
    step = current_step()
    seed = seed_of(d)
    expect_error(
        "NoSuchEntity",
        iam.enable_mfa_device,
        UserName=ghost_user,
        SerialNumber=d["SerialNumber"],
        AuthenticationCode1=totp(seed, step - 1),
        AuthenticationCode2=totp(seed, step),
        names=[ghost_user],
    )
    expect_error(
        "ValidationError",
        iam.enable_mfa_device,
        UserName=user,
        SerialNumber=d["SerialNumber"],
        AuthenticationCode1="12345a",
        AuthenticationCode2="1234567",
        names=["authenticationCode"],
    )
    expect_error("NoSuchEntity", iam.list_mfa_devices, UserName=ghost_user, names=[ghost_user])


def test_device_bound_to_one_user(iam):
    a, b = uniq("ua"), uniq("ub")
    iam.create_user(UserName=a)
    iam.create_user(UserName=b)
    _, d = create_device(iam)
    seed = seed_of(d)
    step = current_step()
    iam.enable_mfa_device(
        UserName=a, SerialNumber=d["SerialNumber"], AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step)
    )
    step = current_step()
    expect_error(
        "EntityAlreadyExists",
        iam.enable_mfa_device,
        UserName=b,
        SerialNumber=d["SerialNumber"],
        AuthenticationCode1=totp(seed, step),
        AuthenticationCode2=totp(seed, step + 1),
    )
    assert iam.list_mfa_devices(UserName=b)["MFADevices"] == []


def enable(iam, user, device):
    step = current_step()
    iam.enable_mfa_device(
        UserName=user,
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=totp(seed_of(device), step - 1),
        AuthenticationCode2=totp(seed_of(device), step),
    )
    return step


def test_list_virtual_devices_by_assignment_then_delete(iam):
    user = uniq("lvuser")
    iam.create_user(UserName=user)
    _, assigned = create_device(iam)
    _, spare = create_device(iam)
    enable(iam, user, assigned)

    def serials(status):
        pages = iam.get_paginator("list_virtual_mfa_devices").paginate(
            AssignmentStatus=status, PaginationConfig={"PageSize": 2}
        )
        return {d["SerialNumber"]: d for p in pages for d in p["VirtualMFADevices"]}

    on = serials("Assigned")
    assert assigned["SerialNumber"] in on and spare["SerialNumber"] not in on
    assert on[assigned["SerialNumber"]]["User"]["UserName"] == user
    assert isinstance(on[assigned["SerialNumber"]]["EnableDate"], datetime.datetime)
    off = serials("Unassigned")
    assert spare["SerialNumber"] in off and assigned["SerialNumber"] not in off
    assert "User" not in off[spare["SerialNumber"]]
    both = serials("Any")
    assert {assigned["SerialNumber"], spare["SerialNumber"]} <= set(both)
    # The seed is returned by CreateVirtualMFADevice only.
    assert all("Base32StringSeed" not in d for d in both.values())

    expect_error("DeleteConflict", iam.delete_virtual_mfa_device, SerialNumber=assigned["SerialNumber"], status=409)
    iam.deactivate_mfa_device(UserName=user, SerialNumber=assigned["SerialNumber"])
    for d in (assigned, spare):
        iam.delete_virtual_mfa_device(SerialNumber=d["SerialNumber"])
    assert not {assigned["SerialNumber"], spare["SerialNumber"]} & set(serials("Any"))
    expect_error("NoSuchEntity", iam.delete_virtual_mfa_device, SerialNumber=spare["SerialNumber"], status=404)


def test_resync_accepts_a_drifted_consecutive_pair(iam):
    user = uniq("resync")
    iam.create_user(UserName=user)
    _, d = create_device(iam)
    step = enable(iam, user, d)
    seed, serial = seed_of(d), d["SerialNumber"]
    # Not consecutive: refused, and nothing is used up.
    expect_error(
        "InvalidAuthenticationCode",
        iam.resync_mfa_device,
        UserName=user,
        SerialNumber=serial,
        AuthenticationCode1=totp(seed, step + 3),
        AuthenticationCode2=totp(seed, step + 5),
        status=403,
    )
    # A phone whose clock runs three steps ahead.
    iam.resync_mfa_device(
        UserName=user,
        SerialNumber=serial,
        AuthenticationCode1=totp(seed, step + 3),
        AuthenticationCode2=totp(seed, step + 4),
    )
    # The same pair again is a replay.
    expect_error(
        "InvalidAuthenticationCode",
        iam.resync_mfa_device,
        UserName=user,
        SerialNumber=serial,
        AuthenticationCode1=totp(seed, step + 3),
        AuthenticationCode2=totp(seed, step + 4),
        status=403,
    )
    assert [m["SerialNumber"] for m in iam.list_mfa_devices(UserName=user)["MFADevices"]] == [serial]


def test_mfa_device_tags(iam):
    name = uniq("tagged")
    d = iam.create_virtual_mfa_device(VirtualMFADeviceName=name, Tags=[{"Key": "owner", "Value": "ops"}])["VirtualMFADevice"]
    serial = d["SerialNumber"]
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "owner", "Value": "ops"}]
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "owner", "Value": "sec"}, {"Key": "site", "Value": "a"}])
    tags = iam.list_mfa_device_tags(SerialNumber=serial)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("owner", "sec"), ("site", "a")]
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["owner"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "site", "Value": "a"}]
    ghost = f"arn:aws:iam::{ACCOUNT}:mfa/{uniq('ghost')}"
    expect_error("NoSuchEntity", iam.list_mfa_device_tags, SerialNumber=ghost, status=404)
