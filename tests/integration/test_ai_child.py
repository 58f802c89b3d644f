"""aiops.k8s.pod_diagnose with ai_explain, run by ansible-playbook: the kubectl-ai child is contained.

The fleet pattern: one kubeconfig whose DEFAULT context is another cluster, the task naming
``kubeconfig:`` and ``context: alpha``, and the operator's credentials in the environment
(K8S_AUTH_API_KEY, AWS_*). The stand-in kubectl-ai (tests/support/fake_kubectl_ai) records what it
received and tries a write; alpha sits behind an RBAC stand-in (tests/support/bad_servers.py
ReadOnlyGate) that lets the read-only account get/list only.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import urllib.request

import pytest
import yaml

from tests.integration.test_fleet import crashing_pod, web_deployment
from tests.support.bad_servers import ReadOnlyGate
from tests.support.fixtures import REPO_ROOT, TOKEN, ansible_environment, clear_discovery_caches
from tests.support.kube_emulator import KubeEmulator

pytestmark = pytest.mark.integration

READER = "system:serviceaccount:aiops:aiops-diagnose"
FAKE = os.path.join(REPO_ROOT, "tests", "support", "fake_kubectl_ai")


def _labels(emulator):
    request = urllib.request.Request(emulator.url + "/apis/apps/v1/namespaces/shop/deployments/web",
                                     headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["metadata"].get("labels") or {}


@pytest.fixture
def fleet(tmp_path):
    alpha = KubeEmulator(token=TOKEN).start()
    other = KubeEmulator(token=TOKEN).start()
    for emulator in (alpha, other):
        clear_discovery_caches(emulator.url)
        emulator.load(web_deployment("shop") + [crashing_pod("shop", "web-7d4b9-a1", "web")])
    gate = ReadOnlyGate(alpha.url, TOKEN, readonly_users={READER}, writer_tokens={"admin-token"}, lifetime=300).start()
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "other",
              "clusters": [{"name": "other", "cluster": {"server": other.url}},
                           {"name": "alpha", "cluster": {"server": gate.url}}],
              "users": [{"name": "other", "user": {"token": TOKEN}}, {"name": "alpha", "user": {"token": "admin-token"}}],
              "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other"}},
                           {"name": "alpha", "context": {"cluster": "alpha", "user": "alpha"}}]}
    kubeconfig = tmp_path / "fleet-kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    binary = tmp_path / "kubectl-ai"
    shutil.copy(FAKE, str(binary))
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "kubectl-ai.settings.json").write_text(json.dumps({"FAKE_KUBECTL_AI_MODE": "write"}))
    try:
        yield {"alpha": alpha, "other": other, "gate": gate, "kubeconfig": str(kubeconfig), "binary": str(binary),
               "tmp": tmp_path}
    finally:
        gate.stop()
        for emulator in (alpha, other):
            url = emulator.url
            emulator.stop()
            clear_discovery_caches(url)


def _run(fleet, **options):
    result_file = fleet["tmp"] / "result.json"
    task = dict({"namespace": "shop", "kubeconfig": fleet["kubeconfig"], "context": "alpha", "ai_explain": True,
                 "ai_binary": fleet["binary"], "ai_mask_names": True}, **options)
    play = [{"name": "Diagnose with the AI child", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
             "tasks": [{"name": "Diagnose", "aiops.k8s.pod_diagnose": task, "register": "diagnosis"},
                       {"name": "Keep the result", "ansible.builtin.copy": {
                           "content": "{{ diagnosis | to_json }}", "dest": str(result_file), "mode": "0600"}}]}]
    path = fleet["tmp"] / "play.yml"
    path.write_text(yaml.safe_dump(play))
    env = ansible_environment(fleet["kubeconfig"], {
        "KUBECONFIG": fleet["kubeconfig"], "K8S_AUTH_API_KEY": "operator-token-123",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-456", "GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/gcp.json"})
    env.pop("K8S_AUTH_KUBECONFIG", None)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(path)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    calls = fleet["tmp"] / "kubectl-ai.calls.jsonl"
    recorded = [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
    return json.loads(result_file.read_text()), recorded, proc.stdout


def test_the_child_sees_no_credential_gets_only_alpha_and_cannot_write(fleet):
    fleet["other"].clear_requests()
    result, calls, _out = _run(fleet, ai_impersonate=READER)
    assert [d["name"] for d in result["diagnoses"]] == ["web-7d4b9-a1"]  # alpha was diagnosed, not the default
    assert result["ai_analysis"]["cluster"] == fleet["gate"].url
    assert result["ai_analysis"]["identity"].startswith("impersonating %s" % READER)
    (call,) = calls
    leaked = [name for name in call["env_names"] if name.startswith(("K8S_AUTH_", "AWS_", "GOOGLE_"))]
    assert leaked == []
    config = call["kubeconfig"]
    assert [c["cluster"]["server"] for c in config["clusters"]] == [fleet["gate"].url]
    assert config["users"][0]["user"]["as"] == READER
    assert call["write"] == {"server": fleet["gate"].url, "status": 403}
    # Neither the module nor the child sent anything to the default context's cluster.
    assert not any(r["path"].startswith("/api") for r in fleet["other"].requests), fleet["other"].requests
    assert _labels(fleet["alpha"]) == {}  # the write was denied
    # Masked run: no pod or namespace name reached the child.
    for real in ("web-7d4b9-a1", "shop"):
        assert real not in call["stdin"], real


def test_without_a_read_only_identity_the_child_is_not_started(fleet):
    result, calls, out = _run(fleet)
    assert calls == [] and "ai_analysis" not in result
    assert any("kubectl-ai was not started" in warning for warning in result["warnings"]), result.get("warnings")
    assert "operator-token-123" not in out
    assert result["diagnoses"][0]["name"] == "web-7d4b9-a1"  # the diagnosis itself is unaffected
