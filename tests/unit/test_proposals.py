"""Remediation proposals: computed parameters, targets, tiers from remediation/policy.py (tests/unit/remediation)."""

from __future__ import annotations

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import ACTIONS, RISK_TIERS
from ansible_collections.aiops.k8s.plugins.module_utils.runner import diagnose_pod as classify_pod
from ansible_collections.aiops.k8s.plugins.module_utils.runner import with_proposals, with_usage
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.usage import figure
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.owners import rollout_undo_info
from ansible_collections.aiops.k8s.plugins.module_utils.common.quantity import parse_quantity
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.proposals import new_memory_limit, propose
from tests.unit.classify.podbuilder import (
    container, cstatus, deployment_owners, evidence, pod, term,
)


@pytest.mark.parametrize("old, observed, new", [
    ("256Mi", None, "384Mi"), ("100Mi", None, "192Mi"), ("1Gi", None, "1536Mi"), ("2Gi", None, "3Gi"),
    ("512M", None, "768Mi"), ("268435456", None, "384Mi"), ("256Mi", "900Mi", "1280Mi"), (None, "1250Mi", "1536Mi"),
    ("1.5Gi", None, "2304Mi"),
])
def test_new_memory_limit(old, observed, new):
    assert new_memory_limit(old, observed) == new


def test_new_memory_limit_unknown():
    assert new_memory_limit(None) is None
    assert new_memory_limit("lots") is None


@pytest.mark.parametrize("text, value", [("1Ki", 1024), ("1k", 1000), ("500m", 0.5), ("1e3", 1000), ("x", None),
                                         (None, None), (True, None)])
def test_parse_quantity(text, value):
    assert parse_quantity(text) == value


def crashing(last):
    return pod(containers=[container(limits={"memory": "256Mi"})],
               statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), last=last, restarts=4)])


def test_oom_proposal_targets_deployment_container():
    diag = classify_pod(evidence(crashing(term("OOMKilled", 137, ago=30))))
    proposal = diag["remediations"][0]
    assert proposal["target"] == {"api_version": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web",
                                  "container": "app"}
    assert proposal["risk_tier"] == "medium" and proposal["reversible"] is True
    assert "256Mi" in proposal["rollback"]
    for proposal in diag["remediations"]:
        assert set(proposal) == {"action", "target", "params", "risk_tier", "description", "reversible", "rollback",
                                 "manual_steps", "basis"}
        assert proposal["action"] in ACTIONS and proposal["risk_tier"] in RISK_TIERS


def test_oom_on_bare_pod_is_critical():
    p = crashing(term("OOMKilled", 137, ago=30))
    del p["metadata"]["ownerReferences"]
    diag = classify_pod(evidence(p, owners=[]))
    assert diag["owner"] is None
    assert diag["remediations"][0]["target"]["kind"] == "Pod"
    assert diag["remediations"][0]["risk_tier"] == "critical"


def test_rollout_undo_only_for_newest_revision_with_history():
    assert rollout_undo_info(evidence(crashing(term()), owners=deployment_owners(rs_rev=1))) is None
    assert rollout_undo_info(evidence(crashing(term()), owners=deployment_owners(rs_rev=2, dep_rev=3))) is None
    assert rollout_undo_info(evidence(crashing(term()), owners=deployment_owners(rs_rev=3))) == {
        "kind": "Deployment", "name": "web", "revision": 3}


def test_statefulset_undo_when_pod_on_update_revision():
    p = crashing(term())
    p["metadata"]["labels"] = {"controller-revision-hash": "db-7c9"}
    owners = [{"kind": "StatefulSet", "name": "db", "object": {"status": {"currentRevision": "db-5b1",
                                                                          "updateRevision": "db-7c9"}}}]
    assert rollout_undo_info(evidence(p, owners=owners))["kind"] == "StatefulSet"


def test_manual_steps_for_missing_secret_are_exact():
    p = pod(phase="Pending", statuses=[cstatus(waiting=("CreateContainerConfigError",
                                                        "couldn't find key password in Secret shop/db"))])
    manual = classify_pod(evidence(p))["remediations"][0]
    assert manual["action"] == "manual"
    assert any("kubectl patch secret db -n shop" in step and "password" in step for step in manual["manual_steps"])


def test_healthy_has_no_proposals():
    p = pod(statuses=[cstatus(running=9000, ready=True)])
    assert classify_pod(evidence(p))["remediations"] == []


