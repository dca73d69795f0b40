//! Criterion benchmarks of the IAM policy evaluator (`domain::policy`),
//! compared in the same run with Cedar (`cedar-policy`) on equivalent
//! policies.
//!
//! Every scenario is written once as a small statement model ([`Stmt`]) and
//! rendered both as IAM JSON (for stsd) and as Cedar policies, so the two
//! engines see the same number of statements, the same scopes and the same
//! conditions in the same order. Before anything is measured, a set of probe
//! requests is decided by both engines and the decisions must agree: a broken
//! equivalence fails the run (in `cargo test --bench policy` too).
//!
//! Groups: `stsd/1x1`, `stsd/realistic`, `stsd/100policies`,
//! `stsd/statements`, `stsd/parse_compile`, `cedar/1x1`, `cedar/realistic`,
//! `cedar/100policies`. After criterion, a benchmark run prints the
//! stsd/Cedar ratio for the realistic principal. Figures and caveats:
//! `BENCHMARKS.md`.

#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark setup: a broken fixture must fail loudly"
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cedar_policy as cedar;
use criterion::{BenchmarkId, Criterion};
use serde_json::{Value, json};
use stsd::domain::policy::{
    Context, Decision, Outcome, Policy, PolicyKind, PolicySet, Principal, Request, ResourceSide,
    evaluate,
};

// ---------------------------------------------------------------------------
// The shared statement model.

const ACCOUNT: &str = "111122223333";
const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/Dev";
const ROLE_ID: &str = "AROAEXAMPLEDEVROLE01";
const SESSION_ARN: &str = "arn:aws:sts::111122223333:assumed-role/Dev/alice-session";
const USER_ARN: &str = "arn:aws:iam::111122223333:user/alice";
const CORP: &[&str] = &["203.0.113.0/24", "198.51.100.0/24"];
const VPN: &[&str] = &["10.0.0.0/8", "203.0.113.0/24"];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1"];
const US_EAST: &[&str] = &["us-east-1"];
const EXPIRY: &str = "2030-01-01T00:00:00Z";
const NOW: &str = "2025-06-01T12:00:00Z";
const CORP_IP: &str = "203.0.113.77";
const OUTSIDE_IP: &str = "192.0.2.10";

/// The request granted only by the last identity policy.
const ALLOWED: (&str, &str) = (
    "s3:GetObject",
    "arn:aws:s3:::team-shared/blue/reports/2025-q1.csv",
);
/// Another team's prefix: implicitly denied.
const DENIED: (&str, &str) = ("s3:GetObject", "arn:aws:s3:::team-shared/red/payroll.csv");
/// The 1x1 request.
const ONE: (&str, &str) = ("s3:GetObject", "arn:aws:s3:::bucket/photos/cat.jpg");

