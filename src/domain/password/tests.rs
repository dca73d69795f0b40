use super::*;
use crate::domain::secret::Password;

/// Cheap parameters for tests that hash many passwords.
const CHEAP: HashParams = HashParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

fn pw(text: &str) -> Password {
    text.parse().unwrap()
}

fn cheap(text: &str, salt: u8) -> PasswordHash {
    hash_password_with(CHEAP, &pw(text), &[salt; SALT_LEN]).unwrap()
}

fn policy() -> PasswordPolicy {
    PasswordPolicy::default()
}

fn broken(p: Option<&PasswordPolicy>, text: &str) -> Vec<Rule> {
    match check_password(p, &pw(text), &["123456789012", "example-corp"]) {
        Ok(()) => vec![],
        Err(v) => v.0,
    }
}

// --- hashing ---------------------------------------------------------------

#[test]
fn hashes_are_argon2id_phc_strings_with_owasp_parameters() {
    let h = hash_password(&pw("correct horse"), &[7; SALT_LEN]).unwrap();
    assert!(
        h.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        h.as_phc()
    );
    assert_eq!(h.params(), Some(HashParams::OWASP));
    assert!(h.matches(&pw("correct horse")));
    assert!(!h.matches(&pw("correct horsE")));
    assert!(!h.matches(&pw("correct horse ")));
    assert!(!h.as_phc().contains("correct"));
}

#[test]
fn the_salt_makes_each_hash_different() {
    let (a, b) = (cheap("same", 1), cheap("same", 2));
    assert_ne!(a, b);
    assert!(a.matches(&pw("same")) && b.matches(&pw("same")));
    assert_eq!(cheap("same", 1), a, "deterministic for a given salt");
}

#[test]
fn debug_never_shows_a_hash() {
    let h = cheap("secret", 3);
    let login = LoginPassword::new(h.clone(), 10, false);
    let shown = format!("{h:?} {login:?} {login:#?}");
    assert!(!shown.contains("argon2"), "{shown}");
    let output = h.as_phc().rsplit('$').next().unwrap();
    assert!(!shown.contains(output), "{shown}");
}

#[test]
fn stored_hashes_round_trip_through_serde_and_are_checked() {
    let h = cheap("pw", 4);
    let json = serde_json::to_string(&h).unwrap();
    assert_eq!(serde_json::from_str::<PasswordHash>(&json).unwrap(), h);
    for bad in [
        "not a hash",
        // argon2i, not argon2id.
        "$argon2i$v=19$m=64,t=1,p=1$AQEBAQEBAQEBAQEBAQEBAQ$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
        // Version 16.
        "$argon2id$v=16$m=64,t=1,p=1$AQEBAQEBAQEBAQEBAQEBAQ$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
        // No output.
        "$argon2id$v=19$m=64,t=1,p=1$AQEBAQEBAQEBAQEBAQEBAQ",
        // 4 GiB of memory.
        "$argon2id$v=19$m=4194304,t=1,p=1$AQEBAQEBAQEBAQEBAQEBAQ$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
    ] {
        let err = PasswordHash::parse(bad).unwrap_err();
        assert!(matches!(err, PasswordError::MalformedHash { .. }), "{bad}");
        let json = serde_json::to_string(bad).unwrap();
        assert!(
            serde_json::from_str::<PasswordHash>(&json).is_err(),
            "{bad}"
        );
    }
    assert_eq!(PasswordHash::parse(h.as_phc()).unwrap(), h);
}

// --- the policy --------------------------------------------------------------

#[test]
fn policy_ranges_name_the_field() {
    assert_eq!(policy().validate(), Ok(()));
    for (p, field) in [
        (
            PasswordPolicy {
                minimum_length: 5,
                ..policy()
            },
            "MinimumPasswordLength",
        ),
        (
            PasswordPolicy {
                minimum_length: 129,
                ..policy()
            },
            "MinimumPasswordLength",
        ),
        (
            PasswordPolicy {
                max_age_days: Some(0),
                ..policy()
            },
            "MaxPasswordAge",
        ),
        (
            PasswordPolicy {
                max_age_days: Some(1096),
                ..policy()
            },
            "MaxPasswordAge",
        ),
        (
            PasswordPolicy {
                reuse_prevention: Some(25),
                ..policy()
            },
            "PasswordReusePrevention",
        ),
    ] {
        let err = p.validate().unwrap_err();
        assert!(
            matches!(err, PasswordError::PolicyRange { field: f, .. } if f == field),
            "{err:?}"
        );
        assert!(err.to_string().starts_with(field), "{err}");
    }
    let edges = PasswordPolicy {
        minimum_length: 128,
        max_age_days: Some(1095),
        reuse_prevention: Some(24),
        ..policy()
    };
    assert_eq!(edges.validate(), Ok(()));
}

