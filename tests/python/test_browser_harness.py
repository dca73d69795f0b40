"""The browser-test harness against the real identity providers on their
own (docs/browser-tests.md): a headless chromium (browser.py) signs in
through the login forms of node oidc-provider (idps.OidcLoginOp) and of
the pysaml2 IdP (idps.SamlLoginIdp); the relying party and the SAML SP are
played by this module on loopback listeners, with pysaml2's SP client and
jwcrypto checking what arrives. Then what the IdPs issued goes to the real
stsd through boto3 (AssumeRoleWithWebIdentity, AssumeRoleWithSAML), and
GetCallerIdentity answers for the session — so the IdPs are known to make
tokens and assertions stsd accepts.

Every process started here listens on 127.0.0.1, is bounded in time and
is stopped by PID.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from jwcrypto import jwk, jwt
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.sigver import SignatureError

from browser import Browser, Listener, OutputWatcher, opened_url, query_of, url_opener
from idps import OidcLoginOp, Pkce, SamlLoginIdp, decode_jwt_unverified
from saml_idp import ATTR, make_keypair
from support import ACCOUNT, REGION, Daemon, free_port, uniq
from tls_ca import make_ca

pytestmark = pytest.mark.timeout(170)

CLIENT_ID = "stsd-web"
CLIENT_SECRET = "s3cret-web"
ACCOUNTS = {
    "alice": {"password": "correct horse", "claims": {"email": "alice@example.org", "groups": ["admins", "dev"]}},
    "bob": {"password": "battery staple", "claims": {"sub": "bob-0001", "email": "bob@example.org", "groups": []}},
}
SAML_PROVIDER = "browser-idp"
SAML_PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:saml-provider/{SAML_PROVIDER}"
SP_ENTITY = "urn:amazon:webservices"
# An SP that sends its AuthnRequest by HTTP-POST and wants the assertion
# signed, and one whose assertions are encrypted for it (both audiences stsd
# accepts by default).
POST_SP = "urn:example:post-sp"
ENC_SP = "https://signin.aws.amazon.com/saml"


def role_pair(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name},{SAML_PROVIDER_ARN}"


@pytest.fixture(scope="module")
def pki():
    """A directory and a test CA with a leaf for 127.0.0.1 (ca, leaf, key)."""
    tmp = tempfile.TemporaryDirectory(prefix="stsd-browser-")
    d = Path(tmp.name)
    yield d, make_ca(d)
    tmp.cleanup()


def sign_in(b: Browser, user: str, password: str, shot: str):
    """What a person does at either IdP's form (a screenshot of it first)."""
    b.wait_for("Username")
    b.screenshot(shot)
    b.fill("Username", user)
    b.fill("Password", password)
    b.click("Sign in")


def test_browser_commands_on_a_role_picker(browser):
    """The commands the stsd pages' tests use, on a page like a role picker:
    the form's values arrive at a loopback listener as a person set them."""
    with Listener() as target:
        picker = f"""<!doctype html><title>Pick a role</title><h1>Pick a role</h1>
<form method="post" action="{target.url('/pick')}">
<fieldset><legend>Role</legend>
<label><input type="radio" name="role" value="arn:aws:iam::{ACCOUNT}:role/admin">admin</label>
<label><input type="radio" name="role" value="arn:aws:iam::{ACCOUNT}:role/reader">reader</label></fieldset>
<label for="duration">Session duration</label>
<select id="duration" name="duration"><option value="3600">1 hour</option><option value="43200">12 hours</option></select>
<label><input type="checkbox" name="remember" value="yes">Remember me</label>
<label for="note">Note</label><input id="note" name="note" placeholder="why">
<a href="{target.url('/help')}" data-kind="help">Help</a>
<button type="submit">Continue</button></form>"""
        assert browser.set_content(picker) == "about:blank"
        assert browser.title == "Pick a role"
        assert browser.texts("label") == ["admin", "reader", "Session duration", "Remember me", "Note"]
        assert browser.attr("Help", "data-kind") == "help"
        assert browser.eval("document.forms.length") == 1
        browser.click("reader")
        browser.select("Session duration", "12 hours")
        assert browser.value("Session duration") == "43200"
        browser.check("Remember me")
        browser.fill("why", "audit")
        browser.screenshot("role-picker")
        url = browser.press("Note", "Enter")
        assert url == target.url("/pick")
        form = target.wait("/pick").form
        assert form == {"role": f"arn:aws:iam::{ACCOUNT}:role/reader", "duration": "43200", "remember": "yes", "note": "audit"}
        assert browser.text("#method") == "POST"
        assert browser.cookies() == []
        browser.reset()
        assert browser.url == "about:blank"
        with pytest.raises(AssertionError, match="no visible element"):
            browser.wait_for("Nothing like this", timeout=0.5)
        shots = sorted(p.name for p in browser.screenshots.iterdir())
        assert shots[0] == "01-role-picker.png" and shots[1] == "02-error-wait_for.png"


