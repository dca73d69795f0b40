//! The JSON rendering of Query responses (reference 2.4).
//!
//! Owns: the success and error envelopes as JSON, for clients that send
//! `Accept: application/json` (aws-iam-authenticator and Vault-style
//! presigned `GetCallerIdentity`). Structures become objects, lists arrays,
//! maps objects; integers and booleans are JSON numbers and booleans, and
//! timestamps are numbers of seconds since the epoch, as AWS's legacy JSON
//! rendering sends them. Written straight into a `String`.

use std::fmt::Write as _;

use super::{Event, Value, XmlResponse};

/// `{"{Action}Response":{"{Action}Result":{…},"ResponseMetadata":{"RequestId":"…"}}}`.
pub fn render_success_json(action: &str, result: &XmlResponse, request_id: &str) -> String {
    let mut out = String::with_capacity(128 + result.events().len() * 40);
    out.push_str("{\"");
    escape_json(&mut out, action);
    out.push_str("Response\":{");
    if result.has_result() {
        out.push('"');
        escape_json(&mut out, action);
        out.push_str("Result\":{");
        write_members(&mut out, result.events());
        out.push_str("},");
    }
    out.push_str("\"ResponseMetadata\":{\"RequestId\":\"");
    escape_json(&mut out, request_id);
    out.push_str("\"}}}\n");
    out
}

/// `{"Error":{"Code":"…","Message":"…","Type":"Sender"},"RequestId":"…"}`.
pub fn render_error_json(fault: &str, code: &str, message: &str, request_id: &str) -> String {
    let mut out = String::with_capacity(96 + message.len());
    out.push_str("{\"Error\":{\"Code\":\"");
    escape_json(&mut out, code);
    out.push_str("\",\"Message\":\"");
    escape_json(&mut out, message);
    out.push_str("\",\"Type\":\"");
    escape_json(&mut out, fault);
    out.push_str("\"},\"RequestId\":\"");
    escape_json(&mut out, request_id);
    out.push_str("\"}\n");
    out
}

/// The kind of container being written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    Object,
    Array,
}

/// Writes the events as the members of an already opened object.
fn write_members(out: &mut String, events: &[Event]) {
    let mut stack = vec![Frame::Object];
    // Whether the innermost container already has an element (for commas).
    let mut filled = vec![false];
    for event in events {
        let in_array = stack.last() == Some(&Frame::Array);
        let separate = |out: &mut String, filled: &mut Vec<bool>| {
            if let Some(f) = filled.last_mut() {
                if *f {
                    out.push(',');
                }
                *f = true;
            }
        };
        match event {
            Event::Leaf(name, value) => {
                separate(out, &mut filled);
                key(out, name, in_array);
                write_value(out, value);
            }
            Event::Open(name) | Event::MapOpen(name) => {
                separate(out, &mut filled);
                key(out, name, in_array);
                out.push('{');
                stack.push(Frame::Object);
                filled.push(false);
            }
            Event::ListOpen(name) => {
                separate(out, &mut filled);
                key(out, name, in_array);
                out.push('[');
                stack.push(Frame::Array);
                filled.push(false);
            }
            Event::Close(_) | Event::MapClose(_) | Event::ListClose(_) => {
                out.push(if stack.pop() == Some(Frame::Array) {
                    ']'
                } else {
                    '}'
                });
                filled.pop();
            }
            Event::Entry(k, value) => {
                separate(out, &mut filled);
                out.push('"');
                escape_json(out, k);
                out.push_str("\":");
                write_value(out, value);
            }
        }
    }
}

/// `"name":`, except for the members of an array.
fn key(out: &mut String, name: &str, in_array: bool) {
    if !in_array {
        out.push('"');
        escape_json(out, name);
        out.push_str("\":");
    }
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Str(s) => {
            out.push('"');
            escape_json(out, s);
            out.push('"');
        }
        Value::Int(n) | Value::Time(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

/// Appends `text` escaped for a JSON string.
fn escape_json(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}