/// One condition: an IAM operator + key + values, and its Cedar equivalent.
#[derive(Debug, Clone, Copy)]
enum Cond {
    /// `StringEquals aws:PrincipalTag/<tag>` — `principal.tags.<tag> == v`.
    Tag(&'static str, &'static str),
    /// `IpAddress aws:SourceIp` — `context.sourceIp.isInRange(ip(..)) || ..`.
    SourceIp(&'static [&'static str]),
    /// `NotIpAddress aws:SourceIp`.
    NotSourceIp(&'static [&'static str]),
    /// `Bool aws:SecureTransport`.
    Secure(bool),
    /// `Bool aws:MultiFactorAuthPresent`.
    Mfa(bool),
    /// `DateLessThan aws:CurrentTime` — `context.currentTime < datetime(..)`.
    Before(&'static str),
    /// `StringLike aws:userid` — `context.userid like ".."`.
    UseridLike(&'static str),
    /// `StringEquals aws:RequestedRegion`.
    Region(&'static [&'static str]),
    /// `StringEquals aws:PrincipalAccount`.
    Account(&'static str),
}

impl Cond {
    /// IAM operator, key and values.
    fn iam(self) -> (&'static str, String, Vec<&'static str>) {
        match self {
            Self::Tag(t, v) => ("StringEquals", format!("aws:PrincipalTag/{t}"), vec![v]),
            Self::SourceIp(c) => ("IpAddress", "aws:SourceIp".into(), c.to_vec()),
            Self::NotSourceIp(c) => ("NotIpAddress", "aws:SourceIp".into(), c.to_vec()),
            Self::Secure(b) => ("Bool", "aws:SecureTransport".into(), vec![bool_str(b)]),
            Self::Mfa(b) => (
                "Bool",
                "aws:MultiFactorAuthPresent".into(),
                vec![bool_str(b)],
            ),
            Self::Before(d) => ("DateLessThan", "aws:CurrentTime".into(), vec![d]),
            Self::UseridLike(p) => ("StringLike", "aws:userid".into(), vec![p]),
            Self::Region(r) => ("StringEquals", "aws:RequestedRegion".into(), r.to_vec()),
            Self::Account(a) => ("StringEquals", "aws:PrincipalAccount".into(), vec![a]),
        }
    }

    /// The Cedar expression.
    fn cedar(self) -> String {
        let any = |parts: Vec<String>| format!("({})", parts.join(" || "));
        let in_ranges = |c: &[&str]| {
            any(c
                .iter()
                .map(|r| format!("context.sourceIp.isInRange(ip(\"{r}\"))"))
                .collect())
        };
        match self {
            Self::Tag(t, v) => format!("principal.tags.{t} == \"{v}\""),
            Self::SourceIp(c) => in_ranges(c),
            Self::NotSourceIp(c) => format!("!{}", in_ranges(c)),
            Self::Secure(b) => format!("context.secureTransport == {b}"),
            Self::Mfa(b) => format!("context.mfaPresent == {b}"),
            Self::Before(d) => format!("context.currentTime < datetime(\"{d}\")"),
            Self::UseridLike(p) => format!("context.userid like \"{p}\""),
            Self::Region(r) => any(r
                .iter()
                .map(|v| format!("context.requestedRegion == \"{v}\""))
                .collect()),
            Self::Account(a) => format!("context.principalAccount == \"{a}\""),
        }
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// One `Resource` entry.
#[derive(Debug, Clone)]
enum Res {
    /// `*`.
    Any,
    /// An ARN glob without variables — `resource.arn like ".."`.
    Glob(String),
    /// `arn:aws:s3:::<bucket glob>/${aws:PrincipalTag/team}/*` — Cedar has
    /// no string concatenation, so the request side supplies the bucket and
    /// the first key segment as attributes:
    /// `resource.bucket like "<glob>" && resource.prefix == principal.tags.team`.
    TeamPrefix(String),
}

impl Res {
    fn iam(&self) -> String {
        match self {
            Self::Any => "*".into(),
            Self::Glob(g) => g.clone(),
            Self::TeamPrefix(b) => format!("arn:aws:s3:::{b}/${{aws:PrincipalTag/team}}/*"),
        }
    }

    fn cedar(&self) -> String {
        match self {
            Self::Any => "true".into(),
            Self::Glob(g) => format!("resource.arn like \"{g}\""),
            Self::TeamPrefix(b) => {
                format!("(resource.bucket like \"{b}\" && resource.prefix == principal.tags.team)")
            }
        }
    }
}

/// One statement, rendered to IAM JSON and to Cedar.
#[derive(Debug, Clone)]
struct Stmt {
    allow: bool,
    actions: Vec<&'static str>,
    resources: Vec<Res>,
    conds: Vec<Cond>,
}

fn stmt(allow: bool, actions: &[&'static str], resources: Vec<Res>, conds: &[Cond]) -> Stmt {
    Stmt {
        allow,
        actions: actions.to_vec(),
        resources,
        conds: conds.to_vec(),
    }
}

/// IAM groups conditions by operator; stsd evaluates them in that order, so
/// Cedar gets the same order.
type Grouped = Vec<(&'static str, Vec<(String, Vec<&'static str>, Cond)>)>;

fn grouped(conds: &[Cond]) -> Grouped {
    let mut out: Grouped = Vec::new();
    for &c in conds {
        let (op, key, values) = c.iam();
        match out.iter_mut().find(|(o, _)| *o == op) {
            Some((_, entries)) => entries.push((key, values, c)),
            None => out.push((op, vec![(key, values, c)])),
        }
    }
    out
}

fn js(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

fn js_list(v: &[&str]) -> String {
    match v {
        [one] => js(one),
        _ => format!(
            "[{}]",
            v.iter().map(|s| js(s)).collect::<Vec<_>>().join(",")
        ),
    }
}

impl Stmt {
    fn iam(&self, sid: usize) -> String {
        let effect = if self.allow { "Allow" } else { "Deny" };
        let resources: Vec<String> = self.resources.iter().map(Res::iam).collect();
        let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
        let mut s = format!(
            r#"{{"Sid":"S{sid}","Effect":"{effect}","Action":{},"Resource":{}"#,
            js_list(&self.actions),
            js_list(&resources)
        );
        let groups = grouped(&self.conds);
        if !groups.is_empty() {
            let blocks: Vec<String> = groups
                .iter()
                .map(|(op, entries)| {
                    let kv: Vec<String> = entries
                        .iter()
                        .map(|(k, v, _)| format!("{}:{}", js(k), js_list(v)))
                        .collect();
                    format!("{}:{{{}}}", js(op), kv.join(","))
                })
                .collect();
            let _ = write!(s, r#","Condition":{{{}}}"#, blocks.join(","));
        }
        s.push('}');
        s
    }

    fn cedar_action_scope(&self) -> String {
        match self.actions.as_slice() {
            ["*"] => "action".into(),
            [one] if !one.contains('*') => format!("action == Action::\"{one}\""),
            list => {
                let uids: Vec<String> = list.iter().map(|a| format!("Action::\"{a}\"")).collect();
                format!("action in [{}]", uids.join(", "))
            }
        }
    }

    /// Resource match, then the conditions in stsd's order.
    fn cedar_condition(&self) -> Vec<String> {
        let mut parts = Vec::new();
        if !self.resources.iter().any(|r| matches!(r, Res::Any)) {
            let rs: Vec<String> = self.resources.iter().map(Res::cedar).collect();
            parts.push(if rs.len() == 1 {
                rs.concat()
            } else {
                format!("({})", rs.join(" || "))
            });
        }
        for (_, entries) in grouped(&self.conds) {
            parts.extend(entries.iter().map(|(_, _, c)| c.cedar()));
        }
        parts
    }

    /// A `permit` or `forbid` policy for `principal_scope`.
    fn cedar(&self, principal_scope: &str) -> String {
        let effect = if self.allow { "permit" } else { "forbid" };
        let when = self.cedar_condition();
        let when = if when.is_empty() {
            String::new()
        } else {
            format!(" when {{ {} }}", when.join(" && "))
        };
        format!(
            "{effect}({principal_scope}, {}, resource){when};\n",
            self.cedar_action_scope()
        )
    }

    /// The whole statement as one boolean expression (for the
    /// boundary/session encoding).
    fn cedar_expr(&self) -> String {
        let mut parts = Vec::new();
        match self.actions.as_slice() {
            ["*"] => {}
            _ => parts.push(self.cedar_action_scope()),
        }
        parts.extend(self.cedar_condition());
        if parts.is_empty() {
            "true".into()
        } else {
            format!("({})", parts.join(" && "))
        }
    }
}

fn iam_doc(stmts: &[Stmt]) -> String {
    let body: Vec<String> = stmts.iter().enumerate().map(|(k, s)| s.iam(k)).collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        body.join(",")
    )
}

/// A policy that must allow (a boundary, the session policies): in Cedar,
/// `forbid … unless { allow₁ || allow₂ … }`, plus one `forbid` per `Deny`.
fn cedar_intersection(stmts: &[Stmt], principal_scope: &str) -> String {
    let allows: Vec<String> = stmts
        .iter()
        .filter(|s| s.allow)
        .map(Stmt::cedar_expr)
        .collect();
    let mut out = format!(
        "forbid({principal_scope}, action, resource) unless {{ {} }};\n",
        if allows.is_empty() {
            "false".into()
        } else {
            allows.join(" || ")
        }
    );
    for s in stmts.iter().filter(|s| !s.allow) {
        out.push_str(&s.cedar(principal_scope));
    }
    out
}

// ---------------------------------------------------------------------------
// The realistic principal.

/// Statement `j` (0..10) of identity policy `i`; `name` prefixes the
/// resources (`team` only in the granting policy).
fn identity_statement(i: usize, j: usize, name: &str) -> Stmt {
    use Cond::*;
    use Res::{Any, Glob, TeamPrefix};
    match j {
        0 => stmt(
            true,
            &["s3:Get*", "s3:ListMultipartUploadParts"],
            vec![TeamPrefix(format!("{name}-*"))],
            &[Tag("team", "blue"), SourceIp(CORP), Secure(true)],
        ),
        1 => stmt(
            true,
            &["ec2:Describe*"],
            vec![Any],
            &[Region(REGIONS), Before(EXPIRY), Mfa(true)],
        ),
        2 => stmt(
            true,
            &["dynamodb:*Item", "dynamodb:Query"],
            vec![Glob(format!(
                "arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}-app-*"
            ))],
            &[UseridLike("AROA*:*"), SourceIp(VPN), Before(EXPIRY)],
        ),
        3 => stmt(
            true,
            &["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
            vec![Glob(format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{name}-*"))],
            &[Account(ACCOUNT), Secure(true), Tag("env", "prod")],
        ),
        4 if i.is_multiple_of(2) => stmt(
            false,
            &[
                "s3:DeleteObject*",
                "s3:PutBucketPolicy",
                "s3:PutLifecycleConfiguration",
            ],
            vec![
                Glob(format!("arn:aws:s3:::{name}-*")),
                Glob(format!("arn:aws:s3:::{name}-*/*")),
            ],
            &[Mfa(false), Region(REGIONS), Secure(true)],
        ),
        4 => stmt(
            true,
            &["s3:PutObject", "s3:PutObjectTagging"],
            vec![TeamPrefix(format!("{name}-uploads"))],
            &[Tag("team", "blue"), Secure(true), UseridLike("AROA*:*")],
        ),
        5 => stmt(
            true,
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            vec![Glob(format!(
                "arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/{name}/*"
            ))],
            &[Tag("team", "blue"), Region(US_EAST), Before(EXPIRY)],
        ),
        6 => stmt(
            true,
            &["kms:Decrypt", "kms:GenerateDataKey"],
            vec![Glob(format!(
                "arn:aws:kms:us-east-1:{ACCOUNT}:key/{name}-*"
            ))],
            &[
                Tag("project", "atlas"),
                Region(REGIONS),
                UseridLike("AROAEXAMPLEDEVROLE01:*"),
            ],
        ),
        7 if i.is_multiple_of(3) => stmt(
            false,
            &["s3:*", "dynamodb:*"],
            vec![Any],
            &[NotSourceIp(CORP), Mfa(false), Account(ACCOUNT)],
        ),
        7 => stmt(
            true,
            &["cloudwatch:GetMetricData", "cloudwatch:ListMetrics"],
            vec![Any],
            &[Region(REGIONS), Secure(true), Mfa(true)],
        ),
        8 => stmt(
            true,
            &["s3:ListBucket", "s3:GetBucketLocation"],
            vec![Glob(format!("arn:aws:s3:::{name}-*"))],
            &[Tag("team", "blue"), SourceIp(CORP), Before(EXPIRY)],
        ),
        _ => stmt(
            true,
            &["iam:PassRole"],
            vec![Glob(format!("arn:aws:iam::{ACCOUNT}:role/{name}-*"))],
            &[Account(ACCOUNT), Tag("project", "atlas"), Secure(true)],
        ),
    }
}

fn policy_name(i: usize, last: bool) -> String {
    if last {
        "team".into()
    } else {
        format!("proj{i:02}")
    }
}

fn identity_policy(i: usize, last: bool) -> Vec<Stmt> {
    let name = policy_name(i, last);
    (0..10).map(|j| identity_statement(i, j, &name)).collect()
}

fn boundary() -> Vec<Stmt> {
    use Cond::{Account, Region};
    vec![
        stmt(
            true,
            &["s3:*", "dynamodb:*", "sqs:*", "logs:*", "ec2:Describe*"],
            vec![Res::Any],
            &[Account(ACCOUNT), Region(REGIONS)],
        ),
        stmt(
            true,
            &[
                "kms:Decrypt",
                "kms:GenerateDataKey",
                "iam:PassRole",
                "cloudwatch:*",
            ],
            vec![Res::Any],
            &[Account(ACCOUNT)],
        ),
        stmt(
            false,
            &[
                "iam:CreateUser",
                "iam:AttachRolePolicy",
                "iam:PutRolePolicy",
                "organizations:*",
            ],
            vec![Res::Any],
            &[],
        ),
    ]
}

fn session_policy() -> Vec<Stmt> {
    vec![
        stmt(
            true,
            &["s3:GetObject", "s3:ListBucket"],
            vec![
                Res::Glob("arn:aws:s3:::team-*".into()),
                Res::Glob("arn:aws:s3:::team-*/*".into()),
            ],
            &[],
        ),
        stmt(
            true,
            &["dynamodb:GetItem", "dynamodb:Query"],
            vec![Res::Glob(format!(
                "arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/*"
            ))],
            &[],
        ),
    ]
}

/// What varies between probe requests besides action and resource.
#[derive(Debug, Clone, Copy)]
struct Env {
    ip: &'static str,
    mfa: bool,
}

const CORP_ENV: Env = Env {
    ip: CORP_IP,
    mfa: true,
};

/// The ~12 condition keys of the realistic request.
fn stsd_context(env: Env) -> Context {
    let mut c = Context::new();
    c.insert("aws:PrincipalTag/team", "blue");
    c.insert("aws:PrincipalTag/project", "atlas");
    c.insert("aws:PrincipalTag/env", "prod");
    c.insert("aws:SourceIp", env.ip);
    c.insert("aws:SecureTransport", "true");
    c.insert("aws:CurrentTime", NOW);
    c.insert("aws:userid", format!("{ROLE_ID}:alice-session"));
    c.insert("aws:PrincipalArn", ROLE_ARN);
    c.insert("aws:PrincipalAccount", ACCOUNT);
    c.insert("aws:PrincipalType", "AssumedRole");
    c.insert("aws:MultiFactorAuthPresent", bool_str(env.mfa));
    c.insert("aws:RequestedRegion", "us-east-1");
    c
}

/// The same keys for Cedar: the tags are attributes of the principal entity,
/// the rest a context record with typed `ip` and `datetime` values.
fn cedar_context(env: Env) -> cedar::Context {
    let v = json!({
        "sourceIp": {"__extn": {"fn": "ip", "arg": env.ip}},
        "secureTransport": true,
        "currentTime": {"__extn": {"fn": "datetime", "arg": NOW}},
        "userid": format!("{ROLE_ID}:alice-session"),
        "principalArn": ROLE_ARN,
        "principalAccount": ACCOUNT,
        "principalType": "AssumedRole",
        "mfaPresent": env.mfa,
        "requestedRegion": "us-east-1",
    });
    cedar::Context::from_json_value(v, None).expect("valid Cedar context")
}

fn uid(ty: &str, id: &str) -> cedar::EntityUid {
    cedar::EntityUid::from_type_name_and_id(
        cedar::EntityTypeName::from_str(ty).expect("valid type name"),
        cedar::EntityId::new(id),
    )
}

fn uid_json(ty: &str, id: &str) -> Value {
    json!({"type": ty, "id": id})
}

/// A resource entity: its ARN, and for S3 the bucket and the first key
/// segment (the request side's split that stands in for `${…}` in ARNs).
fn resource_entity(arn: &str) -> Value {
    let attrs = match arn.strip_prefix("arn:aws:s3:::") {
        Some(rest) => {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            let prefix = key.split_once('/').map_or("", |(p, _)| p);
            json!({ "arn": arn, "bucket": bucket, "prefix": prefix })
        }
        None => json!({ "arn": arn }),
    };
    json!({"uid": uid_json("Resource", arn), "attrs": attrs, "parents": []})
}

/// Case-insensitive `*` glob, for the action hierarchy only.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => {
            (0..=text.len()).any(|k| text.get(k..).is_some_and(|t| glob(rest, t)))
        }
        Some((p, rest)) => match text.split_first() {
            Some((t, trest)) => p.eq_ignore_ascii_case(t) && glob(rest, trest),
            None => false,
        },
    }
}

/// Action entities: every concrete action named anywhere, plus those
/// requested, each a member of every wildcard group (`s3:Get*`) it matches.
/// This is Cedar's way to express IAM action wildcards: a static catalogue.
fn action_entities(stmts: &[&Stmt], requested: &[&str]) -> Vec<Value> {
    let mut groups: Vec<&str> = Vec::new();
    let mut concrete: Vec<&str> = requested.to_vec();
    for a in stmts.iter().flat_map(|s| s.actions.iter().copied()) {
        let list = if a.contains('*') {
            &mut groups
        } else {
            &mut concrete
        };
        if a != "*" && !list.contains(&a) {
            list.push(a);
        }
    }
    concrete.retain(|a| !groups.contains(a));
    let mut out: Vec<Value> = groups
        .iter()
        .map(|g| json!({"uid": uid_json("Action", g), "attrs": {}, "parents": []}))
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    for a in concrete {
        if seen.contains(&a) {
            continue;
        }
        seen.push(a);
        let parents: Vec<Value> = groups
            .iter()
            .filter(|g| glob(g.as_bytes(), a.as_bytes()))
            .map(|g| uid_json("Action", g))
            .collect();
        out.push(json!({"uid": uid_json("Action", a), "attrs": {}, "parents": parents}));
    }
    out
}

/// A probe: action, resource ARN, environment.
type Probe = (&'static str, &'static str, Env);

/// Requests decided by both engines before benchmarking (the benchmarked
/// ones first).
fn probes() -> Vec<Probe> {
    let outside = Env {
        ip: OUTSIDE_IP,
        mfa: true,
    };
    let outside_no_mfa = Env {
        ip: OUTSIDE_IP,
        mfa: false,
    };
    let no_mfa = Env {
        ip: CORP_IP,
        mfa: false,
    };
    vec![
        (ALLOWED.0, ALLOWED.1, CORP_ENV),
        (DENIED.0, DENIED.1, CORP_ENV),
        (ALLOWED.0, ALLOWED.1, outside),
        (ALLOWED.0, ALLOWED.1, outside_no_mfa),
        ("s3:ListBucket", "arn:aws:s3:::team-shared", CORP_ENV),
        ("s3:ListBucket", "arn:aws:s3:::team-shared", outside),
        (
            "s3:PutObject",
            "arn:aws:s3:::team-uploads/blue/x.bin",
            CORP_ENV,
        ),
        ("s3:DeleteObject", "arn:aws:s3:::proj00-data/x", no_mfa),
        (
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-1:111122223333:table/team-app-orders",
            CORP_ENV,
        ),
        (
            "dynamodb:PutItem",
            "arn:aws:dynamodb:us-east-1:111122223333:table/team-app-orders",
            CORP_ENV,
        ),
        (
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-1:111122223333:table/proj03-app-x",
            CORP_ENV,
        ),
        ("ec2:DescribeInstances", "*", CORP_ENV),
        (
            "kms:Decrypt",
            "arn:aws:kms:us-east-1:111122223333:key/team-1234",
            CORP_ENV,
        ),
        (
            "iam:CreateUser",
            "arn:aws:iam::111122223333:user/bob",
            CORP_ENV,
        ),
    ]
}

/// Both engines' form of one principal's policies.
struct Scenario {
    principal: Principal,
    set: PolicySet,
    cedar_principal: cedar::EntityUid,
    cedar_policies: cedar::PolicySet,
    entities: cedar::Entities,
    /// Id of the identity policy that must grant [`ALLOWED`].
    granting: String,
}

/// `n` identity policies of 10 statements, a boundary and a session policy.
fn realistic(n: usize) -> Scenario {
    let identity: Vec<Vec<Stmt>> = (0..n).map(|i| identity_policy(i, i + 1 == n)).collect();
    let (bound, session) = (boundary(), session_policy());
    let parse = |id: String, kind, stmts: &[Stmt]| {
        Arc::new(Policy::parse(id, kind, &iam_doc(stmts)).expect("valid generated policy"))
    };
    let set = PolicySet {
        identity: identity
            .iter()
            .enumerate()
            .map(|(i, p)| parse(format!("identity-{i}"), PolicyKind::Identity, p))
            .collect(),
        boundary: Some(parse("boundary".into(), PolicyKind::Boundary, &bound)),
        session: Some(vec![parse("session".into(), PolicyKind::Session, &session)]),
        scps: Vec::new(),
    };
    let principal = Principal::assumed_role(SESSION_ARN, ROLE_ARN, Some(ROLE_ID));

    let role_scope = format!("principal in Role::\"{ROLE_ARN}\"");
    let mut text = String::new();
    for s in identity.iter().flatten() {
        text.push_str(&s.cedar(&role_scope));
    }
    text.push_str(&cedar_intersection(&bound, &role_scope));
    text.push_str(&cedar_intersection(
        &session,
        &format!("principal == Session::\"{SESSION_ARN}\""),
    ));
    let cedar_policies = cedar::PolicySet::from_str(&text).expect("valid generated Cedar");

    let all: Vec<&Stmt> = identity
        .iter()
        .flatten()
        .chain(&bound)
        .chain(&session)
        .collect();
    let probes = probes();
    let requested: Vec<&str> = probes.iter().map(|p| p.0).collect();
    let mut entities = vec![
        json!({"uid": uid_json("Role", ROLE_ARN), "attrs": {}, "parents": []}),
        json!({
            "uid": uid_json("Session", SESSION_ARN),
            "attrs": {"tags": {"team": "blue", "project": "atlas", "env": "prod"}},
            "parents": [uid_json("Role", ROLE_ARN)],
        }),
    ];
    entities.extend(action_entities(&all, &requested));
    let mut resources: Vec<&str> = probes.iter().map(|p| p.1).collect();
    resources.dedup();
    entities.extend(resources.iter().map(|r| resource_entity(r)));
    let entities = cedar::Entities::from_json_value(Value::Array(entities), None)
        .expect("valid Cedar entities");
    Scenario {
        principal,
        set,
        cedar_principal: uid("Session", SESSION_ARN),
        cedar_policies,
        entities,
        granting: format!("identity-{}", n - 1),
    }
}

/// One identity policy, one statement, one user.
fn one_by_one() -> Scenario {
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}}"#;
    let policy = Policy::parse("p1", PolicyKind::Identity, doc).expect("valid policy");
    let set = PolicySet {
        identity: vec![Arc::new(policy)],
        ..Default::default()
    };
    let text = format!(
        "permit(principal == User::\"{USER_ARN}\", action == Action::\"s3:GetObject\", resource) \
         when {{ resource.arn like \"arn:aws:s3:::bucket/*\" }};"
    );
    let entities = json!([
        {"uid": uid_json("User", USER_ARN), "attrs": {}, "parents": []},
        {"uid": uid_json("Action", "s3:GetObject"), "attrs": {}, "parents": []},
        resource_entity(ONE.1),
    ]);
    Scenario {
        principal: Principal::user(USER_ARN, None),
        set,
        cedar_principal: uid("User", USER_ARN),
        cedar_policies: cedar::PolicySet::from_str(&text).expect("valid Cedar"),
        entities: cedar::Entities::from_json_value(entities, None).expect("valid Cedar entities"),
        granting: "p1".into(),
    }
}

/// One identity policy of `n` statements: `n - 1` non-granting statements
/// cycling through the ten templates, then the granting one.
fn statements(n: usize) -> (PolicySet, Principal) {
    let mut stmts: Vec<Stmt> = (0..n - 1)
        .map(|k| identity_statement(k / 10, k % 10, &policy_name(k / 10, false)))
        .collect();
    stmts.push(identity_statement(0, 0, "team"));
    let policy =
        Policy::parse_with_limit("big", PolicyKind::Identity, &iam_doc(&stmts), usize::MAX)
            .expect("valid generated policy");
    let set = PolicySet {
        identity: vec![Arc::new(policy)],
        ..Default::default()
    };
    (
        set,
        Principal::assumed_role(SESSION_ARN, ROLE_ARN, Some(ROLE_ID)),
    )
}

// ---------------------------------------------------------------------------
// Running both engines.

impl Scenario {
    fn stsd<'a>(&'a self, (action, resource): (&str, &str), ctx: &Context) -> Decision<'a> {
        evaluate(
            &self.set,
            ResourceSide::default(),
            &Request::new(&self.principal, action, resource, ctx),
        )
    }

    fn cedar_request(
        &self,
        (action, resource): (&str, &str),
        env: cedar::Context,
    ) -> cedar::Request {
        cedar::Request::new(
            self.cedar_principal.clone(),
            uid("Action", action),
            uid("Resource", resource),
            env,
            None,
        )
        .expect("valid Cedar request")
    }

    fn cedar(&self, authorizer: &cedar::Authorizer, request: &cedar::Request) -> cedar::Response {
        authorizer.is_authorized(request, &self.cedar_policies, &self.entities)
    }

    /// Decides `probes` with both engines; panics on any disagreement, on a
    /// Cedar evaluation error, or when an expectation fails.
    fn check(
        &self,
        probes: &[Probe],
        stsd_ctx: impl Fn(Env) -> Context,
        cedar_ctx: impl Fn(Env) -> cedar::Context,
    ) {
        let authorizer = cedar::Authorizer::new();
        let (mut allows, mut denies) = (0, 0);
        for &(action, resource, env) in probes {
            let ctx = stsd_ctx(env);
            let d = self.stsd((action, resource), &ctx);
            let response = self.cedar(
                &authorizer,
                &self.cedar_request((action, resource), cedar_ctx(env)),
            );
            let errors: Vec<String> = response
                .diagnostics()
                .errors()
                .map(ToString::to_string)
                .collect();
            assert!(
                errors.is_empty(),
                "Cedar errors for {action} on {resource}: {errors:?}"
            );
            let cedar_allows = response.decision() == cedar::Decision::Allow;
            assert_eq!(
                d.is_allowed(),
                cedar_allows,
                "stsd ({:?}, {:?}) and Cedar disagree on {action} on {resource} ({env:?})",
                d.outcome,
                d.reason
            );
            if cedar_allows {
                allows += 1
            } else {
                denies += 1
            }
        }
        assert!(
            probes.len() == 1 || (allows > 0 && denies > 0),
            "probes must both allow and deny"
        );
    }

    /// The benchmarked requests decide as intended: [`ALLOWED`] only by the
    /// last identity policy, [`DENIED`] implicitly.
    fn check_benchmarked(
        &self,
        allowed: (&str, &str),
        denied: Option<(&str, &str)>,
        ctx: &Context,
    ) {
        let d = self.stsd(allowed, ctx);
        assert!(
            d.is_allowed(),
            "{allowed:?} must be allowed: {:?}",
            d.reason
        );
        assert!(
            d.deciding()
                .filter(|m| m.policy.kind() == PolicyKind::Identity)
                .all(|m| m.policy.id() == self.granting),
            "{allowed:?} must be granted by {} only",
            self.granting
        );
        if let Some(denied) = denied {
            let d = self.stsd(denied, ctx);
            assert_eq!(d.outcome, Outcome::ImplicitDeny, "{denied:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// Benchmarks.

/// Set once each realistic Cedar/stsd benchmark has run in this process, so
/// criterion's estimates on disk are this run's.
static RAN_STSD_REALISTIC: AtomicBool = AtomicBool::new(false);
static RAN_CEDAR_REALISTIC: AtomicBool = AtomicBool::new(false);

fn bench_one_by_one(c: &mut Criterion) {
    let sc = one_by_one();
    sc.check(
        &[(ONE.0, ONE.1, CORP_ENV)],
        |_| Context::new(),
        |_| cedar::Context::empty(),
    );
    sc.check_benchmarked(ONE, None, &Context::EMPTY);
    let ctx = Context::new();
    c.benchmark_group("stsd/1x1")
        .bench_function("allowed", |b| {
            b.iter(|| {
                let req = Request::new(&sc.principal, black_box(ONE.0), black_box(ONE.1), &ctx);
                black_box(evaluate(&sc.set, ResourceSide::default(), &req))
            });
        });
    let authorizer = cedar::Authorizer::new();
    let req = sc.cedar_request(ONE, cedar::Context::empty());
    c.benchmark_group("cedar/1x1")
        .bench_function("allowed", |b| {
            b.iter(|| black_box(sc.cedar(&authorizer, black_box(&req))));
        });
}

fn bench_principal(c: &mut Criterion, sc: &Scenario, group: &str, flag: Option<&AtomicBool>) {
    let ctx = stsd_context(CORP_ENV);
    let mut g = c.benchmark_group(format!("stsd/{group}"));
    for (name, (action, resource)) in [("allowed", ALLOWED), ("denied", DENIED)] {
        g.bench_function(name, |b| {
            if let Some(f) = flag {
                f.store(true, Ordering::Relaxed);
            }
            b.iter(|| {
                let req = Request::new(&sc.principal, black_box(action), black_box(resource), &ctx);
                black_box(evaluate(&sc.set, ResourceSide::default(), &req))
            });
        });
    }
    g.finish();
}

fn bench_principal_cedar(c: &mut Criterion, sc: &Scenario, group: &str, flag: Option<&AtomicBool>) {
    let authorizer = cedar::Authorizer::new();
    let mut g = c.benchmark_group(format!("cedar/{group}"));
    for (name, request) in [("allowed", ALLOWED), ("denied", DENIED)] {
        let req = sc.cedar_request(request, cedar_context(CORP_ENV));
        g.bench_function(name, |b| {
            if let Some(f) = flag {
                f.store(true, Ordering::Relaxed);
            }
            b.iter(|| black_box(sc.cedar(&authorizer, black_box(&req))));
        });
    }
    g.finish();
}

fn bench_realistic(c: &mut Criterion, sc: &Scenario) {
    bench_principal(c, sc, "realistic", Some(&RAN_STSD_REALISTIC));
    bench_principal_cedar(c, sc, "realistic", Some(&RAN_CEDAR_REALISTIC));
}

fn bench_hundred(c: &mut Criterion) {
    let sc = realistic(100);
    sc.check(&probes(), stsd_context, cedar_context);
    sc.check_benchmarked(ALLOWED, Some(DENIED), &stsd_context(CORP_ENV));
    bench_principal(c, &sc, "100policies", None);
    bench_principal_cedar(c, &sc, "100policies", None);
}

fn bench_statements(c: &mut Criterion) {
    let ctx = stsd_context(CORP_ENV);
    let mut g = c.benchmark_group("stsd/statements");
    for n in [1, 10, 100, 1000] {
        let (set, principal) = statements(n);
        let decide = || {
            let req = Request::new(&principal, black_box(ALLOWED.0), black_box(ALLOWED.1), &ctx);
            evaluate(&set, ResourceSide::default(), &req)
        };
        assert!(
            decide().is_allowed(),
            "{n} statements: the last one must grant"
        );
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| black_box(decide()))
        });
    }
    g.finish();
}

fn bench_parse_compile(c: &mut Criterion) {
    let text = iam_doc(&identity_policy(9, true));
    Policy::parse("p", PolicyKind::Identity, &text).expect("valid generated policy");
    c.benchmark_group("stsd/parse_compile")
        .bench_function("10_statements", |b| {
            b.iter(|| black_box(Policy::parse("p", PolicyKind::Identity, black_box(&text))));
        });
}

// ---------------------------------------------------------------------------
// The stsd/Cedar ratio.

/// Sorted ns-per-call samples of `a` and `b`, timed in alternating batches
/// of about 200 µs so both see the same machine noise.
#[expect(
    clippy::disallowed_types,
    reason = "a benchmark measures wall-clock time itself"
)]
fn interleaved(a: &mut dyn FnMut(), b: &mut dyn FnMut(), rounds: usize) -> (Vec<f64>, Vec<f64>) {
    use std::time::{Duration, Instant};
    let time = |f: &mut dyn FnMut(), n: u32| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed()
    };
    let calibrate = |f: &mut dyn FnMut()| {
        let mut n = 1u32;
        while n < 1 << 20 && time(f, n) < Duration::from_micros(200) {
            n *= 2;
        }
        n
    };
    let (na, nb) = (calibrate(a), calibrate(b));
    let (mut ta, mut tb) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        ta.push(time(a, na).as_secs_f64() * 1e9 / f64::from(na));
        tb.push(time(b, nb).as_secs_f64() * 1e9 / f64::from(nb));
    }
    ta.sort_by(f64::total_cmp);
    tb.sort_by(f64::total_cmp);
    (ta, tb)
}