# --- OpenID Connect: authorization code + PKCE through the login form ------------

@pytest.fixture(scope="module")
def rp():
    """The relying party's redirect target."""
    with Listener() as listener:
        yield listener


@pytest.fixture(scope="module")
def op(pki, rp):
    d, tls = pki
    clients = [
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [rp.url("/callback")]},
        {"client_id": "web-post", "client_secret": "s3cret-post", "token_endpoint_auth_method": "client_secret_post",
         "redirect_uris": [rp.url("/callback")]},
        {"client_id": "machine", "client_secret": "s3cret-machine"},
    ]
    # The port is chosen first, as when the RP's configuration names the issuer.
    port = free_port()
    with OidcLoginOp(d, tls, clients, ACCOUNTS, port=port) as p:
        assert p.issuer == f"https://127.0.0.1:{port}" == p.discovery()["issuer"]
        yield p


def verified_id_token(op: OidcLoginOp, token: str, audience: str = CLIENT_ID) -> dict:
    """The ID token's claims once its signature checks against the OP's
    JWKS (jwcrypto) and its iss, aud and exp are right."""
    keys = jwk.JWKSet.from_json(json.dumps(op.get_json("/jwks")))
    checked = jwt.JWT(jwt=token, key=keys, check_claims={"iss": op.issuer, "aud": audience, "exp": None})
    return json.loads(checked.claims)


def test_oidc_login_form_code_flow_with_pkce_and_nonce(op, rp, pki, browser_for):
    b = browser_for(trust=[pki[1][1]])
    pkce, state, nonce = Pkce(), secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    callback = rp.url("/callback")
    assert b.goto(op.authorization_url(CLIENT_ID, callback, pkce, state, nonce)) == 200
    assert b.text("h1") == "Test OpenID Provider"
    assert b.text("#client") == CLIENT_ID
    b.screenshot("op-login-form")

    # A wrong password: the form again, with an error, and no redirect.
    b.fill("Username", "alice")
    b.fill("Password", "not the password")
    b.click("Sign in")
    assert b.text("[role=alert]") == "Invalid username or password."
    assert b.value("Username") == "alice"
    assert b.url.startswith(f"{op.issuer}/interaction/")
    b.screenshot("op-wrong-password")

    b.fill("Password", ACCOUNTS["alice"]["password"])
    b.click("Sign in")
    landed = b.wait_for_url(f"{callback}?*")
    b.screenshot("rp-callback")
    req = rp.wait("/callback")
    assert query_of(landed) == req.query
    assert req.query["state"] == state
    assert req.query["iss"] == op.issuer

    status, tokens = op.exchange(CLIENT_ID, req.query["code"], callback, pkce.verifier)
    assert status == 200, tokens
    claims = verified_id_token(op, tokens["id_token"])
    assert claims["nonce"] == nonce
    assert claims["sub"] == "alice"
    assert claims["email"] == "alice@example.org"
    assert claims["groups"] == ["admins", "dev"]
    assert decode_jwt_unverified(tokens["id_token"])[0]["alg"] == "RS256"
    # A code is good once.
    status, body = op.exchange(CLIENT_ID, req.query["code"], callback, pkce.verifier)
    assert (status, body.get("error")) == (400, "invalid_grant")

    # The OP's session signs the same browser in again without the form;
    # that code is refused with another verifier (PKCE binds it).
    again, nonce2 = Pkce(), secrets.token_urlsafe(16)
    b.goto(op.authorization_url(CLIENT_ID, callback, again, "s2", nonce2))
    b.wait_for_url(f"{callback}?*")
    code = rp.wait("/callback").query["code"]
    status, body = op.exchange(CLIENT_ID, code, callback, Pkce().verifier)
    assert (status, body.get("error")) == (400, "invalid_grant")

    # Every page was saved for review, in order, under the test's name.
    assert b.screenshots.name == "test_browser_harness.py-test_oidc_login_form_code_flow_with_pkce_and_nonce"
    shots = sorted(b.screenshots.glob("*.png"))
    assert [p.name for p in shots] == ["01-op-login-form.png", "02-op-wrong-password.png", "03-rp-callback.png"]
    assert all(p.stat().st_size > 1000 for p in shots)


