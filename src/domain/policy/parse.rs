//! Policy text → validated [`Document`].
//!
//! Owns: every structural rule of reference 5.1 — allowed elements, one of
//! each `X`/`NotX` pair, `Effect` values, operator names, principal rules per
//! policy kind, ARN shape, `Sid` format and uniqueness, charset and size
//! limits. Each error is `MalformedPolicyDocument` with a message naming the
//! element and the value at fault. Pure.

use super::condition::{CompiledCondition, Operator};
use super::error::PolicyError;
use super::json::{self, Node, Value};
use super::model::{
    Condition, Document, Effect, ElementRule, Listed, PolicyKind, PrincipalType, Principals,
    Statement, Version,
};
use super::principal::Entry;

/// Parses and validates `text` as a policy of `kind`, with `limit` characters
/// (whitespace not counted) at most.
pub(crate) fn parse(text: &str, kind: PolicyKind, limit: usize) -> Result<Document, PolicyError> {
    check_charset(text)?;
    let size = text.chars().filter(|c| !c.is_whitespace()).count();
    if size > limit {
        return Err(PolicyError::Size {
            kind: kind.name(),
            size,
            limit,
        });
    }
    let root = json::parse(text)?;
    let Value::Object(members) = root.value else {
        return Err(PolicyError::invalid(
            "the policy document must be a JSON object",
        ));
    };
    let (mut version, mut id, mut statements) = (None, None, None);
    for (name, node) in &members {
        match name.as_str() {
            "Version" => version = Some(parse_version(node)?),
            "Id" => id = Some(string(node, "Id")?.to_owned()),
            "Statement" => statements = Some(node),
            other => {
                return Err(PolicyError::invalid(format!(
                    "unknown element \"{other}\" in the policy document"
                )));
            }
        }
    }
    let Some(stmts) = statements else {
        return Err(PolicyError::invalid(
            "the policy document has no Statement element",
        ));
    };
    let nodes: Vec<&Node> = match &stmts.value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![stmts],
        other => {
            return Err(type_error(
                "Statement",
                "an object or an array of objects",
                other,
            ));
        }
    };
    if nodes.is_empty() {
        return Err(PolicyError::invalid(
            "the Statement element is an empty array",
        ));
    }
    let variables = version == Some(Version::V2012_10_17);
    let mut out = Vec::with_capacity(nodes.len());
    for (i, node) in nodes.into_iter().enumerate() {
        let s = parse_statement(node, i + 1, kind, variables)?;
        if let Some(sid) = &s.sid
            && out.iter().any(|o: &Statement| o.sid.as_ref() == Some(sid))
        {
            return Err(PolicyError::invalid(format!(
                "statement IDs (SID) in a single policy must be unique: \"{sid}\" appears twice"
            )));
        }
        out.push(s);
    }
    Ok(Document {
        version,
        id,
        statements: out,
    })
}

fn check_charset(text: &str) -> Result<(), PolicyError> {
    let (mut line, mut column) = (1u32, 1u32);
    for c in text.chars() {
        let ok = matches!(c, '\t' | '\n' | '\r') || ('\u{20}'..='\u{ff}').contains(&c);
        if !ok {
            return Err(PolicyError::Charset {
                character: c,
                line,
                column,
            });
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    Ok(())
}

fn type_error(element: &str, want: &str, got: &Value) -> PolicyError {
    PolicyError::invalid(format!("{element} must be {want}, not {}", got.kind()))
}

fn string<'a>(node: &'a Node, element: &str) -> Result<&'a str, PolicyError> {
    match &node.value {
        Value::String(s) => Ok(s),
        other => Err(type_error(element, "a string", other)),
    }
}

fn parse_version(node: &Node) -> Result<Version, PolicyError> {
    match string(node, "Version")? {
        "2012-10-17" => Ok(Version::V2012_10_17),
        "2008-10-17" => Ok(Version::V2008_10_17),
        v => Err(PolicyError::invalid(format!(
            "Version \"{v}\" is not 2012-10-17 or 2008-10-17"
        ))),
    }
}

