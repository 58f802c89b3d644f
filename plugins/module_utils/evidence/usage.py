# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Usage against what was asked for: container working set and CPU vs request/limit, node vs allocatable.

Joins a metrics reading (metrics.py) and, when given, Prometheus peaks (prometheus.py) with the pods and
nodes of the evidence. Every figure is a plain dict with numbers (bytes, cores) and a human string:

    {"usage": 132120576.0, "request": 134217728.0, "limit": 134217728.0, "peak": None,
     "percent_of_limit": 98, "percent_of_request": 98, "text": "126Mi of 128Mi (98%)"}

``text`` compares with the limit when there is one, else with the request ("... of 100m request").
Consumers read these; they never re-parse quantities.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.aiops.k8s.plugins.module_utils.common.quantity import (
    human_bytes,
    human_cpu,
    parse_quantity,
)

RESOURCES = ("cpu", "memory")


_HUMAN = {}


def human(resource, value):
    """human_bytes / human_cpu, memoised: a fleet repeats the same requests and limits thousands of times."""
    if value is None:
        return None
    key = (resource, value)
    text = _HUMAN.get(key)
    if text is None:
        if len(_HUMAN) > 20000:
            _HUMAN.clear()
        text = _HUMAN[key] = human_bytes(value) if resource == "memory" else human_cpu(value)
    return text


def _pct(part, whole):
    """Whole-number percentage of two numbers already parsed (common.quantity.percent re-parses strings)."""
    return int(round(100.0 * part / whole)) if part is not None and whole else None


def figure(resource, used, request=None, limit=None, peak=None, allocatable=None):
    """One usage figure (see module docstring); None when nothing was measured."""
    if used is None and peak is None:
        return None
    worst = max(v for v in (used, peak) if v is not None)
    out = {"usage": used, "usage_human": human(resource, used), "request": request, "limit": limit,
           "peak": peak, "peak_human": human(resource, peak), "percent_of_request": _pct(worst, request),
           "percent_of_limit": _pct(worst, limit)}
    shown = human(resource, used if used is not None else peak)
    if allocatable is not None:
        out["allocatable"] = allocatable
        out["percent_of_allocatable"] = _pct(used, allocatable)
        out["text"] = "%s of %s (%s%%)" % (shown, human(resource, allocatable), out["percent_of_allocatable"])
        return out
    if limit:
        text = "%s of %s (%s%%)" % (shown, human(resource, limit), _pct(used if used is not None else peak, limit))
    elif request:
        share = _pct(used if used is not None else peak, request)
        text = "%s of %s request (%s%%)" % (shown, human(resource, request), share)
    else:
        text = "%s (no request or limit)" % shown
    if peak is not None and used is not None:
        text += ", peak %s" % human(resource, peak)
    out["text"] = text
    return out


_PARSED = {}


def container_resources(container):
    """{"cpu": (request, limit), "memory": (request, limit)} as numbers (None when unset), memoised by value."""
    resources = (container or {}).get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    key = tuple(str(d.get(r)) for d in (requests, limits) for r in RESOURCES)
    if key in _PARSED:
        return _PARSED[key]
    if len(_PARSED) > 5000:
        _PARSED.clear()
    out = _PARSED[key] = {}
    for resource in RESOURCES:
        limit = parse_quantity(limits.get(resource))
        # The API server defaults a missing request to the limit.
        request = parse_quantity(requests.get(resource))
        out[resource] = (request if request is not None else limit, limit)
    return out


def pod_usage(pod, reading, node=None, history=None, node_figures=None, scheduling=None):
    """Usage of one pod (raw Pod dict) and its node (raw Node dict or None); None when unmeasured.

    ``node_figures``: node_usage(node, reading) already computed (usage_for computes it once per node);
    ``scheduling``: capacity.scheduling(...) for a pod pending for lack of cpu/memory (it has no sample)."""
    meta = (pod or {}).get("metadata") or {}
    key = "%s/%s" % (meta.get("namespace") or "", meta.get("name") or "")
    sample = ((reading or {}).get("pods") or {}).get(key)
    peaks = ((history or {}).get("peaks") or {})
    specs = [c for c in ((pod or {}).get("spec") or {}).get("containers") or [] if isinstance(c, dict)]
    containers = []
    for spec in specs:
        name = spec.get("name")
        measured = ((sample or {}).get("containers") or {}).get(name)
        if measured is None and sample and sample.get("total") and len(specs) == 1:
            measured = sample["total"]
        peak = peaks.get("%s/%s" % (key, name)) or {}
        if measured is None and not peak:
            continue
        wanted = container_resources(spec)
        entry = {"name": name}
        for resource in RESOURCES:
            entry[resource] = figure(resource, (measured or {}).get(resource), wanted[resource][0],
                                     wanted[resource][1], peak.get(resource))
        containers.append(entry)
    if node_figures is None and node:
        node_figures = node_usage(node, reading)
    if not containers and node_figures is None and scheduling is None:
        return None
    out = {"namespace": meta.get("namespace") or "", "name": meta.get("name") or "",
           "source": (reading or {}).get("source"), "timestamp": (sample or {}).get("timestamp"),
           "window": (sample or {}).get("window"), "history_window": (history or {}).get("window") if peaks else None,
           "containers": containers, "node": node_figures}
    if scheduling is not None:
        out["scheduling"] = scheduling
    return out


