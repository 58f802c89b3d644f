"""Right-sizing report (resource_usage_info + playbooks/rightsize.yml) over HTTP against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.evidence import prometheus
from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport
from ansible_collections.aiops.k8s.plugins.modules import resource_usage_info
from tests.support import scenario_metrics, scenarios
from tests.support.fixtures import ansible_environment
from tests.support.prometheus_stub import PrometheusStub

pytestmark = pytest.mark.integration
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MI = 2 ** 20
OVER, AT_RISK = "svc-003", "svc-007"


def fleet_usage(pod, container):
    """svc-003 idles (5m CPU, 20Mi), svc-007 sits at 250Mi of its 256Mi limit, the rest use 70 % of requests."""
    app = pod["metadata"]["labels"]["app"]
    if app == OVER:
        return 0.005, 20 * MI
    if app == AT_RISK:
        return 0.07, 250 * MI
    return 0.07, 0.7 * 128 * MI


def params(**extra):
    base = dict(namespace=None, label_selector=None, dump_dir=None, prometheus_url=None, prometheus_token=None,
                prometheus_window=3600, prometheus_validate_certs=True, headroom_percent=20,
                over_provisioned_percent=50, at_risk_percent=90, request_timeout=30)
    base.update(extra)
    return base


def test_report_over_2000_pods_lists_expected_workloads(kube_api, tmp_path):
    objects, logs = scenarios.make_fleet(namespaces=8, pods=2000, failing_ratio=0.0)
    pods = [o for o in objects if o["kind"] == "Pod"]
    assert len(pods) == 2000
    kube_api.load(objects + scenario_metrics.metrics_for(objects, usage=fleet_usage), logs, copy_objects=False)
    kube_api.emulator.settle()
    kube_api.clear_requests()
    out = tmp_path / "report"
    env = ansible_environment(kube_api.kubeconfig)
    result = subprocess.run([os.path.join(REPO_ROOT, ".venv", "bin", "ansible-playbook"), "-i", "localhost,",
                             os.path.join(REPO_ROOT, "playbooks", "rightsize.yml"), "-e", "report_dir=%s" % out,
                             "-e", "kubeconfig=%s" % kube_api.kubeconfig],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((out / "rightsize-report.json").read_text())
    namespaces = ["team-%02d" % i for i in range(8)]
    assert {(r["namespace"], r["name"]) for r in report["over_provisioned"]} == {(ns, OVER) for ns in namespaces}
    assert {(r["namespace"], r["name"], r["resource"]) for r in report["at_risk"]} == {
        (ns, AT_RISK, "memory") for ns in namespaces}
    summary = report["summary"]
    assert (summary["pods"], summary["pods_measured"], summary["workloads"]) == (2000, 2000, 200)
    assert (summary["over_provisioned"], summary["at_risk"]) == (8, 8)
    # 80 svc-003 pods: request 100m -> 10m (5m + 20 % is below the 10m floor), 128Mi -> 24Mi (20Mi + 20 %).
    assert summary["cpu_freed"] == pytest.approx(80 * 0.09) and summary["memory_freed"] == 80 * 104 * MI
    assert summary["memory_freed_human"] == "8.1Gi" and summary["cpu_freed_human"] == "7.2"
    row = next(r for r in report["at_risk"] if r["namespace"] == "team-00")
    assert row["kind"] == "Deployment" and row["current"] == "256Mi" and row["recommended"] == "350Mi"
    assert row["reason"] == "working set at 98% of its 256Mi limit: the next spike is an OOM kill"
    assert len(report["nodes"]) == 5 and report["problems"] == []
    # Reads: pods (4 pages of 500), replicasets, nodes, one cluster-wide PodMetrics LIST (metrics-server does not
    # page, so one big page), NodeMetrics.
    paths = [r["path"] for r in kube_api.requests if r["path"].startswith(("/api/", "/apis/"))]
    assert paths.count("/apis/metrics.k8s.io/v1beta1/pods") == 1 and "/apis/metrics.k8s.io/v1beta1/nodes" in paths
    assert len(paths) == 8, paths
    markdown = (out / "rightsize-report.md").read_text()
    assert "| team-03 | Deployment/svc-003 | app | memory | 10 | uses 20Mi of its 128Mi request (16%) | 128Mi | 24Mi |" \
        in markdown
    html = (out / "rightsize-report.html").read_text()
    assert "default-src 'none'" in html and "Deployment/svc-007" in html and "<script" not in html


def test_prometheus_peak_turns_a_quiet_sample_into_at_risk_and_absent_metrics_is_one_note(kube_api):
    objects, logs = scenarios.make_fleet(namespaces=1, pods=20, failing_ratio=0.0)
    kube_api.load(objects + scenario_metrics.metrics_for(objects, usage=lambda p, c: (0.07, 100 * MI)), logs)
    transport = k8s_transport.transport_from_kubeconfig(kube_api.kubeconfig)
    quiet = resource_usage_info.report(params(namespace="team-00"), transport)["report"]
    assert quiet["at_risk"] == [] and quiet["history_window"] is None
    pod = next(o for o in objects if o["kind"] == "Pod" and o["metadata"]["labels"]["app"] == "svc-001")
    now = time.time()
    with PrometheusStub() as prom:
        prom.add_series(prometheus.MEMORY_METRIC, {"namespace": "team-00", "pod": pod["metadata"]["name"],
                                                   "container": "app"}, [(now - 600, 100 * MI), (now - 300, 255 * MI)])
        peaked = resource_usage_info.report(params(namespace="team-00", prometheus_url=prom.url), transport)["report"]
    assert [(r["name"], r["resource"]) for r in peaked["at_risk"]] == [("svc-001", "memory")]
    assert peaked["history_window"] == "1h 00m"
    advice = next(w for w in peaked["workloads"] if w["name"] == "svc-001")["containers"][0]["memory"]
    assert advice["basis_from"] == "prometheus peak" and advice["peak_human"] == "255Mi"

    kube_api.emulator.add_fault(404, "GET", r"^/apis/metrics\.k8s\.io/", times=None)
    absent = resource_usage_info.report(params(namespace="team-00"), transport)["report"]
    assert len(absent["problems"]) == 1 and "aiops.k8s.metrics_server" in absent["problems"][0]
    assert absent["summary"]["pods_without_metrics"] == 20 and absent["over_provisioned"] == []
    assert {w["verdict"] for w in absent["workloads"]} == {"unmeasured"}


@pytest.mark.parametrize("top_text", [False, True])
def test_offline_report_from_a_dump_matches_the_live_one(kube_api, tmp_path, top_text):
    from tests.support import dumpwriter
    objects, logs = scenarios.make_fleet(namespaces=1, pods=100, failing_ratio=0.1)
    samples = scenario_metrics.metrics_for(objects, usage=fleet_usage)
    kube_api.load(objects + samples, logs)
    live = resource_usage_info.report(params(), k8s_transport.transport_from_kubeconfig(kube_api.kubeconfig))["report"]
    dumpwriter.write_dump(str(tmp_path / "dump"), objects + samples, logs, top_text=top_text)
    if top_text:  # kubectl top text only: rounded figures, no timestamps
        for name in ("pod-metrics.json", "node-metrics.json"):
            (tmp_path / "dump" / "metrics" / name).unlink()
    offline = resource_usage_info.report(params(dump_dir=str(tmp_path / "dump")))
    assert offline["api_requests"] == 0
    offline = offline["report"]
    assert offline["source"] == "dump" and offline["problems"] == []

    def verdicts(report):
        return sorted((r["namespace"], r["name"], r["resource"]) for r in report["over_provisioned"] + report["at_risk"])
    assert verdicts(offline) == verdicts(live) == [("team-00", OVER, "cpu"), ("team-00", OVER, "memory"),
                                                   ("team-00", AT_RISK, "memory")]
    running = sum(1 for o in objects if o["kind"] == "Pod" and o["status"].get("phase") == "Running")
    assert offline["summary"]["pods_measured"] == live["summary"]["pods_measured"] == running < 100
    assert [n["name"] for n in offline["nodes"]] == [n["name"] for n in live["nodes"]]


def test_pod_namespace_and_relative_report_dir_are_the_users(kube_api, tmp_path):
    """`-e pod_namespace=` scopes the report and a relative report_dir lands where the user ran the command."""
    objects, logs = scenarios.make_fleet(namespaces=2, pods=40, failing_ratio=0.0)
    kube_api.load(objects + scenario_metrics.metrics_for(objects, usage=fleet_usage), logs, copy_objects=False)
    kube_api.emulator.settle()
    env = ansible_environment(kube_api.kubeconfig)
    result = subprocess.run([os.path.join(REPO_ROOT, ".venv", "bin", "ansible-playbook"), "-i", "localhost,",
                             os.path.join(REPO_ROOT, "playbooks", "rightsize.yml"), "-e", "report_dir=mine",
                             "-e", "pod_namespace=team-01", "-e", "kubeconfig=%s" % kube_api.kubeconfig],
                            cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "WARNING" not in result.stdout + result.stderr
    report = json.loads((tmp_path / "mine" / "rightsize-report.json").read_text())
    in_namespace = [o for o in objects if o["kind"] == "Pod" and o["metadata"]["namespace"] == "team-01"]
    assert 0 < report["summary"]["pods"] == len(in_namespace) < 40
    assert not os.path.exists(os.path.join(REPO_ROOT, "playbooks", "mine"))
