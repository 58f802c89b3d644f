"""Write objects and logs in the layout of ``kubectl cluster-info dump --all-namespaces --output-directory DIR``.

What kubectl writes (staging/src/k8s.io/kubectl/pkg/cmd/clusterinfo/clusterinfo_dump.go):
  DIR/nodes.json                                  a NodeList
  DIR/<ns>/{events,replicationcontrollers,services,daemonsets,deployments,replicasets,pods}.json
                                                  one List per kind, for every namespace, even empty
  DIR/<ns>/<pod>/logs.txt                         current log of every init and app container between
                                                  "==== START logs for container C of pod NS/P ====" and
                                                  "==== END logs for container C of pod NS/P ====";
                                                  a failed log request is written as "Request log error: ..."
Lists are printed by kubectl's JSON printer: 4-space indent, ``kind``/``apiVersion``/``metadata``/``items``,
and items without kind/apiVersion (the server does not send them).

Our bundle extension (what the collection's collect_bundle playbook also writes):
  DIR/<ns>/<pod>/<container>.log and <container>.previous.log   current and previous-container logs
  DIR/<ns>/{statefulsets,jobs,cronjobs,persistentvolumeclaims,configmaps,resourcequotas}.json
                                                  extra kinds, only when the namespace has any
ConfigMaps are written without their data (existence is all the diagnosis needs); Secrets never.
  DIR/metrics/{pod-metrics,node-metrics}.json      PodMetrics / NodeMetrics lists, when ``objects`` has any
  DIR/metrics/top-pods.txt, top-nodes.txt          the same as ``kubectl top`` text (``top_text=True``)
"""

from __future__ import annotations

import json
import os

DUMP_KINDS = (("events", "v1", "Event", "EventList"),
              ("replicationcontrollers", "v1", "ReplicationController", "ReplicationControllerList"),
              ("services", "v1", "Service", "ServiceList"),
              ("daemonsets", "apps/v1", "DaemonSet", "DaemonSetList"),
              ("deployments", "apps/v1", "Deployment", "DeploymentList"),
              ("replicasets", "apps/v1", "ReplicaSet", "ReplicaSetList"),
              ("pods", "v1", "Pod", "PodList"))
EXTRA_KINDS = (("statefulsets", "apps/v1", "StatefulSet", "StatefulSetList"),
               ("jobs", "batch/v1", "Job", "JobList"),
               ("cronjobs", "batch/v1", "CronJob", "CronJobList"),
               ("persistentvolumeclaims", "v1", "PersistentVolumeClaim", "PersistentVolumeClaimList"),
               ("configmaps", "v1", "ConfigMap", "ConfigMapList"),
               ("resourcequotas", "v1", "ResourceQuota", "ResourceQuotaList"))
START = "==== START logs for container %s of pod %s/%s ====\n"
END = "==== END logs for container %s of pod %s/%s ====\n"


def _item(obj):
    item = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    if obj.get("kind") == "ConfigMap":
        item.pop("data", None)
        item.pop("binaryData", None)
    return item


def _write_list(path, api_version, list_kind, objects, resource_version):
    document = {"kind": list_kind, "apiVersion": api_version, "metadata": {"resourceVersion": resource_version},
                "items": [_item(o) for o in sorted(objects, key=lambda o: o["metadata"]["name"])]}
    with open(path, "w") as handle:
        json.dump(document, handle, indent=4)
        handle.write("\n")


def current_log(pod, container, logs):
    """What ``kubectl logs`` returns for a container: (text, None) or (None, error message).

    Mirrors the kubelet: without a current log it serves the last terminated container's log.
    """
    meta = pod["metadata"]
    ns, name = meta["namespace"], meta["name"]
    text = logs.get((ns, name, container, False))
    if text is not None:
        return text, None
    status = pod.get("status") or {}
    item = next((c for c in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
                 if c.get("name") == container), {})
    state = item.get("state") or {}
    if "running" in state:
        return "", None
    if "terminated" in state or (item.get("lastState") or {}).get("terminated"):
        return logs.get((ns, name, container, True), ""), None
    if "waiting" in state:
        reason = state["waiting"].get("reason") or "ContainerCreating"
        detail = {"ErrImagePull": "image can't be pulled",
                  "ImagePullBackOff": "trying and failing to pull image"}.get(reason, reason)
        return None, 'container "%s" in pod "%s" is waiting to start: %s' % (container, name, detail)
    return "", None


