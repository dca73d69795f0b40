use super::attach::{
    EntityFilter, attach_policy, detach_policy, list_attached_policies, list_entities_for_policy,
};
use super::versions::{
    create_policy_version, delete_policy_version, get_policy_version, list_policy_versions,
    set_default_policy_version,
};
use super::*;
use crate::service::iam::boundaries::{set_role_boundary, set_user_boundary};
use crate::service::iam::holder::Holder;
use crate::service::iam::roles::{CreateRole, create_role, delete_role};
use crate::service::iam::testing::{account, iam, root};
use crate::service::iam::users::{CreateUser, create_user};

const DOC: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;

fn input(name: &str) -> CreatePolicy {
    CreatePolicy {
        name: name.parse().unwrap(),
        path: None,
        document: DOC.into(),
        description: None,
        tags: vec![],
    }
}

fn v(n: u32) -> PolicyVersionId {
    PolicyVersionId::new(n).unwrap()
}

async fn stored(iam: &Iam, arn: &Arn) -> ManagedPolicyRecord {
    let name = policy_name_of(arn).unwrap();
    fetch::<ManagedPolicyRecord>(&*iam.store, &Key::managed_policy(account(), &name))
        .await
        .unwrap()
        .unwrap()
        .record
}

async fn role(iam: &Iam, root: &AuthzCaller, name: &str) {
    create_role(
        iam,
        root,
        CreateRole {
            name: name.parse().unwrap(),
            path: None,
            trust_policy: r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}}"#.into(),
            description: None,
            max_session_duration: None,
            tags: vec![],
            permissions_boundary: None,
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn create_get_and_validate() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    let mut i = input("P");
    i.path = Some("/team/".parse().unwrap());
    i.description = Some("d".into());
    let p = create_policy(&iam, &root, i).await.unwrap();
    assert_eq!(p.arn.as_str(), "arn:aws:iam::123456789012:policy/team/P");
    assert!(p.id.as_str().starts_with("ANPA"));
    assert_eq!(p.default_version_id, v(1));
    assert_eq!(get_policy(&iam, &root, &p.arn).await.unwrap(), p);
    let err = create_policy(&iam, &root, input("p")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::EntityAlreadyExists);
    assert_eq!(
        err.message(),
        "A policy called p already exists. Duplicate names are not allowed."
    );
    let mut big = input("Big");
    big.document = DOC.replace("s3:*", &format!("s3:{}", "x".repeat(6144)));
    let err = create_policy(&iam, &root, big).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    assert_eq!(err.message(), "Cannot exceed quota for PolicySize: 6144");
    let mut bad = input("Bad");
    bad.document = r#"{"Statement":{"Effect":"Allow","Action":"s3:*"}}"#.into();
    let err = create_policy(&iam, &root, bad).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedPolicyDocument);
    let missing: Arn = "arn:aws:iam::123456789012:policy/Nope".parse().unwrap();
    let err = get_policy(&iam, &root, &missing).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    assert_eq!(err.message(), format!("Policy {missing} was not found."));
}

#[tokio::test]
async fn five_versions_and_the_default() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    let arn = create_policy(&iam, &root, input("P")).await.unwrap().arn;
    for n in 2..=5 {
        let made = create_policy_version(&iam, &root, &arn, DOC.into(), n == 3)
            .await
            .unwrap();
        assert_eq!(made.version_id, v(n));
        assert_eq!(made.is_default, n == 3);
    }
    let err = create_policy_version(&iam, &root, &arn, DOC.into(), false)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    assert_eq!(stored(&iam, &arn).await.default_version_id, v(3));
    let err = delete_policy_version(&iam, &root, &arn, v(3))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeleteConflict);
    assert_eq!(
        err.message(),
        "Cannot delete the default version of a policy."
    );
    delete_policy_version(&iam, &root, &arn, v(5))
        .await
        .unwrap();
    let err = get_policy_version(&iam, &root, &arn, v(5))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    // Numbers are never reused.
    let made = create_policy_version(&iam, &root, &arn, DOC.into(), false)
        .await
        .unwrap();
    assert_eq!(made.version_id, v(6));
    set_default_policy_version(&iam, &root, &arn, v(6))
        .await
        .unwrap();
    let versions = list_policy_versions(&iam, &root, &arn).await.unwrap();
    let ids: Vec<_> = versions
        .iter()
        .map(|x| (x.version_id, x.is_default))
        .collect();
    assert_eq!(
        ids,
        [
            (v(6), true),
            (v(4), false),
            (v(3), false),
            (v(2), false),
            (v(1), false)
        ]
    );
    // DeletePolicy needs the other versions gone first.
    let err = delete_policy(&iam, &root, &arn).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeleteConflict);
    for n in [1, 2, 3, 4] {
        delete_policy_version(&iam, &root, &arn, v(n))
            .await
            .unwrap();
    }
    delete_policy(&iam, &root, &arn).await.unwrap();
}

