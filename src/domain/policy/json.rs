//! A strict JSON reader for policy documents.
//!
//! Owns: turning policy text into a tree that keeps what `serde_json::Value`
//! throws away and IAM needs — duplicate keys (an error in IAM), member order,
//! and the line/column of every value (IAM's simulator reports the position of
//! each matched statement). Nesting depth is bounded so hostile documents
//! cannot exhaust the stack.
//!
//! Pure: std only.

use super::error::PolicyError;

/// Deepest nesting a policy may use. Real policies need 6 (document →
/// `Statement` → statement → `Condition` → operator → key → values).
const MAX_DEPTH: usize = 16;

/// A position in the document, 1-based, columns counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number, starting at 1.
    pub column: u32,
}

/// A JSON value with the positions where it starts and ends.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) start: Position,
    pub(crate) end: Position,
}

/// A JSON value; objects keep their members in document order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    /// The number as written; IAM compares numbers as text or decimals.
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Value {
    /// The JSON type name, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "boolean",
            Self::Number(_) => "number",
            Self::String(_) => "string",
            Self::Array(_) => "array",
            Self::Object(_) => "object",
        }
    }
}

/// Parses `text` as exactly one JSON value.
pub(crate) fn parse(text: &str) -> Result<Node, PolicyError> {
    let mut p = Parser {
        text,
        pos: 0,
        line: 1,
        col: 1,
    };
    p.skip_ws();
    let node = p.value(0)?;
    p.skip_ws();
    if p.pos < text.len() {
        return Err(p.err("unexpected text after the policy document"));
    }
    Ok(node)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
    col: u32,
}

// === impl Parser ===

impl Parser<'_> {
    fn here(&self) -> Position {
        Position {
            line: self.line,
            column: self.col,
        }
    }

    fn err(&self, what: &str) -> PolicyError {
        PolicyError::Syntax(format!("{what} at line {} column {}", self.line, self.col))
    }

    fn peek(&self) -> Option<char> {
        self.text.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn expect(&mut self, want: char) -> Result<(), PolicyError> {
        match self.bump() {
            Some(c) if c == want => Ok(()),
            _ => Err(self.err(&format!("expected '{want}'"))),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, PolicyError> {
        if depth > MAX_DEPTH {
            return Err(self.err("the policy document nests too deeply"));
        }
        let start = self.here();
        let value = match self.peek() {
            Some('{') => self.object(depth)?,
            Some('[') => self.array(depth)?,
            Some('"') => Value::String(self.string()?),
            Some('t') => self.keyword("true", Value::Bool(true))?,
            Some('f') => self.keyword("false", Value::Bool(false))?,
            Some('n') => self.keyword("null", Value::Null)?,
            Some(c) if c == '-' || c.is_ascii_digit() => Value::Number(self.number()?),
            Some(_) => return Err(self.err("unexpected character")),
            None => return Err(self.err("unexpected end of the policy document")),
        };
        Ok(Node {
            value,
            start,
            end: self.here(),
        })
    }

    fn keyword(&mut self, word: &str, value: Value) -> Result<Value, PolicyError> {
        if self
            .text
            .get(self.pos..)
            .is_some_and(|s| s.starts_with(word))
        {
            for _ in 0..word.len() {
                self.bump();
            }
            Ok(value)
        } else {
            Err(self.err("unexpected character"))
        }
    }

    fn number(&mut self) -> Result<String, PolicyError> {
        let begin = self.pos;
        while matches!(self.peek(), Some('-' | '+' | '.' | 'e' | 'E' | '0'..='9')) {
            self.bump();
        }
        let raw = self.text.get(begin..self.pos).unwrap_or_default();
        if !is_json_number(raw) {
            return Err(self.err("malformed number"));
        }
        Ok(raw.to_owned())
    }

    fn string(&mut self) -> Result<String, PolicyError> {
        self.expect('"')?;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err("unterminated string")),
                Some('"') => return Ok(out),
                Some('\\') => out.push(self.escape()?),
                Some(c) if (c as u32) < 0x20 => {
                    return Err(self.err("control character inside a string"));
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, PolicyError> {
        Ok(match self.bump() {
            Some('"') => '"',
            Some('\\') => '\\',
            Some('/') => '/',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some('u') => {
                let hi = self.hex4()?;
                if (0xD800..0xDC00).contains(&hi) {
                    if self.bump() != Some('\\') || self.bump() != Some('u') {
                        return Err(self.err("unpaired surrogate in string escape"));
                    }
                    let lo = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(self.err("unpaired surrogate in string escape"));
                    }
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    char::from_u32(c).ok_or_else(|| self.err("invalid string escape"))?
                } else {
                    char::from_u32(hi).ok_or_else(|| self.err("invalid string escape"))?
                }
            }
            _ => return Err(self.err("invalid string escape")),
        })
    }

    fn hex4(&mut self) -> Result<u32, PolicyError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self.bump().and_then(|c| c.to_digit(16));
            v = v * 16 + d.ok_or_else(|| self.err("invalid \\u escape"))?;
        }
        Ok(v)
    }

    fn array(&mut self, depth: usize) -> Result<Value, PolicyError> {
        self.expect('[')?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.bump() {
                Some(',') => {}
                Some(']') => return Ok(Value::Array(items)),
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, PolicyError> {
        self.expect('{')?;
        let mut members: Vec<(String, Node)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some('"') {
                return Err(self.err("expected a member name"));
            }
            let key = self.string()?;
            if members.iter().any(|(k, _)| *k == key) {
                return Err(PolicyError::Syntax(format!(
                    "duplicate key \"{key}\" at line {} column {}",
                    self.line, self.col
                )));
            }
            self.skip_ws();
            self.expect(':')?;
            self.skip_ws();
            let v = self.value(depth + 1)?;
            members.push((key, v));
            self.skip_ws();
            match self.bump() {
                Some(',') => {}
                Some('}') => return Ok(Value::Object(members)),
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }
}

/// The JSON number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(raw: &str) -> bool {
    let b = raw.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int_start = i;
    let n = digits(&mut i);
    if n == 0 || (n > 1 && b.get(int_start) == Some(&b'0')) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_positions() {
        let n = parse("{\n  \"b\": 1,\n  \"a\": [true, null]\n}").unwrap();
        let Value::Object(m) = n.value else { panic!() };
        assert_eq!(m[0].0, "b");
        assert_eq!(m[1].0, "a");
        assert_eq!(m[1].1.start, Position { line: 3, column: 8 });
    }

    #[test]
    fn rejects_duplicates_trailing_and_depth() {
        assert!(
            parse(r#"{"a":1,"a":2}"#)
                .unwrap_err()
                .to_string()
                .contains("duplicate key \"a\"")
        );
        assert!(parse("{} x").is_err());
        assert!(
            parse(&"[".repeat(100))
                .unwrap_err()
                .to_string()
                .contains("nests too deeply")
        );
        assert!(parse(r#"{"a":1,}"#).is_err());
        assert!(parse("\"\\ud800\"").is_err());
        for bad in ["+5", ".5", "5.", "01", "1e", "-"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        for good in ["0", "-0.5", "10", "1e5", "2E-3"] {
            assert!(parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn decodes_escapes() {
        let n = parse(r#""a\u00e9\n\ud83d\ude00""#).unwrap();
        assert_eq!(n.value, Value::String("aé\n😀".into()));
    }
}
