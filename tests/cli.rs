//! The `stsd policy` commands, run as a user runs them: the built binary,
//! files on disk, exit codes and output.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn stsd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stsd"))
        .args(args)
        .output()
        .expect("run stsd")
}

fn temp(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stsd-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn validate_accepts_the_examples() {
    let dir = root().join("examples/policies");
    let mut args = vec!["policy".to_owned(), "validate".to_owned()];
    for e in std::fs::read_dir(dir).unwrap() {
        args.push(e.unwrap().path().display().to_string());
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = stsd(&argv);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("ok (trust policy"), "{}", text(&o));
}

#[test]
fn validate_reports_errors_with_the_element_and_fails() {
    let bad = temp(
        "bad.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"*"}}"#,
    );
    let good = temp(
        "good.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
    );
    let o = stsd(&[
        "policy",
        "validate",
        bad.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("error: MalformedPolicyDocument") && out.contains("NotAction"),
        "{out}"
    );
    assert!(out.contains("good.json: ok"), "{out}");
}

#[test]
fn validate_warns_about_risky_but_valid_policies() {
    let p = temp(
        "broad.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"},"Id":"x"}"#,
    );
    let o = stsd(&[
        "policy",
        "validate",
        "--kind",
        "identity",
        p.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("warning: statement 1: Allow with NotAction and Resource \"*\""),
        "{}",
        text(&o)
    );
    let u = temp(
        "unknown.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"nosuchsvc:Do","Resource":"*"}}"#,
    );
    let o = stsd(&["policy", "validate", u.to_str().unwrap()]);
    assert!(
        text(&o).contains("unknown service prefix \"nosuchsvc\""),
        "{}",
        text(&o)
    );
}

#[test]
fn validate_checks_kind_rules() {
    let p = temp(
        "principal.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
    );
    let o = stsd(&[
        "policy",
        "validate",
        "--kind",
        "identity",
        p.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("prohibited field Principal"),
        "{}",
        text(&o)
    );
}

fn simulate(input: &Value, extra: &[&str]) -> Output {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let p = temp(&format!("sim-{n}.json"), &input.to_string());
    let mut args = vec!["policy", "simulate", "--input", p.to_str().unwrap()];
    args.extend_from_slice(extra);
    stsd(&args)
}

#[test]
fn simulate_prints_iam_shaped_results() {
    let o = stsd(&[
        "policy",
        "simulate",
        "--input",
        root().join("examples/simulate.json").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = v["EvaluationResults"].as_array().unwrap();
    assert_eq!(r.len(), 6, "3 actions x 2 resources");
    assert_eq!(r[0]["EvalActionName"], "s3:GetObject");
    assert_eq!(r[0]["EvalDecision"], "allowed");
    assert_eq!(
        r[0]["MatchedStatements"][0]["SourcePolicyId"],
        "PolicyInputList.1"
    );
    assert_eq!(
        r[0]["MatchedStatements"][0]["StartPosition"],
        json!({"Line": 4, "Column": 5})
    );
    assert_eq!(
        r[0]["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"],
        true
    );
    assert_eq!(
        r[1]["EvalDecision"], "implicitDeny",
        "bob's folder is not alice's"
    );
    assert_eq!(r[2]["EvalDecision"], "implicitDeny");
    assert_eq!(v["IsTruncated"], false);
}

#[test]
fn simulate_explicit_deny_and_missing_context() {
    let input = json!({
        "PolicyInputList": [{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:*","Resource":"*"},
            {"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}},
            {"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}
        ]}],
        "ActionNames": ["s3:DeleteObject", "ec2:RunInstances"],
        "ContextEntries": [{"ContextKeyName":"aws:MultiFactorAuthPresent","ContextKeyValues":["false"],"ContextKeyType":"boolean"}]
    });
    let o = simulate(&input, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["EvaluationResults"][0]["EvalDecision"], "explicitDeny");
    assert_eq!(v["EvaluationResults"][0]["EvalResourceName"], "*");
    assert_eq!(v["EvaluationResults"][1]["EvalDecision"], "implicitDeny");
    assert_eq!(
        v["EvaluationResults"][1]["MissingContextValues"],
        json!(["aws:RequestedRegion"])
    );
}

#[test]
fn simulate_resource_policy_across_accounts() {
    let input = json!({
        "PolicyInputList": ["{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}"],
        "ResourcePolicy": "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}",
        "ResourceOwner": "arn:aws:iam::444455556666:root",
        "CallerArn": "arn:aws:iam::111122223333:user/alice",
        "ActionNames": ["s3:GetObject"],
        "ResourceArns": ["arn:aws:s3:::shared/x"]
    });
    let v: Value = serde_json::from_slice(&simulate(&input, &[]).stdout).unwrap();
    assert_eq!(v["EvaluationResults"][0]["EvalDecision"], "allowed");
    let mut other = input.clone();
    other["CallerArn"] = json!("arn:aws:iam::999988887777:user/mallory");
    let v: Value = serde_json::from_slice(&simulate(&other, &[]).stdout).unwrap();
    assert_eq!(v["EvaluationResults"][0]["EvalDecision"], "implicitDeny");
}

#[test]
fn simulate_table_output() {
    let o = stsd(&[
        "policy",
        "simulate",
        "--input",
        root().join("examples/simulate.json").to_str().unwrap(),
        "--output",
        "table",
    ]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("ACTION"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("iam:CreateUser") && l.contains("implicitDeny")),
        "{out}"
    );
}

#[test]
fn simulate_rejects_bad_input_naming_the_field() {
    let cases = [
        (
            json!({"PolicyInputList": [], "ActionNames": ["s3:x"]}),
            "InvalidInput",
            "PolicyInputList",
        ),
        (
            json!({"PolicyInputList": ["{}"], "ActionNames": ["s3:x"], "Bogus": 1}),
            "InvalidInput",
            "Bogus",
        ),
        (
            json!({"PolicyInputList": ["{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\"}}"], "ActionNames": ["s3:x"]}),
            "MalformedPolicyDocument",
            "PolicyInputList.1",
        ),
        (
            json!({"PolicyInputList": ["{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}"], "ActionNames": ["s3:x"],
                "ContextEntries": [{"ContextKeyName":"aws:SourceIp","ContextKeyValues":["nope"],"ContextKeyType":"ip"}]}),
            "InvalidInput",
            "aws:SourceIp",
        ),
        (
            json!({"PolicyInputList": ["{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}"], "ActionNames": ["s3:x"],
                "ContextEntries": [{"ContextKeyName":"k","ContextKeyValues":["v"],"ContextKeyType":"text"}]}),
            "InvalidInput",
            "ContextKeyType",
        ),
        (
            json!({"PolicyInputList": ["{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}"], "ActionNames": ["s3:x"],
                "CallerArn": "arn:aws:s3:::bucket"}),
            "InvalidInput",
            "CallerArn",
        ),
    ];
    for (input, code, field) in cases {
        let o = simulate(&input, &[]);
        assert_eq!(o.status.code(), Some(2), "{input}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(code) && err.contains(field), "{input}: {err}");
    }
}
