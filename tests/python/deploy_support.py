"""Helpers of test_deploy.py: render the kustomizations, walk pod templates,
and run `stsd check-config` / `stsd agent --check` on a configuration whose
absolute paths name files of the target machine.

`stsd check-config` opens every file a configuration names (TLS pair, JWKS,
SAML key, CA bundles). Those live on the target host or in a pod's volumes,
so `sandboxed` copies the TOML with each such path moved under a temporary
root, where it puts a stand-in of the right kind (a matching certificate and
key, a key set, a 0600 secret). Only the paths move: line numbers, keys and
every other value are what the file says.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"

# The account of every example, and a root key pair in stsd's minted layout.
ACCOUNT = "123456789012"


def stsd_bin() -> str:
    return os.environ.get("STSD_BIN") or str(REPO / "target/debug/stsd")


def venv_tool(name: str) -> str | None:
    """A console script installed beside this interpreter (the test venv),
    else one on PATH."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


# --- kustomize -----------------------------------------------------------


def kustomizations() -> list[Path]:
    return sorted(p.parent for p in K8S.rglob("kustomization.yaml"))


def render(kdir: Path, kubectl: str) -> list[dict]:
    out = subprocess.run(
        [kubectl, "kustomize", str(kdir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, f"{kdir}: {out.stderr}"
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def ident(obj: dict) -> str:
    m = obj["metadata"]
    return f"{obj['kind']}/{m.get('namespace', '-')}/{m['name']}"


def pod_spec(obj: dict) -> dict | None:
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"):
        return obj["spec"]["template"]["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if obj["kind"] == "Pod":
        return obj["spec"]
    return None


def containers(spec: dict) -> list[dict]:
    return spec.get("initContainers", []) + spec.get("containers", [])


def stsd_config_arg(c: dict) -> tuple[str, str] | None:
    """(subcommand, --config path) of a container running stsd."""
    args = c.get("command", []) + c.get("args", [])
    for sub in ("serve", "agent"):
        if sub in args and "--config" in args:
            return sub, args[args.index("--config") + 1]
    return None


# --- configuration sandbox ---------------------------------------------------

# Keys whose value is a path stsd (or the agent) opens.
FILE_KEY = re.compile(r"(_file|^data_dir)$")


def file_paths(node, key="") -> list[tuple[str, str]]:
    """(key, absolute path) of every file or directory a config names."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in file_paths(v, k)]
    if isinstance(node, list):
        return [p for v in node for p in file_paths(v, key)]
    if isinstance(node, str) and FILE_KEY.search(key) and node.startswith("/"):
        return [(key, node)]
    return []


class Standins:
    """Files of each kind, made once per session (`cryptography`, `jwcrypto`)."""

    def __init__(self):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from cryptography.x509.oid import NameOID
        from jwcrypto import jwk

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stsd.test")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("stsd.test")]), False)
            .sign(key, hashes.SHA256())
        )
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwks = jwk.JWKSet()
        jwks.add(jwk.JWK.generate(kty="RSA", size=2048, kid="k1", use="sig", alg="RS256"))
        self.by_kind = {
            "cert": cert.public_bytes(serialization.Encoding.PEM),
            "key": key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            "rsa": rsa_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            "jwks": jwks.export(private_keys=False).encode(),
            # A JWT's shape; the agent reads it at refresh, not at --check.
            "token": b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
            "secret": base64.b64encode(os.urandom(30)),
        }

    @staticmethod
    def kind(key: str) -> str | None:
        if key == "data_dir":
            return None  # a directory; created by stsd when needed
        if key in ("cert_file", "client_cert_file", "ca_file", "client_ca_file"):
            return "cert"
        if key in ("key_file", "client_key_file"):
            return "key"
        if key == "saml_private_key_file":
            return "rsa"
        if key == "jwks_file":
            return "jwks"
        if key in ("web_identity_token_file",):
            return "token"
        return "secret"  # master keys, agent secrets, authorization tokens


def sandboxed(toml_path: Path, root: Path, standins: Standins) -> Path:
    """A copy of `toml_path` under `root` whose absolute file paths point
    under `root`, each holding a stand-in (0600)."""
    text = toml_path.read_text()
    doc = tomllib.loads(text)
    for key, path in file_paths(doc):
        moved = root / path.lstrip("/")
        kind = standins.kind(key)
        if kind:
            moved.parent.mkdir(parents=True, exist_ok=True)
            moved.write_bytes(standins.by_kind[kind])
            moved.chmod(0o600)
        text = text.replace(json.dumps(path), json.dumps(str(moved)))
    out = root / toml_path.name
    out.write_text(text)
    return out


def root_key_id(account: str) -> str:
    """An AKIA id in stsd's minted layout (flag bit, 40-bit account, 39
    random bits; README "The IAM API"), as gen-secrets.sh makes it."""
    value = 1 << 79 | int(account) << 39 | int.from_bytes(os.urandom(5)) >> 1
    return "AKIA" + base64.b32encode(value.to_bytes(10, "big")).decode()


def decode_account(key_id: str) -> int | None:
    value = int.from_bytes(base64.b32decode(key_id[4:]), "big")
    return (value >> 39) & ((1 << 40) - 1) if value >> 79 else None


def broker_env(**extra: str) -> dict[str, str]:
    """A clean environment with every secret a broker example expects."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STSD_")}
    env.update(
        STSD_MASTER_KEY=base64.b64encode(os.urandom(32)).decode(),
        STSD_ROOT_ACCESS_KEY_ID=root_key_id(ACCOUNT),
        STSD_ROOT_SECRET_ACCESS_KEY=base64.b64encode(os.urandom(30)).decode(),
        STSD_REDIS_URL="redis://:not-a-secret@stsd-redis:6379/0",
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict | None = None, cwd: Path | None = None):
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def load_yaml(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


class DockerIgnore:
    """The .dockerignore rules the Dockerfile relies on, as Docker applies
    them (moby patternmatcher): a pattern matches a path or any of its
    parent directories, `*` and `?` stay within one path element, `**`
    spans several, `!` re-includes, and the last matching pattern wins."""

    def __init__(self, text: str):
        self.rules = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            keep = line.startswith("!")
            pat = os.path.normpath(line.lstrip("!").strip().lstrip("/"))
            rx = re.escape(pat).replace(r"\*\*", ".*").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
            self.rules.append((keep, re.compile(rx + r"\Z")))

    def excluded(self, path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        out = False
        for keep, rx in self.rules:
            if any(rx.match(p) for p in prefixes):
                out = not keep
        return out


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float = 10.0) -> bool:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return False
