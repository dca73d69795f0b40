"""Fixtures: the real `stsd serve` on an ephemeral loopback port, boto3
clients and the AWS CLI pointed at it.

One daemon per test module (tests in a module use unique names, so they do
not conflict); tests that stop or kill the daemon start their own.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import types
import subprocess
import sys
from pathlib import Path

import pytest

import support
from support import ROOT_KEY_ID, ROOT_SECRET, REGION, Daemon

# The `browser` and `browser_for` fixtures (a headless chromium per test).
pytest_plugins = ("browser",)

# The clients must see only what the tests give them: no profile, no shared
# files, no IMDS, no endpoint overrides from the environment.
for _k in [k for k in os.environ if k.startswith("AWS_")]:
    del os.environ[_k]
os.environ.update(
    AWS_CONFIG_FILE="/dev/null",
    AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    AWS_EC2_METADATA_DISABLED="true",
)


# Every boto3 call of the suite: the secrets it sends and receives, for the
# audit/log scan (support.SECRETS).
import botocore.client  # noqa: E402

_make_api_call = botocore.client.BaseClient._make_api_call


def _noting_api_call(self, operation_name, api_params):
    support.note_secrets(api_params, support.SECRET_REQUEST_MEMBERS)
    result = _make_api_call(self, operation_name, api_params)
    support.note_secrets(result)
    return result


botocore.client.BaseClient._make_api_call = _noting_api_call


def pytest_sessionfinish(session, exitstatus):
    """Scans the daemons still running, then fails the session on any
    secret found in an audit or log line (naming file and line)."""
    for d in list(support.RUNNING):
        d.scan()
    if support.LEAKS:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["secrets found in audit trails or logs:"] + support.LEAKS
        if reporter:
            reporter.write_sep("=", "audit/log secret scan FAILED", red=True)
            reporter.write_line("\n".join(lines))
        session.exitstatus = 1


@pytest.fixture(scope="module")
def daemon():
    d = Daemon().start()
    yield d
    d.close()


@pytest.fixture(scope="module")
def iam(daemon):
    """boto3 IAM client with the default account's root credentials."""
    return daemon.client("iam")


@pytest.fixture(scope="module")
def sts(daemon):
    return daemon.client("sts")


def _aws_bin() -> str:
    here = Path(sys.executable).parent / "aws"
    return str(here) if here.exists() else (shutil.which("aws") or "aws")


class Cli:
    """Runs the AWS CLI (v1) against a daemon."""

    def __init__(self, daemon: Daemon):
        self.daemon = daemon

    def run(self, *args, key_id=ROOT_KEY_ID, secret=ROOT_SECRET, service="iam", token=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STSD_"))}
        if token is not None:
            env["AWS_SESSION_TOKEN"] = token
        env.update(
            AWS_ACCESS_KEY_ID=key_id,
            AWS_SECRET_ACCESS_KEY=secret,
            AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE="/dev/null",
            AWS_SHARED_CREDENTIALS_FILE="/dev/null",
            AWS_EC2_METADATA_DISABLED="true",
            AWS_MAX_ATTEMPTS="1",
            AWS_RETRY_MODE="standard",
            AWS_PAGER="",
        )
        cmd = [_aws_bin(), "--endpoint-url", self.daemon.endpoint, "--output", "json", service, *map(str, args)]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    def __call__(self, *args, **kw):
        """Runs the command, asserts success, returns the parsed JSON (or None)."""
        p = self.run(*args, **kw)
        assert p.returncode == 0, f"aws {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}"
        return json.loads(p.stdout) if p.stdout.strip() else None

    def error(self, code, *args, **kw) -> str:
        """Runs the command, asserts it fails with the AWS error `code`, returns stderr."""
        p = self.run(*args, **kw)
        assert p.returncode != 0, f"aws {' '.join(map(str, args))} succeeded: {p.stdout}"
        assert f"({code})" in p.stderr, f"expected ({code}): {p.stderr}"
        return p.stderr


@pytest.fixture(scope="module")
def cli(daemon):
    return Cli(daemon)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for d in list(support.RUNNING):
            rep.sections.append((f"stsd on {d.endpoint}", d.logs()))


# --- strict xfail for tests that use IAM or STS actions not implemented yet --

# The services whose actions are gated (support.IMPLEMENTED, STS_IMPLEMENTED).
_GATED_SERVICES = ("iam", "sts")
# Modules of shared helpers whose functions are scanned like the test
# module's own when a test uses them (support.py holds no API calls).
_HELPER_MODULES = frozenset({"stsutil"})

_METHODS: dict[str, str] | None = None


def _methods() -> dict[str, str]:
    """boto3 method name -> action name, for IAM and STS, from botocore's
    own models (the two services share no method or action names)."""
    global _METHODS
    if _METHODS is None:
        import boto3

        session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)
        methods: dict[str, str] = {}
        for service in _GATED_SERVICES:
            c = session.client(service, endpoint_url="http://127.0.0.1:9")
            methods.update(c.meta.method_to_api_mapping)
        _METHODS = methods
    return _METHODS


