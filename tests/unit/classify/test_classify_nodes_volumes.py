"""Volumes, sandboxes, nodes, evictions, deadlines and stuck terminations.

Texts: pkg/kubelet/volumemanager/volume_manager.go, pkg/volume/util/operationexecutor/
operation_generator.go, pkg/controller/volume/attachdetach/reconciler/reconciler.go (Multi-Attach),
pkg/kubelet/eviction/helpers.go, pkg/kubelet/active_deadline.go, pkg/controller/nodelifecycle,
pkg/kubelet/kuberuntime/kuberuntime_manager.go (FailedCreatePodSandBox).
"""

from __future__ import annotations

import pytest

# classify then propose (these tests also assert the proposals)
from ansible_collections.aiops.k8s.plugins.module_utils.runner import diagnose_pod as classify_pod
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import NODE_MISSING, NODE_PRESENT
from tests.unit.classify.podbuilder import container, cstatus, event, evidence, pod, term, ts

CREATING = [cstatus(waiting=("ContainerCreating", None))]


def creating_pod(**kw):
    return pod(phase="Pending", statuses=CREATING, created_ago=900, spec_extra={"volumes": [
        {"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0"}},
        {"name": "cfg", "configMap": {"name": "web-config"}}]}, **kw)


@pytest.mark.parametrize("reason, message, cause, extra", [
    ("FailedAttachVolume", 'Multi-Attach error for volume "pvc-0a1b" Volume is already exclusively attached to one '
     "node and can't be attached to another", "multi_attach", {}),
    ("FailedAttachVolume", 'Multi-Attach error for volume "data" Volume is already used by pod(s) web-5d8f-abcde',
     "multi_attach", {"used_by": "web-5d8f-abcde", "claim": "data-web-0"}),
    ("FailedMount", 'MountVolume.SetUp failed for volume "cfg" : configmap "web-config" not found', "missing_object",
     {"kind": "ConfigMap", "name": "web-config"}),
    ("FailedMount", "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data "
     "kube-api-access-8x2]: timed out waiting for the condition", "timeout", {"volume": "data"}),
    ("FailedMount", 'Unable to mount volumes for pod "web-0_shop(uid)": timeout expired waiting for volumes to attach '
     'or mount for pod "shop"/"web-0". list of unmounted volumes=[data]. list of unattached volumes=[data '
     "default-token-x]", "timeout", {}),
    ("FailedMount", 'MountVolume.SetUp failed for volume "nfs" : mount failed: exit status 32 Mounting command: mount '
     "Output: mount.nfs: Connection timed out", "mount_failed", {"volume": "nfs"}),
    ("FailedAttachVolume", 'AttachVolume.Attach failed for volume "pvc-9" : rpc error: code = Internal desc = Could '
     "not attach volume vol-0abc to node i-0123: VolumeInUse", "attach_failed", {}),
])
def test_volume_mount_failures(reason, message, cause, extra):
    diag = classify_pod(evidence(creating_pod(), events=[event(reason, message, count=5, ago=30)]))
    assert diag["category"] == "VolumeMountFailure"
    assert diag["culprit"]["cause"] == cause
    for key, value in extra.items():
        assert diag["culprit"][key] == value


def test_multi_attach_preferred_over_generic_timeout():
    events = [event("FailedAttachVolume", 'Multi-Attach error for volume "pvc-0a1b" Volume is already exclusively '
                    "attached to one node and can't be attached to another", ago=600),
              event("FailedMount", "Unable to attach or mount volumes: unmounted volumes=[data], unattached "
                    "volumes=[data]: timed out waiting for the condition", ago=20)]
    assert classify_pod(evidence(creating_pod(), events=events))["culprit"]["cause"] == "multi_attach"


def test_mount_events_on_running_pod_are_ignored():
    p = pod(statuses=[cstatus(running=300, ready=True)])
    ev = evidence(p, events=[event("FailedMount", 'MountVolume.SetUp failed for volume "cfg" : object "shop"/'
                                   '"web-config" not registered', ago=290)])
    assert classify_pod(ev)["category"] == "Healthy"


@pytest.mark.parametrize("message, words", [
    ('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "3f2a": '
     'plugin type="calico" failed (add): error getting ClusterInformation: connection is unauthorized: '
     "Unauthorized", "calico"),
    ('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to set up sandbox container "abc" network '
     'for pod "web-1": networkPlugin cni failed to set up pod "web-1_shop" network: failed to allocate for range 0: '
     "no IP addresses available in range set: 10.244.1.1-10.244.1.254", "no free IP"),
])
def test_sandbox_failures(message, words):
    diag = classify_pod(evidence(creating_pod(), events=[event("FailedCreatePodSandBox", message, count=40)]))
    assert diag["category"] == "SandboxCreationFailure"
    assert words in diag["root_cause"]


