//! SigV4 timestamps.
//!
//! Owns: [`AmzDate`], the request time as it appears in `X-Amz-Date`
//! (ISO 8601 basic format, `20150830T123600Z`), its parsing from that form
//! and from an HTTP `Date` header (IMF-fixdate), and its conversion to and
//! from Unix seconds. Pure: std only (civil-date arithmetic is done by hand,
//! after Howard Hinnant's `days_from_civil`). Spec: reference §4.2.

use std::fmt;

use super::error::{Sigv4Error, echo};

/// A request timestamp, to the second, in UTC.
///
/// INVARIANT: the year is within 0000..=9999, so the basic format is always
/// exactly 16 characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AmzDate {
    /// Seconds since the Unix epoch (negative before 1970).
    secs: i64,
}

/// The basic-format rendering of an [`AmzDate`], without allocating.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BasicFormat([u8; 16]);

const SECS_PER_DAY: i64 = 86_400;
const MIN_SECS: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
const MAX_SECS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

// === impl AmzDate ===

impl AmzDate {
    /// The timestamp `secs` seconds after the Unix epoch, if its year is
    /// within 0000..=9999.
    pub fn from_unix_secs(secs: i64) -> Option<Self> {
        (MIN_SECS..=MAX_SECS)
            .contains(&secs)
            .then_some(Self { secs })
    }

    /// The timestamp `secs` seconds after the Unix epoch, clamped to the
    /// representable years.
    pub(crate) fn saturating_from_unix_secs(secs: i64) -> Self {
        Self {
            secs: secs.clamp(MIN_SECS, MAX_SECS),
        }
    }

    /// Seconds since the Unix epoch.
    pub fn unix_secs(self) -> i64 {
        self.secs
    }

    /// Parses the ISO 8601 basic format `YYYYMMDD'T'HHMMSS'Z'`, strictly.
    pub fn parse_basic(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
            return None;
        }
        let year = digits(b, 0, 4)?;
        let month = digits(b, 4, 2)?;
        let day = digits(b, 6, 2)?;
        let hour = digits(b, 9, 2)?;
        let min = digits(b, 11, 2)?;
        let sec = digits(b, 13, 2)?;
        Self::from_civil(year, month, day, hour, min, sec)
    }

    /// Parses an HTTP `Date` header: IMF-fixdate (`Sun, 30 Aug 2015 12:36:00
    /// GMT`), or the basic format, which some clients put there.
    pub fn parse_http_date(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Some(date) = Self::parse_basic(s) {
            return Some(date);
        }
        let b = s.as_bytes();
        let (weekday, rest) = s.split_once(", ")?;
        let mut parts = rest.split(' ');
        let (day, month, year, time, zone) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if b.len() != 29 || parts.next().is_some() || zone != "GMT" {
            return None;
        }
        if !WEEKDAYS.contains(&weekday) || day.len() != 2 || year.len() != 4 || time.len() != 8 {
            return None;
        }
        let month = MONTHS.iter().position(|m| *m == month)?;
        let t = time.as_bytes();
        if t.get(2) != Some(&b':') || t.get(5) != Some(&b':') {
            return None;
        }
        let month = u32::try_from(month).ok()?.checked_add(1)?;
        let date = Self::from_civil(
            digits(year.as_bytes(), 0, 4)?,
            month,
            digits(day.as_bytes(), 0, 2)?,
            digits(t, 0, 2)?,
            digits(t, 3, 2)?,
            digits(t, 6, 2)?,
        )?;
        // A weekday that contradicts the date means the header was made up.
        (date.weekday() == weekday).then_some(date)
    }

    /// The basic format, `20150830T123600Z`.
    pub fn basic(self) -> BasicFormat {
        let days = self.secs.div_euclid(SECS_PER_DAY);
        let rem = self.secs.rem_euclid(SECS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let mut out = [b'0'; 16];
        put(&mut out, 0, 4, y);
        put(&mut out, 4, 2, m);
        put(&mut out, 6, 2, d);
        put(&mut out, 9, 2, rem / 3600);
        put(&mut out, 11, 2, rem % 3600 / 60);
        put(&mut out, 13, 2, rem % 60);
        if let Some(t) = out.get_mut(8) {
            *t = b'T';
        }
        if let Some(z) = out.get_mut(15) {
            *z = b'Z';
        }
        BasicFormat(out)
    }

    fn from_civil(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<Self> {
        if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
            return None;
        }
        if h > 23 || mi > 59 || s > 59 {
            return None;
        }
        let days = days_from_civil(i64::from(y), i64::from(mo), i64::from(d));
        Self::from_unix_secs(days * SECS_PER_DAY + i64::from(h * 3600 + mi * 60 + s))
    }

    fn weekday(self) -> &'static str {
        // 1970-01-01 was a Thursday (index 3 from Monday).
        let idx = (self.secs.div_euclid(SECS_PER_DAY) + 3).rem_euclid(7);
        usize::try_from(idx)
            .ok()
            .and_then(|i| WEEKDAYS.get(i))
            .copied()
            .unwrap_or("")
    }
}

