//! AWS Query request decoding.
//!
//! Owns: [`Params`], the parameters of one Query API request — the
//! `application/x-www-form-urlencoded` body merged over the URL query (the
//! body wins; reference 2.1) — decoded strictly (malformed percent-encoding
//! and invalid UTF-8 are refused, never replaced), bounded by [`Limits`], and
//! read through [`Scope`]'s typed accessors: strings, identifiers, integers,
//! booleans, `X.member.N` lists of scalars and of structures, and nested
//! structures. Every failure is a [`ServiceError`] whose message names the
//! member in AWS's lower-camel form (`tags.member.1.key`). Imports
//! `service::error` and `domain::ids` only.
//!
//! Spec: reference 2.1 (serialisation rules of the SDKs' query serialiser).

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::domain::ids::IdError;
use crate::service::error::{ErrorCode, ServiceError};

mod form;
mod list;

/// Bounds on a request's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Parameters per request.
    pub max_params: usize,
    /// Bytes in a decoded parameter name.
    pub max_name_len: usize,
    /// Characters in any decoded value; handlers apply tighter, per-member
    /// bounds with [`Scope::string`].
    pub max_value_len: usize,
}

/// The decoded parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct Params {
    // INVARIANT: names are unique, non-empty and within `Limits`.
    entries: BTreeMap<String, String>,
}

/// A view of the parameters under a prefix: the request itself, one member
/// of a list of structures (`Tags.member.2.`), or a nested structure
/// (`TaskPolicyArn.`).
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    entries: &'a BTreeMap<String, String>,
    /// The wire prefix, ending in `.` unless empty.
    prefix: String,
}

/// Values echoed in messages are cut to this many characters.
const ECHO_LIMIT: usize = 64;

// === impl Limits ===

impl Default for Limits {
    fn default() -> Self {
        // The largest modelled STS/IAM member is SAMLAssertion (100,000).
        Self {
            max_params: 1000,
            max_name_len: 256,
            max_value_len: 128 * 1024,
        }
    }
}

// === impl Params ===

impl Params {
    /// Decodes the raw URL query and form body; a name in both takes the
    /// body's value.
    ///
    /// # Errors
    ///
    /// `InvalidParameterValue` for malformed percent-encoding or invalid
    /// UTF-8, `ValidationError` for a repeated name or a broken limit.
    pub fn decode(query: &[u8], body: &[u8], limits: &Limits) -> Result<Self, ServiceError> {
        let mut entries = form::decode(query, limits)?;
        for (name, value) in form::decode(body, limits)? {
            entries.insert(name, value);
        }
        if entries.len() > limits.max_params {
            return Err(ServiceError::new(
                ErrorCode::ValidationError,
                format!(
                    "The request has more than {} parameters.",
                    limits.max_params
                ),
            ));
        }
        Ok(Self { entries })
    }

    /// Parameters given as already-decoded `(name, value)` pairs — what
    /// another transport (gRPC) builds from its own message so the Query
    /// decoders validate it exactly as they validate a form. A repeated
    /// name keeps its last value.
    ///
    /// # Errors
    ///
    /// `ValidationError` for a broken limit, as [`Params::decode`].
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
        limits: &Limits,
    ) -> Result<Self, ServiceError> {
        let mut entries = BTreeMap::new();
        for (name, value) in pairs {
            if name.is_empty() || name.len() > limits.max_name_len {
                return Err(ServiceError::new(
                    ErrorCode::ValidationError,
                    "A parameter name is empty or too long.",
                ));
            }
            if value.chars().count() > limits.max_value_len {
                return Err(ServiceError::new(
                    ErrorCode::ValidationError,
                    format!(
                        "The value of {} is longer than {} characters.",
                        member_name(&name),
                        limits.max_value_len
                    ),
                ));
            }
            entries.insert(name, value);
        }
        if entries.len() > limits.max_params {
            return Err(ServiceError::new(
                ErrorCode::ValidationError,
                format!(
                    "The request has more than {} parameters.",
                    limits.max_params
                ),
            ));
        }
        Ok(Self { entries })
    }

    /// `Action`.
    ///
    /// # Errors
    ///
    /// `MissingAction` when absent or empty.
    pub fn action(&self) -> Result<&str, ServiceError> {
        match self.entries.get("Action").map(String::as_str) {
            Some(a) if !a.is_empty() => Ok(a),
            _ => Err(ServiceError::new(
                ErrorCode::MissingAction,
                "The request must contain the parameter Action.",
            )),
        }
    }

    /// `Version`, when present and non-empty.
    pub fn version(&self) -> Option<&str> {
        self.entries
            .get("Version")
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The top-level scope, where handlers read their members.
    pub fn root(&self) -> Scope<'_> {
        Scope {
            entries: &self.entries,
            prefix: String::new(),
        }
    }

    /// Every `(name, value)`, by name (the audit record's parameters).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

// === impl Scope ===

