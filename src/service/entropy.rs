//! A buffer in front of the system CSPRNG, for the STS mint path.
//!
//! Owns: [`Pooled`], an [`Entropy`] that reads its source [`POOL`] bytes
//! at a time and hands every byte out once. Each mint asks for 64 bytes
//! (key id, secret, nonce); each read of the system CSPRNG is a system
//! call (1.6 % of the daemon's samples under the AssumeRole load, one
//! per mint), so one read now serves 64 mints. The bytes are the
//! source's, unchanged and in order; each is wiped as it is handed out,
//! and the rest when the pool is dropped. A failed read leaves the pool
//! empty (nothing of a partial read is used) and fails the caller, as the
//! source would.
//!
//! The trade-off: up to [`POOL`] bytes of future session secrets wait in
//! memory. Only the mint path uses a pool (session credentials, which
//! expire within hours); IAM's long-term secrets, MFA seeds and SSO
//! tokens read the system CSPRNG directly.

use parking_lot::Mutex;
use zeroize::Zeroize as _;

use crate::service::error::ServiceError;
use crate::service::iam::Entropy;

/// Bytes read from the source at a time.
pub const POOL: usize = 4096;

/// Requests longer than this go to the source directly.
const DIRECT: usize = POOL / 8;

/// An [`Entropy`] over `E`, read [`POOL`] bytes at a time.
pub struct Pooled<E> {
    source: E,
    pool: Mutex<Pool>,
}

struct Pool {
    bytes: Box<[u8; POOL]>,
    /// Bytes before this are used (and wiped).
    used: usize,
}

impl<E: Entropy> Pooled<E> {
    /// An empty pool over `source`; the first request fills it.
    pub fn new(source: E) -> Self {
        Self {
            source,
            pool: Mutex::new(Pool {
                bytes: Box::new([0; POOL]),
                used: POOL,
            }),
        }
    }
}

impl<E> std::fmt::Debug for Pooled<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pooled").finish_non_exhaustive()
    }
}

impl<E: Entropy> Entropy for Pooled<E> {
    fn fill(&self, mut buf: &mut [u8]) -> Result<(), ServiceError> {
        if buf.len() > DIRECT {
            return self.source.fill(buf);
        }
        let mut pool = self.pool.lock();
        while !buf.is_empty() {
            if pool.used == POOL {
                if let Err(e) = self.source.fill(pool.bytes.as_mut_slice()) {
                    pool.bytes.zeroize();
                    return Err(e);
                }
                pool.used = 0;
            }
            let n = buf.len().min(POOL - pool.used);
            let start = pool.used;
            let (out, rest) = std::mem::take(&mut buf).split_at_mut(n);
            // Fails closed: never hand out bytes that were not copied.
            let Some(src) = pool.bytes.get_mut(start..start + n) else {
                return Err(ServiceError::internal("the entropy pool is inconsistent"));
            };
            out.copy_from_slice(src);
            src.zeroize();
            pool.used += n;
            buf = rest;
        }
        Ok(())
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

    use super::*;

    /// Counts 0, 1, 2, … (mod 256) across reads, and the reads.
    #[derive(Debug, Default)]
    struct Counting {
        next: AtomicU8,
        reads: AtomicUsize,
        fail: AtomicBool,
    }

    impl Entropy for &Counting {
        fn fill(&self, buf: &mut [u8]) -> Result<(), ServiceError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            if self.fail.load(Ordering::SeqCst) {
                let half = buf.len() / 2;
                buf[..half].fill(0xAA);
                return Err(ServiceError::internal("gone"));
            }
            for b in buf {
                *b = self.next.fetch_add(1, Ordering::SeqCst);
            }
            Ok(())
        }
    }

    fn expected(from: usize, len: usize) -> Vec<u8> {
        (from..from + len).map(|i| (i % 256) as u8).collect()
    }

    #[test]
    fn hands_out_the_source_bytes_in_order_once_each_with_one_read_per_pool() {
        let source = Counting::default();
        let pooled = Pooled::new(&source);
        let mut seen = 0;
        // 64-byte requests, then odd sizes that straddle a refill.
        for len in std::iter::repeat_n(64, 70).chain([7, 1, 300, 5, 64]) {
            let mut buf = vec![0; len];
            pooled.fill(&mut buf).unwrap();
            assert_eq!(buf, expected(seen, len), "at {seen}");
            seen += len;
        }
        assert_eq!(source.reads.load(Ordering::SeqCst), seen.div_ceil(POOL));
        // Handed-out bytes are wiped from the pool.
        let pool = pooled.pool.lock();
        assert!(pool.bytes[..pool.used].iter().all(|&b| b == 0));
    }

    #[test]
    fn a_large_request_reads_the_source_directly() {
        let source = Counting::default();
        let pooled = Pooled::new(&source);
        let mut buf = vec![0; DIRECT + 1];
        pooled.fill(&mut buf).unwrap();
        assert_eq!(buf, expected(0, DIRECT + 1));
        assert_eq!(pooled.pool.lock().used, POOL, "the pool was not filled");
    }

    #[test]
    fn a_failed_read_fails_and_nothing_of_it_is_used() {
        let source = Counting::default();
        let pooled = Pooled::new(&source);
        source.fail.store(true, Ordering::SeqCst);
        let mut buf = [0; 64];
        assert!(pooled.fill(&mut buf).is_err());
        assert!(pooled.pool.lock().bytes.iter().all(|&b| b == 0));
        // The next request reads again and gets the source's bytes.
        source.fail.store(false, Ordering::SeqCst);
        pooled.fill(&mut buf).unwrap();
        assert_eq!(buf.to_vec(), expected(0, 64));
        assert_eq!(source.reads.load(Ordering::SeqCst), 2);
    }
}
