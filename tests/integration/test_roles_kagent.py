"""aiops.k8s.kagent role up to helm: pinned helm from a local artifact server, the key Secret in the
emulator, and the two charts through kubernetes.core.helm against a helm stand-in that records argv
and keeps release state. The real charts run on kind (docs/roles.md).
"""

import base64
import json
import os
import re
import subprocess

import pytest

from tests.support.artifact_server import ArtifactServer, build_helm
from tests.support.fixtures import ansible_environment

pytestmark = pytest.mark.integration

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOK_BIN = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
PLAY = """- name: Run aiops.k8s.kagent
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - role: aiops.k8s.kagent
"""
KEY = "sk-kagent-TEST-0123456789abcdef"


@pytest.fixture(scope="module")
def helm_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("helm-site")
    sums = build_helm(str(root), "3.18.4")
    table = {"3.18.4": dict((name[len("helm-v3.18.4-"):-len(".tar.gz")], digest) for name, digest in sums.items())}
    with ArtifactServer(str(root)) as server:
        yield server, table


@pytest.fixture
def run(tmp_path, kube_api, helm_site):
    server, table = helm_site
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    (tmp_path / "tmp").mkdir()

    def _run(check=False, **values):
        base = {"kagent_kubeconfig": kube_api.kubeconfig, "kagent_helm_mirror_base_url": server.url,
                "kagent_helm_checksums": table, "kagent_helm_bin_dir": str(tmp_path / "bin"),
                "kagent_wait": False}
        base.update(values)
        vars_file = tmp_path / "vars.json"
        vars_file.write_text(json.dumps(base))
        env = ansible_environment(kube_api.kubeconfig, {
            "HELM_STANDIN_LOG": str(tmp_path / "helm.log"), "HELM_STANDIN_STATE": str(tmp_path / "helm-state"),
            "TMPDIR": str(tmp_path / "tmp")})
        args = [PLAYBOOK_BIN, str(play), "-e", "@%s" % vars_file] + (["--check"] if check else [])
        proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
        out = proc.stdout + proc.stderr
        recap = re.search(r"changed=(\d+)", out)
        return proc.returncode, out, int(recap.group(1)) if recap else None

    def helm_calls():
        path = tmp_path / "helm.log"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def release(name):
        path = tmp_path / "helm-state" / ("%s.json" % name)
        return json.loads(path.read_text()) if path.exists() else None

    _run.tmp = tmp_path
    _run.helm_calls = helm_calls
    _run.release = release
    return _run


def _secret(kube_api, namespace, name):
    for obj in kube_api.objects("Secret"):
        if obj["metadata"]["name"] == name and obj["metadata"]["namespace"] == namespace:
            return obj
    return None


def test_install_charts_in_order_with_key_only_in_a_secret(run, kube_api):
    rc, out, changed = run(kagent_api_key=KEY, kagent_model="gpt-4.1-mini")
    assert rc == 0, out
    assert changed > 0
    assert KEY not in out  # no_log

    calls = run.helm_calls()
    installs = [c for c in calls if [a for a in c if not a.startswith("-")][:1] == ["upgrade"]]
    assert [c[-1].strip("'") for c in installs] == ["oci://ghcr.io/kagent-dev/kagent/helm/kagent-crds",
                                                    "oci://ghcr.io/kagent-dev/kagent/helm/kagent"]
    assert all("--version=0.10.1" in c for c in installs)
    assert all(KEY not in " ".join(c) for c in calls)  # never on a command line

    kagent = run.release("kagent")
    assert kagent["chart"] == "kagent-0.10.1" and kagent["namespace"] == "kagent"
    assert kagent["values"]["providers"]["default"] == "openAI"
    assert kagent["values"]["providers"]["openAI"] == {
        "provider": "OpenAI", "model": "gpt-4.1-mini", "apiKeySecretRef": "kagent-openai",
        "apiKeySecretKey": "OPENAI_API_KEY"}
    assert KEY not in json.dumps(kagent["values"])
    assert run.release("kagent-crds")["chart"] == "kagent-crds-0.10.1"

    secret = _secret(kube_api, "kagent", "kagent-openai")
    stored = (secret.get("stringData") or {}).get("OPENAI_API_KEY") or base64.b64decode(
        secret["data"]["OPENAI_API_KEY"]).decode()
    assert stored == KEY
    # the values file kubernetes.core wrote for helm is gone
    assert [n for n in os.listdir(str(run.tmp / "tmp")) if n.endswith(".yml")] == []

    rc, out, changed = run(kagent_api_key=KEY, kagent_model="gpt-4.1-mini")
    assert rc == 0, out
    assert changed == 0, out

    rc, out, changed = run(kagent_state="absent")
    assert rc == 0, out
    assert run.release("kagent") is None
    assert run.release("kagent-crds") is not None  # CRDs kept by default
    assert "was kept" in out
    assert _secret(kube_api, "kagent", "kagent-openai") is None

    rc, out, changed = run(kagent_state="absent", kagent_remove_crds=True)
    assert rc == 0, out
    assert run.release("kagent-crds") is None


def test_helm_checksum_mismatch_installs_nothing(run, helm_site):
    _site, table = helm_site
    bad = {"3.18.4": dict((k, "f" * 64) for k in table["3.18.4"])}
    rc, out, _calls = run(kagent_helm_checksums=bad)
    assert rc != 0
    assert "sha256 mismatch for helm-v3.18.4-" in out
    assert not (run.tmp / "bin" / "helm").exists()
    assert run.helm_calls() == []
    assert [n for n in os.listdir(str(run.tmp / "tmp")) if n.endswith(".helm")] == []


def test_check_mode_changes_nothing(run, kube_api):
    rc, out, changed = run(check=True, kagent_api_key=KEY)
    assert rc == 0, out
    assert changed > 0
    assert "Would install helm 3.18.4" in out
    assert "Would install the kagent-crds and kagent releases" in " ".join(out.split())
    assert not (run.tmp / "bin" / "helm").exists()
    assert run.helm_calls() == []
    assert _secret(kube_api, "kagent", "kagent-openai") is None
