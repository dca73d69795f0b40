//! The system CSPRNG as a [`RandomSource`].
//!
//! Owns: [`OsRandom`], ring's `SystemRandom` behind the domain's randomness
//! port. `RandomSource::fill` cannot fail, so a failure is remembered and
//! the caller must check [`OsRandom::failed`] before using what was made.

use ring::rand::{SecureRandom as _, SystemRandom};

use crate::domain::ids::RandomSource;

/// The operating system's CSPRNG.
#[derive(Debug)]
pub(crate) struct OsRandom {
    rng: SystemRandom,
    failed: bool,
}

// === impl OsRandom ===

impl OsRandom {
    pub(crate) fn new() -> Self {
        Self {
            rng: SystemRandom::new(),
            failed: false,
        }
    }

    /// Whether any fill failed; if so, nothing generated may be used.
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }
}

impl RandomSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        if self.rng.fill(buf).is_err() {
            self.failed = true;
            buf.fill(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_with_random_bytes() {
        let mut rng = OsRandom::new();
        let (mut a, mut b) = ([0_u8; 32], [0_u8; 32]);
        rng.fill(&mut a);
        rng.fill(&mut b);
        assert!(!rng.failed());
        assert_ne!(a, b);
    }
}
