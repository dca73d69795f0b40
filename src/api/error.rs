//! THE table from error codes to the wire.
//!
//! Owns: [`wire`], an exhaustive `match` from [`ErrorCode`] to the HTTP
//! status, the fault side (`Sender`/`Receiver` in the error envelope),
//! whether a client may retry, and the gRPC code the gRPC transport sends
//! (house style 8); and [`grpc_status`] / [`grpc_response`], the one
//! conversion of a [`ServiceError`] into a `tonic::Status` (the gRPC code
//! of the table, the AWS code in `x-amzn-errortype` metadata, the request
//! id in `x-amzn-requestid`, the Query API's message text). It is the only
//! place a status is chosen: a new [`ErrorCode`] breaks this build until
//! it is placed here. The sign-in pages' statuses are here too
//! ([`web_status`]). Imports `service::error`, `service::sso`, `http` and
//! `tonic` only.
//!
//! Statuses follow reference 1.7 (STS) and IAM's error pages. gRPC codes
//! by class: policy denials `PERMISSION_DENIED`; every signature, key and
//! token failure `UNAUTHENTICATED`; malformed input, validation and size
//! errors `INVALID_ARGUMENT`; missing entities `NOT_FOUND` (also
//! `ReportNotPresent`); quotas and throttling `RESOURCE_EXHAUSTED`;
//! transient failures `UNAVAILABLE`; bugs `INTERNAL`; duplicates
//! `ALREADY_EXISTS`; state conflicts `FAILED_PRECONDITION`
//! (`DeleteConflict`, `EntityTemporarilyUnmodifiable`,
//! `RegionDisabledException`); `ConcurrentModification` `ABORTED`.

use http::StatusCode;
use tonic::metadata::MetadataValue;

use crate::service::error::{ErrorCode, ServiceError};

/// The gRPC metadata key carrying the AWS error code.
pub const GRPC_ERROR_TYPE: &str = "x-amzn-errortype";

/// The gRPC metadata key carrying the request id.
pub const GRPC_REQUEST_ID: &str = "x-amzn-requestid";

/// Who is at fault, as the error envelope's `<Type>` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request was wrong (4xx).
    Sender,
    /// The server failed (5xx).
    Receiver,
}

/// gRPC status codes (the numbers of `google.rpc.Code`) the table uses.
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

// === impl GrpcCode ===

impl GrpcCode {
    /// tonic's code.
    pub fn code(self) -> tonic::Code {
        match self {
            Self::InvalidArgument => tonic::Code::InvalidArgument,
            Self::DeadlineExceeded => tonic::Code::DeadlineExceeded,
            Self::NotFound => tonic::Code::NotFound,
            Self::AlreadyExists => tonic::Code::AlreadyExists,
            Self::PermissionDenied => tonic::Code::PermissionDenied,
            Self::ResourceExhausted => tonic::Code::ResourceExhausted,
            Self::FailedPrecondition => tonic::Code::FailedPrecondition,
            Self::Aborted => tonic::Code::Aborted,
            Self::Internal => tonic::Code::Internal,
            Self::Unavailable => tonic::Code::Unavailable,
            Self::Unauthenticated => tonic::Code::Unauthenticated,
        }
    }
}

/// `err` as the gRPC status of request `request_id`: the table's code, the
/// message the Query API sends, the AWS code in `x-amzn-errortype` and
/// the request id in `x-amzn-requestid`. A denial's record must already be
/// sealed into the message (as the Query handler does).
pub fn grpc_status(err: &ServiceError, request_id: &str) -> tonic::Status {
    let code = err.code();
    let mut status = tonic::Status::new(wire(code).grpc.code(), err.message());
    let metadata = status.metadata_mut();
    metadata.insert(GRPC_ERROR_TYPE, MetadataValue::from_static(code.as_str()));
    if let Ok(id) = MetadataValue::try_from(request_id) {
        metadata.insert(GRPC_REQUEST_ID, id);
    }
    status
}

/// `err` as a complete (trailers-only) gRPC HTTP response, for failures
/// before a gRPC handler runs (authentication, body limit, timeout).
pub fn grpc_response<B: Default>(err: &ServiceError, request_id: &str) -> http::Response<B> {
    grpc_status(err, request_id).into_http()
}

/// The HTTP status of a sign-in page that failed with `error`.
pub fn web_status(error: &crate::service::sso::SsoError) -> StatusCode {
    use crate::service::sso::SsoError as E;
    match error {
        E::BadRequest(_) | E::LoginExpired => StatusCode::BAD_REQUEST,
        E::BadCredentials | E::MfaRequired | E::NotSignedIn => StatusCode::UNAUTHORIZED,
        E::Csrf | E::NotOffered(_) | E::PasswordChange(_) => StatusCode::FORBIDDEN,
        E::Idp(_) => StatusCode::BAD_GATEWAY,
        E::Refused(e) => wire(e.code()).status,
        E::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
        E::ReportExpired => (410, false, G::NotFound),
        E::PasswordPolicyViolation => (400, false, G::InvalidArgument),
        E::InvalidUserType => (400, false, G::InvalidArgument),
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
            wire(ErrorCode::PasswordPolicyViolation).status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            wire(ErrorCode::InvalidUserType).status,
            StatusCode::BAD_REQUEST
        );
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

    #[test]
    fn grpc_statuses_carry_the_aws_code_and_request_id() {
        for (code, grpc) in [
            (ErrorCode::AccessDenied, tonic::Code::PermissionDenied),
            (
                ErrorCode::SignatureDoesNotMatch,
                tonic::Code::Unauthenticated,
            ),
            (ErrorCode::ExpiredToken, tonic::Code::Unauthenticated),
            (ErrorCode::ValidationError, tonic::Code::InvalidArgument),
            (
                ErrorCode::PackedPolicyTooLarge,
                tonic::Code::InvalidArgument,
            ),
            (ErrorCode::NoSuchEntity, tonic::Code::NotFound),
            (ErrorCode::LimitExceeded, tonic::Code::ResourceExhausted),
            (ErrorCode::IdpCommunicationError, tonic::Code::Unavailable),
            (ErrorCode::InternalFailure, tonic::Code::Internal),
        ] {
            let status = grpc_status(&ServiceError::new(code, "the text"), "req-1");
            assert_eq!(status.code(), grpc, "{code:?}");
            assert_eq!(status.message(), "the text");
            let md = status.metadata();
            assert_eq!(md.get(GRPC_ERROR_TYPE).unwrap(), code.as_str());
            assert_eq!(md.get(GRPC_REQUEST_ID).unwrap(), "req-1");
        }
        let response: http::Response<()> =
            grpc_response(&ServiceError::new(ErrorCode::Throttling, "slow"), "r");
        assert_eq!(response.headers()["grpc-status"], "8");
        assert_eq!(response.headers()[GRPC_ERROR_TYPE], "Throttling");
    }
}
