//! GetAccessKeyInfo and DecodeAuthorizationMessage.

use super::*;
use crate::service::sts::access_key_info::get_access_key_info;
use crate::service::sts::auth_message::{PREFIX, decode_authorization_message};
use crate::service::sts::session_token::{GetSessionToken, get_session_token};

#[tokio::test]
async fn access_key_info_decodes_the_account_from_the_key() {
    let env = Env::new().await;
    let root = env.root();
    let authz = env.authz(&root).await;
    let m = get_session_token(&env.sts, &root, GetSessionToken::default())
        .await
        .unwrap();
    let account = get_access_key_info(&env.sts, &root, &authz, &m.session.access_key_id)
        .await
        .unwrap();
    assert_eq!(account, testing::account());
    let vector = "ASIAY34FZKBOKMUTVV7A".parse().unwrap();
    assert_eq!(
        get_access_key_info(&env.sts, &root, &authz, &vector)
            .await
            .unwrap()
            .as_str(),
        "609629065308"
    );
    assert_err(
        get_access_key_info(
            &env.sts,
            &root,
            &authz,
            &"AKIAIOSFODNN7EXAMPLE".parse().unwrap(),
        )
        .await,
        ErrorCode::InvalidParameterValue,
        "The access key ID AKIAIOSFODNN7EXAMPLE does not identify an account.",
    );
    let alice = env.user("alice", None).await;
    assert_err(
        get_access_key_info(&env.sts, &alice, &env.authz(&alice).await, &vector).await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:GetAccessKeyInfo",
    );
    // GetSessionToken sessions may not call it.
    let session = env.session_caller(&m);
    assert_err(
        get_access_key_info(&env.sts, &session, &env.authz(&session).await, &vector).await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:root is not authorized to perform: sts:GetAccessKeyInfo",
    );
}

/// The blob of an encoded `AccessDenied` message.
fn blob(e: &ServiceError) -> String {
    e.message().split(PREFIX).nth(1).unwrap().trim().to_owned()
}

#[tokio::test]
async fn denials_decode_only_with_permission_and_in_their_account() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let denied = env
        .authz(&alice)
        .await
        .authorize("iam:CreateUser", "arn:aws:iam::123456789012:user/x", &[])
        .unwrap_err();
    let sealed = env.sts.messages().encode(denied);
    assert!(sealed.denial().is_none());
    assert!(
        sealed.message().starts_with(
            "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user/x because no identity-based policy allows the iam:CreateUser action Encoded authorization failure message: "
        ),
        "{sealed}"
    );
    let encoded = blob(&sealed);
    assert!(encoded.len() <= 10_240);

    // Alice may not decode; root of her account may.
    assert_err(
        decode_authorization_message(&env.sts, &alice, &env.authz(&alice).await, &encoded).await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:DecodeAuthorizationMessage",
    );
    let root = env.root();
    let json = decode_authorization_message(&env.sts, &root, &env.authz(&root).await, &encoded)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["allowed"], false);
    assert_eq!(v["explicitDeny"], false);
    assert_eq!(v["context"]["action"], "iam:CreateUser");
    assert_eq!(
        v["context"]["principal"]["arn"],
        "arn:aws:iam::123456789012:user/alice"
    );
    assert!(
        v["context"]["conditions"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["key"] == "aws:username" && i["values"]["items"][0]["value"] == "alice")
    );

    // Another account's root cannot read it; altered or wrapped text is invalid.
    let other = env.root_of(other_account());
    let other_authz = env.authz(&other).await;
    let root_authz = env.authz(&root).await;
    for bad in [
        encoded.clone(),
        {
            let (head, tail) = encoded.split_at(10);
            format!("{head}\n{tail}")
        },
        format!("A{encoded}"),
        "not a message".to_owned(),
    ] {
        let (caller, authz) = if bad == encoded {
            (&other, &other_authz)
        } else {
            (&root, &root_authz)
        };
        assert_err(
            decode_authorization_message(&env.sts, caller, authz, &bad).await,
            ErrorCode::InvalidAuthorizationMessageException,
            "The encoded authorization message is not valid.",
        );
    }
}
