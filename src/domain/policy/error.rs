//! Errors of the policy component.
//!
//! Owns: every reason a policy document is refused. All of them are
//! `MalformedPolicyDocument` on the wire; the message names the element and
//! the value at fault. Pure.

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The text is not well-formed JSON (or repeats a key).
    #[error("syntax error: {0}")]
    Syntax(String),
    /// The document contains a character IAM does not allow.
    #[error("the policy document contains the character '{character}' (U+{code:04X}) at line {line} column {column}; only U+0009, U+000A, U+000D and U+0020-U+00FF are allowed", code = u32::from(*character))]
    Charset {
        /// The offending character.
        character: char,
        /// Line of the offending character.
        line: u32,
        /// Column of the offending character.
        column: u32,
    },
    /// The document is larger than its kind allows.
    #[error(
        "the {kind} policy is {size} characters long, over the limit of {limit} (whitespace not counted)"
    )]
    Size {
        /// Kind of policy.
        kind: &'static str,
        /// Characters counted.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// An element is invalid; the message names it and the value.
    #[error("{0}")]
    Invalid(String),
}

impl PolicyError {
    /// The AWS error code for every policy error.
    pub fn aws_code(&self) -> &'static str {
        "MalformedPolicyDocument"
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }
}
