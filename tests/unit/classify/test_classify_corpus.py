"""A small messy corpus: partial objects as reconstructed from `kubectl describe`/`get -o yaml` captures.

Each case is deliberately incomplete (no spec, no timestamps, events only, old wording) the way public
issue threads show them. Message sources are cited per case; the expected category is what a human
on call would file the failure under.
"""

from __future__ import annotations

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import classify_pod
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import PodEvidence, merge_events, normalise_event
from tests.unit.classify.podbuilder import AS_OF, ts


def ev(reason, message, count=1, ago=120, field_path=None, type_="Warning"):
    raw = {"reason": reason, "message": message, "count": count, "type": type_, "lastTimestamp": ts(ago),
           "firstTimestamp": ts(ago + 600), "involvedObject": {"kind": "Pod", "name": "p"}}
    if field_path:
        raw["involvedObject"]["fieldPath"] = field_path
    return normalise_event(raw)


def status_only(phase, statuses=None, init=None, **extra):
    status = {"phase": phase}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if init is not None:
        status["initContainerStatuses"] = init
    status.update(extra)
    return {"metadata": {"name": "p", "namespace": "default"}, "status": status}


def waiting(reason, message=None, name="app", last=None, restarts=0, **extra):
    item = {"name": name, "state": {"waiting": {"reason": reason}}, "restartCount": restarts, "ready": False}
    if message:
        item["state"]["waiting"]["message"] = message
    if last:
        item["lastState"] = {"terminated": last}
    item.update(extra)
    return item


