//! ARN patterns for `Resource`/`NotResource` and the `Arn…` operators.
//!
//! Owns: field-by-field ARN matching (reference 5.3): `*` and `?` never cross
//! the first five colons, but inside the resource field they match `/` and
//! `:` freely. Matching is case-sensitive. Policy variables are allowed only
//! in the resource field of a `Resource` entry (anywhere in an `Arn…`
//! condition value). Pure.

use super::context::Context;
use super::wildcard::{Pattern, Syntax};

/// Splits an ARN into its six fields at the first five colons.
pub(crate) fn split(arn: &str) -> Option<[&str; 6]> {
    let mut it = arn.splitn(6, ':');
    let f = [
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ];
    Some(f)
}

/// A compiled ARN pattern.
#[derive(Debug, Clone)]
pub(crate) enum ArnPattern {
    /// `*`: every resource.
    Any,
    /// An ARN pattern, one glob per field.
    Fields(Box<[Pattern; 6]>),
    /// A condition value that is not ARN-shaped: a glob over the whole text.
    Whole(Pattern),
}

// === impl ArnPattern ===

impl ArnPattern {
    /// Compiles a `Resource`/`NotResource` entry; the error names the fault.
    pub(crate) fn compile_resource(text: &str, variables: bool) -> Result<Self, String> {
        if text == "*" {
            return Ok(Self::Any);
        }
        let Some(fields) = split(text) else {
            return Err(format!(
                "resource \"{text}\" must be \"*\" or an ARN of the form arn:partition:service:region:account:resource"
            ));
        };
        let [prefix, partition, service, ..] = fields;
        if prefix != "arn" || partition.is_empty() || service.is_empty() {
            return Err(format!("resource \"{text}\" is not a valid ARN"));
        }
        if variables && fields.iter().take(5).any(|f| f.contains("${")) {
            return Err(format!(
                "resource \"{text}\" uses a policy variable outside the resource part of the ARN"
            ));
        }
        Ok(Self::fields(fields, variables, false))
    }

    /// Compiles an `Arn…` condition value.
    pub(crate) fn compile_condition(text: &str, variables: bool) -> Self {
        if text == "*" {
            return Self::Any;
        }
        match split(text) {
            Some(fields) => Self::fields(fields, variables, variables),
            None => Self::Whole(Pattern::compile(
                text,
                Syntax {
                    wildcards: true,
                    variables,
                },
                false,
            )),
        }
    }

    fn fields(f: [&str; 6], resource_vars: bool, other_vars: bool) -> Self {
        let plain = Syntax {
            wildcards: true,
            variables: other_vars,
        };
        let last = Syntax {
            wildcards: true,
            variables: resource_vars,
        };
        let [a, b, c, d, e, r] = f;
        let p = |s: &str| Pattern::compile(s, plain, false);
        Self::Fields(Box::new([
            p(a),
            p(b),
            p(c),
            p(d),
            p(e),
            Pattern::compile(r, last, false),
        ]))
    }

    /// Matches a request ARN; `None` when a variable cannot be resolved.
    pub(crate) fn matches(&self, arn: &str, ctx: &Context) -> Option<bool> {
        self.matches_split(arn, split(arn).as_ref(), ctx)
    }

    /// As [`ArnPattern::matches`], with the ARN already split by [`split`].
    pub(crate) fn matches_split(
        &self,
        arn: &str,
        fields: Option<&[&str; 6]>,
        ctx: &Context,
    ) -> Option<bool> {
        match self {
            Self::Any => Some(true),
            Self::Whole(p) => p.matches(arn, false, ctx),
            Self::Fields(pats) => {
                let Some(fields) = fields else {
                    // Still report an unresolvable variable as such.
                    return pats
                        .iter()
                        .try_for_each(|p| p.matches("", false, ctx).map(drop))
                        .map(|()| false);
                };
                for (p, f) in pats.iter().zip(fields) {
                    if !p.matches(f, false, ctx)? {
                        return Some(false);
                    }
                }
                Some(true)
            }
        }
    }

    /// Keys of policy variables used in the pattern.
    pub(crate) fn variable_keys(&self, out: &mut Vec<Box<str>>) {
        let pats: &[Pattern] = match self {
            Self::Any => &[],
            Self::Whole(p) => std::slice::from_ref(p),
            Self::Fields(ps) => &ps[..],
        };
        out.extend(pats.iter().flat_map(Pattern::vars).map(|v| v.key.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, arn: &str) -> bool {
        ArnPattern::compile_resource(p, true)
            .unwrap()
            .matches(arn, &Context::EMPTY)
            .unwrap()
    }

    #[test]
    fn field_wise() {
        assert!(m("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a:b/c"));
        assert!(m(
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::111122223333:role/x"
        ));
        assert!(!m(
            "arn:aws:iam::1111*:role/x",
            "arn:aws:iam::111122223333:user/role/x"
        ));
        // `*` in the region field cannot swallow the account's colon.
        assert!(!m("arn:aws:s3:*::bucket", "arn:aws:s3:us:east:bucket"));
        assert!(m("arn:aws:s3:*::bucket", "arn:aws:s3:us::bucket"));
        assert!(!m("arn:aws:s3:::bucket", "arn:aws:s3:::Bucket"));
        assert!(!m("arn:aws:s3:::*", "not-an-arn"));
        assert!(m("*", "not-an-arn"));
    }

    #[test]
    fn rejects_bad_resources() {
        assert!(ArnPattern::compile_resource("arn:aws:s3", true).is_err());
        assert!(ArnPattern::compile_resource("bucket", true).is_err());
        assert!(
            ArnPattern::compile_resource("arn:aws:iam::${aws:PrincipalAccount}:role/x", true)
                .is_err()
        );
        assert!(
            ArnPattern::compile_resource("arn:aws:iam::${aws:PrincipalAccount}:role/x", false)
                .is_ok()
        );
    }
}
