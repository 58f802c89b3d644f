# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The target's usage, restarts and readiness at one moment: before a change (the plan) and after it.

The plan takes one snapshot (``pre_metrics``) and every validation checkpoint takes another of the same
shape, so the PHR shows them side by side. Usage comes from metrics-server (evidence/metrics.py) and is
only read when the diagnosis carried usage (the operator opted in with ``metrics``); a refused metrics
API is a note in the snapshot, never a failed plan or validation. Pods are those of the workload the fix
changes (its pods are replaced by the fix), else the diagnosed pod.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.module_utils.common.kinds import PATCHABLE_WORKLOADS, resource_path
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat
from ansible_collections.aiops.k8s.plugins.module_utils.evidence import metrics as metrics_source
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.usage import node_usage, pod_usage

__all__ = ["snapshot"]


def _ready(pod):
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def _restarts(pod):
    return sum(s.get("restartCount") or 0 for s in (pod.get("status") or {}).get("containerStatuses") or []
               if isinstance(s.get("restartCount"), int))


def _pods(cluster, plan):
    """The pods to look at: the workload's (matched by its selector), else the diagnosed pod."""
    target = plan.get("target") or {}
    owner = plan.get("owner") or {}
    namespace = target.get("namespace") or plan.get("namespace")
    kind, name = target.get("kind"), target.get("name")
    if kind not in PATCHABLE_WORKLOADS and owner.get("kind") in PATCHABLE_WORKLOADS:
        kind, name = owner.get("kind"), owner.get("name")
    if kind in PATCHABLE_WORKLOADS and name:
        workload = cluster.get(resource_path(kind, name, namespace))
        labels = (((workload or {}).get("spec") or {}).get("selector") or {}).get("matchLabels")
        if labels:
            return cluster.list(resource_path("Pod", namespace=namespace), labels)
    if plan.get("pod") and namespace:
        pod = cluster.get(resource_path("Pod", plan["pod"], namespace))
        return [pod] if pod else []
    return []


def _worst(entries, container, resource):
    """The text of the highest figure of ``container`` over the pods (the one that OOMs first)."""
    best = None
    for entry in entries:
        for item in entry.get("containers") or []:
            figure = item.get(resource)
            if figure and (container is None or item.get("name") == container) and figure.get("usage") is not None:
                if best is None or figure["usage"] > best["usage"]:
                    best = figure
    return best["text"] if best else None


def snapshot(cluster, plan, now, read_metrics=True):
    """{at, pods, ready, restarts, memory, cpu, node, source, per_pod, problems} of the plan's target now."""
    out = {"at": isoformat(now), "pods": 0, "ready": 0, "restarts": 0, "memory": None, "cpu": None, "node": None,
           "source": None, "per_pod": [], "problems": []}
    try:
        pods = [p for p in _pods(cluster, plan) if isinstance(p, dict)]
    except AiopsError as exc:
        out["problems"].append("cannot read the target's pods: %s" % exc)
        return out
    out["pods"] = len(pods)
    out["ready"] = sum(1 for p in pods if _ready(p))
    out["restarts"] = sum(_restarts(p) for p in pods)
    reading = None
    if read_metrics and pods:
        namespace = (pods[0].get("metadata") or {}).get("namespace")
        nodes = set((p.get("spec") or {}).get("nodeName") for p in pods) - {None, ""}
        if len(pods) == 1:
            reading = metrics_source.read_live(cluster.transport, pod=(namespace, pods[0]["metadata"].get("name")),
                                               nodes=nodes)
        else:
            reading = metrics_source.read_live(cluster.transport, namespaces=[namespace], nodes=nodes)
        out["problems"].extend(reading["problems"])
        out["source"] = reading["source"] if reading["pods"] or reading["nodes"] else None
    figures = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        entry = {"name": meta.get("name"), "ready": _ready(pod), "restarts": _restarts(pod), "containers": {}}
        if reading is not None:
            node_name = (pod.get("spec") or {}).get("nodeName")
            node = cluster.get(resource_path("Node", node_name)) if node_name and out["node"] is None else None
            if node is not None:
                found = node_usage(node, reading)
                if found:
                    out["node"] = "%s: %s" % (found["name"], ", ".join(
                        "%s %s" % (r, found[r]["text"]) for r in ("cpu", "memory") if found.get(r)))
            usage = pod_usage(pod, reading)
            if usage:
                figures.append(usage)
                for item in usage["containers"]:
                    entry["containers"][item["name"]] = dict(
                        (r, item[r]["text"]) for r in ("cpu", "memory") if item.get(r))
        out["per_pod"].append(entry)
    container = ((plan.get("target") or {}).get("container") or
                 (plan.get("diagnosis") or {}).get("container"))
    out["memory"] = _worst(figures, container, "memory")
    out["cpu"] = _worst(figures, container, "cpu")
    return out
