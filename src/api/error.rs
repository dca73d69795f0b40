//! THE table from error codes to the wire.
//!
//! Owns: [`wire`], an exhaustive `match` from [`ErrorCode`] to the HTTP
//! status, the fault side (`Sender`/`Receiver` in the error envelope),
//! whether a client may retry, and the gRPC code a future gRPC transport
//! sends (house style 8). It is the only place a status is chosen: a new
//! [`ErrorCode`] breaks this build until it is placed here. Imports
//! `service::error` and `http` only.
//!
//! Statuses follow reference 1.7 (STS) and IAM's error pages.

use http::StatusCode;

use crate::service::error::ErrorCode;

/// Who is at fault, as the error envelope's `<Type>` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request was wrong (4xx).
    Sender,
    /// The server failed (5xx).
    Receiver,
}

/// gRPC status codes (the numbers of `google.rpc.Code`), for the gRPC
/// transport to come; kept here so the table stays in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum GrpcCode {
    /// 3.
    InvalidArgument = 3,
    /// 4.
    DeadlineExceeded = 4,
    /// 5.
    NotFound = 5,
    /// 6.
    AlreadyExists = 6,
    /// 7.
    PermissionDenied = 7,
    /// 8.
    ResourceExhausted = 8,
    /// 9.
    FailedPrecondition = 9,
    /// 10.
    Aborted = 10,
    /// 13.
    Internal = 13,
    /// 14.
    Unavailable = 14,
    /// 16.
    Unauthenticated = 16,
}

/// How one error code travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire {
    /// The HTTP status.
    pub status: StatusCode,
    /// `Sender` or `Receiver`.
    pub fault: Fault,
    /// Whether retrying the same request may succeed.
    pub retryable: bool,
    /// The gRPC status code.
    pub grpc: GrpcCode,
}

// === impl Fault ===

impl Fault {
    /// The envelope's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sender => "Sender",
            Self::Receiver => "Receiver",
        }
    }
}

/// The table.
pub fn wire(code: ErrorCode) -> Wire {
    use ErrorCode as E;
    use GrpcCode as G;
    let (status, retryable, grpc) = match code {
        E::AccessDenied => (403, false, G::PermissionDenied),
        E::InvalidAction => (400, false, G::InvalidArgument),
        E::MissingAction => (400, false, G::InvalidArgument),
        E::MissingParameter => (400, false, G::InvalidArgument),
        E::InvalidParameterValue => (400, false, G::InvalidArgument),
        E::ValidationError => (400, false, G::InvalidArgument),
        E::InvalidClientTokenId => (403, false, G::Unauthenticated),
        E::ExpiredToken => (403, false, G::Unauthenticated),
        E::SignatureDoesNotMatch => (403, false, G::Unauthenticated),
        E::IncompleteSignature => (400, false, G::Unauthenticated),
        E::MissingAuthenticationToken => (403, false, G::Unauthenticated),
        E::RequestExpired => (400, false, G::Unauthenticated),
        E::Throttling => (400, true, G::ResourceExhausted),
        E::ServiceUnavailable => (503, true, G::Unavailable),
        E::InternalFailure => (500, true, G::Internal),
        E::MalformedPolicyDocument => (400, false, G::InvalidArgument),
        E::RequestEntityTooLarge => (413, false, G::InvalidArgument),
        E::NoSuchEntity => (404, false, G::NotFound),
        E::EntityAlreadyExists => (409, false, G::AlreadyExists),
        E::LimitExceeded => (409, false, G::ResourceExhausted),
        E::DeleteConflict => (409, false, G::FailedPrecondition),
        E::InvalidInput => (400, false, G::InvalidArgument),
        E::ConcurrentModification => (409, true, G::Aborted),
        E::EntityTemporarilyUnmodifiable => (409, true, G::FailedPrecondition),
        E::InvalidAuthenticationCode => (403, false, G::PermissionDenied),
        E::ReportNotPresent => (410, false, G::NotFound),
        E::PackedPolicyTooLarge => (400, false, G::InvalidArgument),
        E::RegionDisabledException => (403, false, G::FailedPrecondition),
        E::ExpiredTokenException => (400, false, G::Unauthenticated),
        E::IdpRejectedClaim => (403, false, G::PermissionDenied),
        E::IdpCommunicationError => (400, true, G::Unavailable),
        E::InvalidIdentityToken => (400, false, G::Unauthenticated),
        E::InvalidAuthorizationMessageException => (400, false, G::InvalidArgument),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let fault = if status.is_server_error() {
        Fault::Receiver
    } else {
        Fault::Sender
    };
    Wire {
        status,
        fault,
        retryable,
        grpc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_reference() {
        assert_eq!(
            wire(ErrorCode::InvalidAction).status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            wire(ErrorCode::SignatureDoesNotMatch).status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(wire(ErrorCode::ExpiredToken).status, StatusCode::FORBIDDEN);
        assert_eq!(
            wire(ErrorCode::ExpiredTokenException).status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(wire(ErrorCode::NoSuchEntity).status, StatusCode::NOT_FOUND);
        assert_eq!(
            wire(ErrorCode::EntityAlreadyExists).status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            wire(ErrorCode::RequestEntityTooLarge).status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        let internal = wire(ErrorCode::InternalFailure);
        assert_eq!(
            (internal.status.as_u16(), internal.fault),
            (500, Fault::Receiver)
        );
        assert!(internal.retryable);
        let unavailable = wire(ErrorCode::ServiceUnavailable);
        assert_eq!(
            (unavailable.fault, unavailable.grpc as u8),
            (Fault::Receiver, 14)
        );
        assert_eq!(wire(ErrorCode::AccessDenied).fault, Fault::Sender);
    }
}
