"""Issue 14: a pod pending on "Insufficient memory" gets a request or capacity proposal computed from node room
and its running siblings' usage, over HTTP against the emulator (pod_diagnose and remediation_plan under
ansible-playbook; metrics.k8s.io PodMetrics/NodeMetrics from tests/support/scenario_metrics.py).

The cluster: three 4-CPU / 16Gi nodes, each running one replica of Deployment shop/web (ReplicaSet web-7d9f,
8Gi memory and 500m CPU requested), a DaemonSet agent (256Mi, 100m) and a database pod of 4.5Gi, 5Gi or 6Gi,
so the free memory for scheduling is 3.25Gi, 2.75Gi and 1.75Gi. web-7d9f-pend (and web-7d9f-pend2 in the
capacity case) asks for 8Gi: "0/3 nodes are available: 3 Insufficient memory".
"""

from __future__ import annotations

import json
import time

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.evidence import capacity, prometheus
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.live import LiveSource
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target
from ansible_collections.aiops.k8s.plugins.module_utils.k8s import transport as k8s_transport
from ansible_collections.aiops.k8s.plugins.module_utils.runner import diagnose
from tests.integration.test_metrics_wiring import run_play, save
from tests.support import scenario_metrics
from tests.support.prometheus_stub import PrometheusStub

pytestmark = pytest.mark.integration
GI, MI = 2 ** 30, 2 ** 20
MESSAGE = ("0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption "
           "victims found for incoming pod.")


def _pod(name, owner, containers, node=None, phase="Running", labels=None):
    status = {"phase": phase}
    if phase == "Running":
        status.update({"startTime": "2026-11-25T18:00:00Z", "conditions": [{"type": "Ready", "status": "True"}],
                       "containerStatuses": [{"name": c["name"], "image": c["image"], "ready": True, "restartCount": 0,
                                              "state": {"running": {"startedAt": "2026-11-25T18:00:00Z"}}}
                                             for c in containers]})
    else:
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                 "message": MESSAGE, "lastTransitionTime": "2026-11-25T18:30:00Z"}]
    spec = {"containers": containers}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "spec": spec, "status": status,
            "metadata": {"name": name, "namespace": owner[2], "uid": "uid-" + name, "labels": labels or {},
                         "creationTimestamp": "2026-11-25T18:00:00Z",
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1],
                                              "uid": "uid-" + owner[1], "controller": True}]}}


def _container(name, memory, cpu):
    return {"name": name, "image": "shop/%s:1.0" % name, "resources": {"requests": {"memory": memory, "cpu": cpu}}}


def cluster(pending=1):
    web = [_container("app", "8Gi", "500m")]
    labels = {"app": "web", "pod-template-hash": "7d9f"}
    template = {"metadata": {"labels": labels}, "spec": {"containers": web}}
    objs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "uid": "ns-shop"}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "infra", "uid": "ns-infra"}},
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "web", "namespace": "shop", "uid": "uid-web", "generation": 1, "labels": {"app": "web"}},
             "spec": {"replicas": 3 + pending, "selector": {"matchLabels": {"app": "web"}}, "template": template},
             "status": {"observedGeneration": 1, "replicas": 3 + pending, "readyReplicas": 3}},
            {"apiVersion": "apps/v1", "kind": "ReplicaSet",
             "metadata": {"name": "web-7d9f", "namespace": "shop", "uid": "uid-web-7d9f", "labels": labels,
                          "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                               "uid": "uid-web", "controller": True}]},
             "spec": {"replicas": 3 + pending, "selector": {"matchLabels": labels}, "template": template}}]
    rs = ("ReplicaSet", "web-7d9f", "shop")
    for index, db_memory in enumerate(("4608Mi", "5Gi", "6Gi"), start=1):
        node = "node-%d" % index
        objs.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node, "uid": node, "labels": {}},
                     "spec": {}, "status": {"conditions": [{"type": "Ready", "status": "True"}],
                                            "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"}}})
        objs.append(_pod("web-7d9f-%d" % index, rs, web, node, labels=labels))
        objs.append(_pod("agent-%d" % index, ("DaemonSet", "agent", "infra"), [_container("agent", "256Mi", "100m")],
                         node))
        objs.append(_pod("db-%d" % index, ("StatefulSet", "db", "infra"), [_container("db", db_memory, "1")], node))
    # A control-plane node the web pods do not tolerate, and a finished pod: neither counts.
    objs.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cp-1", "uid": "cp-1", "labels": {}},
                 "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
                 "status": {"conditions": [{"type": "Ready", "status": "True"}],
                            "allocatable": {"cpu": "8", "memory": "64Gi"}}})
    done = _pod("batch-1", ("Job", "batch", "infra"), [_container("batch", "2Gi", "1")], "node-1")
    done["status"]["phase"] = "Succeeded"
    objs.append(done)
    for suffix in ("pend", "pend2")[:pending]:
        objs.append(_pod("web-7d9f-%s" % suffix, rs, web, phase="Pending", labels=labels))
    return objs


