"""The identity providers a person signs in to in the browser tests, as
processes on loopback (docs/browser-tests.md):

- `OidcLoginOp`: node oidc-provider (tests/js/oidc-op.mjs) over HTTPS with
  a login form, for the authorization code flow with PKCE;
- `SamlLoginIdp`: pysaml2 (tests/python/saml_login_idp.py) with a login
  form, SP-initiated (HTTP-Redirect or POST AuthnRequest) and
  IdP-initiated, answering with the HTTP-POST binding.

Both read a READY line, live at most `lifetime_secs`, and are killed by
PID on close. `Pkce` and `decode_jwt_unverified` help a test play the
relying party.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
JS_DIR = HERE.parent / "js"


class _Process:
    """A helper process that prints READY first; its other stdout lines are
    kept in `lines`."""

    def __init__(self, cmd: list[str], cwd: Path, name: str, log: Path):
        self.name = name
        self._log = open(log, "w+")
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True
        )
        self.ready = self.proc.stdout.readline()
        if not self.ready.startswith("READY "):
            self.close()
            pytest.fail(f"{name} did not start: {self.ready!r}\n{self.logs()}", pytrace=False)
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_line(self, prefix: str, timeout: float = 30) -> str:
        """The next stdout line starting with `prefix` not taken yet (each is
        returned once)."""
        with self._cond:
            ok = self._cond.wait_for(lambda: any(l.startswith(prefix) for l in self.lines), timeout)
            if not ok:
                raise AssertionError(f"{self.name} printed no {prefix!r} line; got {self.lines}\n{self.logs()}")
            i = next(i for i, l in enumerate(self.lines) if l.startswith(prefix))
            return self.lines.pop(i)

    def logs(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read()[-4000:]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class OidcLoginOp(_Process):
    """tests/js/oidc-op.mjs on https://127.0.0.1:PORT with a login form.

    `clients`: [{"client_id", "client_secret" (absent: a public client),
    "redirect_uris": [...], "token_endpoint_auth_method"}];
    `accounts`: {login: {"password", "claims": {"sub", "email", "groups", ...}}}.
    `tls`: (ca.pem, leaf.pem, leaf-key.pem) from tls_ca.make_ca; `port`:
    a port chosen beforehand (support.free_port()), so that a relying party
    configured before the OP starts can name the issuer. A client whose
    redirect URI is known only later is added with `add_client`.
    """

    def __init__(self, dir: Path, tls: tuple[Path, Path, Path], clients: list[dict], accounts: dict,
                 lifetime_secs: int = 170, audience: str = "sts.amazonaws.com", port: int | None = None):
        if shutil.which("node") is None or not (JS_DIR / "node_modules" / "oidc-provider").is_dir():
            pytest.fail("node and tests/js/node_modules (make deps) are required", pytrace=False)
        from support import free_port

        self.ca, self.cert, self.key = tls
        self.port = port or free_port()
        self.issuer = f"https://127.0.0.1:{self.port}"
        self.clients = {c["client_id"]: c for c in clients}
        cfg = Path(dir) / f"oidc-op-{self.port}.json"
        cfg.write_text(json.dumps({
            "port": self.port, "cert": str(self.cert), "key": str(self.key), "audience": audience,
            "clients": clients, "accounts": accounts, "lifetimeSecs": lifetime_secs,
        }))
        super().__init__(["node", str(JS_DIR / "oidc-op.mjs"), str(cfg)], JS_DIR, "oidc-op",
                         Path(dir) / f"oidc-op-{self.port}.log")
        self.ssl = ssl.create_default_context(cafile=str(self.ca))

    def add_client(self, client: dict) -> None:
        """Adds (or replaces, by client_id) a client while the OP runs."""
        self.proc.stdin.write("client " + json.dumps(client) + "\n")
        self.proc.stdin.flush()
        assert self.wait_line("CLIENT ") == f"CLIENT {client['client_id']}"
        self.clients[client["client_id"]] = client

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def discovery(self) -> dict:
        return self.get_json("/.well-known/openid-configuration")

    def get_json(self, path: str) -> dict:
        with urllib.request.urlopen(self.issuer + path, context=self.ssl, timeout=10) as r:
            return json.loads(r.read())

    def authorization_url(self, client_id: str, redirect_uri: str, pkce: "Pkce", state: str, nonce: str,
                          scope: str = "openid profile email", **extra) -> str:
        q = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
             "state": state, "nonce": nonce, "code_challenge": pkce.challenge, "code_challenge_method": "S256", **extra}
        return f"{self.issuer}/auth?{urllib.parse.urlencode(q)}"

    def exchange(self, client_id: str, code: str, redirect_uri: str, verifier: str) -> tuple[int, dict]:
        """POSTs the code to the token endpoint, authenticating as the
        client's token_endpoint_auth_method says (client_secret_basic when it
        has a secret and says nothing); (status, JSON body)."""
        client = self.clients[client_id]
        body = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if client.get("token_endpoint_auth_method") == "client_secret_post":
            body.update(client_id=client_id, client_secret=client["client_secret"])
        elif client.get("client_secret"):
            auth = f"{urllib.parse.quote(client_id)}:{urllib.parse.quote(client['client_secret'])}"
            headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        else:
            body["client_id"] = client_id
        req = urllib.request.Request(f"{self.issuer}/token", data=urllib.parse.urlencode(body).encode(),
                                     method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, context=self.ssl, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")


class SamlLoginIdp(_Process):
    """tests/python/saml_login_idp.py as a process (see its docstring for
    the configuration): `sps` and `users` as there; `tls`: (cert, key) for
    HTTPS, else HTTP; `port`: 0 for any. `metadata` is the IdP's metadata
    XML (for IAM's CreateSAMLProvider); `sso_url`; `idp_init_url(sp)`; an
    SP known only once it runs is added with `add_sp`."""

    def __init__(self, dir: Path, sps: list[dict], users: dict, tls: tuple[Path, Path] | None = None,
                 entity_id: str | None = None, lifetime_secs: int = 170, assertion_minutes: int = 5,
                 port: int = 0):
        d = Path(dir) / "saml-idp"
        d.mkdir(parents=True, exist_ok=True)
        config = {"port": port, "dir": str(d), "sps": sps, "users": users, "lifetimeSecs": lifetime_secs,
                  "assertion_minutes": assertion_minutes}
        if tls:
            config["tls"] = {"cert": str(tls[0]), "key": str(tls[1])}
        if entity_id:
            config["entity_id"] = entity_id
        cfg = d / "config.json"
        cfg.write_text(json.dumps(config))
        super().__init__([sys.executable, str(HERE / "saml_login_idp.py"), str(cfg)], HERE, "saml-login-idp",
                         d / "stderr.log")
        _, self.base, self.entity_id = self.ready.split()
        self.dir = d
        self.cert = d / "idp.crt"
        self.metadata = (d / "idp-metadata.xml").read_text()
        self.sso_url = f"{self.base}/sso"

    def add_sp(self, sp: dict) -> None:
        """Adds (or replaces, by entity_id) a service provider while the IdP
        runs (the metadata and keys stay the same)."""
        self.proc.stdin.write("sp " + json.dumps(sp) + "\n")
        self.proc.stdin.flush()
        assert self.wait_line("SP ") == f"SP {sp['entity_id']}"

    def idp_init_url(self, sp: str, relay_state: str | None = None) -> str:
        q = {"sp": sp, **({"RelayState": relay_state} if relay_state is not None else {})}
        return f"{self.base}/idp-init?{urllib.parse.urlencode(q)}"

    def sent(self, timeout: float = 30) -> list[str]:
        """The next "SENT login sp acs in_response_to" line, split."""
        return self.wait_line("SENT ", timeout).split()[1:]


class Pkce:
    """A PKCE verifier and its S256 challenge."""

    def __init__(self):
        self.verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(self.verifier.encode()).digest()
        self.challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def decode_jwt_unverified(token: str) -> tuple[dict, dict]:
    """(header, claims) of a compact JWS, without checking anything."""
    def part(seg: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))

    h, c, _ = token.split(".")
    return part(h), part(c)
