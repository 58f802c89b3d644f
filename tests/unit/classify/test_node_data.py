"""Missing node data is not evidence that nodes were lost (assembly + classification)."""

from __future__ import annotations

import datetime

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.assemble import Snapshot, assemble
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import NODE_MISSING, NODE_PRESENT, NODE_UNKNOWN

AS_OF = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)


def _pod(name, node):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "uid": "uid-" + name},
            "spec": {"nodeName": node, "containers": [{"name": "app", "image": "nginx:1.25"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "app", "ready": True, "restartCount": 0,
                 "state": {"running": {"startedAt": "2026-11-20T00:00:00Z"}}}]}}


def _snapshot(nodes):
    snap = Snapshot()
    snap.pods = [_pod("a", "node-1"), _pod("b", "node-2")]
    snap.nodes = nodes
    return snap


def test_empty_node_list_is_unknown_not_lost():
    pods, _workloads = assemble(_snapshot({}), AS_OF, "dump")
    assert [p.node_state for p in pods] == [NODE_UNKNOWN, NODE_UNKNOWN]
    assert any("node data unavailable" in problem for problem in pods[0].problems)
    diagnoses = [classify_pod(p) for p in pods]
    assert [d["category"] for d in diagnoses] == ["Healthy", "Healthy"]
    assert any("node data unavailable" in problem for problem in diagnoses[0]["problems"])


def test_node_absent_from_a_real_list_is_missing():
    pods, _workloads = assemble(_snapshot({"node-1": {"metadata": {"name": "node-1"}}}), AS_OF, "dump")
    assert [p.node_state for p in pods] == [NODE_PRESENT, NODE_MISSING]
    assert classify_pod(pods[1])["category"] == "NodeLost"


def test_no_node_data_at_all_has_no_problem_line():
    pods, _workloads = assemble(_snapshot(None), AS_OF, "dump")
    assert pods[0].node_state == NODE_UNKNOWN and not pods[0].problems
