mod cache;
mod sessions;

use std::collections::BTreeMap;

use super::*;
use crate::adapters::memory::MemoryStore;
use crate::domain::clock::FixedClock;
use crate::domain::ids::{AccessKeyId, GroupName, IamPath, UserName};
use crate::service::store::model::{PolicyVersion, PolicyVersionId};
use crate::service::store::{EntityWriter, Timestamp, Transaction};

const T0: i64 = 1_740_824_100; // 2025-03-01T10:15:00Z
const ALLOW_GET_USER: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}"#;
const ALLOW_IAM: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}"#;
const ALLOW_CREATE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:CreateUser","Resource":"*"}}"#;

fn account() -> AccountId {
    "123456789012".parse().unwrap()
}

fn partition() -> Partition {
    "aws".parse().unwrap()
}

fn user(name: &str) -> UserRecord {
    let name: UserName = name.parse().unwrap();
    UserRecord {
        account: account(),
        arn: Arn::iam_user(&partition(), account(), &IamPath::root(), &name),
        name,
        id: "AIDAJQABLZS4A3QDU576Q".parse().unwrap(),
        path: IamPath::root(),
        create_date: Timestamp::from_unix_secs(1),
        tags: vec![],
        permissions_boundary: None,
        inline_policies: BTreeMap::new(),
        attached_policies: vec![],
        groups: vec![],
        access_keys: vec![],
        mfa_devices: vec![],
        password_last_used: None,
    }
}

fn group(name: &str, doc: &str) -> GroupRecord {
    let name: GroupName = name.parse().unwrap();
    GroupRecord {
        account: account(),
        arn: Arn::iam_group(&partition(), account(), &IamPath::root(), &name),
        name,
        id: "AGPAJQABLZS4A3QDU576Q".parse().unwrap(),
        path: IamPath::root(),
        create_date: Timestamp::from_unix_secs(1),
        inline_policies: BTreeMap::from([("g".parse().unwrap(), doc.to_owned())]),
        attached_policies: vec![],
        members: vec![],
    }
}

fn managed(name: &str, doc: &str) -> ManagedPolicyRecord {
    let name: PolicyName = name.parse().unwrap();
    ManagedPolicyRecord {
        account: account(),
        arn: Arn::iam_policy(&partition(), account(), &IamPath::root(), &name),
        name,
        id: "ANPAJQABLZS4A3QDU576Q".parse().unwrap(),
        path: IamPath::root(),
        description: None,
        default_version_id: PolicyVersionId::FIRST,
        versions: vec![PolicyVersion {
            version_id: PolicyVersionId::FIRST,
            document: doc.to_owned(),
            is_default: true,
            create_date: Timestamp::from_unix_secs(1),
        }],
        next_version: PolicyVersionId::new(2).unwrap(),
        attachment_count: 1,
        boundary_usage_count: 0,
        tags: vec![],
        create_date: Timestamp::from_unix_secs(1),
        update_date: Timestamp::from_unix_secs(1),
    }
}

fn caller(u: &UserRecord) -> Caller {
    Caller {
        account: account(),
        identity: Identity::User {
            name: u.name.clone(),
            unique_id: u.id.clone(),
            path: u.path.clone(),
        },
        access_key_id: "AKIAIOSFODNN7EXAMPLE".parse::<AccessKeyId>().ok(),
        region: None,
    }
}

async fn load(records: Vec<crate::service::store::Record>, who: &Caller) -> AuthzCaller {
    let clock = FixedClock::at_secs(T0);
    let store = MemoryStore::new(Arc::new(FixedClock::at_secs(T0)));
    let mut txn = Transaction::new();
    for r in records {
        txn.put(r);
    }
    store.commit(txn).await.unwrap();
    let transport = Transport {
        source_ip: Some("192.0.2.7".parse().unwrap()),
        secure: true,
        region: Some("us-east-1".parse().unwrap()),
    };
    AuthzCaller::load(&store, &clock, &partition(), who, &transport)
        .await
        .unwrap()
}

const TARGET: &str = "arn:aws:iam::123456789012:user/bob";

