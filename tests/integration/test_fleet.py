"""playbooks/diagnose_fleet.yml against a fleet of five: one emulated cluster with failing pods, one that answers
403 to everything, one stopped, a context with a revoked token, and one API server that accepts connections and
never answers. The run must finish within the stalled cluster's deadline and the reports must say which cluster
was which.

The inventory comes from the aiops.k8s.kubeconfig plugin, so this is the documented fleet set-up end to end:
kubeconfig contexts -> hosts -> forks -> pod_diagnose per cluster -> aggregation on the controller.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from tests.support.fixtures import REPO_ROOT, TOKEN, ansible_environment, clear_discovery_caches
from tests.support.bad_servers import StallServer
from tests.support.kube_emulator import KubeEmulator

pytestmark = pytest.mark.integration

BIN = os.path.dirname(sys.executable)
PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "diagnose_fleet.yml")


def _env(extra=None):
    env = ansible_environment("/nonexistent", {"ANSIBLE_INVENTORY_ENABLED": "aiops.k8s.kubeconfig,host_list"})
    env.pop("KUBECONFIG", None)
    env.pop("K8S_AUTH_KUBECONFIG", None)
    env.update(extra or {})
    return env


@pytest.fixture(scope="module")
def pod_diagnose_ready(tmp_path_factory):
    """Skip (with the reason) while aiops.k8s.pod_diagnose cannot load its own module_utils yet."""
    play = tmp_path_factory.mktemp("probe") / "probe.yml"
    play.write_text(yaml.safe_dump([{"name": "Probe", "hosts": "localhost", "connection": "local",
                                     "gather_facts": False,
                                     "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                                     "tasks": [{"name": "Probe", "aiops.k8s.pod_diagnose": {"dump_dir": str(play)}}]}]))
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", str(play)], cwd=REPO_ROOT,
                          env=_env(), capture_output=True, text=True, check=False, timeout=300)
    output = proc.stdout + proc.stderr
    for marker in ("No module named", "ModuleNotFoundError", "couldn't resolve module"):
        if marker in output:
            pytest.skip("aiops.k8s.pod_diagnose is not runnable yet: %s" % marker)


def web_deployment(namespace):
    """Deployment web -> ReplicaSet web-7d4b9 (there are no controllers: the chain is written by hand)."""
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "web", "namespace": namespace, "uid": "uid-deploy-web"},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}},
                               "spec": {"containers": [{"name": "app", "image": "registry.example/shop/web:1.0"}]}}}},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet",
         "metadata": {"name": "web-7d4b9", "namespace": namespace, "uid": "uid-rs-web", "labels": {"app": "web"},
                      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                           "uid": "uid-deploy-web", "controller": True}]},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}},
                               "spec": {"containers": [{"name": "app", "image": "registry.example/shop/web:1.0"}]}}}},
    ]


def crashing_pod(namespace, name, owner):
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": owner},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9",
                                          "uid": "uid-rs-web", "controller": True}]},
        "spec": {"containers": [{"name": "app", "image": "registry.example/shop/%s:1.0" % owner}]},
        "status": {"phase": "Running", "containerStatuses": [{
            "name": "app", "ready": False, "restartCount": 7, "image": "registry.example/shop/%s:1.0" % owner,
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": "back-off 5m0s restarting failed container=app pod=%s" % name}},
            "lastState": {"terminated": {"reason": "Error", "exitCode": 1,
                                         "startedAt": "2026-11-25T09:00:00Z", "finishedAt": "2026-11-25T09:00:05Z"}},
        }]},
    }


def image_pull_pod(namespace, name):
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": "app", "image": "registry.example/shop/missing:9.9"}]},
        "status": {"phase": "Pending", "containerStatuses": [{
            "name": "app", "ready": False, "restartCount": 0, "image": "registry.example/shop/missing:9.9",
            "state": {"waiting": {"reason": "ImagePullBackOff",
                                  "message": 'Back-off pulling image "registry.example/shop/missing:9.9"'}},
        }]},
    }


def healthy_pod(namespace, name):
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                   "containerStatuses": [{"name": "app", "ready": True, "restartCount": 0, "image": "nginx:1.27",
                                          "state": {"running": {"startedAt": "2026-11-25T08:00:00Z"}}}]},
    }


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fleet(tmp_path):
    """Five contexts in one kubeconfig: alpha (failing pods), beta (403 on everything), gamma (stopped),
    delta (alpha's API server with a revoked token: 401) and epsilon (accepts, never answers)."""
    alpha = KubeEmulator(token=TOKEN).start()
    beta = KubeEmulator(token=TOKEN).start()
    for emulator in (alpha, beta):
        clear_discovery_caches(emulator.url)
    alpha.load(web_deployment("shop") + [
        crashing_pod("shop", "web-7d4b9-a1", "web"), crashing_pod("shop", "web-7d4b9-b2", "web"),
        image_pull_pod("shop", "cart-1"), healthy_pod("shop", "db-0"), healthy_pod("kube-system", "dns-1")])
    beta.load([crashing_pod("shop", "web-1", "web")])
    # Every API request to beta is refused from now on, through the emulator's HTTP control API.
    control = urllib.request.Request(beta.url + "/_emulator/faults", method="POST",
                                     data=json.dumps({"status": 403, "match": {"path_regex": "^/api"},
                                                      "times": None}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(control, timeout=10) as response:
        assert json.load(response) == {"faults": 1}
    gamma_url = "http://127.0.0.1:%d" % free_port()
    stalled = StallServer(lifetime=300).start()
    config = {"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [],
              "users": [{"name": "tester", "user": {"token": TOKEN}},
                        {"name": "revoked", "user": {"token": "revoked-token-0000"}}]}
    for name, url in (("alpha", alpha.url), ("beta", beta.url), ("gamma", gamma_url), ("epsilon", stalled.url)):
        config["clusters"].append({"name": name, "cluster": {"server": url}})
        config["contexts"].append({"name": name, "context": {"cluster": name, "user": "tester"}})
    config["contexts"].append({"name": "delta", "context": {"cluster": "alpha", "user": "revoked"}})
    kubeconfig = tmp_path / "fleet-kubeconfig.yaml"
    kubeconfig.write_text(yaml.safe_dump(config))
    inventory = tmp_path / "fleet.aiops_kubeconfig.yml"
    inventory.write_text(yaml.safe_dump({"plugin": "aiops.k8s.kubeconfig", "kubeconfig": [str(kubeconfig)]}))
    try:
        yield {"alpha": alpha, "beta": beta, "inventory": inventory, "tmp": tmp_path, "stalled": stalled}
    finally:
        stalled.stop()
        clear_discovery_caches(stalled.url)
        for emulator in (alpha, beta):
            url = emulator.url
            emulator.stop()
            clear_discovery_caches(url)
        clear_discovery_caches(gamma_url)


def run_fleet(fleet, *extra):
    report_dir = fleet["tmp"] / "report"
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", str(fleet["inventory"]), PLAYBOOK, "-f", "5",
           "-e", "report_dir=%s" % report_dir] + list(extra)
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, check=False, timeout=600)
    return proc, report_dir


def test_fleet_run_reports_each_cluster_and_survives_unreachable_forbidden_and_stalled(fleet, pod_diagnose_ready):
    fleet["alpha"].clear_requests()
    started = time.monotonic()
    # Per-request timeouts far above the cluster deadline: only the overall deadline can end epsilon.
    # (45 s leaves room for module start-up on a loaded CI machine; the healthy clusters take a few seconds.)
    proc, report_dir = run_fleet(fleet, "-e", "aiops_fleet_cluster_timeout=45", "-e", "aiops_fleet_request_timeout=600")
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    # Without the deadline the run would wait on epsilon for 600 s per request; it ends soon after 45 s.
    assert elapsed < 400, elapsed
    assert "Traceback" not in proc.stdout + proc.stderr

    model = json.loads((report_dir / "fleet-report.json").read_text())
    clusters = {c["name"]: c for c in model["clusters"]}
    assert clusters["alpha"]["status"] == "ok"
    assert clusters["beta"]["status"] == "forbidden"
    assert clusters["gamma"]["status"] == "unreachable"
    assert clusters["delta"]["status"] == "unauthorized"
    assert clusters["epsilon"]["status"] == "timeout"
    assert 45 <= clusters["epsilon"]["duration_seconds"] < 45 + 20
    assert clusters["epsilon"]["error"].startswith("No answer within the cluster deadline of 45 s")
    assert len(fleet["stalled"].requests) >= 1  # the request was sent and never answered
    assert "revoked-token-0000" not in json.dumps(model)
    assert "forbidden" in clusters["beta"]["error"].lower()
    assert clusters["alpha"]["scanned"] == 5
    assert clusters["alpha"]["failing"] == 3
    assert clusters["alpha"]["summary"]["CrashLoopBackOff"] == 2
    assert clusters["alpha"]["summary"]["ImagePullBackOff"] == 1
    assert model["totals"] == {"clusters": 5, "ok": 1, "not_ok": 4, "scanned": 5, "failing": 3, "workloads": 0,
                               "offenders": 2}
    # Ranked worst first: the only diagnosed cluster with failing pods leads and is marked; the rest follow.
    assert model["clusters"][0]["name"] == "alpha" and model["clusters"][0]["worst"] is True
    assert model["worst_cluster"] == "alpha"
    # The two crashing web pods collapse into one offender row for their Deployment.
    top = model["offenders"][0]
    assert (top["cluster"], top["workload"], top["category"], top["pods"]) == (
        "alpha", "Deployment/web", "CrashLoopBackOff", 2)
    assert top["runbook"] == "runbooks/CrashLoopBackOff.md"

    # The emulator really served alpha's pods, and beta's 403 came from the API, not from a skipped task.
    assert any(r["path"].endswith("/pods") for r in fleet["alpha"].requests)
    assert any(r["status"] == 403 for r in fleet["beta"].requests)

    markdown = (report_dir / "fleet-report.md").read_text()
    assert "- **beta** is **forbidden**" in markdown
    assert "- **gamma** is **unreachable**" in markdown
    assert "| alpha | 2 | 1 | 3 |" in markdown
    assert "| 1 | alpha (**worst**) |" in markdown
    assert "/runbooks/CrashLoopBackOff.md)" in markdown

    html = (report_dir / "fleet-report.html").read_text()
    assert 'data-cluster="beta" data-status="forbidden"' in html
    assert 'data-cluster="gamma" data-status="unreachable"' in html
    assert "Content-Security-Policy" in html
    assert 'data-cluster="epsilon" data-status="timeout"' in html
    assert "1 / 5" in html
    summary = " ".join(proc.stdout.split())
    assert "1/5 clusters diagnosed, 5 pods scanned, 3 pods and 0 workloads need attention (worst: alpha)." in summary
    assert "beta: forbidden." in summary and "gamma: unreachable." in summary and "delta: unauthorized." in summary
    assert "epsilon: timeout." in summary
    for name in ("fleet-report.md", "fleet-report.html", "fleet-report.json"):
        assert (report_dir / name).stat().st_size > 0


def test_a_stalled_cluster_is_ended_by_its_request_timeout(fleet, pod_diagnose_ready):
    """No cluster deadline this time: the per-request timeout alone, client set-up included, ends epsilon."""
    started = time.monotonic()
    proc, report_dir = run_fleet(fleet, "-e", "aiops_fleet_hosts=epsilon", "-e", "aiops_fleet_request_timeout=2")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert time.monotonic() - started < 120
    (epsilon,) = json.loads((report_dir / "fleet-report.json").read_text())["clusters"]
    assert epsilon["status"] == "timeout"
    assert epsilon["error"].startswith("Cannot reach the Kubernetes API at %s: timed out: no complete answer within 2 s"
                                       % fleet["stalled"].url), epsilon["error"]
    assert epsilon["duration_seconds"] < 2 + 20  # module start-up + one 2 s request, not 300 s


def test_fleet_can_be_told_to_fail_when_a_cluster_was_not_diagnosed(fleet, pod_diagnose_ready):
    proc, report_dir = run_fleet(fleet, "-e", "aiops_fleet_fail_on_unreachable=true", "-e", "aiops_fleet_hosts=beta")
    assert proc.returncode != 0
    assert "1 of 1 clusters were not diagnosed (beta)" in proc.stdout
    # The report is still written before the run fails.
    model = json.loads((report_dir / "fleet-report.json").read_text())
    assert [c["name"] for c in model["clusters"]] == ["beta"]
