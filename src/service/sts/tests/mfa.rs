//! MFA in STS: required by a trust policy, codes accepted once, the
//! brute-force limit, and MFA carried from GetSessionToken into a role.

use super::*;
use crate::service::sts::mfa::{LOCKOUT_SECS, MAX_FAILED_CODES};
use crate::service::sts::session_token::{GetSessionToken, get_session_token};

const MFA: &str = r#"{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#;

fn with_mfa(role: &RoleRecord, serial: &Arn, code: &str) -> AssumeRole {
    let mut input = assume(role, "mfa");
    input.mfa = MfaInput {
        serial: Some(serial.as_str().parse().unwrap()),
        code: Some(code.parse().unwrap()),
    };
    input
}

#[tokio::test]
async fn a_trust_policy_can_require_mfa_and_a_code_is_accepted_once() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let role = env
        .role(
            "admin",
            &trust(&arn(&env, &alice), &["sts:AssumeRole"], MFA),
        )
        .await;
    let (serial, seed) = env.mfa_device(&alice, "alice-phone").await;
    assert_err(
        env.assume(&alice, assume(&role, "s1")).await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole",
    );
    let mut only_serial = assume(&role, "s1");
    only_serial.mfa.serial = Some(serial.as_str().parse().unwrap());
    assert_err(
        env.assume(&alice, only_serial).await,
        ErrorCode::AccessDenied,
        "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.",
    );
    let code = env.code(&seed);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_err(
        env.assume(&alice, with_mfa(&role, &serial, wrong)).await,
        ErrorCode::AccessDenied,
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    );
    let m = env
        .assume(&alice, with_mfa(&role, &serial, &code))
        .await
        .unwrap();
    let mfa = m.session.mfa.clone().unwrap();
    assert_eq!(mfa.serial, serial);
    assert_eq!(mfa.authenticated_at, env.sts.now());
    // The same code again: refused, even on the next request.
    assert_err(
        env.assume(&alice, with_mfa(&role, &serial, &code)).await,
        ErrorCode::AccessDenied,
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    );
    // The next step's code is fine.
    env.clock.advance(Duration::from_secs(totp::STEP_SECS));
    env.assume(&alice, with_mfa(&role, &serial, &env.code(&seed)))
        .await
        .unwrap();
}

#[tokio::test]
async fn another_users_device_is_refused_without_spending_its_attempts() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let bob = env.user("bob", None).await;
    let role = env
        .role("admin", &trust("123456789012", &["sts:AssumeRole"], MFA))
        .await;
    let (serial, seed) = env.mfa_device(&bob, "bob-phone").await;
    for _ in 0..MAX_FAILED_CODES + 1 {
        assert_err(
            env.assume(&alice, with_mfa(&role, &serial, &env.code(&seed)))
                .await,
            ErrorCode::AccessDenied,
            "MultiFactorAuthentication failed with invalid MFA one time pass code.",
        );
    }
    // Bob's device is not locked by alice's attempts (bob's own policy
    // does not allow sts:AssumeRole, so the code is good but the trust
    // delegation is not; the code was still accepted, not locked out).
    assert_err(
        env.assume(&bob, with_mfa(&role, &serial, &env.code(&seed)))
            .await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/bob is not authorized",
    );
}

/// GetSessionToken with `serial`'s `code`.
fn with_code(serial: &Arn, code: &str) -> GetSessionToken {
    GetSessionToken {
        request_id: "test-request".to_owned(),
        duration: None,
        mfa: MfaInput {
            serial: Some(serial.as_str().parse().unwrap()),
            code: Some(code.parse().unwrap()),
        },
    }
}