def seed(api, sibling_memory, pending=1):
    objs = cluster(pending)

    def usage(pod, container):
        if pod["metadata"]["name"].startswith("web-"):
            return ("200m", sibling_memory)
        return None
    api.load(objs + scenario_metrics.metrics_for(objs, usage=usage))
    return objs


def diagnose_and_plan(api, tmp_path, name="web-7d9f-pend", extra=None, plan=True):
    """pod_diagnose (and remediation_plan of its first proposal) under ansible-playbook: (diagnosis, plan)."""
    out, planned = tmp_path / "diag.json", tmp_path / "plan.json"
    options = {"namespace": "shop", "name": name, "metrics": True}
    options.update(extra or {})
    tasks = [{"name": "Diagnose", "aiops.k8s.pod_diagnose": options, "register": "diag"}, save("diag", out)]
    if plan:
        tasks += [{"name": "Plan the first proposal", "aiops.k8s.remediation_plan": {
            "diagnosis": "{{ diag.diagnoses[0] }}"}, "register": "planned"}, save("planned", planned)]
    proc = run_play(api, tmp_path, tasks)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return json.loads(out.read_text())["diagnoses"][0], json.loads(planned.read_text())["plan"] if plan else None


def test_oversized_request_is_lowered_from_sibling_usage(kube_api, tmp_path):
    seed(kube_api, "1.1Gi")
    kube_api.clear_requests()
    diagnosis, plan = diagnose_and_plan(kube_api, tmp_path)
    assert diagnosis["category"] == "UnschedulableInsufficientResources"
    room = diagnosis["usage"]["scheduling"]
    assert [n["name"] for n in room["nodes"]] == ["node-1", "node-2", "node-3"]
    assert room["excluded_nodes"] == [{"name": "cp-1", "reason": "taint node-role.kubernetes.io/control-plane:"
                                                                 "NoSchedule"}]
    # 16Gi - (8Gi web + 256Mi agent + 4.5Gi db) = 3.25Gi; the Succeeded batch pod does not count.
    node1 = room["nodes"][0]["memory"]
    assert node1["free"] == pytest.approx(3.25 * GI) and node1["free_human"] == "3.2Gi"
    assert node1["used"] == pytest.approx((1.1 * GI + 128 * MI + 2304 * MI + 600 * MI), rel=0.001)
    assert room["siblings"]["running"] == 3 and room["siblings"]["family"] == "Deployment/web"
    assert room["siblings"]["containers"]["app"]["memory"]["sample_max_human"] == "1.1Gi"

    lower = diagnosis["remediations"][0]
    assert lower["action"] == "set_resources" and lower["target"]["kind"] == "Deployment"
    assert lower["target"]["container"] == "app"
    # 1.1Gi x 1.2 = 1.32Gi, rounded up to 512Mi steps between 1Gi and 8Gi: 1.5Gi.
    assert lower["params"] == {"requests": {"memory": "1.5Gi"}, "previous_requests": {"memory": "8Gi"}}
    assert lower["description"] == ("Lower memory request of web/app from 8Gi to 1.5Gi (siblings use 1.1Gi; "
                                    "largest node has 3.2Gi free)")
    assert lower["basis"]["source"] == "metrics-server" and lower["basis"]["node"] == "node-1"
    assert lower["basis"]["text"].startswith("siblings use 1.1Gi over 3 running pod(s) of Deployment/web; "
                                             "largest node has 3.2Gi free (node-1)")
    assert lower["risk_tier"] == "medium"
    assert not [r for r in diagnosis["remediations"] if r["description"].startswith("Add ")]
    # The approval gate: the plan carries the same change at tier medium (named approver + justification).
    assert plan["action"] == "set_resources" and plan["risk_tier"] == "medium"
    assert plan["params"]["requests"] == {"memory": "1.5Gi"}
    paths = [r["path"] for r in kube_api.requests if r["method"] == "GET"]
    assert "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods" in paths and "/api/v1/pods" in paths


