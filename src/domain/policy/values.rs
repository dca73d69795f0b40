//! Typed condition values: numbers, dates, IP ranges, booleans, binary.
//!
//! Owns: parsing the text of policy values and request values for the
//! non-string operator families, with one parser per type used for both
//! sides so they always agree. Pure: std and data-encoding.

use std::net::IpAddr;

/// Parses an IAM number: an optional sign, digits, an optional fraction.
pub(crate) fn number(s: &str) -> Option<f64> {
    let t = s.trim();
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Parses a boolean (`true`/`false`, any case).
pub(crate) fn boolean(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Parses binary data written as base64.
pub(crate) fn binary(s: &str) -> Option<Vec<u8>> {
    let t = s.trim().as_bytes();
    data_encoding::BASE64
        .decode(t)
        .or_else(|_| data_encoding::BASE64_NOPAD.decode(t))
        .ok()
}

/// An IP range in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

// === impl Cidr ===

impl Cidr {
    /// Parses `a.b.c.d/n`, `v6/n`, or a bare address (/32 or /128).
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let t = s.trim();
        let (addr, prefix) = match t.split_once('/') {
            Some((a, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?)
            }
            Some(_) => return None,
            None => {
                let a = t.parse::<IpAddr>().ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Self { addr, prefix })
    }

    /// True when `ip` is inside the range (families must agree).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// Parses a request IP address (a bare address; a CIDR's address also works).
pub(crate) fn ip(s: &str) -> Option<IpAddr> {
    let t = s.trim();
    t.split_once('/').map_or(t, |(a, _)| a).parse().ok()
}

/// Parses a date: epoch seconds, or W3C ISO 8601 (date, or date and time
/// with an optional fraction and `Z` or an offset). Returns epoch
/// milliseconds.
pub(crate) fn date(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Some(secs) = number(t)
        && (!t.contains('-') || t.starts_with('-'))
    {
        return Some((secs * 1000.0) as i64);
    }
    let b = t.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = t.get(from..from + len)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let mut millis = days_from_civil(year, month, day) * 86_400_000;
    if t.len() == 10 {
        return Some(millis);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let (hour, minute) = (num(11, 2)?, num(14, 2)?);
    let mut i = 16;
    let mut second = 0;
    if b.get(16) == Some(&b':') {
        second = num(17, 2)?;
        i = 19;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    millis += ((hour * 60 + minute) * 60 + second) * 1000;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let frac = t.get(start..i)?;
        if frac.is_empty() {
            return None;
        }
        let ms: String = frac.chars().chain("00".chars()).take(3).collect();
        millis += ms.parse::<i64>().ok()?;
    }
    let zone = t.get(i..)?;
    let offset = match zone {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match zone.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let hm = zone.get(1..)?.replace(':', "");
            if hm.len() != 4 || !hm.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (h, m): (i64, i64) = (hm.get(..2)?.parse().ok()?, hm.get(2..)?.parse().ok()?);
            sign * (h * 60 + m) * 60_000
        }
    };
    Some(millis - offset)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date("1970-01-01"), Some(0));
        assert_eq!(date("2019-08-16T12:00:00Z"), Some(1_565_956_800_000));
        assert_eq!(date("2019-08-16T14:00:00+02:00"), Some(1_565_956_800_000));
        assert_eq!(date("2019-08-16T12:00:00.5Z"), Some(1_565_956_800_500));
        assert_eq!(date("1565956800"), Some(1_565_956_800_000));
        assert_eq!(date("2019-02-30"), None);
        assert_eq!(date("2019-08-16T25:00:00Z"), None);
        assert_eq!(date("yesterday"), None);
    }

    #[test]
    fn numbers_and_bools() {
        assert_eq!(number("10"), number("10.0"));
        assert_eq!(number("-3.5"), Some(-3.5));
        assert_eq!(number("NaN"), None);
        assert_eq!(number("1e5"), None);
        assert_eq!(number(""), None);
        assert_eq!(boolean("TRUE"), Some(true));
        assert_eq!(boolean("yes"), None);
    }

    #[test]
    fn cidrs() {
        let c = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(c.contains(ip("203.0.113.77").unwrap()));
        assert!(!c.contains(ip("203.0.114.1").unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("8.8.8.8").unwrap())
        );
        assert!(
            Cidr::parse("2001:db8::/32")
                .unwrap()
                .contains(ip("2001:db8::1").unwrap())
        );
        assert!(
            !Cidr::parse("2001:db8::1")
                .unwrap()
                .contains(ip("2001:db8::2").unwrap())
        );
        assert!(!c.contains(ip("::ffff:203.0.113.1").unwrap()));
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("10.0.0/8"), None);
    }

    #[test]
    fn base64() {
        assert_eq!(binary("QmluYXJ5VmFsdWU="), Some(b"BinaryValue".to_vec()));
        assert_eq!(binary("!!"), None);
    }
}
