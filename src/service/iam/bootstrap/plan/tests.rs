use super::*;
use crate::domain::ids::IamPath;
use crate::service::iam::bootstrap::document::Desired;
use crate::service::store::Timestamp;
use crate::service::store::model::PolicyVersion;
use crate::service::store::model::PolicyVersionId;

fn target() -> Target {
    Target {
        account: "123456789012".parse().unwrap(),
        partition: "aws".parse().unwrap(),
    }
}

fn desired(text: &str) -> Desired {
    Desired::parse("f.json", text, &target()).unwrap()
}

fn arn(text: &str) -> Arn {
    text.parse().unwrap()
}

const READ: &str = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;

fn policy_doc(versions: &[(&str, bool)]) -> String {
    let list: Vec<String> = versions
        .iter()
        .enumerate()
        .map(|(i, (doc, default))| {
            format!(
                r#"{{"Document":{doc},"VersionId":"v{}","IsDefaultVersion":{default}}}"#,
                i + 1
            )
        })
        .collect();
    format!(
        r#"{{"Policies":[{{"PolicyName":"read","Path":"/","PolicyVersionList":[{}]}}]}}"#,
        list.join(",")
    )
}

fn stored_policy(docs: &[&str], default: usize) -> ManagedPolicyRecord {
    let versions: Vec<PolicyVersion> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| PolicyVersion {
            version_id: PolicyVersionId::new(u32::try_from(i).unwrap() + 1).unwrap(),
            document: (*d).into(),
            is_default: i == default,
            create_date: Timestamp::from_unix_secs(1),
        })
        .collect();
    ManagedPolicyRecord {
        account: target().account,
        name: "read".parse().unwrap(),
        id: "ANPAAAAAAAAAAAAAAAAAA".parse().unwrap(),
        path: IamPath::root(),
        arn: arn("arn:aws:iam::123456789012:policy/read"),
        description: None,
        default_version_id: versions[default].version_id,
        next_version: PolicyVersionId::new(u32::try_from(docs.len()).unwrap() + 1).unwrap(),
        versions,
        attachment_count: 0,
        boundary_usage_count: 0,
        tags: vec![],
        create_date: Timestamp::from_unix_secs(1),
        update_date: Timestamp::from_unix_secs(1),
    }
}

fn changes(steps: &[Step]) -> Vec<&Change> {
    steps.iter().map(|s| &s.change).collect()
}

