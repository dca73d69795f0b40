//! IAM entity names and paths.
//!
//! Owns: [`UserName`], [`GroupName`], [`RoleName`], [`PolicyName`],
//! [`MfaDeviceName`] and [`IamPath`], with the lengths and patterns of the
//! IAM model (reference 12). Equality is exact: IAM names are unique
//! case-insensitively, but that is the store's rule, and ARNs match
//! case-sensitively. Pure.

use super::spec::{Spec, all, all_nonempty, is_name_char, string_newtype};

/// The IAM name pattern, `[\w+=,.@-]+`.
const NAME_PATTERN: &str = r"[\w+=,.@-]+";

/// A `[\w+=,.@-]+` name of `min..=max` characters for `member`.
const fn name_spec(member: &'static str, max: usize) -> Spec {
    Spec {
        member,
        min: 1,
        max,
        pattern: NAME_PATTERN,
        matches: |v| all_nonempty(v, is_name_char),
    }
}

const USER_NAME: Spec = name_spec("userName", 64);
const GROUP_NAME: Spec = name_spec("groupName", 128);
const ROLE_NAME: Spec = name_spec("roleName", 64);
const POLICY_NAME: Spec = name_spec("policyName", 128);
const MFA_DEVICE_NAME: Spec = name_spec("virtualMFADeviceName", 226);

string_newtype! {
    /// An IAM user name: 1–64 characters of `[\w+=,.@-]`.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct UserName;
    spec = USER_NAME;
}

string_newtype! {
    /// An IAM group name: 1–128 characters of `[\w+=,.@-]`.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct GroupName;
    spec = GROUP_NAME;
}

string_newtype! {
    /// An IAM role name: 1–64 characters of `[\w+=,.@-]`.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct RoleName;
    spec = ROLE_NAME;
}

string_newtype! {
    /// An IAM managed or inline policy name: 1–128 characters of `[\w+=,.@-]`.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct PolicyName;
    spec = POLICY_NAME;
}

string_newtype! {
    /// A virtual MFA device name: 1–226 characters of `[\w+=,.@-]`.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct MfaDeviceName;
    spec = MFA_DEVICE_NAME;
}

/// `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`: `/` alone, or printable ASCII
/// other than space between a leading and a trailing `/`.
fn is_iam_path(value: &str) -> bool {
    value == "/"
        || (value.len() >= 3
            && value.starts_with('/')
            && value.ends_with('/')
            && all(value, |c| ('\u{21}'..='\u{7e}').contains(&c)))
}

const IAM_PATH: Spec = Spec {
    member: "path",
    min: 1,
    max: 512,
    pattern: r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
    matches: is_iam_path,
};

string_newtype! {
    /// An IAM path: `/`, or `/…/` with printable ASCII between, 1–512
    /// characters. It sits between the resource type and the name in an
    /// ARN: `user/division/team/Name` has path `/division/team/`.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct IamPath;
    spec = IAM_PATH;
}

// === impl IamPath ===

impl IamPath {
    /// The root path, `/`.
    pub fn root() -> Self {
        Self("/".to_owned())
    }

    /// Whether this is the root path `/`.
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }
}

impl Default for IamPath {
    fn default() -> Self {
        Self::root()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{Constraint, IdError};

    #[test]
    fn names_use_the_iam_pattern_and_lengths() {
        assert!("Admin+=,.@-_9".parse::<UserName>().is_ok());
        assert!("a".repeat(64).parse::<RoleName>().is_ok());
        assert!("a".repeat(65).parse::<RoleName>().is_err());
        assert!("a".repeat(128).parse::<GroupName>().is_ok());
        assert!("a".repeat(128).parse::<PolicyName>().is_ok());
        assert!("a".repeat(129).parse::<PolicyName>().is_err());
        assert!("a".repeat(226).parse::<MfaDeviceName>().is_ok());
        assert!("with space".parse::<UserName>().is_err());
        assert!("slash/name".parse::<RoleName>().is_err());
    }

    #[test]
    fn empty_name_breaks_pattern_and_length() {
        let err = "".parse::<RoleName>().unwrap_err();
        let IdError::Constraint { broken, member, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(member, "roleName");
        assert_eq!(
            broken,
            &vec![Constraint::Pattern(NAME_PATTERN), Constraint::MinLength(1)]
        );
    }

    #[test]
    fn paths_are_slash_delimited_printable_ascii() {
        for ok in ["/", "/a/", "/division/team/", "/a//b/", "/!~/"] {
            assert!(ok.parse::<IamPath>().is_ok(), "{ok}");
        }
        for bad in ["", "//", "a/", "/a", "/a b/", "/é/"] {
            assert!(bad.parse::<IamPath>().is_err(), "{bad}");
        }
        assert!(IamPath::default().is_root());
        let long = format!("/{}/", "a".repeat(510));
        assert!(long.parse::<IamPath>().is_ok());
        assert!(format!("/{}/", "a".repeat(511)).parse::<IamPath>().is_err());
    }
}
