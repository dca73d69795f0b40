//! `stsd policy validate` and `stsd policy simulate`.
//!
//! Owns: reading policy files and `SimulateCustomPolicy`-shaped JSON input,
//! and printing results as JSON (IAM's response shape) or a table. The
//! evaluation itself is `service::simulate_policy`, which the IAM API calls
//! too.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::domain::policy::{Policy, PolicyKind, lint};
use crate::service::simulate_policy::{
    ContextEntry, ContextKeyType, EvaluationResult, SimulationInput, simulate,
};

#[derive(Debug, Subcommand)]
pub(super) enum PolicyCommand {
    /// Check policy documents; print errors and warnings. Exits 1 on errors.
    Validate {
        /// Policy files (JSON).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// How the documents are used; `auto` guesses from their content.
        #[arg(long, value_enum, default_value_t = KindArg::Auto)]
        kind: KindArg,
    },
    /// Evaluate actions and resources against policies, like IAM's
    /// SimulateCustomPolicy.
    Simulate {
        /// A JSON file in SimulateCustomPolicy's request shape.
        #[arg(long)]
        input: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Output::Json)]
        output: Output,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum KindArg {
    Auto,
    Identity,
    Resource,
    Trust,
    Boundary,
    Session,
    Scp,
    Rcp,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum Output {
    Json,
    Table,
}

pub(super) fn run(cmd: PolicyCommand) -> ExitCode {
    match cmd {
        PolicyCommand::Validate { files, kind } => validate(&files, kind),
        PolicyCommand::Simulate { input, output } => match run_simulate(&input, output) {
            Ok(()) => ExitCode::SUCCESS,
            Err((code, msg)) => {
                eprintln!("error: {code}: {msg}");
                ExitCode::from(2)
            }
        },
    }
}

fn guess_kind(text: &str) -> PolicyKind {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return PolicyKind::Identity;
    };
    let stmts: Vec<&Value> = match v.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s) => vec![s],
        None => Vec::new(),
    };
    let has_principal = stmts
        .iter()
        .any(|s| s.get("Principal").is_some() || s.get("NotPrincipal").is_some());
    let has_resource = stmts
        .iter()
        .any(|s| s.get("Resource").is_some() || s.get("NotResource").is_some());
    match (has_principal, has_resource) {
        (true, false) => PolicyKind::Trust,
        (true, true) => PolicyKind::Resource,
        _ => PolicyKind::Identity,
    }
}

fn validate(files: &[PathBuf], kind: KindArg) -> ExitCode {
    let mut failed = false;
    let mut out = std::io::stdout().lock();
    for f in files {
        let name = f.display();
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(out, "{name}: error: cannot read the file: {e}");
                failed = true;
                continue;
            }
        };
        let kind = match kind {
            KindArg::Auto => guess_kind(&text),
            k => PolicyKind::from_name(&format!("{k:?}").to_lowercase())
                .unwrap_or(PolicyKind::Identity),
        };
        match Policy::parse(name.to_string(), kind, &text) {
            Err(e) => {
                let _ = writeln!(out, "{name}: error: {}: {e}", e.aws_code());
                failed = true;
            }
            Ok(p) => {
                let warnings = lint::lint(&p);
                for w in &warnings {
                    let at = if w.statement == 0 {
                        String::new()
                    } else {
                        format!("statement {}: ", w.statement)
                    };
                    let _ = writeln!(out, "{name}: warning: {at}{}", w.message);
                }
                let _ = writeln!(
                    out,
                    "{name}: ok ({} policy, {} warning(s))",
                    kind.name(),
                    warnings.len()
                );
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

type CliError = (&'static str, String);

fn run_simulate(path: &PathBuf, output: Output) -> Result<(), CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        (
            "InvalidInput",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let input = parse_input(&text)?;
    let results = simulate(&input).map_err(|e| (e.aws_code(), e.to_string()))?;
    let mut out = std::io::stdout().lock();
    let rendered = match output {
        Output::Json => serde_json::to_string_pretty(&render_json(&results)).unwrap_or_default(),
        Output::Table => render_table(&results),
    };
    let _ = writeln!(out, "{rendered}");
    Ok(())
}

const INPUT_KEYS: &[&str] = &[
    "PolicyInputList",
    "PermissionsBoundaryPolicyInputList",
    "ActionNames",
    "ResourceArns",
    "ResourcePolicy",
    "ResourceOwner",
    "CallerArn",
    "ContextEntries",
    "ResourceHandlingOption",
    "MaxItems",
    "Marker",
];

/// Parses the `SimulateCustomPolicy` request shape.
pub(crate) fn parse_input(text: &str) -> Result<SimulationInput, CliError> {
    let bad = |m: String| ("InvalidInput", m);
    let v: Value =
        serde_json::from_str(text).map_err(|e| bad(format!("the input is not JSON: {e}")))?;
    let Value::Object(obj) = v else {
        return Err(bad("the input must be a JSON object".into()));
    };
    if let Some(k) = obj.keys().find(|k| !INPUT_KEYS.contains(&k.as_str())) {
        return Err(bad(format!(
            "unknown parameter \"{k}\"; expected one of {}",
            INPUT_KEYS.join(", ")
        )));
    }
    let doc_list = |name: &str| -> Result<Vec<(String, String)>, CliError> {
        match obj.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, d)| Ok((format!("{name}.{}", i + 1), doc_text(d, name)?)))
                .collect(),
            Some(_) => Err(bad(format!("{name} must be a list of policy documents"))),
        }
    };
    let strings = |name: &str| -> Result<Vec<String>, CliError> {
        match obj.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|s| {
                    s.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| bad(format!("{name} must be a list of strings")))
                })
                .collect(),
            Some(_) => Err(bad(format!("{name} must be a list of strings"))),
        }
    };
    let string = |name: &str| -> Result<Option<String>, CliError> {
        match obj.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(format!("{name} must be a string"))),
        }
    };
    let policies = doc_list("PolicyInputList")?;
    if policies.is_empty() {
        return Err(bad(
            "PolicyInputList must contain at least one policy".into()
        ));
    }
    let resource_policy = match obj.get("ResourcePolicy") {
        None => None,
        Some(d) => Some(doc_text(d, "ResourcePolicy")?),
    };
    let context = match obj.get("ContextEntries") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(context_entry).collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("ContextEntries must be a list".into())),
    };
    Ok(SimulationInput {
        policies,
        boundaries: doc_list("PermissionsBoundaryPolicyInputList")?,
        actions: strings("ActionNames")?,
        resources: strings("ResourceArns")?,
        resource_policy,
        resource_owner: string("ResourceOwner")?,
        caller_arn: string("CallerArn")?,
        context,
    })
}

