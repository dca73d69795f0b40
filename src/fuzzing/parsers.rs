//! Fuzz entry points of the request-facing parsers (issue 12): SigV4
//! (`Authorization` header and presigned query), the Query form body and
//! the STS decoders behind it, the gRPC request messages, SAML responses
//! and metadata, and the config file.
//!
//! Owns: one function per target, re-exported by `fuzzing`. Each takes the
//! fuzzer's bytes and panics only on a finding. Imports `domain::sigv4`,
//! `api::query`, `api::sts`, `api::grpc`, `service::sts::saml`,
//! `service::iam::providers::metadata` and `config`.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use prost::Message as _;

use crate::api::grpc::convert;
use crate::api::grpc::proto::v1 as pb;
use crate::api::query::{Limits, Params};
use crate::api::sts::decode;
use crate::domain::secret::SecretAccessKey;
use crate::domain::sigv4::{self, Payload, RequestView, VerifyPolicy};
use crate::service::sts::saml::{assertion, decrypt::DecryptionKey, metadata, verify, xml};

/// A raw HTTP/1.1 request as in `tests/fixtures/sigv4/*/*.txt`: request
/// line, header lines, an empty line, the body.
struct RawRequest<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
}

fn raw_request(text: &str) -> Option<RawRequest<'_>> {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let (method, target) = lines.next()?.split_once(' ')?;
    let target = target.strip_suffix(" HTTP/1.1").unwrap_or(target);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers = lines.filter_map(|l| l.split_once(':')).collect::<Vec<_>>();
    Some(RawRequest {
        method,
        path,
        query,
        headers,
        body: body.as_bytes(),
    })
}

/// A secret nobody signed the seeds with: no fuzzed request may verify
/// under it.
static UNKNOWN_SECRET: LazyLock<Option<SecretAccessKey>> =
    LazyLock::new(|| "fuzzFUZZfuzzFUZZfuzzFUZZfuzzFUZZfuzzFUZZ".parse().ok());

/// Parses `data` (when UTF-8) as a raw HTTP request, finds its SigV4
/// authentication (`Authorization` header or presigned query) and, when
/// it parses, prechecks it at its own timestamp (so the time check
/// passes) and verifies it with a secret the fuzzer does not know. A
/// finding is a panic or a request that verifies.
#[doc(hidden)]
pub fn sigv4_request(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(raw) = raw_request(text) else {
        return;
    };
    let view = RequestView {
        method: raw.method,
        path: raw.path,
        query: raw.query,
        headers: &raw.headers,
        payload: Payload::Bytes(raw.body),
    };
    let Ok(auth) = sigv4::parse(&view) else {
        return;
    };
    let _ = (auth.access_key_id(), auth.signed_headers().count());
    let _ = auth.canonical_request(true);
    let now = Duration::from_secs(u64::try_from(auth.timestamp().unix_secs()).unwrap_or(0));
    let scope = auth.scope();
    let policy = VerifyPolicy::new(scope.service.to_owned(), [scope.region.to_owned()]);
    let Some(secret) = UNKNOWN_SECRET.as_ref() else {
        return;
    };
    let verified = sigv4::verify_with_secret(&auth, secret, now, &policy);
    assert!(
        verified.is_err(),
        "a request verified under a secret nobody signed with"
    );
}

/// Decodes `data` as a Query request: the part before the first `\n` as
/// the URL query, the rest as the form body; then runs every STS
/// decoder over the parameters. Nothing may panic.
#[doc(hidden)]
pub fn query_form(data: &[u8]) {
    let (query, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (
            data.get(..i).unwrap_or(&[]),
            data.get(i + 1..).unwrap_or(&[]),
        ),
        None => (&[][..], data),
    };
    let Ok(params) = Params::decode(query, body, &Limits::default()) else {
        return;
    };
    sts_decoders(&params);
}

/// Every STS action's decoder over `params`.
fn sts_decoders(params: &Params) {
    let root = params.root();
    let _ = params.action();
    let _ = decode::assume_role(&root, "fuzz");
    let _ = decode::get_session_token(&root, "fuzz");
    let _ = decode::get_federation_token(&root, "fuzz");
    let _ = decode::web_identity(&root, "fuzz");
    let _ = crate::api::sts::saml::decode_input(&root, "fuzz");
}

/// Decodes `data` as each STS request message of the gRPC API (prost),
/// converts each that decodes into Query parameters as the gRPC
/// transport does, and runs the STS decoders. Nothing may panic.
#[doc(hidden)]
pub fn grpc_request(data: &[u8]) {
    let limits = Limits::default();
    let forms = [
        pb::AssumeRoleRequest::decode(data)
            .ok()
            .map(|r| convert::assume_role(&r)),
        pb::AssumeRoleWithWebIdentityRequest::decode(data)
            .ok()
            .map(|r| convert::web_identity(&r)),
        pb::AssumeRoleWithSamlRequest::decode(data)
            .ok()
            .map(|r| convert::saml(&r)),
        pb::GetSessionTokenRequest::decode(data)
            .ok()
            .map(|r| convert::session_token(&r)),
        pb::GetFederationTokenRequest::decode(data)
            .ok()
            .map(|r| convert::federation_token(&r)),
    ];
    for form in forms.into_iter().flatten() {
        if let Ok(params) = form.params(&limits) {
            sts_decoders(&params);
        }
    }
    let _ = pb::AuthorizeRequest::decode(data);
    let _ = pb::SimulateRequest::decode(data);
    let _ = pb::RevokeRequest::decode(data);
}

