"""Helpers shared by the Python integration tests: no fixtures here.

The tests drive the real `stsd serve` with clients written elsewhere (boto3
and the AWS CLI), so everything in this file is either about running the
daemon as a process or about computing what AWS documents independently of
stsd (TOTP codes, access-key account decoding).
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import hmac
import itertools
import re
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"  # STSD_ACCOUNT_ID's documented default; never set
# A second account every test daemon serves (`[accounts] additional`), for
# cross-account tests; its root credentials are generated into the data dir.
OTHER_ACCOUNT = "111122223333"
ROOT_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
ROOT_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0

# Every daemon started by this test run, so a failing test's report can show
# the logs of the daemons it used (see conftest.pytest_runtest_makereport).
RUNNING: list["Daemon"] = []


def stsd_bin() -> str:
    """The binary under test: $STSD_BIN, else the shared cargo target dir."""
    path = os.environ.get("STSD_BIN") or os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/stsd/target")),
        "debug",
        "stsd",
    )
    if not os.access(path, os.X_OK):
        pytest.fail(f"stsd binary not found at {path}: build it or set STSD_BIN", pytrace=False)
    return path


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """`n` distinct free loopback ports. The sockets stay bound until all are
    chosen: closing each before binding the next lets the kernel hand the same
    port out twice."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


_counter = itertools.count()


def uniq(prefix: str) -> str:
    """A name no other test uses: prefix, a counter and random hex."""
    return f"{prefix}-{next(_counter)}-{secrets.token_hex(3)}"


JS_DIR = Path(__file__).resolve().parents[1] / "js"
NODE_TIMEOUT = 120


