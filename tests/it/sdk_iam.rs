//! The Rust AWS SDK (`aws-sdk-iam`, default features off, on the same
//! hyper 1 + rustls/ring stack as stsd) administering a real `stsd serve`:
//! a representative subset of the IAM API, typed errors included.

use aws_sdk_iam::Client;
use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_iam::error::SdkError;
use aws_sdk_iam::operation::create_user::CreateUserError;
use aws_sdk_iam::operation::get_role::GetRoleError;
use aws_sdk_iam::operation::get_user::GetUserError;
use aws_sdk_iam::types::{PolicyEvaluationDecisionType, Tag};
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use crate::client::root;
use crate::daemon::Daemon;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
const S3_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}"#;

pub(crate) fn client(d: &Daemon, key_id: &str, secret: &str) -> Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key_id, secret, None, None, "stsd-test"))
        .endpoint_url(format!("http://{}", d.addr))
        .http_client(http)
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
        .build();
    Client::from_conf(config)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn rust_sdk_users_keys_groups_and_errors() {
    let d = Daemon::start();
    let (id, secret) = root(&d);
    runtime().block_on(async {
        let iam = client(&d, &id, secret.expose_secret());
        let created = iam
            .create_user()
            .user_name("sdk-alice")
            .path("/sdk/")
            .tags(Tag::builder().key("team").value("blue").build().unwrap())
            .send()
            .await
            .unwrap();
        let alice = created.user().unwrap();
        assert_eq!(alice.arn(), "arn:aws:iam::123456789012:user/sdk/sdk-alice");
        assert!(alice.user_id().starts_with("AIDA"), "{}", alice.user_id());

        // A duplicate (any case) and an unknown user are typed errors.
        let dup = iam
            .create_user()
            .user_name("SDK-ALICE")
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(
                dup.as_service_error(),
                Some(CreateUserError::EntityAlreadyExistsException(_))
            ),
            "{dup:?}"
        );
        let missing = iam.get_user().user_name("nobody").send().await.unwrap_err();
        match &missing {
            SdkError::ServiceError(e) => {
                assert!(
                    matches!(e.err(), GetUserError::NoSuchEntityException(_)),
                    "{e:?}"
                );
                assert_eq!(e.raw().status().as_u16(), 404);
            }
            other => panic!("expected NoSuchEntity, got {other:?}"),
        }

        // Paging with the SDK's own paginator.
        for i in 0..5 {
            iam.create_user()
                .user_name(format!("sdk-page-{i}"))
                .path("/paged/")
                .send()
                .await
                .unwrap();
        }
        let pages: Vec<_> = iam
            .list_users()
            .path_prefix("/paged/")
            .max_items(2)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .unwrap();
        assert_eq!(pages.len(), 3);
        let names: Vec<&str> = pages
            .iter()
            .flat_map(|p| p.users())
            .map(|u| u.user_name())
            .collect();
        assert_eq!(
            names,
            ["sdk-page-0", "sdk-page-1", "sdk-page-2", "sdk-page-3", "sdk-page-4"]
        );

        // Groups.
        iam.create_group().group_name("sdk-devs").send().await.unwrap();
        iam.add_user_to_group()
            .group_name("sdk-devs")
            .user_name("sdk-alice")
            .send()
            .await
            .unwrap();
        let group = iam.get_group().group_name("sdk-devs").send().await.unwrap();
        let members: Vec<&str> = group.users().iter().map(|u| u.user_name()).collect();
        assert_eq!(members, ["sdk-alice"]);

        // Alice's own key: the secret is returned once, then signs her
        // calls, which the evaluator refuses until a policy allows them.
        let key = iam
            .create_access_key()
            .user_name("sdk-alice")
            .send()
            .await
            .unwrap();
        let key = key.access_key().unwrap();
        let as_alice = client(&d, key.access_key_id(), key.secret_access_key());
        let denied = as_alice.list_users().send().await.unwrap_err();
        let denied = denied.into_service_error();
        assert_eq!(denied.meta().code(), Some("AccessDenied"), "{denied:?}");
        iam.put_group_policy()
            .group_name("sdk-devs")
            .policy_name("list")
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}}"#,
            )
            .send()
            .await
            .unwrap();
        let listed = as_alice.list_users().send().await.unwrap();
        assert!(listed.users().iter().any(|u| u.user_name() == "sdk-alice"));
        let listed_keys = iam
            .list_access_keys()
            .user_name("sdk-alice")
            .send()
            .await
            .unwrap();
        assert_eq!(listed_keys.access_key_metadata().len(), 1);
    });
}

