//! Console sign-in actions on the wire: CreateLoginProfile,
//! GetLoginProfile, UpdateLoginProfile, DeleteLoginProfile,
//! ChangePassword, GetAccountPasswordPolicy, UpdateAccountPasswordPolicy,
//! DeleteAccountPasswordPolicy, CreateAccountAlias, DeleteAccountAlias,
//! ListAccountAliases.
//!
//! Owns: decoding their parameters — passwords go straight into
//! [`Password`], and a refused one is reported by member name and broken
//! constraint, never echoed (botocore marks `passwordType` sensitive) —
//! and writing `LoginProfile` (whose `CreateDate` is when the current
//! password was set: the model's "date when the password for the user was
//! created"), `PasswordPolicy` and `AccountAliases`. No response carries a
//! password or a hash. Imports `service` and the api's own modules.

use std::sync::Arc;

use super::route::route;
use super::users::secs;
use super::{paging, write_page};
use crate::api::dispatch::Dispatcher;
use crate::api::query::Scope;
use crate::api::xml::XmlResponse;
use crate::domain::password::{MAX_AGE_RANGE, MIN_LENGTH_RANGE, PasswordPolicy, REUSE_RANGE};
use crate::domain::secret::{
    PASSWORD_MAX_LEN, PASSWORD_MIN_LEN, PASSWORD_PATTERN, Password, SecretError,
};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::Iam;
use crate::service::iam::login::profiles::{self, CreateLoginProfile, UpdateLoginProfile};
use crate::service::iam::login::{alias, policy};
use crate::service::store::model::LoginProfileRecord;

/// Registers the console sign-in actions.
pub fn register(d: &mut Dispatcher, iam: &Arc<Iam>) {
    register_profiles(d, iam);
    register_policy(d, iam);
    register_aliases(d, iam);
}

/// Password member `name`, when present.
///
/// # Errors
///
/// A `ValidationError` naming the member and the constraint it breaks,
/// without the value.
fn password(p: &Scope<'_>, name: &str) -> Result<Option<Password>, ServiceError> {
    let Some(raw) = p.optional(name) else {
        return Ok(None);
    };
    Password::try_from(raw.to_owned()).map(Some).map_err(|e| {
        let constraint = match e {
            SecretError::PasswordLength { found } if found < PASSWORD_MIN_LEN => {
                format!("Member must have length greater than or equal to {PASSWORD_MIN_LEN}")
            }
            SecretError::PasswordLength { .. } => {
                format!("Member must have length less than or equal to {PASSWORD_MAX_LEN}")
            }
            _ => format!("Member must satisfy regular expression pattern: {PASSWORD_PATTERN}"),
        };
        ServiceError::new(
            ErrorCode::ValidationError,
            format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: {constraint}",
                p.member(name)
            ),
        )
    })
}

/// Like [`password`], for a required member.
fn required_password(p: &Scope<'_>, name: &str) -> Result<Password, ServiceError> {
    password(p, name)?.ok_or_else(|| p.missing(name))
}

/// `<LoginProfile>`.
fn write_profile(r: &mut XmlResponse, profile: &LoginProfileRecord) {
    r.structure("LoginProfile", |x| {
        x.string("UserName", profile.user.as_str())
            .timestamp("CreateDate", secs(profile.password.set_at))
            .bool("PasswordResetRequired", profile.password.reset_required);
    });
}

