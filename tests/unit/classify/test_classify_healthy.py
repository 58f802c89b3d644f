"""Healthy look-alikes: nothing here needs a human, so every one must be Healthy (zero false alarms)."""

from __future__ import annotations

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import NODE_PRESENT
from tests.unit.classify.podbuilder import container, cstatus, event, evidence, http_probe, pod, term, ts

READY = [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"},
         {"type": "ContainersReady", "status": "True"}, {"type": "PodScheduled", "status": "True"}]
NODE_OK = {"metadata": {"name": "node-1"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def running_ready(**kw):
    return pod(statuses=[cstatus(running=86400, ready=True, **kw)], conditions=READY)


CASES = {
    "running_ready": (running_ready(), []),
    "old_restarts_error": (running_ready(restarts=5, last=term("Error", 1, ago=90000)), []),
    "old_restarts_with_hour_old_backoff_events": (
        pod(statuses=[cstatus(running=3000, ready=True, restarts=4, last=term("Error", 1, ago=3005))], conditions=READY),
        [event("BackOff", "Back-off restarting failed container app in pod web", count=6, ago=3010, container="app")]),
    "completed_job_pod": (
        pod(phase="Succeeded", restart_policy="Never", owner=("Job", "report-28911"),
            statuses=[cstatus(terminated=term("Completed", 0, ago=600))],
            conditions=[{"type": "Ready", "status": "False", "reason": "PodCompleted"}]), []),
    "completed_init_then_running": (
        pod(init=[container("migrate")], init_statuses=[cstatus("migrate", terminated=term("Completed", 0, ago=7000))],
            statuses=[cstatus(running=6990, ready=True)], conditions=READY), []),
    "native_sidecar_running": (
        pod(init=[container("proxy", restartPolicy="Always")],
            init_statuses=[cstatus("proxy", running=7000, ready=True, started=True)],
            statuses=[cstatus(running=6990, ready=True)], conditions=READY), []),
    "fresh_container_creating": (
        pod(phase="Pending", created_ago=6, statuses=[cstatus(waiting=("ContainerCreating", None))]),
        [event("Scheduled", "Successfully assigned shop/web to node-1", type_="Normal", ago=6,
               component="default-scheduler"),
         event("Pulling", 'Pulling image "nginx:1.25"', type_="Normal", ago=5, container="app")]),
    "fresh_unscheduled_no_events": (pod(phase="Pending", node=None, created_ago=3), []),
    "terminating_in_grace": (
        pod(meta_extra={"deletionTimestamp": ts(-20), "deletionGracePeriodSeconds": 30},
            statuses=[cstatus(running=7200, ready=True)]), []),
    "transient_mount_before_start_now_running": (
        running_ready(),
        [event("FailedMount", 'MountVolume.SetUp failed for volume "kube-api-access-x" : object "shop"/'
               '"kube-root-ca.crt" not registered', ago=86390)]),
    "sandbox_changed_then_running": (
        running_ready(restarts=1, last=term("Unknown", 255, ago=80000)),
        [event("SandboxChanged", "Pod sandbox changed, it will be killed and re-created.", type_="Normal",
               ago=80000)]),
    "readiness_failed_during_startup": (
        pod(containers=[container(readiness=http_probe())], statuses=[cstatus(running=300, ready=True)],
            conditions=READY),
        [event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=4, ago=270,
               container="app")]),
    "ephemeral_debug_container_exited": (
        pod(statuses=[cstatus(running=9000, ready=True)], conditions=READY,
            status_extra={"ephemeralContainerStatuses": [cstatus("debugger-x", terminated=term("Error", 1, ago=60))]},
            spec_extra={"ephemeralContainers": [{"name": "debugger-x", "image": "busybox"}]}), []),
    "succeeded_pod_exit0_no_owner": (
        pod(phase="Succeeded", owner=None, restart_policy="OnFailure",
            statuses=[cstatus(terminated=term("Completed", 0, ago=60))]), []),
    "old_scheduling_failure_now_scheduled_and_starting": (
        pod(phase="Pending", created_ago=40, statuses=[cstatus(waiting=("ContainerCreating", None))],
            conditions=[{"type": "PodScheduled", "status": "True"}]),
        [event("FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu.", ago=35,
               component="default-scheduler")]),
    "single_liveness_failure_no_kill": (
        pod(containers=[container(liveness=http_probe())], statuses=[cstatus(running=9000, ready=True)],
            conditions=READY),
        [event("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500", ago=40, container="app")]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_healthy_lookalikes(name):
    pod_obj, events = CASES[name]
    diag = classify_pod(evidence(pod_obj, events=events, node=NODE_OK, node_state=NODE_PRESENT))
    assert diag["category"] == "Healthy", (name, diag["summary"], diag["root_cause"])
    assert diag["severity"] == "none" and diag["remediations"] == []