impl<'a> Scope<'a> {
    /// The raw value of `name`, if present (possibly empty).
    pub fn optional(&self, name: &str) -> Option<&'a str> {
        // Top-level names (most lookups) need no key to be built.
        let value = if self.prefix.is_empty() {
            self.entries.get(name)
        } else {
            self.entries.get(&self.key(name))
        };
        value.map(String::as_str)
    }

    /// The value of `name`.
    ///
    /// # Errors
    ///
    /// AWS's `Value null … Member must not be null` `ValidationError`.
    pub fn required(&self, name: &str) -> Result<&'a str, ServiceError> {
        self.optional(name).ok_or_else(|| self.missing(name))
    }

    /// The value of `name` when its length (in characters) is within
    /// `min..=max`; `None` when absent.
    ///
    /// # Errors
    ///
    /// A `ValidationError` naming the member and the bound it breaks.
    pub fn string(
        &self,
        name: &str,
        min: usize,
        max: usize,
    ) -> Result<Option<&'a str>, ServiceError> {
        let Some(value) = self.optional(name) else {
            return Ok(None);
        };
        let len = value.chars().count();
        if len < min {
            return Err(self.invalid(
                name,
                value,
                &format!("Member must have length greater than or equal to {min}"),
            ));
        }
        if len > max {
            return Err(self.invalid(
                name,
                value,
                &format!("Member must have length less than or equal to {max}"),
            ));
        }
        Ok(Some(value))
    }

    /// `name` parsed as an identifier newtype; `None` when absent.
    ///
    /// # Errors
    ///
    /// The identifier's `ValidationError`, naming this member.
    pub fn parse<T: FromStr<Err = IdError>>(&self, name: &str) -> Result<Option<T>, ServiceError> {
        match self.optional(name) {
            None => Ok(None),
            Some(v) => v.parse::<T>().map(Some).map_err(|e| {
                let e = e.at(self.member(name));
                ServiceError::new(ErrorCode::ValidationError, e.aws_message())
            }),
        }
    }

    /// Like [`Scope::parse`], for a required member.
    ///
    /// # Errors
    ///
    /// As [`Scope::parse`], or the `Member must not be null` error.
    pub fn parse_required<T: FromStr<Err = IdError>>(&self, name: &str) -> Result<T, ServiceError> {
        self.parse(name)?.ok_or_else(|| self.missing(name))
    }

    /// `name` as an integer within `min..=max`; `None` when absent.
    ///
    /// # Errors
    ///
    /// A `ValidationError` for a non-integer or out-of-range value.
    pub fn integer(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ServiceError> {
        let Some(text) = self.optional(name) else {
            return Ok(None);
        };
        let n: i64 = text
            .parse()
            .map_err(|_| self.invalid(name, text, "Member must be an integer"))?;
        if n < min {
            return Err(self.invalid(
                name,
                text,
                &format!("Member must have value greater than or equal to {min}"),
            ));
        }
        if n > max {
            return Err(self.invalid(
                name,
                text,
                &format!("Member must have value less than or equal to {max}"),
            ));
        }
        Ok(Some(n))
    }

    /// `name` as a boolean (`true`/`false`, any case); `None` when absent.
    ///
    /// # Errors
    ///
    /// A `ValidationError` for any other value.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ServiceError> {
        match self.optional(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(self.invalid(name, v, "Member must be true or false")),
        }
    }

    /// The nested structure `name` (`TaskPolicyArn.arn`), when any of its
    /// members is present.
    pub fn structure(&self, name: &str) -> Option<Scope<'a>> {
        let prefix = format!("{}.", self.key(name));
        let present = self
            .entries
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix));
        present.then_some(Scope {
            entries: self.entries,
            prefix,
        })
    }

    /// The wire name of member `name` in this scope.
    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// AWS's name for member `name`: each segment in lower camel case.
    pub fn member(&self, name: &str) -> String {
        member_name(&self.key(name))
    }

    /// AWS's message for an absent required member.
    pub fn missing(&self, name: &str) -> ServiceError {
        ServiceError::new(
            ErrorCode::ValidationError,
            format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                self.member(name)
            ),
        )
    }

    /// AWS's message for a value of `name` breaking `constraint`.
    pub fn invalid(&self, name: &str, value: &str, constraint: &str) -> ServiceError {
        ServiceError::validation(&echo(value), &self.member(name), constraint)
    }
}

/// `Tags.member.1.Key` → `tags.member.1.key`.
pub fn member_name(wire: &str) -> String {
    let mut out = String::with_capacity(wire.len());
    let mut start = true;
    for c in wire.chars() {
        if start {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        start = c == '.';
    }
    out
}

/// A value as messages repeat it: at most [`ECHO_LIMIT`] characters.
fn echo(value: &str) -> String {
    let mut chars = value.chars();
    let mut out: String = chars.by_ref().take(ECHO_LIMIT).collect();
    if chars.next().is_some() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests;
