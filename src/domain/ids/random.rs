//! The randomness port of the identifier generators.
//!
//! Owns: [`RandomSource`], the one way code in `domain::ids` gets random
//! bytes. The domain never seeds or owns an RNG: the composition root passes
//! a CSPRNG, tests pass a fixed sequence. Pure.

/// A source of uniformly random bytes.
///
/// Any `FnMut(&mut [u8])` is one, so a test can pass a closure.
pub trait RandomSource {
    /// Fills `buf` entirely with random bytes (from a CSPRNG in production).
    fn fill(&mut self, buf: &mut [u8]);
}

// === impl RandomSource ===

impl<F: FnMut(&mut [u8])> RandomSource for F {
    fn fill(&mut self, buf: &mut [u8]) {
        self(buf);
    }
}