fn doc_n(n: usize) -> String {
    format!(r#"{{"Statement":{{"Effect":"Allow","Action":"s3:Op{n}","Resource":"*"}}}}"#)
}

#[test]
fn a_missing_policy_is_created_and_an_equal_one_left_alone() {
    let want = desired(&policy_doc(&[(READ, true)]));
    let mut notes = vec![];
    let steps = policies(&want.policies, &[], &target(), &mut notes);
    assert!(matches!(changes(&steps)[..], [Change::CreatePolicy(p)] if p.document == READ));
    // Same document, other key order and spacing: nothing to do.
    let stored = stored_policy(
        &[r#"{ "Statement": { "Resource": "*", "Effect": "Allow", "Action": "s3:GetObject" } }"#],
        0,
    );
    assert!(policies(&want.policies, &[stored], &target(), &mut notes).is_empty());
    assert!(notes.is_empty());
}

#[test]
fn a_changed_default_reuses_a_stored_version_or_adds_one() {
    let want = desired(&policy_doc(&[(READ, true)]));
    let mut notes = vec![];
    let a = arn("arn:aws:iam::123456789012:policy/read");
    let stored = stored_policy(&[READ, &doc_n(2)], 1);
    assert_eq!(
        changes(&policies(&want.policies, &[stored], &target(), &mut notes)),
        [&Change::SetDefaultVersion {
            arn: a.clone(),
            version: PolicyVersionId::FIRST
        }]
    );
    let stored = stored_policy(&[&doc_n(1), &doc_n(2)], 1);
    assert_eq!(
        changes(&policies(&want.policies, &[stored], &target(), &mut notes)),
        [&Change::NewDefaultVersion {
            arn: a.clone(),
            document: READ.into(),
            evict: None
        }]
    );
    // Five stored: the oldest non-default goes (v1 is the default here).
    let five: Vec<String> = (1..=5).map(doc_n).collect();
    let five: Vec<&str> = five.iter().map(String::as_str).collect();
    let stored = stored_policy(&five, 0);
    assert_eq!(
        changes(&policies(&want.policies, &[stored], &target(), &mut notes)),
        [&Change::NewDefaultVersion {
            arn: a,
            document: READ.into(),
            evict: PolicyVersionId::new(2)
        }]
    );
}

#[test]
fn a_policy_on_another_path_moves_and_versions_follow_it() {
    let want = desired(&policy_doc(&[(READ, true)]).replace(r#""Path":"/""#, r#""Path":"/x/""#));
    let mut notes = vec![];
    let stored = stored_policy(&[&doc_n(1)], 0);
    let steps = policies(&want.policies, &[stored], &target(), &mut notes);
    assert_eq!(
        changes(&steps),
        [
            &Change::MovePolicy {
                from: arn("arn:aws:iam::123456789012:policy/read"),
                path: "/x/".parse().unwrap()
            },
            &Change::NewDefaultVersion {
                arn: arn("arn:aws:iam::123456789012:policy/x/read"),
                document: READ.into(),
                evict: None
            },
        ]
    );
    assert_eq!(
        (steps[0].field.as_str(), steps[1].field.as_str()),
        ("Path", "PolicyVersionList")
    );
}

fn user_record(text: &str) -> UserRecord {
    // The record a previous bootstrap of `text` would have left.
    let want = desired(text).users.remove(0);
    UserRecord {
        account: target().account,
        name: want.name.clone(),
        id: "AIDAAAAAAAAAAAAAAAAAA".parse().unwrap(),
        arn: Arn::iam_user(
            &target().partition,
            target().account,
            &want.path,
            &want.name,
        ),
        path: want.path,
        create_date: Timestamp::from_unix_secs(1),
        tags: want.tags,
        permissions_boundary: want.boundary,
        inline_policies: want.inline.into_iter().map(|(n, d)| (n, d.text)).collect(),
        attached_policies: want.attached,
        groups: want.groups,
        access_keys: vec![],
        mfa_devices: vec![],
        password_last_used: None,
    }
}

const ALICE: &str = r#"{"UserDetailList":[{"UserName":"alice","Path":"/eng/",
  "UserPolicyList":[{"PolicyName":"a","PolicyDocument":{"Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"*"}}},
                    {"PolicyName":"b","PolicyDocument":{"Statement":{"Effect":"Allow","Action":"sns:*","Resource":"*"}}}],
  "GroupList":["devs","ops"],
  "AttachedManagedPolicies":[{"PolicyArn":"arn:aws:iam::123456789012:policy/p1"},{"PolicyArn":"arn:aws:iam::123456789012:policy/p2"}],
  "PermissionsBoundary":{"PermissionsBoundaryArn":"arn:aws:iam::123456789012:policy/p1"},
  "Tags":[{"Key":"team","Value":"core"},{"Key":"cost","Value":"1"}]}]}"#;

#[test]
fn a_new_user_is_created_with_everything_it_holds() {
    let want = desired(ALICE);
    let steps = users(&want.users, &[]);
    let kinds: Vec<String> = changes(&steps)
        .iter()
        .map(|c| {
            format!("{c:?}")
                .split([' ', '('])
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "CreateUser",
            "PutInline",
            "PutInline",
            "Attach",
            "Attach",
            "Join",
            "Join"
        ]
    );
    let Change::CreateUser(input) = &steps[0].change else {
        panic!()
    };
    assert_eq!(input.tags.len(), 2);
    assert!(input.permissions_boundary.is_some());
}

#[test]
fn an_identical_user_needs_nothing() {
    let want = desired(ALICE);
    let mut stored = user_record(ALICE);
    // Order of tags, groups and attachments and the case of group names
    // do not count.
    stored.tags.reverse();
    stored.groups = vec!["OPS".parse().unwrap(), "devs".parse().unwrap()];
    stored.attached_policies.reverse();
    assert_eq!(users(&want.users, &[stored]), vec![]);
}

#[test]
fn a_changed_user_is_updated_field_by_field() {
    let before = user_record(ALICE);
    let after = ALICE
        .replace(r#""Path":"/eng/""#, r#""Path":"/ops/""#)
        .replace(r#""GroupList":["devs","ops"]"#, r#""GroupList":["devs","qa"]"#)
        .replace(r#""Action":"sns:*""#, r#""Action":"sns:Publish""#)
        .replace(r#"{"PolicyName":"b""#, r#"{"PolicyName":"c""#)
        .replace(r#"{"PolicyArn":"arn:aws:iam::123456789012:policy/p2"}"#, r#"{"PolicyArn":"arn:aws:iam::123456789012:policy/p3"}"#)
        .replace(r#""PermissionsBoundary":{"PermissionsBoundaryArn":"arn:aws:iam::123456789012:policy/p1"},"#, "")
        .replace(r#"{"Key":"cost","Value":"1"}"#, r#"{"Key":"cost","Value":"2"}"#)
        .replace(r#"{"Key":"team","Value":"core"},"#, "");
    let want = desired(&after);
    let steps = users(&want.users, &[before]);
    let u = Holder::User("alice".parse().unwrap());
    let p = |n: &str| arn(&format!("arn:aws:iam::123456789012:policy/{n}"));
    let got: Vec<(&str, &Change)> = steps
        .iter()
        .map(|s| (s.field.as_str(), &s.change))
        .collect();
    assert_eq!(
        got[0],
        (
            "Path",
            &Change::MoveUser {
                name: "alice".parse().unwrap(),
                path: "/ops/".parse().unwrap()
            }
        )
    );
    assert_eq!(
        got[1],
        (
            "PermissionsBoundary",
            &Change::Boundary {
                holder: u.clone(),
                arn: None
            }
        )
    );
    assert_eq!(
        got[2],
        (
            "Tags",
            &Change::Untag {
                holder: u.clone(),
                keys: vec!["team".parse().unwrap()]
            }
        )
    );
    assert!(matches!(got[3], ("Tags", Change::Tag { tags, .. }) if tags.len() == 1));
    assert_eq!(
        got[4],
        (
            "UserPolicyList[PolicyName=b]",
            &Change::DeleteInline {
                holder: u.clone(),
                name: "b".parse().unwrap()
            }
        )
    );
    assert!(matches!(
        got[5],
        ("UserPolicyList[PolicyName=c]", Change::PutInline { .. })
    ));
    assert_eq!(
        got[6],
        (
            "AttachedManagedPolicies",
            &Change::Detach {
                holder: u.clone(),
                arn: p("p2")
            }
        )
    );
    assert_eq!(
        got[7],
        (
            "AttachedManagedPolicies",
            &Change::Attach {
                holder: u.clone(),
                arn: p("p3")
            }
        )
    );
    assert_eq!(
        got[8],
        (
            "GroupList",
            &Change::Leave {
                group: "ops".parse().unwrap(),
                user: "alice".parse().unwrap()
            }
        )
    );
    assert_eq!(
        got[9],
        (
            "GroupList",
            &Change::Join {
                group: "qa".parse().unwrap(),
                user: "alice".parse().unwrap()
            }
        )
    );
    assert_eq!(got.len(), 10);
}

fn trust_on(principal: &str) -> String {
    format!(
        r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}}}"#
    )
}

fn role_doc(roles: &[(&str, &str)]) -> String {
    let list: Vec<String> = roles
        .iter()
        .map(|(name, principal)| {
            format!(
                r#"{{"RoleName":"{name}","AssumeRolePolicyDocument":{}}}"#,
                trust_on(principal)
            )
        })
        .collect();
    format!(r#"{{"RoleDetailList":[{}]}}"#, list.join(","))
}

#[test]
fn roles_trusted_by_roles_are_created_first() {
    let want = desired(&role_doc(&[
        ("a", "arn:aws:iam::123456789012:role/b"),
        ("b", "arn:aws:iam::123456789012:role/c"),
        ("c", "*"),
    ]));
    let order: Vec<String> = roles(&want.roles, &[], &target())
        .iter()
        .map(|s| s.source.entity.clone())
        .collect();
    assert_eq!(order, ["role \"c\"", "role \"b\"", "role \"a\""]);
    // A cycle keeps document order.
    let want = desired(&role_doc(&[
        ("a", "arn:aws:iam::123456789012:role/b"),
        ("b", "arn:aws:iam::123456789012:role/a"),
    ]));
    assert_eq!(roles(&want.roles, &[], &target()).len(), 2);
}

#[test]
fn a_role_compares_its_trust_policy_as_rendered() {
    let text = role_doc(&[("a", "123456789012")]);
    let want = desired(&text);
    let stored = RoleRecord {
        account: target().account,
        name: "a".parse().unwrap(),
        id: "AROAAAAAAAAAAAAAAAAAA".parse().unwrap(),
        path: IamPath::root(),
        arn: arn("arn:aws:iam::123456789012:role/a"),
        create_date: Timestamp::from_unix_secs(1),
        assume_role_policy: trust_on("arn:aws:iam::123456789012:root"),
        description: Some("kept".into()),
        max_session_duration_secs: 7200,
        tags: vec![],
        permissions_boundary: None,
        inline_policies: BTreeMap::new(),
        attached_policies: vec![],
    };
    // The bare account is the root ARN IAM stored; description and
    // session length are not in the document, so they stay.
    assert_eq!(
        roles(&want.roles, std::slice::from_ref(&stored), &target()),
        vec![]
    );
    let mut other = stored;
    other.assume_role_policy = trust_on("*");
    let steps = roles(&want.roles, &[other], &target());
    assert_eq!(steps[0].field, "AssumeRolePolicyDocument");
    assert!(
        matches!(&steps[0].change, Change::Trust { document, .. } if document.contains("123456789012"))
    );
}
