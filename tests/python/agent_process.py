"""`stsd agent` as a process, and a cluster-like identity setup for it.

The agent is started with a TOML file the test writes, on loopback ports
the test picks, is bounded in time, and is stopped by its PID. The
"cluster" is what a Kubernetes API server would be for the broker: an RSA
key that signs projected service-account tokens (jwcrypto), whose public
JWKS the broker is given inline, as for a cluster it cannot reach.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from jwcrypto import jwk, jwt

from support import ACCOUNT, READY_TIMEOUT, free_ports, stsd_bin, terminate

ISSUER = "https://cluster.example.test/oidc"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/cluster.example.test/oidc"
AUDIENCE = "stsd"


class Cluster:
    """Signs service-account tokens; `broker_config()` is the TOML that
    makes a broker trust them."""

    def __init__(self):
        self.key = jwk.JWK.generate(kty="RSA", size=2048, kid="sa-1", alg="RS256", use="sig")

    def broker_config(self) -> str:
        jwks = json.dumps({"keys": [json.loads(self.key.export_public())]})
        return f"""
[federation]
clock_skew_secs = 0

[[federation.providers]]
arn = "{PROVIDER_ARN}"
jwks = '{jwks}'
"""

    def token(self, namespace: str, name: str, lifetime: int = 3600) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": f"system:serviceaccount:{namespace}:{name}",
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
        }
        t = jwt.JWT(header={"alg": "RS256", "kid": "sa-1"}, claims=claims)
        t.make_signed_token(self.key)
        return t.serialize()

    @staticmethod
    def trust(namespace: str, name: str) -> str:
        return json.dumps({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER_ARN},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {
                    "cluster.example.test/oidc:sub": f"system:serviceaccount:{namespace}:{name}",
                    "cluster.example.test/oidc:aud": AUDIENCE,
                }},
            }],
        })


def sidecar_sections(role_arn: str, session: str, token: Path, auth: Path) -> str:
    """The [role] and endpoint tables of a sidecar that authenticates with
    the token file `token` and guards its container endpoint with the
    token in `auth`; the ports are filled in by Agent."""
    return f"""
[role]
arn = "{role_arn}"
session_name = "{session}"
web_identity_token_file = "{token}"

[container]
listen = "127.0.0.1:{{container}}"
authorization_token_file = "{auth}"

[imds]
listen = "127.0.0.1:{{imds}}"

[health]
listen = "127.0.0.1:{{health}}"
"""


class Agent:
    """One `stsd agent` process. `sections` is the TOML after [broker];
    `{container}`, `{imds}` and `{health}` in it are replaced by free
    loopback ports."""

    def __init__(self, broker_endpoint: str, sections: str, env: dict | None = None):
        self.tmp = tempfile.TemporaryDirectory(prefix="stsd-agent-")
        self.dir = Path(self.tmp.name)
        self.ports = dict(zip(("container", "imds", "health"), free_ports(3)))
        self.config_path = self.dir / "agent.toml"
        self.config_path.write_text(
            f'[broker]\nendpoint = "{broker_endpoint}"\ntimeout_ms = 2000\n\n'
            + sections.format(**self.ports)
            + '\n[logging]\nlevel = "debug"\njson = true\n'
        )
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("STSD_", "AWS_"))}
        self.env.update(env or {})
        self.log_path = self.dir / "stderr.log"
        self.proc: subprocess.Popen | None = None

    def url(self, kind: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[kind]}{path}"

    def start(self, ready: bool = True) -> "Agent":
        with open(self.log_path, "ab") as err:
            self.proc = subprocess.Popen(
                [stsd_bin(), "agent", "--config", str(self.config_path)],
                env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                cwd=self.dir,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"stsd agent exited with {self.proc.returncode}\n{self.logs()}", pytrace=False)
            status, _ = self.get("health", "/readyz" if ready else "/healthz")
            if status == 200:
                return self
            time.sleep(0.05)
        pytest.fail(f"stsd agent did not become ready within {READY_TIMEOUT}s\n{self.logs()}", pytrace=False)

    def get(self, kind: str, path: str, headers: dict | None = None, method: str = "GET") -> tuple[int, bytes]:
        req = urllib.request.Request(self.url(kind, path), headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except (urllib.error.URLError, ConnectionError, OSError):
            return 0, b""

    def health(self) -> dict:
        status, body = self.get("health", "/healthz")
        assert status == 200, (status, body)
        return json.loads(body)

    def logs(self, tail: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()[-tail:]
        except FileNotFoundError:
            lines = []
        return "--- stsd agent stderr ---\n" + "\n".join(lines)

    def stop(self) -> int:
        if self.proc is None:
            return 0
        code = terminate(self.proc, "stsd agent", self.logs)
        self.proc = None
        return code

    def close(self) -> None:
        try:
            code = self.stop()
            assert code == 0, f"stsd agent exited with {code} after SIGTERM\n{self.logs()}"
        finally:
            self.tmp.cleanup()