def test_owner_inferred_from_pod_references_when_chain_missing():
    p = crashing(term("OOMKilled", 137, ago=30))
    p["metadata"]["labels"] = {"pod-template-hash": "7d4b9c6f5"}
    diag = classify_pod(evidence(p, owners=[]))
    assert diag["owner"] == {"kind": "Deployment", "name": "web"}
    assert diag["remediations"][0]["target"]["kind"] == "Deployment"
    assert diag["remediations"][0]["risk_tier"] == "medium"


def test_proposals_recomputed_from_a_saved_diagnosis_alone():
    """remediation_plan only has the saved diagnosis: JSON round trip, no evidence, same proposals."""
    import json
    p = crashing(term("OOMKilled", 137, ago=30))
    diag = classify_pod(evidence(p, owners=deployment_owners(rs_rev=3)))
    saved = json.loads(json.dumps(diag, default=str))
    saved.pop("remediations")
    assert propose(saved) == diag["remediations"]
    assert [r["action"] for r in diag["remediations"]][:1] == ["set_memory_limit"]
    assert any(r["action"] == "rollout_undo" for r in diag["remediations"])


def _with_usage(diag, used=None, peak=None, window=None, node_memory=None):
    """A diagnosis with runner-style usage (evidence/usage.figure), as runner.with_usage attaches it."""
    mi = 1024 ** 2
    node = None
    if node_memory:
        node = {"name": "node-1", "memory": figure("memory", node_memory / 2, allocatable=node_memory), "cpu": None}
    usage = {"namespace": "shop", "name": "web-1", "source": "metrics-server", "timestamp": "2026-11-25T19:00:00Z",
             "window": "15s", "history_window": window,
             "containers": [{"name": "app", "cpu": None,
                             "memory": figure("memory", used and used * mi, 256 * mi, 256 * mi, peak and peak * mi)}],
             "node": node}
    return with_proposals(with_usage(diag, usage))


def test_oom_limit_from_the_sample_names_its_basis():
    diag = _with_usage(classify_pod(evidence(crashing(term("OOMKilled", 137, ago=30)))), used=250)
    proposal = diag["remediations"][0]
    # 250Mi x 1.4 = 350Mi (above the 256Mi x 1.25 = 320Mi floor), whole Mi
    assert proposal["params"]["memory_limit"] == "350Mi"
    assert proposal["basis"]["text"] == "sample 250Mi at 19:00:00Z" and proposal["basis"]["source"] == "metrics-server"
    assert "(basis: sample 250Mi at 19:00:00Z)" in proposal["description"]
    assert "Measured usage: app memory 250Mi of 256Mi (98%)" in diag["root_cause"]
    assert diag["culprit"]["usage_text"].startswith("app memory 250Mi of 256Mi")


def test_oom_limit_prefers_the_prometheus_peak_and_keeps_the_floor():
    crash = crashing(term("OOMKilled", 137, ago=30))
    peak = _with_usage(classify_pod(evidence(crash)), used=200, peak=300, window="1h")["remediations"][0]
    assert peak["params"]["memory_limit"] == "420Mi" and peak["basis"]["text"] == "peak 300Mi over 1h from Prometheus"
    low = _with_usage(classify_pod(evidence(crash)), used=100)["remediations"][0]
    assert low["params"]["memory_limit"] == "320Mi"  # 140Mi would shrink it: never below the limit x 1.25
    none = classify_pod(evidence(crash))["remediations"][0]
    assert none["params"]["memory_limit"] == "384Mi"  # +50 % as before, rounded to 64Mi
    assert none["basis"]["text"] == "no usage: +50 %" and none["basis"]["figure"] is None


def test_evicted_request_from_usage_capped_by_node_allocatable():
    msg = "The node was low on resource: memory. Container app was using 1250Mi, which exceeds its request of 512Mi. "
    evicted = pod(phase="Failed", reason="Evicted", message=msg)

    def raised(diag):
        return [r for r in diag["remediations"] if r["action"] == "set_resources"][0]

    sampled = raised(_with_usage(classify_pod(evidence(evicted)), used=1300, node_memory=8 * 1024 ** 3))
    assert sampled["params"]["requests"]["memory"] == "1560Mi"  # 1300Mi x 1.2, whole Mi
    assert sampled["basis"]["text"] == "sample 1.3Gi at 19:00:00Z"
    capped = raised(_with_usage(classify_pod(evidence(evicted)), node_memory=1024 ** 3))
    assert capped["params"]["requests"]["memory"] == "1Gi"
    assert capped["basis"]["text"] == "usage 1250Mi from the eviction message, capped at node allocatable 1Gi"
    assert "(basis: usage 1250Mi from the eviction message, capped at node allocatable 1Gi)" in capped["description"]
