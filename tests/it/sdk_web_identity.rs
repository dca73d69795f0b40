//! The Rust AWS SDK's `AssumeRoleWithWebIdentity` (unsigned: the SDK
//! sends it without credentials) against a real `stsd serve` whose
//! configuration gives the provider's JWKS inline; the session then calls
//! `GetCallerIdentity`, and a token signed by another key is refused with
//! `InvalidIdentityToken`.

use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use data_encoding::BASE64URL_NOPAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{self as sig, RsaKeyPair};
use stsd::domain::clock::{Clock as _, SystemClock};

use crate::client::root;
use crate::daemon::{Daemon, Options};
use crate::sdk_iam::client as iam_client;

pub(crate) const ISSUER: &str = "https://k8s.example.test/cluster-1";
pub(crate) const ARN: &str = "arn:aws:iam::123456789012:oidc-provider/k8s.example.test/cluster-1";
pub(crate) const KEY_A: &[u8] = include_bytes!("../fixtures/oidc/rsa-2048-a.pk8");
const KEY_B: &[u8] = include_bytes!("../fixtures/oidc/rsa-2048-b.pk8");

pub(crate) fn jwks(der: &[u8]) -> String {
    let key = RsaKeyPair::from_pkcs8(der).unwrap();
    let p = sig::RsaPublicKeyComponents::<Vec<u8>>::from(key.public());
    format!(
        r#"{{"keys":[{{"kty":"RSA","kid":"sa","n":"{}","e":"{}"}}]}}"#,
        B64.encode(&p.n),
        B64.encode(&p.e)
    )
}

pub(crate) fn token(der: &[u8], sub: &str) -> String {
    let key = RsaKeyPair::from_pkcs8(der).unwrap();
    let now = SystemClock.now().as_secs();
    let header = r#"{"alg":"RS256","kid":"sa"}"#;
    let claims = format!(
        r#"{{"iss":"{ISSUER}","sub":"{sub}","aud":["sts.amazonaws.com"],"iat":{now},"exp":{}}}"#,
        now + 600
    );
    let message = format!(
        "{}.{}",
        B64.encode(header.as_bytes()),
        B64.encode(claims.as_bytes())
    );
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &sig::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{message}.{}", B64.encode(&signature))
}

fn sts(d: &Daemon, credentials: Option<Credentials>) -> aws_sdk_sts::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut b = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://{}", d.addr))
        .http_client(http)
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()));
    if let Some(c) = credentials {
        b = b.credentials_provider(c);
    }
    aws_sdk_sts::Client::from_conf(b.build())
}

#[test]
fn rust_sdk_assume_role_with_web_identity() {
    let d = Daemon::start_with(Options {
        extra_toml: format!(
            "[[federation.providers]]\narn = \"{ARN}\"\njwks = '{}'\n",
            jwks(KEY_A)
        ),
        ..Options::default()
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (root_id, root_secret) = root(&d);
        let iam = iam_client(&d, &root_id, root_secret.expose_secret());
        iam.create_open_id_connect_provider()
            .url(ISSUER)
            .client_id_list("sts.amazonaws.com")
            .send()
            .await
            .unwrap();
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{ARN}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringLike":{{"k8s.example.test/cluster-1:sub":"system:serviceaccount:apps:*"}}}}}}]}}"#
        );
        let role = iam
            .create_role()
            .role_name("pod")
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap();
        let role_arn = role.role().unwrap().arn().to_owned();

        let anonymous = sts(&d, None);
        let out = anonymous
            .assume_role_with_web_identity()
            .role_arn(&role_arn)
            .role_session_name("pod-1")
            .web_identity_token(token(KEY_A, "system:serviceaccount:apps:web"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.subject_from_web_identity_token(),
            Some("system:serviceaccount:apps:web")
        );
        assert_eq!(out.provider(), Some(ISSUER));
        assert_eq!(out.audience(), Some("sts.amazonaws.com"));
        let arn = "arn:aws:sts::123456789012:assumed-role/pod/pod-1";
        assert_eq!(out.assumed_role_user().unwrap().arn(), arn);
        let c = out.credentials().unwrap();
        let session = sts(
            &d,
            Some(Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_owned()),
                None,
                "web",
            )),
        );
        let who = session.get_caller_identity().send().await.unwrap();
        assert_eq!(who.arn(), Some(arn));

        let e = anonymous
            .assume_role_with_web_identity()
            .role_arn(&role_arn)
            .role_session_name("pod-2")
            .web_identity_token(token(KEY_B, "system:serviceaccount:apps:web"))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(e.is_invalid_identity_token_exception(), "{e:?}");
        let e = anonymous
            .assume_role_with_web_identity()
            .role_arn(&role_arn)
            .role_session_name("pod-3")
            .web_identity_token(token(KEY_A, "system:serviceaccount:kube-system:admin"))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(e.meta().code(), Some("AccessDenied"), "{e:?}");
    });
}
