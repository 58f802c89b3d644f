"""The gate fails closed: only a named, justified, in-time approval of exactly this plan passes."""

import copy
import datetime

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.remediation.gate import (
    GateRefusal,
    check_approval,
    drift_reason,
)
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import build_plan, rebind


@pytest.fixture
def plan(make_diagnosis, make_deployment, now):
    return build_plan(make_diagnosis(), make_deployment(), now)


def later(now, seconds):
    return now + datetime.timedelta(seconds=seconds)


def test_valid_approval_passes(plan, approve, now):
    assert check_approval(plan, approve(plan), later(now, 120)) is plan


def test_typed_id_is_case_insensitive_but_exact(plan, approve, now):
    assert check_approval(plan, approve(plan, plan_id=" %s \n" % plan["plan_id"].lower()), later(now, 120))
    with pytest.raises(GateRefusal, match="not plan %s" % plan["plan_id"]):
        check_approval(plan, approve(plan, plan_id=plan["plan_id"][:-1]), later(now, 120))


@pytest.mark.parametrize("overrides, message", [
    ({"decision": None}, "needs an approval"),
    ({"decision": ""}, "needs an approval"),
    ({"decision": "reject", "justification": "not now"}, "rejected by alice: not now"),
    ({"decision": "yes"}, "is not one of approve"),
    ({"approver": "  "}, "approver is blank"),
    ({"approver": None}, "approver is blank"),
    ({"justification": ""}, "justification is blank"),
    ({"plan_id": ""}, "Approval is for plan \\(none\\)"),
    ({"plan_id": "ABCDEFGH"}, "Approval is for plan ABCDEFGH"),
    ({"decided_at": "yesterday"}, "no valid decided_at"),
    ({"decided_at": "2026-11-25T23:00:00Z"}, "dated in the future"),
    ({"decided_at": "2026-11-25T19:20:00Z"}, "older than the medium tier SLA"),
    ({"mode": "sudo"}, "mode 'sudo'"),
])
def test_refusals(plan, approve, now, overrides, message):
    with pytest.raises(GateRefusal, match=message):
        check_approval(plan, approve(plan, **overrides), later(now, 120))


def test_no_approval_at_all_is_refused(plan, now):
    with pytest.raises(GateRefusal, match="needs an approval"):
        check_approval(plan, None, now)


def test_expired_plan_is_refused_even_with_timely_decision(plan, approve, now):
    with pytest.raises(GateRefusal, match="expired at 2026-11-25T20:30:00Z"):
        check_approval(plan, approve(plan, decided_at="2026-11-25T20:29:00Z"), later(now, 31 * 60))


def test_decision_after_expiry_is_refused(plan, approve, now):
    with pytest.raises(GateRefusal, match="after the plan expired at 2026-11-25T20:30:00Z"):
        check_approval(plan, approve(plan, decided_at="2026-11-25T20:31:00Z"), later(now, 32 * 60))


def test_edited_plan_is_refused(plan, approve, now):
    edited = copy.deepcopy(plan)
    edited["params"]["memory_limit"] = "8Gi"
    with pytest.raises(GateRefusal, match="does not match its content"):
        check_approval(edited, approve(edited), later(now, 60))
    longer = copy.deepcopy(plan)
    longer["expires_at"] = "2026-11-26T20:00:00+00:00"   # not in the id and not trusted: created_at + policy SLA
    with pytest.raises(GateRefusal, match="expired at 2026-11-25T20:30:00Z"):
        check_approval(longer, approve(longer), later(now, 3 * 3600))


def test_conditional_approval_must_name_the_rebound_plan(plan, approve, now):
    override = {"memory_limit": "512Mi"}
    rebound = rebind(plan, override)
    decision = approve(plan, decision="conditional", params_override=override)
    with pytest.raises(GateRefusal, match="which makes plan %s" % rebound["plan_id"]):
        check_approval(plan, decision, later(now, 60))
    decision["plan_id"] = rebound["plan_id"]
    approved = check_approval(plan, decision, later(now, 60))
    assert approved["plan_id"] == rebound["plan_id"]
    assert approved["params"]["memory_limit"] == "512Mi"
    with pytest.raises(GateRefusal, match="neither params_override nor window"):
        check_approval(plan, approve(plan, decision="conditional"), later(now, 60))


