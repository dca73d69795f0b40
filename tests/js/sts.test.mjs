// The JavaScript SDK v3 (@aws-sdk/client-sts, pinned in package.json)
// against a running stsd. tests/python/test_sts_providers.py starts the
// daemon, creates the user and roles with boto3 and runs this file with
// `node --test`, passing them in:
//
//   STSD_ENDPOINT         http://127.0.0.1:PORT
//   STSD_ACCOUNT          the account of the role
//   STSD_KEY_ID, STSD_SECRET   a user's long-term key allowed sts:AssumeRole
//   STSD_ROLE_ARN, STSD_ROLE_NAME, STSD_ROLE_ID   a role that trusts it
//   STSD_DENIED_ROLE_ARN  a role whose trust policy does not name it
//
// Without STSD_ENDPOINT every test is skipped.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  STSClient,
  getDefaultRoleAssumer,
} from "@aws-sdk/client-sts";

const env = process.env;
const endpoint = env.STSD_ENDPOINT;
const skip = endpoint ? false : "STSD_ENDPOINT is not set (run through tests/python/test_sts_providers.py)";
const region = "us-east-1";

function client(credentials) {
  return new STSClient({ region, endpoint, credentials, maxAttempts: 1 });
}

const longTerm = () => ({ accessKeyId: env.STSD_KEY_ID, secretAccessKey: env.STSD_SECRET });

function assumedRoleArn(session) {
  return `arn:aws:sts::${env.STSD_ACCOUNT}:assumed-role/${env.STSD_ROLE_NAME}/${session}`;
}

test("AssumeRole, then GetCallerIdentity with the session", { skip }, async () => {
  const out = await client(longTerm()).send(
    new AssumeRoleCommand({ RoleArn: env.STSD_ROLE_ARN, RoleSessionName: "js-session", DurationSeconds: 900 }),
  );
  const c = out.Credentials;
  assert.match(c.AccessKeyId, /^ASIA[A-Z2-7]{16}$/);
  assert.match(c.SecretAccessKey, /^[A-Za-z0-9+/]{40}$/);
  assert.ok(c.SessionToken.length > 20);
  assert.ok(c.Expiration instanceof Date);
  const left = (c.Expiration.getTime() - Date.now()) / 1000;
  assert.ok(left > 840 && left <= 960, `expires in ${left} s, expected 900`);
  assert.equal(out.AssumedRoleUser.Arn, assumedRoleArn("js-session"));
  assert.equal(out.AssumedRoleUser.AssumedRoleId, `${env.STSD_ROLE_ID}:js-session`);

  const who = await client({
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
  }).send(new GetCallerIdentityCommand({}));
  assert.equal(who.Arn, assumedRoleArn("js-session"));
  assert.equal(who.UserId, `${env.STSD_ROLE_ID}:js-session`);
  assert.equal(who.Account, env.STSD_ACCOUNT);
});

test("the SDK's role assumer as a client's credential provider", { skip }, async () => {
  // getDefaultRoleAssumer is what the SDK's ini/profile providers use for
  // role_arn + source_profile; here it backs a client's credentials.
  const assumeRole = getDefaultRoleAssumer({ region, endpoint, maxAttempts: 1 });
  let calls = 0;
  const provider = async () => {
    calls += 1;
    return assumeRole(longTerm(), { RoleArn: env.STSD_ROLE_ARN, RoleSessionName: "js-provider" });
  };
  const sts = client(provider);
  const who = await sts.send(new GetCallerIdentityCommand({}));
  assert.equal(who.Arn, assumedRoleArn("js-provider"));
  assert.equal(who.UserId, `${env.STSD_ROLE_ID}:js-provider`);
  assert.ok(calls >= 1);
});

test("a refused AssumeRole is an AccessDenied service error", { skip }, async () => {
  await assert.rejects(
    client(longTerm()).send(new AssumeRoleCommand({ RoleArn: env.STSD_DENIED_ROLE_ARN, RoleSessionName: "js-denied" })),
    (err) => {
      assert.equal(err.name, "AccessDenied");
      assert.equal(err.$metadata.httpStatusCode, 403);
      assert.match(err.message, /sts:AssumeRole/);
      return true;
    },
  );
});