def _body(fn) -> str:
    """A function's source without its decorators (parameters are read from
    the test's call spec instead, so each parametrization gets its own set)."""
    try:
        src = inspect.getsource(fn)
    except (OSError, TypeError):
        return ""
    m = re.search(r"^\s*(async\s+)?def\s", src, re.M)
    return src[m.start() :] if m else src


def _actions_used(item) -> set[str]:
    methods = _methods()
    actions = set(methods.values())
    module = item.module
    scanned = {module.__name__} | _HELPER_MODULES
    texts, seen = [], set()
    params = {v for v in getattr(getattr(item, "callspec", None), "params", {}).values() if isinstance(v, str)}

    def visit(obj, namespace, depth=0):
        if id(obj) in seen or depth > 6:
            return
        seen.add(id(obj))
        if isinstance(obj, types.FunctionType):
            if obj.__module__ not in scanned:
                return
            text = _body(obj)
            # A helper's names resolve in its own module.
            namespace = obj.__globals__
        elif isinstance(obj, (dict, list, tuple, set, frozenset)):
            if isinstance(obj, dict):
                # A table keyed by this test's parameter: only its row.
                chosen = [k for k in obj if isinstance(k, str) and k in params]
                values = [obj[k] for k in chosen] if chosen else list(obj.values()) + list(obj.keys())
            else:
                values = list(obj)
            text = repr([v for v in values if not callable(v)])
            for v in values:
                if isinstance(v, types.FunctionType) or isinstance(v, (dict, list, tuple)):
                    visit(v, namespace, depth + 1)
        else:
            return
        texts.append(text)
        for name in set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", text)):
            if name in namespace and not name.startswith("__"):
                visit(namespace[name], namespace, depth + 1)

    visit(item.function, vars(module))
    for name in item.fixturenames:
        defs = item._fixtureinfo.name2fixturedefs.get(name) or ()
        for d in defs:
            if getattr(d.func, "__module__", None) == module.__name__:
                visit(d.func, vars(module))
    if hasattr(item, "callspec"):
        texts.append(repr(item.callspec.params))

    text = "\n".join(texts)
    used = set()
    for tok in re.findall(r"\b[a-z][a-z0-9_]+\b", text):
        if tok in methods:
            used.add(methods[tok])
    for tok in re.findall(r"\b[a-z]+(?:-[a-z0-9]+)+\b", text):  # AWS CLI subcommands
        if tok.replace("-", "_") in methods:
            used.add(methods[tok.replace("-", "_")])
    for tok in re.findall(r"\b[A-Z][A-Za-z0-9]+\b", text):  # raw Action=…
        if tok in actions and re.search(rf"[\"']{tok}[\"']", text):
            used.add(tok)
    # Actions a test reaches only indirectly (an SDK's credential provider,
    # another language's SDK), declared with @pytest.mark.actions("AssumeRole").
    for mark in item.iter_markers("actions"):
        used.update(mark.args)
    return used


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "actions(*names): IAM/STS actions the test uses without naming them in its source (gating)",
    )


def pytest_collection_modifyitems(config, items):
    done = support.implemented()
    if done is None:
        return
    for item in items:
        missing = sorted(_actions_used(item) - done)
        if missing:
            item.add_marker(
                pytest.mark.xfail(reason=f"not implemented yet: {', '.join(missing)}", strict=True)
            )
