"""Plans: selection, tiers raised by policy (never lowered), content-derived ids, expiry."""

import datetime

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.remediation import plan as planmod
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import PlanError, build_plan, rebind


def test_plan_binds_target_state_and_expiry(make_diagnosis, make_deployment, now):
    plan = build_plan(make_diagnosis(), make_deployment(), now)
    assert plan["action"] == "set_memory_limit"
    assert plan["risk_tier"] == "medium"
    assert plan["target_generation"] == 4
    assert plan["target_resource_version"] == "1001"
    assert plan["target_uid"] == "uid-web"
    assert plan["created_at"] == "2026-11-25T20:00:00Z"
    assert plan["expires_at"] == "2026-11-25T20:30:00Z"
    assert plan["namespace"] == "shop" and plan["pod"] == "web-123"
    assert len(plan["plan_id"]) == 26          # ~128 bits: no second preimage by brute force
    assert plan["sla_seconds"] == 1800 and plan["diagnosis"]["diagnosis_id"] == "3f2a9c1d7e4b"
    assert set(plan["plan_id"]) <= set(planmod.PLAN_ID_ALPHABET)
    assert not set(plan["plan_id"]) & set("01OIL")


def test_plan_id_is_stable_across_time_and_status_but_not_content(make_diagnosis, make_deployment, now):
    first = build_plan(make_diagnosis(), make_deployment(), now)
    later = build_plan(make_diagnosis(), make_deployment(rv="2002"), now + datetime.timedelta(minutes=3))
    assert later["plan_id"] == first["plan_id"]
    assert build_plan(make_diagnosis(), make_deployment(generation=5), now)["plan_id"] != first["plan_id"]
    assert build_plan(make_diagnosis(), make_deployment(memory="300Mi"), now)["plan_id"] != first["plan_id"]
    assert build_plan(make_diagnosis(), make_deployment(), now, remediation=1)["plan_id"] != first["plan_id"]


def test_select_by_action_and_bad_index(make_diagnosis, make_deployment, now):
    plan = build_plan(make_diagnosis(), make_deployment(), now, action="rollout_restart")
    assert plan["action"] == "rollout_restart" and plan["risk_tier"] == "low"
    assert plan["expires_at"] == "2026-11-25T20:05:00Z"
    with pytest.raises(PlanError, match="index 7 is out of range"):
        build_plan(make_diagnosis(), make_deployment(), now, remediation=7)
    with pytest.raises(PlanError, match="proposes no scale remediation"):
        build_plan(make_diagnosis(), make_deployment(), now, action="scale")


def test_no_remediation_manual_and_missing_target(make_diagnosis, make_deployment, now):
    diag = make_diagnosis()
    diag["remediations"] = []
    with pytest.raises(PlanError, match="proposes no remediation"):
        build_plan(diag, make_deployment(), now)
    diag["remediations"] = [{"action": "manual", "target": {"kind": "Pod", "name": "x"},
                             "manual_steps": ["fix the Secret"], "risk_tier": "low"}]
    with pytest.raises(PlanError, match="manual.*fix the Secret"):
        build_plan(diag, make_deployment(), now)
    with pytest.raises(PlanError, match="Deployment shop/web not found"):
        build_plan(make_diagnosis(), None, now)


def test_policy_raises_tier_never_lowers(make_diagnosis, make_deployment, now):
    policy = {"rules": [{"namespace_glob": "prod-*", "min_tier": "critical"},
                        {"namespace_glob": "*", "min_tier": "trivial"}]}
    prod = build_plan(make_diagnosis(namespace="prod-eu"), make_deployment(), now, policy=policy)
    assert prod["risk_tier"] == "critical"
    assert "policy (namespace_glob prod-*)" in prod["tier_reason"]
    assert prod["expires_at"] == "2026-11-25T22:00:00Z"
    shop = build_plan(make_diagnosis(namespace="shop"), make_deployment(), now, policy=policy)
    assert shop["risk_tier"] == "medium"   # the trivial rule cannot lower it


