"""Failure families of issue 13, each from at least two independent wordings (kubelet/runtime/scheduler
releases). Written against the development half: the held-out corpus is never consulted case by case."""

from __future__ import annotations

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.rules.images import invalid_reason
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import NODE_MISSING, NODE_PRESENT
from tests.unit.classify.podbuilder import container, cstatus, event, evidence, pod, term, ts


def partial(phase="Running", **status):
    """A pod as a pasted `kubectl describe` leaves it: no spec, no container statuses."""
    status["phase"] = phase
    return {"metadata": {"name": "web-7d4b9c6f5-x2x9z", "namespace": "shop", "uid": "uid-web-7d4b9c6f5-x2x9z"},
            "status": status}


# --- probes proven by events, status partial -----------------------------------------------------------------
@pytest.mark.parametrize("kill", [
    "Container web failed liveness probe, will be restarted",                                   # 1.16+
    "Killing container with id docker://web:Container failed liveness probe.. Container will be killed and recreated.",
    'Killing container with docker id 4f2a: pod "web-7d4b9c6f5-x2x9z_shop(u)" container "web" is unhealthy, '
    "it will be killed and re-created.",                                                         # before 1.9
])
def test_liveness_kill_from_events_only(kill):
    diag = classify_pod(evidence(partial(), [
        event("Unhealthy", "Liveness probe failed: Get \"http://10.1.2.3:8080/healthz\": context deadline exceeded",
              count=9, ago=200),
        event("Killing", kill, type_="Normal", count=3, ago=190),
        event("BackOff", "Back-off restarting failed container", count=4, ago=60)]))
    assert diag["category"] == "LivenessProbeFailure", diag["root_cause"]
    assert "web" in diag["root_cause"]


def test_both_probes_fail_the_kill_is_the_cause():
    p = pod(statuses=[cstatus(name="app", running=100, restarts=3, ready=False)])
    diag = classify_pod(evidence(p, [
        event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=30, ago=5),
        event("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 503", count=9, ago=110),
        event("Killing", "Container app failed liveness probe, will be restarted", type_="Normal", count=3, ago=105)]))
    assert diag["category"] == "LivenessProbeFailure"
    assert "liveness kill is what restarts it" in diag["root_cause"]


@pytest.mark.parametrize("message", [
    "Readiness probe failed: HTTP probe failed with statuscode: 500",
    'Readiness probe failed: Get "http://10.0.0.7:9090/-/ready": dial tcp 10.0.0.7:9090: connect: connection refused',
])
def test_readiness_from_events_without_container_status(message):
    diag = classify_pod(evidence(partial(conditions=[{"type": "Ready", "status": "False"}]), [
        event("Unhealthy", message, count=40, ago=8, first_ago=900)]))
    assert diag["category"] == "ReadinessProbeFailure"


def test_readiness_noise_below_threshold_is_not_a_failure():
    diag = classify_pod(evidence(partial(), [
        event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=2, ago=8)]))
    assert diag["category"] == "Healthy"


def test_old_kill_without_status_is_not_current():
    diag = classify_pod(evidence(partial(), [
        event("Killing", "Container web failed liveness probe, will be restarted", type_="Normal", ago=20000)]))
    assert diag["category"] == "Healthy"


# --- run/create failures from events only --------------------------------------------------------------------
@pytest.mark.parametrize("message", [
    'Error: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create '
    'failed: unable to start container process: exec: "/app/server": stat /app/server: no such file or directory: '
    "unknown",
    'Error response from daemon: OCI runtime create failed: container_linux.go:349: starting container process '
    'caused "exec: \\"npm\\": executable file not found in $PATH": unknown',
])
def test_run_failure_from_events_only(message):
    diag = classify_pod(evidence(partial("Pending"), [event("Failed", message, count=4, ago=30, container="web")]))
    assert diag["category"] == "RunContainerError", diag["root_cause"]
    assert "does not exist" in diag["root_cause"] or "no such file" in diag["root_cause"]


def test_init_container_command_missing_is_init_failure():
    message = ('failed to create containerd task: OCI runtime create failed: runc create failed: unable to start '
               'container process: exec: "wait-for-db": executable file not found in $PATH: unknown')
    from_events = classify_pod(evidence(partial("Pending"), [
        event("Failed", "Error: " + message, count=5, ago=20, container="wait", init=True)]))
    assert from_events["category"] == "InitContainerFailure"
    p = pod(phase="Pending", init=[container(name="wait", image="busybox")],
            init_statuses=[cstatus(name="wait", waiting=("RunContainerError", message), restarts=2,
                                   last=term(reason="StartError", code=128, message=message))],
            statuses=[cstatus(waiting=("PodInitializing", None))])
    from_status = classify_pod(evidence(p))
    assert from_status["category"] == "InitContainerFailure"
    assert "wait-for-db" in from_status["root_cause"]


# --- OOM beyond the obvious ----------------------------------------------------------------------------------
def test_oom_with_exit_zero_is_not_success():
    p = pod(phase="Succeeded", restart_policy="Never",
            statuses=[cstatus(terminated=term(reason="OOMKilled", code=0, ago=300))])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "OOMKilled"
    assert "exit code 0" in diag["root_cause"]


@pytest.mark.parametrize("node_signal", ["condition", "event"])
def test_exit_137_under_node_memory_pressure(node_signal):
    p = pod(statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), restarts=4, last=term(code=137, ago=50))])
    node = {"metadata": {"name": "node-1"}, "status": {"conditions": [
        {"type": "Ready", "status": "True"},
        {"type": "MemoryPressure", "status": "True" if node_signal == "condition" else "False"}]}}
    events = [event("OOMKilling", "Memory cgroup out of memory: Killed process 4242 (java)", ago=50)] \
        if node_signal == "event" else []
    diag = classify_pod(evidence(p, events, node=node, node_state=NODE_PRESENT))
    assert diag["category"] == "OOMKilled", diag["root_cause"]


