"""Properties: the classifier never raises on partial or odd objects and keeps the contract shape.

The fallback in classify_pod would hide an exception, so the tests also assert that it was not used
and that no rule family was skipped: an exception anywhere fails the test.
"""

from __future__ import annotations

import datetime
import os

from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import CATEGORIES, SEVERITIES
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.classify import (
    DIAGNOSIS_KEYS, classify_pod, classify_workload, diagnosis_id,
)
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import PodEvidence, WorkloadEvidence
from tests.unit.classify.podbuilder import AS_OF, cstatus, pod, term

# More examples on demand: AIOPS_HYPOTHESIS_EXAMPLES=3000 pytest tests/unit/classify
SCALE = max(1, int(os.environ.get("AIOPS_HYPOTHESIS_EXAMPLES", "300"))) / 300.0

KEYS = st.sampled_from([
    "metadata", "spec", "status", "name", "namespace", "uid", "containers", "initContainers", "containerStatuses",
    "initContainerStatuses", "state", "lastState", "waiting", "running", "terminated", "reason", "message",
    "exitCode", "restartCount", "ready", "started", "phase", "conditions", "type", "nodeName", "deletionTimestamp",
    "finalizers", "resources", "limits", "memory", "livenessProbe", "readinessProbe", "startupProbe", "startedAt",
    "finishedAt", "creationTimestamp", "volumes", "persistentVolumeClaim", "claimName", "ownerReferences",
    "activeDeadlineSeconds", "deletionGracePeriodSeconds", "restartPolicy", "image", "httpGet", "port", "path"])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-2 ** 40, 2 ** 40), st.floats(allow_nan=True),
    st.sampled_from(["CrashLoopBackOff", "OOMKilled", "Error", "Pending", "Running", "Failed", "Evicted",
                     "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "RunContainerError", "True",
                     "False", "Unknown", "2026-11-25T11:00:00Z", "2026-13-99T99:99:99Z", "0/3 nodes are available: 3",
                     "NodeLost", "DeadlineExceeded", "StartError", "app", "", "256Mi", "x" * 300]),
    st.text(max_size=40))
JSON = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=6)), max_leaves=40)
EVENT = st.fixed_dictionaries({}, optional={
    "reason": st.sampled_from(["Failed", "BackOff", "Killing", "Unhealthy", "FailedScheduling", "FailedMount",
                               "FailedCreatePodSandBox", "Evicted", "FailedCreate", "NodeNotReady", "FailedAttachVolume"]),
    "message": st.one_of(st.text(max_size=60), st.sampled_from([
        "Liveness probe failed: HTTP probe failed with statuscode: 500",
        "Container app failed liveness probe, will be restarted", "0/3 nodes are available: 3 Insufficient cpu.",
        'Multi-Attach error for volume "pvc" Volume is already used by pod(s) x', "exceeded quota: q, requested: "
        "cpu=1, used: cpu=2, limited: cpu=2"])),
    "count": st.one_of(st.integers(-3, 100), st.none(), st.text(max_size=3)),
    "last_seen": st.one_of(st.none(), st.datetimes(timezones=st.just(datetime.timezone.utc)), st.text(max_size=5)),
    "first_seen": st.one_of(st.none(), st.datetimes(timezones=st.just(datetime.timezone.utc))),
    "field_path": st.one_of(st.none(), st.just("spec.containers{app}"), st.text(max_size=10)),
    "kind": st.sampled_from(["", "Pod", "ReplicaSet"]),
})


def _check(diag):
    assert set(DIAGNOSIS_KEYS) <= set(diag)
    assert diag["category"] in CATEGORIES
    assert diag["severity"] in SEVERITIES
    assert 0 <= diag["confidence"] <= 1
    assert not any("classifier could not read" in p for p in diag["problems"])
    assert not any("skipped" in p for p in diag["problems"])
    assert len(diag["diagnosis_id"]) == 12


