use super::*;

fn target() -> Target {
    Target {
        account: "123456789012".parse().unwrap(),
        partition: "aws".parse().unwrap(),
    }
}

/// A document as `aws iam get-account-authorization-details` prints it
/// (documents as objects, dates as strings), plus one URL-encoded
/// document as the raw API sends it.
pub(crate) const DUMP: &str = r#"{
  "UserDetailList": [{
    "Path": "/eng/", "UserName": "alice", "UserId": "AIDAEXAMPLEEXAMPLE01",
    "Arn": "arn:aws:iam::123456789012:user/eng/alice", "CreateDate": "2024-01-02T03:04:05+00:00",
    "UserPolicyList": [{"PolicyName": "own", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}}],
    "GroupList": ["devs"],
    "AttachedManagedPolicies": [
      {"PolicyName": "read", "PolicyArn": "arn:aws:iam::123456789012:policy/read"},
      {"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    ],
    "PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/read"},
    "Tags": [{"Key": "team", "Value": "core"}]
  }],
  "GroupDetailList": [{
    "Path": "/", "GroupName": "devs", "GroupId": "AGPAEXAMPLE", "Arn": "arn:aws:iam::123456789012:group/devs",
    "CreateDate": "2024-01-02T03:04:05+00:00",
    "GroupPolicyList": [{"PolicyName": "g", "PolicyDocument": "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22sns%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D"}],
    "AttachedManagedPolicies": []
  }],
  "RoleDetailList": [{
    "Path": "/", "RoleName": "deploy", "RoleId": "AROAEXAMPLE", "Arn": "arn:aws:iam::123456789012:role/deploy",
    "CreateDate": "2024-01-02T03:04:05+00:00",
    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:user/eng/alice", "123456789012"]}, "Action": "sts:AssumeRole"}]},
    "InstanceProfileList": [{"InstanceProfileName": "ip"}],
    "RolePolicyList": [], "AttachedManagedPolicies": [{"PolicyName": "read", "PolicyArn": "arn:aws:iam::123456789012:policy/read"}],
    "Tags": [], "RoleLastUsed": {"LastUsedDate": "2024-02-02T00:00:00+00:00", "Region": "us-east-1"},
    "MaxSessionDuration": 7200
  }],
  "Policies": [{
    "PolicyName": "read", "PolicyId": "ANPAEXAMPLE", "Arn": "arn:aws:iam::123456789012:policy/read", "Path": "/",
    "DefaultVersionId": "v2", "AttachmentCount": 2, "PermissionsBoundaryUsageCount": 1, "IsAttachable": true,
    "CreateDate": "2024-01-02T03:04:05+00:00", "UpdateDate": "2024-01-02T03:04:05+00:00",
    "PolicyVersionList": [
      {"Document": {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}, "VersionId": "v2", "IsDefaultVersion": true, "CreateDate": "2024-01-02T03:04:05+00:00"},
      {"Document": {"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}, "VersionId": "v1", "IsDefaultVersion": false, "CreateDate": "2024-01-02T03:04:05+00:00"}
    ]
  }, {
    "PolicyName": "ReadOnlyAccess", "Arn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "Path": "/",
    "DefaultVersionId": "v1", "PolicyVersionList": []
  }]
}"#;

fn parse(text: &str) -> Result<Desired, BootstrapError> {
    Desired::parse("f.json", text, &target())
}

/// `text` with `from` replaced by `to` (exactly once).
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from}");
    text.replace(from, to)
}

fn invalid(e: BootstrapError) -> (String, String, String) {
    match e {
        BootstrapError::Invalid {
            entity,
            field,
            message,
            ..
        } => (entity, field, message),
        other => panic!("{other}"),
    }
}