/// Spends every attempt of `caller`'s device on wrong codes; then even the
/// good code is refused.
async fn lock(env: &Env, caller: &Caller, serial: &Arn, seed: &[u8]) {
    let good = env.code(seed);
    let wrong = if good == "123456" { "654321" } else { "123456" };
    for _ in 0..MAX_FAILED_CODES {
        assert_err(
            get_session_token(&env.sts, caller, with_code(serial, wrong)).await,
            ErrorCode::AccessDenied,
            "MultiFactorAuthentication failed with invalid MFA one time pass code.",
        );
    }
    assert_err(
        get_session_token(&env.sts, caller, with_code(serial, &good)).await,
        ErrorCode::Throttling,
        "Rate exceeded: too many invalid one time pass codes for this MFA device",
    );
}

#[tokio::test]
async fn too_many_wrong_codes_lock_the_device_for_a_while() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let (serial, seed) = env.mfa_device(&alice, "alice-phone").await;
    let input = |code: &str| with_code(&serial, code);
    lock(&env, &alice, &serial, &seed).await;
    env.clock.advance(Duration::from_secs(LOCKOUT_SECS));
    let m = get_session_token(&env.sts, &alice, input(&env.code(&seed)))
        .await
        .unwrap();
    assert!(m.session.mfa.is_some());
}

#[tokio::test]
async fn resync_with_two_good_codes_lifts_the_lock() {
    use crate::service::iam::mfa::assign::resync_mfa_device;
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let (serial, seed) = env.mfa_device(&alice, "alice-phone").await;
    lock(&env, &alice, &serial, &seed).await;
    // The root resyncs the device with the last two codes (no drift).
    let root = env.authz(&env.root()).await;
    let step = totp::step(env.clock.now().as_secs());
    let codes = CodePair {
        code1: totp::code_at_step(&seed, step - 1, 6).parse().unwrap(),
        code2: totp::code_at_step(&seed, step, 6).parse().unwrap(),
    };
    let name = Some("alice".parse().unwrap());
    resync_mfa_device(
        &env.iam,
        &root,
        name,
        &serial.as_str().parse().unwrap(),
        &codes,
    )
    .await
    .unwrap();
    // A step on (past the codes resync used), a good code works without
    // waiting out the lock.
    env.clock.advance(Duration::from_secs(totp::STEP_SECS));
    let m = get_session_token(&env.sts, &alice, with_code(&serial, &env.code(&seed)))
        .await
        .unwrap();
    assert!(m.session.mfa.is_some());
}

#[tokio::test]
async fn mfa_from_get_session_token_satisfies_a_role_that_requires_it() {
    let env = Env::new().await;
    let alice = env.user("alice", Some(&allow("sts:AssumeRole", "*"))).await;
    let role = env
        .role(
            "admin",
            &trust(&arn(&env, &alice), &["sts:AssumeRole"], MFA),
        )
        .await;
    let (serial, seed) = env.mfa_device(&alice, "alice-phone").await;
    let plain = get_session_token(&env.sts, &alice, GetSessionToken::default())
        .await
        .unwrap();
    assert_err(
        env.assume(&env.session_caller(&plain), assume(&role, "s1"))
            .await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/alice is not authorized",
    );
    let input = GetSessionToken {
        request_id: "test-request".to_owned(),
        duration: Some(900),
        mfa: MfaInput {
            serial: Some(serial.as_str().parse().unwrap()),
            code: Some(env.code(&seed).parse().unwrap()),
        },
    };
    let with_mfa = get_session_token(&env.sts, &alice, input).await.unwrap();
    let m = env
        .assume(&env.session_caller(&with_mfa), assume(&role, "s1"))
        .await
        .unwrap();
    assert_eq!(m.session.mfa, with_mfa.session.mfa);
    assert_eq!(m.session.chain_depth, 1);
    // With propagation off, the role session carries no MFA.
    let mut env = env;
    env.sts.settings.mfa_into_role_sessions = false;
    let open = env
        .role("open", &trust(&arn(&env, &alice), &["sts:AssumeRole"], ""))
        .await;
    let m = env
        .assume(&env.session_caller(&with_mfa), assume(&open, "s2"))
        .await
        .unwrap();
    assert!(m.session.mfa.is_none());
}
