//! How long a minted session lives.
//!
//! Owns: the bounds and defaults of `DurationSeconds` for every minting
//! action as named constants, and the two rules that pick a lifetime:
//! [`role_session_duration`] (AssumeRole: 900 s up to the role's
//! `MaxSessionDuration`, one hour when role chaining) and
//! [`token_duration`] (GetSessionToken and GetFederationToken: 900 s to
//! 36 h, root clamped to one hour rather than refused). Pure.
//! Spec: reference 1.2 and 1.3.

use super::StsRuleError;

/// The shortest session of any action, in seconds.
pub const MIN_DURATION: u32 = 900;
/// AssumeRole's lifetime when `DurationSeconds` is absent.
pub const DEFAULT_ROLE_DURATION: u32 = 3_600;
/// The largest `DurationSeconds` of AssumeRole* (`roleDurationSecondsType`);
/// the role's own `MaxSessionDuration` usually binds first.
pub const MAX_ROLE_DURATION: u32 = 43_200;
/// The cap when the caller of AssumeRole is itself a temporary credential.
pub const CHAINED_MAX_DURATION: u32 = 3_600;
/// The largest `DurationSeconds` of GetSessionToken and GetFederationToken
/// (`durationSecondsType`).
pub const MAX_TOKEN_DURATION: u32 = 129_600;
/// GetSessionToken's and GetFederationToken's lifetime for an IAM user
/// when `DurationSeconds` is absent.
pub const DEFAULT_TOKEN_DURATION: u32 = 43_200;
/// Root's longest (and default) GetSessionToken/GetFederationToken session;
/// longer requests are clamped to it.
pub const ROOT_MAX_DURATION: u32 = 3_600;

/// The lifetime of an AssumeRole session: `requested` (default one hour),
/// at least [`MIN_DURATION`], at most one hour when `chained`, and at most
/// the role's `role_max`.
///
/// # Errors
///
/// [`StsRuleError::DurationTooShort`], [`StsRuleError::ExceedsChainingLimit`]
/// (checked before the role's maximum: it is the rule the caller can act
/// on), [`StsRuleError::ExceedsRoleMaximum`].
pub fn role_session_duration(
    requested: Option<u32>,
    role_max: u32,
    chained: bool,
) -> Result<u32, StsRuleError> {
    let d = requested.unwrap_or(DEFAULT_ROLE_DURATION);
    if d < MIN_DURATION {
        return Err(StsRuleError::DurationTooShort {
            requested: d,
            min: MIN_DURATION,
        });
    }
    if chained && d > CHAINED_MAX_DURATION {
        return Err(StsRuleError::ExceedsChainingLimit { requested: d });
    }
    if d > role_max.min(MAX_ROLE_DURATION) {
        return Err(StsRuleError::ExceedsRoleMaximum {
            requested: d,
            max: role_max,
        });
    }
    Ok(d)
}

/// The lifetime of a GetSessionToken or GetFederationToken session:
/// `requested` within [`MIN_DURATION`]..=[`MAX_TOKEN_DURATION`]; absent, 12
/// hours for a user and one hour for root; root's longer requests are
/// clamped to [`ROOT_MAX_DURATION`] (AWS clamps, it does not refuse).
///
/// # Errors
///
/// [`StsRuleError::DurationTooShort`] or [`StsRuleError::DurationTooLong`].
pub fn token_duration(requested: Option<u32>, root: bool) -> Result<u32, StsRuleError> {
    let default = if root {
        ROOT_MAX_DURATION
    } else {
        DEFAULT_TOKEN_DURATION
    };
    let d = requested.unwrap_or(default);
    if d < MIN_DURATION {
        return Err(StsRuleError::DurationTooShort {
            requested: d,
            min: MIN_DURATION,
        });
    }
    if d > MAX_TOKEN_DURATION {
        return Err(StsRuleError::DurationTooLong {
            requested: d,
            max: MAX_TOKEN_DURATION,
        });
    }
    Ok(if root { d.min(ROOT_MAX_DURATION) } else { d })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_sessions_default_to_one_hour_within_the_role_maximum() {
        assert_eq!(role_session_duration(None, 3_600, false), Ok(3_600));
        assert_eq!(role_session_duration(Some(900), 3_600, false), Ok(900));
        assert_eq!(
            role_session_duration(Some(43_200), 43_200, false),
            Ok(43_200)
        );
        assert_eq!(
            role_session_duration(Some(7_200), 3_600, false),
            Err(StsRuleError::ExceedsRoleMaximum {
                requested: 7_200,
                max: 3_600
            })
        );
        assert_eq!(
            role_session_duration(Some(899), 3_600, false),
            Err(StsRuleError::DurationTooShort {
                requested: 899,
                min: 900
            })
        );
    }

    #[test]
    fn chaining_caps_at_one_hour_whatever_the_role_allows() {
        assert_eq!(role_session_duration(None, 43_200, true), Ok(3_600));
        assert_eq!(role_session_duration(Some(3_600), 43_200, true), Ok(3_600));
        assert_eq!(
            role_session_duration(Some(3_601), 43_200, true),
            Err(StsRuleError::ExceedsChainingLimit { requested: 3_601 })
        );
        assert_eq!(
            role_session_duration(Some(7_200), 3_600, true),
            Err(StsRuleError::ExceedsChainingLimit { requested: 7_200 })
        );
    }

    #[test]
    fn token_durations_default_per_caller_and_clamp_root() {
        assert_eq!(token_duration(None, false), Ok(43_200));
        assert_eq!(token_duration(None, true), Ok(3_600));
        assert_eq!(token_duration(Some(129_600), false), Ok(129_600));
        assert_eq!(token_duration(Some(129_600), true), Ok(3_600));
        assert_eq!(token_duration(Some(1_000), true), Ok(1_000));
        assert!(token_duration(Some(899), false).is_err());
        assert!(token_duration(Some(899), true).is_err());
        assert_eq!(
            token_duration(Some(129_601), false),
            Err(StsRuleError::DurationTooLong {
                requested: 129_601,
                max: 129_600
            })
        );
    }
}
