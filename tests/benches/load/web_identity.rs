//! The AssumeRoleWithWebIdentity workload of the load generator (issue 5):
//! RS256 tokens, warm keys.
//!
//! The bench serves the keys itself: the daemon it starts gets an inline
//! JWKS in its configuration (`[[federation.providers]] jwks`, see
//! [`daemon_config`]) for the issuer [`ISSUER`], so no OpenID Provider
//! runs and no key fetch is in the measured path — "warm JWKS" is exactly
//! what a cached discovery key set costs after its first fetch (both end
//! as a `KeySet` in memory). [`setup`] registers the IAM OIDC provider and
//! a role trusting it through the IAM API; one token (2048-bit RSA key of
//! tests/fixtures/oidc, valid an hour) is signed with ring and sent by
//! every request, each with a new session name, unsigned as the SDKs send
//! it. Against an external daemon (`STSD_BENCH_ENDPOINT`) the workload is
//! skipped: its configuration is not ours to set.

use data_encoding::BASE64URL_NOPAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{self as sig, RsaKeyPair};

/// The issuer of the bench's tokens.
pub(crate) const ISSUER: &str = "https://bench.oidc.example.test";
/// Its client ID.
pub(crate) const AUDIENCE: &str = "sts.amazonaws.com";
const KEY: &[u8] = include_bytes!("../../fixtures/oidc/rsa-2048-a.pk8");

/// The provider's ARN in `account`.
pub(crate) fn provider_arn(account: &str) -> String {
    format!(
        "arn:aws:iam::{account}:oidc-provider/{}",
        ISSUER.trim_start_matches("https://")
    )
}

/// The configuration file of a daemon that serves the bench's keys inline.
pub(crate) fn daemon_config(account: &str) -> String {
    let key = RsaKeyPair::from_pkcs8(KEY).unwrap();
    let p = sig::RsaPublicKeyComponents::<Vec<u8>>::from(key.public());
    format!(
        "[[federation.providers]]\narn = \"{}\"\njwks = '{{\"keys\":[{{\"kty\":\"RSA\",\"kid\":\"bench\",\"alg\":\"RS256\",\"n\":\"{}\",\"e\":\"{}\"}}]}}'\n",
        provider_arn(account),
        B64.encode(&p.n),
        B64.encode(&p.e)
    )
}

/// A token for `sub`, issued `now`, valid an hour.
pub(crate) fn token(now: u64, sub: &str) -> String {
    let key = RsaKeyPair::from_pkcs8(KEY).unwrap();
    let header = r#"{"alg":"RS256","kid":"bench","typ":"JWT"}"#;
    let claims = format!(
        r#"{{"iss":"{ISSUER}","sub":"{sub}","aud":"{AUDIENCE}","iat":{now},"exp":{}}}"#,
        now + 3600
    );
    let message = format!(
        "{}.{}",
        B64.encode(header.as_bytes()),
        B64.encode(claims.as_bytes())
    );
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &sig::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{message}.{}", B64.encode(&signature))
}

/// The IAM calls (form bodies, without `Version`) that create the provider
/// and a role named `role` trusting it for `sub`.
pub(crate) fn setup_calls(
    account: &str,
    role: &str,
    sub: &str,
    enc: impl Fn(&str) -> String,
) -> Vec<String> {
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{}:sub":"{sub}","{}:aud":"{AUDIENCE}"}}}}}}]}}"#,
        provider_arn(account),
        ISSUER.trim_start_matches("https://"),
        ISSUER.trim_start_matches("https://"),
    );
    vec![
        format!(
            "Action=CreateOpenIDConnectProvider&Url={}&ClientIDList.member.1={}",
            enc(ISSUER),
            enc(AUDIENCE)
        ),
        format!(
            "Action=CreateRole&RoleName={role}&AssumeRolePolicyDocument={}",
            enc(&trust)
        ),
    ]
}

/// The form body of request `n`.
pub(crate) fn body(role_arn: &str, token: &str, n: u64, enc: impl Fn(&str) -> String) -> String {
    format!(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName=web-{n}&DurationSeconds=900&WebIdentityToken={}",
        enc(role_arn),
        token
    )
}