def test_conditional_window(plan, approve, now):
    window = {"start": "2026-11-25T20:10:00Z", "end": "2026-11-25T20:20:00Z"}
    decision = approve(plan, decision="conditional", window=window)
    with pytest.raises(GateRefusal, match="approved only between"):
        check_approval(plan, decision, later(now, 120))
    assert check_approval(plan, decision, later(now, 15 * 60)) is plan
    decision["window"] = {"start": "2026-11-25T20:20:00Z", "end": "2026-11-25T20:10:00Z"}
    with pytest.raises(GateRefusal, match="needs valid start and end"):
        check_approval(plan, decision, later(now, 15 * 60))


def test_trivial_needs_no_approval_but_honours_reject(make_diagnosis, now):
    diag = make_diagnosis(tier="trivial", action="delete_pod")
    diag["remediations"][0]["target"] = {"api_version": "v1", "kind": "Pod", "namespace": "shop", "name": "web-123"}
    diag["remediations"][0]["params"] = {}
    evicted = {"metadata": {"uid": "uid-pod", "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5d9",
                                                                   "controller": True}]},
               "spec": {}, "status": {"phase": "Failed", "reason": "Evicted"}}
    plan = build_plan(diag, evicted, now)
    assert plan["risk_tier"] == "trivial"
    # the executor passes the tier it derived from the live pod; the gate never reads the plan's claim
    assert check_approval(plan, None, now, tier="trivial") is plan
    with pytest.raises(GateRefusal, match="needs an approval"):
        check_approval(plan, None, now)          # without the live facts: strictest reading, not trivial
    with pytest.raises(GateRefusal, match="rejected"):
        check_approval(plan, {"decision": "reject", "approver": "bob"}, now, tier="trivial")


@pytest.mark.parametrize("field, value", [
    ("approver", "   "), ("approver", "\u200b\u200b"), ("approver", "\u2060\ufeff "),
    ("justification", "\t\n"), ("justification", "\u200d\u200c"), ("justification", "\u202e"),
])
def test_blank_looking_approver_or_justification_refused(plan, approve, now, field, value):
    with pytest.raises(GateRefusal, match="%s is blank" % field):
        check_approval(plan, approve(plan, **{field: value}), later(now, 60))


def test_plan_sla_and_expiry_fields_are_not_trusted(plan, approve, now):
    """Editing expires_at/sla_seconds (outside the id) does not revive an expired approval."""
    edited = dict(plan, expires_at="2027-01-01T00:00:00Z", sla_seconds=10 ** 9)
    with pytest.raises(GateRefusal, match="expired at 2026-11-25T20:30:00Z"):
        check_approval(edited, approve(edited, decided_at="2026-11-25T20:29:00Z"), later(now, 31 * 60))


def test_drift(plan, make_deployment):
    assert drift_reason(plan, make_deployment(rv="9999")) is None   # status-only updates are not drift
    assert drift_reason(plan, make_deployment(generation=5)) == (
        "Deployment shop/web changed since diagnosis (generation 4 -> 5): diagnose again")
    assert "spec differs" in drift_reason(plan, make_deployment(memory="1Gi"))
    assert "was recreated" in drift_reason(plan, make_deployment(uid="other"))
    assert drift_reason(plan, None) == "Deployment shop/web no longer exists: diagnose again"


def test_site_justification_pattern(plan, approve, now):
    pattern = r"\b(INC|CHG)-[0-9]+\b"
    assert check_approval(plan, approve(plan), later(now, 60), justification_pattern=pattern) is plan
    with pytest.raises(GateRefusal, match="justification must match the site's pattern"):
        check_approval(plan, approve(plan, justification="because"), later(now, 60), justification_pattern=pattern)
