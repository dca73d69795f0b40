//! The action table of the Query API.
//!
//! Owns: [`Dispatcher`], which maps `(Service, Action)` to a [`Handler`]
//! and says whether the action needs a signature ([`Auth`]); [`Service`]
//! (STS or IAM: version, XML namespace, signing name); and [`Call`], what a
//! handler receives. A request names its service by `Version` (SDKs always
//! send it); the signature's credential scope must then name the same
//! service, which authentication checks. Imports `service` and the api's
//! own `query` and `xml`.
//!
//! # Registering an operation
//!
//! ```ignore
//! dispatcher.register(Service::Iam, "GetUser", Auth::Signed, move |call: Call| {
//!     let users = users.clone();
//!     async move {
//!         let caller = call.caller()?;
//!         let name = call.params.root().parse::<UserName>("UserName")?;
//!         let user = users.get_user(caller, name).await?;
//!         let mut r = XmlResponse::new();
//!         r.structure("User", |u| { u.string("UserName", user.name); });
//!         Ok(r)
//!     }
//! });
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::query::Params;
use super::xml::XmlResponse;
use crate::service::authn::Caller;
use crate::service::authz::Transport;
use crate::service::error::{ErrorCode, ServiceError};

/// The route tables' hasher: their keys are fixed at start-up.
type Fold = foldhash::fast::RandomState;

/// A boxed, sendable future: what a [`Handler`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The services on the Query endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// STS, `Version=2011-06-15`.
    Sts,
    /// IAM, `Version=2010-05-08`.
    Iam,
}

/// Whether an action requires a SigV4 signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Signed; the handler receives the authenticated caller.
    Signed,
    /// Unsigned (`AssumeRoleWithSAML`, `AssumeRoleWithWebIdentity`): any
    /// `Authorization` header is ignored and no caller is passed.
    Unsigned,
}

/// What a handler receives.
#[derive(Debug)]
pub struct Call {
    /// The decoded parameters.
    pub params: Params,
    /// The authenticated caller; `None` exactly for [`Auth::Unsigned`]
    /// actions.
    pub caller: Option<Caller>,
    /// The request id (also in `x-amzn-RequestId` and the log span).
    pub request_id: Arc<str>,
    /// What the connection says about the request: the client's address,
    /// TLS, and the signing region (the `aws:SourceIp`,
    /// `aws:SecureTransport` and `aws:RequestedRegion` context keys).
    pub transport: Transport,
}

/// An operation: decoded request in, result or AWS error out.
pub trait Handler: Send + Sync + 'static {
    /// Runs the operation.
    fn call(&self, call: Call) -> BoxFuture<'static, Result<XmlResponse, ServiceError>>;
}

/// One registered action.
#[derive(Clone)]
pub struct Route {
    /// Its service.
    pub service: Service,
    /// Its name, as registered (safe as an XML element name).
    pub action: &'static str,
    /// Whether it needs a signature.
    pub auth: Auth,
    handler: Arc<dyn Handler>,
}

/// The action table.
#[derive(Default, Clone)]
pub struct Dispatcher {
    routes: HashMap<Service, HashMap<&'static str, Route, Fold>, Fold>,
}

// === impl Service ===

impl Service {
    /// The API version string.
    pub fn version(self) -> &'static str {
        match self {
            Self::Sts => "2011-06-15",
            Self::Iam => "2010-05-08",
        }
    }

    /// The XML namespace of responses.
    pub fn namespace(self) -> &'static str {
        match self {
            Self::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
            Self::Iam => "https://iam.amazonaws.com/doc/2010-05-08/",
        }
    }

    /// The SigV4 signing name.
    pub fn signing_name(self) -> &'static str {
        match self {
            Self::Sts => "sts",
            Self::Iam => "iam",
        }
    }

    /// The service of API version `version`.
    pub fn from_version(version: &str) -> Option<Self> {
        [Self::Sts, Self::Iam]
            .into_iter()
            .find(|s| s.version() == version)
    }
}

// === impl Call ===

impl Call {
    /// The authenticated caller.
    ///
    /// # Errors
    ///
    /// `MissingAuthenticationToken` when called from an unsigned action.
    pub fn caller(&self) -> Result<&Caller, ServiceError> {
        self.caller.as_ref().ok_or_else(|| {
            ServiceError::new(
                ErrorCode::MissingAuthenticationToken,
                "Request is missing Authentication Token.",
            )
        })
    }
}

// === impl Handler ===

impl<F, Fut> Handler for F
where
    F: Fn(Call) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<XmlResponse, ServiceError>> + Send + 'static,
{
    fn call(&self, call: Call) -> BoxFuture<'static, Result<XmlResponse, ServiceError>> {
        Box::pin(self(call))
    }
}

