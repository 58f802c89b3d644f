"""Rollout judgement, restart/OOM detection, merge patches and the operation store."""

import datetime
import json
import os
import stat

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.remediation import opstore
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.changes import merge_patch
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.validate import (
    restart_problems,
    restart_snapshot,
    rollout_status,
)

UTC = datetime.timezone.utc


def dep(generation=2, observed=2, replicas=3, **status):
    body = {"observedGeneration": observed, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas}
    body.update(status)
    return {"kind": "Deployment", "metadata": {"generation": generation}, "spec": {"replicas": replicas},
            "status": body}


def test_rollout_status():
    assert rollout_status(dep()) == (True, "rollout complete")
    ok, detail = rollout_status(dep(generation=3))
    assert not ok and "observedGeneration 2 < generation 3" in detail
    ok, detail = rollout_status(dep(readyReplicas=1, replicas=3))
    assert not ok and "readyReplicas 1/3" in detail
    ok, detail = rollout_status(dep(**{"replicas": 3}) | {"status": dict(dep()["status"], replicas=4)})
    assert not ok and "1 old replicas" in detail
    ds = {"kind": "DaemonSet", "metadata": {"generation": 1},
          "status": {"observedGeneration": 1, "desiredNumberScheduled": 2, "updatedNumberScheduled": 2,
                     "numberReady": 1, "numberAvailable": 2}}
    assert rollout_status(ds) == (False, "rollout incomplete: numberReady 1/2")


def pod(uid, restarts, oom_at=None):
    status = {"name": "app", "restartCount": restarts}
    if oom_at:
        status["lastState"] = {"terminated": {"reason": "OOMKilled", "finishedAt": oom_at}}
    return {"metadata": {"uid": uid, "name": uid}, "status": {"containerStatuses": [status]}}


def test_restart_and_oom_detection():
    since = datetime.datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
    baseline = restart_snapshot([pod("a", 5)])
    assert restart_problems(baseline, [pod("a", 5), pod("new", 0)], since) == []
    assert restart_problems(baseline, [pod("a", 6)], since) == ["pod a container app restarted (5 -> 6)"]
    assert restart_problems(baseline, [pod("new", 1)], since) == ["pod new container app restarted (0 -> 1)"]
    old_oom = pod("a", 5, oom_at="2026-11-25T19:59:00Z")
    assert restart_problems(baseline, [old_oom], since) == []      # the OOM that was being fixed
    new_oom = pod("a", 5, oom_at="2026-11-25T20:00:30Z")
    assert "OOM-killed" in restart_problems(baseline, [new_oom], since)[0]


def test_merge_patch_deletes_and_replaces_lists():
    current = {"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]}
    desired = {"a": 1, "b": {"c": 4}, "l": [1], "n": "x"}
    assert merge_patch(current, desired) == {"b": {"c": 4, "d": None}, "l": [1], "n": "x"}
    assert merge_patch(current, current) == {}


def test_opstore_atomic_private_and_tamper_evident(tmp_path):
    now = datetime.datetime(2026, 11, 25, 20, 1, 2, tzinfo=UTC)
    op_id = opstore.new_operation_id(now, "abc123")
    assert op_id == "op-20261125200102-abc123"
    obj = {"kind": "Deployment", "spec": {"replicas": 2}}
    directory = str(tmp_path / "ops")
    path = opstore.save(directory, {"operation_id": op_id, "pre_state": obj, "pre_state_digest": opstore.digest(obj)})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert list(os.listdir(directory)) == [op_id + ".json"]     # no temp file left
    assert opstore.load(directory, op_id)["pre_state"] == obj
    data = json.loads(open(path).read())
    data["pre_state"]["spec"]["replicas"] = 9
    open(path, "w").write(json.dumps(data))
    with pytest.raises(opstore.OpStoreError, match="was modified"):
        opstore.load(directory, op_id)
    with pytest.raises(opstore.OpStoreError, match="not of the form"):
        opstore.load(directory, "../../etc/passwd")
    with pytest.raises(opstore.OpStoreError, match="not found"):
        opstore.load(directory, "op-20261125200102-000000")


def test_state_dir_resolution():
    assert opstore.state_dir("/x/y") == "/x/y"
    assert opstore.state_dir(None, {"AIOPS_K8S_STATE_DIR": "/srv/ops"}) == "/srv/ops"
    assert opstore.state_dir(None, {}).endswith(".local/state/aiops-k8s/operations")
