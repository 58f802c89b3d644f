"""A rollback is a change like any other: the original approval stands only within its window, then a new one."""

import datetime

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.remediation.execute import rollback_authority
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.gate import GateRefusal
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.opstore import ApprovalReplayed
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.policy import merge

NOW = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.timezone.utc)
OP = "op-20261202113000-abcdef"


def record(decided="2026-12-02T11:45:00Z", verdict="approved", tier="medium"):
    return {"operation_id": OP, "operation": {"risk_tier": tier, "gate": {
        "verdict": verdict, "approver": "alice", "decided_at": decided}}}


def test_standing_approval_within_the_window(tmp_path):
    options = {"state_dir": str(tmp_path)}
    assert "standing approval" in rollback_authority(record(), None, NOW, options)
    with pytest.raises(GateRefusal, match="no longer covers it"):
        rollback_authority(record(decided="2026-12-02T10:00:00Z"), None, NOW, options)
    with pytest.raises(GateRefusal, match="no longer covers it"):
        rollback_authority(record(verdict="refused"), None, NOW, options)


def test_explicit_approval_names_the_operation_and_is_used_once(tmp_path):
    # A site that accepts unsigned approvals up to medium (the code floor is low, see the next test).
    options = {"state_dir": str(tmp_path), "requester": "root", "policy": merge({"unsigned_max_tier": "medium"})}
    old = record(decided="2026-12-02T09:00:00Z")
    approval = {"plan_id": OP, "decision": "approve", "approver": "bob", "justification": "INC-3 revert",
                "decided_at": "2026-12-02T11:59:00Z", "mode": "pre_approved"}
    assert rollback_authority(old, approval, NOW, options) == "approved by bob"
    with pytest.raises(ApprovalReplayed):
        rollback_authority(old, approval, NOW, options)
    with pytest.raises(GateRefusal, match="must approve plan_id %s" % OP):
        rollback_authority(old, dict(approval, plan_id="op-other"), NOW, options)
    with pytest.raises(GateRefusal, match="approver is blank"):
        rollback_authority(old, dict(approval, approver="\u200b"), NOW, options)
    with pytest.raises(GateRefusal, match="not within"):
        rollback_authority(old, dict(approval, decided_at="2026-12-01T11:59:00Z"), NOW, options)


def test_unsigned_rollback_approval_of_a_medium_operation_needs_the_site_policy(tmp_path):
    old = record(decided="2026-12-02T09:00:00Z")
    approval = {"plan_id": OP, "decision": "approve", "approver": "bob", "justification": "INC-3 revert",
                "decided_at": "2026-12-02T11:59:00Z", "mode": "pre_approved"}
    for policy in (None, merge(None, {"unsigned_max_tier": "critical"})):       # none, or only from extra vars
        with pytest.raises(GateRefusal, match="unsigned pre-approval is accepted only up to low"):
            rollback_authority(old, approval, NOW, {"state_dir": str(tmp_path), "policy": policy})
    assert not (tmp_path / "approvals.jsonl").exists()                           # nothing consumed
    low = record(decided="2026-12-02T09:00:00Z", tier="low")
    assert rollback_authority(low, approval, NOW, {"state_dir": str(tmp_path)}) == "approved by bob"