CORPUS = [
    # --- k8s 1.19 / docker: kubectl describe, events only, no spec ---------------------------------------------
    ("docker-pull-denied", "ImagePullBackOff", status_only("Pending", [waiting("ImagePullBackOff")]),
     # pkg/kubelet/images/image_manager.go + dockerd
     [ev("Failed", 'Failed to pull image "acme/private:1.0": rpc error: code = Unknown desc = Error response from '
         "daemon: pull access denied for acme/private, repository does not exist or may require 'docker login': "
         "denied: requested access to the resource is denied", 4)]),
    ("docker-manifest-unknown", "ImagePullBackOff", status_only("Pending", [waiting("ErrImagePull", "rpc error: "
     "code = Unknown desc = Error response from daemon: manifest for nginx:1.99 not found: manifest unknown: "
                                                                                    "manifest unknown")]), []),
    ("containerd-platform", "ImagePullBackOff", status_only("Pending", [waiting("ErrImagePull")]),
     [ev("Failed", 'Failed to pull image "acme/tool:2": rpc error: code = NotFound desc = failed to pull and unpack '
         'image "docker.io/acme/tool:2": no match for platform in manifest: not found', 3)]),
    ("invalid-name-uppercase", "InvalidImageName", status_only("Pending", [waiting(
        "InvalidImageName", 'Failed to apply default image tag "Nginx:latest": couldn\'t parse image reference '
        '"Nginx:latest": invalid reference format: repository name must be lowercase')]), []),
    # --- scheduling ----------------------------------------------------------------------------------------------
    ("sched-1.18-taints-no-braces", "UnschedulableTaints", status_only("Pending"),
     [ev("FailedScheduling", "0/1 nodes are available: 1 node(s) had taints that the pod didn't tolerate.", 9)]),
    ("sched-condition-only", "UnschedulableInsufficientResources", status_only("Pending", conditions=[
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
         "message": "0/3 nodes are available: 3 Insufficient memory, 3 Insufficient cpu."}]), []),
    ("sched-pvc-missing", "UnschedulableVolume", status_only("Pending"),
     [ev("FailedScheduling", '0/3 nodes are available: 3 persistentvolumeclaim "mysql-pv-claim" not found.')]),
    ("sched-wrapped-preemption", "UnschedulableNodeAffinity", status_only("Pending"),
     [ev("FailedScheduling", "0/6 nodes are available: 3 node(s) didn't match Pod's node affinity/selector,\n 3 "
         "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/6 nodes are\n "
         "available: 6 Preemption is not helpful for scheduling..")]),
    # --- containers ----------------------------------------------------------------------------------------------
    ("crashloop-no-spec", "CrashLoopBackOff", status_only("Running", [waiting(
        "CrashLoopBackOff", "back-off 40s restarting failed container=app pod=p_default(u)", restarts=3,
        last={"reason": "Error", "exitCode": 1})]), []),
    ("oom-no-times", "OOMKilled", status_only("Running", [waiting(
        "CrashLoopBackOff", "back-off", restarts=12, last={"reason": "OOMKilled", "exitCode": 137})]), []),
    ("oom-terminated-never", "OOMKilled", status_only("Failed", [{"name": "app", "state": {"terminated": {
        "reason": "OOMKilled", "exitCode": 137}}, "restartCount": 0}]), []),
    ("exit-127-docker", "RunContainerError", status_only("Running", [waiting(
        "CrashLoopBackOff", "back-off", restarts=5, last={"reason": "ContainerCannotRun", "exitCode": 127,
                                                         "message": 'OCI runtime create failed: container_linux.go:'
                                                          '349: starting container process caused "exec: \\"npm\\": '
                                                          'executable file not found in $PATH": unknown'})]), []),
    ("init-crash-status-only", "InitContainerFailure", status_only("Pending", [waiting("PodInitializing")], init=[
        waiting("CrashLoopBackOff", "back-off", name="init-myservice", restarts=8,
                last={"reason": "Error", "exitCode": 1})]), []),
    ("config-secret-event-only", "CreateContainerConfigError", status_only("Pending", [waiting(
        "CreateContainerConfigError")]), [ev("Failed", 'Error: secret "mysecret" not found', 7,
                                             field_path="spec.containers{app}")]),
    ("job-exit-2", "ContainerExitError", dict(status_only("Failed", [{"name": "job", "state": {"terminated": {
        "reason": "Error", "exitCode": 2}}}]), spec={"restartPolicy": "Never"}), []),
    # --- probes --------------------------------------------------------------------------------------------------
    ("liveness-events-no-kill", "LivenessProbeFailure", status_only("Running", [waiting(
        "CrashLoopBackOff", "back-off", restarts=6, last={"reason": "Error", "exitCode": 137})]),
     [ev("Unhealthy", "Liveness probe failed: Get http://10.1.1.4:8080/health: net/http: request canceled "
         "(Client.Timeout exceeded while awaiting headers)", 18, field_path="spec.containers{app}")]),
    ("readiness-describe", "ReadinessProbeFailure", status_only("Running", [{"name": "app", "ready": False,
                                                                             "restartCount": 0,
                                                                             "state": {"running": {}}}]),
     [ev("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", 250, ago=10)]),
    # --- volumes, sandboxes, nodes -------------------------------------------------------------------------------
    ("mount-secret-no-nodename", "VolumeMountFailure", status_only("Pending", [waiting("ContainerCreating")]),
     [ev("FailedMount", 'MountVolume.SetUp failed for volume "certs" : secret "tls-certs" not found', 14)]),
    ("multi-attach-old", "VolumeMountFailure", status_only("Pending", [waiting("ContainerCreating")]),
     [ev("FailedAttachVolume", 'Multi-Attach error for volume "pvc-3f2a" Volume is already used by pod(s) '
         "mysql-7b8c-x2", 3)]),
    ("cni-sandbox", "SandboxCreationFailure", status_only("Pending", [waiting("ContainerCreating")]),
     [ev("FailedCreatePodSandBox", 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to set up '
         'sandbox container "a1" network for pod "p": networkPlugin cni failed to set up pod "p_default" network: '
         "open /run/flannel/subnet.env: no such file or directory", 30)]),
    ("evicted-status-only", "Evicted", status_only("Failed", reason="Evicted", message="The node was low on "
                                                   "resource: ephemeral-storage. "), []),
    ("deadline-status-only", "DeadlineExceeded", status_only("Failed", reason="DeadlineExceeded",
                                                             message="Pod was active on the node longer than the "
                                                             "specified deadline"), []),
    ("node-lost-unknown-phase", "NodeLost", status_only("Unknown", reason="NodeLost",
                                                        message="Node worker-3 which was running pod p is "
                                                        "unresponsive"), []),
    # --- healthy look-alikes -------------------------------------------------------------------------------------
    ("completed-status-only", "Healthy", status_only("Succeeded", [{"name": "app", "state": {"terminated": {
        "reason": "Completed", "exitCode": 0}}}]), []),
    ("running-ready-restarts-no-times", "Healthy", status_only("Running", [{
        "name": "app", "ready": True, "restartCount": 2, "state": {"running": {}},
        "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]), []),
    ("running-ready-old-oom-no-times", "Healthy", status_only("Running", [{
        "name": "app", "ready": True, "restartCount": 1, "state": {"running": {}},
        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]), []),
]


@pytest.mark.parametrize("name, expected, pod_obj, events", CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus(name, expected, pod_obj, events):
    diag = classify_pod(PodEvidence(pod_obj, events=merge_events(events), as_of=AS_OF))
    assert diag["category"] == expected, (name, diag["root_cause"])