def test_action_floor_beats_an_optimistic_proposal(make_diagnosis, make_deployment, now):
    plan = build_plan(make_diagnosis(tier="trivial"), make_deployment(), now)
    assert plan["risk_tier"] == "medium"
    diag = make_diagnosis(tier="trivial", action="delete_pod", owner=False)
    diag["remediations"][0]["target"] = {"api_version": "v1", "kind": "Pod", "namespace": "shop", "name": "web-123"}
    diag["remediations"][0]["params"] = {}
    assert build_plan(diag, {"metadata": {"uid": "p"}, "spec": {}}, now)["risk_tier"] == "critical"


def test_bare_evicted_pod_is_proposed_and_planned_at_the_same_tier(now):
    """The observed bug: proposed trivial, planned critical. One rule now: low for both."""
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.proposals import propose
    diag = {"kind": "Pod", "namespace": "shop", "name": "job-x", "uid": "u1", "owner": None, "category": "Evicted",
            "diagnosis_id": "abc", "culprit": {}, "facts": {}, "container": None,
            "subject": {"owners": [], "rollout_undo": None, "previous_images": {},
                        "pod": {"phase": "Failed", "reason": "Evicted", "bare": True, "static": False}}}
    diag["remediations"] = propose(diag)
    live = {"metadata": {"uid": "u1"}, "spec": {}, "status": {"phase": "Failed", "reason": "Evicted"}}
    plan = build_plan(diag, live, now)
    assert diag["remediations"][0]["risk_tier"] == plan["risk_tier"] == "low"


@pytest.mark.parametrize("name", ["../../kube-system/pods/coredns-1", "web/../x", "Web", "a" * 300, ""])
def test_bad_target_names_refused(make_diagnosis, make_deployment, now, name):
    diag = make_diagnosis()
    diag["remediations"][0]["target"]["name"] = name
    with pytest.raises(PlanError, match="target (kind/)?name"):
        build_plan(diag, make_deployment(), now)


def test_unknown_params_refused(make_diagnosis, make_deployment, now):
    diag = make_diagnosis()
    diag["remediations"][0]["params"]["grace_period_seconds"] = 0
    with pytest.raises(PlanError, match="unknown key.*grace_period_seconds"):
        build_plan(diag, make_deployment(), now)


def test_unknown_tier_and_bad_policy_are_refused(make_diagnosis, make_deployment, now):
    with pytest.raises(PlanError, match="unknown risk tier 'urgent'"):
        build_plan(make_diagnosis(tier="urgent"), make_deployment(), now)
    with pytest.raises(PlanError, match="Policy rule 0"):
        build_plan(make_diagnosis(), make_deployment(), now, policy={"rules": [{"namespace_glob": "x"}]})
    with pytest.raises(PlanError, match="tier_sla_seconds.low"):
        build_plan(make_diagnosis(), make_deployment(), now, policy={"tier_sla_seconds": {"low": -1}})


def test_policy_sla_override(make_diagnosis, make_deployment, now):
    plan = build_plan(make_diagnosis(), make_deployment(), now, policy={"tier_sla_seconds": {"medium": 60}})
    assert plan["expires_at"] == "2026-11-25T20:01:00Z"


def test_rebind_changes_id_only_through_params(make_diagnosis, make_deployment, now):
    plan = build_plan(make_diagnosis(), make_deployment(), now)
    changed = rebind(plan, {"memory_limit": "512Mi"})
    assert changed["plan_id"] != plan["plan_id"]
    assert changed["params"]["memory_limit"] == "512Mi"
    assert changed["target"] == plan["target"] and changed["action"] == plan["action"]
    assert rebind(plan, {}) is plan
    assert rebind(plan, {"memory_limit": "384Mi"})["plan_id"] == plan["plan_id"]