def test_oidc_requires_pkce_and_known_accounts(op, rp, pki, browser_for):
    b = browser_for(trust=[pki[1][1]])
    callback = rp.url("/callback")
    pkce = Pkce()
    # No code_challenge: the OP sends the browser back with an error.
    url = op.authorization_url(CLIENT_ID, callback, pkce, "no-pkce", "n1")
    url = re.sub(r"&code_challenge(_method)?=[^&]*", "", url)
    b.goto(url)
    b.wait_for_url(f"{callback}?*")
    back = rp.wait("/callback").query
    assert back["error"] == "invalid_request", back
    assert "PKCE" in back["error_description"]
    assert back["state"] == "no-pkce"
    # PKCE is S256 only.
    b.goto(op.authorization_url(CLIENT_ID, callback, pkce, "plain", "n1").replace("method=S256", "method=plain"))
    b.wait_for_url(f"{callback}?*")
    back = rp.wait("/callback").query
    assert (back["error"], back["state"]) == ("invalid_request", "plain"), back

    # An unknown user is refused like a wrong password (another client,
    # which authenticates with client_secret_post).
    b.goto(op.authorization_url("web-post", callback, pkce, "s", "n"))
    b.fill("Username", "mallory")
    b.fill("Password", "anything")
    b.click("Sign in")
    assert b.text("[role=alert]") == "Invalid username or password."
    b.screenshot("op-unknown-user")

    # bob's own "sub" claim is his subject.
    b.fill("Username", "bob")
    b.fill("Password", ACCOUNTS["bob"]["password"])
    b.click("Sign in")
    b.wait_for_url(f"{callback}?*")
    code = rp.wait("/callback").query["code"]
    status, tokens = op.exchange("web-post", code, callback, pkce.verifier)
    assert status == 200, tokens
    claims = verified_id_token(op, tokens["id_token"], "web-post")
    assert (claims["sub"], claims["email"], claims["groups"]) == ("bob-0001", "bob@example.org", [])


def test_https_is_trusted_only_for_the_keys_given(op, pki, tmp_path, browser):
    """The `browser` fixture trusts no test certificate: the OP's page fails
    as it would for a person; another key is no better; the OP's leaf is."""
    from browser import BrowserError

    with pytest.raises(BrowserError, match="ERR_CERT_AUTHORITY_INVALID"):
        browser.goto(op.discovery_url)
    other = make_ca(tmp_path)
    with Browser(tmp_path / "shots", trust=[other[0], other[1]]) as b:
        with pytest.raises(BrowserError, match="ERR_CERT_AUTHORITY_INVALID"):
            b.goto(op.discovery_url)
    with Browser(tmp_path / "shots", trust=[pki[1][1]]) as b:
        assert b.goto(op.discovery_url) == 200
        assert json.loads(b.body_text())["issuer"] == op.issuer


