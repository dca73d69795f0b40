use super::*;
use crate::service::iam::testing::{account, iam, root, user};
use crate::service::iam::users::{CreateUser, create_user, delete_user};
use crate::service::store::model::UserRecord;

fn rn(n: &str) -> RoleName {
    n.parse().unwrap()
}

fn trust(principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

fn input(name: &str, doc: String) -> CreateRole {
    CreateRole {
        name: rn(name),
        path: None,
        trust_policy: doc,
        description: None,
        max_session_duration: None,
        tags: vec![],
        permissions_boundary: None,
    }
}

async fn make_user(iam: &Iam, root: &AuthzCaller, name: &str) -> UserRecord {
    create_user(
        iam,
        root,
        CreateUser {
            name: name.parse().unwrap(),
            path: None,
            tags: vec![],
            permissions_boundary: None,
        },
    )
    .await
    .unwrap()
}

async fn stored(iam: &Iam, name: &str) -> RoleRecord {
    fetch::<RoleRecord>(&*iam.store, &Key::role(account(), &rn(name)))
        .await
        .unwrap()
        .unwrap()
        .record
}

#[tokio::test]
async fn trust_principals_are_stored_by_id_and_rendered_as_arns() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    let alice = make_user(&iam, &root, "alice").await;
    let arn = alice.arn.to_string();
    let created = create_role(&iam, &root, input("Deploy", trust(&arn)))
        .await
        .unwrap();
    assert!(created.assume_role_policy.contains(&arn));
    assert!(created.id.as_str().starts_with("AROA"));
    assert_eq!(
        created.arn.as_str(),
        "arn:aws:iam::123456789012:role/Deploy"
    );
    assert_eq!(created.max_session_duration_secs, 3600);

    let raw = stored(&iam, "Deploy").await.assume_role_policy;
    assert!(raw.contains(alice.id.as_str()), "{raw}");
    assert!(!raw.contains(":user/alice"), "{raw}");

    let got = get_role(&iam, &root, rn("Deploy")).await.unwrap();
    assert!(got.role.assume_role_policy.contains(&arn));

    // A role principal (with a path) works the same way.
    let mut second = input("Chained", trust(created.arn.as_str()));
    second.path = Some("/ops/".parse().unwrap());
    let chained = create_role(&iam, &root, second).await.unwrap();
    assert_eq!(
        chained.arn.as_str(),
        "arn:aws:iam::123456789012:role/ops/Chained"
    );
    assert!(
        stored(&iam, "Chained")
            .await
            .assume_role_policy
            .contains(created.id.as_str())
    );

    // Deleted: the raw unique ID shows, as in AWS.
    delete_user(&iam, &root, alice.name.clone()).await.unwrap();
    let got = get_role(&iam, &root, rn("Deploy")).await.unwrap();
    assert!(got.role.assume_role_policy.contains(alice.id.as_str()));
    assert!(!got.role.assume_role_policy.contains(&arn));

    // Recreated under the same name: the trust stays broken.
    make_user(&iam, &root, "alice").await;
    let got = get_role(&iam, &root, rn("Deploy")).await.unwrap();
    assert!(got.role.assume_role_policy.contains(alice.id.as_str()));
}

