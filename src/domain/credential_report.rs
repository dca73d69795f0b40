//! IAM's credential report: its rows and its CSV.
//!
//! Owns: [`UserRow`] (one user's — or the root's — password, MFA and
//! access keys as IAM's credential report describes them), [`render`] (the
//! CSV with AWS's exact column set and value spellings: ISO 8601 dates,
//! `N/A`, `no_information`, `not_supported`), [`parse`] (reading such a
//! CSV back, for `stsd report keys`) and [`stale_keys`] (which active keys
//! are unused or old by given thresholds). Times are Unix seconds, given.
//!
//! Pure: std and `domain::sigv4::AmzDate` (date formatting) only.

use crate::domain::sigv4::AmzDate;

/// AWS's columns, in order.
pub const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// The `user` of the root's row.
pub const ROOT_USER: &str = "<root_account>";

/// A console password, as the report sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Password {
    /// The root: passwords are not stsd's (`not_supported`).
    NotSupported,
    /// No login profile.
    None,
    /// A login profile.
    Enabled {
        /// When the password was set.
        last_changed: u64,
        /// When it was last used to sign in; `None`: never recorded.
        last_used: Option<u64>,
        /// When the password policy makes it expire.
        next_rotation: Option<u64>,
    },
}

/// One access key, as the report sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    /// `Active` (not `Inactive`).
    pub active: bool,
    /// Created (the report's "last rotated").
    pub created: u64,
    /// Last use: when, region, service.
    pub last_used: Option<(u64, Option<String>, Option<String>)>,
}

/// One row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// The user name, or [`ROOT_USER`].
    pub user: String,
    /// The ARN.
    pub arn: String,
    /// When the user (or account) was created.
    pub created: u64,
    /// The console password.
    pub password: Password,
    /// An MFA device is enabled.
    pub mfa_active: bool,
    /// Access keys, oldest first; the report shows the first two.
    pub keys: Vec<KeyRow>,
}

/// `2014-10-09T20:46:50+00:00`, or `N/A` for a time out of range.
pub fn iso8601(secs: u64) -> String {
    let Some(date) = i64::try_from(secs).ok().and_then(AmzDate::from_unix_secs) else {
        return "N/A".to_owned();
    };
    let basic = date.basic();
    let b = basic.as_str();
    let part = |r: std::ops::Range<usize>| b.get(r).unwrap_or("00");
    format!(
        "{}-{}-{}T{}:{}:{}+00:00",
        part(0..4),
        part(4..6),
        part(6..8),
        part(9..11),
        part(11..13),
        part(13..15)
    )
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn boolean(b: bool) -> String {
    b.to_string()
}

fn or_na(value: Option<&str>) -> String {
    value.unwrap_or("N/A").to_owned()
}

/// The CSV of `rows`: a header line, then one line per row.
pub fn render(rows: &[UserRow]) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for row in rows {
        let (enabled, last_used, changed, next) = match &row.password {
            Password::NotSupported => (
                "not_supported".to_owned(),
                "no_information".to_owned(),
                "not_supported".to_owned(),
                "not_supported".to_owned(),
            ),
            Password::None => (
                "false".to_owned(),
                "N/A".to_owned(),
                "N/A".to_owned(),
                "N/A".to_owned(),
            ),
            Password::Enabled {
                last_changed,
                last_used,
                next_rotation,
            } => (
                "true".to_owned(),
                last_used.map_or_else(|| "no_information".to_owned(), iso8601),
                iso8601(*last_changed),
                next_rotation.map_or_else(|| "N/A".to_owned(), iso8601),
            ),
        };
        let mut cells = vec![
            field(&row.user),
            field(&row.arn),
            iso8601(row.created),
            enabled,
            last_used,
            changed,
            next,
            boolean(row.mfa_active),
        ];
        for i in 0..2 {
            match row.keys.get(i) {
                Some(k) => {
                    let used = k.last_used.as_ref();
                    cells.push(boolean(k.active));
                    cells.push(iso8601(k.created));
                    cells.push(used.map_or_else(|| "N/A".to_owned(), |u| iso8601(u.0)));
                    cells.push(or_na(used.and_then(|u| u.1.as_deref())));
                    cells.push(or_na(used.and_then(|u| u.2.as_deref())));
                }
                None => {
                    cells.push("false".to_owned());
                    cells.extend(std::iter::repeat_n("N/A".to_owned(), 4));
                }
            }
        }
        // Signing certificates are not stsd's.
        cells.extend(["false", "N/A", "false", "N/A"].map(str::to_owned));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// The records of a CSV: lines of fields, quotes honoured.
pub fn parse(csv: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = csv.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => record.push(std::mem::take(&mut cell)),
            ('\n', false) => {
                record.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut record));
            }
            ('\r', false) => {}
            (c, _) => cell.push(c),
        }
    }
    if !cell.is_empty() || !record.is_empty() {
        record.push(cell);
        records.push(record);
    }
    records
}

