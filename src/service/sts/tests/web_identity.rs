//! AssumeRoleWithWebIdentity up to the federation core: the provider found
//! by `iss`, keys from the port (refetched once for an unknown `kid`) or
//! inline, AWS's codes for each refusal, and what the session and the
//! response carry.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use serde_json::{Value, json};

use super::*;
use crate::domain::ids::OidcProviderUrl;
use crate::domain::oidc::testing::{RSA_A, RSA_B, Signer, keyset, token};
use crate::domain::oidc::{KeySet, WebIdentityToken};
use crate::service::iam::providers::oidc::{CreateOidcProvider, create_oidc_provider};
use crate::service::sts::web_identity::{
    IdpKeys, KeyError, StaticKeys, WebIdentity, WebIdentityRequest, WebIdentitySession,
    assume_role_with_web_identity,
};

const ISS: &str = "https://idp.example.com/tenant";
const PREFIX: &str = "idp.example.com/tenant";

/// Serves `first` until asked about an unknown kid, then `second`.
#[derive(Debug)]
struct Rotating {
    first: Arc<KeySet>,
    second: Arc<KeySet>,
    refetches: AtomicUsize,
}

#[async_trait]
impl IdpKeys for Rotating {
    async fn keys(
        &self,
        _issuer: &OidcProviderUrl,
        unknown_kid: Option<&str>,
    ) -> Result<Arc<KeySet>, KeyError> {
        if unknown_kid.is_some() {
            self.refetches.fetch_add(1, Ordering::SeqCst);
            return Ok(Arc::clone(&self.second));
        }
        Ok(Arc::clone(&self.first))
    }
}

struct Fixture {
    env: Env,
    role: RoleRecord,
    provider: Arn,
    signer: Signer,
}

async fn fixture(condition: &str) -> Fixture {
    let env = Env::new().await;
    let root = env.authz(&env.root()).await;
    let provider = create_oidc_provider(
        &env.iam,
        &root,
        CreateOidcProvider {
            url: ISS.parse().unwrap(),
            client_ids: vec!["sts.amazonaws.com".into()],
            thumbprints: vec![],
            tags: vec![],
        },
    )
    .await
    .unwrap()
    .arn;
    let condition = if condition.is_empty() {
        String::new()
    } else {
        format!(",\"Condition\":{condition}")
    };
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{provider}"}},"Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession","sts:SetSourceIdentity"]{condition}}}]}}"#
    );
    let role = env.role("workload", &trust).await;
    Fixture {
        env,
        role,
        provider,
        signer: Signer::rsa(RSA_A),
    }
}

fn claims(env: &Env) -> Value {
    let now = env.clock.now().as_secs();
    json!({"iss": ISS, "sub": "system:serviceaccount:ci:runner", "aud": "sts.amazonaws.com",
        "iat": now, "exp": now + 600})
}

fn web(keys: impl IdpKeys + 'static) -> WebIdentity {
    WebIdentity {
        keys: Arc::new(keys),
        inline: HashMap::new().into(),
        max_token_age_secs: None,
    }
}

async fn exchange(
    f: &Fixture,
    web: &WebIdentity,
    token: WebIdentityToken,
) -> Result<WebIdentitySession, ServiceError> {
    assume_role_with_web_identity(
        &f.env.sts,
        web,
        &Transport::default(),
        WebIdentityRequest {
            request_id: "test-request".to_owned(),
            role_arn: f.role.arn.clone(),
            session_name: "runner".parse().unwrap(),
            token,
            duration: Some(900),
            policies: SessionPolicies::default(),
        },
    )
    .await
}

fn keys_of(signer: &Signer, kid: &str) -> StaticKeys {
    StaticKeys::new().with(&ISS.parse().unwrap(), keyset(&[signer.jwk(kid)]))
}

#[tokio::test]
async fn a_good_token_mints_a_session_with_its_keys_and_tags() {
    let condition = format!(
        r#"{{"StringEquals":{{"{PREFIX}:sub":"system:serviceaccount:ci:runner","{PREFIX}:aud":"sts.amazonaws.com"}}}}"#
    );
    let f = fixture(&condition).await;
    let mut c = claims(&f.env);
    c["https://aws.amazon.com/tags"] =
        json!({"principal_tags": {"team": ["blue"]}, "transitive_tag_keys": ["team"]});
    c["https://aws.amazon.com/source_identity"] = json!("runner-7");
    let out = exchange(
        &f,
        &web(keys_of(&f.signer, "k1")),
        token(&f.signer, "RS256", "k1", &c),
    )
    .await
    .unwrap();
    assert_eq!(out.subject, "system:serviceaccount:ci:runner");
    assert_eq!(out.provider, ISS);
    assert_eq!(out.audience, "sts.amazonaws.com");
    let s = &out.minted.session;
    assert_eq!(
        s.arn(&f.env.sts.partition).as_str(),
        "arn:aws:sts::123456789012:assumed-role/workload/runner"
    );
    assert_eq!(s.provider.as_deref(), Some(f.provider.as_str()));
    assert_eq!(s.source_identity.as_deref(), Some("runner-7"));
    assert_eq!(s.tags.len(), 1);
    assert_eq!(s.transitive_tag_keys.len(), 1);
    assert_eq!(s.expires_at - s.issued_at, 900);

    // The trust condition on :sub decides.
    let mut other = claims(&f.env);
    other["sub"] = json!("system:serviceaccount:ci:intruder");
    assert_err(
        exchange(
            &f,
            &web(keys_of(&f.signer, "k1")),
            token(&f.signer, "RS256", "k1", &other),
        )
        .await,
        ErrorCode::AccessDenied,
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    );
}

