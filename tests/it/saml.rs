//! AssumeRoleWithSAML through the Rust AWS SDK (`aws-sdk-sts`, which sends
//! it unsigned) with a response a real IdP made for this run: pysaml2 with
//! xmlsec1, through `tests/python/saml_idp.py` in the test virtualenv
//! (`make deps` creates it; `STSD_VENV` overrides its path). Then
//! GetCallerIdentity with the session. The assertion must be fresh (the
//! daemon checks its times against the real clock), so no fixture is used
//! here; without the virtualenv the test says so and does nothing
//! (`src/service/sts/saml/tests.rs` covers verification with fixtures and
//! a fixed clock).

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_sts::config::SharedCredentialsProvider;

use crate::client::root;
use crate::daemon::Daemon;
use crate::sdk_iam::client as iam_client;
use crate::sdk_sts::{runtime, sdk_config, sts};

const ACCOUNT: &str = "123456789012";

/// The virtualenv's python, when it has pysaml2.
fn python() -> Option<PathBuf> {
    let venv = std::env::var_os("STSD_VENV").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/stsd/venv"),
        PathBuf::from,
    );
    let py = venv.join("bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import saml2"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

/// A base64 SAMLAssertion signed by the IdP whose keys live in `dir`.
fn idp_response(py: &Path, dir: &Path, role: &str, provider: &str, mode: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/saml_idp.py");
    let out = Command::new(py)
        .arg("-W")
        .arg("ignore")
        .arg(script)
        .args(["response", "--dir"])
        .arg(dir)
        .args([
            "--role-arn",
            role,
            "--provider-arn",
            provider,
            "--mode",
            mode,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn rust_sdk_assume_role_with_saml_then_caller_identity() {
    let Some(py) = python() else {
        eprintln!("skipped: no virtualenv with pysaml2 (run `make deps`)");
        return;
    };
    let d = Daemon::start();
    let dir = tempfile::tempdir().unwrap();
    let provider = format!("arn:aws:iam::{ACCOUNT}:saml-provider/rust-idp");
    let role = format!("arn:aws:iam::{ACCOUNT}:role/rust-saml");
    // Makes the IdP's keys and metadata, and a first response.
    let first = idp_response(&py, dir.path(), &role, &provider, "assertion");
    let metadata = std::fs::read_to_string(dir.path().join("idp-metadata.xml")).unwrap();
    runtime().block_on(async {
        let (root_id, root_secret) = root(&d);
        let iam = iam_client(&d, &root_id, root_secret.expose_secret());
        iam.create_saml_provider()
            .name("rust-idp")
            .saml_metadata_document(metadata)
            .send()
            .await
            .unwrap();
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{provider}"}},"Action":"sts:AssumeRoleWithSAML","Condition":{{"StringEquals":{{"saml:aud":"https://signin.aws.amazon.com/saml"}}}}}}]}}"#
        );
        iam.create_role()
            .role_name("rust-saml")
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap();
        // No credentials at all: the SDK sends AssumeRoleWithSAML unsigned.
        let anonymous = aws_sdk_sts::Client::new(&sdk_config(
            &d,
            SharedCredentialsProvider::new(aws_sdk_sts::config::Credentials::new(
                "", "", None, None, "none",
            )),
        ));
        for (assertion, mode) in [
            (first, "assertion"),
            (idp_response(&py, dir.path(), &role, &provider, "response"), "response"),
        ] {
            let out = anonymous
                .assume_role_with_saml()
                .role_arn(&role)
                .principal_arn(&provider)
                .saml_assertion(assertion.clone())
                .duration_seconds(900)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{mode}: {e:?}"));
            let arn = format!("arn:aws:sts::{ACCOUNT}:assumed-role/rust-saml/alice");
            assert_eq!(out.assumed_role_user().unwrap().arn(), arn);
            assert_eq!(out.subject(), Some("alice@example.org"));
            assert_eq!(out.subject_type(), Some("persistent"));
            assert_eq!(out.issuer(), Some("https://idp.example.org/saml"));
            assert_eq!(out.audience(), Some("https://signin.aws.amazon.com/saml"));
            assert!(out.name_qualifier().is_some_and(|q| q.len() == 28));
            let c = out.credentials().unwrap();
            let session = sts(
                &d,
                aws_sdk_sts::config::Credentials::new(
                    c.access_key_id(),
                    c.secret_access_key(),
                    Some(c.session_token().to_owned()),
                    None,
                    "saml",
                ),
            );
            let who = session.get_caller_identity().send().await.unwrap();
            assert_eq!(who.arn(), Some(arn.as_str()));
            // The replay guard: the same assertion never mints twice.
            let again = anonymous
                .assume_role_with_saml()
                .role_arn(&role)
                .principal_arn(&provider)
                .saml_assertion(assertion)
                .send()
                .await
                .unwrap_err();
            let code = again.into_service_error().meta().code().map(str::to_owned);
            assert_eq!(code.as_deref(), Some("InvalidIdentityToken"));
        }
    });
}
