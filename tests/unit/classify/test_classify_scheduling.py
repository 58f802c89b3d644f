"""Pending pods: the scheduler's FitError parsed into reasons with counts, and the one to change picked.

Message formats: pkg/scheduler/framework/types.go (FitError.Error) and the filter plugins under
pkg/scheduler/framework/plugins/ (noderesources/fit.go, tainttoleration, nodeaffinity, volumebinding,
interpodaffinity, nodeports, nodeunschedulable); wordings from 1.19 to 1.32 as seen in issue threads.
"""

from __future__ import annotations

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules.scheduling import parse_fit_error
from tests.unit.classify.podbuilder import container, event, evidence, pod


def pending(message=None, events_msgs=(), requests=None, **kw):
    conditions = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}] \
        if message else []
    p = pod(phase="Pending", node=None, containers=[container(requests=requests or {"cpu": "2", "memory": "1Gi"})],
            conditions=conditions, **kw)
    events = [event("FailedScheduling", m, component="default-scheduler", ago=ago) for m, ago in events_msgs]
    return evidence(p, events=events, claims=kw.pop("claims", None) if "claims" in kw else None)


def test_parse_newer_format_with_preemption_suffix():
    msg = ("0/5 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
           "4 Insufficient memory. preemption: 0/5 nodes are available: 1 Preemption is not helpful for scheduling, "
           "4 No preemption victims found for incoming pod.")
    parsed = parse_fit_error(msg)
    assert parsed["total"] == 5
    assert [(r["count"], r["kind"]) for r in parsed["reasons"]] == [(1, "taints"), (4, "resources")]
    assert parsed["reasons"][0]["taint"] == "node-role.kubernetes.io/control-plane:"
    assert parsed["reasons"][1]["resource"] == "memory"


@pytest.mark.parametrize("message, category, culprit_key, culprit_value", [
    # 1.19-1.22 wording, control-plane taint is by design: resources is what must change
    ("0/3 nodes are available: 1 node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't "
     "tolerate, 2 Insufficient cpu.", "UnschedulableInsufficientResources", "resource", "cpu"),
    ("0/4 nodes are available: 4 Insufficient nvidia.com/gpu.", "UnschedulableInsufficientResources", "resource",
     "nvidia.com/gpu"),
    ("0/2 nodes are available: 2 Too many pods.", "UnschedulableInsufficientResources", "resource", "pods"),
    ("0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/3 nodes are "
     "available: 3 Preemption is not helpful for scheduling..", "UnschedulableTaints", "taint", "dedicated: gpu"),
    ("0/1 nodes are available: 1 node(s) had taint {node.kubernetes.io/not-ready: }, that the pod didn't "
     "tolerate.", "UnschedulableTaints", "taint", "node.kubernetes.io/not-ready:"),
    ("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) "
     "didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful "
     "for scheduling.", "UnschedulableNodeAffinity", None, None),
    ("0/6 nodes are available: 6 node(s) didn't match node selector.", "UnschedulableNodeAffinity", None, None),
    ("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.", "Unschedulable",
     None, None),
    ("0/1 nodes are available: 1 pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are "
     "available: 1 Preemption is not helpful for scheduling.", "UnschedulableVolume", None, None),
    ("0/3 nodes are available: 3 node(s) had volume node affinity conflict.", "UnschedulableVolume", None, None),
    ("0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports.", "Unschedulable",
     None, None),
    ("0/2 nodes are available: 2 node(s) were unschedulable.", "Unschedulable", None, None),
    # pkg/scheduler/framework/plugins/nodeunschedulable: cordoned beats node-health taints
    ("0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 node(s) were "
     "unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
     "Unschedulable", None, None),
    ("0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/unschedulable: }.",
     "Unschedulable", None, None),
    # 1.30+ wording without the taint text
    ("0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 Insufficient nvidia.com/gpu. preemption: "
     "0/4 nodes are available: 4 Preemption is not helpful for scheduling.", "UnschedulableInsufficientResources",
     "resource", "nvidia.com/gpu"),
])
def test_fit_errors(message, category, culprit_key, culprit_value):
    diag = classify_pod(pending(events_msgs=[(message, 20)]))
    assert diag["category"] == category
    if culprit_key:
        assert diag["culprit"][culprit_key] == culprit_value
    assert diag["evidence"][0]["detail"] == message


def test_other_reasons_listed_in_evidence():
    msg = "0/5 nodes are available: 2 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector."
    diag = classify_pod(pending(events_msgs=[(msg, 20)]))
    assert diag["category"] == "UnschedulableInsufficientResources"
    assert diag["culprit"]["requested"] == "2"
    assert any("affinity" in e["detail"] for e in diag["evidence"][1:])


def test_condition_used_when_events_expired():
    diag = classify_pod(pending(message="0/3 nodes are available: 3 Insufficient memory."))
    assert diag["category"] == "UnschedulableInsufficientResources"
    assert diag["evidence"][0]["source"] == "status.conditions[PodScheduled]"


def test_newest_event_wins_over_older_ones():
    old = ("0/3 nodes are available: 3 Insufficient cpu.", 3000)
    new = ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.", 10)
    diag = classify_pod(pending(events_msgs=[old, new]))
    assert diag["category"] == "UnschedulableNodeAffinity"


def test_old_unbound_pvc_wording_without_counts():
    diag = classify_pod(pending(events_msgs=[('persistentvolumeclaim "data-db-0" not found', 10)]))
    assert diag["category"] == "UnschedulableVolume"
    assert diag["culprit"]["claims"] == ["data-db-0"]