/// Why a key is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staleness {
    /// Active and not used for the threshold (or never, and older than it).
    Unused,
    /// Active and created longer ago than the threshold.
    Old,
}

/// An active key worth attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleKey {
    /// The user (or [`ROOT_USER`]).
    pub user: String,
    /// 1 or 2: which key of the user's.
    pub slot: u8,
    /// Why.
    pub why: Staleness,
    /// Days since last use (`None`: never used).
    pub unused_days: Option<u64>,
    /// Days since creation.
    pub age_days: u64,
}

/// Parses the report's `2014-10-09T20:46:50+00:00`.
pub fn parse_iso8601(text: &str) -> Option<u64> {
    let basic: String = text
        .get(0..19)?
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let secs = AmzDate::parse_basic(&format!("{basic}Z"))?.unix_secs();
    u64::try_from(secs).ok()
}

/// The active keys of `csv` unused for `unused_days` or older than
/// `max_age_days`, at `now`.
pub fn stale_keys(csv: &str, now: u64, unused_days: u64, max_age_days: u64) -> Vec<StaleKey> {
    let records = parse(csv);
    let Some((header, rows)) = records.split_first() else {
        return Vec::new();
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let days = |secs: u64| now.saturating_sub(secs) / 86_400;
    let mut out = Vec::new();
    for row in rows {
        let get = |name: &str| col(name).and_then(|i| row.get(i)).map(String::as_str);
        let Some(user) = get("user") else { continue };
        for slot in 1..=2_u8 {
            let prefix = format!("access_key_{slot}");
            if get(&format!("{prefix}_active")) != Some("true") {
                continue;
            }
            let Some(created) = get(&format!("{prefix}_last_rotated")).and_then(parse_iso8601)
            else {
                continue;
            };
            let used = get(&format!("{prefix}_last_used_date")).and_then(parse_iso8601);
            let age_days = days(created);
            let unused = used.map(days);
            let why = if unused.unwrap_or(age_days) >= unused_days {
                Some(Staleness::Unused)
            } else if age_days >= max_age_days {
                Some(Staleness::Old)
            } else {
                None
            };
            if let Some(why) = why {
                out.push(StaleKey {
                    user: user.to_owned(),
                    slot,
                    why,
                    unused_days: unused,
                    age_days,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    fn rows() -> Vec<UserRow> {
        vec![
            UserRow {
                user: ROOT_USER.into(),
                arn: "arn:aws:iam::123456789012:root".into(),
                created: 1_412_887_610,
                password: Password::NotSupported,
                mfa_active: false,
                keys: vec![],
            },
            UserRow {
                user: "a,b".into(),
                arn: "arn:aws:iam::123456789012:user/a,b".into(),
                created: 100 * DAY,
                password: Password::Enabled {
                    last_changed: 101 * DAY,
                    last_used: None,
                    next_rotation: Some(191 * DAY),
                },
                mfa_active: true,
                keys: vec![
                    KeyRow {
                        active: true,
                        created: 100 * DAY,
                        last_used: Some((150 * DAY, Some("us-east-1".into()), Some("sts".into()))),
                    },
                    KeyRow {
                        active: true,
                        created: 190 * DAY,
                        last_used: None,
                    },
                ],
            },
        ]
    }

    #[test]
    fn the_csv_has_aws_columns_and_spellings() {
        let csv = render(&rows());
        let records = parse(&csv);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0], COLUMNS);
        assert_eq!(records[1][0], "<root_account>");
        assert_eq!(records[1][2], "2014-10-09T20:46:50+00:00");
        assert_eq!(records[1][3], "not_supported");
        assert_eq!(records[1][8], "false");
        assert_eq!(records[1][9], "N/A");
        assert_eq!(records[2][0], "a,b");
        assert_eq!(records[2][3], "true");
        assert_eq!(records[2][4], "no_information");
        assert_eq!(records[2][7], "true");
        assert_eq!(records[2][11], "us-east-1");
        assert_eq!(records[2][12], "sts");
        assert_eq!(records[2][15], "N/A");
        assert!(records.iter().all(|r| r.len() == COLUMNS.len()));
        assert_eq!(
            parse_iso8601("2014-10-09T20:46:50+00:00"),
            Some(1_412_887_610)
        );
    }

    #[test]
    fn stale_keys_are_unused_or_old() {
        let csv = render(&rows());
        // At day 200: key 1 unused for 50 days, 100 days old; key 2 never
        // used, 10 days old.
        let now = 200 * DAY;
        let stale = stale_keys(&csv, now, 30, 365);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].slot, 1);
        assert_eq!(stale[0].why, Staleness::Unused);
        assert_eq!(stale[0].unused_days, Some(50));
        let stale = stale_keys(&csv, now, 60, 90);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].why, Staleness::Old);
        let stale = stale_keys(&csv, now, 5, 1000);
        assert_eq!(stale.len(), 2);
        assert_eq!(stale[1].unused_days, None);
    }
}