#[tokio::test]
async fn user_allowed_only_get_user_is_denied_create_user_with_aws_message() {
    let mut alice = user("alice");
    alice
        .inline_policies
        .insert("p".parse().unwrap(), ALLOW_GET_USER.into());
    let authz = load(vec![alice.clone().into()], &caller(&alice)).await;
    assert!(authz.authorize("iam:GetUser", TARGET, &[]).is_ok());
    let err = authz.authorize("iam:CreateUser", TARGET, &[]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
    assert_eq!(
        err.message(),
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: \
         iam:CreateUser on resource: arn:aws:iam::123456789012:user/bob because no \
         identity-based policy allows the iam:CreateUser action"
    );
}

#[tokio::test]
async fn attached_managed_policy_grants() {
    let policy = managed("creators", ALLOW_CREATE);
    let mut alice = user("alice");
    alice.attached_policies.push(policy.arn.clone());
    let authz = load(vec![alice.clone().into(), policy.into()], &caller(&alice)).await;
    assert!(authz.authorize("iam:CreateUser", TARGET, &[]).is_ok());
    assert!(authz.authorize("iam:DeleteUser", TARGET, &[]).is_err());
}

#[tokio::test]
async fn group_inline_policy_grants() {
    let g = group("admins", ALLOW_IAM);
    let mut alice = user("alice");
    alice.groups.push(g.name.clone());
    let authz = load(vec![alice.clone().into(), g.into()], &caller(&alice)).await;
    assert!(authz.authorize("iam:CreateUser", TARGET, &[]).is_ok());
}

#[tokio::test]
async fn boundary_narrows() {
    let boundary = managed("boundary", ALLOW_GET_USER);
    let mut alice = user("alice");
    alice
        .inline_policies
        .insert("p".parse().unwrap(), ALLOW_IAM.into());
    alice.permissions_boundary = Some(boundary.arn.clone());
    let authz = load(vec![alice.clone().into(), boundary.into()], &caller(&alice)).await;
    assert!(authz.authorize("iam:GetUser", TARGET, &[]).is_ok());
    let err = authz.authorize("iam:CreateUser", TARGET, &[]).unwrap_err();
    assert!(
        err.message()
            .ends_with("because no permissions boundary allows the iam:CreateUser action"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn missing_boundary_policy_allows_nothing() {
    let mut alice = user("alice");
    alice
        .inline_policies
        .insert("p".parse().unwrap(), ALLOW_IAM.into());
    alice.permissions_boundary = Some(managed("gone", ALLOW_IAM).arn);
    let authz = load(vec![alice.clone().into()], &caller(&alice)).await;
    assert!(authz.authorize("iam:GetUser", TARGET, &[]).is_err());
}

#[tokio::test]
async fn root_may_do_anything_in_its_account() {
    let root = Caller {
        account: account(),
        identity: Identity::Root,
        access_key_id: "AKIAIOSFODNN7EXAMPLE".parse().ok(),
        region: None,
    };
    let authz = load(vec![], &root).await;
    assert!(authz.authorize("iam:CreateUser", TARGET, &[]).is_ok());
    assert_eq!(
        authz.context().get("aws:principaltype"),
        Some(&"Account".into())
    );
}

#[tokio::test]
async fn context_keys_and_variables() {
    let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*",
        "Resource":"arn:aws:iam::123456789012:user/${aws:username}",
        "Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue","aws:PrincipalType":"User"},
        "Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"192.0.2.0/24"},
        "DateGreaterThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}}}"#;
    let mut alice = user("alice");
    alice
        .inline_policies
        .insert("p".parse().unwrap(), policy.into());
    alice.tags.push(Tag {
        key: "team".parse().unwrap(),
        value: "blue".parse().unwrap(),
    });
    let authz = load(vec![alice.clone().into()], &caller(&alice)).await;
    let own = "arn:aws:iam::123456789012:user/alice";
    assert!(authz.authorize("iam:GetUser", own, &[]).is_ok());
    assert!(authz.authorize("iam:GetUser", TARGET, &[]).is_err());
    assert_eq!(
        authz.context().get("aws:currenttime"),
        Some(&"2025-03-01T10:15:00Z".into())
    );
    assert_eq!(
        authz.context().get("aws:userid"),
        Some(&"AIDAJQABLZS4A3QDU576Q".into())
    );
}

#[tokio::test]
async fn extra_context_is_visible() {
    let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:CreateUser",
        "Resource":"*","Condition":{"StringEquals":{"iam:PermissionsBoundary":"arn:aws:iam::123456789012:policy/b"}}}}"#;
    let mut alice = user("alice");
    alice
        .inline_policies
        .insert("p".parse().unwrap(), policy.into());
    let authz = load(vec![alice.clone().into()], &caller(&alice)).await;
    assert!(authz.authorize("iam:CreateUser", TARGET, &[]).is_err());
    let extra = [(
        "iam:PermissionsBoundary",
        "arn:aws:iam::123456789012:policy/b",
    )];
    assert!(authz.authorize("iam:CreateUser", TARGET, &extra).is_ok());
}