/// A string or a non-empty array of strings.
fn strings(node: &Node, element: &str) -> Result<Vec<String>, PolicyError> {
    match &node.value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if items.is_empty() => Err(PolicyError::invalid(format!(
            "{element} must not be an empty array"
        ))),
        Value::Array(items) => items
            .iter()
            .map(|n| string(n, element).map(str::to_owned))
            .collect(),
        other => Err(type_error(
            element,
            "a string or an array of strings",
            other,
        )),
    }
}

struct Where<'a> {
    index: usize,
    sid: Option<&'a str>,
}

impl Where<'_> {
    fn err(&self, msg: impl std::fmt::Display) -> PolicyError {
        match self.sid {
            Some(sid) => {
                PolicyError::invalid(format!("statement {} (\"{sid}\"): {msg}", self.index))
            }
            None => PolicyError::invalid(format!("statement {}: {msg}", self.index)),
        }
    }
}

fn parse_statement(
    node: &Node,
    index: usize,
    kind: PolicyKind,
    variables: bool,
) -> Result<Statement, PolicyError> {
    let Value::Object(members) = &node.value else {
        return Err(PolicyError::invalid(format!(
            "each Statement must be an object, but statement {index} is {}",
            node.value.kind()
        )));
    };
    let get = |name: &str| member(members, name);
    let sid = get("Sid").map(|n| string(n, "Sid")).transpose()?;
    let at = Where { index, sid };
    if let Some((unknown, _)) = members.iter().find(|(k, _)| {
        !matches!(
            k.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        )
    }) {
        return Err(at.err(format_args!("unknown element \"{unknown}\"")));
    }
    if let Some(sid) = sid
        && !sid.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(at.err(format_args!(
            "Sid \"{sid}\" must contain only letters and digits"
        )));
    }
    let effect = match get("Effect").map(|n| string(n, "Effect")).transpose()? {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(other) => {
            return Err(at.err(format_args!(
                "Effect \"{other}\" must be \"Allow\" or \"Deny\""
            )));
        }
        None => return Err(at.err("missing required element Effect")),
    };
    let action = pair(members, "Action", "NotAction", &at)?
        .ok_or_else(|| at.err("missing required element Action or NotAction"))?;
    for a in &action.values {
        check_action(a, kind, &at)?;
    }
    let principal = parse_principal(members, kind, &at)?;
    let resource = pair(members, "Resource", "NotResource", &at)?;
    match (kind.resource_rule(), &resource) {
        (ElementRule::Required, None) => {
            return Err(at.err("missing required element Resource or NotResource"));
        }
        (ElementRule::Forbidden, Some(r)) => {
            let name = if r.negated { "NotResource" } else { "Resource" };
            return Err(at.err(format_args!(
                "has prohibited field {name}: a {} policy may not name resources",
                kind.name()
            )));
        }
        _ => {}
    }
    if let Some(r) = &resource {
        for v in &r.values {
            super::arn::ArnPattern::compile_resource(v, variables).map_err(|m| at.err(m))?;
        }
    }
    let conditions = match get("Condition") {
        Some(c) => parse_conditions(c, variables, &at)?,
        None => Vec::new(),
    };
    Ok(Statement {
        sid: sid.map(str::to_owned),
        effect,
        principal,
        action,
        resource,
        conditions,
        start: node.start,
        end: node.end,
    })
}

fn pair(
    members: &[(String, Node)],
    yes: &str,
    no: &str,
    at: &Where<'_>,
) -> Result<Option<Listed>, PolicyError> {
    match (member(members, yes), member(members, no)) {
        (Some(_), Some(_)) => Err(at.err(format_args!("has both {yes} and {no}; use one"))),
        (Some(n), None) => Ok(Some(Listed {
            negated: false,
            values: strings(n, yes).map_err(|e| at.err(e))?,
        })),
        (None, Some(n)) => Ok(Some(Listed {
            negated: true,
            values: strings(n, no).map_err(|e| at.err(e))?,
        })),
        (None, None) => Ok(None),
    }
}

