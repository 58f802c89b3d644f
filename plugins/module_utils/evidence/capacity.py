# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a pod that cannot be scheduled for lack of CPU or memory could be given: node room and sibling usage.

A pending pod that never ran has no usage sample of its own. What is knowable instead (docs/metrics.md,
"Pending pods: requests from node room and sibling usage"):

- per schedulable node: allocatable, the requests already placed on it (every non-terminated pod bound to
  it), what is free for scheduling (allocatable - requested) and, when metrics-server serves, what it uses;
- the running siblings of the pod (same controller; for a Deployment also the pods of its other
  ReplicaSets, named ``<deployment>-<pod-template-hash>``): their PodMetrics samples and, with Prometheus,
  their peaks, per container;
- how many pods of the same controller are pending.

``read_live`` gathers the raw objects (one node LIST and one non-terminated pod LIST, only when some pod
needs it); ``scheduling`` is pure and builds the ``usage.scheduling`` dict the proposals read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError, Unauthorized
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.usage import RESOURCES, container_resources, human

FINISHED = ("Succeeded", "Failed")
_NO_SCHEDULE = ("NoSchedule", "NoExecute")


def needs_capacity(pod):
    """True for a pod the scheduler refused for lack of cpu or memory (PodScheduled=False, "Insufficient ...")."""
    status = (pod or {}).get("status") or {}
    if status.get("phase") != "Pending" or ((pod.get("spec") or {}).get("nodeName")):
        return False
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "PodScheduled" \
                and condition.get("status") == "False":
            message = str(condition.get("message") or "")
            return "Insufficient cpu" in message or "Insufficient memory" in message
    return False


def read_live(transport, pods, nodes=None, page_size=500, cluster_pods=None):
    """{"nodes": [...], "pods": [...]} for ``scheduling``, or (None, note) when it could not be read.

    ``nodes``: Node objects already listed (a scan's full node LIST); ``cluster_pods``: every pod of the
    cluster when the caller already has them (an unfiltered cluster scan). Otherwise one LIST each.
    Only called when some pod in ``pods`` needs_capacity: a healthy scan pays nothing.
    """
    if not any(needs_capacity(p) for p in pods or ()):
        return None, None
    try:
        if not nodes:
            nodes = list(transport.list_items("/api/v1/nodes", None, page_size=page_size))
        if cluster_pods is None:
            query = {"fieldSelector": "status.phase!=Succeeded,status.phase!=Failed"}
            cluster_pods = list(transport.list_items("/api/v1/pods", query, page_size=page_size))
    except Unauthorized:
        raise
    except AiopsError as exc:
        return None, ("cannot read nodes and pods for the free room of each node: %s; the Unschedulable proposal "
                      "falls back to manual steps" % exc)
    return {"nodes": list(nodes), "pods": [p for p in cluster_pods
                                           if ((p.get("status") or {}).get("phase") not in FINISHED)]}, None


def pod_requests(pod):
    """{"cpu", "memory"} the scheduler counts for a pod: max(sum of app containers, largest init container)."""
    spec = (pod or {}).get("spec") or {}
    app = [container_resources(c) for c in spec.get("containers") or () if isinstance(c, dict)]
    init = [container_resources(c) for c in spec.get("initContainers") or () if isinstance(c, dict)]
    out = {}
    for resource in RESOURCES:
        total = 0.0
        for figures in app:
            total += figures[resource][0] or 0.0
        for figures in init:
            total = max(total, figures[resource][0] or 0.0)
        out[resource] = total
    return out


def _tolerated(taint, tolerations):
    for tol in tolerations:
        if not isinstance(tol, dict):
            continue
        if tol.get("effect") and tol.get("effect") != taint.get("effect"):
            continue
        if not tol.get("key") and tol.get("operator") == "Exists":
            return True
        if tol.get("key") == taint.get("key") and (
                tol.get("operator") == "Exists" or str(tol.get("value") or "") == str(taint.get("value") or "")):
            return True
    return False


def excluded(node, pod):
    """Why ``pod`` could never go to ``node`` whatever its size (cordoned, not Ready, taint, selector), or None."""
    spec, status = (node.get("spec") or {}), (node.get("status") or {})
    if spec.get("unschedulable"):
        return "cordoned"
    ready = next((c for c in status.get("conditions") or [] if isinstance(c, dict) and c.get("type") == "Ready"), None)
    if ready is not None and ready.get("status") != "True":
        return "not Ready"
    tolerations = ((pod.get("spec") or {}).get("tolerations")) or []
    for taint in spec.get("taints") or []:
        if isinstance(taint, dict) and taint.get("effect") in _NO_SCHEDULE and not _tolerated(taint, tolerations):
            return "taint %s:%s" % (taint.get("key"), taint.get("effect"))
    labels = ((node.get("metadata") or {}).get("labels")) or {}
    for key, value in (((pod.get("spec") or {}).get("nodeSelector")) or {}).items():
        if labels.get(key) != value:
            return "nodeSelector %s=%s" % (key, value)
    return None


def _controller(pod):
    meta = (pod or {}).get("metadata") or {}
    ref = next((r for r in meta.get("ownerReferences") or [] if isinstance(r, dict) and r.get("controller")), None)
    return (meta.get("namespace"), ref.get("kind"), ref.get("name")) if ref else None


