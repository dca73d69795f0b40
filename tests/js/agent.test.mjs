// The JavaScript SDK v3's container and instance-metadata credential
// providers (@aws-sdk/credential-providers, pinned in package.json) against
// a running `stsd agent`, then GetCallerIdentity (@aws-sdk/client-sts) on
// the broker with what they resolved. tests/python/test_agent_sdks.py
// starts the broker and the agent and runs this file with `node --test`,
// passing in:
//
//   STSD_ENDPOINT               the broker, http://127.0.0.1:PORT
//   STSD_ACCOUNT                the role's account
//   STSD_ASSUMED_ROLE_ARN       arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
//   STSD_CONTAINER_URL          the agent's container-credentials URL
//   STSD_CONTAINER_TOKEN_FILE   the file holding its authorization token
//   STSD_IMDS_URL               the agent's IMDS root, http://127.0.0.1:PORT
//
// The providers read their configuration from process.env (the
// container provider knows no option for its URL, the IMDS one none for
// its endpoint), so each test sets the variables it needs and restores
// the others; node runs the tests of a file one after another.
//
// Without STSD_ENDPOINT every test is skipped.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromContainerMetadata, fromHttp, fromInstanceMetadata } from "@aws-sdk/credential-providers";

const env = process.env;
const endpoint = env.STSD_ENDPOINT;
const skip = endpoint ? false : "STSD_ENDPOINT is not set (run through tests/python/test_agent_sdks.py)";
const region = "us-east-1";

// Every variable an SDK provider might read; cleared around each test.
const PROVIDER_VARS = [
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
  "AWS_EC2_METADATA_V1_DISABLED",
  "AWS_EC2_METADATA_DISABLED",
];

/** Runs `fn` with exactly `vars` of PROVIDER_VARS set, then restores them. */
async function withEnv(vars, fn) {
  const saved = Object.fromEntries(PROVIDER_VARS.map((k) => [k, env[k]]));
  for (const k of PROVIDER_VARS) delete env[k];
  Object.assign(env, vars);
  try {
    return await fn();
  } finally {
    for (const k of PROVIDER_VARS) {
      if (saved[k] === undefined) delete env[k];
      else env[k] = saved[k];
    }
  }
}

/** GetCallerIdentity on the broker, the client resolving `provider` itself. */
async function callerIdentity(provider) {
  const sts = new STSClient({ region, endpoint, credentials: provider, maxAttempts: 1 });
  return sts.send(new GetCallerIdentityCommand({}));
}

function assertSessionCredentials(c) {
  assert.match(c.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
  assert.match(c.secretAccessKey, /^[A-Za-z0-9+/]{40}$/);
  assert.ok(c.sessionToken.length > 20);
  assert.ok(c.expiration instanceof Date && !Number.isNaN(c.expiration.getTime()));
  const left = (c.expiration.getTime() - Date.now()) / 1000;
  assert.ok(left > 600 && left <= 3600, `expires in ${left} s`);
}

const token = () => readFileSync(env.STSD_CONTAINER_TOKEN_FILE, "utf8");

test("fromContainerMetadata with AWS_CONTAINER_AUTHORIZATION_TOKEN", { skip }, async () => {
  // This provider reads the token only from the variable, not from a file.
  await withEnv(
    { AWS_CONTAINER_CREDENTIALS_FULL_URI: env.STSD_CONTAINER_URL, AWS_CONTAINER_AUTHORIZATION_TOKEN: token() },
    async () => {
      const provider = fromContainerMetadata({ timeout: 5000 });
      const c = await provider();
      assertSessionCredentials(c);
      assert.equal(c.accountId, env.STSD_ACCOUNT);
      const who = await callerIdentity(provider);
      assert.equal(who.Arn, env.STSD_ASSUMED_ROLE_ARN);
      assert.equal(who.Account, env.STSD_ACCOUNT);
    },
  );
});

test("fromContainerMetadata is refused with a wrong or no authorization token", { skip }, async () => {
  for (const vars of [{ AWS_CONTAINER_AUTHORIZATION_TOKEN: "not-the-token" }, {}]) {
    await withEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: env.STSD_CONTAINER_URL, ...vars }, async () => {
      await assert.rejects(fromContainerMetadata({ timeout: 5000 })(), (e) => {
        assert.equal(e.statusCode, 401, `${e}`);
        return true;
      });
    });
  }
});

test("fromHttp with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (the Node.js chain's container provider)", { skip }, async () => {
  await withEnv(
    {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: env.STSD_CONTAINER_URL,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: env.STSD_CONTAINER_TOKEN_FILE,
    },
    async () => {
      const provider = fromHttp({ timeout: 5000, maxRetries: 0 });
      assertSessionCredentials(await provider());
      const who = await callerIdentity(provider);
      assert.equal(who.Arn, env.STSD_ASSUMED_ROLE_ARN);
    },
  );
});

test("fromInstanceMetadata over IMDSv2 (v1 fallback disabled)", { skip }, async () => {
  await withEnv(
    { AWS_EC2_METADATA_SERVICE_ENDPOINT: env.STSD_IMDS_URL, AWS_EC2_METADATA_V1_DISABLED: "true" },
    async () => {
      const provider = fromInstanceMetadata({ timeout: 5000, maxRetries: 0 });
      const c = await provider();
      assertSessionCredentials(c);
      const who = await callerIdentity(provider);
      assert.equal(who.Arn, env.STSD_ASSUMED_ROLE_ARN);
      assert.equal(who.Account, env.STSD_ACCOUNT);
    },
  );
});
