//! A dudect-style check (Reparaz, Balasch, Verbauwhede, "Dude, is my code
//! constant time?", 2017) that SigV4's signature comparison
//! (`Signature::matches`, `subtle::ConstantTimeEq`) takes as long for a
//! presented signature equal to the expected one as for one that differs
//! in its first character.
//!
//! Two classes of input are interleaved in a random order; each sample
//! times a batch of comparisons; the slowest samples (over the 90th
//! percentile of all) are cropped as interrupt noise; Welch's t statistic
//! between the classes must stay under [`T_THRESHOLD`]. As a control, the
//! same harness must *detect* an early-exit byte loop on the same inputs,
//! so a pass is not just a blind harness.
//!
//! Timing is noise on a shared machine, so the test is `#[ignore]`d and
//! run on purpose, in release: `make timing` (SECURITY.md records a run).
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a broken fixture or an empty sample should panic"
)]

use std::hint::black_box;

use stsd::domain::secret::{SecretAccessKey, SigningKey};
use stsd::domain::sigv4::{Signature, sign};

/// dudect's bound: |t| above it is evidence of a timing difference.
const T_THRESHOLD: f64 = 4.5;
/// Samples per run, both classes together.
const SAMPLES: usize = 400_000;
/// Comparisons per sample (one comparison is a few ns: below the timer's
/// resolution).
const BATCH: usize = 16;

/// Welch's t statistic of two samples.
fn welch_t(a: &[f64], b: &[f64]) -> f64 {
    let stats = |x: &[f64]| {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (n, mean, var)
    };
    let ((na, ma, va), (nb, mb, vb)) = (stats(a), stats(b));
    (ma - mb) / (va / na + vb / nb).sqrt()
}

/// A xorshift generator: the class order must not be predictable by the
/// branch predictor, and need not be more than that.
struct XorShift(u64);

impl XorShift {
    fn bit(&mut self) -> bool {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 & 1 == 1
    }
}

/// |t| between "equal" and "first character differs" for `compare`.
#[expect(
    clippy::disallowed_types,
    reason = "a timing measurement needs the monotonic clock itself"
)]
fn t_statistic(compare: impl Fn(&str) -> bool, equal: &str, differs: &str) -> f64 {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut times: Vec<(bool, f64)> = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let class = rng.bit();
        let input = if class { equal } else { differs };
        let start = std::time::Instant::now();
        for _ in 0..BATCH {
            black_box(compare(black_box(input)));
        }
        times.push((class, start.elapsed().as_nanos() as f64));
    }
    let mut sorted: Vec<f64> = times.iter().map(|(_, t)| *t).collect();
    sorted.sort_by(f64::total_cmp);
    let crop = sorted[sorted.len() * 9 / 10];
    let pick = |c: bool| -> Vec<f64> {
        times
            .iter()
            .filter(|(k, t)| *k == c && *t <= crop)
            .map(|(_, t)| *t)
            .collect()
    };
    welch_t(&pick(true), &pick(false)).abs()
}

/// The early-exit comparison SigV4 must not use (the control).
fn leaky_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    for (x, y) in a.iter().zip(b) {
        if black_box(x) != black_box(y) {
            return false;
        }
        // Work per equal byte, as a byte-wise loop with more to do would.
        black_box(x.wrapping_mul(*y));
    }
    true
}

fn expected() -> (Signature, String, String) {
    let secret: SecretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".parse().unwrap();
    let key = SigningKey::derive(&secret, "20150830", "us-east-1", "sts");
    let signature = sign(&key, "AWS4-HMAC-SHA256\n20150830T123600Z\nscope\nhash");
    let equal = signature.as_str().to_owned();
    let first = if equal.starts_with('0') { "1" } else { "0" };
    let differs = format!("{first}{}", equal.get(1..).unwrap());
    (signature, equal, differs)
}

#[test]
#[ignore = "timing: run with `make timing` (release, quiet machine)"]
fn signature_comparison_is_constant_time() {
    let (signature, equal, differs) = expected();
    let control = t_statistic(
        |p| leaky_eq(signature.as_str().as_bytes(), p.as_bytes()),
        &equal,
        &differs,
    );
    let t = t_statistic(|p| signature.matches(p), &equal, &differs);
    println!(
        "dudect: Signature::matches |t| = {t:.2}; early-exit control |t| = {control:.2} ({SAMPLES} samples of {BATCH}, threshold {T_THRESHOLD})"
    );
    assert!(
        control > T_THRESHOLD,
        "the harness cannot see the early-exit control (|t| = {control:.2}): no verdict"
    );
    assert!(t < T_THRESHOLD, "Signature::matches leaks: |t| = {t:.2}");
}

/// The comparison itself is right (this part always runs).
#[test]
fn signature_comparison_decides() {
    let (signature, equal, differs) = expected();
    assert!(signature.matches(&equal));
    assert!(!signature.matches(&differs));
    assert!(!signature.matches(equal.get(..63).unwrap()));
    assert!(!signature.matches(&format!("{equal}0")));
    assert!(!signature.matches(&equal.to_uppercase()));
}