/// The `q`-quantile (0..=1) of sorted samples.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a short sample vector"
    )]
    let i = (q * (sorted.len().saturating_sub(1)) as f64).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

/// Criterion's median estimate (ns) and its confidence bounds, if written.
fn criterion_median(group: &str, bench: &str) -> Option<(f64, f64, f64)> {
    let home = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("criterion"))
        })?;
    let path = home
        .join(group.replace('/', "_"))
        .join(bench)
        .join("new/estimates.json");
    let v: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let m = v.get("median")?;
    let ci = m.get("confidence_interval")?;
    Some((
        m.get("point_estimate")?.as_f64()?,
        ci.get("lower_bound")?.as_f64()?,
        ci.get("upper_bound")?.as_f64()?,
    ))
}

fn report_ratio(sc: &Scenario) {
    println!(
        "\n== stsd/Cedar, realistic principal (10 policies x 10 statements + boundary + session) =="
    );
    let ctx = stsd_context(CORP_ENV);
    let authorizer = cedar::Authorizer::new();
    for (name, request) in [("allowed", ALLOWED), ("denied", DENIED)] {
        let req = sc.cedar_request(request, cedar_context(CORP_ENV));
        let mut run_stsd = || {
            let r = Request::new(
                &sc.principal,
                black_box(request.0),
                black_box(request.1),
                &ctx,
            );
            black_box(evaluate(&sc.set, ResourceSide::default(), &r));
        };
        let mut run_cedar = || {
            black_box(sc.cedar(&authorizer, black_box(&req)));
        };
        let (ts, tc) = interleaved(&mut run_stsd, &mut run_cedar, 400);
        for (label, q) in [("median", 0.5), ("p10", 0.1)] {
            let (s, c) = (quantile(&ts, q), quantile(&tc, q));
            println!(
                "{name:>8}: interleaved {label:<6} stsd {s:9.0} ns  cedar {c:9.0} ns  ratio stsd/cedar {:.3}",
                s / c
            );
        }
        let fresh = RAN_STSD_REALISTIC.load(Ordering::Relaxed)
            && RAN_CEDAR_REALISTIC.load(Ordering::Relaxed);
        if let (true, Some(s), Some(c)) = (
            fresh,
            criterion_median("stsd/realistic", name),
            criterion_median("cedar/realistic", name),
        ) {
            println!(
                "{name:>8}: criterion median    stsd {:9.0} ns  cedar {:9.0} ns  ratio stsd/cedar {:.3}  \
                 (95% CI stsd {:.0}-{:.0}, cedar {:.0}-{:.0})",
                s.0,
                c.0,
                s.0 / c.0,
                s.1,
                s.2,
                c.1,
                c.2
            );
        }
    }
}

