// A real OpenID Provider (node oidc-provider) on loopback over HTTPS, for
// stsd's web-identity tests (tests/python/test_federation_oidc.py) and its
// browser sign-in tests (tests/python/browser.py, docs/browser-tests.md).
//
//   node oidc-op.mjs CONFIG.json
//
// CONFIG: {"port": N, "cert": "leaf+chain.pem", "key": "key.pem",
//          "clients": [{"client_id": "...", "client_secret": "...",
//                       "redirect_uris": ["http://127.0.0.1:P/callback"],
//                       "token_endpoint_auth_method": "client_secret_basic"}],
//          "claims": {"<client_id>": {extra token claims}},
//          "accounts": {"<login>": {"password": "...",
//                                   "claims": {"sub": "...", "email": "...",
//                                              "groups": ["..."]}}},
//          "audience": "sts.amazonaws.com", "ttl": 600,
//          "lifetimeSecs": 300}
//
// Serves discovery (/.well-known/openid-configuration) and JWKS (/jwks)
// for the issuer https://127.0.0.1:PORT, and issues RS256 JWT access
// tokens by the client_credentials grant (resource indicator
// "urn:stsd:sts", audience CONFIG.audience) with CONFIG.claims of the
// client added.
//
// A client with redirect_uris can also sign users in with the
// authorization code flow (response_type=code, PKCE S256 required, nonce,
// scopes openid profile email groups): /auth sends the browser to
// /interaction/UID, a login form (inputs "login" and "password", labelled
// Username and Password, button "Sign in") checked against
// CONFIG.accounts; a wrong password shows the form again with an error
// (role=alert). Consent is granted without a page. The ID token (RS256)
// carries the account's claims ("sub" defaults to the login; "email" and
// "email_verified" with scope email; every other claim, e.g. "groups",
// with scope profile or groups). A client without a secret is public
// ("token_endpoint_auth_method": "none").
//
// Prints "READY <issuer> <kid>" when listening. A line "rotate" on stdin
// generates a new signing key, which signs from then on while the old one
// stays published; it answers "ROTATED <kid>". A line "client {JSON}" adds
// (or replaces, by client_id) a client as in CONFIG.clients, for a relying
// party whose redirect URI is known only once it runs; it answers
// "CLIENT <client_id>". Exits by itself after CONFIG.lifetimeSecs, on
// stdin's end, or on SIGTERM.

import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import readline from "node:readline";
import Provider from "oidc-provider";
import { exportJWK, generateKeyPair } from "jose";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const issuer = `https://127.0.0.1:${config.port}`;
const RESOURCE = "urn:stsd:sts";
const accounts = config.accounts ?? {};
const cookieKeys = [crypto.randomBytes(32).toString("base64url")];
const STANDARD = new Set(["sub", "email", "email_verified"]);
// Every claim an account has beyond sub and email is released with the
// profile (or groups) scope.
const extraClaims = [...new Set(Object.values(accounts).flatMap((a) => Object.keys(a.claims ?? {})))]
  .filter((c) => !STANDARD.has(c));

function clientMetadata(c) {
  const login = (c.redirect_uris ?? []).length > 0;
  const grants = [];
  if (c.client_secret) grants.push("client_credentials");
  if (login) grants.push("authorization_code");
  return {
    client_id: c.client_id,
    ...(c.client_secret ? { client_secret: c.client_secret } : {}),
    grant_types: grants,
    redirect_uris: c.redirect_uris ?? [],
    response_types: login ? ["code"] : [],
    token_endpoint_auth_method: c.token_endpoint_auth_method ?? (c.client_secret ? "client_secret_basic" : "none"),
    ...(c.application_type ? { application_type: c.application_type } : {}),
  };
}

// An account's id (the ID token's "sub") is its "sub" claim, else its login.
const subjectOf = (login) => accounts[login].claims?.sub ?? login;
const bySubject = new Map(Object.keys(accounts).map((login) => [subjectOf(login), accounts[login]]));

async function findAccount(_ctx, sub) {
  const account = bySubject.get(sub);
  if (!account) return undefined;
  return {
    accountId: sub,
    claims: () => ({ ...(account.claims ?? {}), sub }),
  };
}

async function newKey(n) {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `k${n}-${Date.now().toString(36)}`, alg: "RS256", use: "sig" };
}

