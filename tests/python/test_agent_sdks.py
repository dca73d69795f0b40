"""The JavaScript SDK v3's credential chains against `stsd agent`: a broker
that trusts a "cluster" (agent_process.Cluster), a sidecar agent that
assumes a role with a projected-token file and serves the container
endpoint (with an authorization token file) and IMDSv2, and
tests/js/agent.test.mjs, run with `node --test`, resolving credentials with
`fromContainerMetadata`, `fromHttp` and `fromInstanceMetadata` and calling
GetCallerIdentity on the broker with them: each must see the role's
assumed-role ARN. botocore's providers are tested in test_agent.py, the
Rust SDK's in tests/it/sdk_agent.rs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_process import AUDIENCE, ISSUER, Agent, Cluster, sidecar_sections
from support import ACCOUNT, Daemon, run_node, uniq

pytestmark = pytest.mark.timeout(180)

AUTH_TOKEN = "js-agent-auth-5b0d3e"
SESSION = "js-pod"


@pytest.fixture(scope="module")
def setup():
    cluster = Cluster()
    daemon = Daemon(extra_config=cluster.broker_config()).start()
    agent = None
    try:
        iam = daemon.client("iam")
        iam.create_open_id_connect_provider(Url=ISSUER, ClientIDList=[AUDIENCE])
        role = uniq("jsapp")
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=Cluster.trust("prod", "app"))
        tmp = Path(daemon.tmp.name)
        token = tmp / "js-app-token"
        token.write_text(cluster.token("prod", "app"))
        auth = tmp / "js-agent-auth"
        auth.write_text(AUTH_TOKEN)
        agent = Agent(daemon.endpoint,
                      sidecar_sections(f"arn:aws:iam::{ACCOUNT}:role/{role}", SESSION, token, auth)).start()
        yield daemon, agent, role, auth
    finally:
        if agent:
            agent.close()
        daemon.close()


@pytest.mark.actions("AssumeRoleWithWebIdentity", "GetCallerIdentity")
def test_javascript_sdk_v3_container_and_instance_metadata_providers(setup):
    daemon, agent, role, auth = setup
    p = run_node("agent.test.mjs", {
        "STSD_ENDPOINT": daemon.endpoint,
        "STSD_ACCOUNT": ACCOUNT,
        "STSD_ASSUMED_ROLE_ARN": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{SESSION}",
        "STSD_CONTAINER_URL": agent.url("container", "/v1/credentials"),
        "STSD_CONTAINER_TOKEN_FILE": str(auth),
        "STSD_IMDS_URL": agent.url("imds"),
    }, package="credential-providers")
    out = p.stdout + p.stderr
    assert p.returncode == 0, out + "\n" + agent.logs()
    # Every test ran: none skipped for want of the variables above.
    assert "# pass 4" in out and "# fail 0" in out and "# skipped 0" in out, out
    # The SDKs read the agent's memory: one broker call for all of them.
    assert agent.health()["broker_calls"] == 1