def test_chronic_oom_running_between_kills():
    p = pod(containers=[container(limits={"memory": "1452628Ki"})],
            statuses=[cstatus(running=7000, ready=True, restarts=23, last=term(reason="OOMKilled", code=137, ago=7010))])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "OOMKilled"
    assert "1.4Gi" in diag["root_cause"] and "1452628Ki" not in diag["root_cause"]
    assert "runs between kills" in diag["root_cause"]


def test_single_old_oom_is_still_history():
    p = pod(statuses=[cstatus(running=7000, ready=True, restarts=1, last=term(reason="OOMKilled", code=137, ago=7010))])
    assert classify_pod(evidence(p))["category"] == "Healthy"


# --- volumes -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("message", [
    'Multi-Attach error for volume "pvc-1" Volume is already exclusively attached to one node and can\'t be '
    "attached to another",
    'Multi-Attach error for volume "pvc-1" Volume is already used by pod(s) db-0',
])
def test_young_multi_attach_is_a_volume_failure(message):
    p = pod(phase="Pending", created_ago=50, statuses=[cstatus(waiting=("ContainerCreating", None))])
    diag = classify_pod(evidence(p, [event("FailedAttachVolume", message, ago=40)]))
    assert diag["category"] == "VolumeMountFailure"
    assert "6 minutes" in diag["root_cause"] and "40s" in diag["root_cause"]


def test_mount_events_prove_binding_without_node_name():
    p = partial("Pending")
    diag = classify_pod(evidence(p, [event("FailedAttachVolume", 'Multi-Attach error for volume "pvc-9" Volume is '
                                           "already used by pod(s) old-0", ago=100)]))
    assert diag["category"] == "VolumeMountFailure"


# --- missing node data is not a lost node --------------------------------------------------------------------
def test_fresh_kubelet_activity_contradicts_missing_node():
    p = pod(statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), restarts=5, last=term(ago=40))])
    diag = classify_pod(evidence(p, [event("BackOff", "Back-off restarting failed container", count=9, ago=20)],
                                 node_state=NODE_MISSING))
    assert diag["category"] == "CrashLoopBackOff"


def test_missing_node_without_activity_is_still_lost():
    p = pod(statuses=[cstatus(running=90000, ready=True)])
    assert classify_pod(evidence(p, node_state=NODE_MISSING))["category"] == "NodeLost"


# --- Job deadline with terminating pods ----------------------------------------------------------------------
def test_deadline_job_with_terminating_pod():
    p = pod(owner=("Job", "nightly"), meta_extra={"deletionTimestamp": ts(900), "deletionGracePeriodSeconds": 30},
            statuses=[cstatus(running=3000, ready=True)])
    owners = [{"kind": "Job", "name": "nightly", "uid": "uid-j", "api_version": "batch/v1", "object": {
        "kind": "Job", "metadata": {"name": "nightly"}, "spec": {"activeDeadlineSeconds": 600},
        "status": {"conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]}}}]
    diag = classify_pod(evidence(p, owners=owners))
    assert diag["category"] == "DeadlineExceeded"


# --- InvalidImageName says why -------------------------------------------------------------------------------
@pytest.mark.parametrize("image, why", [
    ("", "empty"),
    ("None:None", "None"),
    ("registry.example.com/team/None:1.0", "None"),
    ("https://registry.example.com/app:1.0", "scheme"),
    ("/app:1.0", "slash"),
    ("registry.example.com/registry.example.com/app:1", "twice"),
    ("Registry.example.com/MyApp:1", "upper-case"),
    ("app:1:1", "more than one tag"),
    ("app: 1.0", "whitespace"),
    ("app:{{ .Values.tag }}", "template"),
    ("<app-image>:<tag>", "placeholder"),
])
def test_invalid_reason(image, why):
    assert why in invalid_reason(image)


def test_valid_references_have_no_invalid_reason():
    for image in ("nginx", "nginx:1.25", "registry.example.com:5000/team/app@sha256:" + "a" * 64,
                  "Registry.Example.com/team/app:V1"):
        assert invalid_reason(image) is None, image


def test_invalid_image_from_events_only_names_the_reason():
    diag = classify_pod(evidence(partial("Pending"), [
        event("InspectFailed", 'Failed to apply default image tag "docker.io//app:1": couldn\'t parse image reference '
              '"docker.io//app:1": invalid reference format', count=7, ago=30)]))
    assert diag["category"] == "InvalidImageName"
    assert "empty part" in diag["root_cause"]


def test_pull_access_denied_names_both_possibilities():
    p = pod(phase="Pending", statuses=[cstatus(waiting=("ImagePullBackOff", 'Back-off pulling image "acme/app:2"'))])
    diag = classify_pod(evidence(p, [event("Failed", 'Failed to pull image "acme/app:2": rpc error: code = Unknown '
                                           "desc = Error response from daemon: pull access denied for acme/app, "
                                           "repository does not exist or may require 'docker login'", count=4)]))
    assert diag["category"] == "ImagePullBackOff"
    assert "does not exist" in diag["root_cause"] and "credentials" in diag["root_cause"]


def test_events_without_timestamps_have_unknown_age_not_old():
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import normalise_event
    raw = {"reason": "BackOff", "type": "Warning", "count": 12, "message": "Back-off restarting failed container",
           "involvedObject": {"kind": "Pod", "name": "web-7d4b9c6f5-x2x9z", "fieldPath": "spec.containers{web}"}}
    diag = classify_pod(evidence(partial(), [normalise_event(raw)]))
    assert diag["category"] == "CrashLoopBackOff"
    assert diag["failure_started_at"] is None
