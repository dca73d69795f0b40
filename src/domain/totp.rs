//! Time-based one-time passwords for virtual MFA devices (RFC 6238 over
//! RFC 4226): HMAC-SHA1, 6 digits, 30-second steps, one step of drift
//! either side when verifying.
//!
//! Owns: computing and verifying codes from a seed and a time given by the
//! caller (no clock here); the two-consecutive-codes rule of
//! `EnableMFADevice` and `ResyncMFADevice` over a [`Window`] of steps; how
//! long a used step must be remembered ([`replay_not_after`]); and the
//! `otpauth://` URI an authenticator app reads ([`provisioning_uri`]).
//! Codes are compared in constant time. Which steps were already used is
//! the service's business (`ReplayGuard`, the device's
//! `last_accepted_step`). Pure: std, ring's HMAC, subtle, zeroize and
//! SigV4's percent-encoding.
//! Spec: reference section 10; RFC 6238, RFC 4226; the Key URI format of
//! Google Authenticator (`otpauth://totp/LABEL?secret=…&issuer=…`).

use ring::hmac;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::domain::sigv4::percent_encode_into;

/// Seconds per time step.
pub const STEP_SECS: u64 = 30;

/// Digits per code.
pub const DIGITS: usize = 6;

/// Steps of drift accepted either side of now.
pub const DRIFT_STEPS: u64 = 1;

/// Steps searched either side of now by `ResyncMFADevice`, whose purpose
/// is to find a device whose clock has drifted (reference 10 recommends a
/// wider search for resync only; AWS's width is undocumented).
pub const RESYNC_STEPS: u64 = 10;

/// The farthest a step any rule accepts lies before now, in steps: a
/// resync's first code (`RESYNC_STEPS + 1`), or a later verification
/// centred on a drift of `-RESYNC_STEPS` (`RESYNC_STEPS + DRIFT_STEPS`).
/// One more step of margin is added.
const MAX_REACH: u64 = RESYNC_STEPS + DRIFT_STEPS + 1;

/// The steps a pair of codes is looked for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The step searched around: now's, shifted by the device's drift.
    pub center: u64,
    /// Steps searched either side of `center`.
    pub radius: u64,
    /// The earliest step a code may belong to: one past the last step the
    /// device accepted, so no code is accepted twice.
    pub first_allowed: u64,
}

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
    let expected = Zeroizing::new(code_at_step(seed, step, DIGITS));
    expected.as_bytes().ct_eq(candidate.as_bytes()).into()
}

// === impl Window ===

impl Window {
    /// `radius` steps either side of the step of `unix_secs` shifted by
    /// `drift` steps, any step allowed.
    pub fn around(unix_secs: u64, drift: i64, radius: u64) -> Self {
        Self {
            center: step(unix_secs).saturating_add_signed(drift),
            radius,
            first_allowed: 0,
        }
    }

    /// The same window without `last` and the steps before it.
    #[must_use]
    pub fn after(self, last: Option<u64>) -> Self {
        Self {
            first_allowed: last.map_or(0, |l| l.saturating_add(1)),
            ..self
        }
    }