def test_oidc_client_credentials_still_served(op):
    """The machine clients of the web-identity tests keep their grant."""
    import urllib.parse
    import urllib.request

    body = urllib.parse.urlencode({"grant_type": "client_credentials", "resource": "urn:stsd:sts", "scope": "sts"})
    auth = base64.b64encode(b"machine:s3cret-machine").decode()
    req = urllib.request.Request(f"{op.issuer}/token", data=body.encode(), method="POST",
                                 headers={"Authorization": f"Basic {auth}",
                                          "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, context=op.ssl, timeout=10) as r:
        token = json.loads(r.read())["access_token"]
    assert decode_jwt_unverified(token)[1]["aud"] == "sts.amazonaws.com"


# A command line that signs in through the browser, as `stsd login` will: it
# listens on a loopback port, asks the desktop to open the sign-in URL
# ($BROWSER) and prints it, and takes the code from the redirect.
CLI = r"""
import os, subprocess, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
port, url = int(sys.argv[1]), sys.argv[2]
class Callback(BaseHTTPRequestHandler):
    def do_GET(self):
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        body = b"<!doctype html><title>cli</title><h1 id='done'>Signed in. You can close this window.</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        print("CODE", q["code"], q["state"], flush=True)
    def log_message(self, *a):
        pass
server = HTTPServer(("127.0.0.1", port), Callback)
server.timeout = 60
subprocess.run([os.environ["BROWSER"], url], check=True)
print("Open this URL to sign in:", url, file=sys.stderr, flush=True)
server.handle_request()
"""


def test_a_command_line_signs_in_through_the_browser(op, pki, tmp_path, browser_for):
    opener, opened = url_opener(tmp_path)
    pkce, state = Pkce(), secrets.token_urlsafe(12)
    cli_port = free_port()
    callback = f"http://127.0.0.1:{cli_port}/callback"
    # A public client (no secret, PKCE only), as a command line is, added
    # once its port is known.
    op.add_client({"client_id": "cli", "redirect_uris": [callback], "application_type": "native"})
    url = op.authorization_url("cli", callback, pkce, state, "cli-nonce")
    proc = subprocess.Popen([sys.executable, "-c", CLI, str(cli_port), url], env={"BROWSER": str(opener), "PATH": "/usr/bin:/bin"},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = OutputWatcher(proc.stdout), OutputWatcher(proc.stderr)
        printed = err.wait(r"https://127\.0\.0\.1:\d+/auth\?\S+").group(0)
        assert opened_url(opened) == printed == url
        b = browser_for(trust=[pki[1][1]])
        b.goto(printed)
        sign_in(b, "alice", ACCOUNTS["alice"]["password"], "cli-login-form")
        b.wait_for_url(f"{callback}?*")
        assert b.text("#done") == "Signed in. You can close this window."
        b.screenshot("cli-done")
        code, got_state = out.wait(r"^CODE (\S+) (\S+)$").groups()
        assert got_state == state
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    status, tokens = op.exchange("cli", code, callback, pkce.verifier)
    assert status == 200, tokens
    assert decode_jwt_unverified(tokens["id_token"])[1]["aud"] == "cli"


# --- SAML: SP-initiated and IdP-initiated through the login form -----------------

@pytest.fixture(scope="module")
def acs():
    """The SP's assertion consumer service."""
    with Listener() as listener:
        yield listener


def saml_users(roles: list[str]) -> dict:
    return {
        "alice": {"password": "correct horse", "subject": "alice@example.org", "roles": roles,
                  "session_duration": 1800},
        "bob": {"password": "battery staple", "roles": roles[:1], "session_name": "bob-session"},
    }


ROLE_NAMES = ("browser-admin", "browser-reader")


@pytest.fixture(scope="module")
def sp_keys(pki):
    """(key, cert) the encrypting SP decrypts with."""
    return make_keypair(pki[0], "enc-sp")


@pytest.fixture(scope="module")
def saml_idp(pki, acs, sp_keys):
    """Over HTTPS, like a real IdP; its form POSTs to the SP's HTTP ACS."""
    d, (_, cert, key) = pki
    sps = [
        {"entity_id": SP_ENTITY, "acs": [acs.url("/saml/acs")]},
        {"entity_id": POST_SP, "acs": [acs.url("/saml/acs-post")], "sign": "assertion"},
        {"entity_id": ENC_SP, "acs": [acs.url("/saml/acs-enc")], "encrypt_cert": str(sp_keys[1])},
    ]
    with SamlLoginIdp(d, sps, saml_users([role_pair(n) for n in ROLE_NAMES]), tls=(cert, key)) as idp:
        yield idp


def sp_client(idp: SamlLoginIdp, acs_url: str, entity_id: str = SP_ENTITY, signed: str = "response") -> Saml2Client:
    """pysaml2's SP, which wants the response (or the assertion) signed by
    the IdP's key."""
    conf = SPConfig()
    conf.load({
        "entityid": entity_id,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "allow_unknown_attributes": True,
        "metadata": {"inline": [idp.metadata]},
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(acs_url, BINDING_HTTP_POST)]},
            "allow_unsolicited": True,
            "want_response_signed": signed == "response",
            "want_assertions_signed": signed == "assertion",
            "authn_requests_signed": False,
        }},
    })
    return Saml2Client(config=conf)


