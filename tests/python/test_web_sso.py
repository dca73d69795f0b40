"""Browser sign-in to a role (issue 9), in a real headless chromium.

The real stsd serves its sign-in pages; node oidc-provider (with its login
form) and a pysaml2 IdP (with its login form) run on loopback over HTTPS.
Playwright signs in as a person would, picks a role, reads the credentials
off the page, and boto3 calls GetCallerIdentity with them. The negative
paths — a role not offered (and a forged request for it), a replayed or
tampered SAML response, a missing or wrong CSRF token, an expired login —
are refused. Every page is screenshotted (tests/python/.screenshots/).

Every process started here listens on 127.0.0.1, is bounded in time and is
stopped by PID.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import boto3
import pytest

from browser import Browser, Listener, OutputWatcher, query_of
from idps import OidcLoginOp, Pkce, SamlLoginIdp
from stsutil import mfa_user
from support import ACCOUNT, REGION, Daemon, free_port, stsd_bin, terminate, uniq
from tls_ca import make_ca

pytestmark = pytest.mark.timeout(300)

CLIENT_ID = "stsd-web"
CLIENT_SECRET = "s3cret-web-client"
ACCOUNTS = {
    "alice": {"password": "correct horse", "claims": {"email": "alice@example.org", "groups": ["admins"]}},
    "bob": {"password": "battery staple", "claims": {"sub": "bob-0001", "email": "bob@example.org"}},
}
SAML_PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:saml-provider/web-idp"
SP_ENTITY = "urn:amazon:webservices"
# A second SP (an audience stsd accepts) whose ACS is the test's own
# listener: the way to hold a SAML response in hand and post it ourselves.
CAPTURE_SP = "https://signin.aws.amazon.com/saml"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


ROLES = {
    "dev": "web-dev",  # any person of the OIDC provider
    "admin": "web-admin",  # only alice (sub) of the OIDC provider
    "saml_admin": "web-saml-admin",
    "saml_reader": "web-saml-reader",
    "saml_denied": "web-saml-denied",  # in bob's Role attribute, but its trust says no
}


def saml_pair(name: str) -> str:
    return f"{role_arn(name)},{SAML_PROVIDER_ARN}"


# --- plain HTTP, no redirects followed -------------------------------------

def fetch(url: str, method: str = "GET", form: dict | None = None, cookie: str | None = None):
    """(status, headers, body text) of one request, redirects not followed."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookie:
        headers["Cookie"] = cookie
    path = u.path + (f"?{u.query}" if u.query else "")
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    text = r.read().decode("utf-8", "replace")
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, text, r.headers.get_all("Set-Cookie") or [])
    conn.close()
    return out


def csrf_of(b: Browser) -> str:
    """The page's CSRF token (a hidden field)."""
    return b.eval("document.querySelector('input[name=csrf]').value")


def session_cookie(b: Browser) -> str:
    [c] = [c for c in b.cookies() if c["name"] == "stsd-session"]
    return f"stsd-session={c['value']}"


# --- the world: IdPs, stsd, IAM ---------------------------------------------

@pytest.fixture(scope="module")
def pki():
    tmp = tempfile.TemporaryDirectory(prefix="stsd-web-")
    d = Path(tmp.name)
    yield d, make_ca(d)
    tmp.cleanup()


@pytest.fixture(scope="module")
def capture():
    with Listener() as listener:
        yield listener


@pytest.fixture(scope="module")
def op(pki):
    d, tls = pki
    with OidcLoginOp(d, tls, [], ACCOUNTS, port=free_port(), lifetime_secs=290) as p:
        yield p


@pytest.fixture(scope="module")
def saml_idp(pki):
    d, (_, cert, key) = pki
    users = {
        "alice": {"password": "correct horse", "subject": "alice@example.org",
                  "roles": [saml_pair(ROLES["saml_admin"]), saml_pair(ROLES["saml_reader"])]},
        "bob": {"password": "battery staple", "session_name": "bob",
                "roles": [saml_pair(ROLES["saml_reader"]), saml_pair(ROLES["saml_denied"])]},
    }
    with SamlLoginIdp(d, [], users, tls=(cert, key), assertion_minutes=5) as idp:
        yield idp


