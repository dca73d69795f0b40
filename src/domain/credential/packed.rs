//! `PackedPolicySize`: how much of the session-policy budget a session uses.
//!
//! Owns: [`packed_policy_size`] and [`PACKED_POLICY_LIMIT`]. AWS compresses
//! session policies, policy ARNs and session tags into an undocumented
//! binary form with its own limit and reports the fraction used as a
//! percentage; past 100 the call fails with `PackedPolicyTooLarge`
//! (reference 1.5, marked uncertain). stsd's deterministic stand-in:
//!
//! - the inline policy counts its UTF-8 bytes without JSON's insignificant
//!   whitespace (whitespace outside strings), so formatting does not matter;
//! - each policy ARN counts its bytes;
//! - each tag counts its key's and value's bytes;
//! - transitive-tag designations count nothing (as AWS documents);
//!
//! and the percentage is the total over [`PACKED_POLICY_LIMIT`], rounded up,
//! so any content reports at least 1 and one byte past the budget reports
//! 101. The budget fits the documented 2,048-character policy maximum plus
//! ten ARNs and a typical set of tags. Pure.

use super::session::SessionTag;
use crate::domain::ids::Arn;

/// The packed budget, in bytes: 100 %.
pub const PACKED_POLICY_LIMIT: usize = 4096;

/// The packed size of a session's `policy`, `policy_arns` and `tags`, as a
/// percentage of [`PACKED_POLICY_LIMIT`] (rounded up; above 100 means too
/// large).
pub fn packed_policy_size(policy: Option<&str>, policy_arns: &[Arn], tags: &[SessionTag]) -> u32 {
    let bytes = policy.map_or(0, minified_len)
        + policy_arns.iter().map(|a| a.as_str().len()).sum::<usize>()
        + tags
            .iter()
            .map(|t| t.key.len() + t.value.len())
            .sum::<usize>();
    let percent = bytes.saturating_mul(100).div_ceil(PACKED_POLICY_LIMIT);
    u32::try_from(percent).unwrap_or(u32::MAX)
}

/// Bytes of `json` without whitespace outside string literals.
fn minified_len(json: &str) -> usize {
    let mut len = 0;
    let (mut in_string, mut escaped) = (false, false);
    for b in json.bytes() {
        if in_string {
            len += 1;
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            len += 1;
            in_string = b == b'"';
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> SessionTag {
        SessionTag {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn nothing_is_zero_and_anything_is_at_least_one() {
        assert_eq!(packed_policy_size(None, &[], &[]), 0);
        assert_eq!(packed_policy_size(None, &[], &[tag("a", "")]), 1);
    }

    #[test]
    fn whitespace_outside_strings_is_not_counted() {
        let compact = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/a b"}}"#;
        let pretty = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\n    \"Effect\": \"Allow\",\n    \"Action\": \"s3:Get*\",\n    \"Resource\": \"arn:aws:s3:::b/a b\"\n  }\n}\n";
        assert_eq!(minified_len(compact), compact.len());
        assert_eq!(minified_len(pretty), compact.len());
        assert_eq!(minified_len(r#"{"a":"x\" y"}"#), 13);
    }

    #[test]
    fn the_budget_is_exact_and_rounds_up() {
        let arn: Arn = "arn:aws:iam::123456789012:policy/p".parse().unwrap();
        let n = arn.as_str().len();
        let value = "v".repeat(PACKED_POLICY_LIMIT - n - 1);
        let full = [tag("k", &value)];
        assert_eq!(
            packed_policy_size(None, std::slice::from_ref(&arn), &full),
            100
        );
        let over = [tag("k", &format!("{value}v"))];
        assert_eq!(
            packed_policy_size(None, std::slice::from_ref(&arn), &over),
            101
        );
        let half = "x".repeat(PACKED_POLICY_LIMIT / 2 - 8);
        let policy = format!("{{\"a\":\"{half}\"}}");
        assert_eq!(policy.len(), PACKED_POLICY_LIMIT / 2);
        assert_eq!(packed_policy_size(Some(&policy), &[], &[]), 50);
    }

    #[test]
    fn a_maximal_documented_policy_fits() {
        let policy = format!("{{\"a\":\"{}\"}}", "x".repeat(2048 - 8));
        let arns: Vec<Arn> = (0..10)
            .map(|i| {
                format!("arn:aws:iam::123456789012:policy/session-policy-{i}")
                    .parse()
                    .unwrap()
            })
            .collect();
        let tags: Vec<SessionTag> = (0..10)
            .map(|i| tag(&format!("Team{i}"), "platform"))
            .collect();
        assert!(packed_policy_size(Some(&policy), &arns, &tags) <= 100);
    }
}
