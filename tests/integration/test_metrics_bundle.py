"""Issue 14: collect_bundle writes metrics-server usage into the bundle, and the offline diagnosis shows it.

Real ansible-playbook runs of playbooks/collect_bundle.yml against the emulator (which serves metrics.k8s.io
PodMetrics/NodeMetrics from tests/support/scenario_metrics.py), then pod_diagnose
offline on the bundle. metrics-server absent (404), forbidden (403) or not ready (503) leaves a note file and
the bundle is still written.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.evidence import metrics
from tests.integration.test_metrics_wiring import run_play, save
from tests.integration.test_playbook_paths import run
from tests.support import scenario_metrics
from tests.support.fixtures import ansible_environment
from tests.support.oom_chain import oom_deployment_chain

pytestmark = pytest.mark.integration
MI = 2 ** 20


def seed(api, with_metrics=True):
    """Deployment shop/web whose pod web-new-0 OOM-loops at 126Mi of 128Mi on node-1 (3.1 of 4 CPUs)."""
    objs = oom_deployment_chain("128Mi", {"cpu": "100m", "memory": "128Mi"})
    samples = scenario_metrics.metrics_for(objs, node_usage={"node-1": ("3100m", "5Gi")}) if with_metrics else []
    api.load(objs + samples)
    return objs, samples


def collect(api, tmp_path, *extra):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    rc, out = run("collect_bundle", work, ansible_environment(api.kubeconfig), "bundle_dir=bundle", *extra)
    assert rc == 0, out
    return work / "bundle", out


def test_bundle_has_the_four_metrics_files_and_the_offline_diagnosis_shows_usage(kube_api, tmp_path):
    _objs, samples = seed(kube_api)
    kube_api.clear_requests()
    bundle, out = collect(kube_api, tmp_path, "pod_namespace=shop")
    assert "usage from metrics-server" in out
    assert [r for r in kube_api.requests if r["method"] != "GET"] == []  # a bundle never writes to the cluster
    lists = [r["path"] for r in kube_api.requests if r["path"].startswith("/apis/metrics.k8s.io/v1beta1/")
             and r["path"] != "/apis/metrics.k8s.io/v1beta1"]
    # One LIST each: PodMetrics of the namespace asked for, NodeMetrics of the cluster.
    assert sorted(lists) == ["/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods", "/apis/metrics.k8s.io/v1beta1/nodes"]
    folder = bundle / "metrics"
    assert sorted(p.name for p in folder.iterdir()) == [
        "node-metrics.json", "pod-metrics.json", "top-nodes.txt", "top-pods.txt"]
    pods = json.loads((folder / "pod-metrics.json").read_text())
    assert pods["kind"] == "PodMetricsList" and [i["metadata"]["name"] for i in pods["items"]] == ["web-new-0"]
    # The text files read back to the same figures as the JSON (kubectl top rounds to Mi and millicores).
    assert (folder / "top-pods.txt").read_text().splitlines() == [
        "NAMESPACE   POD         NAME   CPU(cores)   MEMORY(bytes)", "shop        web-new-0   app    30m          126Mi"]
    assert (folder / "top-nodes.txt").read_text().splitlines() == [
        "NAME     CPU(cores)   CPU(%)   MEMORY(bytes)   MEMORY(%)", "node-1   3100m        78%      5120Mi          62%"]
    assert metrics.parse_top_pods((folder / "top-pods.txt").read_text())["shop/web-new-0"]["containers"]["app"] == {
        "cpu": pytest.approx(0.03), "memory": 126 * MI}
    reading = metrics.read_dump(str(bundle))
    assert reading["source"] == "dump" and reading["problems"] == []
    expected = scenario_metrics.kibibytes(126 * MI)
    assert [c["usage"]["memory"] for c in samples[0]["containers"]] == [expected]
    assert reading["pods"]["shop/web-new-0"]["containers"]["app"]["memory"] == pytest.approx(126 * MI, rel=0.001)
    assert reading["nodes"]["node-1"]["cpu"] == pytest.approx(3.1)

    # Offline, no cluster: the diagnosis of the bundle states the usage and sizes the fix from it.
    proc = run_play(kube_api, tmp_path, [
        {"name": "Diagnose the bundle", "aiops.k8s.pod_diagnose": {"dump_dir": str(bundle), "metrics": True},
         "register": "diag"}, save("diag", tmp_path / "diag.json")])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads((tmp_path / "diag.json").read_text())
    (oom,) = result["diagnoses"]
    assert oom["category"] == "OOMKilled" and oom["usage"]["source"] == "dump"
    assert oom["usage"]["containers"][0]["memory"]["text"] == "126Mi of 128Mi (98%)"
    assert "Measured usage: app cpu 30m of 100m request (30%); app memory 126Mi of 128Mi (98%); node node-1 cpu " \
           "3.1 of 4 (78%)" in oom["root_cause"]
    assert oom["remediations"][0]["params"]["memory_limit"] == "177Mi"
    assert oom["remediations"][0]["basis"]["text"].startswith("sample 126Mi at ")
    assert not [p for p in result["problems"] if "metrics" in p]


@pytest.mark.parametrize("status,paths,words", [
    (404, r"^/apis/metrics\.k8s\.io/", "metrics.k8s.io is not served (HTTP 404): metrics-server is not installed"),
    # RBAC as clusters have it: discovery is open to every user (system:discovery), the LISTs are refused.
    (403, r"^/apis/metrics\.k8s\.io/v1beta1/(namespaces|nodes|pods)", "reading metrics.k8s.io is forbidden (HTTP 403)"),
    (503, r"^/apis/metrics\.k8s\.io/", "metrics-server is not ready (HTTP 503 from metrics.k8s.io)"),
])
def test_metrics_server_absent_forbidden_or_not_ready_leaves_a_note_not_a_failure(kube_api, tmp_path, status, paths,
                                                                                  words):
    seed(kube_api, with_metrics=False)
    kube_api.emulator.add_fault(status, "GET", paths, times=None)
    bundle, out = collect(kube_api, tmp_path)
    assert "no usage figures (metrics.k8s.io not served: see metrics/NOT-COLLECTED.txt)" in out
    assert (bundle / "nodes.json").is_file() and (bundle / "shop" / "pods.json").is_file()
    assert sorted(p.name for p in (bundle / "metrics").iterdir()) == ["NOT-COLLECTED.txt"]
    note = (bundle / "metrics" / "NOT-COLLECTED.txt").read_text()
    assert "aiops.k8s.metrics_server" in note and "PodMetrics: " in note and "NodeMetrics: " in note
    assert words in note, note
    reading = metrics.read_dump(str(bundle))
    assert reading["source"] is None and len(reading["problems"]) == 1
    assert reading["problems"][0].startswith("the bundle has no usage: metrics.k8s.io could not be read when")
