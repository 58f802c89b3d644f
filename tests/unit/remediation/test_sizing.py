"""remediation/sizing.py on scheduling dicts built by evidence/capacity.py from plain objects (no cluster).

The HTTP path (pod_diagnose, remediation_plan) is tests/integration/test_unschedulable_usage.py; these pin
the branches that need odd clusters: a pod larger than any node, a lowered request that still fits nowhere,
the rounding steps, toleration and selector filtering.
"""

from __future__ import annotations

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.evidence import capacity
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.proposals import propose
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.sizing import quantity, round_request

GI, MI = 2 ** 30, 2 ** 20
MESSAGE = "0/2 nodes are available: 2 Insufficient memory."


def _node(name, memory="16Gi", cpu="4", **spec):
    return {"metadata": {"name": name, "labels": spec.pop("labels", {})}, "spec": spec,
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "allocatable": {"cpu": cpu, "memory": memory}}}


def _pod(name, memory, node=None, phase="Running", **spec):
    status = {"phase": phase}
    if phase == "Pending":
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "message": MESSAGE}]
    spec.update({"containers": [{"name": "app", "resources": {"requests": {"memory": memory, "cpu": "100m"}}}]})
    if node:
        spec["nodeName"] = node
    return {"metadata": {"name": name, "namespace": "shop", "labels": {"pod-template-hash": "abc"},
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "web-abc", "controller": True}]},
            "spec": spec, "status": status}


def _diagnosis(pod, nodes, pods, used):
    reading = {"source": "metrics-server", "nodes": {},
               "pods": dict(("shop/%s" % p["metadata"]["name"], {"containers": {"app": {"memory": used, "cpu": 0.05}}})
                            for p in pods if p["status"]["phase"] == "Running")}
    room = capacity.scheduling(pod, {"nodes": nodes, "pods": pods + [pod]}, reading)
    return {"category": "UnschedulableInsufficientResources", "namespace": "shop", "name": pod["metadata"]["name"],
            "kind": "Pod", "culprit": {"resource": "memory", "requested": "8Gi"}, "facts": {},
            "subject": {"owners": [{"kind": "ReplicaSet", "name": "web-abc"}, {"kind": "Deployment", "name": "web"}],
                        "pod": {"phase": "Pending"}},
            "usage": {"scheduling": room}}


@pytest.mark.parametrize("resource, value, rounded, text", [
    ("memory", 100 * MI * 1.2, 128 * MI, "128Mi"), ("memory", 1.32 * GI, 1.5 * GI, "1.5Gi"),
    ("memory", 9.1 * GI, 10 * GI, "10Gi"), ("cpu", 0.121, 0.13, "130m"), ("cpu", 1.21, 1.3, "1.3"),
])
def test_rounding_gives_quantities_that_print_exactly(resource, value, rounded, text):
    assert round_request(resource, value) == pytest.approx(rounded)
    assert quantity(resource, round_request(resource, value)) == text


def test_lowered_request_that_still_fits_nowhere_also_gets_nodes_to_add():
    nodes = [_node("n1", "4Gi"), _node("n2", "4Gi")]
    pods = [_pod("web-abc-1", "3Gi", "n1"), _pod("web-abc-2", "3Gi", "n2")]
    out = propose(_diagnosis(_pod("web-abc-p", "8Gi", phase="Pending"), nodes, pods, 2.2 * GI))
    lower, add = out[0], out[1]
    assert lower["params"]["requests"] == {"memory": "3Gi"}
    assert lower["description"].endswith("largest node has 1Gi free; still more than any node has free)")
    assert add["description"] == ("Add 1 node(s) like n2 (4 CPU, 4Gi memory allocatable) for 1 pending pod(s) of web "
                                  "requesting 3Gi memory each (after lowering the request)")


def test_pod_larger_than_any_node_asks_for_bigger_nodes():
    nodes = [_node("n1", "4Gi")]
    pods = [_pod("web-abc-1", "8Gi", "n1")]
    out = propose(_diagnosis(_pod("web-abc-p", "8Gi", phase="Pending"), nodes, pods, 7.9 * GI))
    assert out[0]["description"].startswith("Add 1 node(s) with at least 8Gi memory allocatable (larger than n1: ")
    assert out[0]["basis"]["nodes_to_add"] == 1


def test_taints_selectors_and_cordons_exclude_nodes():
    tolerating = _pod("web-abc-p", "8Gi", phase="Pending", nodeSelector={"pool": "big"},
                      tolerations=[{"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}])
    nodes = [_node("ok", labels={"pool": "big"}, taints=[{"key": "dedicated", "value": "web", "effect": "NoSchedule"}]),
             _node("other-taint", labels={"pool": "big"}, taints=[{"key": "gpu", "effect": "NoExecute"}]),
             _node("small-pool", labels={"pool": "small"}), _node("cordoned", labels={"pool": "big"}, unschedulable=True)]
    room = capacity.scheduling(tolerating, {"nodes": nodes, "pods": [tolerating]})
    assert [n["name"] for n in room["nodes"]] == ["ok"]
    assert {n["name"]: n["reason"] for n in room["excluded_nodes"]} == {
        "other-taint": "taint gpu:NoExecute", "small-pool": "nodeSelector pool=big", "cordoned": "cordoned"}


def test_without_scheduling_data_only_the_manual_steps_remain():
    diagnosis = _diagnosis(_pod("web-abc-p", "8Gi", phase="Pending"), [_node("n1")], [], 1 * GI)
    diagnosis["usage"] = None
    (manual,) = propose(diagnosis)
    assert manual["action"] == "manual" and manual["basis"] is None
