//! Errors of the identifier component.
//!
//! Owns: [`IdError`], the one reason type for every identifier that fails to
//! parse, and [`Constraint`], the rule it broke. An error keeps the member
//! name (lower camel case, as AWS prints it), the offending value and the
//! constraints, so the API layer can render AWS's exact
//! `1 validation error detected: Value '…' at '…' failed to satisfy
//! constraint: Member must …` text (reference 1.2). Pure.

use std::borrow::Cow;
use std::fmt;

/// Why a value is not a valid identifier.
///
/// Every variant is a `ValidationError` (HTTP 400) on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The value breaks length or pattern constraints of the AWS model.
    #[error("{}", Logged(self))]
    Constraint {
        /// Request member the value came from, in lower camel case
        /// (`roleSessionName`); each type has a default, see [`IdError::at`].
        member: Cow<'static, str>,
        /// The value as received: AWS echoes it back in the message.
        value: String,
        /// The constraints broken, in the order AWS lists them.
        // INVARIANT: never empty.
        broken: Vec<Constraint>,
    },
    /// The value meets the model's constraints but is not well formed for its
    /// kind (an ARN without its five colons, an unknown ID prefix). AWS's
    /// wording for these is not modelled; ours follows its shape.
    #[error("{}", Logged(self))]
    Format {
        /// Request member the value came from, in lower camel case.
        member: Cow<'static, str>,
        /// The value as received.
        value: String,
        /// What the value must be, completing "Member must be …".
        expected: &'static str,
    },
}

/// One rule of a member's constraints, as the AWS model states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Constraint {
    /// At least this many characters (Unicode scalar values).
    MinLength(usize),
    /// At most this many characters (Unicode scalar values).
    MaxLength(usize),
    /// The whole value must match this pattern, quoted verbatim from the model.
    Pattern(&'static str),
}

// === impl IdError ===

impl IdError {
    /// The AWS error code of every identifier error.
    pub fn aws_code(&self) -> &'static str {
        "ValidationError"
    }

    /// Renames the member, for a value that arrived under another name
    /// (`Name` on GetFederationToken, `tags.member.1.key`).
    #[must_use]
    pub fn at(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        match &mut self {
            Self::Constraint { member, .. } | Self::Format { member, .. } => *member = name.into(),
        }
        self
    }

    /// The member the value came from.
    pub fn member(&self) -> &str {
        match self {
            Self::Constraint { member, .. } | Self::Format { member, .. } => member,
        }
    }

    /// The rejected value.
    pub fn value(&self) -> &str {
        match self {
            Self::Constraint { value, .. } | Self::Format { value, .. } => value,
        }
    }

    /// How many validation errors AWS would count for this value.
    pub fn count(&self) -> usize {
        match self {
            Self::Constraint { broken, .. } => broken.len(),
            Self::Format { .. } => 1,
        }
    }

    /// The full AWS message for this error alone:
    /// `1 validation error detected: Value 'x' at 'roleSessionName' failed to
    /// satisfy constraint: Member must …`.
    pub fn aws_message(&self) -> String {
        Self::aws_message_all([self])
    }

    /// The full AWS message for several rejected members of one request,
    /// counted and joined with `; ` the way AWS does.
    pub fn aws_message_all<'a>(errors: impl IntoIterator<Item = &'a IdError>) -> String {
        let mut count = 0;
        let mut details = String::new();
        for error in errors {
            if count > 0 {
                details.push_str("; ");
            }
            count += error.count();
            // Writing into a `String` cannot fail.
            let _ = error.write_fragments(&mut details, Case::Aws);
        }
        let noun = if count == 1 { "error" } else { "errors" };
        format!("{count} validation {noun} detected: {details}")
    }

    /// Writes `Value '…' at '…' failed to satisfy constraint: Member must …`
    /// once per broken constraint, separated by `; `.
    fn write_fragments(&self, out: &mut impl fmt::Write, case: Case) -> fmt::Result {
        let (value, member) = (self.value(), self.member());
        let mut one = |rule: &dyn fmt::Display, first: bool| {
            if !first {
                out.write_str("; ")?;
            }
            match case {
                Case::Aws => write!(
                    out,
                    "Value '{value}' at '{member}' failed to satisfy constraint: Member must {rule}"
                ),
                // Log lines never carry raw line breaks from user input.
                Case::Log => write!(
                    out,
                    "value '{}' at '{member}' failed to satisfy constraint: member must {rule}",
                    value.escape_debug()
                ),
            }
        };
        match self {
            Self::Constraint { broken, .. } => broken
                .iter()
                .enumerate()
                .try_for_each(|(i, rule)| one(rule, i == 0)),
            Self::Format { expected, .. } => one(&format_args!("be {expected}"), true),
        }
    }
}

/// Which spelling a rendering uses.
#[derive(Clone, Copy)]
enum Case {
    /// AWS's wire text, capitalised and with the raw value.
    Aws,
    /// House style for logs: lowercase, value escaped onto one line.
    Log,
}

/// `Display` adapter: the log form of an [`IdError`].
struct Logged<'a>(&'a IdError);

impl fmt::Display for Logged<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_fragments(f, Case::Log)
    }
}

// === impl Constraint ===

impl fmt::Display for Constraint {
    /// The rule as it follows "Member must " in AWS's message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MinLength(n) => write!(f, "have length greater than or equal to {n}"),
            Self::MaxLength(n) => write!(f, "have length less than or equal to {n}"),
            Self::Pattern(p) => write!(f, "satisfy regular expression pattern: {p}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session_pattern(value: &str) -> IdError {
        IdError::Constraint {
            member: "roleSessionName".into(),
            value: value.to_owned(),
            broken: vec![Constraint::Pattern(r"[\w+=,.@-]*")],
        }
    }

    #[test]
    fn aws_message_matches_observed_text() {
        assert_eq!(
            session_pattern("x y").aws_message(),
            r"1 validation error detected: Value 'x y' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
        );
    }

    #[test]
    fn several_constraints_are_counted_and_joined() {
        let e = IdError::Constraint {
            member: "name".into(),
            value: "a b".into(),
            broken: vec![
                Constraint::Pattern(r"[\w+=,.@-]*"),
                Constraint::MaxLength(2),
            ],
        };
        let other = session_pattern("!").at("sourceIdentity");
        assert_eq!(
            IdError::aws_message_all([&e, &other]),
            "3 validation errors detected: \
             Value 'a b' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; \
             Value 'a b' at 'name' failed to satisfy constraint: Member must have length less than or equal to 2; \
             Value '!' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        );
    }

    #[test]
    fn display_is_lowercase_and_on_one_line() {
        let e = session_pattern("a\nb");
        let shown = e.to_string();
        assert!(
            shown.starts_with("value 'a\\nb' at 'roleSessionName'"),
            "{shown}"
        );
        assert!(shown.contains("member must satisfy"));
        assert!(!shown.contains('\n'));
    }

    #[test]
    fn format_errors_render_in_the_same_shape() {
        let e = IdError::Format {
            member: "roleArn".into(),
            value: "nope".into(),
            expected: "an ARN",
        };
        assert_eq!(e.count(), 1);
        assert_eq!(e.aws_code(), "ValidationError");
        assert_eq!(
            e.aws_message(),
            "1 validation error detected: Value 'nope' at 'roleArn' failed to satisfy constraint: Member must be an ARN"
        );
    }
}
