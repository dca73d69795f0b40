//! `X.member.N` lists (reference 2.1).
//!
//! Owns: the list accessors of [`Scope`]: lists of scalars
//! (`TransitiveTagKeys.member.1=…`), lists of structures
//! (`Tags.member.1.Key=…`), the empty-list form (`Tags=`), and the checks
//! that indexes are canonical decimal numbers from 1 without gaps.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::Scope;
use crate::service::error::ServiceError;

/// Longest list accepted; the parameter limit bounds it further.
const MAX_ITEMS: usize = 1000;

/// One list element: its index and what follows `member.N`.
enum Rest<'a> {
    /// `X.member.N=value`.
    Scalar(&'a str),
    /// `X.member.N.Field=value`.
    Field,
}

// === impl Scope ===

impl<'a> Scope<'a> {
    /// The list of scalars `name`, in index order; empty when absent or
    /// sent as the empty list.
    ///
    /// # Errors
    ///
    /// A `ValidationError` for a malformed or missing index, or an element
    /// that is a structure.
    pub fn list(&self, name: &str) -> Result<Vec<&'a str>, ServiceError> {
        let items = self.items(name)?;
        let mut out = Vec::with_capacity(items.len());
        for (index, rest) in items {
            match rest {
                Rest::Scalar(v) => out.push(v),
                Rest::Field => {
                    return Err(self.invalid(
                        &format!("{name}.member.{index}"),
                        "",
                        "Member must be a single value, not a structure",
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The list of structures `name`, one [`Scope`] per element in index
    /// order; empty when absent or sent as the empty list.
    ///
    /// # Errors
    ///
    /// As [`Scope::list`], or an element that is a single value.
    pub fn struct_list(&self, name: &str) -> Result<Vec<Scope<'a>>, ServiceError> {
        let items = self.items(name)?;
        let mut out = Vec::with_capacity(items.len());
        for (index, rest) in items {
            let member = format!("{name}.member.{index}");
            match rest {
                Rest::Field => out.push(Scope {
                    entries: self.entries,
                    prefix: format!("{}{member}.", self.prefix),
                }),
                Rest::Scalar(v) => {
                    return Err(self.invalid(&member, v, "Member must be a structure"));
                }
            }
        }
        Ok(out)
    }

    /// The elements of list `name` by index, checked to run 1, 2, … n.
    fn items(&self, name: &str) -> Result<BTreeMap<usize, Rest<'a>>, ServiceError> {
        // Absent, the common case at the top level: no parameter sorts at
        // or after `name` with it as a prefix. Answered without building
        // a key.
        if self.prefix.is_empty()
            && self
                .entries
                .range::<str, _>((Bound::Included(name), Bound::Unbounded))
                .next()
                .is_none_or(|(k, _)| !k.starts_with(name))
        {
            return Ok(BTreeMap::new());
        }
        // One key buffer, `<scope><name>.`; the list's own key is it
        // without the dot.
        let prefix = format!("{}{name}.", self.prefix);
        let base = prefix.strip_suffix('.').unwrap_or_default();
        if let Some(v) = self.entries.get(base).filter(|v| !v.is_empty()) {
            return Err(self.invalid(
                name,
                v,
                &format!("Member must be a list sent as {name}.member.N"),
            ));
        }
        let mut items: BTreeMap<usize, Rest<'a>> = BTreeMap::new();
        for (key, value) in self
            .entries
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(&prefix))
        {
            let tail = key.strip_prefix(&prefix).unwrap_or_default();
            let (index, rest) = self.item(name, tail, value)?;
            match items.get(&index) {
                // Fields of one structure element share its index.
                Some(Rest::Field) if matches!(rest, Rest::Field) => {}
                Some(_) => {
                    return Err(self.invalid(
                        &format!("{name}.member.{index}"),
                        "",
                        "Member must be either a single value or a structure",
                    ));
                }
                None => {
                    items.insert(index, rest);
                }
            }
        }
        if items.len() > MAX_ITEMS {
            return Err(self.invalid(
                name,
                "",
                &format!("Member must have at most {MAX_ITEMS} items"),
            ));
        }
        if let Some(gap) = (1..=items.len()).find(|i| !items.contains_key(i)) {
            return Err(self.invalid(
                name,
                "",
                &format!("Member must be a list with indexes 1 to {} without gaps; {name}.member.{gap} is missing", items.len()),
            ));
        }
        Ok(items)
    }
}

// === impl Scope (elements) ===

impl<'a> Scope<'a> {
    /// One parameter under list `name`: `tail` is what follows `Name.`.
    fn item(
        &self,
        name: &str,
        tail: &str,
        value: &'a str,
    ) -> Result<(usize, Rest<'a>), ServiceError> {
        let Some(element) = tail.strip_prefix("member.") else {
            return Err(self.invalid(
                name,
                tail,
                &format!("Member must be a list sent as {name}.member.N"),
            ));
        };
        let (index_text, field) = element
            .split_once('.')
            .map_or((element, None), |(i, f)| (i, Some(f)));
        let index = parse_index(index_text).ok_or_else(|| {
            self.invalid(
                name,
                index_text,
                "Member must be a list with indexes 1, 2, 3, ...",
            )
        })?;
        let rest = match field {
            None => Rest::Scalar(value),
            Some("") => {
                return Err(self.invalid(name, tail, "Member must name a structure member"));
            }
            Some(_) => Rest::Field,
        };
        Ok((index, rest))
    }
}

/// A canonical list index: decimal, from 1, no leading zero or sign.
fn parse_index(text: &str) -> Option<usize> {
    if text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 6 {
        return None;
    }
    text.parse().ok().filter(|i| *i >= 1)
}