fn check_action(a: &str, kind: PolicyKind, at: &Where<'_>) -> Result<(), PolicyError> {
    if a == "*" {
        return Ok(());
    }
    let Some((service, name)) = a.split_once(':') else {
        return Err(at.err(format_args!(
            "action \"{a}\" must be of the form service:action"
        )));
    };
    let service_ok = !service.is_empty()
        && service
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'?' | b'-' | b'_'));
    if !service_ok || !name_ok {
        return Err(at.err(format_args!("action \"{a}\" is not a valid action (service:action, wildcards only in the action name)")));
    }
    if kind == PolicyKind::Trust && !service.eq_ignore_ascii_case("sts") {
        return Err(at.err(format_args!(
            "AssumeRole policy may only specify STS AssumeRole actions, not \"{a}\""
        )));
    }
    Ok(())
}

fn parse_principal(
    members: &[(String, Node)],
    kind: PolicyKind,
    at: &Where<'_>,
) -> Result<Option<Principals>, PolicyError> {
    let (negated, node, name) = match (
        member(members, "Principal"),
        member(members, "NotPrincipal"),
    ) {
        (Some(_), Some(_)) => return Err(at.err("has both Principal and NotPrincipal; use one")),
        (Some(n), None) => (false, n, "Principal"),
        (None, Some(n)) => (true, n, "NotPrincipal"),
        (None, None) if kind.principal_rule() == ElementRule::Required => {
            return Err(at.err(format_args!(
                "missing required field Principal: a {} policy must name who it applies to",
                kind.name()
            )));
        }
        (None, None) => return Ok(None),
    };
    if kind.principal_rule() == ElementRule::Forbidden {
        return Err(at.err(format_args!(
            "has prohibited field {name}: a {} policy may not name a principal",
            kind.name()
        )));
    }
    let entries = match &node.value {
        Value::String(s) if s == "*" => None,
        Value::Object(members) if !members.is_empty() => {
            let mut out = Vec::new();
            for (ty, v) in members {
                let t = PrincipalType::parse(ty).ok_or_else(|| {
                    at.err(format_args!("unknown principal type \"{ty}\" in {name}"))
                })?;
                let vals = strings(v, name).map_err(|e| at.err(e))?;
                for val in &vals {
                    Entry::compile(t, val).map_err(|e| at.err(e))?;
                }
                out.push((t, vals));
            }
            Some(out)
        }
        other => {
            return Err(at.err(format_args!(
                "{name} must be \"*\" or an object such as {{\"AWS\": …}}, not {}",
                other.kind()
            )));
        }
    };
    Ok(Some(Principals { negated, entries }))
}

fn parse_conditions(
    node: &Node,
    variables: bool,
    at: &Where<'_>,
) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(ops) = &node.value else {
        return Err(at.err(format_args!(
            "Condition must be an object, not {}",
            node.value.kind()
        )));
    };
    let mut out = Vec::new();
    for (op_name, keys) in ops {
        let op = Operator::parse(op_name)
            .ok_or_else(|| at.err(format_args!("unknown condition operator \"{op_name}\"")))?;
        let Value::Object(keys) = &keys.value else {
            return Err(at.err(format_args!(
                "condition operator {op_name} must map keys to values"
            )));
        };
        if keys.is_empty() {
            return Err(at.err(format_args!("condition operator {op_name} has no keys")));
        }
        for (key, vals) in keys {
            if key.is_empty() {
                return Err(at.err(format_args!(
                    "condition operator {op_name} has an empty key"
                )));
            }
            let values = condition_values(vals).ok_or_else(|| {
                at.err(format_args!("condition {op_name} on key \"{key}\" must have a string, number or boolean value, or an array of them"))
            })?;
            CompiledCondition::compile(op, key, &values, variables).map_err(|e| at.err(e))?;
            out.push(Condition {
                operator: op,
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}

fn member<'a>(members: &'a [(String, Node)], name: &str) -> Option<&'a Node> {
    members.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn condition_values(node: &Node) -> Option<Vec<String>> {
    let scalar = |v: &Value| match v {
        Value::String(s) | Value::Number(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match &node.value {
        Value::Array(items) => items.iter().map(|n| scalar(&n.value)).collect(),
        v => scalar(v).map(|s| vec![s]),
    }
}
