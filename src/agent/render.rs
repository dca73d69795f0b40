//! The bodies the SDKs read (reference section 11).
//!
//! Owns: the container-credentials JSON (`AccessKeyId`, `SecretAccessKey`,
//! `Token`, `Expiration`, `AccountId`, `RoleArn`), the IMDS
//! security-credentials JSON (`Code`, `LastUpdated`, `Type`, …), IMDS's
//! `iam/info`, the `credential_process` Version 1 JSON, and the error body
//! `{"code", "message"}`. Times are `YYYY-MM-DDTHH:MM:SSZ` — the format
//! every SDK parses. The only place secrets are written out, to the SDK
//! that asked for them.

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::api::xml::format_timestamp;
use crate::domain::vending::VendedCredentials;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Container<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
    account_id: &'a str,
    role_arn: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Imds<'a> {
    code: &'static str,
    last_updated: String,
    #[serde(rename = "Type")]
    kind: &'static str,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ImdsInfo {
    code: &'static str,
    last_updated: String,
    instance_profile_arn: String,
    instance_profile_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Process<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
    expiration: String,
    account_id: &'a str,
}

#[derive(Serialize)]
struct Error<'a> {
    code: &'a str,
    message: &'a str,
}

/// The container endpoint's body.
pub fn container(c: &VendedCredentials) -> Vec<u8> {
    to_vec(&Container {
        access_key_id: &c.access_key_id,
        secret_access_key: c.secret_access_key.expose_secret(),
        token: c.session_token.expose_secret(),
        expiration: format_timestamp(c.expiration),
        account_id: &c.account_id,
        role_arn: &c.role_arn,
    })
}

/// IMDS's `security-credentials/<role>` body.
pub fn imds(c: &VendedCredentials) -> Vec<u8> {
    to_vec(&Imds {
        code: "Success",
        last_updated: format_timestamp(c.received),
        kind: "AWS-HMAC",
        access_key_id: &c.access_key_id,
        secret_access_key: c.secret_access_key.expose_secret(),
        token: c.session_token.expose_secret(),
        expiration: format_timestamp(c.expiration),
    })
}

/// IMDS's `iam/info` body: an instance profile named after the role, with
/// an id derived from the role's ARN (stable across restarts).
pub fn imds_info(role_arn: &str, now: i64) -> Vec<u8> {
    let (head, name) = role_arn.rsplit_once('/').unwrap_or((role_arn, role_arn));
    let account_prefix = head.split(":role").next().unwrap_or(head);
    let digest = Sha256::digest(role_arn.as_bytes());
    let id: String = data_encoding::BASE32_NOPAD
        .encode(&digest)
        .chars()
        .take(17)
        .collect();
    to_vec(&ImdsInfo {
        code: "Success",
        last_updated: format_timestamp(now),
        instance_profile_arn: format!("{account_prefix}:instance-profile/{name}"),
        instance_profile_id: format!("AIPA{id}"),
    })
}

/// `credential_process`'s Version 1 output.
pub fn process(c: &VendedCredentials) -> Vec<u8> {
    to_vec(&Process {
        version: 1,
        access_key_id: &c.access_key_id,
        secret_access_key: c.secret_access_key.expose_secret(),
        session_token: c.session_token.expose_secret(),
        expiration: format_timestamp(c.expiration),
        account_id: &c.account_id,
    })
}

/// An error body.
pub fn error(code: &str, message: &str) -> Vec<u8> {
    to_vec(&Error { code, message })
}

fn to_vec(value: &impl Serialize) -> Vec<u8> {
    // Serialising these structs of strings cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}