def test_saml_sp_initiated_login_posts_a_signed_response(saml_idp, acs, pki, browser_for):
    b = browser_for(trust=[pki[1][1]])
    acs_url = acs.url("/saml/acs")
    client = sp_client(saml_idp, acs_url)
    request_id, info = client.prepare_for_authenticate(
        entityid=saml_idp.entity_id, relay_state="after-login", binding=BINDING_HTTP_REDIRECT
    )
    assert b.goto(dict(info["headers"])["Location"]) == 200
    assert b.text("#sp") == SP_ENTITY

    b.fill("Username", "alice")
    b.fill("Password", "wrong")
    b.click("Sign in")
    assert b.text("[role=alert]") == "Invalid username or password."
    b.screenshot("idp-wrong-password")
    sign_in(b, "alice", "correct horse", "idp-login-form")
    b.wait_for_url(acs_url)
    b.screenshot("sp-acs")
    posted = acs.wait("/saml/acs")
    assert posted.method == "POST"
    assert posted.form["RelayState"] == "after-login"
    assert saml_idp.sent() == ["alice", SP_ENTITY, acs_url, request_id]

    resp = client.parse_authn_request_response(
        posted.form["SAMLResponse"], BINDING_HTTP_POST, outstanding={request_id: acs_url}
    )
    assert resp.in_response_to == request_id
    assert resp.ava[ATTR + "Role"] == [role_pair(n) for n in ROLE_NAMES]
    assert resp.ava[ATTR + "RoleSessionName"] == ["alice"]
    assert resp.ava[ATTR + "SessionDuration"] == ["1800"]
    assert resp.name_id.text == "alice@example.org"
    confirmation = resp.assertion.subject.subject_confirmation[0].subject_confirmation_data
    assert confirmation.recipient == acs_url
    assert resp.assertion.conditions.audience_restriction[0].audience[0].text == SP_ENTITY

    # The signature covers the roles: an edited response is refused.
    xml = base64.b64decode(posted.form["SAMLResponse"]).decode()
    forged = base64.b64encode(xml.replace("role/browser-reader", "role/browser-root").encode()).decode()
    with pytest.raises(SignatureError):
        sp_client(saml_idp, acs_url).parse_authn_request_response(
            forged, BINDING_HTTP_POST, outstanding={request_id: acs_url}
        )


