"""The SDKs' own credential providers against stsd: a shared-config profile
with `role_arn` + `source_profile` + `mfa_serial`, resolved by botocore's
AssumeRoleProvider (boto3) and by the AWS CLI, the MFA code computed here
from the device seed; and the JavaScript SDK v3 (`@aws-sdk/client-sts`,
tests/js) assuming a role and calling GetCallerIdentity with the session.

The providers call AssumeRole themselves, so these tests declare it with
`@pytest.mark.actions` for the gating in conftest.py.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.config import Config

from support import ACCOUNT, REGION, allow, run_node, uniq
from stsutil import MFA_PRESENT, assumer, make_role, make_user, mfa_user, trust_doc



def write_config(path: Path, daemon, user, role: dict, mfa_serial: str | None, session_name: str) -> str:
    """An AWS shared config file: a source profile with the user's key, and
    a role profile that assumes `role` from it. Both point at stsd."""
    role_profile = uniq("role-profile")
    lines = [
        "[profile source]",
        f"aws_access_key_id = {user.key_id}",
        f"aws_secret_access_key = {user.secret}",
        f"region = {REGION}",
        f"endpoint_url = {daemon.endpoint}",
        "",
        f"[profile {role_profile}]",
        f"role_arn = {role['Arn']}",
        "source_profile = source",
        f"role_session_name = {session_name}",
        "duration_seconds = 900",
        f"region = {REGION}",
        f"endpoint_url = {daemon.endpoint}",
    ]
    if mfa_serial:
        lines.append(f"mfa_serial = {mfa_serial}")
    path.write_text("\n".join(lines) + "\n")
    return role_profile


def profile_env(tmp_path: Path, config: Path) -> dict:
    """The environment of an SDK that reads only `config`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STSD_"))}
    env.update(
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_MAX_ATTEMPTS="1",
        AWS_PAGER="",
        HOME=str(tmp_path),  # the AWS CLI caches assumed-role credentials under ~/.aws/cli/cache
    )
    return env


@pytest.mark.actions("AssumeRole")
def test_boto3_assume_role_profile_with_mfa(iam, daemon, tmp_path, monkeypatch):
    m = mfa_user(iam, daemon, allow("sts:AssumeRole"))
    role = make_role(iam, trust=trust_doc(condition=MFA_PRESENT))
    config = tmp_path / "config"
    profile = write_config(config, daemon, m.user, role, m.serial, "boto3-provider")
    for k, v in profile_env(tmp_path, config).items():
        monkeypatch.setenv(k, v)

    prompts = []

    def prompter(prompt):
        prompts.append(prompt)
        return m.code()

    core = botocore.session.Session(profile=profile)
    core.get_component("credential_provider").get_provider("assume-role")._prompter = prompter
    session = boto3.session.Session(botocore_session=core)
    sts = session.client("sts", config=Config(retries={"total_max_attempts": 1}))
    who = sts.get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/boto3-provider"
    assert who["UserId"] == f"{role['RoleId']}:boto3-provider"
    assert prompts == [f"Enter MFA code for {m.serial}: "]
    creds = session.get_credentials().get_frozen_credentials()
    assert creds.access_key.startswith("ASIA") and creds.token


@pytest.mark.actions("AssumeRole")
def test_boto3_assume_role_profile_without_mfa(iam, daemon, tmp_path, monkeypatch):
    me = assumer(iam, daemon)
    role = make_role(iam)
    config = tmp_path / "config"
    profile = write_config(config, daemon, me, role, None, "boto3-plain")
    for k, v in profile_env(tmp_path, config).items():
        monkeypatch.setenv(k, v)
    session = boto3.session.Session(profile_name=profile)
    who = session.client("sts").get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/boto3-plain"


def aws_bin() -> str:
    here = Path(sys.executable).parent / "aws"
    return str(here) if here.exists() else (shutil.which("aws") or "aws")


def aws_cli(tmp_path: Path, config: Path, *args, stdin: str = "") -> subprocess.CompletedProcess:
    # A new session has no controlling terminal: getpass (the CLI's MFA
    # prompt) then reads the code from stdin.
    return subprocess.run(
        [aws_bin(), *args],
        env=profile_env(tmp_path, config),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
    )


@pytest.mark.actions("AssumeRole")
def test_aws_cli_assume_role_profile_with_mfa(iam, daemon, tmp_path):
    m = mfa_user(iam, daemon, allow("sts:AssumeRole"))
    role = make_role(iam, trust=trust_doc(condition=MFA_PRESENT))
    config = tmp_path / "config"
    profile = write_config(config, daemon, m.user, role, m.serial, "cli-provider")

    p = aws_cli(tmp_path, config, "sts", "get-caller-identity", "--profile", profile, "--output", "json", stdin=m.code() + "\n")
    assert p.returncode == 0, p.stderr
    assert f'"Arn": "arn:aws:sts::{ACCOUNT}:assumed-role/{role["RoleName"]}/cli-provider"' in p.stdout, p.stdout

    # The same code again (a fresh cache): AssumeRole refuses it.
    shutil.rmtree(tmp_path / ".aws", ignore_errors=True)
    p = aws_cli(tmp_path, config, "sts", "get-caller-identity", "--profile", profile, stdin=m.code() + "\n")
    assert p.returncode != 0, p.stdout
    assert "AccessDenied" in p.stderr, p.stderr


# --- JavaScript SDK v3 ----------------------------------------------------------


@pytest.mark.actions("AssumeRole")
def test_javascript_sdk_v3(iam, daemon):
    me = assumer(iam, daemon)
    role = make_role(iam, prefix="jsrole")
    stranger = make_user(iam, daemon, prefix="jsstranger")
    closed = make_role(iam, trust=trust_doc({"AWS": stranger.arn}), prefix="jsclosed")
    p = run_node(
        "sts.test.mjs",
        {
            "AWS_EC2_METADATA_DISABLED": "true",
            "STSD_ENDPOINT": daemon.endpoint,
            "STSD_ACCOUNT": ACCOUNT,
            "STSD_KEY_ID": me.key_id,
            "STSD_SECRET": me.secret,
            "STSD_ROLE_ARN": role["Arn"],
            "STSD_ROLE_NAME": role["RoleName"],
            "STSD_ROLE_ID": role["RoleId"],
            "STSD_DENIED_ROLE_ARN": closed["Arn"],
        },
        package="client-sts",
    )
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    # Every test ran: none skipped for want of the variables above.
    assert "# fail 0" in out and "# skipped 0" in out, out
    assert "# pass 0" not in out, out
