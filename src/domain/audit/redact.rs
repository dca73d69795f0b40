//! What of a request and its result an audit record may carry.
//!
//! Owns: [`request_parameters`] — a Query request's flat parameters
//! (`Tags.member.1.Key=…`) as CloudTrail's nested lower-camel
//! `requestParameters` (`{"tags":[{"key":…}]}`) with every secret member
//! replaced by [`HIDDEN`] — [`response_elements`] — a result reduced the
//! same way, credentials to `accessKeyId` and `expiration`, and nothing
//! for reads — and [`read_only`]. The secret members are named once, in
//! [`SECRET_MEMBERS`]: passwords, MFA codes, SAML assertions, web-identity
//! tokens, context assertions, secret access keys, session tokens, MFA
//! seeds and QR codes. Pure; imports serde_json.

use serde_json::{Map, Value};

/// What replaces a secret value (CloudTrail's own marker).
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Members whose values never reach a record, compared case-insensitively
/// with the member's name (the last component of a parameter name).
pub const SECRET_MEMBERS: &[&str] = &[
    "password",
    "newpassword",
    "oldpassword",
    "authenticationcode1",
    "authenticationcode2",
    "tokencode",
    "samlassertion",
    "webidentitytoken",
    "contextassertion",
    "secretaccesskey",
    "sessiontoken",
    "base32stringseed",
    "qrcodepng",
    "privatekey",
    "clientsecret",
    "decodedmessage",
];

/// Whether `name` is a secret member.
pub fn is_secret(name: &str) -> bool {
    SECRET_MEMBERS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// Whether `action` only reads: `Get…`, `List…`, `Simulate…`,
/// `DecodeAuthorizationMessage`, `Authorize`, and the STS exchanges that
/// CloudTrail also marks read-only (`AssumeRole*`).
pub fn read_only(action: &str) -> bool {
    ["Get", "List", "Simulate", "Decode", "AssumeRole"]
        .iter()
        .any(|p| action.starts_with(p))
        || action == "Authorize"
}

/// `name` with its first character lowercased (`RoleArn` → `roleArn`).
pub fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A Query request's parameters as `requestParameters`: `Action` and
/// `Version` left out, `X.member.N` as arrays, `X.entry.N.key/value` as
/// arrays of `{key, value}`, `A.B` as nested objects, every name
/// lower-camel, every secret member's value [`HIDDEN`]. `None` when
/// nothing is left.
pub fn request_parameters<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<Value> {
    let mut root = Value::Object(Map::new());
    for (name, value) in params {
        if name == "Action" || name == "Version" {
            continue;
        }
        let parts: Vec<&str> = name.split('.').collect();
        let secret = parts.last().is_some_and(|last| is_secret(last));
        let value = if secret { HIDDEN } else { value };
        insert(&mut root, &parts, Value::from(value));
    }
    let root = compact(root);
    match &root {
        Value::Object(m) if m.is_empty() => None,
        _ => Some(root),
    }
}

/// Inserts `value` at the path `parts` (with `member`/`entry` + index
/// segments as array positions).
fn insert(node: &mut Value, parts: &[&str], value: Value) {
    let Some((first, rest)) = parts.split_first() else {
        *node = value;
        return;
    };
    if (*first == "member" || *first == "entry")
        && let Some((index, rest)) = rest.split_first()
        && let Ok(index) = index.parse::<usize>()
    {
        if !node.is_array() {
            *node = Value::Array(Vec::new());
        }
        if let Value::Array(items) = node {
            let at = index.saturating_sub(1).min(1000);
            while items.len() <= at {
                items.push(Value::Null);
            }
            if let Some(slot) = items.get_mut(at) {
                insert(slot, rest, value);
            }
        }
        return;
    }
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    if let Value::Object(map) = node {
        let slot = map.entry(lower_camel(first)).or_insert(Value::Null);
        insert(slot, rest, value);
    }
}

/// Drops the `null` holes a sparse list leaves.
fn compact(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .filter(|v| !v.is_null())
                .map(compact)
                .collect(),
        ),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, compact(v))).collect())
        }
        other => other,
    }
}

/// A result as `responseElements`: `None` for reads other than the
/// credential-minting ones (CloudTrail records no result for `Get…` and
/// `List…`), otherwise `result` with every secret member removed —
/// `credentials` keeps only `accessKeyId` and `expiration`.
pub fn response_elements(action: &str, result: Value) -> Option<Value> {
    let mints = action.starts_with("AssumeRole")
        || action == "GetSessionToken"
        || action == "GetFederationToken";
    if read_only(action) && !mints {
        return None;
    }
    let cleaned = strip(result);
    match &cleaned {
        Value::Object(m) if m.is_empty() => None,
        Value::Null => None,
        _ => Some(cleaned),
    }
}

/// `value` without secret members, at any depth.
fn strip(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| !is_secret(k))
                .map(|(k, v)| {
                    if k == "credentials" {
                        (k, credentials(v))
                    } else {
                        (k, strip(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip).collect()),
        other => other,
    }
}

/// `credentials` reduced to `accessKeyId` and `expiration`.
fn credentials(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| k == "accessKeyId" || k == "expiration")
                .collect(),
        ),
        _ => Value::Null,
    }
}
