//! Condition operators: names, value compilation and evaluation.
//!
//! Owns: every operator of reference section 5.5 with its `IfExists` and
//! `ForAllValues:`/`ForAnyValue:` forms, and the combination rules: several
//! values of one key are ORed for positive operators and NORed for negated
//! ones; a missing key makes positive operators false and negated ones true;
//! set operators follow the empty-set tables (ForAllValues true, ForAnyValue
//! false). A plain operator on a multivalued key behaves as ForAnyValue for
//! positive operators and as "no request value matches" for negated ones
//! (stsd's documented choice). Pure.

use super::arn::ArnPattern;
use super::context::Context;
use super::error::PolicyError;
use super::values::{self, Cidr};
use super::wildcard::{Pattern, Syntax};

macro_rules! operators {
    ($($v:ident => $name:literal, $family:ident, $neg:literal;)*) => {
        /// A base condition operator, without qualifiers.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum BaseOperator { $(#[doc = $name] $v,)* }

        impl BaseOperator {
            /// Every operator.
            pub const ALL: &'static [Self] = &[$(Self::$v,)*];
            /// The operator's name in policy JSON.
            pub fn name(self) -> &'static str { match self { $(Self::$v => $name,)* } }
            /// The value family.
            pub fn family(self) -> Family { match self { $(Self::$v => Family::$family,)* } }
            /// True for operators that negate (`StringNotEquals`, `NotIpAddress`, …).
            pub fn negated(self) -> bool { match self { $(Self::$v => $neg,)* } }
        }
    };
}

operators! {
    StringEquals => "StringEquals", String, false;
    StringNotEquals => "StringNotEquals", String, true;
    StringEqualsIgnoreCase => "StringEqualsIgnoreCase", String, false;
    StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase", String, true;
    StringLike => "StringLike", String, false;
    StringNotLike => "StringNotLike", String, true;
    NumericEquals => "NumericEquals", Numeric, false;
    NumericNotEquals => "NumericNotEquals", Numeric, true;
    NumericLessThan => "NumericLessThan", Numeric, false;
    NumericLessThanEquals => "NumericLessThanEquals", Numeric, false;
    NumericGreaterThan => "NumericGreaterThan", Numeric, false;
    NumericGreaterThanEquals => "NumericGreaterThanEquals", Numeric, false;
    DateEquals => "DateEquals", Date, false;
    DateNotEquals => "DateNotEquals", Date, true;
    DateLessThan => "DateLessThan", Date, false;
    DateLessThanEquals => "DateLessThanEquals", Date, false;
    DateGreaterThan => "DateGreaterThan", Date, false;
    DateGreaterThanEquals => "DateGreaterThanEquals", Date, false;
    Bool => "Bool", Bool, false;
    BinaryEquals => "BinaryEquals", Binary, false;
    IpAddress => "IpAddress", Ip, false;
    NotIpAddress => "NotIpAddress", Ip, true;
    ArnEquals => "ArnEquals", Arn, false;
    ArnLike => "ArnLike", Arn, false;
    ArnNotEquals => "ArnNotEquals", Arn, true;
    ArnNotLike => "ArnNotLike", Arn, true;
    Null => "Null", Null, false;
}

/// The value family of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// String operators (variables allowed).
    String,
    /// Numeric operators.
    Numeric,
    /// Date operators.
    Date,
    /// `Bool`.
    Bool,
    /// `BinaryEquals`.
    Binary,
    /// IP address operators.
    Ip,
    /// ARN operators (variables allowed).
    Arn,
    /// `Null`.
    Null,
}

/// `ForAllValues:` or `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    /// Every request value must satisfy the operator.
    ForAllValues,
    /// At least one request value must satisfy the operator.
    ForAnyValue,
}

/// A condition operator with its qualifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    /// The base operator.
    pub base: BaseOperator,
    /// `ForAllValues:` / `ForAnyValue:`, if any.
    pub set: Option<SetQualifier>,
    /// The `…IfExists` suffix.
    pub if_exists: bool,
}

// === impl Operator ===

