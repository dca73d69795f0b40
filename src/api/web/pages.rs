//! The HTML of the sign-in pages.
//!
//! Owns: one function per page — [`sign_in`], [`roles`], [`credentials`],
//! [`message`] — over one [`layout`]. Every value is escaped by [`esc`];
//! no inline script or style (the CSP forbids them): `app.css` and
//! `app.js` are the only resources. Forms carry the CSRF token in a hidden
//! `csrf` field; every input has a `<label>`; the document order is the
//! focus order. Imports `service::sso` types only.

use std::fmt::Write as _;

use crate::service::sso::sessions::{CliRequest, Issued, Person};
use crate::service::sso::{OidcLogin, SamlLogin};

/// `s` escaped for HTML text and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page around `body`.
pub(super) fn layout(title: &str, body: &str) -> String {
    format!(
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<title>{title} · stsd</title>",
            "<link rel=\"stylesheet\" href=\"/web/static/app.css\">",
            "<script src=\"/web/static/app.js\" defer></script></head>",
            "<body><header><p class=\"brand\">stsd</p></header>",
            "<main id=\"main\"><h1>{title}</h1>{body}</main></body></html>\n"
        ),
        title = esc(title),
        body = body
    )
}

/// An alert paragraph, when there is something to say.
fn alert(error: Option<&str>) -> String {
    error
        .map(|e| {
            format!(
                "<p class=\"alert\" role=\"alert\" id=\"error\">{}</p>",
                esc(e)
            )
        })
        .unwrap_or_default()
}

/// What the sign-in form shows again after a refusal.
#[derive(Debug, Default)]
pub(super) struct SignInForm<'a> {
    /// The refusal, if any.
    pub(super) error: Option<&'a str>,
    /// The account typed.
    pub(super) account: &'a str,
    /// The user name typed.
    pub(super) user: &'a str,
    /// Whether to ask for the MFA code.
    pub(super) mfa: bool,
}

/// The sign-in page: a button per provider, and the IAM-user form.
pub(super) fn sign_in(
    oidc: &[OidcLogin],
    saml: &[SamlLogin],
    users: bool,
    csrf: &str,
    form: &SignInForm<'_>,
) -> String {
    let mut body = alert(form.error);
    if !oidc.is_empty() || !saml.is_empty() {
        body.push_str("<section aria-labelledby=\"sso\"><h2 id=\"sso\">Single sign-on</h2><ul class=\"providers\">");
        for p in oidc {
            let _ = write!(
                body,
                "<li><a class=\"button\" data-provider=\"{name}\" href=\"/web/oidc/{name}/start\">Sign in with {label}</a></li>",
                name = esc(&p.name),
                label = esc(&p.label)
            );
        }
        for p in saml {
            let _ = write!(
                body,
                "<li><a class=\"button\" data-provider=\"{name}\" href=\"/web/saml/{name}/start\">Sign in with {label}</a></li>",
                name = esc(&p.name),
                label = esc(&p.label)
            );
        }
        body.push_str("</ul></section>");
    }
    if users {
        let mfa = if form.mfa {
            "<label for=\"mfa_code\">MFA code</label><input id=\"mfa_code\" name=\"mfa_code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\" required autofocus>"
        } else {
            "<label for=\"mfa_code\">MFA code <span class=\"hint\">(if your user has a device)</span></label><input id=\"mfa_code\" name=\"mfa_code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\">"
        };
        let _ = write!(
            body,
            concat!(
                "<section aria-labelledby=\"iam\"><h2 id=\"iam\">IAM user</h2>",
                "<form method=\"post\" action=\"/web/signin\">",
                "<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">",
                "<label for=\"account\">Account ID or alias</label>",
                "<input id=\"account\" name=\"account\" value=\"{account}\" autocomplete=\"organization\" required>",
                "<label for=\"user\">User name</label>",
                "<input id=\"user\" name=\"user\" value=\"{user}\" autocomplete=\"username\" required>",
                "<label for=\"password\">Password</label>",
                "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>",
                "{mfa}<button type=\"submit\">Sign in</button></form></section>"
            ),
            csrf = esc(csrf),
            account = esc(form.account),
            user = esc(form.user),
            mfa = mfa
        );
    }
    if oidc.is_empty() && saml.is_empty() && !users {
        body.push_str("<p>No sign-in method is configured on this broker.</p>");
    }
    layout("Sign in", &body)
}

