//! Running argon2 off the async runtime, a few at a time.
//!
//! Owns: [`hash`] (a new password's hash, salted from [`Iam::entropy`]) and
//! [`blocking`], which runs a password computation (hash, verification,
//! reuse check) on tokio's blocking pool under [`HASH_PERMITS`]. Each
//! argon2id computation takes 19 MiB and tens of milliseconds: on a
//! runtime worker it would stall every request behind it, and without a
//! bound a burst of sign-ins or password changes would take memory
//! without limit. May import `domain`, `service::error` and tokio.

use tokio::sync::Semaphore;

use crate::domain::password::{self, PasswordHash, SALT_LEN};
use crate::domain::secret::Password;
use crate::service::error::ServiceError;
use crate::service::iam::Iam;

/// Password computations running at once, at most (4 × 19 MiB).
pub const HASH_PERMITS: usize = 4;

static PERMITS: Semaphore = Semaphore::const_new(HASH_PERMITS);

/// Runs `work` on the blocking pool once a permit is free.
///
/// # Errors
///
/// `InternalFailure` if the permits are closed (never) or the task
/// panicked.
pub async fn blocking<T, F>(work: F) -> Result<T, ServiceError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let _permit = PERMITS
        .acquire()
        .await
        .map_err(|_| ServiceError::internal("the password hashing permits are closed"))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ServiceError::internal(format!("password hashing task failed: {e}")))
}

/// The argon2id hash of `password` with a fresh salt from the CSPRNG.
///
/// # Errors
///
/// `InternalFailure` when the random source or argon2 fails.
pub async fn hash(iam: &Iam, password: Password) -> Result<PasswordHash, ServiceError> {
    let mut salt = [0_u8; SALT_LEN];
    iam.entropy.fill(&mut salt)?;
    blocking(move || password::hash_password(&password, &salt))
        .await?
        .map_err(ServiceError::internal)
}