def write_dump(directory, objects, logs=None, resource_version="4242", top_text=False):
    """Write ``objects`` and ``logs`` ({(ns, pod, container, previous): text}) as a cluster-info dump.

    Returns the list of files written (relative paths, sorted).
    """
    logs = logs or {}
    written = []
    os.makedirs(directory, exist_ok=True)
    by_kind = {}
    namespaces = set()
    for obj in objects:
        kind = obj.get("kind")
        ns = (obj.get("metadata") or {}).get("namespace")
        by_kind.setdefault((kind, ns), []).append(obj)
        if kind == "Namespace":
            namespaces.add(obj["metadata"]["name"])
        elif ns:
            namespaces.add(ns)
    nodes = by_kind.get(("Node", None), [])
    _write_list(os.path.join(directory, "nodes.json"), "v1", "NodeList", nodes, resource_version)
    written.append("nodes.json")
    for ns in sorted(namespaces):
        ns_dir = os.path.join(directory, ns)
        os.makedirs(ns_dir, exist_ok=True)
        for plural, api_version, kind, list_kind in DUMP_KINDS:
            _write_list(os.path.join(ns_dir, plural + ".json"), api_version, list_kind, by_kind.get((kind, ns), []),
                        resource_version)
            written.append("%s/%s.json" % (ns, plural))
        for plural, api_version, kind, list_kind in EXTRA_KINDS:
            if by_kind.get((kind, ns)):
                _write_list(os.path.join(ns_dir, plural + ".json"), api_version, list_kind, by_kind[(kind, ns)],
                            resource_version)
                written.append("%s/%s.json" % (ns, plural))
        for pod in sorted(by_kind.get(("Pod", ns), []), key=lambda p: p["metadata"]["name"]):
            written.extend(_write_pod_logs(directory, pod, logs))
    written.extend(_write_metrics(directory, objects, nodes, resource_version, top_text))
    return sorted(written)


def _write_metrics(directory, objects, nodes, resource_version, top_text):
    from tests.support import scenario_metrics
    samples = [o for o in objects if o.get("kind") in ("PodMetrics", "NodeMetrics")]
    if not samples:
        return []
    folder = os.path.join(directory, "metrics")
    os.makedirs(folder, exist_ok=True)
    written = []
    for name, kind in (("pod-metrics.json", "PodMetrics"), ("node-metrics.json", "NodeMetrics")):
        _write_list(os.path.join(folder, name), "metrics.k8s.io/v1beta1", kind + "List",
                    [o for o in samples if o["kind"] == kind], resource_version)
        written.append("metrics/" + name)
    if top_text:
        _write_text(os.path.join(folder, "top-pods.txt"), scenario_metrics.top_pods_text(samples, containers=True))
        _write_text(os.path.join(folder, "top-nodes.txt"), scenario_metrics.top_nodes_text(samples, nodes))
        written.extend(["metrics/top-pods.txt", "metrics/top-nodes.txt"])
    return written


def _write_pod_logs(directory, pod, logs):
    meta = pod["metadata"]
    ns, name = meta["namespace"], meta["name"]
    pod_dir = os.path.join(directory, ns, name)
    os.makedirs(pod_dir, exist_ok=True)
    spec = pod.get("spec") or {}
    written = []
    chunks = []
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        cname = container["name"]
        chunks.append(START % (cname, ns, name))
        text, error = current_log(pod, cname, logs)
        if error:
            chunks.append("Request log error: %s\n" % error)
        else:
            chunks.append(text)
            if logs.get((ns, name, cname, False)) is not None or text:
                _write_text(os.path.join(pod_dir, cname + ".log"), text)
                written.append("%s/%s/%s.log" % (ns, name, cname))
        chunks.append(END % (cname, ns, name))
        previous = logs.get((ns, name, cname, True))
        if previous is not None:
            _write_text(os.path.join(pod_dir, cname + ".previous.log"), previous)
            written.append("%s/%s/%s.previous.log" % (ns, name, cname))
    _write_text(os.path.join(pod_dir, "logs.txt"), "".join(chunks))
    written.append("%s/%s/logs.txt" % (ns, name))
    return written


def _write_text(path, text):
    with open(path, "w") as handle:
        handle.write(text)
