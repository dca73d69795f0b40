"""A SAML identity provider with a login form, on loopback, for the browser
tests (docs/browser-tests.md). pysaml2 (with Debian's xmlsec1) parses the
AuthnRequests and signs the responses (saml_idp.IdP); nothing of stsd is
involved.

    python saml_login_idp.py CONFIG.json

CONFIG (JSON):

    {"port": 0,                        # 0: any free port
     "dir": "DIR",                     # keys (idp.key/idp.crt, made if missing); writes DIR/idp-metadata.xml
     "tls": {"cert": "leaf.pem", "key": "leaf-key.pem"},   # optional: HTTPS
     "entity_id": "https://idp.test/saml",                 # default BASE/metadata
     "sps": [{"entity_id": "urn:amazon:webservices",
              "acs": ["http://127.0.0.1:P/saml/acs"],      # the first is the IdP-initiated one
              "sign": "response",      # response | assertion | both
              "encrypt_cert": "sp.crt"}],                  # optional: sign the assertion, then encrypt it
                                                           # for this certificate (AES-256-CBC); "sign" is ignored
     "users": {"alice": {"password": "pw",
                         "subject": "alice@example.org",   # NameID (persistent); default the login
                         "roles": ["arn:aws:iam::123456789012:role/a,arn:aws:iam::123456789012:saml-provider/p"],
                         "session_name": "alice",          # RoleSessionName; default the login; null: none
                         "session_duration": 1800,         # optional SessionDuration
                         "attributes": {"https://aws.amazon.com/SAML/Attributes/PrincipalTag:team": ["blue"]}}},
     "assertion_minutes": 5,
     "lifetimeSecs": 170}

Endpoints (BASE is http(s)://127.0.0.1:PORT):
  GET  /metadata                  the IdP's metadata (also DIR/idp-metadata.xml)
  GET  /sso?SAMLRequest=&RelayState=   SP-initiated, HTTP-Redirect binding
  POST /sso (SAMLRequest, RelayState)  SP-initiated, HTTP-POST binding
  GET  /idp-init?sp=ENTITY[&RelayState=]  IdP-initiated (unsolicited)
  POST /login                     the form: login, password (labels Username,
                                  Password; button "Sign in"); a wrong one
                                  shows the form again with an error
                                  (role=alert); the right one answers with a
                                  page that POSTs the signed SAMLResponse
                                  (HTTP-POST binding, InResponseTo the
                                  request's ID) to the ACS by itself.
An AuthnRequest from an SP not in CONFIG, or naming an ACS URL the SP's
entry does not list, gets a 400 page and no form.

Prints "READY BASE ENTITY_ID" when listening, then one line per response
sent: "SENT <login> <sp> <acs> <in_response_to or ->". A line "sp {JSON}"
on stdin adds (or replaces, by entity_id) an entry of CONFIG.sps and
answers "SP <entity_id>". Exits after lifetimeSecs, on stdin's end or on
SIGTERM.
"""

from __future__ import annotations

import base64
import html
import json
import os
import secrets
import signal
import ssl
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from saml_idp import ATTR, IdP

STYLE = (
    "body{font-family:sans-serif;max-width:30rem;margin:3rem auto}"
    "label,input,button{display:block;margin:.4rem 0}.error{color:#b00020;font-weight:bold}"
)


def page(title: str, body: str) -> bytes:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    ).encode()


def login_form(pending: str, sp: str, login: str = "", error: str | None = None) -> bytes:
    alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return page(
        "Test SAML IdP: sign in",
        f"<h1>Test SAML IdP</h1><p>Sign in to continue to <strong id='sp'>{html.escape(sp)}</strong>.</p>{alert}"
        f'<form method="post" action="/login" autocomplete="off">'
        f'<input type="hidden" name="pending" value="{html.escape(pending)}">'
        f'<label for="login">Username</label><input id="login" name="login" value="{html.escape(login)}" autofocus>'
        f'<label for="password">Password</label><input id="password" name="password" type="password">'
        f'<button type="submit">Sign in</button></form>',
    )