#[test]
fn a_cli_dump_reads_into_the_desired_state() {
    let d = parse(DUMP).unwrap();
    let [p] = d.policies.as_slice() else { panic!() };
    assert_eq!((p.name.as_str(), p.path.as_str()), ("read", "/"));
    assert!(
        p.document.text.contains("s3:GetObject"),
        "the default version"
    );
    let [g] = d.groups.as_slice() else { panic!() };
    let doc = &g.inline[&"g".parse().unwrap()];
    assert_eq!(
        doc.text, r#"{"Statement":{"Effect":"Allow","Action":"sns:*","Resource":"*"}}"#,
        "URL-encoded documents are decoded"
    );
    let [u] = d.users.as_slice() else { panic!() };
    assert_eq!(u.path.as_str(), "/eng/");
    assert_eq!(u.groups, ["devs".parse().unwrap()]);
    assert_eq!(
        u.attached,
        ["arn:aws:iam::123456789012:policy/read".parse().unwrap()]
    );
    assert_eq!(u.boundary, Some(u.attached[0].clone()));
    assert_eq!(u.tags.len(), 1);
    assert_eq!(u.source.entity, "user \"alice\"");
    let [r] = d.roles.as_slice() else { panic!() };
    assert_eq!(r.max_session, Some(7200));
    assert_eq!(r.description, None);
    // Bare account principals compare as the root ARN IAM stores.
    let principals = &r.trust.value["Statement"][0]["Principal"]["AWS"];
    assert_eq!(principals[1], "arn:aws:iam::123456789012:root");
    // AWS managed policies and instance profiles are noted, not applied.
    assert_eq!(d.notes.len(), 3, "{:?}", d.notes);
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("ReadOnlyAccess") && n.contains("not attached"))
    );
    assert!(d.notes.iter().any(|n| n.contains("InstanceProfileList")));
}