#[test]
fn custom_policy_rules_each_fail_alone() {
    let strict = PasswordPolicy {
        minimum_length: 12,
        require_symbols: true,
        require_numbers: true,
        require_uppercase: true,
        require_lowercase: true,
        ..policy()
    };
    let p = Some(&strict);
    assert_eq!(broken(p, "Abcdefgh1234!"), vec![]);
    assert_eq!(broken(p, "Abcdefg1234!"), vec![], "exactly 12");
    assert_eq!(broken(p, "Abcdefg123!"), vec![Rule::MinimumLength(12)]);
    assert_eq!(
        broken(p, "Abcdefgh1234."),
        vec![Rule::Symbol],
        "'.' is no symbol"
    );
    assert_eq!(broken(p, "Abcdefghijkl!"), vec![Rule::Number]);
    assert_eq!(broken(p, "abcdefgh1234!"), vec![Rule::Uppercase]);
    assert_eq!(broken(p, "ABCDEFGH1234!"), vec![Rule::Lowercase]);
    assert_eq!(
        broken(p, "short"),
        vec![
            Rule::MinimumLength(12),
            Rule::Symbol,
            Rule::Number,
            Rule::Uppercase
        ]
    );
    for symbol in SYMBOLS.chars() {
        assert_eq!(
            broken(p, &format!("Abcdefgh1234{symbol}")),
            vec![],
            "{symbol}"
        );
    }
    // Non-ASCII letters are neither upper nor lower case for IAM.
    assert_eq!(
        broken(p, "\u{c9}\u{e9}\u{c8}\u{e8}\u{c0}\u{e0}\u{d9}\u{f9}1234!"),
        vec![Rule::Uppercase, Rule::Lowercase]
    );
    // A policy asking nothing but the minimum accepts anything that long.
    assert_eq!(broken(Some(&policy()), "aaaaaa"), vec![]);
    assert_eq!(
        broken(Some(&policy()), "aaaaa"),
        vec![Rule::MinimumLength(6)]
    );
}

#[test]
fn aws_default_policy_without_a_policy() {
    assert_eq!(broken(None, "Abcdefg1"), vec![], "8 chars, 3 classes");
    assert_eq!(broken(None, "abcdef1!"), vec![]);
    assert_eq!(broken(None, "Abcdef1"), vec![Rule::MinimumLength(8)]);
    assert_eq!(
        broken(None, "abcdefgh1"),
        vec![Rule::CharacterClasses(3)],
        "two classes"
    );
    assert_eq!(
        broken(None, "Example-Corp"),
        vec![Rule::NotAccountName],
        "the alias, any case"
    );
}

#[test]
fn violation_messages_name_each_rule() {
    let v = Violations(vec![
        Rule::MinimumLength(12),
        Rule::Symbol,
        Rule::NotReused(3),
    ]);
    assert_eq!(
        v.to_string(),
        "Password should have a minimum length of 12; Password should have at least one symbol; Password should not be one of the 3 most recent passwords."
    );
    assert_eq!(
        Violations(vec![Rule::NotReused(1)]).to_string(),
        "Password should not be the current password."
    );
}

// --- history and expiry -------------------------------------------------------

#[test]
fn history_keeps_the_latest_passwords() {
    let mut login = LoginPassword::new(cheap("p0", 0), 100, true);
    for i in 1..=30_u8 {
        login = login.replaced(cheap(&format!("p{i}"), i), 100 + u64::from(i), false);
    }
    assert_eq!(login.previous.len(), REMEMBERED_PASSWORDS - 1);
    assert_eq!(login.set_at, 130);
    assert!(!login.reset_required);
    assert!(login.reused(&pw("p30"), 1), "the current one");
    assert!(!login.reused(&pw("p29"), 1));
    assert!(login.reused(&pw("p29"), 2));
    assert!(login.reused(&pw("p7"), 24), "the 24th latest");
    assert!(!login.reused(&pw("p6"), 24), "forgotten");
    assert!(!login.reused(&pw("p30"), 0), "no prevention");
}

#[test]
fn expiry_counts_from_when_the_password_was_set() {
    let login = LoginPassword::new(cheap("p", 1), 1_000, false);
    let p = PasswordPolicy {
        max_age_days: Some(1),
        ..policy()
    };
    assert_eq!(login.expires_at(Some(&p)), Some(1_000 + 86_400));
    assert_eq!(login.expires_at(Some(&policy())), None);
    assert_eq!(login.expires_at(None), None);
    assert!(!login.is_expired(Some(&p), 1_000 + 86_399));
    assert!(login.is_expired(Some(&p), 1_000 + 86_400));
}

#[test]
fn verify_password_decides_in_order() {
    let now = 10_000;
    let mut login = LoginPassword::new(cheap("right", 5), now, false);
    assert_eq!(verify_password(&login, None, &pw("right"), now), Ok(()));
    assert_eq!(
        verify_password(&login, None, &pw("wrong"), now),
        Err(LoginError::WrongPassword)
    );
    login.reset_required = true;
    assert_eq!(
        verify_password(&login, None, &pw("right"), now),
        Err(LoginError::ResetRequired)
    );
    assert_eq!(
        verify_password(&login, None, &pw("wrong"), now),
        Err(LoginError::WrongPassword),
        "state is told only to who knows the password"
    );
    login.reset_required = false;
    let soft = PasswordPolicy {
        max_age_days: Some(1),
        ..policy()
    };
    let later = now + 86_400;
    assert_eq!(
        verify_password(&login, Some(&soft), &pw("right"), later - 1),
        Ok(())
    );
    assert_eq!(
        verify_password(&login, Some(&soft), &pw("right"), later),
        Err(LoginError::Expired)
    );
    let hard = PasswordPolicy {
        hard_expiry: Some(true),
        ..soft.clone()
    };
    assert_eq!(
        verify_password(&login, Some(&hard), &pw("right"), later),
        Err(LoginError::ExpiredHard)
    );
    assert_eq!(
        verify_password(&login, Some(&hard), &pw("wrong"), later),
        Err(LoginError::WrongPassword)
    );
    assert!(LoginError::Expired.may_change_password());
    assert!(LoginError::ResetRequired.may_change_password());
    assert!(!LoginError::ExpiredHard.may_change_password());
    assert!(!LoginError::WrongPassword.may_change_password());
    assert_eq!(verify_without_profile(&pw("x")), LoginError::WrongPassword);
}
