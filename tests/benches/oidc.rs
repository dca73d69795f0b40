//! Web-identity token verification (issue 5): the cost of
//! `domain::oidc::peek` + `domain::oidc::verify` — header and issuer,
//! key selection, the signature checked by ring
//! (`domain::oidc::public_key`), the claim checks — for a typical
//! Kubernetes-style token, RS256 (2048-bit key) and ES256; and ring's
//! bare RSA verification of the same signature, from the modulus and
//! exponent (what stsd keeps per key) and from the key's DER (ring's
//! `UnparsedPublicKey`), to show what the JWT layer adds and which key
//! form is cheaper. Keys: tests/fixtures/oidc (RSA), generated (EC).

#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "benchmark setup: a broken fixture must fail loudly"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use data_encoding::BASE64URL_NOPAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, KeyPair, RsaKeyPair};
use stsd::domain::oidc::{KeySet, TimeLimits, WebIdentityToken, peek, verify};

const RSA: &[u8] = include_bytes!("../fixtures/oidc/rsa-2048-a.pk8");
const NOW: u64 = 1_800_000_000;

fn claims() -> String {
    format!(
        r#"{{"iss":"https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE","sub":"system:serviceaccount:default:app","aud":["sts.amazonaws.com"],"iat":{},"nbf":{},"exp":{},"kubernetes.io":{{"namespace":"default","serviceaccount":{{"name":"app","uid":"0a1b2c3d"}}}}}}"#,
        NOW - 10,
        NOW - 10,
        NOW + 3600
    )
}

fn token(alg: &str, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> (String, Vec<u8>) {
    let header = format!(r#"{{"alg":"{alg}","kid":"k1","typ":"JWT"}}"#);
    let message = format!(
        "{}.{}",
        B64.encode(header.as_bytes()),
        B64.encode(claims().as_bytes())
    );
    let signature = sign(message.as_bytes());
    (
        format!("{message}.{}", B64.encode(&signature)),
        message.into_bytes(),
    )
}

fn bench(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let rsa = RsaKeyPair::from_pkcs8(RSA).unwrap();
    let p = sig::RsaPublicKeyComponents::<Vec<u8>>::from(rsa.public());
    let (n, e) = (B64.encode(&p.n), B64.encode(&p.e));
    let pk8 = EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let ec = EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, pk8.as_ref(), &rng)
        .unwrap();
    let point = ec.public_key().as_ref();
    let (x, y) = (B64.encode(&point[1..33]), B64.encode(&point[33..]));
    let rsa_keys = KeySet::parse(
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"k1","n":"{n}","e":"{e}"}}]}}"#).as_bytes(),
    )
    .unwrap();
    let ec_keys = KeySet::parse(
        format!(r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"k1","x":"{x}","y":"{y}"}}]}}"#)
            .as_bytes(),
    )
    .unwrap();
    let (rs256, message) = token("RS256", |m| {
        let mut out = vec![0; rsa.public().modulus_len()];
        rsa.sign(&sig::RSA_PKCS1_SHA256, &rng, m, &mut out).unwrap();
        out
    });
    let (es256, _) = token("ES256", |m| ec.sign(&rng, m).unwrap().as_ref().to_vec());
    let clients = vec!["sts.amazonaws.com".to_owned()];
    let limits = TimeLimits {
        skew: 300,
        max_age: None,
    };

    let mut g = c.benchmark_group("oidc");
    g.measurement_time(Duration::from_secs(5));
    for (name, text, keys) in [
        ("verify_rs256", &rs256, &rsa_keys),
        ("verify_es256", &es256, &ec_keys),
    ] {
        let t = WebIdentityToken::new(text.clone());
        verify(&t, &peek(&t).unwrap(), keys, &clients, NOW, limits).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| {
                let header = peek(black_box(&t)).unwrap();
                verify(&t, &header, keys, &clients, NOW, limits).unwrap()
            });
        });
    }
    let signature = B64
        .decode(rs256.rsplit('.').next().unwrap().as_bytes())
        .unwrap();
    g.bench_function("ring_rsa_pkcs1_sha256_alone", |b| {
        b.iter(|| {
            p.verify(
                &sig::RSA_PKCS1_2048_8192_SHA256,
                black_box(&message),
                black_box(&signature),
            )
            .unwrap();
        });
    });
    let der = rsa.public().as_ref().to_vec();
    g.bench_function("ring_rsa_pkcs1_sha256_der", |b| {
        b.iter(|| {
            sig::UnparsedPublicKey::new(&sig::RSA_PKCS1_2048_8192_SHA256, black_box(&der))
                .verify(black_box(&message), black_box(&signature))
                .unwrap();
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