impl Operator {
    /// Parses an operator name (case-sensitive); `None` if unknown.
    pub fn parse(name: &str) -> Option<Self> {
        let (set, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else {
            (None, name)
        };
        let (base_name, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let base = BaseOperator::ALL
            .iter()
            .copied()
            .find(|o| o.name() == base_name)?;
        if base == BaseOperator::Null && (if_exists || set.is_some()) {
            return None;
        }
        Some(Self {
            base,
            set,
            if_exists,
        })
    }

    /// The operator's name as written in policy JSON.
    pub fn name(&self) -> String {
        let mut s = String::new();
        match self.set {
            Some(SetQualifier::ForAllValues) => s.push_str("ForAllValues:"),
            Some(SetQualifier::ForAnyValue) => s.push_str("ForAnyValue:"),
            None => {}
        }
        s.push_str(self.base.name());
        if self.if_exists {
            s.push_str("IfExists");
        }
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

fn cmp_of(op: BaseOperator) -> Cmp {
    use BaseOperator as B;
    match op {
        B::NumericLessThan | B::DateLessThan => Cmp::Lt,
        B::NumericLessThanEquals | B::DateLessThanEquals => Cmp::Le,
        B::NumericGreaterThan | B::DateGreaterThan => Cmp::Gt,
        B::NumericGreaterThanEquals | B::DateGreaterThanEquals => Cmp::Ge,
        _ => Cmp::Eq,
    }
}

fn compare<T: PartialOrd>(cmp: Cmp, request: T, policy: T) -> bool {
    match cmp {
        Cmp::Eq => request == policy,
        Cmp::Lt => request < policy,
        Cmp::Le => request <= policy,
        Cmp::Gt => request > policy,
        Cmp::Ge => request >= policy,
    }
}

#[derive(Debug, Clone)]
enum Values {
    Str { patterns: Vec<Pattern>, fold: bool },
    Num(Vec<f64>, Cmp),
    Date(Vec<i64>, Cmp),
    Bool(Vec<bool>),
    Binary(Vec<Vec<u8>>),
    Ip(Vec<Cidr>),
    Arn(Vec<ArnPattern>),
    Null(Vec<bool>),
}

/// A compiled operator + key + values entry.
#[derive(Debug, Clone)]
pub(crate) struct CompiledCondition {
    op: Operator,
    /// Lower-cased key (key names are case-insensitive).
    key: Box<str>,
    values: Values,
}

/// A request value the operator could not read (a non-number for a
/// `Numeric…` operator, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadRequestValue {
    pub(crate) key: Box<str>,
    pub(crate) family: &'static str,
}

// === impl CompiledCondition ===

impl CompiledCondition {
    /// Compiles one condition entry; `variables` is true for 2012-10-17.
    pub(crate) fn compile(
        op: Operator,
        key: &str,
        raw: &[String],
        variables: bool,
    ) -> Result<Self, PolicyError> {
        let bad = |v: &str, what: &str| {
            PolicyError::invalid(format!(
                "condition {} on key \"{key}\" has value \"{v}\", which is not {what}",
                op.name()
            ))
        };
        let each = |f: &dyn Fn(&str) -> Option<()>, what: &str| -> Result<(), PolicyError> {
            raw.iter()
                .try_for_each(|v| f(v).ok_or_else(|| bad(v, what)))
        };
        use BaseOperator as B;
        let values = match op.base.family() {
            Family::String => {
                let like = matches!(op.base, B::StringLike | B::StringNotLike);
                let fold = matches!(
                    op.base,
                    B::StringEqualsIgnoreCase | B::StringNotEqualsIgnoreCase
                );
                let syntax = Syntax {
                    wildcards: like,
                    variables,
                };
                Values::Str {
                    patterns: raw
                        .iter()
                        .map(|v| Pattern::compile(v, syntax, fold))
                        .collect(),
                    fold,
                }
            }
            Family::Numeric => {
                each(&|v| values::number(v).map(drop), "a number")?;
                Values::Num(
                    raw.iter().filter_map(|v| values::number(v)).collect(),
                    cmp_of(op.base),
                )
            }
            Family::Date => {
                each(&|v| values::date(v).map(drop), "a date")?;
                Values::Date(
                    raw.iter().filter_map(|v| values::date(v)).collect(),
                    cmp_of(op.base),
                )
            }
            Family::Bool | Family::Null => {
                each(&|v| values::boolean(v).map(drop), "true or false")?;
                let bools = raw.iter().filter_map(|v| values::boolean(v)).collect();
                if op.base == B::Null {
                    Values::Null(bools)
                } else {
                    Values::Bool(bools)
                }
            }
            Family::Binary => {
                each(&|v| values::binary(v).map(drop), "base64")?;
                Values::Binary(raw.iter().filter_map(|v| values::binary(v)).collect())
            }
            Family::Ip => {
                each(&|v| Cidr::parse(v).map(drop), "an IP address or CIDR range")?;
                Values::Ip(raw.iter().filter_map(|v| Cidr::parse(v)).collect())
            }
            Family::Arn => Values::Arn(
                raw.iter()
                    .map(|v| ArnPattern::compile_condition(v, variables))
                    .collect(),
            ),
        };
        Ok(Self {
            op,
            key: key.to_lowercase().into(),
            values,
        })
    }

    /// The lower-cased condition key.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// Keys of policy variables used in the values.
    pub(crate) fn variable_keys(&self, out: &mut Vec<Box<str>>) {
        match &self.values {
            Values::Str { patterns, .. } => {
                out.extend(
                    patterns
                        .iter()
                        .flat_map(Pattern::vars)
                        .map(|v| v.key.clone()),
                );
            }
            Values::Arn(arns) => arns.iter().for_each(|a| a.variable_keys(out)),
            _ => {}
        }
    }

    /// Evaluates the condition against the request context.
    pub(crate) fn eval(&self, ctx: &Context) -> Result<bool, BadRequestValue> {
        let value = ctx.get(&self.key);
        if let Values::Null(want) = &self.values {
            let absent = value.is_none_or(|v| v.is_empty());
            return Ok(want.contains(&absent));
        }
        let negated = self.op.base.negated();
        let Some(value) = value else {
            return Ok(match (self.op.if_exists, self.op.set) {
                (true, _) | (false, Some(SetQualifier::ForAllValues)) => true,
                (false, Some(SetQualifier::ForAnyValue)) => false,
                (false, None) => negated,
            });
        };
        let mut result = match self.op.set {
            Some(SetQualifier::ForAllValues) => true,
            Some(SetQualifier::ForAnyValue) | None => false,
        };
        for r in value.values() {
            let hit = self.hit(r, ctx)?;
            match self.op.set {
                Some(SetQualifier::ForAllValues) => result &= hit != negated,
                Some(SetQualifier::ForAnyValue) => result |= hit != negated,
                None => result |= hit,
            }
        }
        Ok(if self.op.set.is_none() && negated {
            !result
        } else {
            result
        })
    }

    /// True when request value `r` matches some policy value under the
    /// positive form of the operator.
    fn hit(&self, r: &str, ctx: &Context) -> Result<bool, BadRequestValue> {
        let bad = |family| BadRequestValue {
            key: self.key.clone(),
            family,
        };
        Ok(match &self.values {
            Values::Str { patterns, fold } => patterns
                .iter()
                .any(|p| p.matches(r, *fold, ctx) == Some(true)),
            Values::Arn(arns) => arns.iter().any(|p| p.matches(r, ctx) == Some(true)),
            Values::Num(ps, cmp) => {
                let v = values::number(r).ok_or_else(|| bad("a number"))?;
                ps.iter().any(|&p| compare(*cmp, v, p))
            }
            Values::Date(ps, cmp) => {
                let v = values::date(r).ok_or_else(|| bad("a date"))?;
                ps.iter().any(|&p| compare(*cmp, v, p))
            }
            Values::Bool(ps) => {
                let v = values::boolean(r).ok_or_else(|| bad("a boolean"))?;
                ps.contains(&v)
            }
            Values::Binary(ps) => {
                let v = values::binary(r).ok_or_else(|| bad("base64"))?;
                ps.contains(&v)
            }
            Values::Ip(ps) => {
                let v = values::ip(r).ok_or_else(|| bad("an IP address"))?;
                ps.iter().any(|c| c.contains(v))
            }
            Values::Null(_) => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: &str, key: &str, vals: &[&str]) -> CompiledCondition {
        let raw: Vec<String> = vals.iter().map(|s| s.to_string()).collect();
        CompiledCondition::compile(Operator::parse(op).unwrap(), key, &raw, true).unwrap()
    }

    #[test]
    fn parses_names() {
        let o = Operator::parse("ForAnyValue:StringLikeIfExists").unwrap();
        assert_eq!(o.base, BaseOperator::StringLike);
        assert!(o.if_exists);
        assert_eq!(o.name(), "ForAnyValue:StringLikeIfExists");
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("stringequals").is_none());
    }

    #[test]
    fn negated_values_are_nored() {
        let c = cond("StringNotEquals", "k", &["a", "b"]);
        let mut ctx = Context::new();
        ctx.insert("k", "a");
        assert!(!c.eval(&ctx).unwrap());
        ctx.insert("k", "c");
        assert!(c.eval(&ctx).unwrap());
        assert!(c.eval(&Context::new()).unwrap());
    }

    #[test]
    fn set_operators_on_empty_and_missing() {
        let all = cond("ForAllValues:StringEquals", "aws:TagKeys", &["a"]);
        let any = cond("ForAnyValue:StringEquals", "aws:TagKeys", &["a"]);
        let mut ctx = Context::new();
        assert!(all.eval(&ctx).unwrap());
        assert!(!any.eval(&ctx).unwrap());
        ctx.insert("aws:tagkeys", Vec::<String>::new());
        assert!(all.eval(&ctx).unwrap());
        assert!(!any.eval(&ctx).unwrap());
        ctx.insert("aws:tagkeys", vec!["a".to_owned(), "b".to_owned()]);
        assert!(!all.eval(&ctx).unwrap());
        assert!(any.eval(&ctx).unwrap());
    }

    #[test]
    fn bad_request_values_are_errors() {
        let c = cond("NumericLessThan", "n", &["5"]);
        let mut ctx = Context::new();
        ctx.insert("n", "five");
        assert!(c.eval(&ctx).is_err());
    }
}