def node_usage(node, reading):
    """Usage of one node (raw Node dict) against its allocatable; None when unmeasured."""
    name = ((node or {}).get("metadata") or {}).get("name")
    sample = ((reading or {}).get("nodes") or {}).get(name)
    if not sample:
        return None
    allocatable = ((node or {}).get("status") or {}).get("allocatable") or {}
    out = {"name": name, "timestamp": sample.get("timestamp"), "window": sample.get("window")}
    for resource in RESOURCES:
        out[resource] = figure(resource, sample.get(resource), allocatable=parse_quantity(allocatable.get(resource)))
    return out


def usage_for(gathered, reading, history=None):
    """{"ns/name": pod_usage} for every pod of a Gathered (evidence.assemble) that has figures.

    ``reading``: metrics.read_live / read_dump; ``history``: prometheus.read_history or None.
    """
    out = {}
    per_node = {}
    for evidence in getattr(gathered, "pods", None) or []:
        name = ((evidence.node or {}).get("metadata") or {}).get("name")
        if name and name not in per_node:
            per_node[name] = node_usage(evidence.node, reading)
        usage = pod_usage(evidence.pod, reading, evidence.node, history, per_node.get(name))
        if usage is not None:
            out["%s/%s" % (usage["namespace"], usage["name"])] = usage
    return out


class LazyUsage(object):
    """``usage_for`` computed per pod on first access: a scan keeps only its failing pods' diagnoses, so
    figures for the healthy 90 % would be computed for nothing. ``get("ns/name")`` / ``[...]`` / ``in``."""

    def __init__(self, gathered, reading, history=None, capacity=None):
        # capacity: evidence.capacity.read_live's nodes and pods, for pods pending on cpu/memory.
        self._reading, self._history, self._capacity = reading, history, capacity
        self._pods = dict(("%s/%s" % (e.namespace, e.name), e) for e in getattr(gathered, "pods", None) or [])
        self._done, self._nodes = {}, {}

    def with_history(self, history):
        """The same pods with Prometheus peaks (prometheus.read_history) joined in; figures not yet computed."""
        lazy = LazyUsage(None, self._reading, history, self._capacity)
        lazy._pods = self._pods
        return lazy

    def get(self, key, default=None):
        if key not in self._done:
            evidence = self._pods.get(key)
            found = None
            if evidence is not None:
                name = ((evidence.node or {}).get("metadata") or {}).get("name")
                if name and name not in self._nodes:
                    self._nodes[name] = node_usage(evidence.node, self._reading)
                room = None
                if self._capacity:
                    # Imported here: capacity builds on this module's helpers.
                    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.capacity import scheduling
                    room = scheduling(evidence.pod, self._capacity, self._reading, self._history)
                found = pod_usage(evidence.pod, self._reading, evidence.node, self._history, self._nodes.get(name),
                                  room)
            self._done[key] = found
        found = self._done[key]
        return default if found is None else found

    def __getitem__(self, key):
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key):
        return self.get(key) is not None

    def __bool__(self):
        return bool(self._pods)

    def as_dict(self):
        """Every pod with figures, as usage_for returns them."""
        return dict((key, self[key]) for key in self._pods if key in self)


def culprit_text(usage, container=None):
    """One line for a diagnosis' culprit: ``catalog memory 504Mi of 512Mi (98%); node node-2 cpu 3.1 of 3.9
    (79%)``; empty when there is nothing to say."""
    if not usage:
        return ""
    parts = []
    for entry in usage.get("containers") or []:
        if container and entry["name"] != container:
            continue
        for resource in RESOURCES:
            if entry.get(resource):
                parts.append("%s %s %s" % (entry["name"], resource, entry[resource]["text"]))
    node = usage.get("node")
    if node:
        for resource in RESOURCES:
            if node.get(resource):
                parts.append("node %s %s %s" % (node["name"], resource, node[resource]["text"]))
    return "; ".join(parts)
