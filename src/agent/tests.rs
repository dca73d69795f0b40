//! The agent's configuration: what is accepted, and errors that name the
//! key and line.

use super::config::{AgentConfig, Mode, RoleAuth};

const BROKER: &str = "[broker]\nendpoint = \"http://127.0.0.1:8433\"\n";
const ROLE: &str =
    "[role]\narn = \"arn:aws:iam::123456789012:role/app\"\nweb_identity_token_file = \"/t\"\n";
const CONTAINER: &str = "[container]\nlisten = \"127.0.0.1:8090\"\n";

fn parse(text: &str) -> Result<AgentConfig, String> {
    AgentConfig::parse(text, "agent.toml").map_err(|e| e.to_string())
}

fn err(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn a_sidecar_configuration_with_defaults() {
    let c = parse(&format!("{BROKER}{ROLE}{CONTAINER}")).unwrap_or_else(|e| panic!("{e}"));
    let Mode::Role(role) = &c.mode else {
        panic!("not a sidecar")
    };
    assert_eq!(role.session_name, "stsd-agent");
    assert_eq!(role.duration_secs, 3600);
    assert!(matches!(role.auth, RoleAuth::WebIdentity(_)));
    assert_eq!(c.refresh.before_expiry.as_secs(), 300);
    assert_eq!(
        c.container.as_ref().map(|c| c.path.as_str()),
        Some("/v1/credentials")
    );
    assert!(c.imds.is_none() && c.health.is_none());
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let e = err(&format!(
        "[broker]\nendpoint = \"http://stsd.internal:8433\"\n{ROLE}{CONTAINER}"
    ));
    assert!(e.starts_with("agent.toml:2:"), "{e}");
    assert!(
        e.contains("broker.endpoint") && e.contains("loopback"),
        "{e}"
    );
    assert!(
        parse(&format!(
            "[broker]\nendpoint = \"https://stsd.internal:8433\"\n{ROLE}{CONTAINER}"
        ))
        .is_ok()
    );
    assert!(
        parse(&format!(
            "[broker]\nendpoint = \"http://[::1]:8433\"\n{ROLE}{CONTAINER}"
        ))
        .is_ok()
    );
}

#[test]
fn unknown_keys_and_bad_values_name_their_line() {
    let e = err(&format!("{BROKER}{ROLE}{CONTAINER}colour = \"red\"\n"));
    assert!(e.contains("agent.toml:8") && e.contains("colour"), "{e}");
    let e = err(&format!("{BROKER}{ROLE}duration_secs = 60\n{CONTAINER}"));
    assert!(e.contains("agent.toml:6") && e.contains("900"), "{e}");
    let e = err(&format!(
        "{BROKER}{ROLE}{CONTAINER}\n[imds]\nlisten = \"127.0.0.1:8091\"\nhop_limit = 0\n"
    ));
    assert!(
        e.contains("hop_limit") || e.contains("agent.toml:11"),
        "{e}"
    );
}

#[test]
fn exactly_one_mode_and_one_way_to_authenticate() {
    let e = err(&format!("{BROKER}{CONTAINER}"));
    assert!(e.contains("[role]") && e.contains("[node]"), "{e}");
    let both = format!(
        "{BROKER}{ROLE}[node]\n[[node.service_accounts]]\nsubject = \"s\"\nrole_arn = \"arn:aws:iam::123456789012:role/x\"\n{CONTAINER}"
    );
    assert!(err(&both).contains("cannot both"));
    let two = format!("{BROKER}{ROLE}access_key_id = \"AKIAIOSFODNN7EXAMPLE\"\n{CONTAINER}");
    let e = err(&two);
    assert!(e.contains("exactly one way"), "{e}");
    let half = format!(
        "{BROKER}[role]\narn = \"arn:aws:iam::123456789012:role/app\"\nclient_cert_file = \"/c\"\n{CONTAINER}"
    );
    assert!(err(&half).contains("go together"));
    let not_role = format!(
        "{BROKER}[role]\narn = \"arn:aws:iam::123456789012:user/app\"\nweb_identity_token_file = \"/t\"\n{CONTAINER}"
    );
    assert!(err(&not_role).contains("role ARN"));
}

#[test]
fn a_node_agent_maps_subjects_once_and_serves_no_imds() {
    let node = "[node]\n[[node.service_accounts]]\nsubject = \"system:serviceaccount:a:b\"\nrole_arn = \"arn:aws:iam::123456789012:role/x\"\n";
    let c = parse(&format!("{BROKER}{node}{CONTAINER}")).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(&c.mode, Mode::Node(n) if n.service_accounts.len() == 1 && n.max_tokens == 10_000)
    );
    let twice = format!(
        "{BROKER}{node}[[node.service_accounts]]\nsubject = \"system:serviceaccount:a:b\"\nrole_arn = \"arn:aws:iam::123456789012:role/y\"\n{CONTAINER}"
    );
    assert!(err(&twice).contains("appears twice"));
    let imds = format!("{BROKER}{node}{CONTAINER}[imds]\nlisten = \"127.0.0.1:8091\"\n");
    assert!(err(&imds).contains("IMDS cannot tell workloads apart"));
    let fixed = format!("{BROKER}{node}{CONTAINER}authorization_token = \"x\"\n");
    assert!(err(&fixed).contains("node agent"));
    assert!(err(&format!("{BROKER}[node]\n{CONTAINER}")).contains("at least one"));
}

#[test]
fn endpoints_and_refresh_numbers_must_be_consistent() {
    assert!(err(&format!("{BROKER}{ROLE}")).contains("no endpoint"));
    let same = format!("{BROKER}{ROLE}{CONTAINER}[health]\nlisten = \"127.0.0.1:8090\"\n");
    assert!(err(&same).contains("different listen addresses"));
    let margin = format!(
        "{BROKER}{ROLE}{CONTAINER}[refresh]\nbefore_expiry_secs = 60\nserve_margin_secs = 60\n"
    );
    assert!(err(&margin).contains("serve_margin_secs"));
    let path =
        format!("{BROKER}{ROLE}[container]\nlisten = \"127.0.0.1:8090\"\npath = \"creds\"\n");
    assert!(err(&path).contains("absolute path"));
}

#[test]
fn a_sidecar_container_endpoint_off_loopback_needs_a_token() {
    let open = format!("{BROKER}{ROLE}[container]\nlisten = \"0.0.0.0:8090\"\n");
    assert!(err(&open).contains("off loopback"));
    let guarded = format!(
        "{BROKER}{ROLE}[container]\nlisten = \"0.0.0.0:8090\"\nauthorization_token_file = \"/a\"\n"
    );
    assert!(parse(&guarded).is_ok());
}