impl std::str::FromStr for AmzDate {
    type Err = Sigv4Error;

    /// Parses the basic format, as [`AmzDate::parse_basic`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_basic(s).ok_or_else(|| Sigv4Error::MalformedDate(echo(s)))
    }
}

impl fmt::Display for AmzDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.basic().as_str())
    }
}

// === impl BasicFormat ===

impl BasicFormat {
    /// The whole timestamp, `20150830T123600Z`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The date part, `20150830`, as used in the credential scope.
    pub fn date(&self) -> &str {
        self.0
            .get(..8)
            .and_then(|d| std::str::from_utf8(d).ok())
            .unwrap_or("")
    }
}

impl fmt::Debug for BasicFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// === civil-date helpers ===

/// Reads `len` ASCII digits of `b` starting at `at`.
fn digits(b: &[u8], at: usize, len: usize) -> Option<u32> {
    let field = b.get(at..at.checked_add(len)?)?;
    field.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Writes `v` as `len` zero-padded digits into `out` at `at`.
fn put(out: &mut [u8; 16], at: usize, len: usize, v: i64) {
    let mut v = v;
    for i in (at..at + len).rev() {
        if let (Some(slot), Ok(d)) = (out.get_mut(i), u8::try_from(v.rem_euclid(10))) {
            *slot = b'0' + d;
        }
        v /= 10;
    }
}

fn is_leap(y: u32) -> bool {
    y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_formats_the_suite_time() {
        let d = AmzDate::parse_basic("20150830T123600Z").unwrap();
        assert_eq!(d.unix_secs(), 1_440_938_160);
        assert_eq!(d.to_string(), "20150830T123600Z");
        assert_eq!(d.basic().date(), "20150830");
    }

    #[test]
    fn rejects_malformed_basic_dates() {
        assert_eq!(
            "2015".parse::<AmzDate>(),
            Err(Sigv4Error::MalformedDate("2015".into()))
        );
        for bad in [
            "",
            "20150830T123600",
            "20150830 123600Z",
            "2015-08-30T12:36:00Z",
            "20151330T123600Z",
            "20150230T123600Z",
            "20150830T243600Z",
            "20150830T126000Z",
            "20150830T123660Z",
            "2015083OT123600Z",
            "+0150830T123600Z",
            "20150830T123600Zx",
            "２015083T123600Z",
        ] {
            assert_eq!(AmzDate::parse_basic(bad), None, "{bad}");
        }
        assert!(AmzDate::parse_basic("20160229T000000Z").is_some());
        assert!(AmzDate::parse_basic("21000229T000000Z").is_none());
    }

    #[test]
    fn parses_http_dates() {
        let d = AmzDate::parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT").unwrap();
        assert_eq!(d.to_string(), "20150830T123600Z");
        assert_eq!(AmzDate::parse_http_date("20150830T123600Z"), Some(d));
        assert_eq!(
            AmzDate::parse_http_date("Mon, 30 Aug 2015 12:36:00 GMT"),
            None
        );
        assert_eq!(
            AmzDate::parse_http_date("Sun, 30 Aug 2015 12:36:00 UTC"),
            None
        );
        assert_eq!(
            AmzDate::parse_http_date("Sun, 30 Foo 2015 12:36:00 GMT"),
            None
        );
        assert_eq!(
            AmzDate::parse_http_date("Sun, 30 Aug 2015 12-36-00 GMT"),
            None
        );
    }

    #[test]
    fn range_is_four_digit_years() {
        assert_eq!(
            AmzDate::from_unix_secs(MIN_SECS).unwrap().to_string(),
            "00000101T000000Z"
        );
        assert_eq!(
            AmzDate::from_unix_secs(MAX_SECS).unwrap().to_string(),
            "99991231T235959Z"
        );
        assert_eq!(AmzDate::from_unix_secs(MAX_SECS + 1), None);
        assert_eq!(AmzDate::from_unix_secs(MIN_SECS - 1), None);
    }

    proptest! {
        #[test]
        fn basic_format_round_trips(secs in MIN_SECS..=MAX_SECS) {
            let d = AmzDate::from_unix_secs(secs).unwrap();
            prop_assert_eq!(AmzDate::parse_basic(d.basic().as_str()), Some(d));
            prop_assert_eq!(d.to_string().parse::<AmzDate>(), Ok(d));
            let basic = d.basic();
            let b = basic.as_str();
            let day = (secs.div_euclid(SECS_PER_DAY) + 3).rem_euclid(7);
            let http = format!(
                "{}, {} {} {} {}:{}:{} GMT",
                WEEKDAYS[usize::try_from(day).unwrap()],
                b.get(6..8).unwrap(),
                MONTHS[b.get(4..6).unwrap().parse::<usize>().unwrap() - 1],
                b.get(0..4).unwrap(),
                b.get(9..11).unwrap(),
                b.get(11..13).unwrap(),
                b.get(13..15).unwrap(),
            );
            prop_assert_eq!(AmzDate::parse_http_date(&http), Some(d));
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = AmzDate::parse_basic(&s);
            let _ = AmzDate::parse_http_date(&s);
        }
    }
}
