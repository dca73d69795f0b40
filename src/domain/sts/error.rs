//! Errors of the STS request rules.
//!
//! Owns: [`StsRuleError`], one variant per broken rule. Messages are
//! lowercase and name no Rust type; the AWS text a caller sees is chosen
//! where the service layer converts them (`service::error`). Pure.

/// Why an STS request breaks a rule of reference 1.3 or 1.6.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StsRuleError {
    /// `DurationSeconds` is below the minimum of the action.
    #[error("duration {requested}s is below the minimum of {min}s")]
    DurationTooShort {
        /// Seconds asked for.
        requested: u32,
        /// The minimum.
        min: u32,
    },
    /// `DurationSeconds` is above the action's maximum.
    #[error("duration {requested}s is above the maximum of {max}s")]
    DurationTooLong {
        /// Seconds asked for.
        requested: u32,
        /// The maximum.
        max: u32,
    },
    /// `DurationSeconds` exceeds the role's `MaxSessionDuration`.
    #[error("duration {requested}s exceeds the role's maximum session duration {max}s")]
    ExceedsRoleMaximum {
        /// Seconds asked for.
        requested: u32,
        /// The role's maximum.
        max: u32,
    },
    /// A chained `AssumeRole` asks for more than one hour.
    #[error("duration {requested}s exceeds the one hour limit of role chaining")]
    ExceedsChainingLimit {
        /// Seconds asked for.
        requested: u32,
    },
    /// More than 50 tags or transitive tag keys.
    #[error("{count} {what} exceed the limit of {max}")]
    TooManyTags {
        /// `tags` or `transitive tag keys`.
        what: &'static str,
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A tag key starts with `aws:`.
    #[error("tag key {key} is in the reserved aws: namespace")]
    ReservedTagKey {
        /// The key.
        key: String,
    },
    /// Two tags share a key (keys compare case-insensitively).
    #[error("tag key {key} is given twice")]
    DuplicateTagKey {
        /// The key, as given the second time.
        key: String,
    },
    /// A transitive tag key names no tag of the request.
    #[error("transitive tag key {key} is not a key of the requested tags")]
    TransitiveKeyNotInTags {
        /// The key.
        key: String,
    },
    /// A requested tag has the key of a transitive tag inherited from the
    /// calling session.
    #[error("tag key {key} would override a transitive tag of the calling session")]
    OverridesTransitiveTag {
        /// The key.
        key: String,
    },
}