def test_saml_idp_initiated_login_posts_an_unsolicited_response(saml_idp, acs, pki, browser_for):
    b = browser_for(trust=[pki[1][1]])
    acs_url = acs.url("/saml/acs")
    b.goto(saml_idp.idp_init_url(SP_ENTITY, relay_state="console"))
    sign_in(b, "bob", "battery staple", "idp-init-login-form")
    b.wait_for_url(acs_url)
    posted = acs.wait("/saml/acs")
    assert posted.form["RelayState"] == "console"
    assert saml_idp.sent() == ["bob", SP_ENTITY, acs_url, "-"]
    resp = sp_client(saml_idp, acs_url).parse_authn_request_response(posted.form["SAMLResponse"], BINDING_HTTP_POST)
    assert resp.in_response_to is None
    assert resp.ava[ATTR + "Role"] == [role_pair(ROLE_NAMES[0])]
    assert resp.ava[ATTR + "RoleSessionName"] == ["bob-session"]
    assert ATTR + "SessionDuration" not in resp.ava
    assert resp.name_id.text == "bob"


def test_saml_post_binding_request_and_signed_assertion(saml_idp, acs, pki, browser_for):
    b = browser_for(trust=[pki[1][1]])
    acs_url = acs.url("/saml/acs-post")
    client = sp_client(saml_idp, acs_url, POST_SP, signed="assertion")
    request_id, info = client.prepare_for_authenticate(
        entityid=saml_idp.entity_id, relay_state="rs-post", binding=BINDING_HTTP_POST
    )
    # pysaml2's own page POSTs the AuthnRequest to the IdP by itself.
    b.set_content(info["data"])
    sign_in(b, "alice", "correct horse", "post-binding-login-form")
    b.wait_for_url(acs_url)
    posted = acs.wait("/saml/acs-post")
    assert posted.form["RelayState"] == "rs-post"
    resp = client.parse_authn_request_response(
        posted.form["SAMLResponse"], BINDING_HTTP_POST, outstanding={request_id: acs_url}
    )
    assert resp.in_response_to == request_id
    assert resp.assertion.signature is not None
    assert resp.response.signature is None
    assert resp.ava[ATTR + "Role"] == [role_pair(n) for n in ROLE_NAMES]


def test_saml_requests_from_strangers_get_no_form(saml_idp, acs, pki, browser_for):
    b = browser_for(trust=[pki[1][1]])
    stranger = sp_client(saml_idp, acs.url("/saml/acs"))
    stranger.config.entityid = "urn:example:stranger"
    _, info = stranger.prepare_for_authenticate(entityid=saml_idp.entity_id, binding=BINDING_HTTP_REDIRECT)
    assert b.goto(dict(info["headers"])["Location"]) == 400
    assert "unknown service provider" in b.text("[role=alert]")
    assert b.count("#password") == 0
    # A known SP asking for its response at an address it did not register.
    elsewhere = sp_client(saml_idp, "http://127.0.0.1:9/steal")
    _, info = elsewhere.prepare_for_authenticate(entityid=saml_idp.entity_id, binding=BINDING_HTTP_REDIRECT)
    assert b.goto(dict(info["headers"])["Location"]) == 400
    assert "is not an assertion consumer service" in b.text("[role=alert]")
    b.screenshot("idp-refuses-acs")
    assert b.goto(saml_idp.idp_init_url("urn:example:stranger")) == 400

    # Once the IdP knows the SP, the same kind of request gets the form.
    late = acs.url("/saml/acs-late")
    saml_idp.add_sp({"entity_id": "urn:example:late-sp", "acs": [late]})
    client = sp_client(saml_idp, late, "urn:example:late-sp")
    request_id, info = client.prepare_for_authenticate(entityid=saml_idp.entity_id, binding=BINDING_HTTP_REDIRECT)
    assert b.goto(dict(info["headers"])["Location"]) == 200
    sign_in(b, "bob", "battery staple", "late-sp-login-form")
    b.wait_for_url(late)
    resp = client.parse_authn_request_response(
        acs.wait("/saml/acs-late").form["SAMLResponse"], BINDING_HTTP_POST, outstanding={request_id: late}
    )
    assert resp.ava[ATTR + "RoleSessionName"] == ["bob-session"]


# --- what the IdPs issue, accepted by stsd ------------------------------------------

