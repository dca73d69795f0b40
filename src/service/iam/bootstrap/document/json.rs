//! Reading the JSON of a bootstrap document, field by field.
//!
//! Owns: [`Source`] (which file and entity a value belongs to, for
//! errors), [`Obj`] (an object whose keys are checked against the ones
//! its shape allows, with typed getters that name the field they read),
//! and decoding policy documents given as JSON objects, JSON text or
//! URL-encoded JSON text ([`document`]). Pure: serde_json only.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use super::Document;
use crate::service::iam::bootstrap::BootstrapError;

/// The file and entity a value belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file, as configured.
    pub file: String,
    /// `user "alice"`, or a position (`UserDetailList[3]`) before the name
    /// is known.
    pub entity: String,
}

/// An object of the document whose keys have been checked.
pub(super) struct Obj<'v> {
    map: &'v Map<String, Value>,
    /// The field path of the object itself (empty at the top).
    at: String,
}

// === impl Source ===

impl Source {
    /// `entity` of `file`.
    pub(super) fn new(file: &str, entity: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            entity: entity.into(),
        }
    }

    /// An [`BootstrapError::Invalid`] about `field`.
    pub(super) fn invalid(&self, field: &str, message: impl fmt::Display) -> BootstrapError {
        BootstrapError::Invalid {
            file: self.file.clone(),
            entity: self.entity.clone(),
            field: field.to_owned(),
            message: message.to_string(),
        }
    }

    /// A line for the log about something the document asks for that stsd
    /// leaves out.
    pub(super) fn note(&self, field: &str, message: impl fmt::Display) -> String {
        format!(
            "bootstrap file {}: {}: {field}: {message}",
            self.file, self.entity
        )
    }
}

// === impl Obj ===

impl<'v> Obj<'v> {
    /// `value` at `at`, which must be an object with only `keys`.
    pub(super) fn new(
        src: &Source,
        at: &str,
        value: &'v Value,
        keys: &[&str],
    ) -> Result<Self, BootstrapError> {
        let Value::Object(map) = value else {
            return Err(src.invalid(or_top(at), "must be a JSON object"));
        };
        if let Some(k) = map.keys().find(|k| !keys.contains(&k.as_str())) {
            return Err(src.invalid(
                &join(at, k),
                format!("unknown field; expected one of {}", keys.join(", ")),
            ));
        }
        Ok(Self {
            map,
            at: at.to_owned(),
        })
    }

    /// The path of member `name`.
    pub(super) fn field(&self, name: &str) -> String {
        join(&self.at, name)
    }

    /// Member `name`; `null` counts as absent.
    pub(super) fn get(&self, name: &str) -> Option<&'v Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// String member `name`.
    pub(super) fn str(&self, src: &Source, name: &str) -> Result<Option<&'v str>, BootstrapError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(src.invalid(&self.field(name), "must be a string")),
        }
    }

    /// String member `name` parsed as a `T`.
    pub(super) fn parse<T>(&self, src: &Source, name: &str) -> Result<Option<T>, BootstrapError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.str(src, name)?
            .map(|s| s.parse().map_err(|e| src.invalid(&self.field(name), e)))
            .transpose()
    }

    /// Integer member `name`.
    pub(super) fn int(&self, src: &Source, name: &str) -> Result<Option<i64>, BootstrapError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| src.invalid(&self.field(name), "must be an integer")),
        }
    }

    /// The elements of list member `name` with their paths (`Tags[0]`);
    /// empty when absent.
    pub(super) fn list(
        &self,
        src: &Source,
        name: &str,
    ) -> Result<Vec<(String, &'v Value)>, BootstrapError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{}[{i}]", self.field(name)), v))
                .collect()),
            Some(_) => Err(src.invalid(&self.field(name), "must be a list")),
        }
    }
}

/// `at.name`, or `name` at the top.
fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

/// A field path for the top-level object.
fn or_top(at: &str) -> &str {
    if at.is_empty() { "(document)" } else { at }
}

/// A policy document as the file gives it: a JSON object (the AWS CLI's
/// output), JSON text, or URL-encoded JSON text (the raw API's output).
pub(super) fn document(
    src: &Source,
    field: &str,
    value: &Value,
) -> Result<Document, BootstrapError> {
    let text = match value {
        Value::Object(_) => value.to_string(),
        Value::String(s) if s.trim_start().starts_with('{') => s.clone(),
        Value::String(s) => url_decode(s)
            .ok_or_else(|| src.invalid(field, "is neither JSON nor URL-encoded UTF-8 JSON"))?,
        _ => {
            return Err(src.invalid(
                field,
                "must be a JSON object or a (URL-encoded) JSON string",
            ));
        }
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(parsed @ Value::Object(_)) => Ok(Document {
            text,
            value: parsed,
        }),
        Ok(_) => Err(src.invalid(field, "must be a JSON object")),
        Err(e) => Err(src.invalid(field, format!("is not JSON: {e}"))),
    }
}

/// `text` with `%XX` escapes decoded (`+` stays `+`, as botocore's
/// `unquote` leaves it); `None` for a broken escape or non-UTF-8 bytes.
pub(super) fn url_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
