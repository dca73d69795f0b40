use super::*;
use crate::domain::policy::Outcome;
use crate::service::iam::boundaries::set_user_boundary;
use crate::service::iam::groups::{add_user_to_group, create_group};
use crate::service::iam::inline::put_policy;
use crate::service::iam::policies::attach::attach_policy;
use crate::service::iam::policies::{CreatePolicy, create_policy};
use crate::service::iam::testing::{iam, root};
use crate::service::iam::users::{CreateUser, create_user};

fn doc(effect: &str, action: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"{effect}","Action":"{action}","Resource":"*"}}}}"#
    )
}

fn req(actions: &[&str]) -> SimulateRequest {
    SimulateRequest {
        actions: actions.iter().map(|a| (*a).to_owned()).collect(),
        ..SimulateRequest::default()
    }
}

fn decisions(l: &Listing<EvaluationResult>) -> Vec<(&str, Outcome)> {
    l.items
        .iter()
        .map(|r| (r.action.as_str(), r.decision))
        .collect()
}

async fn managed(iam: &Iam, root: &AuthzCaller, name: &str, text: String) -> Arn {
    create_policy(
        iam,
        root,
        CreatePolicy {
            name: name.parse().unwrap(),
            path: None,
            document: text,
            description: None,
            tags: vec![],
        },
    )
    .await
    .unwrap()
    .arn
}

#[tokio::test]
async fn principal_policy_of_a_user_with_group_and_boundary() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    let user = create_user(
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
    add_user_to_group(
        &iam,
        &root,
        "devs".parse().unwrap(),
        "alice".parse().unwrap(),
    )
    .await
    .unwrap();
    let alice = || Holder::User("alice".parse().unwrap());
    put_policy(
        &iam,
        &root,
        alice(),
        "get".parse().unwrap(),
        doc("Allow", "s3:GetObject"),
    )
    .await
    .unwrap();
    put_policy(
        &iam,
        &root,
        Holder::Group("devs".parse().unwrap()),
        "put".parse().unwrap(),
        doc("Allow", "s3:PutObject"),
    )
    .await
    .unwrap();
    let deny = managed(&iam, &root, "deny", doc("Deny", "s3:DeleteObject")).await;
    attach_policy(&iam, &root, alice(), deny).await.unwrap();

    let actions = [
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "sqs:SendMessage",
    ];
    let got = simulate_principal_policy(&iam, &root, &user.arn, req(&actions), &Paging::default())
        .await
        .unwrap();
    assert_eq!(
        decisions(&got),
        [
            ("s3:GetObject", Outcome::Allowed),
            ("s3:PutObject", Outcome::Allowed),
            ("s3:DeleteObject", Outcome::ExplicitDeny),
            ("sqs:SendMessage", Outcome::ImplicitDeny),
        ]
    );
    // Extra input policies count too.
    let mut extra = req(&["sqs:SendMessage"]);
    extra.policies = vec![doc("Allow", "sqs:*")];
    let got = simulate_principal_policy(&iam, &root, &user.arn, extra, &Paging::default())
        .await
        .unwrap();
    assert_eq!(decisions(&got), [("sqs:SendMessage", Outcome::Allowed)]);

    // The boundary limits the result.
    let boundary = managed(&iam, &root, "b", doc("Allow", "s3:GetObject")).await;
    set_user_boundary(&iam, &root, "alice".parse().unwrap(), Some(boundary))
        .await
        .unwrap();
    let got = simulate_principal_policy(
        &iam,
        &root,
        &user.arn,
        req(&["s3:GetObject", "s3:PutObject"]),
        &Paging::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        decisions(&got),
        [
            ("s3:GetObject", Outcome::Allowed),
            ("s3:PutObject", Outcome::ImplicitDeny)
        ]
    );
    assert_eq!(got.items[0].allowed_by_boundary, Some(true));

    let ghost: Arn = "arn:aws:iam::123456789012:user/ghost".parse().unwrap();
    let err = simulate_principal_policy(
        &iam,
        &root,
        &ghost,
        req(&["s3:GetObject"]),
        &Paging::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
}

#[tokio::test]
async fn custom_policy_pages_and_validates() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    let mut r = req(&["s3:A", "s3:B", "s3:C"]);
    r.policies = vec![doc("Allow", "s3:*")];
    let paging = Paging {
        max_items: Some(2),
        ..Paging::default()
    };
    let first = simulate_custom_policy(&root, r.clone(), &paging).unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = simulate_custom_policy(
        &root,
        r.clone(),
        &Paging {
            marker: first.marker,
            ..Paging::default()
        },
    )
    .unwrap();
    assert_eq!(decisions(&rest), [("s3:C", Outcome::Allowed)]);
    let mut bad = r.clone();
    bad.actions = vec!["not an action".into()];
    let err = simulate_custom_policy(&root, bad, &paging).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.message().contains("not an action"));
    let mut bad = r;
    bad.policies = vec!["{bad".into()];
    let err = simulate_custom_policy(&root, bad, &paging).unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedPolicyDocument);
}