def post_form(acs: str, saml_response: str, relay_state: str | None) -> bytes:
    """The HTTP-POST binding: a form the page submits by itself."""
    relay = (
        f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">' if relay_state is not None else ""
    )
    return page(
        "Test SAML IdP: signing in",
        f"<h1>Signing in…</h1><p>Sending you to <span id='acs'>{html.escape(acs)}</span>.</p>"
        f'<form id="saml" method="post" action="{html.escape(acs)}">'
        f'<input type="hidden" name="SAMLResponse" value="{html.escape(saml_response)}">{relay}'
        f'<noscript><button type="submit">Continue</button></noscript></form>'
        f"<script>document.getElementById('saml').submit()</script>",
    )


class LoginIdP:
    def __init__(self, config: dict):
        self.config = config
        self.users = config.get("users", {})
        self.sps = {sp["entity_id"]: sp for sp in config.get("sps", [])}
        self.tls = config.get("tls")
        self.server = ThreadingHTTPServer(("127.0.0.1", int(config.get("port", 0))), self.handler())
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.tls["cert"], self.tls["key"])
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        port = self.server.server_address[1]
        self.base = f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"
        self.entity_id = config.get("entity_id") or f"{self.base}/metadata"
        self.dir = Path(config["dir"])
        self.idp = self.make_idp()
        (self.dir / "idp-metadata.xml").write_text(self.idp.metadata())
        # pending login id -> (sp entity, acs, in_response_to, relay_state)
        self.pending: dict[str, tuple[str, str, str | None, str | None]] = {}
        self.lock = threading.Lock()

    def make_idp(self) -> IdP:
        """pysaml2's IdP for the SPs configured now (the same keys)."""
        return IdP(
            self.dir,
            entity_id=self.entity_id,
            lifetime_minutes=int(self.config.get("assertion_minutes", 5)),
            sps=[(sp["entity_id"], tuple(sp["acs"])) for sp in self.sps.values()],
            sso_url=f"{self.base}/sso",
        )

    def add_sp(self, sp: dict) -> None:
        with self.lock:
            self.sps[sp["entity_id"]] = sp
            self.idp = self.make_idp()
        print(f"SP {sp['entity_id']}", flush=True)

    # --- the protocol -------------------------------------------------------------

    def authn_request(self, saml_request: str, binding: str, relay_state: str | None):
        """(sp, acs, request id) of a valid AuthnRequest, or an error text."""
        try:
            req = self.idp.server.parse_authn_request(saml_request, binding)
        except Exception as e:  # pysaml2 raises many kinds
            return f"the AuthnRequest is not valid: {e}"
        if req is None:
            return "the AuthnRequest is not valid"
        msg = req.message
        sp = msg.issuer.text.strip() if msg.issuer is not None and msg.issuer.text else ""
        if sp not in self.sps:
            return f"unknown service provider {sp!r}"
        acs = msg.assertion_consumer_service_url or self.sps[sp]["acs"][0]
        if acs not in self.sps[sp]["acs"]:
            return f"{acs} is not an assertion consumer service of {sp}"
        if msg.protocol_binding not in (None, BINDING_HTTP_POST):
            return f"unsupported ProtocolBinding {msg.protocol_binding}"
        return sp, acs, msg.id

    def start(self, sp: str, acs: str, in_response_to: str | None, relay_state: str | None) -> str:
        pending = secrets.token_urlsafe(16)
        with self.lock:
            self.pending[pending] = (sp, acs, in_response_to, relay_state)
        return pending

    def response(self, login: str, sp: str, acs: str, in_response_to: str | None) -> str:
        user = self.users[login]
        attributes = {k: list(v) for k, v in (user.get("attributes") or {}).items()}
        if user.get("session_duration") is not None:
            attributes[ATTR + "SessionDuration"] = [str(user["session_duration"])]
        conf = self.sps[sp]
        sign = conf.get("sign", "response")
        encrypt = conf.get("encrypt_cert")
        xml = self.idp.response(
            role_arn="",
            provider_arn="",
            roles=list(user["roles"]),
            session_name=user.get("session_name", login),
            subject=user.get("subject", login),
            mode="encrypted" if encrypt else sign,
            attributes=attributes,
            audience=sp,
            recipient=acs,
            in_response_to=in_response_to,
            encrypt_cert=Path(encrypt) if encrypt else None,
        )
        return base64.b64encode(xml.encode()).decode()

    # --- HTTP -------------------------------------------------------------------------

    def handler(self):
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def refuse(self, message: str):
                self.send(400, page("Test SAML IdP: error", f"<h1>Error</h1><p role='alert'>{html.escape(message)}</p>"))

            def form(self) -> dict:
                n = int(self.headers.get("Content-Length") or 0)
                return dict(urllib.parse.parse_qsl(self.rfile.read(n).decode(), keep_blank_values=True))

            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
                if parts.path == "/metadata":
                    self.send(200, idp.idp.metadata().encode(), "application/samlmetadata+xml")
                elif parts.path == "/sso":
                    self.sso(q, BINDING_HTTP_REDIRECT)
                elif parts.path == "/idp-init":
                    sp = q.get("sp", "")
                    if sp not in idp.sps:
                        return self.refuse(f"unknown service provider {sp!r}")
                    pending = idp.start(sp, idp.sps[sp]["acs"][0], None, q.get("RelayState"))
                    self.send(200, login_form(pending, sp))
                else:
                    self.refuse(f"no page {parts.path}")

            def do_POST(self):
                path = urllib.parse.urlsplit(self.path).path
                form = self.form()
                if path == "/sso":
                    return self.sso(form, BINDING_HTTP_POST)
                if path != "/login":
                    return self.refuse(f"no page {path}")
                with idp.lock:
                    started = idp.pending.get(form.get("pending", ""))
                if started is None:
                    return self.refuse("no sign-in in progress (start again at the service provider)")
                sp, acs, in_response_to, relay_state = started
                login = form.get("login", "")
                user = idp.users.get(login)
                if user is None or user.get("password") != form.get("password"):
                    return self.send(200, login_form(form["pending"], sp, login, "Invalid username or password."))
                with idp.lock:
                    idp.pending.pop(form["pending"], None)
                saml_response = idp.response(login, sp, acs, in_response_to)
                print(f"SENT {login} {sp} {acs} {in_response_to or '-'}", flush=True)
                self.send(200, post_form(acs, saml_response, relay_state))

            def sso(self, params: dict, binding: str):
                if "SAMLRequest" not in params:
                    return self.refuse("no SAMLRequest")
                got = idp.authn_request(params["SAMLRequest"], binding, params.get("RelayState"))
                if isinstance(got, str):
                    return self.refuse(got)
                sp, acs, request_id = got
                pending = idp.start(sp, acs, request_id, params.get("RelayState"))
                self.send(200, login_form(pending, sp))

            def log_message(self, *a):
                pass

        return Handler

    def serve(self):
        print(f"READY {self.base} {self.entity_id}", flush=True)
        self.server.serve_forever()


def main(argv: list[str]) -> int:
    config = json.loads(Path(argv[0]).read_text())
    idp = LoginIdP(config)
    stop = lambda *_: os._exit(0)  # noqa: E731 - a signal handler
    signal.signal(signal.SIGTERM, stop)
    timer = threading.Timer(float(config.get("lifetimeSecs", 170)), stop)
    timer.daemon = True
    timer.start()

    def watch_stdin():
        for line in sys.stdin:
            if line.startswith("sp "):
                idp.add_sp(json.loads(line[3:]))
        stop()

    threading.Thread(target=watch_stdin, daemon=True).start()
    idp.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
