use super::*;
use crate::service::iam::access_keys::create_access_key;
use crate::service::iam::testing::{iam, root, user};

fn create(name: &str) -> CreateUser {
    CreateUser {
        name: name.parse().unwrap(),
        path: None,
        tags: vec![],
        permissions_boundary: None,
    }
}

fn tag(k: &str, v: &str) -> Tag {
    Tag {
        key: k.parse().unwrap(),
        value: v.parse().unwrap(),
    }
}

const ONLY_GET_USER: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}"#;
const CREATE_USER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:CreateUser"],"Resource":"*"}]}"#;

#[tokio::test]
async fn create_get_and_duplicate() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    let mut input = create("alice");
    input.path = Some("/eng/".parse().unwrap());
    input.tags = vec![tag("team", "blue")];
    let u = create_user(&iam, &root, input).await.unwrap();
    assert_eq!(u.arn.as_str(), "arn:aws:iam::123456789012:user/eng/alice");
    assert!(u.id.as_str().starts_with("AIDA"));
    let got = get_user(&iam, &root, Some("alice".parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(the_user(got), u);
    let err = create_user(&iam, &root, create("ALICE")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::EntityAlreadyExists);
    let err = get_user(&iam, &root, Some("bob".parse().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    assert_eq!(err.message(), "The user with name bob cannot be found.");
}

#[tokio::test]
async fn authorization_on_create_user() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    create_user(&iam, &root, create("alice")).await.unwrap();
    let alice = user(&iam, "alice", Some(ONLY_GET_USER)).await;
    let me = the_user(get_user(&iam, &alice, None).await.unwrap());
    assert_eq!(me.name.as_str(), "alice");
    let err = create_user(&iam, &alice, create("bob")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
    assert_eq!(
        err.message(),
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: \
         iam:CreateUser on resource: arn:aws:iam::123456789012:user/bob because no \
         identity-based policy allows the iam:CreateUser action"
    );
    let alice = user(&iam, "alice", Some(CREATE_USER)).await;
    create_user(&iam, &alice, create("bob")).await.unwrap();
}

#[tokio::test]
async fn root_get_user_without_name_is_the_root() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    match get_user(&iam, &root, None).await.unwrap() {
        GetUser::Root(a) => assert_eq!(a.id.as_str(), "123456789012"),
        GetUser::User(u) => panic!("expected the root, got {u:?}"),
    }
}

fn the_user(got: GetUser) -> UserRecord {
    got.into_user().expect("a user, not the root")
}

#[tokio::test]
async fn tags_limits_and_reserved_keys() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    let mut input = create("alice");
    input.tags = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
    let err = create_user(&iam, &root, input).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    let mut input = create("alice");
    input.tags = vec![tag("aws:x", "v")];
    assert_eq!(
        create_user(&iam, &root, input).await.unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    create_user(&iam, &root, create("alice")).await.unwrap();
    let alice: UserName = "alice".parse().unwrap();
    tag_user(
        &iam,
        &root,
        alice.clone(),
        vec![tag("a", "1"), tag("b", "2")],
    )
    .await
    .unwrap();
    tag_user(&iam, &root, alice.clone(), vec![tag("A", "3")])
        .await
        .unwrap();
    untag_user(&iam, &root, alice.clone(), vec!["B".parse().unwrap()])
        .await
        .unwrap();
    let tags = list_user_tags(&iam, &root, alice.clone()).await.unwrap();
    assert_eq!(tags, vec![tag("a", "3")]);
    let many = (0..50).map(|i| tag(&format!("k{i}"), "v")).collect();
    let err = tag_user(&iam, &root, alice, many).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
}

#[tokio::test]
async fn delete_conflicts_with_keys() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    create_user(&iam, &root, create("alice")).await.unwrap();
    let alice: UserName = "alice".parse().unwrap();
    let key = create_access_key(&iam, &root, Some(alice.clone()))
        .await
        .unwrap();
    let err = delete_user(&iam, &root, alice.clone()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeleteConflict);
    assert_eq!(
        err.message(),
        "Cannot delete entity, must delete access keys first."
    );
    crate::service::iam::access_keys::delete_access_key(
        &iam,
        &root,
        Some(alice.clone()),
        key.record.id,
    )
    .await
    .unwrap();
    delete_user(&iam, &root, alice.clone()).await.unwrap();
    assert_eq!(
        get_user(&iam, &root, Some(alice)).await.unwrap_err().code(),
        ErrorCode::NoSuchEntity
    );
}

#[tokio::test]
async fn rename_carries_access_keys() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    create_user(&iam, &root, create("alice")).await.unwrap();
    let key = create_access_key(&iam, &root, Some("alice".parse().unwrap()))
        .await
        .unwrap();
    update_user(
        &iam,
        &root,
        UpdateUser {
            name: "alice".parse().unwrap(),
            new_name: Some("alicia".parse().unwrap()),
            new_path: Some("/ops/".parse().unwrap()),
        },
    )
    .await
    .unwrap();
    let u = the_user(
        get_user(&iam, &root, Some("alicia".parse().unwrap()))
            .await
            .unwrap(),
    );
    assert_eq!(u.arn.as_str(), "arn:aws:iam::123456789012:user/ops/alicia");
    assert_eq!(u.access_keys, vec![key.record.id.clone()]);
    let stored = iam.store.access_key(&key.record.id).await.unwrap().unwrap();
    assert_eq!(
        stored.record.owner,
        CredentialOwner::User("alicia".parse().unwrap())
    );
    assert!(
        get_user(&iam, &root, Some("alice".parse().unwrap()))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn list_users_pages_and_filters() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    for n in ["a", "b", "c"] {
        create_user(&iam, &root, create(n)).await.unwrap();
    }
    let mut input = create("d");
    input.path = Some("/x/".parse().unwrap());
    create_user(&iam, &root, input).await.unwrap();
    let page = list_users(
        &iam,
        &root,
        &Paging {
            max_items: Some(2),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(page.items.len(), 2);
    let rest = list_users(
        &iam,
        &root,
        &Paging {
            marker: page.marker.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(rest.items.len(), 2);
    assert!(rest.marker.is_none());
    let only_x = list_users(
        &iam,
        &root,
        &Paging {
            path_prefix: Some("/x/".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(only_x.items.len(), 1);
}