@pytest.mark.parametrize("message, resource, container_name, usage", [
    ("The node was low on resource: memory. Container app was using 1250Mi, which exceeds its request of 512Mi. ",
     "memory", "app", "1250Mi"),
    # 1.27+ wording
    ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 48Mi. Container app was using "
     "1250Mi, request is 512Mi, has larger consumption of memory. ", "memory", "app", "1250Mi"),
    ("The node was low on resource: ephemeral-storage. Container controller was using 16372Ki, which exceeds its "
     "request of 0. ", "ephemeral-storage", "controller", "16372Ki"),
    ("The node had condition: [DiskPressure]. ", "disk", None, None),
    ('Usage of EmptyDir volume "cache" exceeds the limit "1Gi". ', "ephemeral-storage", None, None),
])
def test_evictions(message, resource, container_name, usage):
    p = pod(phase="Failed", reason="Evicted", message=message, statuses=[])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "Evicted"
    assert diag["culprit"]["resource"] == resource
    assert diag["culprit"].get("container") == container_name
    assert diag["culprit"].get("usage") == usage
    assert diag["remediations"][0]["action"] == "delete_pod"
    assert diag["remediations"][0]["risk_tier"] == "trivial"


def test_memory_eviction_proposes_request_raise():
    msg = "The node was low on resource: memory. Container app was using 1250Mi, which exceeds its request of 512Mi. "
    diag = classify_pod(evidence(pod(phase="Failed", reason="Evicted", message=msg)))
    raise_ = [r for r in diag["remediations"] if r["action"] == "set_resources"][0]
    assert raise_["params"]["requests"]["memory"] == "1536Mi"    # 1250Mi * 1.2 rounded up to 256Mi steps
    assert raise_["target"]["kind"] == "Deployment"


def test_deadline_exceeded_names_deadline():
    p = pod(phase="Failed", reason="DeadlineExceeded",
            message="Pod was active on the node longer than the specified deadline",
            spec_extra={"activeDeadlineSeconds": 600})
    diag = classify_pod(evidence(p))
    assert diag["category"] == "DeadlineExceeded"
    assert "600s (10m)" in diag["root_cause"]


def test_job_deadline_on_pod_via_owner():
    p = pod(phase="Failed", owner=("Job", "nightly"), statuses=[cstatus(terminated=term("Error", 143, ago=100))])
    owners = [{"kind": "Job", "name": "nightly", "object": {"kind": "Job", "spec": {"activeDeadlineSeconds": 3600},
                                                            "status": {"conditions": [
                                                                {"type": "Failed", "status": "True",
                                                                 "reason": "DeadlineExceeded"}]}}}]
    diag = classify_pod(evidence(p, owners=owners))
    assert diag["category"] == "DeadlineExceeded"
    assert diag["culprit"]["active_deadline_seconds"] == 3600


