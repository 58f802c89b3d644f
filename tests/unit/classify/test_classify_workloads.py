"""Controllers that cannot create pods: the diagnosis is on the owner (kind = the controller).

Texts: pkg/controller/controller_utils.go ("Error creating: ..."), pkg/controller/statefulset/
stateful_pod_control.go ("create Pod %s in StatefulSet %s failed error: %s"), plugin/pkg/admission/
resourcequota/controller.go ("exceeded quota: ...", "failed quota: %s: must specify %s"),
staging/src/k8s.io/pod-security-admission ('violates PodSecurity "%s"'), plugin/pkg/admission/serviceaccount.
"""

from __future__ import annotations

import pytest

# classify then propose (these tests also assert the proposals)
from ansible_collections.aiops.k8s.plugins.module_utils.runner import (
    diagnose_many as classify_many, diagnose_workload as classify_workload,
)
from tests.unit.classify.podbuilder import cond, evidence, pod, wevent, workload

QUOTA = ('Error creating: pods "web-7d4b9c6f5-abcde" is forbidden: exceeded quota: compute-quota, requested: '
         'limits.memory=512Mi,requests.memory=256Mi, used: limits.memory=1792Mi,requests.memory=1Gi, limited: '
         'limits.memory=2Gi,requests.memory=1Gi')


def test_quota_exceeded_from_event():
    diag = classify_workload(workload(events=[wevent("FailedCreate", QUOTA, count=14)]))
    assert diag["kind"] == "ReplicaSet" and diag["category"] == "QuotaExceeded"
    assert diag["culprit"]["quota"] == "compute-quota"
    assert diag["culprit"]["resources"] == ["limits.memory", "requests.memory"]
    assert diag["remediations"][0]["action"] == "manual"


def test_quota_from_replica_failure_condition_targets_deployment():
    owners = [{"kind": "Deployment", "name": "web", "api_version": "apps/v1", "object": None}]
    diag = classify_workload(workload(conditions=[cond("ReplicaFailure", "True", "FailedCreate", QUOTA)],
                                      owners=owners))
    assert diag["category"] == "QuotaExceeded"
    assert diag["owner"] == {"kind": "Deployment", "name": "web"}
    assert diag["remediations"][0]["target"]["kind"] == "Deployment"


def test_quota_must_specify():
    msg = 'Error creating: pods "web-x" is forbidden: failed quota: compute-quota: must specify limits.cpu,limits.memory'
    diag = classify_workload(workload(events=[wevent("FailedCreate", msg)]))
    assert diag["category"] == "QuotaExceeded"
    assert diag["culprit"]["must_specify"] == "limits.cpu,limits.memory"


@pytest.mark.parametrize("kind, message, key, value", [
    ("ReplicaSet", 'Error creating: pods "web-7d4b9c6f5-x" is forbidden: violates PodSecurity "restricted:latest": '
     'allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), '
     'runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true)', "level",
     "restricted:latest"),
    ("StatefulSet", 'create Pod db-0 in StatefulSet db failed error: pods "db-0" is forbidden: error looking up '
     'service account shop/db-sa: serviceaccount "db-sa" not found', "service_account", "db-sa"),
    ("Job", 'Error creating: admission webhook "validation.gatekeeper.sh" denied the request: [must-have-owner] you '
     'must provide labels: {"owner"}', "webhook", "validation.gatekeeper.sh"),
    ("DaemonSet", 'Error creating: pods "agent-x" is forbidden: maximum memory usage per Container is 1Gi, but limit '
     "is 2Gi", "allowed", "1Gi"),
    ("ReplicaSet", 'Error creating: pods "web-x" is forbidden: unable to validate against any pod security policy: []',
     "policy", "PodSecurityPolicy"),
])
def test_forbidden(kind, message, key, value):
    diag = classify_workload(workload(kind=kind, name="db" if kind == "StatefulSet" else "web-7d4b9c6f5",
                                      events=[wevent("FailedCreate", message, kind=kind)]))
    assert diag["kind"] == kind and diag["category"] == "PodCreationForbidden"
    assert diag["culprit"][key] == value


def test_workload_without_failures_is_none():
    assert classify_workload(workload(events=[wevent("SuccessfulCreate", "Created pod: web-1")])) is None


def test_old_failed_create_on_satisfied_replicaset_is_none():
    ev = workload(events=[wevent("FailedCreate", QUOTA, ago=7200)], spec={"replicas": 2}, status={"replicas": 2})
    assert classify_workload(ev) is None


def test_job_deadline_on_workload():
    ev = workload(kind="Job", name="nightly", spec={"activeDeadlineSeconds": 900}, status={}, conditions=[
        cond("Failed", "True", "DeadlineExceeded", "Job was active longer than specified deadline")])
    diag = classify_workload(ev)
    assert diag["category"] == "DeadlineExceeded" and "900" in diag["root_cause"]


def test_classify_many_counts():
    pods = [evidence(pod()), evidence(pod(phase="Failed", reason="Evicted", message="The node was low on resource: "
                                          "memory. "))]
    result = classify_many(pods, [workload(events=[wevent("FailedCreate", QUOTA)]), workload()])
    assert result["counts"] == {"Evicted": 1, "Healthy": 1, "QuotaExceeded": 1}
    assert len(result["diagnoses"]) == 3
