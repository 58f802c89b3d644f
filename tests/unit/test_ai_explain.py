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
    record = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_KUBECTL_AI_RECORD", str(record))

    def calls():
        if not record.exists():
            return []
        return [json.loads(line) for line in record.read_text().splitlines()]

    return str(binary), calls


def params(binary, **kw):
    values = dict((k, v.get("default")) for k, v in ai_explain.AI_ARGUMENT_SPEC.items())
    values.update(ai_explain=True, ai_binary=binary)
    values.update(kw)
    return values


def test_flags_quiet_provider_model_and_never_skip_permissions(fake):
    binary, calls = fake
    analysis, warnings = ai_explain.explain([diagnosis()], params(binary, ai_provider="gemini", ai_model="gemini-2.5-flash"), runner)
    assert warnings == []
    assert analysis == {"provider": "gemini", "model": "gemini-2.5-flash",
                        "text": "The container is running out of memory.", "masked": False}
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
    monkeypatch.setenv("FAKE_KUBECTL_AI_ANSWER", "Pod pod-1 in ns-1 (owner workload-1, node node-1) needs more memory.")
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
    monkeypatch.setenv("FAKE_KUBECTL_AI_MODE", "sleep")
    started = time.monotonic()
    analysis, warnings = ai_explain.explain([diagnosis()], params(binary, ai_timeout=1), runner)
    elapsed = time.monotonic() - started
    assert analysis is None
    assert "did not answer within 1s" in warnings[-1]
    assert elapsed < 10


def test_failure_returns_none_with_redacted_reason(fake, monkeypatch):
    binary, _calls = fake
    monkeypatch.setenv("FAKE_KUBECTL_AI_MODE", "fail")
    analysis, warnings = ai_explain.explain([diagnosis()], params(binary), runner)
    assert analysis is None
    assert "rc=1" in warnings[-1] and "GEMINI_API_KEY environment variable not set" in warnings[-1]


def test_empty_answer_is_a_warning(fake, monkeypatch):
    binary, _calls = fake
    monkeypatch.setenv("FAKE_KUBECTL_AI_MODE", "empty")
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
