//! The IAM policy document model.
//!
//! Owns: the typed, validated form of a policy document exactly as written
//! (before compilation) and its rendering back to JSON. `parse.rs` builds
//! it; `compiled.rs` turns it into matchers. Pure.

use super::condition::Operator;
use super::json::Position;

/// What a policy document is used as; decides which elements it may have and
/// its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// An identity-based policy (inline or managed) of a user, group or role.
    Identity,
    /// A resource-based policy; `Principal` is required.
    Resource,
    /// A role trust policy: a resource policy on the role that must allow on
    /// its own, names only STS actions and has no `Resource`.
    Trust,
    /// A permissions boundary (a managed policy used as a boundary).
    Boundary,
    /// A session policy passed to `AssumeRole*` or `GetFederationToken`.
    Session,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
}

// === impl PolicyKind ===

impl PolicyKind {
    /// Every kind, for tests and tooling.
    pub const ALL: [Self; 7] = [
        Self::Identity,
        Self::Resource,
        Self::Trust,
        Self::Boundary,
        Self::Session,
        Self::Scp,
        Self::Rcp,
    ];

    /// The default size limit in characters, whitespace not counted
    /// (reference section 12 and 1.5).
    pub fn default_size_limit(self) -> usize {
        match self {
            Self::Identity | Self::Boundary => 6_144,
            Self::Trust | Self::Session => 2_048,
            Self::Scp | Self::Rcp => 5_120,
            Self::Resource => 20_480,
        }
    }

    /// The name used in messages and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Resource => "resource",
            Self::Trust => "trust",
            Self::Boundary => "boundary",
            Self::Session => "session",
            Self::Scp => "scp",
            Self::Rcp => "rcp",
        }
    }

    /// Parses a name given by [`PolicyKind::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    pub(crate) fn principal_rule(self) -> ElementRule {
        match self {
            Self::Resource | Self::Trust => ElementRule::Required,
            Self::Rcp => ElementRule::Optional,
            Self::Identity | Self::Boundary | Self::Session | Self::Scp => ElementRule::Forbidden,
        }
    }

    pub(crate) fn resource_rule(self) -> ElementRule {
        match self {
            Self::Trust => ElementRule::Forbidden,
            _ => ElementRule::Required,
        }
    }
}

/// Whether an element must, may or must not appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ElementRule {
    Required,
    Optional,
    Forbidden,
}

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`: policy variables are substituted.
    V2012_10_17,
    /// `2008-10-17` or no `Version`: `${…}` is literal text.
    V2008_10_17,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Grants, if nothing denies.
    Allow,
    /// Denies, whatever else allows.
    Deny,
}

// === impl Effect ===

impl Effect {
    /// `Allow` or `Deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "Allow",
            Self::Deny => "Deny",
        }
    }
}

/// A validated policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The language version (absent counts as 2008-10-17).
    pub version: Option<Version>,
    /// The optional `Id`.
    pub id: Option<String>,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The optional `Sid`.
    pub sid: Option<String>,
    /// `Allow` or `Deny`.
    pub effect: Effect,
    /// `Principal` / `NotPrincipal`, in resource and trust policies.
    pub principal: Option<Principals>,
    /// `Action` / `NotAction`.
    pub action: Listed,
    /// `Resource` / `NotResource` (absent only in trust policies).
    pub resource: Option<Listed>,
    /// The `Condition` block, one entry per operator and key.
    pub conditions: Vec<Condition>,
    /// Where the statement starts in the source text.
    pub start: Position,
    /// Where the statement ends in the source text.
    pub end: Position,
}

/// An element that is a list of strings, possibly negated
/// (`NotAction`, `NotResource`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// True for the `Not…` form.
    pub negated: bool,
    /// The values (`"*"` is a value like any other).
    pub values: Vec<String>,
}

/// `Principal` / `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principals {
    /// True for `NotPrincipal`.
    pub negated: bool,
    /// `None` for `"Principal": "*"`, else the typed entries.
    pub entries: Option<Vec<(PrincipalType, Vec<String>)>>,
}

/// The key of a principal entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    /// `AWS`: accounts, users, roles, sessions, `*`.
    Aws,
    /// `Federated`: SAML/OIDC providers and built-in web IdPs.
    Federated,
    /// `Service`: service principals.
    Service,
    /// `CanonicalUser`.
    CanonicalUser,
}

