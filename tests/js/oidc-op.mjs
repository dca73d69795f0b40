// A real OpenID Provider (node oidc-provider) on loopback over HTTPS, for
// stsd's web-identity tests (tests/python/test_federation_oidc.py).
//
//   node oidc-op.mjs CONFIG.json
//
// CONFIG: {"port": N, "cert": "leaf+chain.pem", "key": "key.pem",
//          "clients": [{"client_id": "...", "client_secret": "..."}],
//          "claims": {"<client_id>": {extra token claims}},
//          "audience": "sts.amazonaws.com", "ttl": 600,
//          "lifetimeSecs": 300}
//
// Serves discovery (/.well-known/openid-configuration) and JWKS (/jwks)
// for the issuer https://127.0.0.1:PORT, and issues RS256 JWT access
// tokens by the client_credentials grant (resource indicator
// "urn:stsd:sts", audience CONFIG.audience) with CONFIG.claims of the
// client added. Prints "READY <issuer> <kid>" when listening. A line
// "rotate" on stdin generates a new signing key, which signs from then on
// while the old one stays published; it answers "ROTATED <kid>". Exits by
// itself after CONFIG.lifetimeSecs, on stdin's end, or on SIGTERM.

import fs from "node:fs";
import https from "node:https";
import readline from "node:readline";
import Provider from "oidc-provider";
import { exportJWK, generateKeyPair } from "jose";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const issuer = `https://127.0.0.1:${config.port}`;
const RESOURCE = "urn:stsd:sts";

async function newKey(n) {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `k${n}-${Date.now().toString(36)}`, alg: "RS256", use: "sig" };
}

function provider(keys) {
  const p = new Provider(issuer, {
    clients: config.clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: "client_secret_basic",
    })),
    jwks: { keys },
    ttl: { ClientCredentials: config.ttl ?? 600 },
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
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
  return p.callback();
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
  }
});
lines.on("close", stop);