#[test]
fn errors_name_the_file_entity_and_field() {
    let e = parse(&edit(DUMP, r#""Key": "team""#, r#""Key": "aws:team""#)).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("bootstrap file f.json: user \"alice\": Tags: "),
        "{e}"
    );

    let bad = edit(DUMP, r#""Action": "sqs:*""#, r#""Action": "sqs""#);
    let (entity, field, _) = invalid(parse(&bad).unwrap_err());
    assert_eq!(
        (entity.as_str(), field.as_str()),
        ("user \"alice\"", "UserPolicyList[0].PolicyDocument")
    );

    let bad = edit(DUMP, r#""GroupList": ["devs"]"#, r#""Groups": ["devs"]"#);
    let (entity, field, message) = invalid(parse(&bad).unwrap_err());
    assert_eq!(
        (entity.as_str(), field.as_str()),
        ("UserDetailList[0]", "Groups")
    );
    assert!(message.starts_with("unknown field"), "{message}");

    let bad = edit(DUMP, r#""RoleName": "deploy","#, "");
    let (entity, field, _) = invalid(parse(&bad).unwrap_err());
    assert_eq!(
        (entity.as_str(), field.as_str()),
        ("RoleDetailList[0]", "RoleName")
    );

    let bad = edit(
        DUMP,
        r#""MaxSessionDuration": 7200"#,
        r#""MaxSessionDuration": 60"#,
    );
    let (_, field, message) = invalid(parse(&bad).unwrap_err());
    assert_eq!(field, "MaxSessionDuration");
    assert!(message.contains("3600"), "{message}");

    let bad = edit(DUMP, r#""Principal": {"AWS""#, r#""Principle": {"AWS""#);
    let (entity, field, _) = invalid(parse(&bad).unwrap_err());
    assert_eq!(
        (entity.as_str(), field.as_str()),
        ("role \"deploy\"", "AssumeRolePolicyDocument")
    );

    let e = parse("{ nope").unwrap_err();
    assert!(matches!(e, BootstrapError::Syntax { .. }), "{e}");
    assert!(e.to_string().contains("line 1"), "{e}");
}

#[test]
fn references_must_stay_in_the_account() {
    let bad = edit(
        DUMP,
        r#""PolicyArn": "arn:aws:iam::123456789012:policy/read"}],
    "Tags": []"#,
        r#""PolicyArn": "arn:aws:iam::111122223333:policy/read"}],
    "Tags": []"#,
    );
    let (entity, field, message) = invalid(parse(&bad).unwrap_err());
    assert_eq!(
        (entity.as_str(), field.as_str()),
        ("role \"deploy\"", "AttachedManagedPolicies[0].PolicyArn")
    );
    assert!(message.contains("accounts.default"), "{message}");

    // An AWS managed boundary cannot be left out: that would widen access.
    let bad = edit(
        DUMP,
        r#""PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/read""#,
        r#""PermissionsBoundaryArn": "arn:aws:iam::aws:policy/PowerUserAccess""#,
    );
    let (_, field, _) = invalid(parse(&bad).unwrap_err());
    assert_eq!(field, "PermissionsBoundary.PermissionsBoundaryArn");

    let bad = edit(
        DUMP,
        "arn:aws:iam::123456789012:group/devs",
        "arn:aws:iam::999999999999:group/devs",
    );
    let (entity, field, _) = invalid(parse(&bad).unwrap_err());
    assert_eq!((entity.as_str(), field.as_str()), ("group \"devs\"", "Arn"));
}

#[test]
fn the_default_version_is_found_by_flag_or_id() {
    let unflagged = DUMP.replace(
        r#""IsDefaultVersion": true"#,
        r#""IsDefaultVersion": false"#,
    );
    let d = parse(&unflagged).unwrap();
    assert!(
        d.policies[0].document.text.contains("s3:GetObject"),
        "by DefaultVersionId"
    );
    let none = edit(
        &unflagged,
        r#""DefaultVersionId": "v2""#,
        r#""DefaultVersionId": "v9""#,
    );
    let (_, field, _) = invalid(parse(&none).unwrap_err());
    assert_eq!(field, "PolicyVersionList");
}

#[test]
fn truncated_pages_are_refused() {
    let e = parse(r#"{"UserDetailList": [], "IsTruncated": true, "Marker": "u/x"}"#).unwrap_err();
    assert_eq!(invalid(e).1, "IsTruncated");
    let d = parse(r#"{"UserDetailList": [], "IsTruncated": false}"#).unwrap();
    assert!(d.is_empty());
}

#[test]
fn an_entity_is_described_once() {
    let twice = r#"{"GroupDetailList": [{"GroupName": "a"}, {"GroupName": "A"}]}"#;
    assert!(matches!(
        parse(twice),
        Err(BootstrapError::Duplicate { .. })
    ));
    let mut first = parse(DUMP).unwrap();
    let second = Desired::parse(
        "g.json",
        r#"{"UserDetailList": [{"UserName": "ALICE"}]}"#,
        &target(),
    )
    .unwrap();
    let e = first.merge(second).unwrap_err();
    assert_eq!(
        e.to_string(),
        "bootstrap file g.json: user \"ALICE\" is also described in f.json"
    );
    let other = Desired::parse(
        "g.json",
        r#"{"UserDetailList": [{"UserName": "bob"}]}"#,
        &target(),
    )
    .unwrap();
    first.merge(other).unwrap();
    assert_eq!(first.users.len(), 2);
}

#[test]
fn documents_compare_as_json() {
    let d = parse(DUMP).unwrap();
    let doc = &d.policies[0].document;
    assert!(doc.same_as(
        r#"{ "Statement" : { "Resource": "*", "Action": "s3:GetObject", "Effect": "Allow" } }"#
    ));
    assert!(!doc.same_as(r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#));
    assert!(!doc.same_as("not json"));
    assert_eq!(json::url_decode("%7B%22a%22%7D+"), Some(r#"{"a"}+"#.into()));
    assert_eq!(json::url_decode("%zz"), None);
    assert_eq!(json::url_decode("%+1"), None);
    assert_eq!(json::url_decode("%C3"), None);
}