def test_no_nodes_at_all():
    diag = classify_pod(pending(events_msgs=[("no nodes available to schedule pods", 10)]))
    assert diag["category"] == "Unschedulable"


def test_fresh_pending_pod_without_word_from_scheduler_is_healthy():
    p = pod(phase="Pending", node=None, created_ago=5)
    assert classify_pod(evidence(p))["category"] == "Healthy"


def test_scheduled_pod_ignores_old_failed_scheduling():
    p = pod(phase="Running", statuses=[{"name": "app", "ready": True, "restartCount": 0,
                                        "state": {"running": {"startedAt": "2026-11-25T11:00:00Z"}}}],
            conditions=[{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}])
    ev = evidence(p, events=[event("FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu.", ago=3000)])
    assert classify_pod(ev)["category"] == "Healthy"


def test_node_allocatable_compared_when_node_present():
    msg = "0/1 nodes are available: 1 Insufficient memory."
    p = pod(phase="Pending", node=None, containers=[container(requests={"memory": "64Gi"})])
    node = {"metadata": {"name": "node-1"}, "status": {"allocatable": {"memory": "16Gi"}}}
    diag = classify_pod(evidence(p, events=[event("FailedScheduling", msg)], node=node))
    assert any("allocatable 16Gi vs requested 64Gi" in e["detail"] for e in diag["evidence"])


# --- Several reasons in one message, read together (issue 13). Each node reports the first filter it fails
# (TaintToleration, then NodeAffinity, NodePorts, NodeResourcesFit, ...), so the counts split the nodes.

def _selector_pod(message, spec_extra):
    p = pod(phase="Pending", node=None, containers=[container(requests={"cpu": "1"})], spec_extra=spec_extra)
    return evidence(p, events=[event("FailedScheduling", message, component="default-scheduler", ago=20)])


@pytest.mark.parametrize("message, spec_extra", [
    # A dedicated pool, labelled and tainted with the same key: the selector aims at the tainted nodes.
    ("0/5 nodes are available: 3 node(s) had untolerated taint {dedicated: search}, 2 node(s) didn't match Pod's "
     "node affinity/selector. preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.",
     {"nodeSelector": {"dedicated": "search"}}),
    # One host pinned by name: the other nodes are excluded on purpose, the chosen one is tainted.
    ("0/5 nodes are available: 1 node(s) had untolerated taint {maintenance: true}, 4 node(s) didn't match Pod's "
     "node affinity/selector.", {"nodeSelector": {"kubernetes.io/hostname": "node-3"}}),
    # Required node affinity on the control-plane role, 1.19-1.22 wording of the control-plane taint.
    ("0/3 nodes are available: 1 node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't "
     "tolerate, 2 node(s) didn't match node selector.",
     {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
         {"matchExpressions": [{"key": "node-role.kubernetes.io/master", "operator": "Exists"}]}]}}}}),
    # Pre-1.14 predicate names, the taint not named, a role selector.
    ("No nodes are available that match all of the following predicates:: MatchNodeSelector (4), "
     "PodToleratesNodeTaints (2).", {"nodeSelector": {"kubernetes.io/role": "master"}}),
])
def test_taint_on_the_nodes_the_selector_aims_at_is_the_cause(message, spec_extra):
    diag = classify_pod(_selector_pod(message, spec_extra))
    assert diag["category"] == "UnschedulableTaints", diag["root_cause"]
    culprit = diag["culprit"]
    assert culprit["node_selector"] and len(culprit["reasons"]) == 2
    assert {r["kind"] for r in culprit["reasons"]} == {"taints", "node_affinity"}
    assert "add a toleration" in diag["root_cause"] and "excluded on purpose" in diag["root_cause"]


def test_selector_unrelated_to_the_taint_stays_the_cause():
    msg = ("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
           "2 node(s) didn't match Pod's node affinity/selector.")
    diag = classify_pod(_selector_pod(msg, {"nodeSelector": {"disktype": "ssd"}}))
    assert diag["category"] == "UnschedulableNodeAffinity"
    assert diag["culprit"]["node_selector"] == {"disktype": "ssd"}
    assert [r["count"] for r in diag["culprit"]["reasons"]] == [1, 2]


@pytest.mark.parametrize("message, category", [
    # 1.14-1.17 wording names no taint: with a concrete reason on the other nodes, that reason is the cause.
    ("0/3 nodes are available: 1 node(s) had taints that the pod didn't tolerate, 2 node(s) were unschedulable.",
     "Unschedulable"),
    ("0/2 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 1 node(s) had taints "
     "that the pod didn't tolerate.", "Unschedulable"),
    ("0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 node(s) didn't match pod topology spread "
     "constraints.", "Unschedulable"),
    # ... but alone it is the cause.
    ("0/3 nodes are available: 3 node(s) had taints that the pod didn't tolerate.", "UnschedulableTaints"),
])
def test_unnamed_taint_ranks_after_concrete_reasons(message, category):
    diag = classify_pod(pending(events_msgs=[(message, 20)]))
    assert diag["category"] == category
    if category != "UnschedulableTaints":
        assert "taint is not named" in diag["root_cause"]


def test_single_reason_has_no_reason_list():
    diag = classify_pod(pending(events_msgs=[("0/3 nodes are available: 3 Insufficient memory.", 20)]))
    assert "reasons" not in diag["culprit"]
