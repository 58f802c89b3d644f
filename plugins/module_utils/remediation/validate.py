# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Did the fix work? Rollout completeness, pod readiness and new restarts / OOM kills.

All validation lives here. The status checks are pure functions of API objects; ``validate_window``
polls through the cluster verbs for a window, failing fast on a new restart or OOM kill and otherwise
judging the rollout at the end of the window (a fix that crashes 40 s later is not a fix).
"""

from __future__ import absolute_import, division, print_function

import time

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.module_utils.common.kinds import PATCHABLE_WORKLOADS, resource_path
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat, parse_time
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.api import target_path
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.observe import snapshot
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import describe_target

__metaclass__ = type


def _int(value):
    return value if isinstance(value, int) else 0


def rollout_status(obj):
    """(complete, detail) for a Deployment, StatefulSet, DaemonSet or ReplicaSet as read now.

    kubectl rollout status's test, kept here rather than kubernetes.core's waiter predicates: those need a
    DynamicClient object (discovery requests before the first read), and the Deployment one does not compare
    updatedReplicas, so a rollout whose old pods are all still available would count as done. The detail
    names what is missing, which the validation record keeps.
    """
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
                finished = parse_time(terminated.get("finishedAt"))
                recent = finished is None or since is None or finished >= since
                if terminated.get("reason") == "OOMKilled" and recent:
                    found.append("pod %s container %s OOM-killed at %s"
                                 % (meta.get("name"), name, terminated.get("finishedAt")))
                    break
    return found


def selector_labels(workload):
    return ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}


# ---------------------------------------------------------------- validation through the API

def _workload_for(plan):
    """(kind, name, namespace) whose rollout says whether the fix worked; None for nodes."""
    target = plan.get("target") or {}
    if target.get("kind") in PATCHABLE_WORKLOADS:
        return target.get("kind"), target.get("name"), target.get("namespace")
    owner = plan.get("owner") or {}
    if target.get("kind") == "Pod" and owner.get("kind") in PATCHABLE_WORKLOADS:
        return owner.get("kind"), owner.get("name"), target.get("namespace")
    return None


def _pods_of(cluster, workload):
    meta = workload.get("metadata") or {}
    labels = selector_labels(workload)
    if not labels:
        return []
    return cluster.list(resource_path("Pod", namespace=meta.get("namespace")), labels)


def baseline_restarts(cluster, plan):
    ref = _workload_for(plan)
    if not ref:
        return {}
    workload = cluster.get(resource_path(ref[0], ref[1], ref[2]))
    return restart_snapshot(_pods_of(cluster, workload)) if workload else {}


def _check_once(cluster, plan, baseline, applied_at):
    """(ok, fatal, detail) of one look at the target after the change."""
    action = plan.get("action")
    target = plan.get("target") or {}
    what = describe_target(target)
    if action == "cordon_node":
        node = cluster.get(target_path(target))
        ok = bool(node and (node.get("spec") or {}).get("unschedulable"))
        return ok, False, "%s is %s" % (what, "cordoned" if ok else "still schedulable")
    if action == "remove_finalizers":
        obj = cluster.get(target_path(target))
        ok = obj is None or not (obj.get("metadata") or {}).get("finalizers")
        return ok, False, "%s %s" % (what, "is gone" if obj is None else (
            "has no finalizers" if ok else "still has finalizers"))
    details = []
    ok = True
    if action == "delete_pod":
        pod = cluster.get(target_path(target))
        gone = pod is None or (pod.get("metadata") or {}).get("uid") != plan.get("target_uid")
        ok = gone
        details.append("%s %s" % (what, "is gone" if gone else "still exists"))
    ref = _workload_for(plan)
    if ref:
        workload = cluster.get(resource_path(ref[0], ref[1], ref[2]))
        if workload is None:
            return False, True, "%s %s/%s disappeared" % (ref[0], ref[2], ref[1])
        complete, detail = rollout_status(workload)
        ok = ok and complete
        details.append("%s %s/%s %s" % (ref[0], ref[2], ref[1], detail))
        problems = restart_problems(baseline, _pods_of(cluster, workload), applied_at)
        if problems:
            return False, True, "; ".join(problems)
    return ok, False, "; ".join(details)


def validate_window(cluster, plan, baseline, applied_at, window, interval, clock, sleep):
    """Poll for ``window`` seconds: fail fast on a restart/OOM, else judge the last look.

    Returns {passed, checks: [...], window_seconds, started_at, finished_at}.
    """
    started = clock()
    deadline = time.monotonic() + max(window, 0)
    seen = []
    ok, fatal, detail = False, False, ""
    while True:
        try:
            ok, fatal, detail = _check_once(cluster, plan, baseline, applied_at)
        except AiopsError as exc:  # an unreadable target during validation is a failed validation
            ok, fatal, detail = False, False, "could not read the target: %s" % exc
        if not seen or seen[-1] != detail:
            seen.append(detail)
        if fatal or time.monotonic() >= deadline:
            break
        sleep(min(interval, max(deadline - time.monotonic(), 0.01)))
    result = {"passed": bool(ok and not fatal), "checks": seen[-5:], "window_seconds": window,
              "started_at": isoformat(started, micro=True), "finished_at": isoformat(clock(), micro=True)}
    before = plan.get("pre_metrics")
    if isinstance(before, dict):
        # The same snapshot as at plan time, so the record shows the fix's effect side by side; usage is
        # read again only when it was served at plan time.
        result["metrics"] = snapshot(cluster, plan, clock(), read_metrics=bool(before.get("source")))
    return result
