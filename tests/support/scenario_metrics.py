"""metrics.k8s.io objects for scenario clusters: what metrics-server would serve for them.

metrics-server reports, per pod, one sample per container (``usage.cpu`` in nanocores, ``usage.memory``
the working set in Ki) with the sample's ``timestamp`` and ``window``; per node the same for the node.
These builders compute deterministic samples from the pods' own requests and limits, so tests can
assert exact figures:

- a running container uses ``cpu_fraction`` of its CPU request and ``memory_fraction`` of its memory
  request (defaults 30 % and 50 %);
- a container whose last termination was OOMKilled sits at 98.4 % of its memory limit (126Mi of 128Mi);
- ``usage`` overrides any container: ``usage(pod, container) -> (cpu_cores, memory_bytes) or None``;
- a node uses what its pods use plus a fixed system overhead (250m, 600Mi), unless ``node_usage`` names
  it: ``{"node-2": ("3100m", "9Gi")}``.

Pods that are not Running (Pending, Failed, Succeeded) get no PodMetrics, like the real server.
"""

from __future__ import annotations

import datetime
import re

SYSTEM_CPU = 0.25
SYSTEM_MEMORY = 600 * 2 ** 20
OOM_FRACTION = 126.0 / 128.0
WINDOW = "15.01s"


_SUFFIX = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2.0 ** 10, "Mi": 2.0 ** 20,
           "Gi": 2.0 ** 30, "Ti": 2.0 ** 40}


def _quantity(value, default=0.0):
    """A quantity as a float (cores or bytes); test data stays independent of the code under test."""
    if isinstance(value, (int, float)):
        return float(value)
    match = re.match(r"^([0-9.]+)(Ki|Mi|Gi|Ti|n|u|m|k|M|G)?$", str(value or ""))
    if not match:
        return default
    return float(match.group(1)) * _SUFFIX[match.group(2) or ""]


def nanocores(cores):
    return "%dn" % int(round(cores * 1e9))


def kibibytes(num_bytes):
    return "%dKi" % int(round(num_bytes / 1024.0))


def _oom_killed(status):
    last = (status.get("lastState") or {}).get("terminated") or {}
    current = (status.get("state") or {}).get("terminated") or {}
    return "OOMKilled" in (last.get("reason"), current.get("reason"))


def default_usage(pod, container, status, cpu_fraction=0.3, memory_fraction=0.5):
    """(cores, bytes) a container uses by default (see the module docstring)."""
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    cpu = _quantity(requests.get("cpu"), 0.1) * cpu_fraction
    memory = _quantity(requests.get("memory"), 128 * 2 ** 20) * memory_fraction
    if _oom_killed(status) and limits.get("memory"):
        memory = _quantity(limits["memory"]) * OOM_FRACTION
    return cpu, memory


def metrics_for(objects, now=None, usage=None, node_usage=None, cpu_fraction=0.3, memory_fraction=0.5):
    """PodMetrics and NodeMetrics objects (metrics.k8s.io/v1beta1) for the pods and nodes in ``objects``."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    per_node = {}
    out = []
    for obj in objects:
        if obj.get("kind") != "Pod" or (obj.get("status") or {}).get("phase") != "Running":
            continue
        meta, spec = obj["metadata"], obj.get("spec") or {}
        statuses = {s.get("name"): s for s in (obj.get("status") or {}).get("containerStatuses") or []}
        containers = []
        for container in spec.get("containers") or []:
            status = statuses.get(container["name"], {})
            figures = usage(obj, container) if usage else None
            if figures is None:
                figures = default_usage(obj, container, status, cpu_fraction, memory_fraction)
            cpu, memory = _quantity(figures[0]), _quantity(figures[1])
            containers.append({"name": container["name"], "usage": {"cpu": nanocores(cpu), "memory": kibibytes(memory)}})
            node = per_node.setdefault(spec.get("nodeName") or "", [0.0, 0.0])
            node[0] += cpu
            node[1] += memory
        out.append({"kind": "PodMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {"name": meta["name"], "namespace": meta["namespace"], "creationTimestamp": stamp,
                                 "labels": dict(meta.get("labels") or {})},
                    "timestamp": stamp, "window": WINDOW, "containers": containers})
    for obj in objects:
        if obj.get("kind") != "Node":
            continue
        name = obj["metadata"]["name"]
        if node_usage and name in node_usage:
            cpu, memory = (_quantity(v) for v in node_usage[name])
        else:
            used = per_node.get(name, [0.0, 0.0])
            cpu, memory = used[0] + SYSTEM_CPU, used[1] + SYSTEM_MEMORY
        out.append({"kind": "NodeMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {"name": name, "creationTimestamp": stamp,
                                 "labels": dict(obj["metadata"].get("labels") or {})},
                    "timestamp": stamp, "window": "20.05s", "usage": {"cpu": nanocores(cpu), "memory": kibibytes(memory)}})
    return out


def top_pods_text(metrics, containers=False):
    """What ``kubectl top pod -A [--containers]`` prints for these PodMetrics (for dump tests)."""
    if containers:
        rows = [("NAMESPACE", "POD", "NAME", "CPU(cores)", "MEMORY(bytes)")]
    else:
        rows = [("NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)")]
    for item in metrics:
        if item["kind"] != "PodMetrics":
            continue
        meta = item["metadata"]
        figures = [(c["name"], _quantity(c["usage"]["cpu"]), _quantity(c["usage"]["memory"])) for c in item["containers"]]
        if containers:
            rows.extend((meta["namespace"], meta["name"], name, "%dm" % round(cpu * 1000),
                         "%dMi" % round(memory / 2 ** 20)) for name, cpu, memory in figures)
        else:
            rows.append((meta["namespace"], meta["name"], "%dm" % round(sum(f[1] for f in figures) * 1000),
                         "%dMi" % round(sum(f[2] for f in figures) / 2 ** 20)))
    return _columns(rows)


def top_nodes_text(metrics, nodes):
    """What ``kubectl top node`` prints: usage and its share of allocatable."""
    allocatable = {n["metadata"]["name"]: (n.get("status") or {}).get("allocatable") or {} for n in nodes}
    rows = [("NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)")]
    for item in metrics:
        if item["kind"] != "NodeMetrics":
            continue
        name = item["metadata"]["name"]
        cpu, memory = _quantity(item["usage"]["cpu"]), _quantity(item["usage"]["memory"])
        alloc = allocatable.get(name, {})
        rows.append((name, "%dm" % round(cpu * 1000), "%d%%" % round(100 * cpu / _quantity(alloc.get("cpu"), 1)),
                     "%dMi" % round(memory / 2 ** 20),
                     "%d%%" % round(100 * memory / _quantity(alloc.get("memory"), 1))))
    return _columns(rows)


def _columns(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "".join("   ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n"
                   for row in rows)
