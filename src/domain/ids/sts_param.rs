//! Identifiers that arrive as STS request parameters.
//!
//! Owns: [`RoleSessionName`], [`SourceIdentity`], [`ExternalId`],
//! [`FederatedUserName`] and [`SerialNumber`], with the lengths and
//! patterns of the STS model (reference 1.2). Pure.

use super::spec::{Spec, all, is_name_char, is_word, string_newtype};

/// The session-name pattern, `[\w+=,.@-]*`.
const SESSION_PATTERN: &str = r"[\w+=,.@-]*";

const ROLE_SESSION_NAME: Spec = Spec {
    member: "roleSessionName",
    min: 2,
    max: 64,
    pattern: SESSION_PATTERN,
    matches: |v| all(v, is_name_char),
};

string_newtype! {
    /// The `RoleSessionName` of an AssumeRole* call: 2–64 characters of
    /// `[\w+=,.@-]`. It is the last segment of the assumed-role ARN.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct RoleSessionName;
    spec = ROLE_SESSION_NAME;
}

const SOURCE_IDENTITY: Spec = Spec {
    member: "sourceIdentity",
    min: 2,
    max: 64,
    pattern: SESSION_PATTERN,
    matches: |v| all(v, is_name_char),
};

string_newtype! {
    /// A `SourceIdentity`: 2–64 characters of `[\w+=,.@-]`.
    ///
    /// AWS reserves the prefix `aws:`; since `:` is outside the pattern,
    /// the pattern check already rejects it and no separate rule is needed.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct SourceIdentity;
    spec = SOURCE_IDENTITY;
}

/// `[\w+=,.@:\/-]`: the external-ID class (session names plus `:` and `/`).
fn is_external_id_char(c: char) -> bool {
    is_name_char(c) || matches!(c, ':' | '/')
}

const EXTERNAL_ID: Spec = Spec {
    member: "externalId",
    min: 2,
    max: 1224,
    pattern: r"[\w+=,.@:\/-]*",
    matches: |v| all(v, is_external_id_char),
};

string_newtype! {
    /// An `ExternalId` for cross-account AssumeRole: 2–1224 characters of
    /// `[\w+=,.@:/-]`.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct ExternalId;
    spec = EXTERNAL_ID;
}

const FEDERATED_USER_NAME: Spec = Spec {
    member: "name",
    min: 2,
    max: 32,
    pattern: SESSION_PATTERN,
    matches: |v| all(v, is_name_char),
};

string_newtype! {
    /// The `Name` of a GetFederationToken call: 2–32 characters of
    /// `[\w+=,.@-]`. It is the last segment of the federated-user ARN.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct FederatedUserName;
    spec = FEDERATED_USER_NAME;
}

/// `[\w+=/:,.@-]`: serial numbers (hardware serials or MFA device ARNs).
fn is_serial_char(c: char) -> bool {
    is_word(c) || matches!(c, '+' | '=' | '/' | ':' | ',' | '.' | '@' | '-')
}

const SERIAL_NUMBER: Spec = Spec {
    member: "serialNumber",
    min: 9,
    max: 256,
    pattern: r"[\w+=/:,.@-]*",
    matches: |v| all(v, is_serial_char),
};

string_newtype! {
    /// An MFA `SerialNumber`: 9–256 characters of `[\w+=/:,.@-]`, either a
    /// hardware token serial (`GAHT12345678`) or a virtual device's ARN
    /// (`arn:aws:iam::111122223333:mfa/Name`).
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct SerialNumber;
    spec = SERIAL_NUMBER;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_session_name_error_is_awss_text() {
        let err = "my session".parse::<RoleSessionName>().unwrap_err();
        assert_eq!(
            err.aws_message(),
            r"1 validation error detected: Value 'my session' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
        );
        let long = "a".repeat(65);
        let err = long.parse::<RoleSessionName>().unwrap_err();
        assert_eq!(
            err.aws_message(),
            format!(
                "1 validation error detected: Value '{long}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64"
            )
        );
    }

    #[test]
    fn lengths_follow_the_model() {
        assert!("a".parse::<RoleSessionName>().is_err());
        assert!("ab".parse::<RoleSessionName>().is_ok());
        assert!("a".repeat(32).parse::<FederatedUserName>().is_ok());
        assert!("a".repeat(33).parse::<FederatedUserName>().is_err());
        assert!("a".repeat(1224).parse::<ExternalId>().is_ok());
        assert!("a".repeat(1225).parse::<ExternalId>().is_err());
        assert!("12345678".parse::<SerialNumber>().is_err());
        assert!("GAHT12345678".parse::<SerialNumber>().is_ok());
    }

    #[test]
    fn source_identity_rejects_the_reserved_prefix() {
        assert!("aws:alice".parse::<SourceIdentity>().is_err());
        assert!("AWS:alice".parse::<SourceIdentity>().is_err());
        assert!("alice@example.com".parse::<SourceIdentity>().is_ok());
    }

    #[test]
    fn external_ids_and_serials_allow_colon_and_slash() {
        assert!("urn:team/x".parse::<ExternalId>().is_ok());
        assert!(
            "arn:aws:iam::111122223333:mfa/alice"
                .parse::<SerialNumber>()
                .is_ok()
        );
        assert!("urn:team/x".parse::<RoleSessionName>().is_err());
        assert!("with space".parse::<ExternalId>().is_err());
    }
}
