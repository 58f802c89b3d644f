"""aiops.k8s.metrics_server role against the Kubernetes API emulator (real HTTP, kubernetes.core).

The emulator has no controllers, so a background thread plays the Deployment controller and the
aggregator: once the role has created the Deployment / APIService it writes ready statuses.
"""

import json
import os
import re
import subprocess
import threading
import time

import pytest

from tests.support.fixtures import ansible_environment

pytestmark = pytest.mark.integration

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOK_BIN = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
PLAY = """- name: Run aiops.k8s.metrics_server
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - role: aiops.k8s.metrics_server
"""


@pytest.fixture
def run(tmp_path, kube_api):
    play = tmp_path / "play.yml"
    play.write_text(PLAY)

    def _run(**values):
        values.setdefault("metrics_server_kubeconfig", kube_api.kubeconfig)
        values.setdefault("metrics_server_wait_delay", 1)
        vars_file = tmp_path / "vars.json"
        vars_file.write_text(json.dumps(values))
        env = ansible_environment(kube_api.kubeconfig)
        proc = subprocess.run([PLAYBOOK_BIN, str(play), "-e", "@%s" % vars_file], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        out = proc.stdout + proc.stderr
        recap = re.search(r"changed=(\d+)", out)
        return proc.returncode, out, int(recap.group(1)) if recap else None

    return _run


def _find(kube_api, kind, name):
    for obj in kube_api.objects(kind):
        if obj["metadata"]["name"] == name:
            return obj
    return None


@pytest.fixture
def controllers(kube_api):
    """Mark the Deployment rolled out and the APIService Available as soon as they exist."""
    yield from _controllers(kube_api, {"type": "Available", "status": "True", "reason": "Passed",
                                       "message": "all checks passed"})


@pytest.fixture
def unreachable_service(kube_api):
    """The Deployment rolls out but the aggregator cannot reach the Service."""
    yield from _controllers(kube_api, {"type": "Available", "status": "False", "reason": "FailedDiscoveryCheck",
                                       "message": "failing or missing response from https://10.96.0.12:443"})


def _controllers(kube_api, condition):
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            deploy = _find(kube_api, "Deployment", "metrics-server")
            if deploy is not None:
                want = deploy["spec"].get("replicas", 1)
                status = {"observedGeneration": deploy["metadata"].get("generation", 1), "replicas": want,
                          "updatedReplicas": want, "readyReplicas": want, "availableReplicas": want}
                if deploy.get("status") != status:
                    kube_api.set_status(dict(deploy, status=status))
            api = _find(kube_api, "APIService", "v1beta1.metrics.k8s.io")
            if api is not None and not (api.get("status") or {}).get("conditions"):
                kube_api.set_status(dict(api, status={"conditions": [condition]}))
            time.sleep(0.3)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(5)


def test_deploys_rendered_objects_waits_and_is_idempotent(run, kube_api, controllers):
    rc, out, changed = run(metrics_server_kubelet_insecure_tls=True, metrics_server_replicas=2,
                           metrics_server_preferred_address_types=["InternalIP"],
                           metrics_server_metric_resolution="30s", metrics_server_wait_timeout=60)
    assert rc == 0, out
    assert changed > 0

    for kind, name in (("ServiceAccount", "metrics-server"), ("ClusterRole", "aiops-metrics-server-aggregated-reader"),
                       ("ClusterRole", "aiops-metrics-server"), ("RoleBinding", "metrics-server-auth-reader"),
                       ("ClusterRoleBinding", "aiops-metrics-server-auth-delegator"),
                       ("ClusterRoleBinding", "aiops-metrics-server"), ("Service", "metrics-server")):
        obj = _find(kube_api, kind, name)
        assert obj is not None, (kind, name)
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "aiops.k8s"
    deploy = _find(kube_api, "Deployment", "metrics-server")
    assert deploy["metadata"]["namespace"] == "kube-system"
    assert deploy["spec"]["replicas"] == 2
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.k8s.io/metrics-server/metrics-server:v0.8.0"
    args = container["args"]
    assert "--kubelet-insecure-tls" in args
    assert "--kubelet-preferred-address-types=InternalIP" in args
    assert "--metric-resolution=30s" in args
    api = _find(kube_api, "APIService", "v1beta1.metrics.k8s.io")
    assert api["spec"]["service"] == {"name": "metrics-server", "namespace": "kube-system"}
    assert api["spec"]["group"] == "metrics.k8s.io"

    rc, out, changed = run(metrics_server_kubelet_insecure_tls=True, metrics_server_replicas=2,
                           metrics_server_preferred_address_types=["InternalIP"],
                           metrics_server_metric_resolution="30s", metrics_server_wait_timeout=60)
    assert rc == 0, out
    assert changed == 0, out

    rc, out, changed = run(metrics_server_state="absent")
    assert rc == 0, out
    assert _find(kube_api, "Deployment", "metrics-server") is None
    assert _find(kube_api, "APIService", "v1beta1.metrics.k8s.io") is None


def test_insecure_tls_is_off_by_default(run, kube_api):
    rc, out, _extra = run(metrics_server_wait=False)
    assert rc == 0, out
    args = _find(kube_api, "Deployment", "metrics-server")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--kubelet-insecure-tls" not in args
    assert "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname" in args


def test_wait_times_out_naming_what_is_not_ready(run, kube_api):
    started = time.monotonic()
    rc, out, _extra = run(metrics_server_wait_timeout=4)
    assert rc != 0
    assert "metrics-server is not ready after 4s: Deployment kube-system/metrics-server has 0 of" in " ".join(out.split())
    assert time.monotonic() - started < 240


def test_apiservice_wait_names_the_condition_that_is_not_met(run, kube_api, unreachable_service):
    rc, out, _extra = run(metrics_server_wait_timeout=4)
    assert rc != 0
    assert ("metrics-server is not serving after 4s: APIService v1beta1.metrics.k8s.io is not Available "
            "(FailedDiscoveryCheck: failing or missing response from https://10.96.0.12:443)") in " ".join(out.split())


def test_existing_metrics_server_is_left_alone(run, kube_api):
    kube_api.create({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                     "metadata": {"name": "v1beta1.metrics.k8s.io", "labels": {"addonmanager.kubernetes.io/mode": "Reconcile"}},
                     "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100,
                              "versionPriority": 100, "service": {"name": "metrics-server", "namespace": "kube-system"}}})
    rc, out, changed = run()
    assert rc == 0, out
    assert changed == 0
    assert "was not installed by aiops.k8s.metrics_server" in " ".join(out.split())
    assert _find(kube_api, "Deployment", "metrics-server") is None
    rc, out, changed = run(metrics_server_state="absent")
    assert rc == 0 and _find(kube_api, "APIService", "v1beta1.metrics.k8s.io") is not None