@pytest.fixture(scope="module")
def stsd(pki, op, saml_idp, acs, sp_keys):
    """stsd trusting the test CA, with the OP and the SAML IdP registered,
    taking assertions for the test's ACS URLs, decrypting with ENC_SP's key."""
    _, (ca, _, _) = pki
    extra = f"""
[federation]
# The test IdPs listen on 127.0.0.1 (the SSRF guard refuses loopback otherwise).
allow_private_addresses = true

[federation.saml]
recipients = ["{acs.url('/saml/acs')}", "{acs.url('/saml/acs-enc')}"]

[[federation.providers]]
arn = "{SAML_PROVIDER_ARN}"
saml_private_key_file = "{sp_keys[0]}"
"""
    d = Daemon(extra_env={"STSD_FEDERATION_CA_FILE": str(ca)}, extra_config=extra).start()
    iam = d.client("iam")
    iam.create_saml_provider(Name=SAML_PROVIDER, SAMLMetadataDocument=saml_idp.metadata)
    iam.create_open_id_connect_provider(Url=op.issuer, ClientIDList=[CLIENT_ID])
    yield d
    d.close()


def anonymous_sts(d: Daemon):
    return boto3.session.Session(region_name=REGION).client(
        "sts", endpoint_url=d.endpoint, config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1})
    )


def test_stsd_accepts_what_the_browser_brought_back(stsd, op, rp, saml_idp, acs, pki, browser_for):
    iam = stsd.client("iam")
    saml_trust = {"Effect": "Allow", "Principal": {"Federated": SAML_PROVIDER_ARN}, "Action": "sts:AssumeRoleWithSAML"}
    for name in ROLE_NAMES:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [saml_trust]}))
    web = uniq("browser-web")
    oidc_trust = {
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/127.0.0.1:{op.port}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"127.0.0.1:{op.port}:aud": CLIENT_ID}},
    }
    iam.create_role(RoleName=web, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [oidc_trust]}))
    anon = anonymous_sts(stsd)
    b = browser_for(trust=[pki[1][1]])

    # SAML, IdP-initiated: the second of alice's roles.
    b.goto(saml_idp.idp_init_url(SP_ENTITY))
    sign_in(b, "alice", "correct horse", "idp-init-for-stsd")
    b.wait_for_url(acs.url("/saml/acs"))
    assertion = acs.wait("/saml/acs").form["SAMLResponse"]
    r = anon.assume_role_with_saml(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAMES[1]}", PrincipalArn=SAML_PROVIDER_ARN, SAMLAssertion=assertion
    )
    c = r["Credentials"]
    me = stsd.client("sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAMES[1]}/alice"

    # An encrypted assertion, for the SP whose key stsd holds; the IdP's
    # session is per sign-in, so the form comes again.
    b.goto(saml_idp.idp_init_url(ENC_SP))
    sign_in(b, "alice", "correct horse", "idp-init-encrypted-for-stsd")
    b.wait_for_url(acs.url("/saml/acs-enc"))
    assertion = acs.wait("/saml/acs-enc").form["SAMLResponse"]
    assert b"EncryptedAssertion" in base64.b64decode(assertion)
    r = anon.assume_role_with_saml(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAMES[0]}", PrincipalArn=SAML_PROVIDER_ARN, SAMLAssertion=assertion
    )
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAMES[0]}/alice"
    assert r["Audience"] == acs.url("/saml/acs-enc")

    # OIDC: alice's ID token from the code flow.
    pkce, callback = Pkce(), rp.url("/callback")
    b.goto(op.authorization_url(CLIENT_ID, callback, pkce, "st", "nonce-stsd"))
    sign_in(b, "alice", ACCOUNTS["alice"]["password"], "op-login-for-stsd")
    b.wait_for_url(f"{callback}?*")
    status, tokens = op.exchange(CLIENT_ID, rp.wait("/callback").query["code"], callback, pkce.verifier)
    assert status == 200, tokens
    r = anon.assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{web}", RoleSessionName="alice", WebIdentityToken=tokens["id_token"]
    )
    c = r["Credentials"]
    me = stsd.client("sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{web}/alice"
    assert r["SubjectFromWebIdentityToken"] == "alice"
