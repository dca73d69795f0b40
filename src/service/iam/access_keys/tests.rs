use super::*;
use crate::service::iam::testing::{iam, root, user};
use crate::service::iam::users::{CreateUser, create_user};

async fn with_alice() -> (Iam, AuthzCaller) {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
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
    (iam, root)
}

#[tokio::test]
async fn two_keys_per_user() {
    let (iam, root) = with_alice().await;
    let alice = || Some("alice".parse().unwrap());
    let k1 = create_access_key(&iam, &root, alice()).await.unwrap();
    let k2 = create_access_key(&iam, &root, alice()).await.unwrap();
    assert_ne!(k1.record.id, k2.record.id);
    assert_eq!(k1.secret.expose_secret().len(), 40);
    assert!(k1.record.id.as_str().starts_with("AKIA"));
    let err = create_access_key(&iam, &root, alice()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    assert_eq!(
        err.message(),
        "Cannot exceed quota for AccessKeysPerUser: 2"
    );
    let keys = list_access_keys(&iam, &root, alice()).await.unwrap();
    assert_eq!(keys.len(), 2);
}

#[tokio::test]
async fn two_keys_for_root() {
    let (iam, root) = with_alice().await;
    create_access_key(&iam, &root, None).await.unwrap();
    let k = create_access_key(&iam, &root, None).await.unwrap();
    assert_eq!(k.record.owner, CredentialOwner::Root);
    let err = create_access_key(&iam, &root, None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    delete_access_key(&iam, &root, None, k.record.id)
        .await
        .unwrap();
    create_access_key(&iam, &root, None).await.unwrap();
}

#[tokio::test]
async fn secret_is_sealed_and_opens_through_the_lookup() {
    use crate::service::authn::{CredentialLookup, KeyStatus, StoreCredentials};
    let (iam, root) = with_alice().await;
    let alice = Some("alice".parse().unwrap());
    let k = create_access_key(&iam, &root, alice.clone()).await.unwrap();
    let debug = format!("{k:?}");
    assert!(!debug.contains(k.secret.expose_secret()), "{debug}");
    let lookup = StoreCredentials::new(iam.store.clone(), iam.master_key.clone());
    let found = lookup.lookup(&k.record.id).await.unwrap().unwrap();
    assert_eq!(found.secret.expose_secret(), k.secret.expose_secret());
    assert_eq!(found.status, KeyStatus::Active);
    // Unsealed once: the records are unchanged, so the same key serves.
    let again = lookup.lookup(&k.record.id).await.unwrap().unwrap();
    assert!(std::sync::Arc::ptr_eq(&found, &again));
    // A change of either record (here the key's status) is seen at once.
    update_access_key(
        &iam,
        &root,
        alice.clone(),
        k.record.id.clone(),
        AccessKeyStatus::Inactive,
    )
    .await
    .unwrap();
    let found = lookup.lookup(&k.record.id).await.unwrap().unwrap();
    assert_eq!(found.status, KeyStatus::Inactive);
}

#[tokio::test]
async fn user_manages_own_keys_when_allowed() {
    let (iam, _root) = with_alice().await;
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::*:user/${aws:username}"}}"#;
    let alice = user(&iam, "alice", Some(doc)).await;
    let k = create_access_key(&iam, &alice, None).await.unwrap();
    assert_eq!(
        k.record.owner,
        CredentialOwner::User("alice".parse().unwrap())
    );
    let err = create_access_key(&iam, &alice, Some("bob".parse().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
    let (owner, used) = get_access_key_last_used(&iam, &alice, k.record.id)
        .await
        .unwrap();
    assert_eq!(owner, CredentialOwner::User("alice".parse().unwrap()));
    assert!(used.is_none());
}

#[tokio::test]
async fn unknown_key_is_no_such_entity() {
    let (iam, root) = with_alice().await;
    let err = delete_access_key(
        &iam,
        &root,
        Some("alice".parse().unwrap()),
        "AKIAIOSFODNN7EXAMPLE".parse().unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
}