@settings(max_examples=int(300 * SCALE), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(pod_obj=st.one_of(JSON, st.dictionaries(KEYS, JSON, max_size=5)), events=st.lists(EVENT, max_size=4),
       owners=st.one_of(st.none(), st.lists(st.one_of(JSON, st.fixed_dictionaries(
           {"kind": st.sampled_from(["ReplicaSet", "Deployment", "Job", "StatefulSet"]), "name": st.text(max_size=5),
            "object": JSON})), max_size=3)),
       logs=st.one_of(st.none(), st.dictionaries(st.just("app"), st.one_of(JSON, st.fixed_dictionaries(
           {"previous": st.one_of(st.none(), st.text(max_size=200))})))))
def test_classify_pod_never_raises_on_arbitrary_objects(pod_obj, events, owners, logs):
    ev = PodEvidence(pod_obj if isinstance(pod_obj, dict) else {"status": pod_obj}, events=events, owners=owners,
                     logs=logs, as_of=AS_OF)
    _check(classify_pod(ev))


STATUS_STATES = st.sampled_from([
    None, ("CrashLoopBackOff", "back-off"), ("ImagePullBackOff", None), ("CreateContainerConfigError", None),
    ("CreateContainerError", "context deadline exceeded"), ("RunContainerError", None), ("ErrImagePull", None)])


@settings(max_examples=int(200 * SCALE), deadline=None, database=None)
@given(waiting=STATUS_STATES, last_reason=st.sampled_from([None, "OOMKilled", "Error", "StartError", "Completed"]),
       code=st.one_of(st.none(), st.integers(-1, 300)), restarts=st.integers(0, 50), ready=st.booleans(),
       phase=st.sampled_from(["Running", "Pending", "Failed", "Succeeded", "", None]),
       drop=st.sets(st.sampled_from(["spec", "metadata", "containers", "status"])))
def test_realistic_partial_pods(waiting, last_reason, code, restarts, ready, phase, drop):
    last = term(last_reason, code, ago=30) if last_reason else None
    p = pod(phase=phase, statuses=[cstatus(waiting=waiting, last=last, restarts=restarts, ready=ready,
                                           running=None if waiting else 60)])
    for key in drop:
        if key == "containers":
            p.get("spec", {}).pop("containers", None)
        else:
            p.pop(key, None)
    diag = classify_pod(PodEvidence(p, as_of=AS_OF))
    _check(diag)
    if waiting and waiting[0] == "CreateContainerConfigError" and "status" not in drop and phase != "Succeeded":
        assert diag["category"] == "CreateContainerConfigError"


@settings(max_examples=int(150 * SCALE), deadline=None, database=None)
@given(obj=st.one_of(JSON, st.dictionaries(KEYS, JSON, max_size=5)), events=st.lists(EVENT, max_size=4))
def test_classify_workload_never_raises(obj, events):
    diag = classify_workload(WorkloadEvidence(obj if isinstance(obj, dict) else {}, events=events, as_of=AS_OF))
    assert diag is None or diag["category"] in CATEGORIES


def test_diagnosis_id_is_stable_and_input_sensitive():
    first = diagnosis_id("Pod", "shop", "web", "u1", "OOMKilled", "limit 256Mi")
    assert first == diagnosis_id("Pod", "shop", "web", "u1", "OOMKilled", "limit 256Mi")
    assert first != diagnosis_id("Pod", "shop", "web", "u1", "OOMKilled", "limit 512Mi")
    assert all(c in "0123456789abcdef" for c in first) and len(first) == 12


def test_diagnosis_is_deterministic_and_uses_evidence_clock():
    p = pod(statuses=[cstatus(waiting=("CrashLoopBackOff", "back-off"), last=term("OOMKilled", 137), restarts=3)])
    one, two = classify_pod(PodEvidence(p, as_of=AS_OF)), classify_pod(PodEvidence(p, as_of=AS_OF))
    assert one == two
    # The evidence clock, in the collection's one timestamp form (UTC with "Z").
    assert one["observed_at"] == AS_OF.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    assert one["runbook"] == "runbooks/OOMKilled.md"
