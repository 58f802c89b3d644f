"""aiops.k8s.approval_sign: what the approver's helper signs is what the executor verifies, and it refuses early.

Real ssh-keygen, real files; no cluster (the module talks to none).
"""

import datetime
import json
import subprocess

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.remediation.gate import GateRefusal
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import build_plan, compute_plan_id
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.signatures import SignatureVerifier
from ansible_collections.aiops.k8s.plugins.modules.approval_sign import sign_approval
from tests.support.local_run import local_run

NOW = datetime.datetime(2026, 12, 2, 20, 0, tzinfo=datetime.timezone.utc)
TARGET = {"api_version": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web", "container": "app"}


def make_plan():
    diagnosis = {"kind": "Pod", "namespace": "shop", "name": "web-new-0", "diagnosis_id": "d1", "category": "OOMKilled",
                 "owner": {"kind": "Deployment", "name": "web"},
                 "remediations": [{"action": "set_memory_limit", "target": TARGET, "risk_tier": "medium",
                                   "params": {"memory_limit": "384Mi", "previous_memory_limit": "256Mi"}}]}
    live = {"kind": "Deployment", "metadata": {"name": "web", "namespace": "shop", "uid": "u1", "generation": 3},
            "spec": {"replicas": 1}}
    return build_plan(diagnosis, live, NOW)


@pytest.fixture
def key(tmp_path):
    path = tmp_path / "id_alice"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", str(path)], check=True)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("alice %s\n" % (tmp_path / "id_alice.pub").read_text().strip())
    return str(path), str(allowed)


def test_the_signature_verifies_with_the_executors_verifier(key, monkeypatch):
    monkeypatch.delenv("AIOPS_K8S_ALLOWED_SIGNERS", raising=False)
    monkeypatch.delenv("AIOPS_K8S_POLICY_FILE", raising=False)
    plan = make_plan()
    approval, content, verified = sign_approval(
        plan, plan["plan_id"].lower(), " alice ", "INC-1 OOM", key[0], NOW, local_run)
    assert not verified and approval["approver"] == "alice" and approval["mode"] == "signed"
    assert json.loads(content) == {"plan_id": plan["plan_id"], "decision": "approve", "approver": "alice",
                                   "justification": "INC-1 OOM", "decided_at": "2026-12-02T20:00:00Z",
                                   "params_override": None, "window": None}
    assert SignatureVerifier(key[1], {"alice": "critical"}, local_run)(approval, plan["plan_id"], "medium") == "alice"
    # remediate_pod.yml rebuilds the approval from the extra vars: the same fields verify the same way
    rebuilt = {"plan_id": plan["plan_id"], "decision": "approve", "approver": "alice", "justification": "INC-1 OOM",
               "decided_at": approval["decided_at"], "mode": "signed", "signature": approval["signature"]}
    assert SignatureVerifier(key[1], {"alice": "critical"}, local_run)(rebuilt, plan["plan_id"], "medium") == "alice"


def test_self_check_against_allowed_signers(key, tmp_path, monkeypatch):
    plan = make_plan()
    monkeypatch.setenv("AIOPS_K8S_ALLOWED_SIGNERS", key[1])
    assert sign_approval(plan, plan["plan_id"], "alice", "INC-1", key[0], NOW, local_run)[2] is True
    with pytest.raises(GateRefusal, match="does not verify for principal bob"):
        sign_approval(plan, plan["plan_id"], "bob", "INC-1", key[0], NOW, local_run)


@pytest.mark.parametrize("change, message", [
    ("edited", "does not match its content"),
    ("other id", "You confirmed plan"),
    ("blank approver", "approver is blank"),
    ("invisible justification", "justification is blank"),
    ("no key", "does not exist"),
    ("pattern", "must match the site's pattern"),
    ("tier", "bob may approve up to low"),
    ("not an approver", "mallory is not an approver"),
])
def test_refusals_before_signing(key, tmp_path, monkeypatch, change, message):
    monkeypatch.delenv("AIOPS_K8S_ALLOWED_SIGNERS", raising=False)
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"approvers": {"alice": "critical", "bob": "low"}, "justification_pattern": "INC-[0-9]+"}))
    monkeypatch.setenv("AIOPS_K8S_POLICY_FILE", str(policy))
    plan = make_plan()
    args = [plan, plan["plan_id"], "alice", "INC-1 OOM", key[0], NOW, local_run]
    if change == "edited":
        args[0] = dict(plan, params={"memory_limit": "64Gi"})
    elif change == "other id":
        forged = dict(plan, risk_tier="trivial")
        args[1] = compute_plan_id(forged)
    elif change == "blank approver":
        args[2] = " \u200b "
    elif change == "invisible justification":
        args[3] = "\u200b\u2060"
    elif change == "no key":
        args[4] = str(tmp_path / "missing")
    elif change == "pattern":
        args[3] = "because"
    elif change == "tier":
        args[2] = "bob"
    elif change == "not an approver":
        args[2] = "mallory"
    with pytest.raises(GateRefusal, match=message):
        sign_approval(*args)
