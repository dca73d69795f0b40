//! AWS Query responses: XML, and the JSON rendering of the same envelope.
//!
//! Owns: [`XmlResponse`], the result of one action as a flat list of
//! events built through balanced closures (so nesting cannot go wrong);
//! the writers of the success envelope (`<{Action}Response xmlns=…>` with
//! `<{Action}Result>` and `<ResponseMetadata><RequestId>`) and of the error
//! envelope (`<ErrorResponse>`, reference 2.3); text escaping; and the
//! timestamp format `YYYY-MM-DDTHH:MM:SSZ`. The JSON variant (reference
//! 2.4, for `Accept: application/json`) lives in `json`. Values are
//! written straight into one output `String`; no tree is built. Imports
//! std only.

use std::fmt::Write as _;

mod json;

pub use json::{render_error_json, render_success_json};

/// The result of one action, element by element.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct XmlResponse {
    events: Vec<Event>,
    /// `true` for actions whose response has no `…Result` element.
    no_result: bool,
}

/// Builds the members of a list: `<member>` elements.
#[derive(Debug)]
pub struct ListBuilder<'a>(&'a mut XmlResponse);

/// Builds the entries of a map: `<entry><key>…</key><value>…</value></entry>`.
#[derive(Debug)]
pub struct MapBuilder<'a>(&'a mut XmlResponse);

