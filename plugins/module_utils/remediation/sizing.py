# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proposals for a pod pending for lack of cpu or memory, from node room and its running siblings' usage.

Reads ``diagnosis.usage.scheduling`` (evidence/capacity.py): per schedulable node allocatable, requested,
free and used; per container the siblings' highest sample and Prometheus peak. The rule
(docs/metrics.md, "Pending pods"):

- basis = the siblings' peak (Prometheus) when known, else their highest sample;
- recommended request = basis x 1.2, rounded up (memory: 64Mi steps below 1Gi, 512Mi up to 8Gi, whole Gi
  above; CPU: 10m steps below 1 core, 100m above) so the headline and the patch show the same quantity;
- the request is over-sized when the recommendation is lower by at least 16Mi / 10m: propose
  ``set_resources`` lowering it (approval gate, tier medium like every set_resources);
- when it is not over-sized, or the lowered pod still fits no node, propose the capacity to add: how many
  nodes shaped like the largest schedulable node (its allocatable minus its DaemonSet requests) the pending
  pods of the controller need.

Pure: the diagnosis in, proposal dicts out (built by the ``make`` callable proposals.py passes).
"""

from __future__ import annotations

import math

from ansible_collections.aiops.k8s.plugins.module_utils.common.quantity import format_memory, parse_quantity
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.usage import human

HEADROOM = 1.2
MIN_SAVING = {"cpu": 0.01, "memory": 16 * 2 ** 20}
_MI, _GI = 2 ** 20, 2 ** 30


def round_request(resource, value):
    """basis x headroom rounded up to a step a person would write (see module docstring)."""
    if resource == "memory":
        step = 64 * _MI if value < _GI else (512 * _MI if value < 8 * _GI else _GI)
        return float(int(math.ceil(value / step)) * step)
    step = 0.01 if value < 1 else 0.1
    return round(math.ceil(round(value / step, 6)) * step, 3)


def quantity(resource, value):
    """The quantity string for the patch: the human text when it reads back exactly (1.5Gi, 250m), else exact."""
    text = human(resource, value)
    if parse_quantity(text) is not None and abs(parse_quantity(text) - value) < 1e-9 * max(value, 1):
        return text
    return format_memory(value) if resource == "memory" else "%dm" % round(value * 1000)


def _basis(figures):
    """(value, words) the sizing starts from: peak, else the highest sample; (None, None) when unmeasured."""
    if figures.get("peak") is not None:
        return figures["peak"], "siblings peak %s" % figures["peak_human"]
    if figures.get("sample_max") is not None:
        return figures["sample_max"], "siblings use %s" % figures["sample_max_human"]
    return None, None


def _fits(nodes, wanted):
    """The first node (most free memory first) with room for ``wanted`` {cpu, memory}; None when none."""
    for node in nodes:
        if all(node[r]["free"] >= (wanted.get(r) or 0.0) for r in ("cpu", "memory")):
            return node
    return None


def _room(nodes, wanted):
    """How many pods of size ``wanted`` the existing free room takes."""
    count = 0
    for node in nodes:
        count += int(min(node[r]["free"] // wanted[r] if wanted.get(r) else 10 ** 6 for r in ("cpu", "memory")))
    return count


def _shape(nodes, resource):
    """The largest schedulable node by allocatable ``resource``: new nodes are assumed to look like it."""
    return max(nodes, key=lambda n: (n[resource]["allocatable"], n["cpu"]["allocatable"], n["name"]))


def _shape_text(node):
    return "%s CPU, %s memory allocatable" % (node["cpu"]["allocatable_human"], node["memory"]["allocatable_human"])


def propose_unschedulable(diagnosis, resource, target_for, make):
    """Proposals for an UnschedulableInsufficientResources diagnosis; [] when usage.scheduling is absent.

    ``target_for(container)``: the workload target; ``make(action, target, params, description, reversible,
    rollback, manual_steps, basis)``: proposals.py's builder.
    """
    room = (diagnosis.get("usage") or {}).get("scheduling")
    if not isinstance(room, dict) or resource not in ("cpu", "memory") or not room.get("nodes"):
        return []
    ns = diagnosis.get("namespace") or ""
    nodes, siblings = room["nodes"], room.get("siblings") or {}
    source = "prometheus" if room.get("history_window") else (room.get("source") or "metrics-server")
    wanted = dict((r, (room["requests"].get(r) or {}).get("value") or 0.0) for r in ("cpu", "memory"))
    lowered, out = dict(wanted), []
    largest = max(nodes, key=lambda n: (n[resource]["free"], n["name"]))
    largest_text = "largest node has %s free" % human(resource, largest[resource]["free"])
    changes = []
    for container in room.get("containers") or []:
        current = container["requests"].get(resource)
        figures = ((siblings.get("containers") or {}).get(container["name"]) or {}).get(resource) or {}
        seen, words = _basis(figures)
        if not current or seen is None:
            continue
        new = round_request(resource, max(seen * HEADROOM, MIN_SAVING[resource]))
        if current - new >= MIN_SAVING[resource]:
            lowered[resource] -= current - new
            changes.append((container, current, new, seen, words))
    fit = _fits(nodes, lowered)
    for container, current, new, seen, words in changes:
        target = target_for(container["name"])
        ref = "%s/%s" % (target["name"], container["name"])
        basis = {"source": source, "figure": seen, "text": "%s over %d running pod(s) of %s%s; %s (%s)" % (
            words, siblings.get("running") or 0, siblings.get("family"),
            " over %s" % room["history_window"] if room.get("history_window") else "", largest_text,
            largest["name"]),
            "node": largest["name"], "node_free": largest[resource]["free"], "pods": siblings.get("names") or []}
        suffix = "" if fit else "; still more than any node has free"
        out.append(make(
            "set_resources", target, {"requests": {resource: quantity(resource, new)},
                                      "previous_requests": {resource: quantity(resource, current)}},
            "Lower %s request of %s from %s to %s (%s; %s%s)" % (
                resource, ref, human(resource, current), human(resource, new), words, largest_text, suffix),
            True, "restore the saved %s spec (previous %s request %s)" % (
                target["kind"], resource, human(resource, current)), None, basis))
    if fit is not None and changes:
        return out
    out.append(_capacity(diagnosis, room, resource, lowered, changes, largest_text, source, target_for, make, ns))
    return out


def _capacity(diagnosis, room, resource, wanted, changes, largest_text, source, target_for, make, ns):
    """The manual proposal saying how many nodes of which size the pending pods of the controller need."""
    nodes, siblings = room["nodes"], room.get("siblings") or {}
    pending = room.get("pending") or 1
    shape = _shape(nodes, resource)
    usable = dict((r, shape[r]["allocatable"] - shape[r].get("daemonsets", 0.0)) for r in ("cpu", "memory"))
    per_node = int(min(usable[r] // wanted[r] if wanted.get(r) else 10 ** 6 for r in ("cpu", "memory")))
    needed = max(pending - _room(nodes, wanted), 0)
    figures = ((siblings.get("containers") or {}).values())
    seen = [_basis(f.get(resource) or {}) for f in figures]
    seen_words = "; ".join(w for _v, w in seen if w) or "no running sibling measured"
    request = human(resource, wanted[resource])
    target = target_for(None)
    basis = {"source": source if any(v is not None for v, _w in seen) else "requests",
             "figure": wanted[resource], "text": "%s pending pod(s) of %s requesting %s %s each; %s; %s (%s)" % (
                 pending, siblings.get("family") or target["name"], request, resource, seen_words, largest_text,
                 max(nodes, key=lambda n: n[resource]["free"])["name"]),
             "node_shape": shape["name"], "pending": pending}
    if per_node < 1:
        title = "Add %d node(s) with at least %s %s allocatable (larger than %s: %s) for the pending pod(s) of %s" % (
            needed or pending, request, resource, shape["name"], _shape_text(shape), target["name"])
        count = needed or pending
    else:
        count = int(math.ceil(needed / float(per_node))) if needed else 0
        title = "Add %d node(s) like %s (%s) for %d pending pod(s) of %s requesting %s %s each" % (
            max(count, 1), shape["name"], _shape_text(shape), pending, target["name"], request, resource)
    if changes:
        title += " (after lowering the request)"
    basis["nodes_to_add"] = max(count, 1)
    steps = ["kubectl describe nodes | grep -A8 'Allocated resources'  # requested vs allocatable per node",
             "Scale the node group that %s belongs to by %d (cloud console, Cluster Autoscaler max size, or "
             "Karpenter NodePool limits)" % (shape["name"], max(count, 1)),
             "kubectl get pods -n %s --field-selector status.phase=Pending  # should drain once the nodes are Ready"
             % ns]
    return make("manual", target, {}, title, True, "remove the added nodes (drain them first)", steps, basis)
