use super::*;
use crate::service::iam::groups::create_group;
use crate::service::iam::roles::{CreateRole, create_role};
use crate::service::iam::testing::{iam, root};
use crate::service::iam::users::{CreateUser, create_user};

fn pn(n: &str) -> PolicyName {
    n.parse().unwrap()
}

/// A valid identity policy of exactly `size` counted characters.
fn doc_of_size(size: usize) -> String {
    let base =
        r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::"}}"#;
    let pad = size - counted_size(base);
    base.replace(
        "arn:aws:s3:::",
        &format!("arn:aws:s3:::{}", "b".repeat(pad)),
    )
}

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
    create_group(&iam, &root, "devs".parse().unwrap(), None)
        .await
        .unwrap();
    create_role(
        &iam,
        &root,
        CreateRole {
            name: "R".parse().unwrap(),
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
    (iam, root)
}

fn holders() -> [Holder; 3] {
    [
        Holder::User("alice".parse().unwrap()),
        Holder::Group("devs".parse().unwrap()),
        Holder::Role("R".parse().unwrap()),
    ]
}

#[tokio::test]
async fn aggregate_sizes_per_kind() {
    let (iam, root) = setup().await;
    for (holder, limit) in holders().into_iter().zip([2048, 5120, 10240]) {
        // Two halves fill the quota exactly; whitespace is free.
        let half = doc_of_size(limit / 2);
        let spaced = half.replace(',', " ,\n ");
        put_policy(&iam, &root, holder.clone(), pn("a"), half.clone())
            .await
            .unwrap();
        put_policy(&iam, &root, holder.clone(), pn("b"), spaced)
            .await
            .unwrap();
        let err = put_policy(&iam, &root, holder.clone(), pn("c"), doc_of_size(100))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::LimitExceeded);
        assert_eq!(
            err.message(),
            format!(
                "Maximum policy size of {limit} bytes exceeded for {} {}",
                holder.noun(),
                holder.name()
            )
        );
        // Replacing a policy counts the new version only.
        put_policy(
            &iam,
            &root,
            holder.clone(),
            pn("b"),
            doc_of_size(limit / 2 - 10),
        )
        .await
        .unwrap();
        // One document over the quota by itself.
        let err = put_policy(&iam, &root, holder.clone(), pn("a"), doc_of_size(limit + 1))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::LimitExceeded);
    }
}

#[tokio::test]
async fn put_get_list_delete() {
    let (iam, root) = setup().await;
    for holder in holders() {
        let doc = doc_of_size(100);
        for n in ["p3", "p1", "p2"] {
            put_policy(&iam, &root, holder.clone(), pn(n), doc.clone())
                .await
                .unwrap();
        }
        assert_eq!(
            get_policy(&iam, &root, holder.clone(), pn("p1"))
                .await
                .unwrap(),
            doc
        );
        let page = list_policies(
            &iam,
            &root,
            holder.clone(),
            &Paging {
                max_items: Some(2),
                ..Paging::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(page.items, vec![pn("p1"), pn("p2")]);
        assert_eq!(page.marker.as_deref(), Some("p2"));
        let rest = list_policies(
            &iam,
            &root,
            holder.clone(),
            &Paging {
                marker: page.marker,
                ..Paging::default()
            },
        )
        .await
        .unwrap();
        assert_eq!((rest.items, rest.marker), (vec![pn("p3")], None));
        delete_policy(&iam, &root, holder.clone(), pn("p1"))
            .await
            .unwrap();
        let err = get_policy(&iam, &root, holder.clone(), pn("p1"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::NoSuchEntity);
        assert_eq!(
            err.message(),
            format!("The {} policy with name p1 cannot be found.", holder.noun())
        );
        let err = delete_policy(&iam, &root, holder.clone(), pn("p1"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    }
}

#[tokio::test]
async fn documents_are_identity_policies() {
    let (iam, root) = setup().await;
    let with_principal =
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#;
    for bad in [with_principal, "{", r#"{"Statement":[]}"#] {
        let err = put_policy(&iam, &root, holders()[0].clone(), pn("p"), bad.into())
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedPolicyDocument, "{bad}");
    }
    let err = put_policy(
        &iam,
        &root,
        Holder::User("nobody".parse().unwrap()),
        pn("p"),
        doc_of_size(100),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    assert_eq!(err.message(), "The user with name nobody cannot be found.");
}
