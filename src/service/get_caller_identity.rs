//! `GetCallerIdentity`: who signed this request.
//!
//! Owns: the use case (reference 1.3): the caller's user id, account and
//! ARN. No permission is needed and an explicit deny on
//! `sts:GetCallerIdentity` is ignored, so the evaluator is not consulted.
//! Imports `domain` and `service::authn`.

use crate::domain::ids::{AccountId, Arn, Partition};
use crate::service::authn::Caller;

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The account id for root, the `AIDA…` id for a user,
    /// `AROA…:session` for a role session.
    pub user_id: String,
    /// The caller's account.
    pub account: AccountId,
    /// The caller's ARN (role sessions: the assumed-role ARN, without the
    /// role's path).
    pub arn: Arn,
}

/// Describes `caller` in `partition`.
pub fn get_caller_identity(caller: &Caller, partition: &Partition) -> CallerIdentity {
    CallerIdentity {
        user_id: caller.user_id(),
        account: caller.account,
        arn: caller.arn(partition),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::authn::Identity;

    #[test]
    fn users_are_described_by_their_unique_id_and_path() {
        let caller = Caller {
            account: "111122223333".parse().unwrap(),
            identity: Identity::User {
                name: "alice".parse().unwrap(),
                unique_id: "AIDARTX3GSDSEXAMPLEAB".parse().unwrap(),
                path: "/eng/".parse().unwrap(),
            },
            access_key_id: "AKIAIOSFODNN7EXAMPLE".parse().ok(),
            region: None,
        };
        let id = get_caller_identity(&caller, &"aws".parse().unwrap());
        assert_eq!(id.user_id, "AIDARTX3GSDSEXAMPLEAB");
        assert_eq!(
            id.arn.to_string(),
            "arn:aws:iam::111122223333:user/eng/alice"
        );
    }
}
