//! Glob patterns with IAM policy variables.
//!
//! Owns: compiling a policy string into pieces (literal text, `*`, `?`,
//! `${variable}`) and matching request text against them. Matching is the
//! classic last-star backtracking walk: O(pattern × text) in the worst case,
//! never exponential, and it allocates nothing. Substituted variable values
//! are literal text: a `*` in a tag value never acts as a wildcard. Pure.

use super::context::{Context, ContextValue};

/// One piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    /// Text that must appear as is.
    Lit(Box<str>),
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    One,
    /// `${key}` or `${key, 'default'}`.
    Var(Var),
}

/// A policy variable reference.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Var {
    /// The context key, lower-cased (key names are case-insensitive).
    pub(crate) key: Box<str>,
    /// The value used when the key is absent.
    pub(crate) default: Option<Box<str>>,
}

/// How a string is compiled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards.
    pub(crate) wildcards: bool,
    /// `${…}` is a variable (policy `Version` 2012-10-17).
    pub(crate) variables: bool,
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pattern {
    pieces: Box<[Piece]>,
}

// === impl Pattern ===

impl Pattern {
    /// Compiles `text` under `syntax`; `fold` lower-cases literal text.
    pub(crate) fn compile(text: &str, syntax: Syntax, fold: bool) -> Self {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if syntax.variables
                && rest.starts_with("${")
                && let Some((piece, after)) = parse_var(rest)
            {
                match piece {
                    Piece::Lit(s) => lit.push_str(&s),
                    other => {
                        flush(&mut lit, &mut pieces, fold);
                        pieces.push(other);
                    }
                }
                rest = after;
                continue;
            }
            match c {
                '*' if syntax.wildcards => {
                    flush(&mut lit, &mut pieces, fold);
                    if pieces.last() != Some(&Piece::Star) {
                        pieces.push(Piece::Star);
                    }
                }
                '?' if syntax.wildcards => {
                    flush(&mut lit, &mut pieces, fold);
                    pieces.push(Piece::One);
                }
                _ => lit.push(c),
            }
            rest = rest.get(c.len_utf8()..).unwrap_or_default();
        }
        flush(&mut lit, &mut pieces, fold);
        Self {
            pieces: pieces.into_boxed_slice(),
        }
    }

    /// The variables the pattern refers to.
    pub(crate) fn vars(&self) -> impl Iterator<Item = &Var> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var(v) => Some(v),
            _ => None,
        })
    }

    /// Matches `text`. `None` when a variable cannot be resolved.
    pub(crate) fn matches(&self, text: &str, fold: bool, ctx: &Context) -> Option<bool> {
        if self.vars().any(|v| resolve(v, ctx).is_none()) {
            return None;
        }
        Some(glob(&self.pieces, text, fold, ctx))
    }

    /// Matches `text` when the pattern has no variables.
    pub(crate) fn matches_plain(&self, text: &str, fold: bool) -> bool {
        // The two shapes most action patterns take (`s3:GetObject`,
        // `s3:Get*`) skip the general matcher.
        if !fold {
            match &*self.pieces {
                [Piece::Lit(l)] => return **l == *text,
                [Piece::Lit(l), Piece::Star] => return text.starts_with(&**l),
                _ => {}
            }
        }
        glob(&self.pieces, text, fold, &Context::EMPTY)
    }
}

fn flush(lit: &mut String, pieces: &mut Vec<Piece>, fold: bool) {
    if lit.is_empty() {
        return;
    }
    let text = if fold {
        lit.to_lowercase()
    } else {
        std::mem::take(lit)
    };
    lit.clear();
    if let Some(Piece::Lit(prev)) = pieces.last_mut() {
        let mut joined = String::from(std::mem::take(prev));
        joined.push_str(&text);
        *prev = joined.into_boxed_str();
    } else {
        pieces.push(Piece::Lit(text.into_boxed_str()));
    }
}

/// Parses `${…}` at the start of `s`; returns the piece and the rest.
fn parse_var(s: &str) -> Option<(Piece, &str)> {
    let body_and_rest = s.strip_prefix("${")?;
    let close = body_and_rest.find('}')?;
    let body = body_and_rest.get(..close)?;
    let rest = body_and_rest.get(close + 1..)?;
    let piece = match body {
        "*" | "?" | "$" => Piece::Lit(body.into()),
        _ => {
            let (key, default) = match body.split_once(',') {
                Some((k, d)) => {
                    let d = d.trim();
                    let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
                    (k.trim(), Some(d.into()))
                }
                None => (body.trim(), None),
            };
            if key.is_empty()
                || key
                    .chars()
                    .any(|c| c.is_whitespace() || c == '$' || c == '{')
            {
                return None;
            }
            Piece::Var(Var {
                key: key.to_lowercase().into(),
                default,
            })
        }
    };
    Some((piece, rest))
}