def test_terminating_stuck_names_finalizers():
    p = pod(meta_extra={"deletionTimestamp": ts(3600), "deletionGracePeriodSeconds": 30,
                        "finalizers": ["example.com/backup-guard"]}, statuses=[cstatus(running=7200, ready=False)])
    node = {"metadata": {"name": "node-1"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    diag = classify_pod(evidence(p, node=node, node_state=NODE_PRESENT))
    assert diag["category"] == "TerminatingStuck"
    assert diag["culprit"]["finalizers"] == ["example.com/backup-guard"]
    assert diag["remediations"][0]["action"] == "remove_finalizers"
    assert diag["remediations"][0]["risk_tier"] == "critical"


def test_terminating_within_grace_is_healthy():
    p = pod(meta_extra={"deletionTimestamp": ts(10), "deletionGracePeriodSeconds": 30},
            statuses=[cstatus(running=7200, ready=True)])
    assert classify_pod(evidence(p))["category"] == "Healthy"


def test_terminating_on_missing_node_is_node_lost():
    p = pod(meta_extra={"deletionTimestamp": ts(3600), "deletionGracePeriodSeconds": 30},
            statuses=[cstatus(running=7200, ready=True)])
    diag = classify_pod(evidence(p, node_state=NODE_MISSING))
    assert diag["category"] == "NodeLost"
    actions = {r["action"]: r for r in diag["remediations"]}
    assert actions["cordon_node"]["risk_tier"] == "critical"
    assert actions["delete_pod"]["params"]["force"] is True


def test_pod_on_not_ready_node_is_node_lost():
    node = {"metadata": {"name": "node-1"}, "status": {"conditions": [
        {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
         "message": "Kubelet stopped posting node status."}]}}
    p = pod(statuses=[cstatus(running=7200, ready=False)], conditions=[{"type": "Ready", "status": "False"}])
    diag = classify_pod(evidence(p, node=node, node_state=NODE_PRESENT))
    assert diag["category"] == "NodeLost"
    assert "Kubelet stopped posting" in diag["evidence"][0]["detail"]


def test_status_reason_node_lost():
    p = pod(phase="Unknown", reason="NodeLost", message="Node node-1 which was running pod web-1 is unresponsive")
    assert classify_pod(evidence(p))["category"] == "NodeLost"


def test_statefulset_pod_force_delete_is_critical():
    p = pod(name="db-0", owner=("StatefulSet", "db"), meta_extra={"deletionTimestamp": ts(3600)})
    owners = [{"kind": "StatefulSet", "name": "db", "object": None}]
    diag = classify_pod(evidence(p, owners=owners, node_state=NODE_MISSING))
    delete = [r for r in diag["remediations"] if r["action"] == "delete_pod"][0]
    assert delete["risk_tier"] == "critical"


def test_graceful_node_shutdown_pod():
    p = pod(phase="Failed", reason="Terminated", message="Pod was terminated in response to imminent node shutdown.")
    assert classify_pod(evidence(p))["category"] == "Evicted"


def test_claims_named_for_unbound_volume():
    p = pod(phase="Pending", node=None, containers=[container()], spec_extra={"volumes": [
        {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}}]})
    msg = "0/3 nodes are available: 3 pod has unbound immediate PersistentVolumeClaims."
    claim = {"status": {"phase": "Pending"}, "spec": {"storageClassName": "fast-ssd"}}
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import PodEvidence, merge_events
    from tests.unit.classify.podbuilder import AS_OF, deployment_owners
    ev = PodEvidence(p, events=merge_events([event("FailedScheduling", msg)]), owners=deployment_owners(),
                     claims={"data-db-0": claim}, as_of=AS_OF)
    diag = classify_pod(ev)
    assert diag["category"] == "UnschedulableVolume"
    assert 'PVC "data-db-0" is Pending (storageClass fast-ssd)' in diag["root_cause"]


def test_terminating_pod_evicted_by_taint_manager_without_node_data_is_node_lost():
    # pkg/controller/tainteviction (1.29+) / nodelifecycle taint manager: "Marking for deletion Pod shop/web-1"
    p = pod(meta_extra={"deletionTimestamp": ts(1800), "deletionGracePeriodSeconds": 30},
            statuses=[cstatus(running=7200, ready=False)], conditions=[
                {"type": "Ready", "status": "False"},
                {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager"}])
    ev = evidence(p, events=[event("TaintManagerEviction", "Marking for deletion Pod shop/web-7d4b9c6f5-x2x9z",
                                   type_="Normal", ago=1800, component="taint-controller")])
    assert classify_pod(ev)["category"] == "NodeLost"


def test_old_eviction_wording_with_condition_in_brackets():
    p = pod(phase="Failed", reason="Evicted", message="The node was low on resource: [DiskPressure].")
    assert classify_pod(evidence(p))["culprit"]["resource"] == "disk"


@pytest.mark.parametrize("reason, message, category", [
    # pkg/kubelet/lifecycle/predicate.go: kubelet admission rejects the pod after scheduling
    ("OutOfcpu", "Pod Node didn't have enough resource: cpu, requested: 400, used: 3800, capacity: 4000",
     "UnschedulableInsufficientResources"),
    ("NodeAffinity", "Pod Predicate NodeAffinity failed", "UnschedulableNodeAffinity"),
    ("UnexpectedAdmissionError", "Allocate failed due to can't allocate unhealthy devices nvidia.com/gpu", "Evicted"),
])
def test_kubelet_admission_rejections(reason, message, category):
    diag = classify_pod(evidence(pod(phase="Failed", reason=reason, message=message, statuses=[])))
    assert diag["category"] == category
    assert diag["remediations"][0]["action"] == "delete_pod"
    assert diag["remediations"][0]["risk_tier"] == "trivial"


_SANDBOX_MSG = ('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox '
                '"9c1e": plugin type="aws-cni" name="aws-cni" failed (add): add cmd: failed to assign an IP address '
                'to container')


def test_sandbox_failure_seen_once_is_tentative_on_a_fresh_pod():
    fresh = pod(phase="Pending", statuses=CREATING, created_ago=40)
    diag = classify_pod(evidence(fresh, events=[event("FailedCreatePodSandBox", _SANDBOX_MSG, ago=10)]))
    assert diag["category"] == "Healthy"
    assert any(s["category"] == "SandboxCreationFailure" for s in diag["secondary"])


def test_sandbox_failure_seen_once_counts_when_the_pod_waited_longer():
    # Bound minutes ago and still no sandbox: the one failure is the standing state, not a first hiccup.
    waited = pod(phase="Pending", statuses=CREATING, created_ago=600,
                 conditions=[{"type": "PodScheduled", "status": "True", "lastTransitionTime": ts(590)}])
    diag = classify_pod(evidence(waited, events=[event("FailedCreatePodSandBox", _SANDBOX_MSG, ago=10)]))
    assert diag["category"] == "SandboxCreationFailure"
    assert diag["culprit"]["cni_plugin"] == "aws-cni"


def test_sandbox_event_proves_the_binding_without_node_name():
    lost = pod(phase="Pending", node=None, created_ago=900)
    diag = classify_pod(evidence(lost, events=[event("FailedCreatePodSandBox", _SANDBOX_MSG, count=12, ago=30)]))
    assert diag["category"] == "SandboxCreationFailure"
