//! The policy scenario corpus: every `tests/fixtures/policy/*.json` file is an
//! array of scenarios (policy set + requests + expected decision, or a
//! document + kind + expected validation result), run through the shared
//! evaluator. The format is documented in `tests/fixtures/policy/README.md`.

#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "a test harness fails loudly on a malformed fixture"
)]

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use stsd::domain::policy::{
    Context, ContextValue, Outcome, Policy, PolicyKind, PolicySet, Principal, PrincipalKind,
    Request, ResourceSide, evaluate,
};

fn doc_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse(id: &str, kind: PolicyKind, v: &Value) -> Result<Arc<Policy>, String> {
    Policy::parse(id, kind, &doc_text(v))
        .map(Arc::new)
        .map_err(|e| format!("{id}: {e}"))
}

fn list(v: Option<&Value>) -> Vec<Value> {
    match v {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
    }
}

fn principal(v: Option<&Value>) -> Principal {
    let Some(p) = v else {
        return Principal::user(
            "arn:aws:iam::111122223333:user/alice",
            Some("AIDAEXAMPLEALICE0001"),
        );
    };
    let s = |k: &str| p.get(k).and_then(Value::as_str);
    match s("type").expect("principal.type") {
        "user" => Principal::user(s("arn").expect("user arn"), s("id")),
        "root" => Principal::root("aws", s("account").expect("root account")),
        "assumedRole" => Principal::assumed_role(
            s("arn").expect("session arn"),
            s("roleArn").expect("roleArn"),
            s("id"),
        ),
        "federatedUser" => {
            Principal::federated_user(s("arn").expect("arn"), s("userArn").expect("userArn"))
        }
        "webIdentity" => Principal::federated(
            PrincipalKind::WebIdentity,
            s("provider").expect("provider"),
            s("account"),
        ),
        "saml" => Principal::federated(
            PrincipalKind::Saml,
            s("provider").expect("provider"),
            s("account"),
        ),
        "service" => Principal::service(s("service").expect("service")),
        "anonymous" => Principal::anonymous(),
        other => panic!("unknown principal type {other}"),
    }
}

fn context(v: Option<&Value>) -> Context {
    let mut ctx = Context::new();
    if let Some(Value::Object(m)) = v {
        for (k, val) in m {
            let scalar = |x: &Value| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let value = match val {
                Value::Array(items) => {
                    ContextValue::Multi(items.iter().map(|i| scalar(i).into()).collect())
                }
                other => ContextValue::Single(scalar(other).into()),
            };
            ctx.insert(k, value);
        }
    }
    ctx
}

/// Runs one scenario; returns a failure description.
fn run(sc: &Value) -> Result<usize, String> {
    if let Some(doc) = sc.get("document") {
        let kind = sc["kind"]
            .as_str()
            .and_then(PolicyKind::from_name)
            .ok_or("bad kind")?;
        let r = Policy::parse("doc", kind, &doc_text(doc));
        return match (sc.get("expectError").and_then(Value::as_str), r) {
            (Some(want), Err(e)) if e.to_string().contains(want) => Ok(1),
            (Some(want), Err(e)) => Err(format!("error \"{e}\" does not contain \"{want}\"")),
            (Some(want), Ok(_)) => {
                Err(format!("accepted; expected an error containing \"{want}\""))
            }
            (None, Ok(_)) => Ok(1),
            (None, Err(e)) => Err(format!("rejected a valid document: {e}")),
        };
    }
    let pols = sc.get("policies").cloned().unwrap_or(Value::Null);
    let ids = |name: &str, kind, v: Option<&Value>| -> Result<Vec<Arc<Policy>>, String> {
        list(v)
            .iter()
            .enumerate()
            .map(|(i, d)| parse(&format!("{name}.{i}"), kind, d))
            .collect()
    };
    let levels = |name: &str, kind| -> Result<Vec<Vec<Arc<Policy>>>, String> {
        list(pols.get(name))
            .iter()
            .enumerate()
            .map(|(i, l)| ids(&format!("{name}.{i}"), kind, Some(l)))
            .collect()
    };
    let set = PolicySet {
        identity: ids("identity", PolicyKind::Identity, pols.get("identity"))?,
        boundary: pols
            .get("boundary")
            .map(|b| parse("boundary", PolicyKind::Boundary, b))
            .transpose()?,
        session: pols
            .get("session")
            .map(|s| ids("session", PolicyKind::Session, Some(s)))
            .transpose()?,
        scps: levels("scps", PolicyKind::Scp)?,
    };
    let rcps = levels("rcps", PolicyKind::Rcp)?;
    let resource = match (pols.get("resource"), pols.get("trust")) {
        (Some(r), None) => Some(parse("resource", PolicyKind::Resource, r)?),
        (None, Some(t)) => Some(parse("trust", PolicyKind::Trust, t)?),
        (None, None) => None,
        (Some(_), Some(_)) => return Err("both resource and trust".into()),
    };
    let p = principal(sc.get("principal"));
    let requests = sc["requests"].as_array().ok_or("no requests")?;
    if requests.is_empty() {
        return Err("no requests".into());
    }
    let mut failures = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let ctx = context(r.get("context"));
        let resource_arn = r["resource"].as_str().ok_or("request.resource")?;
        let mut req = Request::new(
            &p,
            r["action"].as_str().ok_or("request.action")?,
            resource_arn,
            &ctx,
        );
        if let Some(acct) = r.get("resourceAccount").and_then(Value::as_str) {
            req = req.with_resource_account(acct);
        }
        let want =
            Outcome::parse(r["expect"].as_str().ok_or("request.expect")?).ok_or("bad expect")?;
        let side = ResourceSide {
            policy: resource.as_deref(),
            rcps: &rcps,
        };
        let d = evaluate(&set, side, &req);
        if d.outcome != want {
            failures.push(format!(
                "request {i} ({} on {resource_arn}): got {} ({:?}), want {}",
                r["action"],
                d.outcome.as_str(),
                d.reason,
                want.as_str()
            ));
        }
    }
    if failures.is_empty() {
        Ok(requests.len())
    } else {
        Err(failures.join("; "))
    }
}

#[test]
fn scenario_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    let (mut scenarios, mut requests, mut failures) = (0, 0, Vec::new());
    let mut names = std::collections::HashSet::new();
    for f in &files {
        let all: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for sc in all.as_array().expect("a file is an array of scenarios") {
            let name = sc["name"].as_str().expect("scenario name").to_owned();
            assert!(names.insert(name.clone()), "duplicate scenario name {name}");
            scenarios += 1;
            match run(sc) {
                Ok(n) => requests += n,
                Err(e) => failures.push(format!(
                    "{}: {name}: {e}",
                    f.file_name().unwrap().to_string_lossy()
                )),
            }
        }
    }
    println!(
        "{scenarios} scenarios, {requests} checks, {} failures",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failing scenarios:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        scenarios >= 200,
        "the corpus must hold at least 200 scenarios, found {scenarios}"
    );
}