def _family(pod):
    """Sibling key: the controller, or for a ReplicaSet named <deployment>-<pod-template-hash> the Deployment."""
    owner = _controller(pod)
    if owner is None:
        return None
    ns, kind, name = owner
    template_hash = (((pod.get("metadata") or {}).get("labels")) or {}).get("pod-template-hash")
    if kind == "ReplicaSet" and template_hash and str(name).endswith("-" + template_hash):
        return (ns, "Deployment", str(name)[:-len(template_hash) - 1])
    return owner


def _figures(resource, value):
    return {"value": value, "human": human(resource, value)}


def _node_room(node, placed, reading):
    meta, status = node.get("metadata") or {}, node.get("status") or {}
    name = meta.get("name")
    allocatable = container_resources({"resources": {"requests": status.get("allocatable") or {}}})
    sample = ((reading or {}).get("nodes") or {}).get(name) or {}
    out = {"name": name}
    for resource in RESOURCES:
        alloc = allocatable[resource][0] or 0.0
        requested = placed.get(name, {}).get(resource, 0.0)
        out[resource] = {"allocatable": alloc, "requested": requested, "free": max(alloc - requested, 0.0),
                         "used": sample.get(resource), "daemonsets": placed.get(name, {}).get("ds_" + resource, 0.0)}
        for key in ("allocatable", "requested", "free", "used"):
            out[resource][key + "_human"] = human(resource, out[resource][key])
    return out


def _sibling_usage(pod, running, reading, history):
    """Per container of ``pod``: the highest sample and the highest Prometheus peak over the running siblings."""
    peaks = (history or {}).get("peaks") or {}
    samples = (reading or {}).get("pods") or {}
    out = {}
    for spec in ((pod.get("spec") or {}).get("containers")) or []:
        if not isinstance(spec, dict):
            continue
        entry = {}
        for resource in RESOURCES:
            seen, top, measured = None, None, 0
            for sibling in running:
                meta = sibling.get("metadata") or {}
                key = "%s/%s" % (meta.get("namespace"), meta.get("name"))
                figure = (((samples.get(key) or {}).get("containers")) or {}).get(spec.get("name")) or {}
                if figure.get(resource) is not None:
                    measured += 1
                    seen = max(seen or 0.0, figure[resource])
                peak = (peaks.get("%s/%s" % (key, spec.get("name"))) or {}).get(resource)
                if peak is not None:
                    top = max(top or 0.0, peak)
            entry[resource] = {"sample_max": seen, "sample_max_human": human(resource, seen), "peak": top,
                               "peak_human": human(resource, top), "pods_measured": measured}
        out[spec.get("name")] = entry
    return out


def _index(capacity):
    """(requests placed per node, {family: running pods and pending count per controller}), built once per
    capacity read: a scan with many pending pods walks the cluster's pods once, not once per pending pod."""
    if "_index" in capacity:
        return capacity["_index"]
    placed, families = {}, {}
    for other in capacity.get("pods") or []:
        spec, phase = other.get("spec") or {}, (other.get("status") or {}).get("phase")
        node = spec.get("nodeName")
        if node and phase not in FINISHED:
            slot = placed.setdefault(node, {})
            wanted = pod_requests(other)
            is_ds = any(isinstance(r, dict) and r.get("kind") == "DaemonSet" and r.get("controller")
                        for r in (other.get("metadata") or {}).get("ownerReferences") or ())
            for resource in RESOURCES:
                slot[resource] = slot.get(resource, 0.0) + wanted[resource]
                if is_ds:
                    slot["ds_" + resource] = slot.get("ds_" + resource, 0.0) + wanted[resource]
        family = _family(other)
        if family is None:
            continue
        group = families.setdefault(family, {"running": [], "pending": {}})
        if phase == "Running":
            group["running"].append(other)
        elif needs_capacity(other):
            owner = _controller(other)
            group["pending"][owner] = group["pending"].get(owner, 0) + 1
    capacity["_index"] = (placed, families)
    return capacity["_index"]


def scheduling(pod, capacity, reading=None, history=None):
    """The ``usage.scheduling`` dict for one pending pod (see module docstring); None without capacity data."""
    if not capacity or not needs_capacity(pod):
        return None
    family = _family(pod)
    placed, families = _index(capacity)
    group = families.get(family) or {"running": [], "pending": {}}
    running, pending = group["running"], group["pending"].get(_controller(pod), 0)
    nodes, skipped = [], []
    rooms = capacity.setdefault("_rooms", {})  # the same for every pending pod of one read
    for node in capacity.get("nodes") or []:
        name = (node.get("metadata") or {}).get("name")
        reason = excluded(node, pod)
        if reason:
            skipped.append({"name": name, "reason": reason})
        else:
            if name not in rooms:
                rooms[name] = _node_room(node, placed, reading)
            nodes.append(rooms[name])
    nodes.sort(key=lambda n: (-n["memory"]["free"], -n["cpu"]["free"], n["name"]))
    requests = pod_requests(pod)
    return {"requests": dict((r, _figures(r, requests[r])) for r in RESOURCES),
            "containers": [{"name": c.get("name"), "requests": dict(
                (r, container_resources(c)[r][0]) for r in RESOURCES)}
                for c in ((pod.get("spec") or {}).get("containers")) or [] if isinstance(c, dict)],
            "nodes": nodes, "excluded_nodes": skipped, "pending": max(pending, 1),
            "siblings": {"running": len(running),
                         "names": sorted((s.get("metadata") or {}).get("name") for s in running)[:10],
                         "family": "%s/%s" % family[1:] if family else None,
                         "containers": _sibling_usage(pod, running, reading, history)},
            "source": (reading or {}).get("source"),
            "history_window": (history or {}).get("window") if (history or {}).get("peaks") else None}
