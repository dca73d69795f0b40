//! Applying documents to an in-memory store: create, no-op, update.

use super::*;
use crate::domain::ids::{Arn, RoleName, UserName};
use crate::service::authz::AuthzCaller;
use crate::service::error::ErrorCode;
use crate::service::iam::Iam;
use crate::service::iam::details::{AccountDetails, get_account_authorization_details};
use crate::service::iam::testing::{account, iam, root};
use crate::service::iam::{Paging, roles, users};
use crate::service::store::model::ManagedPolicyRecord;
use crate::service::store::{Key, fetch};

const DOC: &str = r#"{
  "Policies": [{"PolicyName": "read", "Path": "/", "DefaultVersionId": "v1",
    "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true,
      "Document": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}}]}],
  "GroupDetailList": [{"GroupName": "devs", "Path": "/",
    "GroupPolicyList": [{"PolicyName": "g", "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "sns:*", "Resource": "*"}}}],
    "AttachedManagedPolicies": [{"PolicyName": "read", "PolicyArn": "arn:aws:iam::123456789012:policy/read"}]}],
  "UserDetailList": [{"UserName": "alice", "Path": "/eng/", "GroupList": ["devs"],
    "UserPolicyList": [{"PolicyName": "u", "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}}}],
    "AttachedManagedPolicies": [{"PolicyName": "read", "PolicyArn": "arn:aws:iam::123456789012:policy/read"}],
    "PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/read"},
    "Tags": [{"Key": "team", "Value": "core"}]}],
  "RoleDetailList": [
    {"RoleName": "chained", "Path": "/",
     "AssumeRolePolicyDocument": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/ci/deploy"}, "Action": "sts:AssumeRole"}}},
    {"RoleName": "deploy", "Path": "/ci/",
     "AssumeRolePolicyDocument": {"Statement": {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:user/eng/alice", "123456789012"]}, "Action": "sts:AssumeRole"}},
     "RolePolicyList": [{"PolicyName": "r", "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}}}],
     "AttachedManagedPolicies": [{"PolicyName": "read", "PolicyArn": "arn:aws:iam::123456789012:policy/read"}],
     "Tags": [{"Key": "env", "Value": "prod"}], "MaxSessionDuration": 7200}]
}"#;

fn desired(text: &str) -> Desired {
    let target = Target {
        account: account(),
        partition: "aws".parse().unwrap(),
    };
    Desired::parse("f.json", text, &target).unwrap()
}

async fn snapshot(iam: &Iam, root: &AuthzCaller) -> AccountDetails {
    get_account_authorization_details(iam, root, &[], &Paging::default())
        .await
        .unwrap()
}

async fn generation(iam: &Iam) -> u64 {
    iam.store.generation().await.unwrap()
}

async fn policy(iam: &Iam) -> ManagedPolicyRecord {
    fetch::<ManagedPolicyRecord>(
        &*iam.store,
        &Key::managed_policy(account(), &"read".parse().unwrap()),
    )
    .await
    .unwrap()
    .unwrap()
    .record
}

#[tokio::test]
async fn creates_then_changes_nothing() {
    let (iam, clock) = iam().await;
    let root = root(&iam).await;
    let report = apply(&iam, &root, &desired(DOC)).await.unwrap();
    assert!(report.changes > 0);
    let first = snapshot(&iam, &root).await;
    let alice = &first.users[0];
    assert_eq!(
        alice.arn.as_str(),
        "arn:aws:iam::123456789012:user/eng/alice"
    );
    assert_eq!(alice.groups, ["devs".parse().unwrap()]);
    assert_eq!(alice.attached_policies.len(), 1);
    assert!(alice.permissions_boundary.is_some());
    assert!(alice.access_keys.is_empty(), "bootstrap never creates keys");
    let deploy = first
        .roles
        .iter()
        .find(|r| r.role.name.as_str() == "deploy")
        .unwrap();
    assert_eq!(deploy.role.max_session_duration_secs, 7200);
    assert!(
        deploy
            .role
            .assume_role_policy
            .contains("arn:aws:iam::123456789012:user/eng/alice")
    );
    let p = policy(&iam).await;
    assert_eq!((p.attachment_count, p.boundary_usage_count), (3, 1));

    // The same documents again, later: no write at all.
    clock.advance(std::time::Duration::from_secs(60));
    let before = generation(&iam).await;
    let report = apply(&iam, &root, &desired(DOC)).await.unwrap();
    assert_eq!(report.changes, 0);
    assert_eq!(generation(&iam).await, before);
    assert_eq!(snapshot(&iam, &root).await, first);
}

#[tokio::test]
async fn updates_what_differs_in_place() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    apply(&iam, &root, &desired(DOC)).await.unwrap();
    let first = snapshot(&iam, &root).await;
    let changed = DOC
        .replace(
            r#""Action": "s3:GetObject""#,
            r#""Action": "s3:ListBucket""#,
        )
        .replace(
            r#""UserName": "alice", "Path": "/eng/""#,
            r#""UserName": "alice", "Path": "/ops/""#,
        )
        .replace("user/eng/alice", "user/ops/alice")
        .replace(
            r#""RoleName": "deploy", "Path": "/ci/""#,
            r#""RoleName": "deploy", "Path": "/cd/""#,
        )
        .replace("role/ci/deploy", "role/cd/deploy")
        .replace(
            r#"{"Key": "team", "Value": "core"}"#,
            r#"{"Key": "team", "Value": "edge"}"#,
        )
        .replace(r#""Action": "sqs:*""#, r#""Action": "sqs:SendMessage""#);
    let report = apply(&iam, &root, &desired(&changed)).await.unwrap();
    assert!(report.changes > 0);
    let second = snapshot(&iam, &root).await;
    // Same entities (IDs and dates kept), new contents.
    let (a1, a2) = (&first.users[0], &second.users[0]);
    assert_eq!((&a1.id, a1.create_date), (&a2.id, a2.create_date));
    assert_eq!(a2.path.as_str(), "/ops/");
    assert_eq!(a2.tags[0].value.as_str(), "edge");
    assert!(
        a2.inline_policies
            .values()
            .next()
            .unwrap()
            .contains("sqs:SendMessage")
    );
    let deploy = second
        .roles
        .iter()
        .find(|r| r.role.name.as_str() == "deploy")
        .unwrap();
    assert_eq!(
        deploy.role.arn.as_str(),
        "arn:aws:iam::123456789012:role/cd/deploy"
    );
    assert!(deploy.role.assume_role_policy.contains("user/ops/alice"));
    let chained = second
        .roles
        .iter()
        .find(|r| r.role.name.as_str() == "chained")
        .unwrap();
    assert!(chained.role.assume_role_policy.contains("role/cd/deploy"));
    let p = policy(&iam).await;
    assert_eq!(p.versions.len(), 2);
    assert!(
        p.versions
            .iter()
            .find(|v| v.is_default)
            .unwrap()
            .document
            .contains("s3:ListBucket")
    );
    // And converged: a third run writes nothing.
    let before = generation(&iam).await;
    assert_eq!(
        apply(&iam, &root, &desired(&changed))
            .await
            .unwrap()
            .changes,
        0
    );
    assert_eq!(generation(&iam).await, before);
    // Back to the first document: v1 becomes the default again.
    apply(&iam, &root, &desired(DOC)).await.unwrap();
    let p = policy(&iam).await;
    assert_eq!((p.versions.len(), p.default_version_id.number()), (2, 1));
}

#[tokio::test]
async fn a_moved_policy_keeps_its_attachments() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    apply(&iam, &root, &desired(DOC)).await.unwrap();
    let moved = DOC
        .replace(
            r#""PolicyName": "read", "Path": "/""#,
            r#""PolicyName": "read", "Path": "/shared/""#,
        )
        .replace("policy/read", "policy/shared/read");
    apply(&iam, &root, &desired(&moved)).await.unwrap();
    let p = policy(&iam).await;
    let new: Arn = "arn:aws:iam::123456789012:policy/shared/read"
        .parse()
        .unwrap();
    assert_eq!(
        (&p.arn, p.attachment_count, p.boundary_usage_count),
        (&new, 3, 1)
    );
    let alice = users::get_user(&iam, &root, Some("alice".parse::<UserName>().unwrap()))
        .await
        .unwrap()
        .into_user()
        .unwrap();
    assert_eq!(
        (alice.attached_policies, alice.permissions_boundary),
        (vec![new.clone()], Some(new))
    );
    assert_eq!(
        apply(&iam, &root, &desired(&moved)).await.unwrap().changes,
        0
    );
}

#[tokio::test]
async fn the_five_version_limit_is_kept() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    for n in 0..7 {
        let doc = DOC.replace("s3:GetObject", &format!("s3:Op{n}"));
        apply(&iam, &root, &desired(&doc)).await.unwrap();
    }
    let p = policy(&iam).await;
    let ids: Vec<u32> = p.versions.iter().map(|v| v.version_id.number()).collect();
    assert_eq!(ids, [3, 4, 5, 6, 7]);
    assert_eq!(p.default_version_id.number(), 7);
}

#[tokio::test]
async fn a_failing_change_names_file_entity_and_field() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    // The trust policy names a user no document creates.
    let doc = DOC.replace("user/eng/alice", "user/eng/nobody");
    let e = apply(&iam, &root, &desired(&doc)).await.unwrap_err();
    let BootstrapError::Apply {
        file,
        entity,
        field,
        error,
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!(
        (file.as_str(), entity.as_str(), field.as_str()),
        ("f.json", "role \"deploy\"", "AssumeRolePolicyDocument")
    );
    assert_eq!(error.code(), ErrorCode::MalformedPolicyDocument);
    assert!(
        e.to_string().starts_with(
            "bootstrap file f.json: role \"deploy\": AssumeRolePolicyDocument: MalformedPolicyDocument"
        ),
        "{e}"
    );
    // What came before it is applied; the role is not.
    let name: RoleName = "deploy".parse().unwrap();
    assert!(roles::get_role(&iam, &root, name).await.is_err());
    assert!(
        users::get_user(&iam, &root, Some("alice".parse().unwrap()))
            .await
            .is_ok()
    );
}