// === impl Route ===

impl Route {
    /// Runs the handler.
    pub fn call(&self, call: Call) -> BoxFuture<'static, Result<XmlResponse, ServiceError>> {
        self.handler.call(call)
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("service", &self.service)
            .field("action", &self.action)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

// === impl Dispatcher ===

impl Dispatcher {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` for `action` of `service`, replacing an earlier
    /// registration of the same pair.
    pub fn register(
        &mut self,
        service: Service,
        action: &'static str,
        auth: Auth,
        handler: impl Handler,
    ) -> &mut Self {
        let route = Route {
            service,
            action,
            auth,
            handler: Arc::new(handler),
        };
        self.routes
            .entry(service)
            .or_default()
            .insert(action, route);
        self
    }

    /// The route of a request, by its `Version` and `Action`.
    ///
    /// # Errors
    ///
    /// `MissingAction`, or AWS's `InvalidAction` ("Could not find operation
    /// X for version Y") for an unknown action or version.
    pub fn route(&self, params: &Params) -> Result<&Route, ServiceError> {
        let action = params.action()?;
        let version = params.version();
        version
            .and_then(Service::from_version)
            .and_then(|s| self.routes.get(&s))
            .and_then(|actions| actions.get(action))
            .ok_or_else(|| {
                let mut shown: String = action.chars().take(128).collect();
                if action.chars().nth(128).is_some() {
                    shown.push_str("...");
                }
                let version: String = version
                    .unwrap_or("NO_VERSION_SPECIFIED")
                    .chars()
                    .take(32)
                    .collect();
                ServiceError::new(
                    ErrorCode::InvalidAction,
                    format!("Could not find operation {shown} for version {version}"),
                )
            })
    }

    /// Number of registered actions.
    pub fn len(&self) -> usize {
        self.routes.values().map(HashMap::len).sum()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("actions", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::query::Limits;

    fn params(body: &str) -> Params {
        Params::decode(b"", body.as_bytes(), &Limits::default()).unwrap()
    }

    fn table() -> Dispatcher {
        let mut d = Dispatcher::new();
        d.register(
            Service::Sts,
            "GetCallerIdentity",
            Auth::Signed,
            |_c: Call| async { Ok(XmlResponse::new()) },
        )
        .register(
            Service::Sts,
            "AssumeRoleWithWebIdentity",
            Auth::Unsigned,
            |c: Call| async move {
                let mut r = XmlResponse::new();
                r.string("Token", c.params.root().required("WebIdentityToken")?);
                Ok(r)
            },
        );
        d
    }

    #[test]
    fn routes_by_version_and_action() {
        let d = table();
        assert_eq!(d.len(), 2);
        let r = d
            .route(&params("Action=GetCallerIdentity&Version=2011-06-15"))
            .unwrap();
        assert_eq!(
            (r.service, r.action, r.auth),
            (Service::Sts, "GetCallerIdentity", Auth::Signed)
        );
        let r = d
            .route(&params(
                "Action=AssumeRoleWithWebIdentity&Version=2011-06-15",
            ))
            .unwrap();
        assert_eq!(r.auth, Auth::Unsigned);
    }

    #[test]
    fn unknown_actions_and_versions_are_invalid_action() {
        let d = table();
        for (body, message) in [
            (
                "Action=Nope&Version=2011-06-15",
                "Could not find operation Nope for version 2011-06-15",
            ),
            (
                "Action=GetCallerIdentity&Version=2010-05-08",
                "Could not find operation GetCallerIdentity for version 2010-05-08",
            ),
            (
                "Action=GetCallerIdentity",
                "Could not find operation GetCallerIdentity for version NO_VERSION_SPECIFIED",
            ),
        ] {
            let e = d.route(&params(body)).unwrap_err();
            assert_eq!((e.code(), e.message()), (ErrorCode::InvalidAction, message));
        }
        assert_eq!(
            d.route(&params("Version=2011-06-15")).unwrap_err().code(),
            ErrorCode::MissingAction
        );
    }

    #[tokio::test]
    async fn handlers_receive_the_call() {
        let d = table();
        let p = params("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=t");
        let route = d.route(&p).unwrap().clone();
        let call = Call {
            params: p,
            caller: None,
            request_id: "r".into(),
            transport: Transport::default(),
        };
        assert!(call.caller().is_err());
        let out = route.call(call).await.unwrap();
        assert!(crate::api::xml::render_success("A", "ns", &out, "r").contains("<Token>t</Token>"));
    }
}
