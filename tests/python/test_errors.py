"""Bad input on the wire: malformed form bodies, unknown actions, missing or
oversized parameters, broken signatures, expired timestamps, unknown keys.
Each gets the AWS error code and a message naming the field, and none
crashes the daemon. Requests are signed with botocore's SigV4 signer."""

import datetime
import socket
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from unittest import mock

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from support import ROOT_KEY_ID, ROOT_SECRET, REGION, expect_error, uniq

NS = "{https://iam.amazonaws.com/doc/2010-05-08/}"


STS_CALL = {"Action": "GetCallerIdentity", "Version": "2011-06-15"}
IAM_CALL = {"Action": "ListUsers", "Version": "2010-05-08"}


def send(daemon, body, *, sign=True, key=ROOT_KEY_ID, secret=ROOT_SECRET, at=None, method="POST", headers=None, service="iam"):
    """Sends a form body (str/bytes/dict), SigV4-signed for service/us-east-1
    by botocore's signer. Returns (status, headers, text)."""
    if isinstance(body, dict):
        body = urllib.parse.urlencode(body)
    if isinstance(body, str):
        body = body.encode()
    hdrs = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    hdrs.update(headers or {})
    req = AWSRequest(method=method, url=daemon.endpoint + "/", data=body, headers=hdrs)
    if sign:
        signer = SigV4Auth(Credentials(key, secret), service, REGION)
        if at is not None:
            with mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: at):
                signer.add_auth(req)
        else:
            signer.add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method=method)
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors="replace")


def local(tag):
    return tag.rsplit("}", 1)[-1]


def error(text):
    """(Code, Message, Type) of an AWS error document (whatever its namespace)."""
    root = ET.fromstring(text)
    assert local(root.tag) == "ErrorResponse", text
    err = next((e for e in root if local(e.tag) == "Error"), None)
    assert err is not None, text
    fields = {local(e.tag): (e.text or "") for e in err}
    return fields.get("Code", ""), fields.get("Message", ""), fields.get("Type", "")


def check(daemon, resp, status, code, *names):
    got_status, _, text = resp
    assert got_status == status, f"HTTP {got_status}, expected {status}: {text}"
    got_code, message, kind = error(text)
    assert got_code == code, f"{got_code}: {message}"
    assert kind == ("Sender" if status < 500 else "Receiver")
    for n in names:
        assert n.lower() in message.lower(), f"message does not name {n!r}: {message!r}"
    assert daemon.healthy(), "stsd stopped answering /healthz"
    return message


def test_success_envelope(daemon):
    status, headers, text = send(daemon, {"Action": "ListUsers", "Version": "2010-05-08", "MaxItems": "1"})
    assert status == 200, text
    headers = {k.lower(): v for k, v in headers.items()}
    assert headers.get("content-type", "").startswith("text/xml")
    root = ET.fromstring(text)
    assert root.tag == f"{NS}ListUsersResponse"
    assert root.find(f"{NS}ListUsersResult") is not None
    request_id = root.findtext(f"{NS}ResponseMetadata/{NS}RequestId")
    assert request_id and headers.get("x-amzn-requestid") == request_id


def test_error_envelope_has_request_id(daemon):
    status, headers, text = send(daemon, {"Action": "GetUser", "Version": "2010-05-08", "UserName": uniq("ghost")})
    assert status == 404
    root = ET.fromstring(text)
    assert root.tag in (f"{NS}ErrorResponse", "ErrorResponse")
    rid = next(e.text for e in root if local(e.tag) == "RequestId")
    assert rid and {k.lower(): v for k, v in headers.items()}.get("x-amzn-requestid") == rid


def test_unknown_action(daemon):
    check(daemon, send(daemon, {"Action": "FlyToTheMoon", "Version": "2010-05-08"}), 400, "InvalidAction", "FlyToTheMoon")


def test_missing_action(daemon):
    check(daemon, send(daemon, {"Version": "2010-05-08"}), 400, "MissingAction")


def test_missing_required_parameter(daemon):
    resp = send(daemon, {"Action": "CreateUser", "Version": "2010-05-08"})
    status, _, text = resp
    code, message, _ = error(text)
    assert status == 400 and code in ("ValidationError", "MissingParameter"), text
    assert "username" in message.lower(), message


def test_oversized_parameter(daemon):
    check(daemon, send(daemon, {"Action": "CreateUser", "Version": "2010-05-08", "UserName": "u" * 65}), 400, "ValidationError", "userName")
    check(
        daemon,
        send(daemon, {"Action": "CreateUser", "Version": "2010-05-08", "UserName": uniq("p"), "Path": "/" + "p" * 600 + "/"}),
        400,
        "ValidationError",
        "path",
    )