/// A leaf value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    /// Seconds since the Unix epoch.
    Time(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    Leaf(&'static str, Value),
    Open(&'static str),
    Close(&'static str),
    ListOpen(&'static str),
    ListClose(&'static str),
    MapOpen(&'static str),
    MapClose(&'static str),
    /// A map entry: key and value.
    Entry(String, Value),
}

// === impl XmlResponse ===

impl XmlResponse {
    /// An empty `…Result` element, to be filled.
    pub fn new() -> Self {
        Self::default()
    }

    /// A response without a `…Result` element, for actions that return
    /// nothing (`DeleteUser`): only `ResponseMetadata`.
    pub fn no_result() -> Self {
        Self {
            events: Vec::new(),
            no_result: true,
        }
    }

    /// `<name>value</name>`.
    pub fn string(&mut self, name: &'static str, value: impl Into<String>) -> &mut Self {
        self.leaf(name, Value::Str(value.into()))
    }

    /// `<name>value</name>` when `value` is `Some`; nothing otherwise (AWS
    /// omits absent optional members; reference 2.2).
    pub fn opt_string(
        &mut self,
        name: &'static str,
        value: Option<impl Into<String>>,
    ) -> &mut Self {
        if let Some(v) = value {
            self.string(name, v);
        }
        self
    }

    /// An integer member.
    pub fn int(&mut self, name: &'static str, value: i64) -> &mut Self {
        self.leaf(name, Value::Int(value))
    }

    /// A boolean member (`true`/`false`).
    pub fn bool(&mut self, name: &'static str, value: bool) -> &mut Self {
        self.leaf(name, Value::Bool(value))
    }

    /// A timestamp member, `secs` after the epoch.
    pub fn timestamp(&mut self, name: &'static str, secs: i64) -> &mut Self {
        self.leaf(name, Value::Time(secs))
    }

    /// A nested structure whose members `build` writes.
    pub fn structure(&mut self, name: &'static str, build: impl FnOnce(&mut Self)) -> &mut Self {
        self.events.push(Event::Open(name));
        build(self);
        self.events.push(Event::Close(name));
        self
    }

    /// A list whose members `build` writes.
    pub fn list(
        &mut self,
        name: &'static str,
        build: impl FnOnce(&mut ListBuilder<'_>),
    ) -> &mut Self {
        self.events.push(Event::ListOpen(name));
        build(&mut ListBuilder(self));
        self.events.push(Event::ListClose(name));
        self
    }

    /// A string-keyed map whose entries `build` writes.
    pub fn map(
        &mut self,
        name: &'static str,
        build: impl FnOnce(&mut MapBuilder<'_>),
    ) -> &mut Self {
        self.events.push(Event::MapOpen(name));
        build(&mut MapBuilder(self));
        self.events.push(Event::MapClose(name));
        self
    }

    fn leaf(&mut self, name: &'static str, value: Value) -> &mut Self {
        self.events.push(Event::Leaf(name, value));
        self
    }

    pub(crate) fn events(&self) -> &[Event] {
        &self.events
    }

    pub(crate) fn has_result(&self) -> bool {
        !self.no_result
    }
}

// === impl ListBuilder ===

impl ListBuilder<'_> {
    /// `<member>value</member>`.
    pub fn string(&mut self, value: impl Into<String>) -> &mut Self {
        self.0.string("member", value);
        self
    }

    /// `<member>…</member>` with members written by `build`.
    pub fn structure(&mut self, build: impl FnOnce(&mut XmlResponse)) -> &mut Self {
        self.0.structure("member", build);
        self
    }
}

// === impl MapBuilder ===

impl MapBuilder<'_> {
    /// An entry with a string value.
    pub fn string(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.0
            .events
            .push(Event::Entry(key.into(), Value::Str(value.into())));
        self
    }

    /// An entry with an integer value.
    pub fn int(&mut self, key: impl Into<String>, value: i64) -> &mut Self {
        self.0
            .events
            .push(Event::Entry(key.into(), Value::Int(value)));
        self
    }
}

/// Writes the success envelope of `action` in namespace `ns`.
pub fn render_success(action: &str, ns: &str, result: &XmlResponse, request_id: &str) -> String {
    let mut out = String::with_capacity(256 + result.size_hint());
    out.push('<');
    out.push_str(action);
    out.push_str("Response xmlns=\"");
    escape_into(&mut out, ns);
    out.push_str("\">");
    if result.has_result() {
        open(&mut out, action, "Result");
        for event in &result.events {
            write_event(&mut out, event);
        }
        close(&mut out, action, "Result");
    }
    out.push_str("<ResponseMetadata><RequestId>");
    escape_into(&mut out, request_id);
    out.push_str("</RequestId></ResponseMetadata>");
    close(&mut out, action, "Response");
    out.push('\n');
    out
}

/// Writes the error envelope (reference 2.3).
pub fn render_error(ns: &str, fault: &str, code: &str, message: &str, request_id: &str) -> String {
    let mut out = String::with_capacity(192 + message.len());
    out.push_str("<ErrorResponse xmlns=\"");
    escape_into(&mut out, ns);
    out.push_str("\"><Error><Type>");
    escape_into(&mut out, fault);
    out.push_str("</Type><Code>");
    escape_into(&mut out, code);
    out.push_str("</Code><Message>");
    escape_into(&mut out, message);
    out.push_str("</Message></Error><RequestId>");
    escape_into(&mut out, request_id);
    out.push_str("</RequestId></ErrorResponse>\n");
    out
}

impl XmlResponse {
    /// About the bytes the events take rendered (unescaped): the buffer
    /// is sized once instead of growing through a session token.
    fn size_hint(&self) -> usize {
        let value = |v: &Value| match v {
            Value::Str(s) => s.len(),
            Value::Int(_) | Value::Time(_) => 20,
            Value::Bool(_) => 5,
        };
        self.events
            .iter()
            .map(|event| match event {
                Event::Leaf(name, v) => 2 * name.len() + 5 + value(v),
                Event::Open(name) | Event::ListOpen(name) | Event::MapOpen(name) => name.len() + 2,
                Event::Close(name) | Event::ListClose(name) | Event::MapClose(name) => {
                    name.len() + 3
                }
                Event::Entry(key, v) => 48 + key.len() + value(v),
            })
            .sum()
    }
}

fn write_event(out: &mut String, event: &Event) {
    match event {
        Event::Leaf(name, value) => {
            open(out, name, "");
            write_value(out, value);
            close(out, name, "");
        }
        Event::Open(name) | Event::ListOpen(name) | Event::MapOpen(name) => open(out, name, ""),
        Event::Close(name) | Event::ListClose(name) | Event::MapClose(name) => close(out, name, ""),
        Event::Entry(key, value) => {
            out.push_str("<entry><key>");
            escape_into(out, key);
            out.push_str("</key><value>");
            write_value(out, value);
            out.push_str("</value></entry>");
        }
    }
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Str(s) => escape_into(out, s),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Time(secs) => write_timestamp(out, *secs),
    }
}

fn open(out: &mut String, name: &str, suffix: &str) {
    out.push('<');
    out.push_str(name);
    out.push_str(suffix);
    out.push('>');
}

fn close(out: &mut String, name: &str, suffix: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push_str(suffix);
    out.push('>');
}

/// Appends `text` escaped for XML 1.0 element content and attribute values.
/// Characters XML 1.0 cannot carry at all become U+FFFD.
pub fn escape_into(out: &mut String, text: &str) {
    // Most values (ids, ARNs, keys, tokens) need no escaping: copy them
    // whole.
    if !needs_escaping(text.as_bytes()) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Whether `bytes` hold anything [`escape_into`] changes: a control
/// character, markup, a quote, or the lead byte (0xEF) of U+FFFE/U+FFFF.
/// Scans 32 bytes a step with no early exit inside a step, so the
/// compiler can use vector compares (it does at opt-level 3 on x86-64;
/// checked in the disassembly): a session token is a few hundred bytes.
fn needs_escaping(bytes: &[u8]) -> bool {
    const STEP: usize = 32;
    // `|`, not `||`: no branch per byte, so the steps vectorize.
    let special = |b: u8| {
        (b < 0x20)
            | (b == b'&')
            | (b == b'<')
            | (b == b'>')
            | (b == b'"')
            | (b == b'\'')
            | (b == 0xEF)
    };
    let chunks = bytes.chunks_exact(STEP);
    let tail = chunks.remainder();
    for chunk in chunks {
        if chunk.iter().fold(false, |hit, &b| hit | special(b)) {
            return true;
        }
    }
    tail.iter().any(|&b| special(b))
}

/// `secs` after the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian,
/// UTC).
pub fn format_timestamp(secs: i64) -> String {
    let mut out = String::with_capacity(20);
    write_timestamp(&mut out, secs);
    out
}

/// Appends `secs` as [`format_timestamp`] writes it.
fn write_timestamp(out: &mut String, secs: i64) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        // Digits by hand: two timestamps in every credentials response.
        let mut buf = *b"0000-00-00T00:00:00Z";
        let fields = [
            (0, y, 4),
            (5, m, 2),
            (8, d, 2),
            (11, rem / 3600, 2),
            (14, rem % 3600 / 60, 2),
            (17, rem % 60, 2),
        ];
        for (at, mut n, width) in fields {
            for i in (at..at + width).rev() {
                if let (Some(slot), Ok(digit)) = (buf.get_mut(i), u8::try_from(n % 10)) {
                    *slot = b'0' + digit;
                }
                n /= 10;
            }
        }
        out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
    } else {
        let _ = write!(
            out,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        );
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to a date.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests;
