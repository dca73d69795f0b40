use super::*;
use crate::service::iam::groups::create_group;
use crate::service::iam::policies::{CreatePolicy, create_policy};
use crate::service::iam::roles::{CreateRole, create_role};
use crate::service::iam::testing::{iam, root, user};
use crate::service::iam::users::{CreateUser, create_user};

const DOC: &str = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;

/// Users u1..u3, groups g1 g2, roles r1 r2 (trusting u1), policy p1.
async fn seeded() -> (Iam, AuthzCaller) {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    for n in ["u2", "u1", "u3"] {
        let input = CreateUser {
            name: n.parse().unwrap(),
            path: None,
            tags: vec![],
            permissions_boundary: None,
        };
        create_user(&iam, &root, input).await.unwrap();
    }
    for n in ["g2", "g1"] {
        create_group(&iam, &root, n.parse().unwrap(), None)
            .await
            .unwrap();
    }
    let trust = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/u1"},"Action":"sts:AssumeRole"}}"#;
    for n in ["r2", "r1"] {
        let input = CreateRole {
            name: n.parse().unwrap(),
            path: None,
            trust_policy: trust.into(),
            description: None,
            max_session_duration: None,
            tags: vec![],
            permissions_boundary: None,
        };
        create_role(&iam, &root, input).await.unwrap();
    }
    let input = CreatePolicy {
        name: "p1".parse().unwrap(),
        path: None,
        document: DOC.into(),
        description: None,
        tags: vec![],
    };
    create_policy(&iam, &root, input).await.unwrap();
    (iam, root)
}

fn names(d: &AccountDetails) -> Vec<String> {
    let users = d.users.iter().map(|u| u.name.to_string());
    let groups = d.groups.iter().map(|g| g.name.to_string());
    let roles = d.roles.iter().map(|r| r.role.name.to_string());
    let policies = d.policies.iter().map(|p| p.name.to_string());
    users.chain(groups).chain(roles).chain(policies).collect()
}

fn paging(max: usize, marker: Option<String>) -> Paging {
    Paging {
        marker,
        max_items: Some(max),
        path_prefix: None,
    }
}

#[tokio::test]
async fn one_page_holds_everything_in_order() {
    let (iam, root) = seeded().await;
    let d = get_account_authorization_details(&iam, &root, &[], &Paging::default())
        .await
        .unwrap();
    assert_eq!(names(&d), ["u1", "u2", "u3", "g1", "g2", "r1", "r2", "p1"]);
    assert_eq!(d.marker, None);
    // Trust policies show ARNs, not the stored unique IDs.
    assert!(
        d.roles[0]
            .role
            .assume_role_policy
            .contains("arn:aws:iam::123456789012:user/u1")
    );
}

#[tokio::test]
async fn pages_run_across_the_lists_without_repeats() {
    let (iam, root) = seeded().await;
    for size in 1..=8 {
        let mut all = Vec::new();
        let mut marker = None;
        for _ in 0..20 {
            let d = get_account_authorization_details(&iam, &root, &[], &paging(size, marker))
                .await
                .unwrap();
            assert!(names(&d).len() <= size);
            all.extend(names(&d));
            marker = d.marker;
            if marker.is_none() {
                break;
            }
        }
        assert_eq!(
            all,
            ["u1", "u2", "u3", "g1", "g2", "r1", "r2", "p1"],
            "{size}"
        );
    }
}

#[tokio::test]
async fn a_full_last_page_is_not_truncated() {
    let (iam, root) = seeded().await;
    let d = get_account_authorization_details(&iam, &root, &[], &paging(8, None))
        .await
        .unwrap();
    assert_eq!((names(&d).len(), d.marker), (8, None));
    let d = get_account_authorization_details(&iam, &root, &[], &paging(7, None))
        .await
        .unwrap();
    assert_eq!(d.marker.as_deref(), Some("r/r2"));
}

#[tokio::test]
async fn the_marker_is_stable_when_entities_change_between_pages() {
    let (iam, root) = seeded().await;
    let first = get_account_authorization_details(&iam, &root, &[], &paging(2, None))
        .await
        .unwrap();
    assert_eq!(names(&first), ["u1", "u2"]);
    // A user sorting before the marker does not shift the next page.
    let input = CreateUser {
        name: "u0".parse().unwrap(),
        path: None,
        tags: vec![],
        permissions_boundary: None,
    };
    create_user(&iam, &root, input).await.unwrap();
    let next = get_account_authorization_details(&iam, &root, &[], &paging(2, first.marker))
        .await
        .unwrap();
    assert_eq!(names(&next), ["u3", "g1"]);
}

#[tokio::test]
async fn the_filter_selects_lists() {
    let (iam, root) = seeded().await;
    let get = |filter: Vec<EntityType>| {
        let (iam, root) = (&iam, &root);
        async move {
            names(
                &get_account_authorization_details(iam, root, &filter, &Paging::default())
                    .await
                    .unwrap(),
            )
        }
    };
    assert_eq!(get(vec![EntityType::Role]).await, ["r1", "r2"]);
    assert_eq!(
        get(vec![EntityType::LocalManagedPolicy, EntityType::Group]).await,
        ["g1", "g2", "p1"]
    );
    assert!(get(vec![EntityType::AwsManagedPolicy]).await.is_empty());
    // Paging within a filter: the marker of a role page.
    let d = get_account_authorization_details(&iam, &root, &[EntityType::Role], &paging(1, None))
        .await
        .unwrap();
    assert_eq!(
        (names(&d), d.marker.as_deref()),
        (vec!["r1".into()], Some("r/r1"))
    );
}

#[tokio::test]
async fn bad_markers_and_denied_callers_are_refused() {
    let (iam, root) = seeded().await;
    for bad in ["", "x/y", "u", "uu1"] {
        let e = get_account_authorization_details(&iam, &root, &[], &paging(5, Some(bad.into())))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{bad}");
    }
    let u1 = user(&iam, "u1", None).await;
    let e = get_account_authorization_details(&iam, &u1, &[], &Paging::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AccessDenied);
    let allowed = r#"{"Statement":{"Effect":"Allow","Action":"iam:GetAccountAuthorizationDetails","Resource":"*"}}"#;
    let u2 = user(&iam, "u2", Some(allowed)).await;
    assert!(
        get_account_authorization_details(&iam, &u2, &[], &Paging::default())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn policies_list_every_version_newest_first() {
    let (iam, root) = seeded().await;
    let arn: crate::domain::ids::Arn = "arn:aws:iam::123456789012:policy/p1".parse().unwrap();
    crate::service::iam::policies::versions::create_policy_version(
        &iam,
        &root,
        &arn,
        DOC.into(),
        true,
    )
    .await
    .unwrap();
    let d = get_account_authorization_details(
        &iam,
        &root,
        &[EntityType::LocalManagedPolicy],
        &Paging::default(),
    )
    .await
    .unwrap();
    let versions: Vec<String> = d.policies[0]
        .versions
        .iter()
        .map(|v| v.version_id.to_string())
        .collect();
    assert_eq!(versions, ["v2", "v1"]);
}