def web_config(op: OidcLoginOp, saml_idp: SamlLoginIdp, secret_file: Path, capture_acs: str,
               login_ttl: int = 600) -> str:
    return f"""
[federation]
# The test IdPs listen on 127.0.0.1 (the SSRF guard refuses loopback otherwise).
allow_private_addresses = true

[federation.saml]
recipients = ["{capture_acs}"]

[web]
login_ttl_secs = {login_ttl}

[[web.oidc]]
name = "corp"
label = "Corp OIDC"
issuer = "{op.issuer}"
client_id = "{CLIENT_ID}"
client_secret_file = "{secret_file}"

[[web.saml]]
name = "corp-saml"
label = "Corp SAML"
provider_arn = "{SAML_PROVIDER_ARN}"
sso_url = "{saml_idp.sso_url}"
"""


REDIRECTS: list[str] = []


def start_stsd(pki, op, saml_idp, capture, login_ttl: int = 600) -> Daemon:
    d, (ca, _, _) = pki
    secret = d / f"client-secret-{uniq('s')}"
    secret.write_text(CLIENT_SECRET + "\n")
    secret.chmod(0o600)
    daemon = Daemon(
        extra_env={"STSD_FEDERATION_CA_FILE": str(ca)},
        extra_config=web_config(op, saml_idp, secret, capture.url("/acs"), login_ttl),
    ).start()
    # One client for every daemon of this module: its redirect URIs grow.
    REDIRECTS.append(f"{daemon.endpoint}/web/oidc/corp/callback")
    op.add_client({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": list(REDIRECTS)})
    return daemon


@pytest.fixture(scope="module")
def stsd(pki, op, saml_idp, capture):
    daemon = start_stsd(pki, op, saml_idp, capture)
    saml_idp.add_sp({"entity_id": SP_ENTITY, "acs": [f"{daemon.endpoint}/saml"]})
    saml_idp.add_sp({"entity_id": CAPTURE_SP, "acs": [capture.url("/acs")]})
    iam = daemon.client("iam")
    iam.create_saml_provider(Name="web-idp", SAMLMetadataDocument=saml_idp.metadata)
    iam.create_open_id_connect_provider(Url=op.issuer, ClientIDList=[CLIENT_ID])
    host = op.issuer.removeprefix("https://")
    oidc = {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"}
    web_trust = lambda cond: {  # noqa: E731
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": oidc, "Action": "sts:AssumeRoleWithWebIdentity",
                       "Condition": {"StringEquals": cond}}],
    }
    iam.create_role(RoleName=ROLES["dev"], AssumeRolePolicyDocument=json.dumps(web_trust({f"{host}:aud": CLIENT_ID})))
    iam.create_role(RoleName=ROLES["admin"],
                    AssumeRolePolicyDocument=json.dumps(web_trust({f"{host}:aud": CLIENT_ID, f"{host}:sub": "alice"})))
    saml_trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": SAML_PROVIDER_ARN}, "Action": "sts:AssumeRoleWithSAML"}]}
    for key in ("saml_admin", "saml_reader"):
        iam.create_role(RoleName=ROLES[key], AssumeRolePolicyDocument=json.dumps(saml_trust))
    nobody = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/other"},
        "Action": "sts:AssumeRoleWithSAML"}]}
    iam.create_role(RoleName=ROLES["saml_denied"], AssumeRolePolicyDocument=json.dumps(nobody))
    yield daemon
    daemon.close()


def idp_sign_in(b: Browser, user: str, password: str, shot: str):
    b.wait_for("Username")
    b.screenshot(shot)
    b.fill("Username", user)
    b.fill("Password", password)
    b.click("Sign in")


def offered(b: Browser) -> set[str]:
    return {v for v in (b.attr(f"#role-{i}", "value") for i in range(b.count("input[name=role_arn]"))) if v}


def read_credentials(b: Browser) -> dict:
    return {
        "AccessKeyId": b.text("#access-key-id").strip(),
        "SecretAccessKey": b.text("#secret-access-key").strip(),
        "SessionToken": b.text("#session-token").strip(),
    }