def run_node(script: str, env: dict, package: str) -> subprocess.CompletedProcess:
    """`node --test script` in tests/js (TAP output) with `env` added to an
    environment without AWS_ or STSD_ variables and without shared AWS
    files; fails the test when node or `@aws-sdk/<package>` is missing."""
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "@aws-sdk" / package).is_dir():
        pytest.fail("node or tests/js/node_modules is missing: run `make deps` (scripts/install-test-deps.sh)", pytrace=False)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STSD_"))}
    base.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    base.update(env)
    return subprocess.run(
        [node, "--test", "--test-reporter=tap", script],
        cwd=JS_DIR,
        env=base,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


def terminate(proc: subprocess.Popen, name: str, logs) -> int:
    """Stops `proc` with SIGTERM by PID and returns its exit code; if it
    ignores SIGTERM for STOP_TIMEOUT, kills it and fails with `logs()`."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)
            raise AssertionError(f"{name} ignored SIGTERM for {STOP_TIMEOUT}s\n{logs()}")
    return proc.returncode


class Daemon:
    """One `stsd serve` process on a data dir it may share with a later one."""

    def __init__(
        self,
        data_dir: Path | None = None,
        master_key: str | None = None,
        extra_env=None,
        tmp=None,
        additional_accounts=(OTHER_ACCOUNT,),
        extra_config: str = "",
    ):
        # tmp: a TemporaryDirectory to share with an earlier daemon (restarts).
        self.tmp = tmp or tempfile.TemporaryDirectory(prefix="stsd-py-")
        self.additional_accounts = tuple(additional_accounts)
        # TOML appended to the config file (e.g. [federation] tables).
        self.extra_config = extra_config
        self.config_path = Path(self.tmp.name) / "stsd.toml"
        self.data_dir = Path(data_dir) if data_dir else Path(self.tmp.name) / "data"
        self.master_key = master_key or base64.b64encode(os.urandom(32)).decode()
        self.extra_env = dict(extra_env or {})
        # TOML appended to the config file (tables of its own, e.g. [federation]).
        self.extra_config = extra_config
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log_path = Path(self.tmp.name) / "stderr.log"
        self.out_path = Path(self.tmp.name) / "stdout.log"
        self.exit_codes: list[int] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STSD_", "AWS_"))}
        env.update(
            STSD_DATA_DIR=str(self.data_dir),
            STSD_ROOT_ACCESS_KEY_ID=ROOT_KEY_ID,
            STSD_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET,
            STSD_MASTER_KEY=self.master_key,
            # Every daemon of the suite keeps an audit trail beside its
            # logs; close() scans both for the secrets the suite saw.
            STSD_AUDIT_DIR=str(self.audit_dir),
        )
        env.update(self.extra_env)
        return env

    @property
    def audit_dir(self) -> Path:
        return Path(self.tmp.name) / "audit"

    def scan(self) -> None:
        """Scans this daemon's audit trail and logs for every secret the
        suite has seen so far (records leaks in LEAKS), and checks the
        trail's chain with `stsd audit verify`."""
        files = [self.log_path, self.out_path]
        if self.audit_dir.is_dir():
            files += sorted(self.audit_dir.glob("audit-*.jsonl"))
            if files[2:]:
                p = subprocess.run(
                    [stsd_bin(), "audit", "verify", str(self.audit_dir)],
                    capture_output=True, text=True, timeout=60,
                )
                if p.returncode != 0:
                    LEAKS.append(f"{self.audit_dir}: audit verify failed: {p.stdout.strip()} {p.stderr.strip()}")
        LEAKS.extend(scan_files(files))

    def config_toml(self) -> str:
        """The config file: built-in defaults plus the additional accounts
        (the data dir, listen address and secrets come from STSD_* and
        --listen)."""
        accounts = ", ".join(f'"{a}"' for a in self.additional_accounts)
        return f"[accounts]\nadditional = [{accounts}]\n" + self.extra_config

    def start(self) -> "Daemon":
        binary = stsd_bin()
        self.config_path.write_text(self.config_toml())
        for _attempt in range(3):  # another process may take the free port
            self.port = free_port()
            with open(self.log_path, "ab") as err, open(self.out_path, "ab") as out:
                self.proc = subprocess.Popen(
                    [binary, "serve", "--config", str(self.config_path), "--listen", f"127.0.0.1:{self.port}"],
                    env=self.env(),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    cwd=self.tmp.name,
                )
            if self._wait_ready():
                if self not in RUNNING:
                    RUNNING.append(self)
                return self
            if self.proc.poll() is None:
                self.kill()
                break
            if "cannot listen" not in self.stderr():
                break
        pytest.fail(f"stsd did not become ready within {READY_TIMEOUT}s\n{self.logs()}", pytrace=False)

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.endpoint + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.endpoint + "/healthz", timeout=5) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> int:
        """SIGTERM by PID, SIGKILL after STOP_TIMEOUT; returns the exit code."""
        if self.proc is None:
            return 0
        try:
            code = terminate(self.proc, "stsd", self.logs)
        finally:
            self.exit_codes.append(self.proc.returncode)
        self.proc = None
        return code

    def kill(self) -> int:
        """SIGKILL by PID; returns the exit code (-9)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(STOP_TIMEOUT)
        code = self.proc.returncode
        self.exit_codes.append(code)
        self.proc = None
        return code

    def close(self) -> None:
        try:
            if self.proc is not None:
                code = self.stop()
                assert code == 0, f"stsd exited with {code} after SIGTERM\n{self.logs()}"
        finally:
            if self in RUNNING:
                RUNNING.remove(self)
            if Path(self.tmp.name).exists():
                self.scan()
            self.tmp.cleanup()

    def stderr(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def logs(self, tail: int = 60) -> str:
        lines = self.stderr().splitlines()[-tail:]
        return f"--- stsd stderr ({self.log_path}, last {len(lines)} lines) ---\n" + "\n".join(lines)

    def root_keys(self, account: str) -> tuple[str, str]:
        """(key id, secret) of an additional account's root, from the
        `root-credentials-<account>` file stsd generated in the data dir."""
        ini = configparser.ConfigParser()
        ini.read_string((self.data_dir / f"root-credentials-{account}").read_text())
        SECRETS.add(ini["default"]["aws_secret_access_key"])
        return ini["default"]["aws_access_key_id"], ini["default"]["aws_secret_access_key"]

    # --- clients ----------------------------------------------------------

    def client(self, service: str = "iam", key_id: str = ROOT_KEY_ID, secret: str = ROOT_SECRET, token=None):
        return boto3.session.Session(
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            aws_session_token=token,
            region_name=REGION,
        ).client(
            service,
            endpoint_url=self.endpoint,
            config=Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                # The daemon must validate every parameter itself: botocore's
                # client-side checks would stop bad input before it is sent.
                parameter_validation=False,
            ),
        )


# --- the suite-wide secret scan ---------------------------------------------
#
# conftest wraps botocore's `_make_api_call`, so every secret a client of the
# suite sends (passwords, assertions, web-identity tokens) or receives
# (secret keys, session tokens, MFA seeds) lands in SECRETS; every daemon's
# audit lines and log lines are scanned for them when it closes (and at the
# end of the session for those still running). LEAKS fails the session.

SECRETS: set[str] = {ROOT_SECRET}
LEAKS: list[str] = []
SECRET_RESPONSE_MEMBERS = frozenset({"SecretAccessKey", "SessionToken", "Base32StringSeed"})
SECRET_REQUEST_MEMBERS = frozenset(
    {"Password", "NewPassword", "OldPassword", "SAMLAssertion", "WebIdentityToken", "ContextAssertion"}
)
# Shorter values (6-digit MFA codes) would match unrelated text.
MIN_SECRET_LEN = 10
# Values tests send as passwords on purpose that are public identifiers
# (the password policy refuses the account ID): never secrets.
PUBLIC_VALUES = frozenset({ACCOUNT, OTHER_ACCOUNT})
_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-]{10,}")


def note_secrets(obj, members=SECRET_RESPONSE_MEMBERS) -> None:
    """Adds the values of `members` found anywhere in `obj` to SECRETS."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in members and isinstance(v, (str, bytes)):
                text = v.decode("ascii", "replace") if isinstance(v, bytes) else v
                if len(text) >= MIN_SECRET_LEN and text not in PUBLIC_VALUES:
                    SECRETS.add(text)
            else:
                note_secrets(v, members)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            note_secrets(v, members)


