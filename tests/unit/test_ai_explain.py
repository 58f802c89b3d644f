"""ai_explain: what reaches kubectl-ai (flags, redaction, caps, masking) and the failure paths.

The stand-in tests/support/fake_kubectl_ai is executed for real through a runner with
AnsibleModule.run_command's calling convention, so argv/stdin/env are what a process receives.
"""

import json
import os
import stat
import subprocess
import time

import pytest

pytest.importorskip("ansible_collections.aiops.k8s.plugins.module_utils.common.redact",
                    reason="plugins/module_utils/common/redact.py (shared redactor) not present yet")

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis import ai_explain  # noqa: E402

FAKE = os.path.join(os.path.dirname(__file__), "..", "support", "fake_kubectl_ai")

PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----"
BEARER = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlc2lnbmF0dXJl"
URL_PASSWORD = "s3cr3tPassw0rd"


def runner(args, data=None, environ_update=None, **_):
    """Same contract as AnsibleModule.run_command: (rc, stdout, stderr)."""
    env = dict(os.environ)
    env.update(environ_update or {})
    proc = subprocess.run(args, input=data, capture_output=True, text=True, env=env, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def diagnosis(name="web-7d9f8-abcde", namespace="shop", category="OOMKilled", severity="high", log_detail=None):
    return {
        "kind": "Pod", "namespace": namespace, "name": name, "uid": "u-1",
        "owner": {"kind": "Deployment", "name": "web"}, "node": "worker-3",
        "category": category, "severity": severity, "confidence": 0.95,
        "summary": "Container app was OOM-killed 3 times: limit 256Mi",
        "root_cause": "Container app exceeded its memory limit of 256Mi (exit 137, reason OOMKilled)",
        "culprit": {"container": "app", "limit": "256Mi", "labels": {"app": "web-frontend"}},
        "evidence": [
            {"source": "status.containerStatuses[app].lastState.terminated", "detail": "reason=OOMKilled exitCode=137"},
            {"source": "log app (previous)", "detail": log_detail or (
                "connecting to postgres://admin:%s@db.shop.svc:5432/orders\n" % URL_PASSWORD
                + "Authorization: Bearer %s\n" % BEARER + PRIVATE_KEY + "\njava.lang.OutOfMemoryError")},
        ],
        "secondary": [],
        "restarts": 7,
        "remediations": [{"action": "set_memory_limit", "description": "raise limit"}],
        "runbook": "runbooks/OOMKilled.md",
    }


@pytest.fixture
def fake(tmp_path, monkeypatch):
    binary = tmp_path / "kubectl-ai"
    binary.write_bytes(open(FAKE, "rb").read())
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    # The child gets a minimal environment, so the stub records next to itself and reads a sidecar.
    record = tmp_path / "kubectl-ai.calls.jsonl"

    def calls():
        if not record.exists():
            return []
        return [json.loads(line) for line in record.read_text().splitlines()]

    return str(binary), calls


def configure(binary, **settings):
    """Settings for the stub (tests/support/fake_kubectl_ai), in its sidecar file."""
    with open(binary + ".settings.json", "w") as handle:
        json.dump(settings, handle)


def params(binary, **kw):
    """Module params for an offline diagnosis (dump_dir): the child gets no cluster at all."""
    values = dict((k, v.get("default")) for k, v in ai_explain.AI_ARGUMENT_SPEC.items())
    values.update(ai_explain=True, ai_binary=binary, dump_dir="/var/tmp/cluster-dump")
    values.update(kw)
    return values


def test_flags_quiet_provider_model_and_never_skip_permissions(fake):
    binary, calls = fake
    analysis, warnings = ai_explain.explain([diagnosis()], params(binary, ai_provider="gemini", ai_model="gemini-2.5-flash"), runner)
    assert warnings == []
    assert analysis == {"provider": "gemini", "model": "gemini-2.5-flash",
                        "text": "The container is running out of memory.", "masked": False,
                        "identity": "no cluster (offline diagnosis)", "cluster": None}
    (call,) = calls()
    argv = call["argv"]
    assert argv[0] == "--quiet"
    assert "--skip-permissions" not in argv and not any(a.startswith("--skip-permissions") for a in argv)
    assert argv[argv.index("--llm-provider") + 1] == "gemini"
    assert argv[argv.index("--model") + 1] == "gemini-2.5-flash"
    assert argv[-1] == ai_explain.QUERY  # one positional query; evidence comes on stdin
    assert "OOMKilled" in call["stdin"] and "web-7d9f8-abcde" in call["stdin"]


def test_without_provider_or_model_uses_kubectl_ai_config(fake):
    binary, calls = fake
    analysis, _meta = ai_explain.explain([diagnosis()], params(binary), runner)
    argv = calls()[0]["argv"]
    assert "--llm-provider" not in argv and "--model" not in argv
    assert analysis["provider"] == "default" and analysis["model"] == "default"


def test_planted_secrets_never_reach_the_binary(fake):
    binary, calls = fake
    diag = diagnosis()
    diag["culprit"]["data"] = {"password": "c3VwZXJzZWNyZXQ="}   # Secret data must be dropped, not just masked
    diag["culprit"]["env"] = [{"name": "DB_PASSWORD", "value": "hunter2-hunter2"}]
    ai_explain.explain([diag], params(binary), runner)
    (call,) = calls()
    sent = json.dumps(call["argv"]) + call["stdin"]
    for secret in (URL_PASSWORD, BEARER, "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
                   "c3VwZXJzZWNyZXQ=", "hunter2-hunter2"):
        assert secret not in sent
    # remediations are not evidence and are not sent; the log line is clipped
    assert "set_memory_limit" not in call["stdin"]
    assert "java.lang.OutOfMemoryError" not in call["stdin"]


def test_extra_redact_patterns_apply(fake):
    binary, calls = fake
    diag = diagnosis(log_detail="customer id CUST-998877 failed")
    ai_explain.explain([diag], params(binary, redact_patterns=[r"CUST-\d+"]), runner)
    assert "CUST-998877" not in calls()[0]["stdin"]


def test_input_is_capped_and_least_severe_dropped_first(fake):
    binary, calls = fake
    diags = [diagnosis(name="pod-%03d" % i, severity="low", category="Evicted") for i in range(40)]
    diags.append(diagnosis(name="critical-one", severity="critical", category="NodeLost"))
    analysis, warnings = ai_explain.explain(diags, params(binary, ai_max_input_bytes=2048), runner)
    stdin = calls()[0]["stdin"]
    assert len(stdin.encode()) <= 2048 + 1  # run_command-style runners may add a newline
    assert "critical-one" in stdin
    assert analysis is not None
    assert any("left out" in w for w in warnings)


def test_healthy_only_sends_nothing(fake):
    binary, calls = fake
    analysis, warnings = ai_explain.explain([diagnosis(category="Healthy", severity="none")], params(binary), runner)
    assert analysis is None and calls() == []
    assert "healthy" in warnings[0]


def test_masking_hides_names_and_answer_is_unmasked(fake, monkeypatch):
    binary, calls = fake
    configure(binary, FAKE_KUBECTL_AI_ANSWER="Pod pod-1 in ns-1 (owner workload-1, node node-1) needs more memory.")
    analysis, _meta = ai_explain.explain([diagnosis()], params(binary, ai_mask_names=True), runner)
    stdin = calls()[0]["stdin"]
    for real in ("web-7d9f8-abcde", "shop", "worker-3", "web-frontend", '"web"'):
        assert real not in stdin
    assert "pod-1" in stdin and "ns-1" in stdin
    assert analysis["masked"] is True
    assert analysis["text"] == "Pod web-7d9f8-abcde in shop (owner web, node worker-3) needs more memory."


def test_mask_roundtrip_does_not_touch_longer_tokens():
    mapping = {"web": "workload-1", "shop": "ns-1"}
    masked = ai_explain.apply_mask("web webhook shop.svc web-1 shop", mapping)
    assert masked == "workload-1 webhook ns-1.svc web-1 ns-1"
    assert ai_explain.unmask(masked, mapping) == "web webhook shop.svc web-1 shop"


def test_timeout_returns_none_and_warning_quickly(fake, monkeypatch):
    binary, _calls = fake
    configure(binary, FAKE_KUBECTL_AI_MODE="sleep")
    started = time.monotonic()
    analysis, warnings = ai_explain.explain([diagnosis()], params(binary, ai_timeout=1), runner)
    elapsed = time.monotonic() - started
    assert analysis is None
    assert "did not answer within 1s" in warnings[-1]
    assert elapsed < 10


def test_failure_returns_none_with_redacted_reason(fake, monkeypatch):
    binary, _calls = fake
    configure(binary, FAKE_KUBECTL_AI_MODE="fail")
    analysis, warnings = ai_explain.explain([diagnosis()], params(binary), runner)
    assert analysis is None
    assert "rc=1" in warnings[-1] and "GEMINI_API_KEY environment variable not set" in warnings[-1]


def test_empty_answer_is_a_warning(fake, monkeypatch):
    binary, _calls = fake
    configure(binary, FAKE_KUBECTL_AI_MODE="empty")
    analysis, warnings = ai_explain.explain([diagnosis()], params(binary), runner)
    assert analysis is None and "empty" in warnings[-1]


def test_missing_binary_is_a_warning_not_an_error(tmp_path):
    analysis, warnings = ai_explain.explain([diagnosis()], params(str(tmp_path / "nope" / "kubectl-ai")), runner)
    assert analysis is None and "not found" in warnings[0]


def test_runner_exception_is_a_warning():
    def broken(*_a, **_k):
        raise OSError("boom")
    analysis, warnings = ai_explain.explain([diagnosis()], params(FAKE), broken)
    assert analysis is None and "boom" in warnings[-1]


def test_env_file_keys_go_to_environment_not_argv(fake, tmp_path):
    binary, calls = fake
    env_file = tmp_path / "env"
    env_file.write_text("# written by aiops.k8s.kubectl_ai\nexport GEMINI_API_KEY='AIzaFakeKey0123456789'\n")
    ai_explain.explain([diagnosis()], params(binary, ai_env_file=str(env_file)), runner)
    (call,) = calls()
    assert call["env"].get("GEMINI_API_KEY") == "AIzaFakeKey0123456789"
    assert "AIzaFakeKey0123456789" not in json.dumps(call["argv"]) + call["stdin"]


def test_unreadable_env_file_is_a_warning(fake, tmp_path):
    binary, calls = fake
    analysis, warnings = ai_explain.explain([diagnosis()], params(binary, ai_env_file=str(tmp_path / "missing")), runner)
    assert analysis is None and calls() == [] and "ai_env_file" in warnings[0]


def test_answer_is_stripped_of_colour_and_capped():
    text = ai_explain.clean_answer("\x1b[31m" + "x" * 9000 + "\x1b[0m")
    assert "\x1b" not in text
    assert text.endswith("[answer truncated]") and len(text) < 8100


def test_argument_spec_matches_doc_fragment():
    import yaml
    from ansible_collections.aiops.k8s.plugins.doc_fragments.ai_options import ModuleDocFragment
    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(options) == set(ai_explain.AI_ARGUMENT_SPEC)
    for name, spec in ai_explain.AI_ARGUMENT_SPEC.items():
        assert options[name]["type"] == spec["type"], name
        assert options[name].get("default") == spec.get("default"), name


@pytest.mark.parametrize("line, secret", [
    ("retrying with Authorization: Bearer %s" % BEARER, BEARER),
    ("dsn=mysql://root:%s@mysql:3306/app" % URL_PASSWORD, URL_PASSWORD),
])
def test_secret_on_the_first_log_line_is_redacted(fake, line, secret):
    binary, calls = fake
    ai_explain.explain([diagnosis(log_detail=line)], params(binary), runner)
    assert secret not in calls()[0]["stdin"]


# -- containment: what the child can reach (issue 16) -------------------------------------------------------

CREDENTIAL_ENV = {"K8S_AUTH_API_KEY": "op-token-123", "K8S_AUTH_KUBECONFIG": "/home/op/.kube/admin",
                  "KUBECONFIG": "/home/op/.kube/config", "AWS_SECRET_ACCESS_KEY": "aws-secret",
                  "GOOGLE_APPLICATION_CREDENTIALS": "/home/op/gcp.json", "AZURE_CLIENT_SECRET": "az",
                  "VAULT_TOKEN": "s.vault"}


def test_the_child_environment_is_minimal_and_has_its_own_kubeconfig(fake, tmp_path):
    binary, calls = fake
    env_file = tmp_path / "env"
    env_file.write_text("GEMINI_API_KEY=AIzaFakeKey0123456789\n")
    environ = dict(os.environ, **CREDENTIAL_ENV)
    analysis, warnings = ai_explain.explain([diagnosis()], params(binary, ai_env_file=str(env_file)), runner,
                                            environ=environ)
    assert analysis is not None, warnings
    (call,) = calls()
    allowed = set(ai_explain.ai_child.SAFE_ENV) | {"KUBECONFIG", "GEMINI_API_KEY"}
    assert set(call["env_names"]) <= allowed, set(call["env_names"]) - allowed
    for name in CREDENTIAL_ENV:
        assert name == "KUBECONFIG" or name not in call["env_names"]
    kubeconfig = call["argv"][call["argv"].index("--kubeconfig") + 1]
    assert kubeconfig != CREDENTIAL_ENV["KUBECONFIG"] and not os.path.exists(kubeconfig)  # removed afterwards
    assert call["kubeconfig"]["clusters"] == [] and call["kubeconfig"]["users"] == []  # offline: no cluster


def test_provider_env_file_cannot_smuggle_a_cluster_or_cloud_identity(fake, tmp_path):
    binary, calls = fake
    env_file = tmp_path / "env"
    env_file.write_text("GEMINI_API_KEY=x\nAWS_SECRET_ACCESS_KEY=y\n")
    analysis, warnings = ai_explain.explain([diagnosis()], params(binary, ai_env_file=str(env_file)), runner)
    assert analysis is None and calls() == []
    assert "AWS_SECRET_ACCESS_KEY" in warnings[0] and "y" not in warnings[0].split("AWS_SECRET_ACCESS_KEY")[1][:3]


def _kubeconfig(path, contexts, current):
    """contexts: {name: (server, user dict)}."""
    config = {"apiVersion": "v1", "kind": "Config", "current-context": current, "clusters": [], "users": [],
              "contexts": []}
    for name, (server, user) in contexts.items():
        config["clusters"].append({"name": name, "cluster": {"server": server}})
        config["users"].append({"name": name, "user": user})
        config["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    path.write_text(json.dumps(config))
    return str(path)


def test_live_diagnosis_with_only_the_module_identity_is_refused(fake, tmp_path):
    binary, calls = fake
    kubeconfig = _kubeconfig(tmp_path / "kc", {"alpha": ("http://127.0.0.1:1", {"token": "admin"})}, "alpha")
    live = params(binary, dump_dir=None, kubeconfig=kubeconfig, context="alpha")
    analysis, warnings = ai_explain.explain([diagnosis()], live, runner, environ={})
    assert analysis is None and calls() == []
    assert warnings == ["ai_explain: kubectl-ai was not started: its only identity would be the module's own "
                        "credentials, which may write to the cluster; set ai_kubeconfig to a read-only identity, "
                        "ai_impersonate to the account bound to docs/rbac/diagnose-readonly.yaml, or "
                        "ai_allow_write_identity=true to accept the risk"]


def test_ai_kubeconfig_for_another_cluster_is_refused(fake, tmp_path):
    binary, calls = fake
    module_kc = _kubeconfig(tmp_path / "kc", {"alpha": ("http://127.0.0.1:1111", {"token": "admin"})}, "alpha")
    reader_kc = _kubeconfig(tmp_path / "ro", {"beta-ro": ("http://127.0.0.1:2222", {"token": "ro"})}, "beta-ro")
    live = params(binary, dump_dir=None, kubeconfig=module_kc, context="alpha", ai_kubeconfig=reader_kc)
    analysis, warnings = ai_explain.explain([diagnosis()], live, runner, environ={})
    assert analysis is None and calls() == []
    assert "points at http://127.0.0.1:2222, not at the diagnosed cluster http://127.0.0.1:1111" in warnings[0]


@pytest.fixture
def two_clusters(tmp_path):
    """alpha (diagnosed, behind an RBAC stand-in) and other (the kubeconfig's DEFAULT context)."""
    from tests.support.bad_servers import ReadOnlyGate
    from tests.support.fixtures import TOKEN
    from tests.support.kube_emulator import KubeEmulator

    alpha = KubeEmulator(token=TOKEN).start()
    other = KubeEmulator(token=TOKEN).start()
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
                  "spec": {"selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"containers": [{"name": "app", "image": "web:1"}]}}}}
    alpha.load([deployment])
    other.load([deployment])
    gate = ReadOnlyGate(alpha.url, TOKEN, readonly_tokens={"ro-token"}, writer_tokens={"admin-token"},
                        readonly_users={"system:serviceaccount:aiops:aiops-diagnose"}, lifetime=120).start()
    module_kc = _kubeconfig(tmp_path / "fleet-kc", {"other": (other.url, {"token": TOKEN}),
                                                    "alpha": (gate.url, {"token": "admin-token"})}, "other")
    reader_kc = _kubeconfig(tmp_path / "ro-kc", {"alpha-ro": (gate.url, {"token": "ro-token"})}, "alpha-ro")
    try:
        yield {"alpha": alpha, "other": other, "gate": gate, "module_kc": module_kc, "reader_kc": reader_kc}
    finally:
        gate.stop()
        alpha.stop()
        other.stop()


def _labels(emulator):
    import urllib.request
    from tests.support.fixtures import TOKEN
    request = urllib.request.Request(emulator.url + "/apis/apps/v1/namespaces/shop/deployments/web",
                                     headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["metadata"].get("labels") or {}


@pytest.mark.integration
@pytest.mark.parametrize("identity", ["impersonate", "ai_kubeconfig"])
def test_the_child_gets_only_the_diagnosed_cluster_and_cannot_write_there(fake, two_clusters, identity):
    binary, calls = fake
    configure(binary, FAKE_KUBECTL_AI_MODE="write")
    options = {"ai_impersonate": "system:serviceaccount:aiops:aiops-diagnose"} if identity == "impersonate" else \
        {"ai_kubeconfig": two_clusters["reader_kc"]}
    # The fleet pattern: the module names its kubeconfig and context; the file's default context is another cluster.
    live = params(binary, dump_dir=None, kubeconfig=two_clusters["module_kc"], context="alpha", **options)
    two_clusters["other"].clear_requests()
    analysis, warnings = ai_explain.explain([diagnosis()], live, runner, environ=dict(os.environ, **CREDENTIAL_ENV))
    assert analysis is not None, warnings
    assert analysis["cluster"] == two_clusters["gate"].url
    (call,) = calls()
    servers = [c["cluster"]["server"] for c in call["kubeconfig"]["clusters"]]
    assert servers == [two_clusters["gate"].url]  # exactly the diagnosed cluster, never the default context
    assert call["write"] == {"server": two_clusters["gate"].url, "status": 403}
    assert _labels(two_clusters["alpha"]) == {}  # the write was denied
    assert two_clusters["other"].requests == [] and _labels(two_clusters["other"]) == {}
    (decision,) = [d for d in two_clusters["gate"].decisions if d[0] == "PATCH"]
    assert decision[2] in ("system:serviceaccount:aiops:aiops-diagnose", "ro-token") and decision[3] == 403


@pytest.mark.integration
def test_only_the_explicit_opt_in_hands_the_child_a_writing_identity(fake, two_clusters):
    binary, calls = fake
    configure(binary, FAKE_KUBECTL_AI_MODE="write")
    live = params(binary, dump_dir=None, kubeconfig=two_clusters["module_kc"], context="alpha",
                  ai_allow_write_identity=True)
    analysis, warnings = ai_explain.explain([diagnosis()], live, runner, environ=dict(os.environ))
    assert analysis is not None, warnings
    assert analysis["identity"] == "the module's own identity, which may write (ai_allow_write_identity)"
    assert calls()[0]["write"]["status"] == 200  # what the opt-in risks, and why it is off by default
    assert _labels(two_clusters["alpha"]) == {"touched-by": "ai"}


def test_masking_covers_the_kubelet_pod_namespace_uid_form(fake):
    binary, calls = fake
    uid = "0c9a4f5e-1b2c-4d3e-8f90-123456789abc"
    line = ("Back-off restarting failed container app in pod web-7d9f8-abcde_shop(%s); "
            "sibling web-7d9f8-zzzzz_shop(11111111-2222-3333-4444-555555555555)" % uid)
    diag = diagnosis(log_detail=line)
    diag["uid"] = uid
    diag["evidence"].append({"source": "event BackOff", "detail": line})
    ai_explain.explain([diag], params(binary, ai_mask_names=True), runner)
    stdin = calls()[0]["stdin"]
    for real in ("web-7d9f8-abcde", "shop", uid, "11111111-2222-3333-4444-555555555555"):
        assert real not in stdin, real
    assert "pod-1_ns-1(uid-1)" in stdin