#[tokio::test]
async fn attachments_are_counted_and_limited() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    role(&iam, &root, "R").await;
    let mut arns = vec![];
    for n in 0..11 {
        arns.push(
            create_policy(&iam, &root, input(&format!("P{n}")))
                .await
                .unwrap()
                .arn,
        );
    }
    let r = || Holder::Role("R".parse().unwrap());
    for arn in arns.iter().take(10) {
        attach_policy(&iam, &root, r(), arn.clone()).await.unwrap();
    }
    // Twice is a no-op.
    attach_policy(&iam, &root, r(), arns[0].clone())
        .await
        .unwrap();
    assert_eq!(stored(&iam, &arns[0]).await.attachment_count, 1);
    let err = attach_policy(&iam, &root, r(), arns[10].clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    assert_eq!(err.message(), "Cannot exceed quota for PoliciesPerRole: 10");

    let page = list_attached_policies(&iam, &root, r(), &Paging::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 10);
    assert_eq!(page.items[0].name, "P0");

    let err = delete_policy(&iam, &root, &arns[0]).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeleteConflict);
    assert_eq!(
        err.message(),
        "Cannot delete a policy attached to entities."
    );
    let err = delete_role(&iam, &root, "R".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeleteConflict);

    let filter = PolicyFilter {
        only_attached: true,
        ..PolicyFilter::default()
    };
    let listed = list_policies(&iam, &root, &filter, &Paging::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 10);

    let (entities, marker) =
        list_entities_for_policy(&iam, &root, &arns[0], None, &Paging::default())
            .await
            .unwrap();
    assert_eq!(entities.roles.len(), 1);
    assert!(entities.users.is_empty() && marker.is_none());
    let (entities, _) = list_entities_for_policy(
        &iam,
        &root,
        &arns[0],
        Some(EntityFilter::User),
        &Paging::default(),
    )
    .await
    .unwrap();
    assert!(entities.roles.is_empty());

    detach_policy(&iam, &root, r(), arns[0].clone())
        .await
        .unwrap();
    assert_eq!(stored(&iam, &arns[0]).await.attachment_count, 0);
    let err = detach_policy(&iam, &root, r(), arns[0].clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    delete_policy(&iam, &root, &arns[0]).await.unwrap();
    // Missing policy.
    let err = attach_policy(&iam, &root, r(), arns[0].clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    assert_eq!(
        err.message(),
        format!("Policy {} does not exist or is not attachable.", arns[0])
    );
}

#[tokio::test]
async fn boundaries_must_exist_and_are_counted() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    role(&iam, &root, "R").await;
    create_user(
        &iam,
        &root,
        CreateUser {
            name: "alice".parse().unwrap(),
            path: None,
            tags: vec![],
            permissions_boundary: None,
        },
    )
    .await
    .unwrap();
    let a = create_policy(&iam, &root, input("A")).await.unwrap().arn;
    let b = create_policy(&iam, &root, input("B")).await.unwrap().arn;
    let missing: Arn = "arn:aws:iam::123456789012:policy/Nope".parse().unwrap();
    let err = set_role_boundary(&iam, &root, "R".parse().unwrap(), Some(missing))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    set_role_boundary(&iam, &root, "R".parse().unwrap(), Some(a.clone()))
        .await
        .unwrap();
    set_user_boundary(&iam, &root, "alice".parse().unwrap(), Some(a.clone()))
        .await
        .unwrap();
    assert_eq!(stored(&iam, &a).await.boundary_usage_count, 2);
    let err = delete_policy(&iam, &root, &a).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeleteConflict);
    set_role_boundary(&iam, &root, "R".parse().unwrap(), Some(b.clone()))
        .await
        .unwrap();
    assert_eq!(stored(&iam, &a).await.boundary_usage_count, 1);
    assert_eq!(stored(&iam, &b).await.boundary_usage_count, 1);
    set_user_boundary(&iam, &root, "alice".parse().unwrap(), None)
        .await
        .unwrap();
    delete_role(&iam, &root, "R".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(stored(&iam, &b).await.boundary_usage_count, 0);
    delete_policy(&iam, &root, &a).await.unwrap();
    delete_policy(&iam, &root, &b).await.unwrap();
}

#[tokio::test]
async fn list_policies_pages_and_tags() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    for n in ["c", "a", "b"] {
        create_policy(&iam, &root, input(n)).await.unwrap();
    }
    let first = list_policies(
        &iam,
        &root,
        &PolicyFilter::default(),
        &Paging {
            max_items: Some(2),
            ..Paging::default()
        },
    )
    .await
    .unwrap();
    let names: Vec<_> = first.items.iter().map(|p| p.name.to_string()).collect();
    assert_eq!(names, ["a", "b"]);
    let rest = list_policies(
        &iam,
        &root,
        &PolicyFilter::default(),
        &Paging {
            marker: first.marker,
            ..Paging::default()
        },
    )
    .await
    .unwrap();
    assert_eq!((rest.items.len(), rest.marker), (1, None));
    let aws = PolicyFilter {
        aws_only: true,
        ..PolicyFilter::default()
    };
    assert!(
        list_policies(&iam, &root, &aws, &Paging::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let arn: Arn = "arn:aws:iam::123456789012:policy/a".parse().unwrap();
    let tag = Tag {
        key: "k".parse().unwrap(),
        value: "v".parse().unwrap(),
    };
    tag_policy(&iam, &root, &arn, vec![tag.clone()])
        .await
        .unwrap();
    assert_eq!(
        list_policy_tags(&iam, &root, &arn).await.unwrap(),
        vec![tag]
    );
    untag_policy(&iam, &root, &arn, vec!["K".parse().unwrap()])
        .await
        .unwrap();
    assert!(
        list_policy_tags(&iam, &root, &arn)
            .await
            .unwrap()
            .is_empty()
    );
}
