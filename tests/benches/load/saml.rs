//! The AssumeRoleWithSAML workload of the load generator.
//!
//! Setup makes an RSA-2048 IdP key and self-signed certificate (openssl),
//! creates an IAM SAML provider whose metadata holds the certificate and a
//! role trusting it, then signs a pool of SAML responses up front — each a
//! `samlp:Response` whose assertion is signed with RSA-SHA256 (exclusive
//! c14n, SHA-256 digest) by xmlsec through samael, as an IdP would, with
//! its own assertion ID. Requests are unsigned
//! `Action=AssumeRoleWithSAML` POSTs, request `n` sending response
//! `n % (pool - 1)` (the last is the probe's).
//!
//! The daemon's replay guard refuses an assertion ID twice, so a pool
//! smaller than the run only works with the guard off: by default the
//! daemon this program starts runs with `[federation.saml] reject_replay =
//! false` and a pool of 256. `STSD_BENCH_SAML_REPLAY=1` keeps the guard on
//! (every request then spends one durable store write); the pool must then
//! cover every request sent (`STSD_BENCH_SAML_POOL`, default 40,000 with
//! the guard on).

use std::net::SocketAddr;
use std::sync::Arc;

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};
use samael::crypto::{Crypto, CryptoProvider};
use stsd::domain::clock::{Clock, SystemClock};

use super::{Creds, FORM, connect, enc, iam, xml};

const ENTITY_ID: &str = "https://idp.bench.example/saml";
const RECIPIENT: &str = "https://signin.aws.amazon.com/saml";

/// Whether the daemon runs with its replay guard on.
pub(crate) fn replay_guard() -> bool {
    std::env::var("STSD_BENCH_SAML_REPLAY").is_ok_and(|v| v == "1")
}

/// The config file of the daemon this program starts.
pub(crate) fn daemon_config() -> String {
    format!("[federation.saml]\nreject_replay = {}\n", replay_guard())
}

/// How many responses to sign up front.
fn pool_size(smoke: bool) -> usize {
    let default = if smoke {
        64
    } else if replay_guard() {
        40_000
    } else {
        256
    };
    std::env::var("STSD_BENCH_SAML_POOL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The signed responses (form-encoded base64) and what names them.
pub(crate) struct Pool {
    role_arn: String,
    provider_arn: String,
    bodies: Vec<String>,
}

impl Pool {
    /// The request body of request `n` (`u64::MAX`, the probe, has the
    /// last response to itself).
    pub(crate) fn body(&self, n: u64) -> String {
        let last = self.bodies.len() - 1;
        let i = if n == u64::MAX {
            last
        } else {
            usize::try_from(n).unwrap_or(0) % last.max(1)
        };
        format!(
            "Action=AssumeRoleWithSAML&Version=2011-06-15&RoleArn={}&PrincipalArn={}&DurationSeconds=900&SAMLAssertion={}",
            enc(&self.role_arn),
            enc(&self.provider_arn),
            self.bodies[i]
        )
    }
}

/// An unsigned AssumeRoleWithSAML request.
pub(crate) fn request(
    host: &str,
    pool: &Pool,
    n: u64,
) -> http::Request<http_body_util::Full<hyper::body::Bytes>> {
    http::Request::post("/")
        .header("host", host)
        .header("content-type", FORM)
        .body(http_body_util::Full::new(pool.body(n).into()))
        .unwrap()
}

fn keypair() -> (PKey<Private>, X509) {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "bench-idp").unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    (key, b.build())
}

fn metadata(cert: &X509) -> String {
    let der = data_encoding::BASE64.encode(&cert.to_der().unwrap());
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{ENTITY_ID}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{der}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.bench.example/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
    )
}

fn iso(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since the epoch (H. Hinnant).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// One response with a signature template on its assertion.
fn template(n: usize, role: &str, provider: &str, now: u64) -> String {
    let (t, exp) = (iso(now), iso(now + 3600));
    format!(
        r##"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r{n}" Version="2.0" IssueInstant="{t}" Destination="{RECIPIENT}"><saml:Issuer>{ENTITY_ID}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="_a{n}-{now}" Version="2.0" IssueInstant="{t}"><saml:Issuer>{ENTITY_ID}</saml:Issuer><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_a{n}-{now}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue></ds:Signature><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">bench@example.org</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{exp}" Recipient="{RECIPIENT}"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{t}" NotOnOrAfter="{exp}"><saml:AudienceRestriction><saml:Audience>urn:amazon:webservices</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="{t}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role"><saml:AttributeValue>{role},{provider}</saml:AttributeValue></saml:Attribute><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>bench</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>"##
    )
}

/// Creates the provider and role, and signs the pool (on every core).
pub(crate) async fn setup(addr: SocketAddr, admin: &Creds, smoke: bool) -> Arc<Pool> {
    let host = addr.to_string();
    let mut c = connect(addr).await;
    let (key, cert) = keypair();
    let tag = format!("{:x}", SystemClock.now().as_nanos() & 0xff_ffff);
    let created = iam(
        &mut c,
        &host,
        admin,
        &format!(
            "Action=CreateSAMLProvider&Name=bench-idp-{tag}&SAMLMetadataDocument={}",
            enc(&metadata(&cert))
        ),
    )
    .await;
    let provider_arn = xml(&created, "SAMLProviderArn").to_owned();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{provider_arn}"}},"Action":"sts:AssumeRoleWithSAML","Condition":{{"StringEquals":{{"saml:aud":"{RECIPIENT}"}}}}}}]}}"#
    );
    let role = iam(
        &mut c,
        &host,
        admin,
        &format!(
            "Action=CreateRole&RoleName=bench-saml-{tag}&AssumeRolePolicyDocument={}",
            enc(&trust)
        ),
    )
    .await;
    let role_arn = xml(&role, "Arn").to_owned();
    let der = key.private_key_to_der().unwrap();
    let size = pool_size(smoke);
    let now = SystemClock.now().as_secs();
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let (role_ref, provider_ref, der_ref) = (&role_arn, &provider_arn, &der);
    let bodies: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t..size)
                        .step_by(threads)
                        .map(|n| {
                            let signed =
                                Crypto::sign_xml(template(n, role_ref, provider_ref, now), der_ref)
                                    .unwrap();
                            enc(&data_encoding::BASE64.encode(signed.as_bytes()))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    println!(
        "signed {} SAML responses (RSA-SHA256, assertion-level); replay guard {}",
        bodies.len(),
        if replay_guard() { "on" } else { "off" }
    );
    Arc::new(Pool {
        role_arn,
        provider_arn,
        bodies,
    })
}