/// The value of a variable: a single-valued key, or the default.
pub(crate) fn resolve<'a>(var: &'a Var, ctx: &'a Context) -> Option<&'a str> {
    match ctx.get(&var.key) {
        Some(ContextValue::Single(v)) => Some(v),
        Some(ContextValue::Multi(_)) => None,
        None => var.default.as_deref(),
    }
}

/// Length in bytes of the char starting at `b`.
fn char_len(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|s| s.chars().next())
        .map_or(1, char::len_utf8)
}

/// If `text[at..]` starts with `lit`, the number of bytes of `text` consumed.
fn prefix(lit: &str, text: &str, at: usize, fold: bool) -> Option<usize> {
    let rest = text.get(at..)?;
    if !fold {
        return rest.starts_with(lit).then_some(lit.len());
    }
    let mut used = 0;
    let mut t = rest.chars();
    for lc in lit.chars() {
        let tc = t.next()?;
        let same = if lc.is_ascii() && tc.is_ascii() {
            lc.eq_ignore_ascii_case(&tc)
        } else {
            lc.to_lowercase().eq(tc.to_lowercase())
        };
        if !same {
            return None;
        }
        used += tc.len_utf8();
    }
    Some(used)
}

fn glob(pieces: &[Piece], text: &str, fold: bool, ctx: &Context) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    // (piece index after the last star, text position it is trying)
    let mut star: Option<(usize, usize)> = None;
    loop {
        let step = match pieces.get(pi) {
            // A trailing star matches whatever is left.
            Some(Piece::Star) if pi + 1 == pieces.len() => return true,
            Some(Piece::Star) => {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Some(Piece::One) => (ti < text.len()).then(|| char_len(text, ti)),
            Some(Piece::Lit(l)) => prefix(l, text, ti, fold),
            Some(Piece::Var(v)) => resolve(v, ctx).and_then(|l| prefix(l, text, ti, fold)),
            None if ti == text.len() => return true,
            None => None,
        };
        if let Some(n) = step {
            pi += 1;
            ti += n;
            continue;
        }
        match star {
            Some((sp, st)) if st < text.len() => {
                let mut next = st + char_len(text, st);
                // Skip straight to the next place the literal after the
                // star can start (case-sensitive literals only).
                if let (false, Some(Piece::Lit(l))) = (fold, pieces.get(sp)) {
                    match text.get(next..).and_then(|rest| rest.find(&**l)) {
                        Some(off) => next += off,
                        None => return false,
                    }
                }
                star = Some((sp, next));
                pi = sp;
                ti = next;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLOB: Syntax = Syntax {
        wildcards: true,
        variables: true,
    };

    fn m(p: &str, t: &str) -> bool {
        Pattern::compile(p, GLOB, false)
            .matches(t, false, &Context::EMPTY)
            .unwrap()
    }

    #[test]
    fn globs() {
        assert!(m("*", ""));
        assert!(m("a*c", "abbbc"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("bucket/*/test/*", "bucket/1/2/test/x"));
        assert!(m("*a*a*a*a*b", &"a".repeat(40).replace("aaaa", "aaab")));
        assert!(!m("*a*a*a*a*a*a*a*c", &"a".repeat(5000)));
        assert!(m("é?", "éü"));
        assert!(!m("abc", "abcd"));
        assert!(m("${*}x${?}", "*x?"));
        assert!(!m("${*}x", "yx"));
    }

    #[test]
    fn folds_case() {
        let p = Pattern::compile("S3:Get*", GLOB, true);
        assert!(p.matches_plain("s3:GETOBJECT", true));
        assert!(!p.matches_plain("s3:put", true));
    }

    #[test]
    fn variables_resolve_literally() {
        let mut ctx = Context::new();
        ctx.insert("aws:username", "a*b");
        let p = Pattern::compile("home/${AWS:UserName}/*", GLOB, false);
        assert_eq!(p.matches("home/a*b/x", false, &ctx), Some(true));
        assert_eq!(p.matches("home/aXb/x", false, &ctx), Some(false));
        let d = Pattern::compile("${aws:PrincipalTag/team, 'company-wide'}", GLOB, false);
        assert_eq!(d.matches("company-wide", false, &ctx), Some(true));
        let u = Pattern::compile("${aws:missing}", GLOB, false);
        assert_eq!(u.matches("", false, &ctx), None);
    }
}
