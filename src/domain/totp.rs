//! Time-based one-time passwords for virtual MFA devices (RFC 6238 over
//! RFC 4226): HMAC-SHA1, 6 digits, 30-second steps, one step of drift
//! either side when verifying.
//!
//! Owns: computing and verifying codes from a seed and a time given by the
//! caller (no clock here), and the two-consecutive-codes rule of
//! `EnableMFADevice`. Codes are compared in constant time. Which steps were
//! already used is the service's business (`ReplayGuard`, the device's
//! `last_accepted_step`). Pure: std, ring's HMAC and subtle.
//! Spec: reference section 10; RFC 6238, RFC 4226.

use ring::hmac;
use subtle::ConstantTimeEq;

/// Seconds per time step.
pub const STEP_SECS: u64 = 30;

/// Digits per code.
pub const DIGITS: usize = 6;

/// Steps of drift accepted either side of now.
pub const DRIFT_STEPS: u64 = 1;

/// The time step of `unix_secs`.
pub fn step(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

/// The code of `seed` at time step `step`, `digits` digits long (RFC 4226
/// dynamic truncation), zero-padded.
pub fn code_at_step(seed: &[u8], step: u64, digits: usize) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, seed);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let mut word = [0_u8; 4];
    for (i, b) in word.iter_mut().enumerate() {
        *b = mac.get(offset + i).copied().unwrap_or(0);
    }
    let binary = u32::from_be_bytes(word) & 0x7fff_ffff;
    let modulus = 10_u64.pow(u32::try_from(digits).unwrap_or(9).min(9));
    format!("{:0width$}", u64::from(binary) % modulus, width = digits)
}

/// The 6-digit code of `seed` at `unix_secs`.
pub fn code(seed: &[u8], unix_secs: u64) -> String {
    code_at_step(seed, step(unix_secs), DIGITS)
}

/// Whether `candidate` is the code of `seed` at `step` (constant time).
fn matches(seed: &[u8], step: u64, candidate: &str) -> bool {
    let expected = code_at_step(seed, step, DIGITS);
    expected.as_bytes().ct_eq(candidate.as_bytes()).into()
}

/// The steps tried around `now_step`, oldest first.
fn window(now_step: u64) -> impl Iterator<Item = u64> {
    now_step.saturating_sub(DRIFT_STEPS)..=now_step.saturating_add(DRIFT_STEPS)
}

/// The step at which `candidate` is `seed`'s code, within one step of
/// `unix_secs`; `None` when it is no valid code.
pub fn verify(seed: &[u8], candidate: &str, unix_secs: u64) -> Option<u64> {
    window(step(unix_secs)).find(|s| matches(seed, *s, candidate))
}

/// `EnableMFADevice`'s rule: `code2` is the code of a step within one step
/// of now and `code1` the code of the step just before it. Returns the
/// step of `code2` (the last step used).
pub fn verify_consecutive(seed: &[u8], code1: &str, code2: &str, unix_secs: u64) -> Option<u64> {
    window(step(unix_secs))
        .filter(|s| *s > 0)
        .find(|s| matches(seed, *s, code2) && matches(seed, s - 1, code1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_sha1_vectors() {
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (t, expected) in vectors {
            assert_eq!(code_at_step(SEED, step(t), 8), expected, "t={t}");
            assert_eq!(Some(code(SEED, t).as_str()), expected.get(2..), "t={t}");
        }
    }

    #[test]
    fn verify_accepts_one_step_of_drift() {
        let t = 1_111_111_111;
        let now = code(SEED, t);
        assert_eq!(verify(SEED, &now, t), Some(step(t)));
        assert_eq!(verify(SEED, &now, t + 30), Some(step(t)));
        assert_eq!(verify(SEED, &now, t - 30), Some(step(t)));
        assert_eq!(verify(SEED, &now, t + 60), None);
        assert_eq!(verify(SEED, "000000", t), None);
        assert_eq!(verify(SEED, "12345", t), None);
    }

    #[test]
    fn consecutive_codes() {
        let t = 1_111_111_111;
        let c1 = code(SEED, t - 30);
        let c2 = code(SEED, t);
        assert_eq!(verify_consecutive(SEED, &c1, &c2, t), Some(step(t)));
        assert_eq!(verify_consecutive(SEED, &c2, &c1, t), None);
        assert_eq!(verify_consecutive(SEED, &c2, &c2, t), None);
        let far = code(SEED, t - 90);
        assert_eq!(verify_consecutive(SEED, &far, &c2, t), None);
    }
}