    /// The steps searched, oldest first.
    fn steps(self) -> impl Iterator<Item = u64> {
        self.center.saturating_sub(self.radius)..=self.center.saturating_add(self.radius)
    }
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

/// The step of `window` (at or after `window.first_allowed`) at which
/// `candidate` is `seed`'s code, oldest first; `None` when it is none.
/// How STS checks the `TokenCode` of AssumeRole and GetSessionToken: the
/// window is one step either side of now shifted by the device's drift,
/// after the device's last accepted step.
pub fn find(seed: &[u8], candidate: &str, window: Window) -> Option<u64> {
    window
        .steps()
        .filter(|s| *s >= window.first_allowed)
        .find(|s| matches(seed, *s, candidate))
}

/// The two-consecutive-codes rule: `code2` is the code of a step in
/// `window` and `code1` the code of the step just before it, both at or
/// after `window.first_allowed`. Returns the step of `code2` (the later
/// of the two steps used); `None` when the codes are wrong, stale,
/// reversed, twice the same or already used.
pub fn find_consecutive(seed: &[u8], code1: &str, code2: &str, window: Window) -> Option<u64> {
    window
        .steps()
        .filter(|s| *s > window.first_allowed)
        .find(|s| matches(seed, *s, code2) && matches(seed, s - 1, code1))
}

/// `EnableMFADevice`'s rule: [`find_consecutive`] within one step of
/// `unix_secs`. Returns the step of `code2`.
pub fn verify_consecutive(seed: &[u8], code1: &str, code2: &str, unix_secs: u64) -> Option<u64> {
    find_consecutive(
        seed,
        code1,
        code2,
        Window::around(unix_secs, 0, DRIFT_STEPS),
    )
}

/// The Unix time after which no rule here can accept step `step` any more
/// (the step lies more than the widest window before now): how long a
/// replay guard must remember that the step was used.
pub fn replay_not_after(step: u64) -> u64 {
    step.saturating_add(MAX_REACH + 1).saturating_mul(STEP_SECS)
}

/// The Key URI authenticator apps read from a QR code:
/// `otpauth://totp/ISSUER:DEVICE@ACCOUNT?secret=BASE32&issuer=ISSUER`.
///
/// The label is AWS's `$virtualMFADeviceName@$AccountName` prefixed by the
/// issuer, as the Key URI format recommends, so apps group the entry under
/// the issuer. Every part is percent-encoded (RFC 3986 unreserved
/// characters stay). The defaults (SHA1, 6 digits, 30 s) are not spelled
/// out. The result holds the seed, so it zeroizes on drop.
pub fn provisioning_uri(
    issuer: &str,
    device: &str,
    account: &str,
    seed_base32: &str,
) -> Zeroizing<String> {
    let mut uri = Zeroizing::new(String::with_capacity(
        64 + 6 * (issuer.len() + device.len() + account.len()) + seed_base32.len(),
    ));
    uri.push_str("otpauth://totp/");
    percent_encode_into(&mut uri, issuer.as_bytes(), false);
    uri.push(':');
    percent_encode_into(&mut uri, device.as_bytes(), false);
    uri.push('@');
    percent_encode_into(&mut uri, account.as_bytes(), false);
    uri.push_str("?secret=");
    percent_encode_into(&mut uri, seed_base32.as_bytes(), false);
    uri.push_str("&issuer=");
    percent_encode_into(&mut uri, issuer.as_bytes(), false);
    uri
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
    fn find_searches_the_window_after_the_last_accepted_step() {
        let t = 1_111_111_110;
        let n = step(t);
        let at = |s: u64| code_at_step(SEED, s, 6);
        let w = Window::around(t, 0, DRIFT_STEPS);
        assert_eq!(find(SEED, &at(n), w), Some(n));
        assert_eq!(find(SEED, &at(n - 1), w), Some(n - 1));
        assert_eq!(find(SEED, &at(n + 1), w), Some(n + 1));
        assert_eq!(find(SEED, &at(n + 2), w), None);
        assert_eq!(find(SEED, &at(n), w.after(Some(n - 1))), Some(n));
        assert_eq!(find(SEED, &at(n), w.after(Some(n))), None, "used");
        let drifted = Window::around(t, 3, DRIFT_STEPS);
        assert_eq!(find(SEED, &at(n + 3), drifted), Some(n + 3));
        assert_eq!(find(SEED, &at(n), drifted), None);
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

    #[test]
    fn consecutive_codes_at_the_window_edges() {
        let t = 1_111_111_110; // the first second of step 37_037_037
        let n = step(t);
        let pair = |s: u64| (code_at_step(SEED, s - 1, 6), code_at_step(SEED, s, 6));
        let find = |s: u64, w: Window| {
            let (c1, c2) = pair(s);
            find_consecutive(SEED, &c1, &c2, w)
        };
        let w = Window::around(t, 0, DRIFT_STEPS);
        assert_eq!(find(n - 1, w), Some(n - 1), "second code one step old");
        assert_eq!(find(n + 1, w), Some(n + 1), "second code one step ahead");
        assert_eq!(find(n - 2, w), None, "two steps old");
        assert_eq!(find(n + 2, w), None, "two steps ahead");
        let wide = Window::around(t, 0, RESYNC_STEPS);
        assert_eq!(find(n - 10, wide), Some(n - 10));
        assert_eq!(find(n + 10, wide), Some(n + 10));
        assert_eq!(find(n - 11, wide), None);
        let drifted = Window::around(t, 5, DRIFT_STEPS);
        assert_eq!(find(n + 6, drifted), Some(n + 6));
        assert_eq!(find(n, drifted), None);
    }

    #[test]
    fn steps_already_accepted_are_refused() {
        let t = 1_111_111_111;
        let n = step(t);
        let (c1, c2) = (code_at_step(SEED, n - 1, 6), code_at_step(SEED, n, 6));
        let w = Window::around(t, 0, DRIFT_STEPS);
        assert_eq!(
            find_consecutive(SEED, &c1, &c2, w.after(Some(n - 2))),
            Some(n)
        );
        assert_eq!(find_consecutive(SEED, &c1, &c2, w.after(Some(n - 1))), None);
        assert_eq!(find_consecutive(SEED, &c1, &c2, w.after(Some(n))), None);
        let (d1, d2) = (code_at_step(SEED, n, 6), code_at_step(SEED, n + 1, 6));
        assert_eq!(
            find_consecutive(SEED, &d1, &d2, w.after(Some(n - 1))),
            Some(n + 1)
        );
    }

    #[test]
    fn replay_entries_outlive_every_window() {
        let s = 1_000;
        let until = replay_not_after(s);
        // The widest rule (resync) reaches RESYNC_STEPS + 1 steps back.
        let last_accepting_step = s + RESYNC_STEPS + 1;
        assert!(until >= (last_accepting_step + 1) * STEP_SECS);
        let t = last_accepting_step * STEP_SECS;
        let (c1, c2) = (code_at_step(SEED, s, 6), code_at_step(SEED, s + 1, 6));
        assert_eq!(
            find_consecutive(SEED, &c1, &c2, Window::around(t, 0, RESYNC_STEPS)),
            Some(s + 1)
        );
    }

    #[test]
    fn provisioning_uri_is_the_key_uri_format() {
        let uri = provisioning_uri("stsd", "alice+phone", "123456789012", "GEZDGNBV");
        assert_eq!(
            uri.as_str(),
            "otpauth://totp/stsd:alice%2Bphone@123456789012?secret=GEZDGNBV&issuer=stsd"
        );
    }
}
