//! The federated core: trust with a `Federated` principal and the
//! identity's keys, add-on actions, the provider's account, claim mapping,
//! durations, and the keys a session keeps.

use super::*;
use crate::domain::ids::{TagKey, TagValue};
use crate::domain::sts::ClaimMapping;
use crate::service::sts::federated::{
    FederatedIdentity, FederatedKind, FederatedRequest, FederationSettings, assume_role_federated,
};

const PROVIDER: &str = "arn:aws:iam::123456789012:oidc-provider/idp.example.com/tenant";
const PREFIX: &str = "idp.example.com/tenant";

fn federated_trust(actions: &[&str], condition: &str) -> String {
    trust_for("Federated", PROVIDER, actions, condition)
}

fn identity(sub: &str) -> FederatedIdentity {
    FederatedIdentity {
        kind: FederatedKind::WebIdentity,
        provider_arn: PROVIDER.parse().unwrap(),
        key_prefix: PREFIX.to_owned(),
        keys: vec![
            (format!("{PREFIX}:sub"), vec![sub.to_owned()]),
            (format!("{PREFIX}:aud"), vec!["stsd".to_owned()]),
            (format!("{PREFIX}:email"), vec!["x@example.com".to_owned()]),
        ],
        claims: vec![
            ("sub".to_owned(), vec![sub.to_owned()]),
            (
                "groups".to_owned(),
                vec!["dev".to_owned(), "ops".to_owned()],
            ),
            ("email".to_owned(), vec!["alice@example.com".to_owned()]),
        ],
        tags: vec![],
        transitive_tag_keys: vec![],
        source_identity: None,
    }
}

fn request(role: &RoleRecord, identity: FederatedIdentity) -> FederatedRequest {
    FederatedRequest {
        request_id: "test-request".to_owned(),
        role_arn: role.arn.clone(),
        session_name: "web".parse().unwrap(),
        duration: None,
        max_duration: None,
        policies: SessionPolicies::default(),
        identity,
    }
}

fn tag_pair(k: &str, v: &str) -> (TagKey, TagValue) {
    (k.parse().unwrap(), v.parse().unwrap())
}

async fn exchange(env: &Env, request: FederatedRequest) -> Result<Minted, ServiceError> {
    assume_role_federated(&env.sts, &Transport::default(), request).await
}

