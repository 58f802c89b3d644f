# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Did the fix work? Rollout completeness, pod readiness and new restarts / OOM kills.

The status checks are pure functions of API objects; ``validate_operation`` polls through the
transport for a window, failing fast on a new restart or OOM kill and otherwise judging the rollout
at the end of the window (a fix that crashes 40 s later is not a fix).
"""

from __future__ import absolute_import, division, print_function

import datetime

from ansible_collections.aiops.k8s.plugins.module_utils.remediation.gate import parse_when

__metaclass__ = type

UTC = datetime.timezone.utc


def _int(value):
    return value if isinstance(value, int) else 0


def rollout_status(obj):
    """(complete, detail) for a Deployment, StatefulSet, DaemonSet or ReplicaSet as read now."""
    kind = obj.get("kind") or ""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    problems = []
    generation = meta.get("generation")
    observed = status.get("observedGeneration")
    if isinstance(generation, int) and (not isinstance(observed, int) or observed < generation):
        problems.append("observedGeneration %s < generation %s" % (observed, generation))
    if kind == "DaemonSet":
        desired = _int(status.get("desiredNumberScheduled"))
        for key in ("updatedNumberScheduled", "numberReady", "numberAvailable"):
            if _int(status.get(key)) != desired:
                problems.append("%s %d/%d" % (key, _int(status.get(key)), desired))
    else:
        replicas = spec.get("replicas", 1) if isinstance(spec.get("replicas", 1), int) else 1
        keys = ["readyReplicas"]
        if kind in ("Deployment", "StatefulSet"):
            keys.insert(0, "updatedReplicas")
        if kind == "Deployment":
            keys.append("availableReplicas")
        for key in keys:
            if _int(status.get(key)) != replicas:
                problems.append("%s %d/%d" % (key, _int(status.get(key)), replicas))
        if kind == "Deployment" and _int(status.get("replicas")) > replicas:
            problems.append("%d old replicas still running" % (_int(status.get("replicas")) - replicas))
        if kind == "StatefulSet" and status.get("updateRevision") and \
                status.get("currentRevision") != status.get("updateRevision"):
            problems.append("currentRevision %s != updateRevision %s" % (status.get("currentRevision"),
                                                                         status.get("updateRevision")))
    if problems:
        return False, "rollout incomplete: " + ", ".join(problems)
    return True, "rollout complete"


def pod_ready(pod):
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def restart_snapshot(pods):
    """{pod uid: {container: restartCount}} -- the baseline taken just before a change."""
    snapshot = {}
    for pod in pods:
        uid = (pod.get("metadata") or {}).get("uid") or (pod.get("metadata") or {}).get("name")
        counts = {}
        for status in ((pod.get("status") or {}).get("containerStatuses") or []):
            counts[status.get("name")] = _int(status.get("restartCount"))
        snapshot[uid] = counts
    return snapshot


def restart_problems(baseline, pods, since):
    """New restarts (vs baseline; new pods start at 0) and OOM kills that finished after ``since``."""
    found = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        uid = meta.get("uid") or meta.get("name")
        before = baseline.get(uid) or {}
        for status in ((pod.get("status") or {}).get("containerStatuses") or []):
            name = status.get("name")
            count = _int(status.get("restartCount"))
            if count > before.get(name, 0):
                found.append("pod %s container %s restarted (%d -> %d)"
                             % (meta.get("name"), name, before.get(name, 0), count))
            for state_key in ("state", "lastState"):
                terminated = (status.get(state_key) or {}).get("terminated") or {}
                finished = parse_when(terminated.get("finishedAt"))
                recent = finished is None or since is None or finished >= since
                if terminated.get("reason") == "OOMKilled" and recent:
                    found.append("pod %s container %s OOM-killed at %s"
                                 % (meta.get("name"), name, terminated.get("finishedAt")))
                    break
    return found


def matches_labels(obj, labels):
    have = (obj.get("metadata") or {}).get("labels") or {}
    return all(have.get(key) == value for key, value in (labels or {}).items())


def selector_labels(workload):
    return ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