// === impl PrincipalType ===

impl PrincipalType {
    /// The JSON key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aws => "AWS",
            Self::Federated => "Federated",
            Self::Service => "Service",
            Self::CanonicalUser => "CanonicalUser",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        [
            Self::Aws,
            Self::Federated,
            Self::Service,
            Self::CanonicalUser,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// One operator + key + values entry of a `Condition` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator with its set and `IfExists` qualifiers.
    pub operator: Operator,
    /// The condition key as written.
    pub key: String,
    /// The values, as text.
    pub values: Vec<String>,
}

// === impl Document ===

impl Document {
    /// Renders the document as compact JSON that parses back to an equal
    /// model (positions aside) and is never longer than IAM's size count of
    /// the original: single values stay scalars, numbers and booleans stay
    /// unquoted, and characters above U+00FF are written as `\u` escapes so
    /// the charset rule holds.
    pub fn to_json(&self) -> String {
        use serde_json::{Map, Value, json};
        let stmts: Vec<Value> = self.statements.iter().map(statement_json).collect();
        let mut doc = Map::new();
        match self.version {
            Some(Version::V2012_10_17) => {
                doc.insert("Version".into(), json!("2012-10-17"));
            }
            Some(Version::V2008_10_17) => {
                doc.insert("Version".into(), json!("2008-10-17"));
            }
            None => {}
        }
        if let Some(id) = &self.id {
            doc.insert("Id".into(), json!(id));
        }
        let statements = match <[Value; 1]>::try_from(stmts) {
            Ok([one]) => one,
            Err(many) => Value::Array(many),
        };
        doc.insert("Statement".into(), statements);
        escape_above_latin1(&Value::Object(doc).to_string())
    }

    /// True when `${…}` is a policy variable in this document.
    pub fn substitutes_variables(&self) -> bool {
        self.version == Some(Version::V2012_10_17)
    }
}

fn one_or_many(v: &[String], typed: bool) -> serde_json::Value {
    use serde_json::Value;
    let scalar = |s: &String| {
        if typed {
            if let Ok(n @ Value::Number(_)) = serde_json::from_str::<Value>(s)
                && serde_json::to_string(&n).is_ok_and(|t| t == *s)
            {
                return n;
            }
            if s == "true" || s == "false" {
                return Value::Bool(s == "true");
            }
        }
        Value::String(s.clone())
    };
    match v {
        [one] => scalar(one),
        many => Value::Array(many.iter().map(scalar).collect()),
    }
}

fn statement_json(s: &Statement) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let mut m = Map::new();
    if let Some(sid) = &s.sid {
        m.insert("Sid".into(), json!(sid));
    }
    m.insert("Effect".into(), json!(s.effect.as_str()));
    if let Some(p) = &s.principal {
        let v = match &p.entries {
            None => json!("*"),
            Some(es) => Value::Object(
                es.iter()
                    .map(|(t, v)| (t.as_str().to_owned(), one_or_many(v, false)))
                    .collect(),
            ),
        };
        m.insert(
            if p.negated {
                "NotPrincipal"
            } else {
                "Principal"
            }
            .into(),
            v,
        );
    }
    let a = if s.action.negated {
        "NotAction"
    } else {
        "Action"
    };
    m.insert(a.into(), one_or_many(&s.action.values, false));
    if let Some(r) = &s.resource {
        let k = if r.negated { "NotResource" } else { "Resource" };
        m.insert(k.into(), one_or_many(&r.values, false));
    }
    if !s.conditions.is_empty() {
        let mut block = Map::new();
        for c in &s.conditions {
            let op = block
                .entry(c.operator.name())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(keys) = op {
                keys.insert(c.key.clone(), one_or_many(&c.values, true));
            }
        }
        m.insert("Condition".into(), Value::Object(block));
    }
    Value::Object(m)
}

/// Replaces every character above U+00FF with its `\u` escape (surrogate
/// pairs above U+FFFF). Such characters only occur inside JSON strings here.
fn escape_above_latin1(json: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if u32::from(c) <= 0xFF {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units).iter() {
                let _ = write!(out, "\\u{u:04x}");
            }
        }
    }
    out
}
