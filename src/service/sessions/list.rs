//! Sessions.List.
//!
//! Owns: [`Sessions::list`]: who holds live credentials in the caller's
//! account, filtered, a page at a time; authorized as
//! `stsd:ListSessions` on the role's ARN when the filter names a role,
//! else on `*`. May import the parent's imports.

use crate::domain::ids::{AccessKeyId, PrincipalKind};
use crate::domain::sessions::{IssuedSession, SessionFilter};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::store::{MAX_SESSION_PAGE, Timestamp};

use super::{LIST_ACTION, Sessions};

/// The page size when the caller names none.
pub const DEFAULT_MAX_ITEMS: u32 = 100;

/// A page of live sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionList {
    /// The sessions, in access key id order.
    pub sessions: Vec<IssuedSession>,
    /// The marker of the next page, `None` on the last.
    pub marker: Option<String>,
}

// === impl Sessions (list) ===

impl Sessions {
    /// The live sessions of `caller`'s account that `filter` selects,
    /// after `marker`, at most `max_items` (1–1,000, default 100).
    ///
    /// # Errors
    ///
    /// `InvalidParameterValue` (a role of another account, a bad marker),
    /// `ValidationError` (`maxItems`), `AccessDenied`, the store's errors.
    pub async fn list(
        &self,
        caller: &AuthzCaller,
        filter: SessionFilter,
        marker: Option<&str>,
        max_items: Option<u32>,
    ) -> Result<SessionList, ServiceError> {
        let account = caller.account();
        let resource = match &filter.role_arn {
            Some(arn) => {
                let is_role = matches!(arn.principal_kind(), PrincipalKind::Role { .. });
                if !is_role || arn.account_id() != Some(account) {
                    return Err(ServiceError::new(
                        ErrorCode::InvalidParameterValue,
                        format!("roleArn must be a role ARN of account {account}"),
                    ));
                }
                arn.to_string()
            }
            None => "*".to_owned(),
        };
        let limit = max_items.unwrap_or(DEFAULT_MAX_ITEMS);
        let max = u32::try_from(MAX_SESSION_PAGE).unwrap_or(u32::MAX);
        if limit == 0 || limit > max {
            return Err(ServiceError::validation(
                &limit.to_string(),
                "maxItems",
                "Member must have value between 1 and 1000",
            ));
        }
        let after = marker
            .map(|m| {
                m.parse::<AccessKeyId>().map_err(|_| {
                    ServiceError::new(ErrorCode::InvalidParameterValue, "marker is not valid")
                })
            })
            .transpose()?;
        caller.authorize(LIST_ACTION, &resource, &[])?;
        let now = Timestamp::now(self.clock.as_ref());
        let page = self
            .store
            .list_sessions(
                account,
                &filter,
                now,
                after.as_ref(),
                usize::try_from(limit).unwrap_or(MAX_SESSION_PAGE),
            )
            .await?;
        Ok(SessionList {
            sessions: page.items,
            marker: page.next.map(|id| id.to_string()),
        })
    }
}