def scan_files(paths, secrets=None) -> list[str]:
    """`file:line: <kind>` for every line of `paths` that contains one of
    `secrets` (default SECRETS). Token-shaped secrets are matched as whole
    tokens through a set, the rest (passwords) as substrings."""
    secrets = SECRETS if secrets is None else secrets
    tokens = {s for s in secrets if _TOKEN.fullmatch(s)}
    others = [s for s in secrets if s not in tokens]
    found = []
    for path in paths:
        try:
            f = open(path, encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
        with f:
            for n, line in enumerate(f, 1):
                hit = next((t for t in _TOKEN.findall(line) if t in tokens), None)
                hit = hit or next((s for s in others if s in line), None)
                if hit:
                    found.append(f"{path}:{n}: contains a secret the suite issued or sent ({hit[:4]}…, {len(hit)} chars)")
    return found


def error_of(excinfo) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a botocore ClientError."""
    e = excinfo.value
    assert isinstance(e, ClientError), repr(e)
    return (
        e.response["Error"]["Code"],
        e.response["Error"].get("Message", ""),
        e.response["ResponseMetadata"]["HTTPStatusCode"],
    )


def expect_error(code, call, *args, names=(), status=None, **kwargs) -> str:
    """Calls call(*args, **kwargs), asserts it fails with the AWS error
    `code` (a string, or a tuple of acceptable codes) whose message mentions
    every string in `names` (case-insensitive), and returns the message."""
    with pytest.raises(ClientError) as ei:
        call(*args, **kwargs)
    got, message, http = error_of(ei)
    codes = (code,) if isinstance(code, str) else tuple(code)
    assert got in codes, f"expected {' or '.join(codes)}, got {got}: {message}"
    for n in names:
        assert n.lower() in message.lower(), f"message does not name {n!r}: {message!r}"
    if status is not None:
        assert http == status, f"HTTP {http} for {code}, expected {status}"
    return message


# --- RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s), written from the RFC -------

def totp(seed_b32: str, step: int) -> str:
    key = base64.b32decode(seed_b32.upper() + "=" * (-len(seed_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off : off + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def current_step(margin: float = 3.0) -> int:
    """The current 30 s step, waiting for the next one when fewer than
    `margin` seconds are left in this one (so a code stays current while
    the request is in flight)."""
    now = time.time()
    if 30 - now % 30 < margin:
        time.sleep(30 - now % 30 + 0.1)
        now = time.time()
    return int(now // 30)


def account_of_key(key_id: str) -> str:
    """The account a new-format access key id encodes (reference 3.2)."""
    v = int.from_bytes(base64.b32decode(key_id[4:20]), "big")
    return f"{(v >> 39) & ((1 << 40) - 1):012d}"


# --- documents --------------------------------------------------------------

def policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*") -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(action, resource="*") -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def trust(principal: dict, action: str = "sts:AssumeRole") -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": action}]}
    )


def as_list(v) -> list:
    return v if isinstance(v, list) else [v]


SAML_CERT = "MIIDFzCCAf+gAwIBAgIUEk5PsxrYm9bi7M0dCw5Z3rrUFB8wDQYJKoZIhvcNAQELBQAwGjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUub3JnMCAXDTI2MTEyMzE0NDUyOVoYDzIxMjYxMDMwMTQ0NTI5WjAaMRgwFgYDVQQDDA9pZHAuZXhhbXBsZS5vcmcwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDpHrkG2cqyohXnWn87ePP4PMnNSlXpzYa3ihHY2ffX/h2AdZbHp2bpqVWJ/yZixkrOaUkNK1AjwPCsbh6Qn+8GPAW4mkUW2cK5/kP28/kLLxtNnWr3vRU7+aokEwvXAc+tFkxbBa3y4HSoyRqCd0B/2Od2D4WrP/N7TvyKfO/8JkAVqJgFPrvD8+l2tMvu8J2cPp+frgEoSX+EzizTg1wpHpx3ZOsV4ruH+PmQVucFt3iDePL8J1NhulND+FPr5Sjyf3GGHsgoye2CNnAoIV9jKSKjy4ErlyThkTS7ceDv9gsux0tHEPMu335jYJl9vYy65LkQxrdKys93DaL6bIlVAgMBAAGjUzBRMB0GA1UdDgQWBBQJs7crFvbxV1xNYAVaC8CLCK4YGDAfBgNVHSMEGDAWgBQJs7crFvbxV1xNYAVaC8CLCK4YGDAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQCb0yi93BbLfBxC8V8FGa/mnHDgaCvThdlbuQ1tDogyVqJYJh0QhYKVwM73xflJ/yBSH4OfvOLQuaBBSWkXxTIEurZm6cytbjw/rr1I6u2cSueR633WS0SC9pmesgb1fZq0DIm9175UfpB1DFX8om1UR8JY7aMUXdqhEsUUO2bCwYpCRhGzmP8AO4CkPMeDjKDgS1aFHPpZFz1TkJtEzStkac2ztRm0CfbzqOBbaE8DOAWBxYhjw+IW6dwU1d6nGbKlLP1r8rgqRhVgct605NXiUC784vC7+eZNFq2HEtogRc7f5YZvjHvbGmUyPVpD2L9fahbj9NuwW0FcgelZ2Y6b"


def saml_metadata(entity_id: str = "https://idp.example.org/saml") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data><ds:X509Certificate>{SAML_CERT}</ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.org/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


# --- which IAM and STS actions the daemon on main serves -----------------------
#
# Tests that call any IAM or STS action not listed here (IMPLEMENTED for
# IAM, STS_IMPLEMENTED for STS) are marked
# xfail(strict=True, reason="not implemented yet: <Actions>") at collection
# (conftest.py derives the actions each test uses from its source, its
# helpers and fixtures, through boto3's method names, AWS CLI subcommands
# and quoted action names, plus `@pytest.mark.actions(...)` for actions a
# test reaches only indirectly: credential providers, other SDKs). When an
# action lands, add it here: its tests then run for real, and a strict xfail
# that starts passing fails the suite until this list is updated.
# STSD_PY_IMPLEMENTED=all (or a comma list of IAM and STS action names)
# overrides both, to run everything against a development build.
#
# The IAM actions registered by src/api/iam.
IMPLEMENTED: frozenset[str] = frozenset(
    {
        "AddClientIDToOpenIDConnectProvider",
        "AddUserToGroup",
        "AttachGroupPolicy",
        "AttachRolePolicy",
        "AttachUserPolicy",
        "ChangePassword",
        "CreateAccessKey",
        "CreateAccountAlias",
        "CreateGroup",
        "CreateLoginProfile",
        "CreateOpenIDConnectProvider",
        "CreatePolicy",
        "CreatePolicyVersion",
        "CreateRole",
        "CreateSAMLProvider",
        "CreateUser",
        "CreateVirtualMFADevice",
        "DeactivateMFADevice",
        "DeleteAccessKey",
        "DeleteAccountAlias",
        "DeleteAccountPasswordPolicy",
        "DeleteGroup",
        "DeleteGroupPolicy",
        "DeleteLoginProfile",
        "DeleteOpenIDConnectProvider",
        "DeletePolicy",
        "DeletePolicyVersion",
        "DeleteRole",
        "DeleteRolePermissionsBoundary",
        "DeleteRolePolicy",
        "DeleteSAMLProvider",
        "DeleteUser",
        "DeleteUserPermissionsBoundary",
        "DeleteUserPolicy",
        "DeleteVirtualMFADevice",
        "DetachGroupPolicy",
        "DetachRolePolicy",
        "DetachUserPolicy",
        "EnableMFADevice",
        "GetAccessKeyLastUsed",
        "GenerateCredentialReport",
        "GetAccountAuthorizationDetails",
        "GetCredentialReport",
        "GetAccountPasswordPolicy",
        "GetGroup",
        "GetGroupPolicy",
        "GetLoginProfile",
        "GetOpenIDConnectProvider",
        "GetPolicy",
        "GetPolicyVersion",
        "GetRole",
        "GetRolePolicy",
        "GetSAMLProvider",
        "GetUser",
        "GetUserPolicy",
        "ListAccessKeys",
        "ListAccountAliases",
        "ListAttachedGroupPolicies",
        "ListAttachedRolePolicies",
        "ListAttachedUserPolicies",
        "ListEntitiesForPolicy",
        "ListGroupPolicies",
        "ListGroups",
        "ListGroupsForUser",
        "ListMFADeviceTags",
        "ListMFADevices",
        "ListOpenIDConnectProviderTags",
        "ListOpenIDConnectProviders",
        "ListPolicies",
        "ListPolicyTags",
        "ListPolicyVersions",
        "ListRolePolicies",
        "ListRoleTags",
        "ListRoles",
        "ListSAMLProviderTags",
        "ListSAMLProviders",
        "ListUserPolicies",
        "ListUserTags",
        "ListUsers",
        "ListVirtualMFADevices",
        "PutGroupPolicy",
        "PutRolePermissionsBoundary",
        "PutRolePolicy",
        "PutUserPermissionsBoundary",
        "PutUserPolicy",
        "RemoveClientIDFromOpenIDConnectProvider",
        "RemoveUserFromGroup",
        "ResyncMFADevice",
        "SetDefaultPolicyVersion",
        "SimulateCustomPolicy",
        "SimulatePrincipalPolicy",
        "TagMFADevice",
        "TagOpenIDConnectProvider",
        "TagPolicy",
        "TagRole",
        "TagSAMLProvider",
        "TagUser",
        "UntagMFADevice",
        "UntagOpenIDConnectProvider",
        "UntagPolicy",
        "UntagRole",
        "UntagSAMLProvider",
        "UntagUser",
        "UpdateAccessKey",
        "UpdateAccountPasswordPolicy",
        "UpdateAssumeRolePolicy",
        "UpdateGroup",
        "UpdateLoginProfile",
        "UpdateOpenIDConnectProviderThumbprint",
        "UpdateRole",
        "UpdateRoleDescription",
        "UpdateSAMLProvider",
        "UpdateUser",
    }
)


# The STS actions registered by src/api/sts.rs. Issue 4 adds AssumeRole,
# GetSessionToken, GetFederationToken, GetAccessKeyInfo and
# DecodeAuthorizationMessage.
STS_IMPLEMENTED: frozenset[str] = frozenset(
    {
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "DecodeAuthorizationMessage",
        "GetAccessKeyInfo",
        "GetCallerIdentity",
        "GetFederationToken",
        "GetSessionToken",
    }
)


def implemented() -> frozenset[str] | None:
    """The implemented IAM and STS actions (their names do not overlap),
    or None for "all"."""
    env = os.environ.get("STSD_PY_IMPLEMENTED")
    if env is None:
        return IMPLEMENTED | STS_IMPLEMENTED
    if env.strip().lower() == "all":
        return None
    return frozenset(a.strip() for a in env.split(",") if a.strip())
