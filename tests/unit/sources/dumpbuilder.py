"""Write small dumps in the exact layout `kubectl cluster-info dump --output-directory` produces.

kubectl prints typed lists: `{"kind": "PodList", "apiVersion": "v1", "metadata": {...}, "items": [...]}`
whose items carry no kind/apiVersion; per-pod logs go to <ns>/<pod>/logs.txt between markers.
"""

from __future__ import annotations

import json
import os

LIST_FILES = {
    "Pod": ("pods", "PodList", "v1"), "Event": ("events", "EventList", "v1"),
    "ReplicaSet": ("replicasets", "ReplicaSetList", "apps/v1"),
    "Deployment": ("deployments", "DeploymentList", "apps/v1"),
    "DaemonSet": ("daemonsets", "DaemonSetList", "apps/v1"),
    "Service": ("services", "ServiceList", "v1"),
    "ReplicationController": ("replication-controllers", "ReplicationControllerList", "v1"),
    # bundle extension (collect_bundle)
    "StatefulSet": ("statefulsets", "StatefulSetList", "apps/v1"),
    "Job": ("jobs", "JobList", "batch/v1"), "CronJob": ("cronjobs", "CronJobList", "batch/v1"),
    "PersistentVolumeClaim": ("persistentvolumeclaims", "PersistentVolumeClaimList", "v1"),
    "ConfigMap": ("configmaps", "ConfigMapList", "v1"),
}
KUBECTL_FILES = ("Pod", "Event", "ReplicaSet", "Deployment", "DaemonSet", "Service", "ReplicationController")


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(data, handle, indent=4)


def _typed_list(kind, items):
    _stem, list_kind, api_version = LIST_FILES[kind]
    stripped = []
    for item in items:
        item = dict(item)
        item.pop("kind", None)
        item.pop("apiVersion", None)
        stripped.append(item)
    return {"kind": list_kind, "apiVersion": api_version, "metadata": {"resourceVersion": "1000"}, "items": stripped}


def write_dump(root, objects, nodes=(), logs=None, extra_kinds=()):
    """Write ``objects`` (dicts with kind + metadata.namespace) into a cluster-info dump tree.

    Every kubectl file is written for every namespace (empty lists too), like kubectl does;
    kinds in ``extra_kinds`` get their bundle-extension files. ``logs``: {(ns, pod): [(container, text)]}.
    """
    root = str(root)
    _write(os.path.join(root, "nodes.json"), {"kind": "NodeList", "apiVersion": "v1",
                                              "metadata": {"resourceVersion": "1000"},
                                              "items": [dict((k, v) for k, v in n.items()
                                                             if k not in ("kind", "apiVersion")) for n in nodes]})
    by_ns = {}
    for obj in objects:
        by_ns.setdefault(obj["metadata"]["namespace"], []).append(obj)
    for namespace, items in by_ns.items():
        for kind in tuple(KUBECTL_FILES) + tuple(extra_kinds):
            stem = LIST_FILES[kind][0]
            _write(os.path.join(root, namespace, stem + ".json"),
                   _typed_list(kind, [o for o in items if o["kind"] == kind]))
        for pod in (o for o in items if o["kind"] == "Pod"):
            name = pod["metadata"]["name"]
            sections = (logs or {}).get((namespace, name))
            if sections is None:
                sections = [(c["name"], "") for c in (pod["spec"].get("initContainers") or [])
                            + pod["spec"]["containers"]]
            write_logs_txt(os.path.join(root, namespace, name, "logs.txt"), namespace, name, sections)
    return root


def write_logs_txt(path, namespace, pod, sections):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        for container, text in sections:
            handle.write("==== START logs for container %s of pod %s/%s ====\n" % (container, namespace, pod))
            handle.write(text)
            handle.write("==== END logs for container %s of pod %s/%s ====\n" % (container, namespace, pod))


def pod(ns, name, rs=None, node="node-1", crash=False, claims=(), waiting=None, env=None, labels=None,
        created="2026-11-25T18:00:00Z", containers=("app",), init=()):
    meta = {"name": name, "namespace": ns, "uid": "uid-%s-%s" % (ns, name), "creationTimestamp": created,
            "labels": labels or {"app": "web"}}
    if rs:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": rs[0], "name": rs[1], "uid": "uid-" + rs[1],
                                    "controller": True}]
    statuses = []
    for index, container in enumerate(containers):
        status = {"name": container, "ready": True, "restartCount": 0,
                  "state": {"running": {"startedAt": created}}}
        if crash and index == 0:
            status.update({"ready": False, "restartCount": 5,
                           "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                           "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                                                        "finishedAt": "2026-11-25T18:59:00Z"}}})
        if waiting and index == 0:
            status.update({"ready": False, "state": {"waiting": {"reason": waiting}}})
        statuses.append(status)
    spec = {"containers": [{"name": c, "image": "app:1"} for c in containers],
            "initContainers": [{"name": c, "image": "init:1"} for c in init]}
    if env:
        spec["containers"][0]["env"] = env
    if node:
        spec["nodeName"] = node
    if claims:
        spec["volumes"] = [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec,
            "status": {"phase": "Running", "containerStatuses": statuses}}


def owner(kind, ns, name, parent=None, conditions=None):
    api = {"ReplicaSet": "apps/v1", "Deployment": "apps/v1", "StatefulSet": "apps/v1", "Job": "batch/v1",
           "CronJob": "batch/v1", "ReplicationController": "v1", "DaemonSet": "apps/v1"}[kind]
    meta = {"name": name, "namespace": ns, "uid": "uid-" + name}
    if parent:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": parent[0], "name": parent[1],
                                    "uid": "uid-" + parent[1], "controller": True}]
    obj = {"kind": kind, "apiVersion": api, "metadata": meta, "spec": {}}
    if conditions:
        obj["status"] = {"conditions": conditions}
    return obj


def event(ns, name, reason, message, kind="Pod", uid=True, last="2026-11-25T19:00:00Z", count=1):
    involved = {"kind": kind, "namespace": ns, "name": name}
    if uid:
        involved["uid"] = "uid-%s-%s" % (ns, name) if kind == "Pod" else "uid-" + name
    return {"kind": "Event", "apiVersion": "v1", "metadata": {"name": "%s.%s" % (name, reason), "namespace": ns},
            "involvedObject": involved, "reason": reason, "message": message, "type": "Warning", "count": count,
            "firstTimestamp": "2026-11-25T18:30:00Z", "lastTimestamp": last}


def node(name):
    return {"kind": "Node", "apiVersion": "v1", "metadata": {"name": name},
            "status": {"conditions": [{"type": "Ready", "status": "True",
                                       "lastHeartbeatTime": "2026-11-25T18:58:00Z"}]}}