fn register_profiles(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(
        d,
        iam,
        "CreateLoginProfile",
        |iam, caller, call| async move {
            let p = call.params.root();
            let input = CreateLoginProfile {
                name: p.parse("UserName")?,
                password: required_password(&p, "Password")?,
                reset_required: p.boolean("PasswordResetRequired")?.unwrap_or(false),
            };
            let profile = profiles::create_login_profile(&iam, &caller, input).await?;
            let mut r = XmlResponse::new();
            write_profile(&mut r, &profile);
            Ok(r)
        },
    );
    route(d, iam, "GetLoginProfile", |iam, caller, call| async move {
        let name = call.params.root().parse("UserName")?;
        let profile = profiles::get_login_profile(&iam, &caller, name).await?;
        let mut r = XmlResponse::new();
        write_profile(&mut r, &profile);
        Ok(r)
    });
    route(
        d,
        iam,
        "UpdateLoginProfile",
        |iam, caller, call| async move {
            let p = call.params.root();
            let input = UpdateLoginProfile {
                name: p.parse_required("UserName")?,
                password: password(&p, "Password")?,
                reset_required: p.boolean("PasswordResetRequired")?,
            };
            profiles::update_login_profile(&iam, &caller, input).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "DeleteLoginProfile",
        |iam, caller, call| async move {
            let name = call.params.root().parse("UserName")?;
            profiles::delete_login_profile(&iam, &caller, name).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(d, iam, "ChangePassword", |iam, caller, call| async move {
        let p = call.params.root();
        let old = required_password(&p, "OldPassword")?;
        let new = required_password(&p, "NewPassword")?;
        profiles::change_password(&iam, &caller, old, new).await?;
        Ok(XmlResponse::no_result())
    });
}

/// An integer setting within `range`, as a `u32`.
fn setting(p: &Scope<'_>, name: &str, range: (u32, u32)) -> Result<Option<u32>, ServiceError> {
    let n = p.integer(name, i64::from(range.0), i64::from(range.1))?;
    Ok(n.and_then(|n| u32::try_from(n).ok()))
}

/// UpdateAccountPasswordPolicy's parameters: each left out takes its
/// default.
fn policy_params(p: &Scope<'_>) -> Result<PasswordPolicy, ServiceError> {
    let defaults = PasswordPolicy::default();
    let flag = |name: &str| -> Result<bool, ServiceError> { Ok(p.boolean(name)?.unwrap_or(false)) };
    Ok(PasswordPolicy {
        minimum_length: setting(p, "MinimumPasswordLength", MIN_LENGTH_RANGE)?
            .unwrap_or(defaults.minimum_length),
        require_symbols: flag("RequireSymbols")?,
        require_numbers: flag("RequireNumbers")?,
        require_uppercase: flag("RequireUppercaseCharacters")?,
        require_lowercase: flag("RequireLowercaseCharacters")?,
        allow_users_to_change: flag("AllowUsersToChangePassword")?,
        max_age_days: setting(p, "MaxPasswordAge", MAX_AGE_RANGE)?,
        reuse_prevention: setting(p, "PasswordReusePrevention", REUSE_RANGE)?,
        hard_expiry: p.boolean("HardExpiry")?,
    })
}

/// `<PasswordPolicy>`: the optional settings only when set, as AWS.
fn write_policy(r: &mut XmlResponse, policy: &PasswordPolicy) {
    r.structure("PasswordPolicy", |x| {
        x.int("MinimumPasswordLength", i64::from(policy.minimum_length))
            .bool("RequireSymbols", policy.require_symbols)
            .bool("RequireNumbers", policy.require_numbers)
            .bool("RequireUppercaseCharacters", policy.require_uppercase)
            .bool("RequireLowercaseCharacters", policy.require_lowercase)
            .bool("AllowUsersToChangePassword", policy.allow_users_to_change)
            .bool("ExpirePasswords", policy.expire_passwords());
        if let Some(days) = policy.max_age_days {
            x.int("MaxPasswordAge", i64::from(days));
        }
        if let Some(n) = policy.reuse_prevention {
            x.int("PasswordReusePrevention", i64::from(n));
        }
        if let Some(hard) = policy.hard_expiry {
            x.bool("HardExpiry", hard);
        }
    });
}

fn register_policy(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(
        d,
        iam,
        "GetAccountPasswordPolicy",
        |iam, caller, _call| async move {
            let found = policy::get_account_password_policy(&iam, &caller).await?;
            let mut r = XmlResponse::new();
            write_policy(&mut r, &found);
            Ok(r)
        },
    );
    route(
        d,
        iam,
        "UpdateAccountPasswordPolicy",
        |iam, caller, call| async move {
            let settings = policy_params(&call.params.root())?;
            policy::update_account_password_policy(&iam, &caller, settings).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "DeleteAccountPasswordPolicy",
        |iam, caller, _call| async move {
            policy::delete_account_password_policy(&iam, &caller).await?;
            Ok(XmlResponse::no_result())
        },
    );
}

fn register_aliases(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(
        d,
        iam,
        "CreateAccountAlias",
        |iam, caller, call| async move {
            let name = call.params.root().parse_required("AccountAlias")?;
            alias::create_account_alias(&iam, &caller, name).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "DeleteAccountAlias",
        |iam, caller, call| async move {
            let name = call.params.root().parse_required("AccountAlias")?;
            alias::delete_account_alias(&iam, &caller, name).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "ListAccountAliases",
        |iam, caller, call| async move {
            let paging = paging(&call.params.root())?;
            let page = alias::list_account_aliases(&iam, &caller, &paging).await?;
            let mut r = XmlResponse::new();
            r.list("AccountAliases", |l| {
                for a in &page.items {
                    l.string(a.as_str());
                }
            });
            write_page(&mut r, &page);
            Ok(r)
        },
    );
}
