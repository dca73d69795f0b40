"""The audit trail (issue 10): one CloudTrail-shaped record per STS, IAM,
Authorize and revocation event, written durably before the response (sync
mode), chained and signed; `stsd audit verify` finds the first change,
removal, reordering or missing file.

The daemon runs with `[audit] sync = true`, so a record is on disk when
boto3 gets its answer and the tests read the files straight away.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import boto3
import grpc
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

import support
from authz_client import Authorize, creds_of, request_parts, signed_service_request
from grpc_support import framed, generate, signed_metadata
from stsutil import TAGGING_TRUST, assume, assumer, make_role, make_user, session_client, trust_doc
from support import ACCOUNT, REGION, ROOT_KEY_ID, ROOT_SECRET, Daemon, allow, stsd_bin, uniq

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
ALBUM = f"arn:aws:photos:{REGION}:{ACCOUNT}:album/summer"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("auditkey")
    p = subprocess.run([stsd_bin(), "audit", "keygen", "--out", str(d / "k.pem")], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert (d / "k.pem").stat().st_mode & 0o777 == 0o600
    return d / "k.pem", d / "k.pem.pub"


def audited(keys, extra: str = "") -> Daemon:
    return Daemon(
        extra_config=f'[audit]\nenabled = true\nsync = true\nsigning_key_file = "{keys[0]}"\n{extra}'
    ).start()


@pytest.fixture(scope="module")
def daemon(keys):
    d = audited(keys)
    yield d
    d.close()


@pytest.fixture(scope="module")
def iam(daemon):
    return daemon.client("iam")


@pytest.fixture(scope="module")
def sts(daemon):
    return daemon.client("sts")


def lines(d: Daemon) -> list[str]:
    out = []
    for f in sorted(d.audit_dir.glob("audit-*.jsonl")):
        out += f.read_text().splitlines()
    return out


def record(d: Daemon, request_id: str) -> dict:
    """The one record of `request_id` (sync mode: on disk already)."""
    found = [json.loads(line) for line in lines(d) if f'"requestID":"{request_id}"' in line]
    assert len(found) == 1, f"{len(found)} records for {request_id}"
    return found[0]


def rid(response_or_error) -> str:
    if isinstance(response_or_error, ClientError):
        return response_or_error.response["ResponseMetadata"]["RequestId"]
    return response_or_error["ResponseMetadata"]["RequestId"]


def common(r: dict, source: str, name: str, read_only: bool) -> None:
    assert r["eventVersion"] == "1.08"
    assert r["eventSource"] == source
    assert r["eventName"] == name
    assert r["awsRegion"] == REGION
    assert r["sourceIPAddress"] == "127.0.0.1"
    assert r["eventType"] == "AwsApiCall"
    assert r["readOnly"] is read_only
    assert r["managementEvent"] is True
    assert uuid.UUID(r["eventID"]).version == 4
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["eventTime"])
    assert isinstance(r["additionalEventData"]["stsdSequence"], int)
    assert re.fullmatch(r"[0-9a-f]{64}", r["additionalEventData"]["stsdPreviousHash"])


ROOT_IDENTITY = {
    "type": "Root",
    "principalId": ACCOUNT,
    "arn": f"arn:aws:iam::{ACCOUNT}:root",
    "accountId": ACCOUNT,
    "accessKeyId": ROOT_KEY_ID,
}


def test_iam_calls_are_recorded_field_by_field(daemon, iam):
    name = uniq("aud")
    out = iam.create_user(UserName=name, Path="/team/", Tags=[{"Key": "k", "Value": "v"}])
    r = record(daemon, rid(out))
    common(r, "iam.amazonaws.com", "CreateUser", False)
    assert r["userIdentity"] == ROOT_IDENTITY
    assert "Boto3" in r["userAgent"]
    assert r["recipientAccountId"] == ACCOUNT
    assert r["requestParameters"] == {"userName": name, "path": "/team/", "tags": [{"key": "k", "value": "v"}]}
    user = r["responseElements"]["user"]
    assert (user["userName"], user["userId"], user["arn"]) == (name, out["User"]["UserId"], out["User"]["Arn"])
    assert "errorCode" not in r and "errorMessage" not in r

    key = iam.create_access_key(UserName=name)
    r = record(daemon, rid(key))
    common(r, "iam.amazonaws.com", "CreateAccessKey", False)
    assert r["responseElements"] == {
        "accessKey": {
            "userName": name,
            "accessKeyId": key["AccessKey"]["AccessKeyId"],
            "status": "Active",
            "createDate": r["responseElements"]["accessKey"]["createDate"],
        }
    }
    secret = key["AccessKey"]["SecretAccessKey"]
    assert not [line for line in lines(daemon) if secret in line]
    assert secret in support.SECRETS, "the suite-wide scan looks for every secret boto3 received"

    # A read: recorded, without its result (CloudTrail keeps none).
    got = iam.get_user(UserName=name)
    r = record(daemon, rid(got))
    common(r, "iam.amazonaws.com", "GetUser", True)
    assert r["responseElements"] is None

    # Console passwords never reach a record.
    password = "Audit-Pa55word!" + uuid.uuid4().hex[:8]
    out = iam.create_login_profile(UserName=name, Password=password)
    r = record(daemon, rid(out))
    assert r["requestParameters"]["password"] == HIDDEN
    assert not [line for line in lines(daemon) if password in line]
    assert password in support.SECRETS, "… and every secret it sent"


def test_denied_and_failed_calls_carry_the_error(daemon, iam):
    user = make_user(iam, daemon)
    with pytest.raises(ClientError) as e:
        user.client("iam").list_users()
    r = record(daemon, rid(e.value))
    common(r, "iam.amazonaws.com", "ListUsers", True)
    assert r["errorCode"] == "AccessDenied"
    assert r["errorMessage"].startswith(f"User: {user.arn} is not authorized to perform: iam:ListUsers")
    # The decision record sealed into the wire message is not repeated.
    assert "Encoded authorization failure message" not in r["errorMessage"]
    assert r["userIdentity"] == {
        "type": "IAMUser",
        "principalId": user.user_id,
        "arn": user.arn,
        "accountId": ACCOUNT,
        "accessKeyId": user.key_id,
        "userName": user.name,
    }
    assert r["responseElements"] is None

    # A bad signature: the caller is unknown, the record is still written.
    bad = daemon.client("iam", user.key_id, "x" * 40)
    with pytest.raises(ClientError) as e:
        bad.get_user()
    r = record(daemon, rid(e.value))
    assert r["errorCode"] == "SignatureDoesNotMatch"
    assert r["userIdentity"] == {"type": "Unknown"}


def test_sts_calls_and_sessions_are_recorded(daemon, iam, sts):
    role = make_role(iam, allow("sts:GetCallerIdentity"), trust=trust_doc(actions=TAGGING_TRUST))
    who = assumer(iam, daemon)
    session = uniq("s")
    out = assume(who.client("sts"), role, session, Tags=[{"Key": "team", "Value": "blue"}], DurationSeconds=900)
    r = record(daemon, rid(out))
    common(r, "sts.amazonaws.com", "AssumeRole", True)
    assert r["userIdentity"] == {
        "type": "IAMUser",
        "principalId": who.user_id,
        "arn": who.arn,
        "accountId": ACCOUNT,
        "accessKeyId": who.key_id,
        "userName": who.name,
    }
    assert r["requestParameters"] == {
        "roleArn": role["Arn"],
        "roleSessionName": session,
        "tags": [{"key": "team", "value": "blue"}],
        "durationSeconds": "900",
    }
    creds = out["Credentials"]
    assert r["responseElements"]["credentials"] == {
        "accessKeyId": creds["AccessKeyId"],
        "expiration": creds["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert r["responseElements"]["assumedRoleUser"] == {
        "assumedRoleId": out["AssumedRoleUser"]["AssumedRoleId"],
        "arn": out["AssumedRoleUser"]["Arn"],
    }
    assert r["responseElements"]["packedPolicySize"] == out["PackedPolicySize"]
    text = "\n".join(lines(daemon))
    assert creds["SecretAccessKey"] not in text and creds["SessionToken"] not in text

    # The session's own calls: an AssumedRole identity with its context.
    who = session_client(daemon, creds).get_caller_identity()
    r = record(daemon, rid(who))
    ident = r["userIdentity"]
    assert (ident["type"], ident["arn"], ident["principalId"], ident["accessKeyId"]) == (
        "AssumedRole",
        who["Arn"],
        who["UserId"],
        creds["AccessKeyId"],
    )
    assert ident["sessionContext"]["sessionIssuer"] == {
        "type": "Role",
        "principalId": role["RoleId"],
        "arn": role["Arn"],
        "accountId": ACCOUNT,
        "userName": role["RoleName"],
    }
    attrs = ident["sessionContext"]["attributes"]
    assert attrs["mfaAuthenticated"] == "false"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", attrs["creationDate"])

    out = sts.get_session_token(DurationSeconds=900)
    r = record(daemon, rid(out))
    common(r, "sts.amazonaws.com", "GetSessionToken", True)
    assert r["requestParameters"] == {"durationSeconds": "900"}
    assert r["responseElements"] == {
        "credentials": {
            "accessKeyId": out["Credentials"]["AccessKeyId"],
            "expiration": out["Credentials"]["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    }


def test_authorize_answers_are_recorded(daemon, iam):
    user = make_user(iam, daemon, allow("photos:GetAlbum", ALBUM))
    az = Authorize(daemon.endpoint, creds_of(ROOT_KEY_ID, ROOT_SECRET))
    req = signed_service_request(creds_of(user.key_id, user.secret))
    status, headers, answer = az.raw({"Request": request_parts(req), "Action": "photos:GetAlbum", "Resource": ALBUM})
    assert status == 200 and answer["Decision"] == "Allow", answer
    r = record(daemon, header(headers, "x-amzn-requestid"))
    common(r, "stsd", "Authorize", True)
    assert r["userIdentity"] == {
        "type": "IAMUser",
        "principalId": user.user_id,
        "arn": user.arn,
        "accountId": ACCOUNT,
        "accessKeyId": user.key_id,
    }
    assert r["requestParameters"] == {
        "asker": f"arn:aws:iam::{ACCOUNT}:root",
        "action": "photos:GetAlbum",
        "resource": ALBUM,
        "method": "GET",
        "host": "photos.example.com",
        "path": "/albums/summer",
    }
    assert r["responseElements"]["decision"] == "Allow"
    assert [s["effect"] for s in r["responseElements"]["statements"]] == ["Allow"]
    assert "errorCode" not in r

    status, headers, answer = az.raw({"Request": request_parts(req), "Action": "photos:DeleteAlbum", "Resource": ALBUM})
    assert answer["Decision"] == "ImplicitDeny", answer
    r = record(daemon, header(headers, "x-amzn-requestid"))
    assert r["responseElements"]["decision"] == "ImplicitDeny"
    assert r["errorCode"] == answer["ErrorCode"]
    assert r["errorMessage"] == answer["Reason"]


def header(headers: dict, name: str) -> str:
    return {k.lower(): v for k, v in headers.items()}[name]


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    return generate(
        tmp_path_factory.mktemp("stubs"), "sessions_pb2", "sessions_pb2_grpc", "sts_pb2", "sts_pb2_grpc"
    )


def test_grpc_sts_calls_are_recorded_like_the_query_api(daemon, iam, pb):
    user = make_user(iam, daemon)
    msgs, svc = pb[2], pb[3]
    authority = f"127.0.0.1:{daemon.port}"
    stub = svc.SecurityTokenServiceStub(grpc.insecure_channel(authority))
    m = msgs.GetSessionTokenRequest(duration_seconds=900)
    creds = Credentials(user.key_id, user.secret)
    md = signed_metadata(creds, authority, "/stsd.v1.SecurityTokenService/GetSessionToken", framed(m))
    out, call = stub.GetSessionToken.with_call(m, metadata=md, timeout=30)
    support.SECRETS.update({out.credentials.secret_access_key, out.credentials.session_token})
    r = record(daemon, dict(call.initial_metadata())["x-amzn-requestid"])
    common(r, "sts.amazonaws.com", "GetSessionToken", True)
    assert r["userIdentity"]["arn"] == user.arn and r["userIdentity"]["accessKeyId"] == user.key_id
    assert r["requestParameters"] == {"durationSeconds": "900"}
    assert r["responseElements"] == {
        "credentials": {
            "accessKeyId": out.credentials.access_key_id,
            "expiration": r["responseElements"]["credentials"]["expiration"],
        }
    }
    assert out.credentials.expiration.seconds > 0
    text = "\n".join(lines(daemon))
    assert out.credentials.secret_access_key not in text and out.credentials.session_token not in text


def test_revocations_are_recorded(daemon, iam, sts, pb):
    role = make_role(iam)
    creds = assume(assumer(iam, daemon).client("sts"), role)["Credentials"]
    msgs, svc = pb[0], pb[1]
    authority = f"127.0.0.1:{daemon.port}"
    stub = svc.SessionsStub(grpc.insecure_channel(authority))
    m = msgs.RevokeRequest(access_key_id=creds["AccessKeyId"])
    md = signed_metadata(Credentials(ROOT_KEY_ID, ROOT_SECRET), authority, "/stsd.v1.Sessions/Revoke", framed(m))
    out, call = stub.Revoke.with_call(m, metadata=md, timeout=30)
    request_id = dict(call.initial_metadata())["x-amzn-requestid"]
    r = record(daemon, request_id)
    common(r, "stsd", "RevokeSessions", False)
    assert r["userIdentity"] == ROOT_IDENTITY
    assert r["requestParameters"] == {"accessKeyId": creds["AccessKeyId"]}
    assert r["responseElements"]["revocationId"] == out.revocation_id
    assert "grpc" in r["userAgent"]


def test_request_ids_match_the_log_lines(daemon, iam):
    out = iam.list_users()
    request_id = rid(out)
    assert record(daemon, request_id)["eventName"] == "ListUsers"
    logged = [json.loads(line) for line in daemon.stderr().splitlines() if request_id in line]
    assert any(e.get("request_id") == request_id and e.get("action") == "ListUsers" for e in logged), logged


def test_the_scan_finds_a_planted_secret(tmp_path):
    """The suite-wide scan (support.scan_files) names file and line."""
    f = tmp_path / "audit-00000001.jsonl"
    token = "IQoJb3JpZ2luX2VjEPlanted" + uuid.uuid4().hex
    f.write_text('{"a":1}\n{"sessionToken":"' + token + '"}\n')
    assert support.scan_files([f], {token}) == [
        f"{f}:2: contains a secret the suite issued or sent (IQoJ…, {len(token)} chars)"
    ]
    assert support.scan_files([f], {"Str0ng!Pass"}) == []


def test_no_secret_of_this_module_reached_the_trail_or_logs(daemon):
    files = [daemon.log_path, *sorted(daemon.audit_dir.glob("audit-*.jsonl"))]
    assert support.scan_files(files) == []


# --- stsd audit verify -------------------------------------------------------


def verify(dir_: Path, *args) -> tuple[int, str]:
    p = subprocess.run([stsd_bin(), "audit", "verify", str(dir_), *args], capture_output=True, text=True, timeout=60)
    return p.returncode, (p.stdout + p.stderr).strip()


@pytest.fixture(scope="module")
def trail(keys, tmp_path_factory):
    """A real trail of several sealed files: small files (4 KiB), a
    SIGKILL and a restart (recovery seals the file the crash left open)."""
    d = audited(keys, "rotate_bytes = 4096\n")
    iam = d.client("iam")
    made = 0
    # Until a second file holds exactly one record: a file that small is
    # never being sealed, so the SIGKILL leaves it open.
    while True:
        iam.create_user(UserName=uniq("trail"))
        made += 1
        files = sorted(d.audit_dir.glob("audit-*.jsonl"))
        if len(files) >= 2 and len(file_lines(files[-1])) == 1:
            break
        assert made < 50
    assert d.kill() == -9
    d2 = Daemon(data_dir=d.data_dir, master_key=d.master_key, tmp=d.tmp, extra_config=d.extra_config).start()
    for _ in range(6):
        d2.client("iam").create_user(UserName=uniq("trail"))
    assert d2.stop() == 0
    out = tmp_path_factory.mktemp("trail")
    shutil.copytree(d.audit_dir, out / "pristine")
    d2.close()
    (out / "made").write_text(str(made + 6))
    return out / "pristine"


def copy(trail: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "t"
    shutil.copytree(trail, dst)
    return dst


def file_lines(p: Path) -> list[str]:
    return p.read_text().splitlines()


def write_lines(p: Path, ls: list[str]) -> None:
    p.write_text("\n".join(ls) + "\n")


def test_an_intact_trail_verifies(trail, keys):
    files = sorted(trail.glob("audit-*.jsonl"))
    assert len(files) >= 4, files
    digests = [json.loads(file_lines(f)[-1]) for f in files]
    assert all(dg["eventType"] == "stsdDigest" for dg in digests)
    assert any(dg["digest"]["recovered"] for dg in digests), "the file open at SIGKILL was sealed at restart"
    records = sum(len(file_lines(f)) - 1 for f in files)
    assert records == int((trail.parent / "made").read_text())
    code, out = verify(trail, "--public-key", str(keys[1]))
    assert code == 0, out
    assert out.startswith(f"ok: {len(files)} files, {records} records, {len(files)} signed digests"), out


def _multi(trail: Path) -> Path:
    """A file of the trail holding at least two records."""
    return next(f for f in sorted(trail.glob("audit-*.jsonl")) if len(file_lines(f)) >= 3)


def test_verify_names_a_changed_record(trail, tmp_path):
    t = copy(trail, tmp_path)
    f = _multi(t)
    ls = file_lines(f)
    ls[0] = ls[0].replace('"userName":"trail', '"userName":"evil', 1)
    write_lines(f, ls)
    code, out = verify(t)
    assert code == 1
    assert out.startswith(f"first broken record: file {f.name} line 1 (changed record"), out


def test_verify_names_a_removed_record(trail, tmp_path):
    t = copy(trail, tmp_path)
    f = _multi(t)
    ls = file_lines(f)
    seq = json.loads(ls[0])["additionalEventData"]["stsdSequence"]
    del ls[0]
    write_lines(f, ls)
    code, out = verify(t)
    assert code == 1
    assert out.startswith(f"first broken record: file {f.name} line 1 (missing record: sequence {seq}"), out


def test_verify_names_a_reordered_record(trail, tmp_path):
    t = copy(trail, tmp_path)
    f = _multi(t)
    ls = file_lines(f)
    first = json.loads(ls[0])["additionalEventData"]["stsdSequence"]
    ls[0], ls[1] = ls[1], ls[0]
    write_lines(f, ls)
    code, out = verify(t)
    assert code == 1
    assert out.startswith(
        f"first broken record: file {f.name} line 1 (reordered record: sequence {first + 1} where {first} was expected"
    ), out


def test_verify_names_a_missing_file(trail, tmp_path):
    t = copy(trail, tmp_path)
    files = sorted(t.glob("audit-*.jsonl"))
    files[1].unlink()
    code, out = verify(t)
    assert code == 1
    assert out == (
        f"first broken record: file {files[2].name} line 0 (missing file {files[1].name} before it (gap in the chain))"
    ), out


def test_verify_refuses_another_key(trail, tmp_path):
    other = tmp_path / "other.pem"
    p = subprocess.run([stsd_bin(), "audit", "keygen", "--out", str(other)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    code, out = verify(trail, "--public-key", str(other) + ".pub")
    first = sorted(trail.glob("audit-*.jsonl"))[0]
    assert code == 1
    assert out == f"first broken record: file {first.name} line {len(file_lines(first))} (bad signature)", out


def test_saml_exchanges_are_recorded_without_the_assertion(keys, tmp_path):
    from saml_idp import IdP, b64

    idp = IdP(tmp_path)
    provider = uniq("audit-idp")
    provider_arn = f"arn:aws:iam::{ACCOUNT}:saml-provider/{provider}"
    d = audited(keys, f'[[federation.providers]]\narn = "{provider_arn}"\nsaml_private_key_file = "{idp.sp_key}"\n')
    try:
        iam = d.client("iam")
        iam.create_saml_provider(Name=provider, SAMLMetadataDocument=idp.metadata())
        trust = json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithSAML"}],
        })
        role = iam.create_role(RoleName=uniq("saml"), AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        anon = boto3.session.Session(region_name=REGION).client(
            "sts", endpoint_url=d.endpoint, config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1})
        )
        assertion = b64(idp.response(role, provider_arn))
        out = anon.assume_role_with_saml(RoleArn=role, PrincipalArn=provider_arn, SAMLAssertion=assertion)
        r = record(d, rid(out))
        common(r, "sts.amazonaws.com", "AssumeRoleWithSAML", True)
        assert r["userIdentity"] == {
            "type": "SAMLUser",
            "principalId": f"{out['NameQualifier']}:{out['Subject']}",
            "userName": out["Subject"],
            "identityProvider": provider_arn,
            "accountId": ACCOUNT,
        }
        assert r["requestParameters"] == {"roleArn": role, "principalArn": provider_arn, "sAMLAssertion": HIDDEN}
        assert r["responseElements"]["credentials"]["accessKeyId"] == out["Credentials"]["AccessKeyId"]
        assert r["responseElements"]["subject"] == out["Subject"]
        text = "\n".join(lines(d))
        assert assertion not in text and out["Credentials"]["SessionToken"] not in text

        # The session's calls carry its federation data.
        who = session_client(d, out["Credentials"]).get_caller_identity()
        ctx = record(d, rid(who))["userIdentity"]["sessionContext"]
        assert provider in ctx["webIdFederationData"]["federatedProvider"], ctx
        assert ctx["sessionIssuer"]["arn"] == role
    finally:
        d.close()
