"""`failure_started_at`: the earliest time the evidence shows the failure (records use it for MTTD)."""

from __future__ import annotations

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod, classify_workload
from tests.unit.classify.podbuilder import cstatus, event, evidence, pod, term, ts, workload


def test_first_warning_event_is_the_start():
    p = pod(statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), restarts=5, last=term(ago=40))])
    diag = classify_pod(evidence(p, [event("BackOff", "Back-off restarting failed container", count=20,
                                           ago=10, first_ago=900)]))
    assert diag["category"] == "CrashLoopBackOff"
    assert diag["failure_started_at"] == ts(900)


def test_restart_earlier_than_any_event():
    p = pod(statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), restarts=2, last=term(ago=700))])
    diag = classify_pod(evidence(p, [event("BackOff", "Back-off restarting failed container", ago=10, first_ago=100)]))
    assert diag["failure_started_at"] == ts(700)


def test_pod_that_never_ran_starts_at_pod_start():
    p = pod(phase="Pending", node=None, created_ago=5000, conditions=[
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
         "message": "0/3 nodes are available: 3 Insufficient cpu."}])
    diag = classify_pod(evidence(p))
    assert diag["category"].startswith("Unschedulable")
    assert diag["failure_started_at"] == ts(5000)


def test_not_ready_transition_counts():
    p = pod(statuses=[cstatus(running=3000, ready=False)], conditions=[
        {"type": "Ready", "status": "False", "lastTransitionTime": ts(1200)}])
    diag = classify_pod(evidence(p, [event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503",
                                           count=100, ago=5, first_ago=1000, container="app")]))
    assert diag["category"] == "ReadinessProbeFailure"
    assert diag["failure_started_at"] == ts(1200)


def test_healthy_and_timeless_have_none():
    healthy = classify_pod(evidence(pod(statuses=[cstatus(running=600, ready=True)])))
    assert healthy["category"] == "Healthy" and healthy["failure_started_at"] is None
    bare = {"metadata": {"name": "p", "namespace": "d"}, "status": {"phase": "Running", "containerStatuses": [
        {"name": "a", "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
         "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}}
    diag = classify_pod(evidence(bare))
    assert diag["category"] == "CrashLoopBackOff" and diag["failure_started_at"] is None


def test_workload_start_from_condition():
    wl = workload(kind="Job", name="nightly", spec={"activeDeadlineSeconds": 60}, status={"failed": 1}, conditions=[
        {"type": "Failed", "status": "True", "reason": "DeadlineExceeded", "lastTransitionTime": ts(400),
         "message": "Job was active longer than specified deadline"}])
    diag = classify_workload(wl)
    assert diag is not None and diag["failure_started_at"] == ts(400)
