"""IAM's credential report (issue 10): GenerateCredentialReport and
GetCredentialReport with boto3 and the AWS CLI, the CSV parsed and checked
column by column after real key use, and `stsd report keys` from the
shell against the running broker."""

from __future__ import annotations

import base64
import csv
import datetime
import io
import os
import subprocess

import pytest

from support import ACCOUNT, ROOT_KEY_ID, ROOT_SECRET, expect_error, stsd_bin, uniq
from stsutil import assumer, mfa_user

COLUMNS = [
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
]


def parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def report(iam) -> tuple[list[str], dict[str, dict]]:
    states = []
    for _ in range(10):
        r = iam.generate_credential_report()
        states.append(r["State"])
        if r["State"] == "COMPLETE":
            break
    assert states[-1] == "COMPLETE", states
    got = iam.get_credential_report()
    assert got["ReportFormat"] == "text/csv"
    assert isinstance(got["GeneratedTime"], datetime.datetime)
    text = got["Content"].decode()  # boto3 decodes the base64 blob
    rows = list(csv.DictReader(io.StringIO(text)))
    header = text.splitlines()[0].split(",")
    return header, {r["user"]: r for r in rows}


def test_report_columns_and_values_after_real_key_use(daemon, iam):
    fresh = daemon.client("iam")
    # No report yet in this daemon? Another test may have made one; only
    # check the lifecycle on a fresh account below.
    user = assumer(iam, daemon)
    user.client().get_caller_identity()  # the key is used, against sts
    idle = assumer(iam, daemon, prefix="idle")
    second = iam.create_access_key(UserName=idle.name)["AccessKey"]
    iam.update_access_key(UserName=idle.name, AccessKeyId=second["AccessKeyId"], Status="Inactive")
    iam.create_login_profile(UserName=idle.name, Password="Correct-Horse-Battery-1")
    m = mfa_user(iam, daemon, prefix="mfa")
    # A report generated before these users existed would be served for
    # four hours: the first Generate of this daemon happens here.
    header, rows = report(fresh)
    assert header == COLUMNS

    root = rows["<root_account>"]
    assert root["arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert root["password_enabled"] == "not_supported"
    parse_time(root["user_creation_time"])

    used = rows[user.name]
    assert used["arn"] == user.arn
    assert used["password_enabled"] == "false" and used["password_last_used"] == "N/A"
    assert used["mfa_active"] == "false"
    assert used["access_key_1_active"] == "true"
    rotated = parse_time(used["access_key_1_last_rotated"])
    last = parse_time(used["access_key_1_last_used_date"])
    assert last >= rotated
    assert used["access_key_1_last_used_service"] == "sts"
    assert used["access_key_1_last_used_region"] == "us-east-1"
    assert used["access_key_2_active"] == "false" and used["access_key_2_last_rotated"] == "N/A"
    assert used["cert_1_active"] == "false" and used["cert_2_last_rotated"] == "N/A"

    idle_row = rows[idle.name]
    assert idle_row["access_key_1_last_used_date"] == "N/A"
    assert idle_row["access_key_1_last_used_service"] == "N/A"
    assert idle_row["access_key_2_active"] == "false"  # made Inactive
    parse_time(idle_row["access_key_2_last_rotated"])
    assert idle_row["password_enabled"] == "true"
    parse_time(idle_row["password_last_changed"])
    assert idle_row["password_last_used"] == "no_information"
    assert idle_row["password_next_rotation"] == "N/A"

    assert rows[m.user.name]["mfa_active"] == "true"


def test_lifecycle_not_present_then_started_then_complete():
    from support import Daemon

    d = Daemon().start()
    try:
        iam = d.client("iam")
        expect_error("ReportNotPresent", iam.get_credential_report, status=410)
        assert iam.generate_credential_report()["State"] == "STARTED"
        assert iam.generate_credential_report()["State"] == "COMPLETE"
        assert iam.get_credential_report()["Content"].startswith(b"user,arn,")
    finally:
        d.close()


def test_the_actions_obey_iam_policy(daemon, iam):
    from support import allow

    reader = assumer(iam, daemon, allow("iam:GetCredentialReport"), prefix="reader")
    client = daemon.client("iam", reader.key_id, reader.secret)
    msg = expect_error("AccessDenied", client.generate_credential_report, status=403)
    assert "iam:GenerateCredentialReport" in msg
    iam.generate_credential_report()
    assert client.get_credential_report()["ReportFormat"] == "text/csv"


def test_the_aws_cli_reads_the_report(daemon, cli):
    for _ in range(5):
        if cli("generate-credential-report")["State"] == "COMPLETE":
            break
    got = cli("get-credential-report")
    text = base64.b64decode(got["Content"]).decode()
    assert text.splitlines()[0].split(",") == COLUMNS


def test_stsd_report_keys_lists_unused_keys():
    from support import Daemon

    # A fresh daemon: a report generated earlier is served for four hours.
    daemon = Daemon().start()
    try:
        run_report_keys(daemon, daemon.client("iam"))
    finally:
        daemon.close()


def run_report_keys(daemon, iam):
    user = assumer(iam, daemon, prefix="cli")
    used = assumer(iam, daemon, prefix="used")
    used.client().get_caller_identity()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STSD_"))}
    env.update(STSD_ACCESS_KEY_ID=ROOT_KEY_ID, STSD_SECRET_ACCESS_KEY=ROOT_SECRET)
    run = lambda *a: subprocess.run(  # noqa: E731
        [stsd_bin(), "report", "keys", "--endpoint", daemon.endpoint, *a],
        env=env, capture_output=True, text=True, timeout=60)
    # Every key is new, so nothing is old or unused for 90 days...
    r = run()
    assert r.returncode == 0, r.stderr
    # ...but with a threshold of 0 days every unused key is listed.
    r = run("--unused-days", "0")
    assert r.returncode == 0, r.stderr
    lines = [l.split("\t") for l in r.stdout.splitlines()]
    assert lines[0] == ["user", "key", "reason", "days_since_use", "age_days"]
    mine = [l for l in lines if l[0] == user.name]
    assert mine == [[user.name, "access_key_1", "unused", "never", "0"]], r.stdout
    # A key used today is not unused for a day.
    r = run("--unused-days", "1", "--max-age-days", "1")
    assert r.returncode == 0, r.stderr
    assert user.name not in r.stdout and used.name not in r.stdout, r.stdout
    r = run("--csv")
    assert r.returncode == 0 and r.stdout.splitlines()[0].split(",") == COLUMNS
    # Wrong credentials: the broker's error, exit 1.
    env["STSD_SECRET_ACCESS_KEY"] = "x" * 40
    r = run()
    assert r.returncode == 1 and "SignatureDoesNotMatch" in r.stderr, r.stderr