#[tokio::test]
async fn the_trust_policy_decides_with_the_identity_keys() {
    let env = Env::new().await;
    let condition =
        format!(r#"{{"StringEquals":{{"{PREFIX}:sub":"system:serviceaccount:ci:runner"}}}}"#);
    let role = env
        .role(
            "ci",
            &federated_trust(&["sts:AssumeRoleWithWebIdentity"], &condition),
        )
        .await;
    let minted = exchange(
        &env,
        request(&role, identity("system:serviceaccount:ci:runner")),
    )
    .await
    .unwrap();
    let s = &minted.session;
    assert_eq!(
        s.arn(&env.sts.partition).as_str(),
        "arn:aws:sts::123456789012:assumed-role/ci/web"
    );
    assert_eq!(s.provider.as_deref(), Some(PROVIDER));
    assert_eq!(s.chain_depth, 0);
    assert_eq!(s.expires_at - s.issued_at, 3600);
    // The session keeps sub and aud (reference 7.3), not email.
    let mut kept: Vec<&str> = s.provider_keys.iter().map(|(k, _)| k.as_str()).collect();
    kept.sort_unstable();
    assert_eq!(kept, [format!("{PREFIX}:aud"), format!("{PREFIX}:sub")]);

    assert_err(
        exchange(
            &env,
            request(&role, identity("system:serviceaccount:ci:other")),
        )
        .await,
        ErrorCode::AccessDenied,
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    );
}

#[tokio::test]
async fn a_trust_policy_for_another_action_or_an_aws_principal_refuses() {
    let env = Env::new().await;
    let saml_only = env
        .role(
            "saml-only",
            &federated_trust(&["sts:AssumeRoleWithSAML"], ""),
        )
        .await;
    assert_err(
        exchange(&env, request(&saml_only, identity("u"))).await,
        ErrorCode::AccessDenied,
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    );
    let account = env
        .role(
            "account",
            &trust(
                "arn:aws:iam::123456789012:root",
                &["sts:AssumeRoleWithWebIdentity"],
                "",
            ),
        )
        .await;
    assert_err(
        exchange(&env, request(&account, identity("u"))).await,
        ErrorCode::AccessDenied,
        "Not authorized",
    );
    let mut missing = request(&account, identity("u"));
    missing.role_arn = "arn:aws:iam::123456789012:role/nope".parse().unwrap();
    let e = assert_err(
        exchange(&env, missing).await,
        ErrorCode::AccessDenied,
        "Not authorized",
    );
    assert!(
        e.denial().is_none(),
        "no record for an unauthenticated caller"
    );
}

#[tokio::test]
async fn a_provider_of_another_account_is_refused() {
    let env = Env::new().await;
    let role = env
        .role_in(
            other_account(),
            "r",
            &federated_trust(&["sts:AssumeRoleWithWebIdentity"], ""),
            None,
            None,
        )
        .await;
    assert_err(
        exchange(&env, request(&role, identity("u"))).await,
        ErrorCode::ValidationError,
        "Principal exists outside the account of the Role being assumed",
    );
}

#[tokio::test]
async fn tags_and_source_identity_need_their_own_actions() {
    let env = Env::new().await;
    let plain = env
        .role(
            "plain",
            &federated_trust(&["sts:AssumeRoleWithWebIdentity"], ""),
        )
        .await;
    let mut tagged = identity("u");
    tagged.tags = vec![tag_pair("team", "blue")];
    assert_err(
        exchange(&env, request(&plain, tagged.clone())).await,
        ErrorCode::AccessDenied,
        "Not authorized",
    );
    let mut sourced = identity("u");
    sourced.source_identity = Some("alice".parse().unwrap());
    assert_err(
        exchange(&env, request(&plain, sourced.clone())).await,
        ErrorCode::AccessDenied,
        "Not authorized",
    );
    let full = env
        .role(
            "full",
            &federated_trust(
                &[
                    "sts:AssumeRoleWithWebIdentity",
                    "sts:TagSession",
                    "sts:SetSourceIdentity",
                ],
                r#"{"StringEquals":{"aws:RequestTag/team":"blue"}}"#,
            ),
        )
        .await;
    tagged.transitive_tag_keys = vec!["team".parse().unwrap()];
    let minted = exchange(&env, request(&full, tagged)).await.unwrap();
    assert_eq!(minted.session.tags[0].value, "blue");
    assert_eq!(minted.session.transitive_tag_keys, ["team"]);
    assert!(minted.packed_policy_size.is_some());
}

#[tokio::test]
async fn bad_tags_from_the_identity_are_an_invalid_identity_token() {
    let env = Env::new().await;
    let role = env
        .role(
            "r",
            &federated_trust(&["sts:AssumeRoleWithWebIdentity", "sts:TagSession"], ""),
        )
        .await;
    let mut id = identity("u");
    id.tags = vec![tag_pair("team", "a"), tag_pair("TEAM", "b")];
    assert_err(
        exchange(&env, request(&role, id)).await,
        ErrorCode::InvalidIdentityToken,
        "",
    );
}

#[tokio::test]
async fn durations_follow_the_role_and_the_identity_cap() {
    let env = Env::new().await;
    let role = env
        .role_in(
            testing::account(),
            "long",
            &federated_trust(&["sts:AssumeRoleWithWebIdentity"], ""),
            None,
            Some(7200),
        )
        .await;
    let mut r = request(&role, identity("u"));
    r.duration = Some(7200);
    let s = exchange(&env, r).await.unwrap().session;
    assert_eq!(s.expires_at - s.issued_at, 7200);
    let mut capped = request(&role, identity("u"));
    capped.duration = Some(7200);
    capped.max_duration = Some(1000);
    let s = exchange(&env, capped).await.unwrap().session;
    assert_eq!(s.expires_at - s.issued_at, 1000);
    let mut over = request(&role, identity("u"));
    over.duration = Some(7201);
    assert_err(
        exchange(&env, over).await,
        ErrorCode::ValidationError,
        "The requested DurationSeconds exceeds the MaxSessionDuration",
    );
}

#[tokio::test]
async fn the_claim_mapping_makes_tags_source_identity_and_kept_keys() {
    let mut env = Env::new().await;
    env.sts.federation = crate::service::limits::Swappable::new(FederationSettings {
        clock_skew_secs: 300,
        mappings: vec![(
            PROVIDER.parse().unwrap(),
            ClaimMapping {
                tags: vec![("team".parse().unwrap(), "groups".into())],
                transitive: vec![],
                source_identity: Some("email".into()),
                keys: vec![("groups".into(), "groups".into())],
            },
        )],
    });
    let condition = format!(r#"{{"ForAnyValue:StringEquals":{{"{PREFIX}:groups":"ops"}}}}"#);
    let role = env
        .role(
            "mapped",
            &federated_trust(
                &[
                    "sts:AssumeRoleWithWebIdentity",
                    "sts:TagSession",
                    "sts:SetSourceIdentity",
                ],
                &condition,
            ),
        )
        .await;
    let mut id = identity("u");
    // The mapping's tag replaces the token's own tag of the same key.
    id.tags = vec![tag_pair("Team", "from-token")];
    let s = exchange(&env, request(&role, id)).await.unwrap().session;
    let tags: Vec<(&str, &str)> = s
        .tags
        .iter()
        .map(|t| (t.key.as_str(), t.value.as_str()))
        .collect();
    assert_eq!(tags, [("team", "dev:ops")]);
    assert_eq!(s.source_identity.as_deref(), Some("alice@example.com"));
    let groups: Vec<&str> = s
        .provider_keys
        .iter()
        .filter(|(k, _)| *k == format!("{PREFIX}:groups"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(groups, ["dev", "ops"]);
}

#[tokio::test]
async fn a_chained_session_keeps_the_provider_and_its_keys() {
    let env = Env::new().await;
    let first = env
        .role_in(
            testing::account(),
            "web",
            &federated_trust(&["sts:AssumeRoleWithWebIdentity"], ""),
            Some(&allow("sts:AssumeRole", "*")),
            None,
        )
        .await;
    let minted = exchange(&env, request(&first, identity("u-1")))
        .await
        .unwrap();
    let next = env
        .role(
            "next",
            &trust("arn:aws:iam::123456789012:root", &["sts:AssumeRole"], ""),
        )
        .await;
    let caller = env.session_caller(&minted);
    let chained = env.assume(&caller, assume(&next, "chained")).await.unwrap();
    assert_eq!(chained.session.chain_depth, 1);
    assert_eq!(chained.session.provider.as_deref(), Some(PROVIDER));
    assert_eq!(chained.session.provider_keys, minted.session.provider_keys);
    assert!(!chained.session.provider_keys.is_empty());
}