/// The fixed workload of `scripts/bench-check.sh`, which counts with
/// callgrind the instructions of this function only: `n` decisions of the
/// realistic principal, allowed and denied alternately, each with its
/// `Request::new`.
#[inline(never)]
fn icount_evaluator_realistic(sc: &Scenario, ctx: &Context, n: usize) -> usize {
    (0..n)
        .filter(|i| {
            let (action, resource) = if i % 2 == 0 { ALLOWED } else { DENIED };
            let req = Request::new(&sc.principal, black_box(action), black_box(resource), ctx);
            evaluate(&sc.set, ResourceSide::default(), &req).outcome == Outcome::Allowed
        })
        .count()
}

/// As [`icount_evaluator_realistic`] for the one-statement user.
#[inline(never)]
fn icount_evaluator_1x1(sc: &Scenario, ctx: &Context, n: usize) -> usize {
    (0..n)
        .filter(|_| {
            let req = Request::new(&sc.principal, black_box(ONE.0), black_box(ONE.1), ctx);
            evaluate(&sc.set, ResourceSide::default(), &req).outcome == Outcome::Allowed
        })
        .count()
}

/// `STSD_ICOUNT=<case>:<iterations>` (`scripts/bench-check.sh`): runs one
/// fixed workload and nothing else.
fn icount(spec: &str) {
    let (case, n) = spec
        .split_once(':')
        .expect("STSD_ICOUNT=<case>:<iterations>");
    let n: usize = n.parse().expect("STSD_ICOUNT iterations");
    let allowed = match case {
        "evaluator_realistic" => {
            let sc = realistic(10);
            sc.check_benchmarked(ALLOWED, Some(DENIED), &stsd_context(CORP_ENV));
            icount_evaluator_realistic(&sc, &stsd_context(CORP_ENV), n)
        }
        "evaluator_1x1" => {
            let sc = one_by_one();
            icount_evaluator_1x1(&sc, &Context::new(), n)
        }
        other => panic!("STSD_ICOUNT: unknown case {other}"),
    };
    assert!(allowed > 0 || n == 0, "the workload must allow");
    println!("icount {case}: {n} iterations");
}

fn main() {
    if let Ok(spec) = std::env::var("STSD_ICOUNT") {
        icount(&spec);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let sc = realistic(10);
    sc.check(&probes(), stsd_context, cedar_context);
    sc.check_benchmarked(ALLOWED, Some(DENIED), &stsd_context(CORP_ENV));

    bench_one_by_one(&mut c);
    bench_realistic(&mut c, &sc);
    bench_hundred(&mut c);
    bench_statements(&mut c);
    bench_parse_compile(&mut c);
    c.final_summary();

    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    // Only in a benchmark run whose filter kept the realistic group.
    let ran =
        RAN_STSD_REALISTIC.load(Ordering::Relaxed) || RAN_CEDAR_REALISTIC.load(Ordering::Relaxed);
    if has("--bench") && !has("--test") && !has("--list") && ran {
        report_ratio(&sc);
    }
}
