"""Keyed MACs: only holders of the site key can make a plan or record the executor accepts."""

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity, opstore


def test_sign_and_verify(tmp_path):
    key = b"0123456789abcdef0123"
    doc = integrity.sign({"plan_id": "X", "params": {"memory_limit": "384Mi"}}, key)
    assert integrity.verify(doc, key)
    assert not integrity.verify(dict(doc, params={"memory_limit": "64Gi"}), key)
    assert not integrity.verify(doc, b"another-key-of-20-bytes")
    assert integrity.verify({"no": "mac"}, None)          # no key configured: nothing to check
    assert integrity.sign({"a": 1}, None) == {"a": 1}


def test_key_sources(tmp_path):
    path = tmp_path / "plan.key"
    path.write_text("f" * 64 + "\n")
    assert integrity.load_key({integrity.ENV_KEY_FILE: str(path)}) == b"f" * 64
    assert integrity.load_key({}) is None
    with pytest.raises(InvalidInput, match="shorter than 16 bytes"):
        integrity.load_key({integrity.ENV_KEY: "short"})
    with pytest.raises(InvalidInput, match="Cannot read the plan key"):
        integrity.load_key({integrity.ENV_KEY_FILE: str(tmp_path / "missing")})


def test_record_round_trip_keeps_its_mac(tmp_path):
    key = b"k" * 32
    record = {"operation_id": "op-20261202120000-abcdef", "pre_state": {"kind": "Pod", "spec": {}},
              "pre_state_digest": opstore.digest({"kind": "Pod", "spec": {}}), "operation": {"status": "validated"}}
    opstore.save(str(tmp_path), record, key)
    assert opstore.load(str(tmp_path), record["operation_id"], key)["operation"]["status"] == "validated"
    assert opstore.load(str(tmp_path), record["operation_id"])     # readable without a key (records, reports)


def test_ledger_refuses_a_replay(tmp_path):
    approval = {"approver": "alice", "decided_at": "2026-12-02T12:00:00Z"}
    opstore.consume_approval(str(tmp_path), approval, "PLAN", "op-1", "now")
    with pytest.raises(opstore.ApprovalReplayed, match="already used by operation op-1"):
        opstore.consume_approval(str(tmp_path), approval, "PLAN", "op-2", "later")
    opstore.consume_approval(str(tmp_path), dict(approval, decided_at="2026-12-02T12:05:00Z"), "PLAN", "op-3", "x")