function provider(keys) {
  const p = new Provider(issuer, {
    clients: config.clients.map(clientMetadata),
    jwks: { keys },
    ttl: { ClientCredentials: config.ttl ?? 600 },
    findAccount,
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "preferred_username", ...extraClaims],
      groups: ["groups"],
    },
    scopes: ["openid", "offline_access", "profile", "email", "groups"],
    // The scopes' claims go into the ID token too, not only to userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: { keys: cookieKeys },
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // Only the client_credentials grant is for STS; a user's sign-in
        // gets an opaque access token for userinfo.
        defaultResource: (ctx) => (ctx.oidc.params?.grant_type === "client_credentials" ? RESOURCE : undefined),
        getResourceServerInfo: () => ({
          scope: "sts",
          audience: config.audience,
          accessTokenTTL: config.ttl ?? 600,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "RS256" } },
        }),
      },
    },
    extraTokenClaims: (_ctx, token) => config.claims?.[token.clientId] ?? undefined,
  });
  const callback = p.callback();
  return (req, res) => {
    if (req.url.startsWith("/interaction/")) {
      interaction(p, req, res).catch((e) => {
        res.statusCode = 500;
        res.setHeader("Content-Type", "text/plain");
        res.end(`interaction failed: ${e.message}`);
      });
      return;
    }
    callback(req, res);
  };
}

// --- the sign-in form ------------------------------------------------------------

const escape = (v) =>
  String(v).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function loginPage(uid, clientId, login, error) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test OpenID Provider: sign in</title>
<style>body{font-family:sans-serif;max-width:26rem;margin:3rem auto}label,input,button{display:block;margin:.4rem 0}
.error{color:#b00020;font-weight:bold}</style></head>
<body><h1>Test OpenID Provider</h1>
<p>Sign in to continue to <strong id="client">${escape(clientId)}</strong>.</p>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ""}
<form method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
<label for="login">Username</label><input id="login" name="login" value="${escape(login ?? "")}" autofocus>
<label for="password">Password</label><input id="password" name="password" type="password">
<button type="submit">Sign in</button>
</form></body></html>`;
}

async function formBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function html(res, status, body) {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.end(body);
}

// GET /interaction/UID shows the form (or grants consent without a page);
// POST /interaction/UID/login checks the password.
async function interaction(p, req, res) {
  const details = await p.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  if (req.method === "POST" && req.url.endsWith("/login")) {
    const form = await formBody(req);
    const login = form.get("login") ?? "";
    const account = Object.hasOwn(accounts, login) ? accounts[login] : undefined;
    if (!account || account.password !== form.get("password")) {
      html(res, 200, loginPage(uid, params.client_id, login, "Invalid username or password."));
      return;
    }
    await p.interactionFinished(req, res, { login: { accountId: subjectOf(login) } }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === "login") {
    html(res, 200, loginPage(uid, params.client_id, params.login_hint, null));
    return;
  }
  if (prompt.name === "consent") {
    const grant = details.grantId
      ? await p.Grant.find(details.grantId)
      : new p.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(" "));
    }
    const grantId = await grant.save();
    await p.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  html(res, 400, `<!doctype html><p role="alert">unexpected prompt ${escape(prompt.name)}</p>`);
}

let n = 1;
const keys = [await newKey(n)];
let handler = provider(keys);
const server = https.createServer(
  { cert: fs.readFileSync(config.cert), key: fs.readFileSync(config.key) },
  (req, res) => handler(req, res),
);
server.listen(config.port, "127.0.0.1", () => {
  process.stdout.write(`READY ${issuer} ${keys[0].kid}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
};
setTimeout(stop, (config.lifetimeSecs ?? 300) * 1000).unref();
process.on("SIGTERM", stop);

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  if (line.trim() === "rotate") {
    n += 1;
    keys.unshift(await newKey(n));
    handler = provider(keys);
    process.stdout.write(`ROTATED ${keys[0].kid}\n`);
  } else if (line.startsWith("client ")) {
    const client = JSON.parse(line.slice("client ".length));
    config.clients = [...config.clients.filter((c) => c.client_id !== client.client_id), client];
    handler = provider(keys);
    process.stdout.write(`CLIENT ${client.client_id}\n`);
  }
});
lines.on("close", stop);
