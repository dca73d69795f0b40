use super::*;
use crate::service::iam::testing::{iam, root};
use crate::service::iam::users::{CreateUser, create_user, delete_user};

async fn setup() -> (Iam, AuthzCaller) {
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

fn g(n: &str) -> GroupName {
    n.parse().unwrap()
}

fn alice() -> UserName {
    "alice".parse().unwrap()
}

#[tokio::test]
async fn ten_groups_per_user() {
    let (iam, root) = setup().await;
    for i in 0..11 {
        create_group(&iam, &root, g(&format!("g{i}")), None)
            .await
            .unwrap();
    }
    for i in 0..10 {
        add_user_to_group(&iam, &root, g(&format!("g{i}")), alice())
            .await
            .unwrap();
    }
    // Adding again is a no-op.
    add_user_to_group(&iam, &root, g("g0"), alice())
        .await
        .unwrap();
    let err = add_user_to_group(&iam, &root, g("g10"), alice())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    assert_eq!(err.message(), "Cannot exceed quota for GroupsPerUser: 10");
    assert_eq!(
        list_groups_for_user(&iam, &root, alice())
            .await
            .unwrap()
            .len(),
        10
    );
}

#[tokio::test]
async fn membership_on_both_sides_and_delete_conflicts() {
    let (iam, root) = setup().await;
    let created = create_group(&iam, &root, g("devs"), Some("/eng/".parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(
        created.arn.as_str(),
        "arn:aws:iam::123456789012:group/eng/devs"
    );
    assert!(create_group(&iam, &root, g("DEVS"), None).await.is_err());
    add_user_to_group(&iam, &root, g("devs"), alice())
        .await
        .unwrap();
    let (group, users) = get_group(&iam, &root, g("devs"), &Paging::default())
        .await
        .unwrap();
    assert_eq!(group.members, vec![alice()]);
    assert_eq!(users.items.len(), 1);
    assert_eq!(users.marker, None);
    let err = delete_group(&iam, &root, g("devs")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeleteConflict);
    let err = delete_user(&iam, &root, alice()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeleteConflict);

    update_group(&iam, &root, g("devs"), Some(g("builders")), None)
        .await
        .unwrap();
    let groups = list_groups_for_user(&iam, &root, alice()).await.unwrap();
    assert_eq!(groups.first().unwrap().name, g("builders"));

    remove_user_from_group(&iam, &root, g("builders"), alice())
        .await
        .unwrap();
    let err = remove_user_from_group(&iam, &root, g("builders"), alice())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    delete_group(&iam, &root, g("builders")).await.unwrap();
    delete_user(&iam, &root, alice()).await.unwrap();
    let page = list_groups(&iam, &root, &Paging::default()).await.unwrap();
    assert!(page.items.is_empty());
}

#[tokio::test]
async fn get_group_pages_its_members_in_name_order() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    create_group(&iam, &root, g("big"), None).await.unwrap();
    for n in ["dave", "Carol", "alice", "bob", "eve"] {
        let n: UserName = n.parse().unwrap();
        create_user(&iam, &root, new_user(n.clone())).await.unwrap();
        add_user_to_group(&iam, &root, g("big"), n).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let paging = Paging {
            marker: marker.take(),
            max_items: Some(2),
            ..Paging::default()
        };
        let (_, page) = get_group(&iam, &root, g("big"), &paging).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|u| u.name.as_str().to_owned()));
        match page.marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    assert_eq!(seen, ["alice", "bob", "Carol", "dave", "eve"]);
}

fn new_user(name: UserName) -> CreateUser {
    CreateUser {
        name,
        path: None,
        tags: vec![],
        permissions_boundary: None,
    }
}

#[tokio::test]
async fn the_groups_per_account_quota_is_enforced() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    for i in 0..quota::GROUPS {
        create_group(&iam, &root, g(&format!("g{i:03}")), None)
            .await
            .unwrap();
    }
    let err = create_group(&iam, &root, g("one-too-many"), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    assert_eq!(
        err.message(),
        "Cannot exceed quota for GroupsPerAccount: 300"
    );
    delete_group(&iam, &root, g("g000")).await.unwrap();
    create_group(&iam, &root, g("one-too-many"), None)
        .await
        .unwrap();
}
