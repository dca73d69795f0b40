//! Strict `application/x-www-form-urlencoded` decoding.
//!
//! Owns: turning raw query or body bytes into unique name/value pairs.
//! Unlike lenient decoders it refuses, instead of passing through or
//! replacing, a `%` not followed by two hex digits and bytes that are not
//! UTF-8 after decoding: both are client bugs or attacks, and a replaced
//! character could change what a signature or policy sees.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use super::{Limits, echo};
use crate::service::error::{ErrorCode, ServiceError};

/// Decodes `raw` into pairs; empty segments (`a=1&&b=2`) are skipped and a
/// segment without `=` is a name with an empty value.
pub(super) fn decode(
    raw: &[u8],
    limits: &Limits,
) -> Result<BTreeMap<String, String>, ServiceError> {
    let mut out = BTreeMap::new();
    for segment in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = pair(segment, limits)?;
        if out.len() >= limits.max_params {
            return Err(ServiceError::new(
                ErrorCode::ValidationError,
                format!(
                    "The request has more than {} parameters.",
                    limits.max_params
                ),
            ));
        }
        match out.entry(name) {
            Entry::Occupied(taken) => {
                return Err(ServiceError::new(
                    ErrorCode::ValidationError,
                    format!("The parameter '{}' appears more than once.", taken.key()),
                ));
            }
            Entry::Vacant(slot) => {
                slot.insert(value);
            }
        }
    }
    Ok(out)
}

/// One `name=value` segment, decoded and checked against `limits`.
fn pair(segment: &[u8], limits: &Limits) -> Result<(String, String), ServiceError> {
    let (raw_name, raw_value) = match segment.iter().position(|b| *b == b'=') {
        Some(i) => (
            segment.get(..i).unwrap_or_default(),
            segment.get(i + 1..).unwrap_or_default(),
        ),
        None => (segment, &[][..]),
    };
    let name = component(raw_name).ok_or_else(|| {
        ServiceError::new(
            ErrorCode::InvalidParameterValue,
            "A parameter name is not valid percent-encoded UTF-8.",
        )
    })?;
    if name.is_empty() {
        return Err(ServiceError::new(
            ErrorCode::InvalidParameterValue,
            "A parameter has an empty name.",
        ));
    }
    if name.len() > limits.max_name_len {
        return Err(ServiceError::new(
            ErrorCode::ValidationError,
            format!(
                "The parameter name '{}' is longer than {} bytes.",
                echo(&name),
                limits.max_name_len
            ),
        ));
    }
    let value = component(raw_value).ok_or_else(|| {
        ServiceError::new(
            ErrorCode::InvalidParameterValue,
            format!("The value of parameter '{name}' is not valid percent-encoded UTF-8."),
        )
    })?;
    if value.chars().count() > limits.max_value_len {
        return Err(ServiceError::validation(
            &echo(&value),
            &super::member_name(&name),
            &format!(
                "Member must have length less than or equal to {}",
                limits.max_value_len
            ),
        ));
    }
    Ok((name, value))
}

/// One name or value: `+` is a space, `%XX` a byte; the result must be UTF-8.
fn component(raw: &[u8]) -> Option<String> {
    // Runs between escapes are copied whole.
    let mut bytes = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.iter().position(|&b| b == b'+' || b == b'%') {
        let (plain, escape) = rest.split_at(at);
        bytes.extend_from_slice(plain);
        rest = match escape {
            [b'+', tail @ ..] => {
                bytes.push(b' ');
                tail
            }
            [b'%', hi, lo, tail @ ..] => {
                bytes.push(hex(*hi)? << 4 | hex(*lo)?);
                tail
            }
            _ => return None,
        };
    }
    bytes.extend_from_slice(rest);
    String::from_utf8(bytes).ok()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
