use std::time::Duration;

use data_encoding::BASE64URL_NOPAD;

use super::*;
use crate::domain::ids::RandomSource;

struct Counter(u8);

impl RandomSource for Counter {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
    }
}

fn policy() -> RefreshPolicy {
    RefreshPolicy {
        before_expiry: Duration::from_secs(300),
        jitter: Duration::from_secs(60),
        serve_margin: Duration::from_secs(60),
        retry_min: Duration::from_secs(1),
        retry_max: Duration::from_secs(60),
    }
}

#[test]
fn refresh_is_ahead_of_expiry_by_the_window_plus_a_share_of_the_jitter() {
    let p = policy();
    assert_eq!(p.refresh_at(0, 3600, 0.0), 3300);
    assert_eq!(p.refresh_at(0, 3600, 0.5), 3270);
    assert_eq!(p.refresh_at(0, 3600, 0.999), 3241);
    // A sample outside [0, 1) is clamped rather than trusted.
    assert_eq!(p.refresh_at(0, 3600, 7.0), 3240);
}

#[test]
fn a_session_shorter_than_the_window_is_not_refreshed_in_a_loop() {
    let p = policy();
    assert_eq!(
        p.refresh_at(1000, 1200, 0.0),
        1000 + MIN_REFRESH_INTERVAL_SECS
    );
}

#[test]
fn credentials_are_served_only_while_more_than_the_margin_is_left() {
    let p = policy();
    assert!(p.servable(1000, 939));
    assert!(!p.servable(1000, 940));
    assert!(!p.servable(1000, 1000));
    assert!(!p.servable(1000, 5000));
    assert!(!p.due(1000, 699));
    assert!(p.due(1000, 700));
}

#[test]
fn retry_backs_off_exponentially_within_the_bounds_with_equal_jitter() {
    let p = policy();
    assert_eq!(p.retry_delay(1, 0.0), Duration::from_millis(500));
    assert_eq!(p.retry_delay(1, 1.0), Duration::from_secs(1));
    assert_eq!(p.retry_delay(2, 1.0), Duration::from_secs(2));
    assert_eq!(p.retry_delay(4, 1.0), Duration::from_secs(8));
    assert_eq!(p.retry_delay(7, 1.0), Duration::from_secs(60));
    assert_eq!(p.retry_delay(u32::MAX, 0.0), Duration::from_secs(30));
}

#[test]
fn imds_tokens_verify_until_their_ttl_and_only_for_their_issuer() {
    let tokens = ImdsTokens::new(&mut Counter(0));
    let other = ImdsTokens::new(&mut Counter(100));
    let t = tokens.issue(1000, 21_600);
    assert_eq!(tokens.check(&t, 1000), Ok(()));
    assert_eq!(tokens.check(&t, 22_599), Ok(()));
    assert_eq!(tokens.check(&t, 22_600), Err(ImdsTokenError::Expired));
    assert_eq!(other.check(&t, 1000), Err(ImdsTokenError::Invalid));
    assert_eq!(tokens.check("", 1000), Err(ImdsTokenError::Invalid));
    assert_eq!(
        tokens.check("not base64!", 1000),
        Err(ImdsTokenError::Invalid)
    );
    // A token whose expiry was moved forward no longer matches its MAC.
    let mut raw = BASE64URL_NOPAD.decode(t.as_bytes()).unwrap_or_default();
    if let Some(b) = raw.get_mut(7) {
        *b ^= 1;
    }
    let forged = BASE64URL_NOPAD.encode(&raw);
    assert_eq!(tokens.check(&forged, 1000), Err(ImdsTokenError::Invalid));
}

#[test]
fn imds_ttl_must_be_from_1_to_21600() {
    assert_eq!(ImdsTokens::ttl(Some("21600")), Ok(21_600));
    assert_eq!(ImdsTokens::ttl(Some(" 1 ")), Ok(1));
    for bad in [
        None,
        Some(""),
        Some("0"),
        Some("21601"),
        Some("-5"),
        Some("6h"),
    ] {
        assert_eq!(ImdsTokens::ttl(bad), Err(ImdsTokenError::BadTtl), "{bad:?}");
    }
}

fn jwt(claims: &str) -> String {
    format!(
        "{}.{}.c2ln",
        BASE64URL_NOPAD.encode(br#"{"alg":"RS256"}"#),
        BASE64URL_NOPAD.encode(claims.as_bytes())
    )
}

#[test]
fn a_workload_token_yields_its_subject_expiry_and_digest() {
    let t = jwt(r#"{"sub":"system:serviceaccount:prod:billing","exp":2000}"#);
    let w = WorkloadToken::read(&t, 1000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.subject, "system:serviceaccount:prod:billing");
    assert_eq!(w.expires, 2000);
    let again = WorkloadToken::read(&format!(" {t}\n"), 1000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        w.digest, again.digest,
        "surrounding whitespace is not part of the token"
    );
    let other = WorkloadToken::read(&jwt(r#"{"sub":"x","exp":2000}"#), 1000)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(w.digest, other.digest);
    assert_eq!(format!("{:?}", w.token), "BearerToken(<redacted>)");
}

#[test]
fn workload_tokens_without_the_claims_or_expired_are_refused() {
    use WorkloadTokenError as E;
    assert_eq!(WorkloadToken::read("abc", 0).err(), Some(E::Malformed));
    assert_eq!(WorkloadToken::read("a.b.c.d", 0).err(), Some(E::Malformed));
    assert_eq!(WorkloadToken::read("a.!!.c", 0).err(), Some(E::Malformed));
    let no_sub = jwt(r#"{"exp":2000}"#);
    assert_eq!(
        WorkloadToken::read(&no_sub, 0).err(),
        Some(E::MissingClaim("sub"))
    );
    let no_exp = jwt(r#"{"sub":"a"}"#);
    assert_eq!(
        WorkloadToken::read(&no_exp, 0).err(),
        Some(E::MissingClaim("exp"))
    );
    let expired = jwt(r#"{"sub":"a","exp":2000}"#);
    assert_eq!(WorkloadToken::read(&expired, 2000).err(), Some(E::Expired));
}

#[test]
fn the_role_name_is_the_last_segment_of_the_role_arn() {
    let c = VendedCredentials {
        access_key_id: "ASIAEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            .parse()
            .unwrap_or_else(|_| panic!("secret")),
        session_token: crate::domain::secret::SessionToken::new("t"),
        expiration: 100,
        received: 0,
        role_arn: "arn:aws:iam::123456789012:role/team/app".into(),
        assumed_role_arn: "arn:aws:sts::123456789012:assumed-role/app/s".into(),
        account_id: "123456789012".into(),
    };
    assert_eq!(role_name(&c.role_arn), "app");
    assert_eq!(role_name("app"), "app");
    assert_eq!(c.remaining(40), 60);
    assert_eq!(c.remaining(140), -40);
}
