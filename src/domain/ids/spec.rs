//! Member constraints and the string-newtype scaffolding.
//!
//! Owns: [`Spec`] (one member's length range and pattern, checked by
//! hand-written character-class tests instead of a regex engine), the
//! character classes the AWS models use, and the `string_newtype!` macro
//! that gives each string identifier the same `FromStr`/`TryFrom<String>`/
//! `Display`/`AsRef<str>`/serde surface. Pure.
//!
//! `\w` in the models is the Java/ECMAScript class `[A-Za-z0-9_]`
//! (reference 1.2), never Unicode word characters.

use super::error::{Constraint, IdError};

/// The constraints AWS models for one member.
pub(crate) struct Spec {
    /// Default member name in errors (lower camel case).
    pub(crate) member: &'static str,
    /// Minimum length in characters.
    pub(crate) min: usize,
    /// Maximum length in characters.
    pub(crate) max: usize,
    /// The pattern text, quoted verbatim in errors.
    pub(crate) pattern: &'static str,
    /// Whether a whole value matches `pattern`.
    pub(crate) matches: fn(&str) -> bool,
}

// === impl Spec ===

impl Spec {
    /// Checks `value`, listing every broken constraint.
    ///
    /// The order (pattern, then length) is our choice: AWS's order when
    /// both fail is not documented.
    pub(crate) fn check(&self, value: &str) -> Result<(), IdError> {
        let mut broken = Vec::new();
        if !(self.matches)(value) {
            broken.push(Constraint::Pattern(self.pattern));
        }
        // Lengths count Unicode scalar values (the Smithy rule).
        let len = value.chars().count();
        if len < self.min {
            broken.push(Constraint::MinLength(self.min));
        }
        if len > self.max {
            broken.push(Constraint::MaxLength(self.max));
        }
        if broken.is_empty() {
            Ok(())
        } else {
            Err(IdError::Constraint {
                member: self.member.into(),
                value: value.to_owned(),
                broken,
            })
        }
    }
}

/// `\w`: `[A-Za-z0-9_]`.
pub(crate) fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `[\w+=,.@-]`: IAM names, role session names, source identities.
pub(crate) fn is_name_char(c: char) -> bool {
    is_word(c) || matches!(c, '+' | '=' | ',' | '.' | '@' | '-')
}

/// True when every character of `value` is in `class` (a `*` pattern).
pub(crate) fn all(value: &str, class: fn(char) -> bool) -> bool {
    value.chars().all(class)
}

/// True when `value` is non-empty and every character is in `class` (a `+`
/// pattern).
pub(crate) fn all_nonempty(value: &str, class: fn(char) -> bool) -> bool {
    !value.is_empty() && all(value, class)
}

/// Defines a `String`-backed identifier newtype.
///
/// The caller writes the doc comment and derives (so a type may define its
/// own equality); the macro adds `as_str`, `into_string`, `Display`,
/// `AsRef<str>`, `FromStr`, `TryFrom<String>`, `From<T> for String` and
/// serde as a plain string whose deserialisation validates. `check` is a
/// `fn(&str) -> Result<(), IdError>`.
macro_rules! string_newtype {
    ($(#[$meta:meta])* $vis:vis struct $name:ident; check = $check:expr;) => {
        $(#[$meta])*
        $vis struct $name(String);

        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The identifier as an owned `String`.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::ids::IdError;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                let check: fn(&str) -> Result<(), $crate::domain::ids::IdError> = $check;
                check(value)?;
                Ok(Self(value.to_owned()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::ids::IdError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                let check: fn(&str) -> Result<(), $crate::domain::ids::IdError> = $check;
                check(&value)?;
                Ok(Self(value))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Self::try_from(text).map_err(::serde::de::Error::custom)
            }
        }
    };
    ($(#[$meta:meta])* $vis:vis struct $name:ident; spec = $spec:path;) => {
        $crate::domain::ids::spec::string_newtype! {
            $(#[$meta])* $vis struct $name; check = |value| $spec.check(value);
        }
    };
}

pub(crate) use string_newtype;

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: Spec = Spec {
        member: "name",
        min: 2,
        max: 4,
        pattern: r"[\w+=,.@-]*",
        matches: |v| all(v, is_name_char),
    };

    #[test]
    fn word_is_ascii_only() {
        assert!("aZ09_".chars().all(is_word));
        assert!(!is_word('é'));
        assert!(!is_word('-'));
        assert!(!is_word('٣'), "arabic-indic digit is not \\w");
    }

    #[test]
    fn check_lists_every_broken_constraint() {
        assert!(NAME.check("ab").is_ok());
        let Err(IdError::Constraint { broken, .. }) = NAME.check("a b c") else {
            panic!("expected a constraint error")
        };
        assert_eq!(
            broken,
            vec![
                Constraint::Pattern(r"[\w+=,.@-]*"),
                Constraint::MaxLength(4)
            ]
        );
        let Err(IdError::Constraint { broken, .. }) = NAME.check("") else {
            panic!("expected a constraint error")
        };
        assert_eq!(broken, vec![Constraint::MinLength(2)]);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let spec = Spec {
            matches: |_| true,
            ..NAME
        };
        assert!(spec.check("éééé").is_ok());
    }
}
