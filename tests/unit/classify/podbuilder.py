"""Compact builders for pod evidence in classifier tests.

Times are relative to AS_OF (seconds ago), so each fixture reads like `kubectl describe`
("Last State: Terminated, Finished 2m ago") and never depends on the wall clock.
"""

from __future__ import annotations

import datetime
import zlib

from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import (
    NODE_UNKNOWN, PodEvidence, WorkloadEvidence, merge_events, normalise_event,
)

UTC = datetime.timezone.utc
AS_OF = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def ts(ago):
    """RFC 3339 timestamp `ago` seconds before AS_OF."""
    return (AS_OF - datetime.timedelta(seconds=ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def container(name="app", image="registry.example.com/shop/web:1.4.2", limits=None, requests=None,
              liveness=None, readiness=None, startup=None, **extra):
    spec = {"name": name, "image": image}
    if limits or requests:
        spec["resources"] = {}
        if limits:
            spec["resources"]["limits"] = limits
        if requests:
            spec["resources"]["requests"] = requests
    for key, value in (("livenessProbe", liveness), ("readinessProbe", readiness), ("startupProbe", startup)):
        if value:
            spec[key] = value
    spec.update(extra)
    return spec


def http_probe(path="/healthz", port=8080, **extra):
    probe = {"httpGet": {"path": path, "port": port}, "periodSeconds": 10, "failureThreshold": 3}
    probe.update(extra)
    return probe


def term(reason="Error", code=1, ago=60, message=None, started_ago=None):
    state = {"reason": reason, "exitCode": code}
    if ago is not None:
        state["finishedAt"] = ts(ago)
        state["startedAt"] = ts(started_ago if started_ago is not None else ago + 5)
    if message:
        state["message"] = message
    return state


def cstatus(name="app", waiting=None, running=None, terminated=None, last=None, restarts=0, ready=False,
            started=None, image=None):
    """waiting=(reason, message); running=seconds since start; terminated/last = term(...)."""
    state = {}
    if waiting is not None:
        reason, message = waiting if isinstance(waiting, tuple) else (waiting, None)
        state["waiting"] = {"reason": reason}
        if message:
            state["waiting"]["message"] = message
    if running is not None:
        state["running"] = {"startedAt": ts(running)}
    if terminated is not None:
        state["terminated"] = terminated
    status = {"name": name, "state": state, "lastState": {"terminated": last} if last else {},
              "ready": ready, "restartCount": restarts, "image": image or "registry.example.com/shop/web:1.4.2"}
    if started is not None:
        status["started"] = started
    return status


def pod(name="web-7d4b9c6f5-x2x9z", ns="shop", phase="Running", containers=None, statuses=None, init=None,
        init_statuses=None, node="node-1", conditions=None, reason=None, message=None, created_ago=3600,
        owner=("ReplicaSet", "web-7d4b9c6f5"), restart_policy=None, spec_extra=None, meta_extra=None,
        status_extra=None):
    meta = {"name": name, "namespace": ns, "uid": "uid-" + name, "creationTimestamp": ts(created_ago)}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True, "uid": "uid-o"}]
    meta.update(meta_extra or {})
    spec = {"containers": containers if containers is not None else [container()]}
    if init is not None:
        spec["initContainers"] = init
    if node:
        spec["nodeName"] = node
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    spec.update(spec_extra or {})
    status = {"phase": phase, "startTime": ts(created_ago)}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    if conditions is not None:
        status["conditions"] = conditions
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    status.update(status_extra or {})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def event(reason, message, type_="Warning", count=1, ago=30, first_ago=None, container=None, init=False,
          component="kubelet", pod_name="web-7d4b9c6f5-x2x9z", kind="Pod"):
    """A raw core/v1 Event, passed through the real normaliser."""
    raw = {"metadata": {"name": "%s.%x" % (pod_name, zlib.crc32((reason + message).encode()) % 0xFFFFFF), "namespace": "shop"},
           "involvedObject": {"kind": kind, "name": pod_name, "namespace": "shop", "uid": "uid-" + pod_name},
           "reason": reason, "message": message, "type": type_, "count": count,
           "firstTimestamp": ts(first_ago if first_ago is not None else ago + 60 * (count - 1)),
           "lastTimestamp": ts(ago), "source": {"component": component}}
    if container:
        raw["involvedObject"]["fieldPath"] = "spec.%s{%s}" % ("initContainers" if init else "containers", container)
    return normalise_event(raw)


def deployment_owners(rs_rev=1, dep_rev=None, name="web", rs="web-7d4b9c6f5", last_applied=None):
    dep_meta = {"name": name, "annotations": {"deployment.kubernetes.io/revision": str(dep_rev or rs_rev)}}
    if last_applied:
        dep_meta["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = last_applied
    return [
        {"kind": "ReplicaSet", "name": rs, "uid": "uid-rs", "api_version": "apps/v1",
         "object": {"kind": "ReplicaSet", "metadata": {"name": rs, "annotations": {
             "deployment.kubernetes.io/revision": str(rs_rev)}}}},
        {"kind": "Deployment", "name": name, "uid": "uid-d", "api_version": "apps/v1",
         "object": {"kind": "Deployment", "metadata": dep_meta}},
    ]


def evidence(pod_obj, events=(), owners="deployment", node=None, node_state=NODE_UNKNOWN, logs=None, claims=None,
             referenced=None):
    if owners == "deployment":
        owners = deployment_owners()
    return PodEvidence(pod_obj, events=merge_events(list(events)), owners=owners or [], node=node,
                       node_state=node_state, claims=claims, logs=logs, referenced=referenced, as_of=AS_OF,
                       source="dump")


def workload(kind="ReplicaSet", name="web-7d4b9c6f5", events=(), conditions=None, spec=None, status=None,
             owners=None):
    obj = {"apiVersion": "batch/v1" if kind == "Job" else "apps/v1", "kind": kind,
           "metadata": {"name": name, "namespace": "shop", "uid": "uid-" + name},
           "spec": spec if spec is not None else {"replicas": 3},
           "status": status if status is not None else {"replicas": 0}}
    if conditions is not None:
        obj["status"]["conditions"] = conditions
    return WorkloadEvidence(obj, events=merge_events(list(events)), owners=owners or [], as_of=AS_OF, source="dump")


def cond(ctype, status, reason=None, message=None):
    item = {"type": ctype, "status": status}
    if reason:
        item["reason"] = reason
    if message:
        item["message"] = message
    return item


def wevent(reason, message, kind="ReplicaSet", name="web-7d4b9c6f5", ago=30, count=1,
           component="replicaset-controller"):
    return event(reason, message, ago=ago, count=count, component=component, pod_name=name, kind=kind)