const SAML_METADATA: &str = include_str!("../../tests/fixtures/saml/metadata.xml");
const SAML_SP_KEY: &str = include_str!("../../tests/fixtures/saml/sp.key");
const SAML_SIGNED: [&str; 5] = [
    include_str!("../../tests/fixtures/saml/response.xml"),
    include_str!("../../tests/fixtures/saml/assertion.xml"),
    include_str!("../../tests/fixtures/saml/both.xml"),
    include_str!("../../tests/fixtures/saml/encrypted.xml"),
    include_str!("../../tests/fixtures/saml/encrypted-gcm.xml"),
];

/// The fixture IdP's keys, the SP key, and the assertions its signed
/// fixtures carry: the only assertions any document may verify to.
struct SamlOracle {
    keys: metadata::ProviderKeys,
    sp_key: DecryptionKey,
    signed: Vec<xml::Element>,
}

static SAML: LazyLock<Option<SamlOracle>> = LazyLock::new(|| {
    let keys = metadata::parse(SAML_METADATA).ok()?;
    let sp_key = DecryptionKey::from_pem(SAML_SP_KEY.as_bytes()).ok()?;
    let signed = SAML_SIGNED
        .iter()
        .map(|doc| verify::verify(doc, &keys.certs, Some(&sp_key)).map(|v| v.assertion))
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    Some(SamlOracle {
        keys,
        sp_key,
        signed,
    })
});

/// Verifies `data` (when UTF-8) as a SAML response with the fixture IdP's
/// certificates and SP key, and reads the assertion it yields. A finding
/// is a panic, or a document that verifies to an assertion the IdP never
/// signed (signature wrapping: the fuzzer holds no IdP key, so every
/// verified assertion must be one of the fixtures').
#[doc(hidden)]
#[expect(clippy::panic, reason = "a fuzz finding must crash")]
pub fn saml_response(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(oracle) = SAML.as_ref() else {
        return;
    };
    let _ = xml::parse(text, xml::RESPONSE_LIMITS);
    let Ok(verified) = verify::verify(text, &oracle.keys.certs, Some(&oracle.sp_key)) else {
        return;
    };
    if !oracle.signed.contains(&verified.assertion) {
        panic!("a SAML response verified to an assertion the IdP never signed");
    }
    let audiences = ["urn:amazon:webservices".to_owned()];
    let expect = assertion::Expect {
        entity_id: &oracle.keys.entity_id,
        audiences: &audiences,
        recipients: &[],
        skew: 300,
        now: 0,
    };
    let _ = assertion::read(&verified.assertion, &expect);
}

/// Parses `data` (when UTF-8) as SAML metadata, both with the IAM API's
/// light check and with the key reader of AssumeRoleWithSAML. Nothing may
/// panic, and a document the key reader accepts passes the light check.
#[doc(hidden)]
pub fn saml_metadata(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let light = crate::service::iam::providers::metadata::check(text);
    if let Ok(keys) = metadata::parse(text) {
        assert!(
            light.is_some_and(|m| m.entity_id == keys.entity_id),
            "metadata with keys fails the IAM API's check"
        );
    }
}

/// Loads `data` (when UTF-8) as a config file with no environment and no
/// flags. Nothing may panic. Inputs naming device or proc files are
/// skipped: validation reads the files a config names.
#[doc(hidden)]
pub fn config_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.contains("/dev") || text.contains("/proc") || text.contains("/sys") {
        return;
    }
    let env: BTreeMap<&str, &str> = BTreeMap::new();
    let _ = crate::config::Config::from_toml(text, "fuzz.toml", &env, &Default::default());
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn seeds(target: &str) -> Vec<Vec<u8>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz/corpus")
            .join(target);
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("seed-")
            })
            .collect();
        paths.sort();
        paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    /// A target: its name and entry point.
    type Target = (&'static str, fn(&[u8]));

    /// Every seed runs through its target without a finding.
    #[test]
    fn every_seed_runs_through_its_target() {
        let targets: [Target; 6] = [
            ("sigv4_request", super::sigv4_request),
            ("query_form", super::query_form),
            ("grpc_request", super::grpc_request),
            ("saml_response", super::saml_response),
            ("saml_metadata", super::saml_metadata),
            ("config_file", super::config_file),
        ];
        for (target, run) in targets {
            let seeds = seeds(target);
            assert!(!seeds.is_empty(), "{target} has no seed");
            for seed in seeds {
                run(&seed);
            }
        }
    }

    /// The seeds get deep: the SigV4 vectors parse, the SAML oracle holds
    /// the five signed fixtures, the gRPC seeds decode.
    #[test]
    fn seeds_reach_the_checks() {
        let parsed = seeds("sigv4_request")
            .iter()
            .filter(|s| {
                let text = std::str::from_utf8(s).unwrap();
                let raw = super::raw_request(text).unwrap();
                let view = super::RequestView {
                    method: raw.method,
                    path: raw.path,
                    query: raw.query,
                    headers: &raw.headers,
                    payload: super::Payload::Bytes(raw.body),
                };
                super::sigv4::parse(&view).is_ok()
            })
            .count();
        assert!(parsed >= 60, "only {parsed} SigV4 seeds parse");
        assert_eq!(super::SAML.as_ref().unwrap().signed.len(), 5);
        use prost::Message as _;
        let ar = super::pb::AssumeRoleRequest::decode(seeds("grpc_request")[0].as_slice()).unwrap();
        assert!(ar.role_arn.starts_with("arn:aws:iam::"));
    }
}