/// The role picker.
pub(super) fn roles(
    person: &Person,
    csrf: &str,
    error: Option<&str>,
    cli: Option<&CliRequest>,
) -> String {
    let mut body = alert(error);
    if let Some(cli) = cli {
        let _ = write!(
            body,
            "<p class=\"alert\" id=\"cli-request\">A command line (<code>stsd login</code>) waiting at <code>{}</code> asks for credentials. Continue only if you started it: the credentials of the role you choose go to it.</p>",
            esc(&cli.redirect_uri)
        );
    }
    let _ = write!(
        body,
        "<p>Signed in as <strong id=\"person\">{}</strong> through {}.</p>",
        esc(&person.display),
        esc(&person.via)
    );
    if person.roles.is_empty() {
        body.push_str("<p id=\"no-roles\">There is no role you may assume.</p>");
    } else {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/web/roles\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><fieldset><legend>Choose a role</legend>",
            esc(csrf)
        );
        let wanted = cli
            .and_then(|c| c.role_arn.as_ref())
            .filter(|r| person.roles.contains(r));
        for (i, role) in person.roles.iter().enumerate() {
            let arn = role.as_str();
            let name = arn.rsplit('/').next().unwrap_or(arn);
            let checked = match wanted {
                Some(w) if w == role => " checked",
                None if i == 0 => " checked",
                _ => "",
            };
            let _ = write!(
                body,
                "<div class=\"role\"><input type=\"radio\" id=\"role-{i}\" name=\"role_arn\" value=\"{arn}\"{checked}><label for=\"role-{i}\">{name} <span class=\"arn\">{arn}</span></label></div>",
                arn = esc(arn),
                name = esc(name),
            );
        }
        body.push_str("</fieldset><button type=\"submit\">Continue</button></form>");
    }
    body.push_str(&logout_form(csrf));
    layout("Choose a role", &body)
}

/// The credentials page: the values, their expiry, and ready-to-paste
/// snippets.
pub(super) fn credentials(
    issued: &Issued,
    csrf: &str,
    region: &str,
    broker: &str,
    expires: &str,
    has_roles: bool,
) -> String {
    let key = esc(&issued.access_key_id);
    let secret = esc(issued.secret.expose_secret());
    let token = esc(issued.token.expose_secret());
    let region = esc(region);
    let profile = "stsd";
    let role = issued
        .role_arn
        .as_ref()
        .map(|r| format!(" --role-arn {}", esc(r.as_str())))
        .unwrap_or_default();
    let mut body = String::new();
    let _ = write!(
        body,
        concat!(
            "<p>Acting as <strong id=\"arn\">{arn}</strong>.</p>",
            "<p>Expires at <time id=\"expiration\" datetime=\"{expires}\">{expires}</time> ",
            "<span id=\"countdown\" data-expires=\"{expires_at}\" aria-live=\"polite\"></span></p>",
            "<dl class=\"values\">",
            "<dt>Access key ID</dt><dd><code id=\"access-key-id\">{key}</code></dd>",
            "<dt>Secret access key</dt><dd><code id=\"secret-access-key\">{secret}</code></dd>",
            "<dt>Session token</dt><dd><code id=\"session-token\">{token}</code></dd></dl>"
        ),
        arn = esc(&issued.arn),
        expires = esc(expires),
        expires_at = issued.expires_at,
        key = key,
        secret = secret,
        token = token,
    );
    let snippets = [
        (
            "export-bash",
            "bash / zsh",
            format!(
                "export AWS_ACCESS_KEY_ID={key}\nexport AWS_SECRET_ACCESS_KEY={secret}\nexport AWS_SESSION_TOKEN={token}\nexport AWS_REGION={region}"
            ),
        ),
        (
            "export-fish",
            "fish",
            format!(
                "set -gx AWS_ACCESS_KEY_ID {key}\nset -gx AWS_SECRET_ACCESS_KEY {secret}\nset -gx AWS_SESSION_TOKEN {token}\nset -gx AWS_REGION {region}"
            ),
        ),
        (
            "export-powershell",
            "PowerShell",
            format!(
                "$Env:AWS_ACCESS_KEY_ID=&quot;{key}&quot;\n$Env:AWS_SECRET_ACCESS_KEY=&quot;{secret}&quot;\n$Env:AWS_SESSION_TOKEN=&quot;{token}&quot;\n$Env:AWS_REGION=&quot;{region}&quot;"
            ),
        ),
        (
            "aws-credentials",
            "~/.aws/credentials",
            format!(
                "[{profile}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\naws_session_token = {token}"
            ),
        ),
        (
            "credential-process",
            "~/.aws/config (credential_process, after stsd login)",
            format!(
                "# first: stsd login --broker {broker}{role} --profile {profile}\n[profile {profile}]\nregion = {region}\ncredential_process = stsd credential-process --profile {profile}",
                broker = esc(broker)
            ),
        ),
    ];
    for (id, title, text) in snippets {
        let _ = write!(
            body,
            "<section class=\"snippet\"><h2 id=\"{id}-title\">{title}</h2><pre id=\"{id}\" aria-labelledby=\"{id}-title\">{text}</pre><button type=\"button\" class=\"copy\" data-copy=\"{id}\" hidden>Copy {title}</button></section>",
            title = esc(title)
        );
    }
    if has_roles {
        body.push_str("<p><a href=\"/web/roles\">Choose another role</a></p>");
    }
    body.push_str(&logout_form(csrf));
    layout("Your credentials", &body)
}

/// A page that only says something (an error, signed out).
pub(super) fn message(title: &str, text: &str) -> String {
    layout(
        title,
        &format!(
            "<p class=\"alert\" role=\"alert\" id=\"error\">{}</p><p><a href=\"/web\">Back to sign in</a></p>",
            esc(text)
        ),
    )
}

/// The sign-out button.
fn logout_form(csrf: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/web/logout\" class=\"logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">Sign out</button></form>",
        esc(csrf)
    )
}