/// A policy given as a JSON string (IAM's shape) or inline as an object.
fn doc_text(v: &Value, name: &str) -> Result<String, CliError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Object(_) => Ok(v.to_string()),
        _ => Err((
            "InvalidInput",
            format!("{name} entries must be policy documents (strings or objects)"),
        )),
    }
}

fn context_entry(v: &Value) -> Result<ContextEntry, CliError> {
    let bad = |m: String| ("InvalidInput", m);
    let key = v
        .get("ContextKeyName")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("ContextEntries: each entry needs a ContextKeyName".into()))?;
    let ty_name = v
        .get("ContextKeyType")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad(format!(
                "ContextEntries: key \"{key}\" needs a ContextKeyType"
            ))
        })?;
    let ty = ContextKeyType::parse(ty_name).ok_or_else(|| bad(format!("ContextEntries: ContextKeyType \"{ty_name}\" of key \"{key}\" is not one of string, stringList, numeric, numericList, boolean, booleanList, ip, ipList, binary, binaryList, date, dateList")))?;
    let values = match v.get("ContextKeyValues") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                _ => Err(bad(format!(
                    "ContextEntries: values of key \"{key}\" must be strings"
                ))),
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(bad(format!(
                "ContextEntries: key \"{key}\" needs ContextKeyValues (a list)"
            )));
        }
    };
    Ok(ContextEntry {
        key: key.to_owned(),
        values,
        ty,
    })
}

fn render_json(results: &[EvaluationResult]) -> Value {
    let items: Vec<Value> = results
        .iter()
        .map(|r| {
            let matched: Vec<Value> = r
                .matched
                .iter()
                .map(|m| {
                    json!({
                        "SourcePolicyId": m.source_policy_id,
                        "SourcePolicyType": m.source_policy_type,
                        "StartPosition": {"Line": m.start.line, "Column": m.start.column},
                        "EndPosition": {"Line": m.end.line, "Column": m.end.column},
                    })
                })
                .collect();
            let mut o = json!({
                "EvalActionName": r.action,
                "EvalResourceName": r.resource,
                "EvalDecision": r.decision.as_str(),
                "MatchedStatements": matched,
                "MissingContextValues": r.missing_context_values,
            });
            if let (Some(allowed), Value::Object(m)) = (r.allowed_by_boundary, &mut o) {
                m.insert(
                    "PermissionsBoundaryDecisionDetail".into(),
                    json!({"AllowedByPermissionsBoundary": allowed}),
                );
            }
            o
        })
        .collect();
    json!({"EvaluationResults": items, "IsTruncated": false})
}

fn render_table(results: &[EvaluationResult]) -> String {
    let rows: Vec<[String; 5]> = results
        .iter()
        .map(|r| {
            let matched: Vec<String> = r
                .matched
                .iter()
                .map(|m| format!("{}@{}:{}", m.source_policy_id, m.start.line, m.start.column))
                .collect();
            [
                r.action.clone(),
                r.resource.clone(),
                r.decision.as_str().to_owned(),
                if matched.is_empty() {
                    r.explanation.clone()
                } else {
                    matched.join(", ")
                },
                r.missing_context_values.join(", "),
            ]
        })
        .collect();
    let head = [
        "ACTION",
        "RESOURCE",
        "DECISION",
        "MATCHED / REASON",
        "MISSING CONTEXT",
    ];
    let mut widths = head.map(str::len);
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 5]| -> String {
        let mut s = String::new();
        for (c, w) in cells.iter().zip(widths) {
            s.push_str(&format!("{c:<w$}  "));
        }
        s.trim_end().to_owned()
    };
    let mut out = vec![line(head)];
    for r in &rows {
        out.push(line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
    }
    out.join("\n")
}