#[tokio::test]
async fn the_provider_is_found_by_iss_exactly() {
    let f = fixture("").await;
    let keys = web(keys_of(&f.signer, "k1"));
    for iss in [
        "https://idp.example.com/tenant/",
        "https://idp.example.com/other",
        "http://idp.example.com/tenant",
        "not a url",
    ] {
        let mut c = claims(&f.env);
        c["iss"] = json!(iss);
        let e = exchange(&f, &keys, token(&f.signer, "RS256", "k1", &c))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidIdentityToken, "{iss}");
        assert_eq!(
            e.message(),
            format!("No OpenIDConnect provider found in your account for {iss}")
        );
    }
}

#[tokio::test]
async fn an_unknown_kid_refetches_once_then_fails_as_aws_does() {
    let f = fixture("").await;
    let rotated = Signer::rsa(RSA_B);
    let port = Arc::new(Rotating {
        first: Arc::new(keyset(&[f.signer.jwk("old")])),
        second: Arc::new(keyset(&[f.signer.jwk("old"), rotated.jwk("new")])),
        refetches: AtomicUsize::new(0),
    });
    let web = WebIdentity {
        keys: port.clone(),
        inline: HashMap::new().into(),
        max_token_age_secs: None,
    };
    let c = claims(&f.env);
    exchange(&f, &web, token(&f.signer, "RS256", "old", &c))
        .await
        .unwrap();
    assert_eq!(port.refetches.load(Ordering::SeqCst), 0);
    exchange(&f, &web, token(&rotated, "RS256", "new", &c))
        .await
        .unwrap();
    assert_eq!(port.refetches.load(Ordering::SeqCst), 1);
    let e = exchange(&f, &web, token(&rotated, "RS256", "gone", &c))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidIdentityToken);
    assert!(
        e.message()
            .starts_with("Couldn't retrieve verification key")
    );
    assert_eq!(port.refetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn inline_keys_serve_their_provider_without_the_port() {
    let f = fixture("").await;
    let w = web(StaticKeys::new());
    w.inline.set(HashMap::from([(
        f.provider.clone(),
        Arc::new(keyset(&[f.signer.jwk("k1")])),
    )]));
    exchange(&f, &w, token(&f.signer, "RS256", "k1", &claims(&f.env)))
        .await
        .unwrap();
    // The port knows nothing of the issuer: an unreachable provider.
    let e = exchange(
        &f,
        &web(StaticKeys::new()),
        token(&f.signer, "RS256", "k1", &claims(&f.env)),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::IdpCommunicationError);
}

#[tokio::test]
async fn each_refusal_has_its_code() {
    let f = fixture("").await;
    let w = web(keys_of(&f.signer, "k1"));
    let now = f.env.clock.now().as_secs();
    let cases = [
        (
            json!({"exp": now - 400}),
            ErrorCode::ExpiredTokenException,
            format!(
                "Token expired: current date/time {now} must be before the expiration date/time {}",
                now - 400
            ),
        ),
        (
            json!({"aud": "someone-else"}),
            ErrorCode::InvalidIdentityToken,
            "Incorrect token audience".to_owned(),
        ),
        (
            json!({"nbf": now + 3600}),
            ErrorCode::InvalidIdentityToken,
            format!(
                "The token is not valid before {}, now is {now}.",
                now + 3600
            ),
        ),
        (
            json!({"sub": null}),
            ErrorCode::InvalidIdentityToken,
            "The token has no sub claim.".to_owned(),
        ),
    ];
    for (changes, code, message) in cases {
        let mut c = claims(&f.env);
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        let e = exchange(&f, &w, token(&f.signer, "RS256", "k1", &c))
            .await
            .unwrap_err();
        assert_eq!((e.code(), e.message()), (code, message.as_str()));
    }
    let forged = token(&Signer::rsa(RSA_B), "RS256", "k1", &claims(&f.env));
    let e = exchange(&f, &w, forged).await.unwrap_err();
    assert_eq!(
        (e.code(), e.message()),
        (
            ErrorCode::InvalidIdentityToken,
            "The signature does not verify."
        )
    );
    let e = exchange(&f, &w, WebIdentityToken::new("garbage".into()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidIdentityToken);
}