#[tokio::test]
async fn trust_principals_must_exist() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    let missing = "arn:aws:iam::123456789012:user/nobody";
    let err = create_role(&iam, &root, input("R", trust(missing)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedPolicyDocument);
    assert_eq!(
        err.message(),
        format!("Invalid principal in policy: \"AWS\":\"{missing}\"")
    );
    // A wrong path is a different ARN.
    make_user(&iam, &root, "bob").await;
    let err = create_role(
        &iam,
        &root,
        input("R", trust("arn:aws:iam::123456789012:user/x/bob")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedPolicyDocument);
    // Accounts this store does not know, the account itself, and `*` pass
    // through unchanged.
    for p in [
        "arn:aws:iam::210987654321:user/elsewhere",
        "arn:aws:iam::123456789012:root",
        "*",
    ] {
        create_role(&iam, &root, input("R", trust(p)))
            .await
            .unwrap();
        assert!(stored(&iam, "R").await.assume_role_policy.contains(p));
        delete_role(&iam, &root, rn("R")).await.unwrap();
    }
    // A bare account ID becomes its root ARN.
    create_role(&iam, &root, input("R", trust("210987654321")))
        .await
        .unwrap();
    assert!(
        stored(&iam, "R")
            .await
            .assume_role_policy
            .contains("arn:aws:iam::210987654321:root")
    );
    // Not a trust policy.
    let err = create_role(&iam, &root, input("R", "{}".into()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedPolicyDocument);
    // Over the size quota.
    let big = trust(&format!(
        "arn:aws:iam::210987654321:user/{}",
        "a".repeat(64)
    ))
    .replace(
        r#""Action":"sts:AssumeRole""#,
        &format!(
            r#""Action":[{}"sts:AssumeRole"]"#,
            r#""sts:TagSession","#.repeat(120)
        ),
    );
    let err = create_role(&iam, &root, input("R", big)).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    assert_eq!(
        err.message(),
        "Cannot exceed quota for ACLSizePerRole: 2048"
    );
}

#[tokio::test]
async fn update_assume_role_policy_validates_principals() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    create_role(&iam, &root, input("R", trust("*")))
        .await
        .unwrap();
    let err = update_assume_role_policy(
        &iam,
        &root,
        rn("R"),
        &trust("arn:aws:iam::123456789012:role/Nope"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedPolicyDocument);
    let u = make_user(&iam, &root, "carol").await;
    update_assume_role_policy(&iam, &root, rn("R"), &trust(u.arn.as_str()))
        .await
        .unwrap();
    assert!(
        stored(&iam, "R")
            .await
            .assume_role_policy
            .contains(u.id.as_str())
    );
}

#[tokio::test]
async fn names_are_unique_in_any_case() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    create_role(&iam, &root, input("Deploy", trust("*")))
        .await
        .unwrap();
    let err = create_role(&iam, &root, input("DEPLOY", trust("*")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::EntityAlreadyExists);
    assert_eq!(err.message(), "Role with name DEPLOY already exists.");
    let err = get_role(&iam, &root, rn("Other")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    assert_eq!(err.message(), "The role with name Other cannot be found.");
}

#[tokio::test]
async fn max_session_duration_and_description() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    for (v, ok) in [(3599, false), (3600, true), (43200, true), (43201, false)] {
        let mut i = input("R", trust("*"));
        i.max_session_duration = Some(v);
        let r = create_role(&iam, &root, i).await;
        assert_eq!(r.is_ok(), ok, "{v}");
        if let Err(e) = r {
            assert_eq!(e.code(), ErrorCode::ValidationError);
            assert!(
                e.message().contains("'maxSessionDuration'"),
                "{}",
                e.message()
            );
        } else {
            delete_role(&iam, &root, rn("R")).await.unwrap();
        }
    }
    create_role(&iam, &root, input("R", trust("*")))
        .await
        .unwrap();
    update_role(&iam, &root, rn("R"), Some("d1".into()), Some(7200))
        .await
        .unwrap();
    let r = stored(&iam, "R").await;
    assert_eq!(
        (r.description.as_deref(), r.max_session_duration_secs),
        (Some("d1"), 7200)
    );
    let err = update_role(&iam, &root, rn("R"), None, Some(100))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    let r = update_role_description(&iam, &root, rn("R"), "d2".into())
        .await
        .unwrap();
    assert_eq!(r.description.as_deref(), Some("d2"));
    let err = update_role_description(&iam, &root, rn("R"), "x".repeat(1001))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
}

#[tokio::test]
async fn delete_conflicts_with_policies() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    create_role(&iam, &root, input("R", trust("*")))
        .await
        .unwrap();
    edit_role(&iam, &root, &rn("R"), |r| {
        r.inline_policies.insert("p".parse().unwrap(), "{}".into());
        Ok(())
    })
    .await
    .unwrap();
    let err = delete_role(&iam, &root, rn("R")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeleteConflict);
    assert_eq!(
        err.message(),
        "Cannot delete entity, must delete policies first."
    );
    edit_role(&iam, &root, &rn("R"), |r| {
        r.inline_policies.clear();
        r.attached_policies
            .push("arn:aws:iam::123456789012:policy/P".parse().unwrap());
        Ok(())
    })
    .await
    .unwrap();
    let err = delete_role(&iam, &root, rn("R")).await.unwrap_err();
    assert_eq!(
        err.message(),
        "Cannot delete entity, must detach all policies first."
    );
    edit_role(&iam, &root, &rn("R"), |r| {
        r.attached_policies.clear();
        Ok(())
    })
    .await
    .unwrap();
    delete_role(&iam, &root, rn("R")).await.unwrap();
    let err = delete_role(&iam, &root, rn("R")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
}

#[tokio::test]
async fn list_roles_pages_and_filters_by_path() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    for (n, p) in [("a", "/"), ("b", "/ops/"), ("c", "/ops/x/"), ("d", "/dev/")] {
        let mut i = input(n, trust("*"));
        i.path = Some(p.parse().unwrap());
        create_role(&iam, &root, i).await.unwrap();
    }
    let page = list_roles(
        &iam,
        &root,
        &Paging {
            path_prefix: Some("/ops/".into()),
            ..Paging::default()
        },
    )
    .await
    .unwrap();
    let names: Vec<_> = page.items.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(names, ["b", "c"]);
    let first = list_roles(
        &iam,
        &root,
        &Paging {
            max_items: Some(3),
            ..Paging::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(first.items.len(), 3);
    let rest = list_roles(
        &iam,
        &root,
        &Paging {
            marker: first.marker.clone(),
            ..Paging::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.marker.is_none());
}

#[tokio::test]
async fn tags() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    let tag = |k: &str, v: &str| Tag {
        key: k.parse().unwrap(),
        value: v.parse().unwrap(),
    };
    let mut i = input("R", trust("*"));
    i.tags = vec![tag("team", "a")];
    create_role(&iam, &root, i).await.unwrap();
    tag_role(
        &iam,
        &root,
        rn("R"),
        vec![tag("TEAM", "b"), tag("env", "x")],
    )
    .await
    .unwrap();
    let tags = list_role_tags(&iam, &root, rn("R")).await.unwrap();
    assert_eq!(tags, vec![tag("team", "b"), tag("env", "x")]);
    untag_role(&iam, &root, rn("R"), vec!["Team".parse().unwrap()])
        .await
        .unwrap();
    assert_eq!(
        list_role_tags(&iam, &root, rn("R")).await.unwrap(),
        vec![tag("env", "x")]
    );
    let many = (0..50).map(|n| tag(&format!("k{n}"), "v")).collect();
    let err = tag_role(&iam, &root, rn("R"), many).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
}

#[tokio::test]
async fn a_user_without_permission_is_denied() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    make_user(&iam, &root, "eve").await;
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"}}"#;
    let eve = user(&iam, "eve", Some(doc)).await;
    let err = create_role(&iam, &eve, input("R", trust("*")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
    assert!(
        err.message()
            .contains("iam:CreateRole on resource: arn:aws:iam::123456789012:role/R")
    );
    let err = get_role(&iam, &eve, rn("R")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
}