def test_bad_integer_parameter(daemon):
    check(daemon, send(daemon, {"Action": "ListUsers", "Version": "2010-05-08", "MaxItems": "many"}), 400, "ValidationError", "MaxItems")


def test_malformed_form_bodies(daemon):
    for body in (
        b"Action=ListUsers&Version=2010-05-08&%zz=1",
        b"\xff\xfe\x00garbage",
        b"Action=ListUsers&Version=2010-05-08&Marker=%E0%A4%A",
        b"Action=GetCallerIdentity&Version=2011-06-15&Padding=%",
    ):
        status, _, text = send(daemon, body)
        assert 400 <= status < 500, f"{status} for {body!r}: {text}"
        error(text)
    assert daemon.healthy()


def test_member_list_gap(daemon):
    body = {
        "Action": "CreateUser",
        "Version": "2010-05-08",
        "UserName": uniq("gap"),
        "Tags.member.1.Key": "a",
        "Tags.member.1.Value": "b",
        "Tags.member.3.Key": "c",
        "Tags.member.3.Value": "d",
    }
    check(daemon, send(daemon, body), 400, "ValidationError", "Tags")


def test_oversized_body(daemon):
    # 2 MiB, over the default 1 MiB limit, sent the way curl does
    # (Expect: 100-continue), so the early answer is not lost to a reset.
    body = urllib.parse.urlencode({**STS_CALL, "Padding": "x" * (2 * 1024 * 1024)}).encode()
    req = AWSRequest(method="POST", url=daemon.endpoint + "/", data=body, headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(ROOT_KEY_ID, ROOT_SECRET), "sts", REGION).add_auth(req)
    p = req.prepare()
    head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in p.headers.items() if k.lower() not in ("content-length", "host"))
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=30) as s:
        s.sendall(head.encode() + b"\r\n")
        data = s.recv(65536)
        if data.startswith(b"HTTP/1.1 100"):
            try:
                s.sendall(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
            data = data.split(b"\r\n\r\n", 1)[1]
        try:
            while chunk := s.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    status_line, _, rest = data.partition(b"\r\n")
    assert status_line.split()[1] == b"413", data[:500]
    code, message, _ = error(rest.split(b"\r\n\r\n", 1)[1].decode())
    assert code == "RequestEntityTooLarge", message
    assert daemon.healthy()


# The signature tests run on both an STS action and an IAM action: the
# daemon resolves the action before it authenticates.
CALLS = [pytest.param(("sts", STS_CALL), id="sts"), pytest.param(("iam", IAM_CALL), id="iam")]


@pytest.mark.parametrize("call", CALLS)
def test_unsigned_request(daemon, call):
    service, body = call
    check(daemon, send(daemon, body, sign=False, service=service), 403, "MissingAuthenticationToken")


@pytest.mark.parametrize("call", CALLS)
def test_wrong_secret(daemon, call):
    service, body = call
    check(daemon, send(daemon, body, secret="y" * 40, service=service), 403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("call", CALLS)
def test_unknown_key(daemon, call):
    service, body = call
    check(daemon, send(daemon, body, key="AKIA" + "B" * 16, service=service), 403, "InvalidClientTokenId")


@pytest.mark.parametrize("call", CALLS)
def test_expired_timestamp(daemon, call):
    service, body = call
    past = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(hours=1)
    msg = check(daemon, send(daemon, body, at=past, service=service), 403, "SignatureDoesNotMatch")
    assert "expired" in msg.lower(), msg
    future = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(hours=1)
    check(daemon, send(daemon, body, at=future, service=service), 403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("call", CALLS)
def test_tampered_body(daemon, call):
    service, fields = call
    body = urllib.parse.urlencode(fields).encode()
    req = AWSRequest(method="POST", url=daemon.endpoint + "/", data=body, headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(ROOT_KEY_ID, ROOT_SECRET), service, REGION).add_auth(req)
    p = req.prepare()
    r = urllib.request.Request(p.url, data=body + b"&Extra=1", headers=dict(p.headers), method="POST")
    r.headers.pop("Content-length", None)
    try:
        urllib.request.urlopen(r, timeout=30)
        pytest.fail("tampered body accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 403
        assert error(e.read().decode())[0] == "SignatureDoesNotMatch"


@pytest.mark.parametrize("call", CALLS)
def test_incomplete_signature(daemon, call):
    resp = send(
        daemon,
        call[1],
        sign=False,
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/iam/aws4_request"},
    )
    check(daemon, resp, 400, "IncompleteSignature")


def test_boto3_surfaces_codes(iam):
    # The same through boto3: the code parsed from the envelope.
    expect_error("NoSuchEntity", iam.get_role, RoleName=uniq("ghost"))
    expect_error("ValidationError", iam.get_role, RoleName="bad role name", names=["roleName"])


def test_daemon_survived(daemon):
    assert daemon.alive() and daemon.healthy()