#[test]
fn rust_sdk_roles_managed_policies_and_simulation() {
    let d = Daemon::start();
    let (id, secret) = root(&d);
    runtime().block_on(async {
        let iam = client(&d, &id, secret.expose_secret());
        let role = iam
            .create_role()
            .role_name("sdk-reader")
            .assume_role_policy_document(TRUST)
            .max_session_duration(7200)
            .description("read-only")
            .send()
            .await
            .unwrap();
        let role = role.role().unwrap();
        assert!(role.role_id().starts_with("AROA"), "{}", role.role_id());
        assert_eq!(role.max_session_duration(), Some(7200));

        // The trust policy comes back URL-encoded, as AWS sends it.
        let got = iam.get_role().role_name("sdk-reader").send().await.unwrap();
        let doc = got.role().unwrap().assume_role_policy_document().unwrap();
        let decoded = percent_decode(doc);
        let v: serde_json::Value = serde_json::from_str(&decoded).unwrap();
        assert_eq!(
            v["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::123456789012:root"
        );

        let policy = iam
            .create_policy()
            .policy_name("sdk-s3-read")
            .policy_document(S3_READ)
            .send()
            .await
            .unwrap();
        let arn = policy.policy().unwrap().arn().unwrap().to_owned();
        assert_eq!(arn, "arn:aws:iam::123456789012:policy/sdk-s3-read");
        iam.attach_role_policy()
            .role_name("sdk-reader")
            .policy_arn(&arn)
            .send()
            .await
            .unwrap();
        let attached = iam
            .list_attached_role_policies()
            .role_name("sdk-reader")
            .send()
            .await
            .unwrap();
        let attached: Vec<_> = attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn())
            .collect();
        assert_eq!(attached, [arn.as_str()]);

        // A second version, made default.
        iam.create_policy_version()
            .policy_arn(&arn)
            .policy_document(S3_READ.replace("s3:ListBucket", "s3:GetObjectVersion"))
            .set_as_default(true)
            .send()
            .await
            .unwrap();
        let p = iam.get_policy().policy_arn(&arn).send().await.unwrap();
        assert_eq!(p.policy().unwrap().default_version_id(), Some("v2"));
        assert_eq!(p.policy().unwrap().attachment_count(), Some(1));

        // Tags on the role.
        iam.tag_role()
            .role_name("sdk-reader")
            .tags(Tag::builder().key("env").value("prod").build().unwrap())
            .send()
            .await
            .unwrap();
        let tags = iam
            .list_role_tags()
            .role_name("sdk-reader")
            .send()
            .await
            .unwrap();
        assert_eq!(tags.tags().len(), 1);
        assert_eq!(tags.tags()[0].key(), "env");

        // The evaluator behind SimulatePrincipalPolicy: the role's policy
        // (now v2) allows GetObjectVersion, no longer ListBucket.
        let sim = iam
            .simulate_principal_policy()
            .policy_source_arn(role.arn())
            .action_names("s3:GetObjectVersion")
            .action_names("s3:ListBucket")
            .send()
            .await
            .unwrap();
        let decisions: Vec<_> = sim
            .evaluation_results()
            .iter()
            .map(|r| (r.eval_action_name(), r.eval_decision().clone()))
            .collect();
        assert_eq!(
            decisions,
            [
                ("s3:GetObjectVersion", PolicyEvaluationDecisionType::Allowed),
                ("s3:ListBucket", PolicyEvaluationDecisionType::ImplicitDeny),
            ]
        );

        // Delete refuses while a policy is attached, then succeeds.
        let conflict = iam
            .delete_role()
            .role_name("sdk-reader")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(conflict.meta().code(), Some("DeleteConflict"));
        iam.detach_role_policy()
            .role_name("sdk-reader")
            .policy_arn(&arn)
            .send()
            .await
            .unwrap();
        iam.delete_role()
            .role_name("sdk-reader")
            .send()
            .await
            .unwrap();
        let gone = iam
            .get_role()
            .role_name("sdk-reader")
            .send()
            .await
            .unwrap_err();
        assert!(matches!(
            gone.into_service_error(),
            GetRoleError::NoSuchEntityException(_)
        ));
    });
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}
