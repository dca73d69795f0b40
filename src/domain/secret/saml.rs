//! The raw SAML assertion of AssumeRoleWithSAML.
//!
//! Owns: [`SamlAssertion`], the `SAMLAssertion` parameter as sent (base64
//! of a whole `samlp:Response`). Until it expires it is as good as the
//! user's login, so it follows the rules of [`crate::domain::secret`]: a
//! placeholder `Debug`, no `Display` or `Serialize`, zeroized on drop, one
//! `expose_secret()`, constant-time equality. Pure: std, subtle, zeroize.
//! Spec: reference sections 1.2 (`SAMLAssertionType`) and 8.

/// The base64 text of a SAML response, as a caller sent it.
pub struct SamlAssertion(String);

// === impl SamlAssertion ===

impl SamlAssertion {
    /// Wraps the parameter's text (its length is checked by the transport).
    pub fn new(text: String) -> Self {
        Self(text)
    }

    /// The base64 text.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

secret_type!(SamlAssertion);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_and_compares() {
        let a = SamlAssertion::new("PHNhbWxwOlJlc3BvbnNlLz4=".to_owned());
        assert_eq!(format!("{a:?}"), "SamlAssertion(<redacted>)");
        assert_eq!(a, SamlAssertion::new("PHNhbWxwOlJlc3BvbnNlLz4=".to_owned()));
        assert_ne!(a, SamlAssertion::new("x".to_owned()));
        assert_eq!(a.expose_secret(), "PHNhbWxwOlJlc3BvbnNlLz4=");
    }
}