def caller(stsd: Daemon, c: dict) -> dict:
    return stsd.client("sts", c["AccessKeyId"], c["SecretAccessKey"], c.get("SessionToken")).get_caller_identity()


def pick(b: Browser, role: str, shot: str):
    b.check(f"input[value='{role_arn(role)}']")
    b.screenshot(shot)
    b.click("Continue")
    b.wait_for_url(re.compile(r".*/web/credentials$"))


# --- OIDC ---------------------------------------------------------------------

def test_oidc_sign_in_offers_trusted_roles_and_mints_working_credentials(stsd, op, pki, browser_for):
    b = browser_for(trust=[pki[1][1]])
    b.goto(f"{stsd.endpoint}/web")
    b.screenshot("sign-in-page")
    assert b.text("h1") == "Sign in"
    b.click("Sign in with Corp OIDC")
    idp_sign_in(b, "alice", ACCOUNTS["alice"]["password"], "oidc-idp-form")
    b.wait_for_url(f"{stsd.endpoint}/web/roles")
    b.screenshot("role-picker")
    assert b.text("#person") == "alice@example.org"
    # Decided by the trust policies: both web roles, no SAML role.
    assert offered(b) == {role_arn(ROLES["dev"]), role_arn(ROLES["admin"])}
    pick(b, "web-admin", "role-picked")
    b.screenshot("credentials-page")
    creds = read_credentials(b)
    assert creds["AccessKeyId"].startswith("ASIA")
    me = caller(stsd, creds)
    assert me["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLES['admin']}/alice@example.org"
    # The snippets carry the same values; the countdown runs (app.js).
    bash = b.text("#export-bash")
    assert f"export AWS_ACCESS_KEY_ID={creds['AccessKeyId']}" in bash
    assert f"export AWS_SESSION_TOKEN={creds['SessionToken']}" in bash
    assert f"set -gx AWS_SECRET_ACCESS_KEY {creds['SecretAccessKey']}" in b.text("#export-fish")
    assert f'$Env:AWS_ACCESS_KEY_ID="{creds["AccessKeyId"]}"' in b.text("#export-powershell")
    assert f"aws_secret_access_key = {creds['SecretAccessKey']}" in b.text("#aws-credentials")
    assert "credential_process = stsd credential-process --profile" in b.text("#credential-process")
    assert re.search(r"in (\d+ h )?\d+ min", b.text("#countdown")), b.text("#countdown")
    assert b.count("button.copy:not([hidden])") == 5


def test_a_role_not_offered_is_not_listed_and_a_forged_pick_is_refused(stsd, pki, browser_for):
    b = browser_for(trust=[pki[1][1]])
    b.goto(f"{stsd.endpoint}/web")
    b.click("Sign in with Corp OIDC")
    idp_sign_in(b, "bob", ACCOUNTS["bob"]["password"], "oidc-idp-form-bob")
    b.wait_for_url(f"{stsd.endpoint}/web/roles")
    b.screenshot("role-picker-bob")
    assert offered(b) == {role_arn(ROLES["dev"])}
    csrf = csrf_of(b)
    cookie = session_cookie(b)
    # The forged form naming a role bob was not offered.
    status, _, body, _ = fetch(f"{stsd.endpoint}/web/roles", "POST",
                               {"csrf": csrf, "role_arn": role_arn(ROLES["admin"])}, cookie)
    assert status == 403 and "is not one you may assume" in body, (status, body)
    # Without, or with a wrong, CSRF token: refused before anything else.
    for form in ({"role_arn": role_arn(ROLES["dev"])}, {"csrf": "x" * 43, "role_arn": role_arn(ROLES["dev"])}):
        status, _, body, _ = fetch(f"{stsd.endpoint}/web/roles", "POST", form, cookie)
        assert status == 403 and "CSRF token" in body, (status, body)
    # Without the cookie, the token alone is worth nothing.
    status, _, body, _ = fetch(f"{stsd.endpoint}/web/roles", "POST", {"csrf": csrf, "role_arn": role_arn(ROLES["dev"])})
    assert status == 403 and "CSRF token" in body
    b.goto(f"{stsd.endpoint}/web/nope")  # stays on the broker; the real pick still works
    b.goto(f"{stsd.endpoint}/web/roles")
    pick(b, "web-dev", "role-picked-bob")
    assert caller(stsd, read_credentials(b))["Arn"].endswith(f"assumed-role/{ROLES['dev']}/bob@example.org")


# --- SAML ---------------------------------------------------------------------

def test_saml_sp_initiated_sign_in(stsd, saml_idp, pki, browser_for):
    b = browser_for(trust=[pki[1][1]])
    b.goto(f"{stsd.endpoint}/web")
    b.click("Sign in with Corp SAML")
    idp_sign_in(b, "alice", "correct horse", "saml-idp-form")
    b.wait_for_url(f"{stsd.endpoint}/web/roles")
    b.screenshot("saml-role-picker")
    assert offered(b) == {role_arn(ROLES["saml_admin"]), role_arn(ROLES["saml_reader"])}
    # The AuthnRequest was answered: the IdP saw stsd's SP entity and ACS,
    # and its response carried InResponseTo.
    sent = saml_idp.sent()
    assert sent[:3] == ["alice", SP_ENTITY, f"{stsd.endpoint}/saml"], sent
    assert sent[3].startswith("_"), sent
    pick(b, "web-saml-reader", "saml-role-picked")
    b.screenshot("saml-credentials")
    me = caller(stsd, read_credentials(b))
    assert me["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLES['saml_reader']}/")


def test_saml_idp_initiated_sign_in_lists_only_trusted_roles(stsd, saml_idp, pki, browser_for):
    b = browser_for(trust=[pki[1][1]])
    b.goto(saml_idp.idp_init_url(SP_ENTITY))
    idp_sign_in(b, "bob", "battery staple", "saml-idp-init-form")
    b.wait_for_url(f"{stsd.endpoint}/web/roles")
    b.screenshot("saml-idp-init-role-picker")
    # bob's Role attribute names two roles; the trust policy of one says no.
    assert offered(b) == {role_arn(ROLES["saml_reader"])}
    status, _, body, _ = fetch(f"{stsd.endpoint}/web/roles", "POST",
                               {"csrf": csrf_of(b), "role_arn": role_arn(ROLES["saml_denied"])},
                               session_cookie(b))
    assert status == 403 and "is not one you may assume" in body


def captured_response(stsd, saml_idp, capture, b: Browser, user="alice", password="correct horse") -> str:
    b.goto(saml_idp.idp_init_url(CAPTURE_SP))
    idp_sign_in(b, user, password, "saml-idp-form-capture")
    return capture.wait("/acs").form["SAMLResponse"]


def test_replayed_and_tampered_saml_responses_are_refused(stsd, saml_idp, capture, pki, browser_for):
    b = browser_for(trust=[pki[1][1]])
    response = captured_response(stsd, saml_idp, capture, b)
    # Tampered: one attribute value changed after signing.
    xml = base64.b64decode(response).decode()
    assert "web-saml-reader" in xml
    forged = base64.b64encode(xml.replace("web-saml-reader", "web-saml-denied").encode()).decode()
    status, _, body, cookies = fetch(f"{stsd.endpoint}/saml", "POST", {"SAMLResponse": forged})
    assert status in (400, 403) and not cookies, (status, body)
    assert "signature" in body.lower(), body
    # The genuine response: signed in (a session cookie, to the picker).
    status, headers, body, cookies = fetch(f"{stsd.endpoint}/saml", "POST", {"SAMLResponse": response})
    assert status == 303 and headers["location"] == "/web/roles", (status, body)
    [cookie] = [c.split(";")[0] for c in cookies if c.startswith("stsd-session=")]
    status, _, page, _ = fetch(f"{stsd.endpoint}/web/roles", cookie=cookie)
    assert status == 200 and role_arn(ROLES["saml_reader"]) in page
    # Replayed: the same response again is refused.
    status, _, body, cookies = fetch(f"{stsd.endpoint}/saml", "POST", {"SAMLResponse": response})
    assert status in (400, 403) and not cookies, (status, body)
    assert "already" in body.lower() or "replay" in body.lower(), body
    b.set_content(f"<main><pre>{status}</pre></main>")


def test_a_response_to_an_unknown_request_is_refused(stsd, saml_idp, pki, browser_for):
    """An SP-initiated response must answer an AuthnRequest stsd issued:
    started at one stsd, finished at another, it is refused."""
    b = browser_for(trust=[pki[1][1]])
    b.goto(f"{stsd.endpoint}/web/saml/corp-saml/start")
    assert "SAMLRequest=" in b.url
    # The request is pending; a fabricated ID in its place is not.
    status, _, body, _ = fetch(f"{stsd.endpoint}/saml", "POST", {"SAMLResponse": base64.b64encode(b"<x/>").decode()})
    assert status == 400 and "SAMLResponse" in body


# --- IAM users -----------------------------------------------------------------

def test_iam_user_signs_in_with_password_and_mfa(stsd, pki, browser_for):
    iam = stsd.client("iam")
    plain = uniq("web-user")
    iam.create_user(UserName=plain)
    iam.create_login_profile(UserName=plain, Password="Str0ng-Passw0rd!")
    b = browser_for(trust=[pki[1][1]])
    b.goto(f"{stsd.endpoint}/web")
    b.fill("Account ID or alias", ACCOUNT)
    b.fill("User name", plain)
    b.fill("Password", "wrong-Passw0rd!")
    b.click("Sign in")
    b.screenshot("iam-user-wrong-password")
    assert "is not correct" in b.text("#error")
    b.fill("Password", "Str0ng-Passw0rd!")
    b.click("Sign in")
    b.wait_for_url(f"{stsd.endpoint}/web/credentials")
    b.screenshot("iam-user-credentials")
    me = caller(stsd, read_credentials(b))
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{plain}"
    assert "PasswordLastUsed" in iam.get_user(UserName=plain)["User"]

    # An account alias works as the account; a user with a device needs its code.
    alias = uniq("web-alias")
    iam.create_account_alias(AccountAlias=alias)
    try:
        m = mfa_user(iam, stsd, prefix="web-mfa")
        iam.create_login_profile(UserName=m.user.name, Password="Str0ng-Passw0rd!")
        b.reset()
        b.goto(f"{stsd.endpoint}/web")
        b.fill("Account ID or alias", alias)
        b.fill("User name", m.user.name)
        b.fill("Password", "Str0ng-Passw0rd!")
        b.click("Sign in")
        b.screenshot("iam-user-mfa-needed")
        assert "code of your MFA device" in b.text("#error")
        b.fill("Password", "Str0ng-Passw0rd!")
        b.fill("#mfa_code", m.code())
        b.click("Sign in")
        b.wait_for_url(f"{stsd.endpoint}/web/credentials")
        creds = read_credentials(b)
        assert caller(stsd, creds)["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{m.user.name}"
        # The session is MFA-authenticated: a call needing MFA is allowed.
        sts = stsd.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        with pytest.raises(Exception) as refused:
            sts.get_session_token()  # session credentials cannot call it — proves they are a session
        assert "session credentials" in str(refused.value)
        # The same code again is refused (one use per code).
        b.reset()
        b.goto(f"{stsd.endpoint}/web")
        b.fill("Account ID or alias", alias)
        b.fill("User name", m.user.name)
        b.fill("Password", "Str0ng-Passw0rd!")
        b.fill("#mfa_code", m.code())
        b.click("Sign in")
        assert "is not correct" in b.text("#error")
    finally:
        iam.delete_account_alias(AccountAlias=alias)


def test_password_guessing_is_throttled(pki, op, saml_idp, capture, browser_for):
    """Wrong passwords count as failed authentications of the source
    address: past the allowance, even the right one is refused."""
    d, (ca, _, _) = pki
    daemon = Daemon(extra_config="[limits]\nauth_failures_per_source_ip = { burst = 3, period_ms = 600000 }\n").start()
    try:
        iam = daemon.client("iam")
        user = uniq("web-guess")
        iam.create_user(UserName=user)
        iam.create_login_profile(UserName=user, Password="Str0ng-Passw0rd!")
        b = browser_for()
        b.goto(f"{daemon.endpoint}/web")
        for i in range(3):
            b.fill("Account ID or alias", ACCOUNT)
            b.fill("User name", user)
            b.fill("Password", f"guess-{i}-Passw0rd!")
            b.click("Sign in")
            assert "is not correct" in b.text("#error")
        b.fill("Account ID or alias", ACCOUNT)
        b.fill("User name", user)
        b.fill("Password", "Str0ng-Passw0rd!")
        b.click("Sign in")
        b.screenshot("sign-in-throttled")
        assert "too many failed authentications" in b.text("#error"), b.text("#error")
        assert "/web/credentials" not in b.url
    finally:
        daemon.close()


def test_sign_out_ends_the_browser_session(stsd, pki, browser_for):
    iam = stsd.client("iam")
    user = uniq("web-out")
    iam.create_user(UserName=user)
    iam.create_login_profile(UserName=user, Password="Str0ng-Passw0rd!")
    b = browser_for(trust=[pki[1][1]])
    b.goto(f"{stsd.endpoint}/web")
    b.fill("Account ID or alias", ACCOUNT)
    b.fill("User name", user)
    b.fill("Password", "Str0ng-Passw0rd!")
    b.click("Sign in")
    b.wait_for_url(f"{stsd.endpoint}/web/credentials")
    cookie = session_cookie(b)
    b.click("Sign out")
    b.screenshot("signed-out")
    assert "signed out" in b.text("#signed-out")
    status, headers, _, _ = fetch(f"{stsd.endpoint}/web/credentials", cookie=cookie)
    assert status == 303 and headers["location"] == "/web"


# --- pages: headers, metadata --------------------------------------------------

def test_pages_send_strict_headers_and_cookies(stsd):
    status, headers, body, cookies = fetch(f"{stsd.endpoint}/web")
    assert status == 200
    csp = headers["content-security-policy"]
    for part in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                 "form-action 'self'", "base-uri 'none'"):
        assert part in csp, csp
    assert "unsafe-inline" not in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    [cookie] = cookies
    assert re.search(r"; HttpOnly", cookie) and "SameSite=Lax" in cookie and "Path=/" in cookie
    # Plain HTTP on loopback here, so not Secure; over TLS the cookie is
    # __Host- and Secure (unit test in src/api/web.rs).
    assert cookie.startswith("stsd-session=")
    assert '<label for="password">Password</label>' in body and "<script>" not in body
    status, headers, xml, _ = fetch(f"{stsd.endpoint}/web/saml/metadata")
    assert status == 200 and 'entityID="urn:amazon:webservices"' in xml
    assert f'Location="{stsd.endpoint}/saml"' in xml


def test_expired_login_state_is_refused(pki, op, saml_idp, capture, browser_for):
    daemon = start_stsd(pki, op, saml_idp, capture, login_ttl=10)
    try:
        iam = daemon.client("iam")
        iam.create_open_id_connect_provider(Url=op.issuer, ClientIDList=[CLIENT_ID])
        b = browser_for(trust=[pki[1][1]])
        b.goto(f"{daemon.endpoint}/web/oidc/corp/start")
        b.wait_for("Username")
        time.sleep(11)  # past the configured login lifetime (not a timing assertion)
        idp_sign_in(b, "alice", ACCOUNTS["alice"]["password"], "oidc-idp-form-late")
        b.wait_for_url(re.compile(rf"{re.escape(daemon.endpoint)}/web/oidc/corp/callback\?.*"))
        b.screenshot("login-expired")
        assert "took too long" in b.text("#error")
        # A callback whose state is not this browser's: refused the same way.
        b.goto(f"{daemon.endpoint}/web/oidc/corp/callback?code=abc&state=forged")
        assert "start again" in b.text("#error")
    finally:
        daemon.close()


# --- stsd login ----------------------------------------------------------------

def run_login(stsd: Daemon, *args: str, env: dict | None = None) -> tuple[subprocess.Popen, OutputWatcher]:
    proc = subprocess.Popen(
        [stsd_bin(), "login", "--broker", stsd.endpoint, "--no-browser", "--timeout-secs", "120", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )
    return proc, OutputWatcher(proc.stderr)


def test_stsd_login_with_a_role_then_credential_process(stsd, pki, browser_for, tmp_path):
    proc, out = run_login(stsd, "--role-arn", role_arn(ROLES["dev"]), "--profile", "dev", "--cache-dir", str(tmp_path))
    try:
        url = out.wait(r"(http://127\.0\.0\.1:\d+/web/cli\?\S+)").group(1)
        b = browser_for(trust=[pki[1][1]])
        b.goto(url)
        b.screenshot("cli-sign-in-page")
        b.click("Sign in with Corp OIDC")
        idp_sign_in(b, "bob", ACCOUNTS["bob"]["password"], "cli-idp-form")
        # The picker asks for consent, the role named by the command chosen.
        b.wait_for_url(f"{stsd.endpoint}/web/roles")
        b.screenshot("cli-consent")
        assert "stsd login" in b.text("#cli-request")
        assert b.eval(f"document.querySelector(\"input[value='{role_arn(ROLES['dev'])}']\").checked") is True
        b.click("Continue")
        b.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/callback\?.*"))
        b.screenshot("cli-callback")
        assert "Signed in" in b.text("#result")
        assert proc.wait(timeout=60) == 0, out.text()
    finally:
        terminate(proc, "stsd login", out.text)
    assert "Signed in as" in out.text() and "SecretAccessKey" not in out.text()
    cached = tmp_path / "dev.json"
    assert cached.stat().st_mode & 0o777 == 0o600
    served = subprocess.run([stsd_bin(), "credential-process", "--profile", "dev", "--cache-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=30)
    assert served.returncode == 0, served.stderr
    creds = json.loads(served.stdout)
    assert creds["Version"] == 1
    assert caller(stsd, creds)["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLES['dev']}/bob@example.org"
    # An unknown profile: a clear error naming the command to run.
    missing = subprocess.run([stsd_bin(), "credential-process", "--profile", "nope", "--cache-dir", str(tmp_path)],
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode == 1 and "stsd login --profile nope" in missing.stderr


def test_stsd_login_writes_the_shared_credentials_file(stsd, pki, browser_for, tmp_path):
    shared = tmp_path / "credentials"
    shared.write_text("[keep]\naws_access_key_id = AKIAKEEP\n")
    proc, out = run_login(stsd, "--profile", "work", "--write-credentials",
                          env={"AWS_SHARED_CREDENTIALS_FILE": str(shared)})
    try:
        url = out.wait(r"(http://127\.0\.0\.1:\d+/web/cli\?\S+)").group(1)
        b = browser_for(trust=[pki[1][1]])
        b.goto(url)
        b.click("Sign in with Corp SAML")
        idp_sign_in(b, "alice", "correct horse", "cli-saml-idp-form")
        # No role named: the picker, then back to the command line.
        b.wait_for_url(f"{stsd.endpoint}/web/roles")
        b.check(f"input[value='{role_arn(ROLES['saml_admin'])}']")
        b.click("Continue")
        b.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/callback\?.*"))
        assert proc.wait(timeout=60) == 0, out.text()
    finally:
        terminate(proc, "stsd login", out.text)
    text = shared.read_text()
    assert "[keep]\naws_access_key_id = AKIAKEEP" in text and "[work]" in text
    assert shared.stat().st_mode & 0o777 == 0o600
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(shared)
    try:
        session = boto3.session.Session(profile_name="work", region_name=REGION)
        me = session.client("sts", endpoint_url=stsd.endpoint).get_caller_identity()
    finally:
        del os.environ["AWS_SHARED_CREDENTIALS_FILE"]
    assert me["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLES['saml_admin']}/")


def test_the_one_time_code_needs_its_verifier_and_works_once(stsd, pki, browser_for):
    with Listener() as cli:
        pkce = Pkce()
        redirect = cli.url("/cb")
        start = (f"{stsd.endpoint}/web/cli?" + urllib.parse.urlencode({
            "redirect_uri": redirect, "state": "st-1", "code_challenge": pkce.challenge,
            "code_challenge_method": "S256", "role_arn": role_arn(ROLES["dev"])}))
        b = browser_for(trust=[pki[1][1]])
        b.goto(start)
        b.click("Sign in with Corp OIDC")
        idp_sign_in(b, "alice", ACCOUNTS["alice"]["password"], "cli-code-idp-form")
        b.wait_for_url(f"{stsd.endpoint}/web/roles")
        b.click("Continue")
        got = cli.wait("/cb")
        assert got.query["state"] == "st-1"
        code = got.query["code"]
        token = f"{stsd.endpoint}/web/cli/token"
        status, _, body, _ = fetch(token, "POST", {"code": code, "code_verifier": Pkce().verifier, "redirect_uri": redirect})
        assert status == 400 and json.loads(body)["error"] == "invalid_grant"
        # The code was spent by the failed try: the right verifier is too late.
        status, _, body, _ = fetch(token, "POST", {"code": code, "code_verifier": pkce.verifier, "redirect_uri": redirect})
        assert status == 400 and json.loads(body)["error"] == "invalid_grant"

        # A fresh round (a fresh browser: no IdP session), exchanged right, once.
        pkce = Pkce()
        b.reset()
        b.goto(start.replace(re.search(r"code_challenge=([^&]+)", start).group(1), pkce.challenge))
        b.click("Sign in with Corp OIDC")
        idp_sign_in(b, "alice", ACCOUNTS["alice"]["password"], "cli-code-idp-form-2")
        b.wait_for_url(f"{stsd.endpoint}/web/roles")
        b.click("Continue")
        code = cli.wait("/cb").query["code"]
        form = {"code": code, "code_verifier": pkce.verifier, "redirect_uri": redirect}
        status, _, body, _ = fetch(token, "POST", form)
        assert status == 200, body
        creds = json.loads(body)
        assert caller(stsd, creds)["Arn"].endswith(f"assumed-role/{ROLES['dev']}/alice@example.org")
        status, _, body, _ = fetch(token, "POST", form)
        assert status == 400 and json.loads(body)["error"] == "invalid_grant"
    # Only loopback http redirect URIs.
    bad = f"{stsd.endpoint}/web/cli?" + urllib.parse.urlencode({
        "redirect_uri": "https://evil.example/cb", "state": "s", "code_challenge": pkce.challenge})
    status, _, body, _ = fetch(bad)
    assert status == 400 and "redirect_uri" in body


# --- the audit trail -------------------------------------------------------------

def audit_records(daemon: Daemon, want, timeout: float = 15.0) -> list[dict]:
    """The daemon's audit records, once `want(records)` holds (the writer
    is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        records = []
        for f in sorted(daemon.audit_dir.glob("audit-*.jsonl")):
            records += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
        if want(records) or time.monotonic() > deadline:
            return records
        time.sleep(0.2)


def test_sign_ins_and_role_picks_are_audited(stsd):
    """Runs after the sign-ins above (module order): each left its record."""
    def named(records, name):
        return [r for r in records if r.get("eventName") == name]

    records = audit_records(stsd, lambda rs: len(named(rs, "SwitchRole")) >= 4)
    logins = named(records, "ConsoleLogin")
    outcomes = {(r["userIdentity"]["type"], r["responseElements"]["ConsoleLogin"]) for r in logins}
    assert ("IAMUser", "Success") in outcomes and ("WebIdentityUser", "Success") in outcomes, outcomes
    assert ("SAMLUser", "Success") in outcomes, outcomes
    assert any(r["responseElements"]["ConsoleLogin"] == "Failure" and r.get("errorMessage") for r in logins)
    for r in logins:
        assert r["eventSource"] == "stsd" and r["eventType"] == "AwsConsoleSignIn", r
        assert r["additionalEventData"]["MFAUsed"] in ("Yes", "No")
    assert any(r["additionalEventData"]["MFAUsed"] == "Yes" for r in logins)
    picks = named(records, "SwitchRole")
    roles = {r["additionalEventData"]["RoleArn"] for r in picks if r["responseElements"]["SwitchRole"] == "Success"}
    assert {role_arn(ROLES["admin"]), role_arn(ROLES["saml_reader"])} <= roles, roles
    # No password, code or token of the sign-ins is in the trail.
    text = "\n".join(f.read_text() for f in stsd.audit_dir.glob("audit-*.jsonl"))
    for secret in ("Str0ng-Passw0rd!", "wrong-Passw0rd!", CLIENT_SECRET, ACCOUNTS["alice"]["password"]):
        assert secret not in text
