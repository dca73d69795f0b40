//! GenerateCredentialReport and GetCredentialReport.
//!
//! Owns: [`CredentialReports`] — building an account's report from the
//! store (the root's row, then every user's: login profile and password
//! policy, enabled MFA devices, access keys with their last use) into the
//! CSV of `domain::credential_report`, and keeping the last report of each
//! account for four hours, as IAM does. Both actions are authorized by the
//! shared evaluator (`iam:GenerateCredentialReport`,
//! `iam:GetCredentialReport`, resource `*`).
//!
//! Reports are kept in the memory of the replica that generated them: on
//! another replica `GetCredentialReport` answers `ReportNotPresent` until
//! it is asked to generate one. The root credentials given by the
//! environment are not store keys and are not in the report.
//!
//! May import `domain`, `service::authz`, `service::error` and
//! `service::store`.

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::domain::credential_report::{KeyRow, Password, ROOT_USER, UserRow, render};
use crate::domain::ids::{AccessKeyId, AccountId, Arn};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::Iam;
use crate::service::iam::scan::list_all;
use crate::service::store::model::{
    AccessKeyRecord, AccessKeyStatus, AccountRecord, LoginProfileRecord, PasswordPolicyRecord,
    UserRecord,
};
use crate::service::store::{Key, fetch};

/// How long a report is served (IAM: four hours).
pub const REPORT_LIFETIME_SECS: u64 = 4 * 3600;

/// One generated report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// When it was generated (Unix seconds).
    pub generated_at: u64,
    /// The CSV.
    pub csv: String,
}

/// GenerateCredentialReport's `State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// A new report was made (IAM: "STARTED").
    Started,
    /// A report younger than four hours exists ("COMPLETE").
    Complete,
}

/// The last report of each account.
#[derive(Debug, Default)]
pub struct CredentialReports {
    reports: Mutex<HashMap<AccountId, Report>>,
}

// === impl CredentialReports ===

impl CredentialReports {
    /// GenerateCredentialReport: makes the caller's account's report unless
    /// one younger than four hours exists.
    ///
    /// # Errors
    ///
    /// `AccessDenied`; the store's failure.
    pub async fn generate(
        &self,
        iam: &Iam,
        caller: &AuthzCaller,
    ) -> Result<Generation, ServiceError> {
        caller.authorize("iam:GenerateCredentialReport", "*", &[])?;
        let account = caller.account();
        let now = now_secs(iam);
        let fresh = self
            .reports
            .lock()
            .get(&account)
            .is_some_and(|r| now < r.generated_at.saturating_add(REPORT_LIFETIME_SECS));
        if fresh {
            return Ok(Generation::Complete);
        }
        let csv = render(&rows(iam, account).await?);
        self.reports.lock().insert(
            account,
            Report {
                generated_at: now,
                csv,
            },
        );
        Ok(Generation::Started)
    }

    /// GetCredentialReport: the account's report.
    ///
    /// # Errors
    ///
    /// `AccessDenied`; `ReportNotPresent` when none was generated (here);
    /// `ReportExpired` when it is older than four hours.
    pub fn get(&self, iam: &Iam, caller: &AuthzCaller) -> Result<Report, ServiceError> {
        caller.authorize("iam:GetCredentialReport", "*", &[])?;
        let report = self.reports.lock().get(&caller.account()).cloned();
        let report = report.ok_or_else(|| {
            ServiceError::new(
                ErrorCode::ReportNotPresent,
                "Credential report not present. Use GenerateCredentialReport to generate a report.",
            )
        })?;
        if now_secs(iam) >= report.generated_at.saturating_add(REPORT_LIFETIME_SECS) {
            return Err(ServiceError::new(
                ErrorCode::ReportExpired,
                "Credential report expired. Use GenerateCredentialReport to generate a new report.",
            ));
        }
        Ok(report)
    }
}

fn now_secs(iam: &Iam) -> u64 {
    u64::try_from(iam.clock.now_secs()).unwrap_or(0)
}

/// The report's rows: the root's, then each user's in name order.
async fn rows(iam: &Iam, account: AccountId) -> Result<Vec<UserRow>, ServiceError> {
    let store = &*iam.store;
    let record = fetch::<AccountRecord>(store, &Key::account(account))
        .await?
        .ok_or_else(|| ServiceError::internal("the caller's account record is missing"))?
        .record;
    let max_age = fetch::<PasswordPolicyRecord>(store, &Key::password_policy(account))
        .await?
        .and_then(|p| p.record.policy.max_age_secs());
    let mut rows = vec![UserRow {
        user: ROOT_USER.to_owned(),
        arn: Arn::iam_root(&iam.partition, account).to_string(),
        created: record.create_date.as_unix_secs(),
        password: Password::NotSupported,
        mfa_active: !record.root_mfa_devices.is_empty(),
        keys: keys(iam, account, &record.root_access_keys).await?,
    }];
    for user in list_all::<UserRecord>(store, account).await? {
        let profile = fetch::<LoginProfileRecord>(store, &Key::login_profile(account, &user.name))
            .await?
            .map(|p| p.record);
        let password = match profile {
            None => Password::None,
            Some(p) => Password::Enabled {
                last_changed: p.password.set_at,
                last_used: user.password_last_used.map(|t| t.as_unix_secs()),
                next_rotation: max_age.map(|age| p.password.set_at.saturating_add(age)),
            },
        };
        rows.push(UserRow {
            user: user.name.to_string(),
            arn: user.arn.to_string(),
            created: user.create_date.as_unix_secs(),
            password,
            mfa_active: !user.mfa_devices.is_empty(),
            keys: keys(iam, account, &user.access_keys).await?,
        });
    }
    Ok(rows)
}

/// The rows of `ids`, oldest first.
async fn keys(
    iam: &Iam,
    account: AccountId,
    ids: &[AccessKeyId],
) -> Result<Vec<KeyRow>, ServiceError> {
    let mut out = Vec::new();
    for id in ids {
        let key = Key::access_key(account, id);
        let Some(record) = fetch::<AccessKeyRecord>(&*iam.store, &key).await? else {
            continue;
        };
        let used = iam.store.last_used(&key).await?;
        out.push(KeyRow {
            active: record.record.status == AccessKeyStatus::Active,
            created: record.record.create_date.as_unix_secs(),
            last_used: used.map(|u| {
                (
                    u.date.as_unix_secs(),
                    u.region.map(|r| r.to_string()),
                    u.service,
                )
            }),
        });
    }
    out.sort_by_key(|k| k.created);
    Ok(out)
}