def test_siblings_using_nearly_all_gives_nodes_to_add(kube_api, tmp_path):
    seed(kube_api, "7.8Gi", pending=2)
    diagnosis, _plan = diagnose_and_plan(kube_api, tmp_path, plan=False)
    assert not [r for r in diagnosis["remediations"] if r["action"] == "set_resources"]
    add = diagnosis["remediations"][0]
    # Each new 16Gi node keeps 256Mi for the agent DaemonSet: one 8Gi pod per node, two pods pending.
    assert add["action"] == "manual" and add["basis"]["nodes_to_add"] == 2
    assert add["description"] == ("Add 2 node(s) like node-3 (4 CPU, 16Gi memory allocatable) for 2 pending pod(s) "
                                  "of web requesting 8Gi memory each")
    assert add["basis"]["text"] == ("2 pending pod(s) of Deployment/web requesting 8Gi memory each; siblings use "
                                    "7.8Gi; largest node has 3.2Gi free (node-1)")
    assert any("Scale the node group that node-3 belongs to by 2" in step for step in add["manual_steps"])


def test_prometheus_peak_of_siblings_is_the_basis(kube_api, tmp_path):
    seed(kube_api, "1.1Gi")
    now = time.time()
    with PrometheusStub() as prom:
        for index in (1, 2, 3):
            labels = {"namespace": "shop", "pod": "web-7d9f-%d" % index, "container": "app"}
            prom.add_series(prometheus.MEMORY_METRIC, labels, [(now - 600, 1.1 * GI), (now - 300, 2.2 * GI)])
            prom.add_series(prometheus.CPU_METRIC, labels, [(now - 300, 0.2)])
        diagnosis, _plan = diagnose_and_plan(kube_api, tmp_path, extra={"prometheus_url": prom.url}, plan=False)
    lower = diagnosis["remediations"][0]
    # 2.2Gi x 1.2 = 2.64Gi -> 3Gi; still fits node-1's 3.25Gi.
    assert lower["params"]["requests"] == {"memory": "3Gi"}
    assert lower["description"] == ("Lower memory request of web/app from 8Gi to 3Gi (siblings peak 2.2Gi; "
                                    "largest node has 3.2Gi free)")
    assert lower["basis"]["source"] == "prometheus" and " over 1h" in lower["basis"]["text"]


def test_no_capacity_read_without_a_pod_pending_on_resources(kube_api):
    objs = [o for o in cluster() if not o["metadata"]["name"].startswith("web-7d9f-pend")]
    kube_api.load(objs + scenario_metrics.metrics_for(objs))
    assert not any(capacity.needs_capacity(o) for o in objs if o["kind"] == "Pod")
    transport = k8s_transport.transport_from_kubeconfig(kube_api.kubeconfig)
    kube_api.clear_requests()
    gathered = LiveSource(transport, metrics=True).gather(Target(namespace="shop"))
    assert not [r for r in kube_api.requests if r["path"] == "/api/v1/pods"]
    assert all("scheduling" not in (gathered.usage.get(k) or {}) for k in ("shop/web-7d9f-1",))
    assert diagnose(gathered)["problems"] == []


def test_namespace_scan_without_metrics_server_still_proposes_from_requests(kube_api):
    kube_api.load(cluster())
    kube_api.emulator.add_fault(404, "GET", r"^/apis/metrics\.k8s\.io/", times=None)
    transport = k8s_transport.transport_from_kubeconfig(kube_api.kubeconfig)
    result = diagnose(LiveSource(transport, metrics=True).gather(Target(namespace="shop")))
    notes = [p for p in result["problems"] if "metrics" in p]
    assert len(notes) == 1 and "HTTP 404" in notes[0]
    (pending,) = [d for d in result["diagnoses"] if d["name"] == "web-7d9f-pend"]
    add = pending["remediations"][0]
    assert add["action"] == "manual" and add["basis"]["source"] == "requests"
    assert "no running sibling measured" in add["basis"]["text"]
