# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pending pods the scheduler could not place.

The scheduler's FitError (pkg/scheduler/framework/types.go) reads
"0/N nodes are available: <count> <reason>, <count> <reason>." and since 1.24 may append
" preemption: 0/N nodes are available: ...". Reason wording comes from the filter plugins
(noderesources/fit.go "Insufficient cpu" / "Too many pods", tainttoleration "node(s) had untolerated
taint {k: v}" (older "had taint {k: v}, that the pod didn't tolerate", 1.30+ "untolerated taint(s)"),
nodeaffinity "node(s) didn't match Pod's node affinity/selector" (older "didn't match node selector"),
volumebinding, interpodaffinity, nodeports, nodeunschedulable, podtopologyspread).
"""

from __future__ import annotations

import re

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.context import (
    as_dict, as_list, as_str, ev, event_ref, finding, newest,
)

_AVAILABLE_RE = re.compile(r"(\d+)/(\d+) nodes are available:?\s*", re.I)
# Before 1.14 the FitError listed predicate names with counts in parentheses:
# "No nodes are available that match all of the following predicates:: Insufficient cpu (2), MatchNodeSelector (3)."
# and, before 1.7, "pod (x) failed to fit in any node\nfit failure summary on nodes : PodToleratesNodeTaints (1)".
_OLD_FIT_RE = re.compile(r"(?:match all of the (?:following )?predicates:*|fit failure summary on nodes\s*:)\s*",
                         re.I)
_OLD_ITEM_RE = re.compile(r"\s*([^,()]+?)\s*\((\d+)\)")
# Node conditions surfaced as taints or predicates: the node is unhealthy; no toleration is the fix.
_NODE_CONDITION = re.compile(r"node\.kubernetes\.io/(?:not-ready|unreachable|memory-pressure|disk-pressure|"
                             r"pid-pressure|network-unavailable|out-of-disk)|CheckNode(?:Memory|Disk|PID)Pressure|"
                             r"CheckNodeCondition|NodeUnderMemoryPressure|NodeUnderDiskPressure|NodeNotReady|"
                             r"NodeOutOfDisk|NodeNetworkUnavailable|node\(s\) were not ready|node\(s\) were out of disk|"
                             r"node\(s\) had (?:memory|disk|pid) pressure", re.I)
# Old predicate names -> what they test.
_PREDICATES = {
    "podfitshostports": "ports", "podfitsports": "ports", "matchnodeselector": "node_affinity",
    "hostname": "node_affinity", "matchinterpodaffinity": "pod_affinity", "checkserviceaffinity": "pod_affinity",
    "podtoleratesnodetaints": "taints", "podtoleratesnodenoexecutetaints": "taints",
    "novolumezoneconflict": "volume", "nodiskconflict": "volume", "maxebsvolumecount": "volume",
    "maxgcepdvolumecount": "volume", "maxazurediskvolumecount": "volume", "checkvolumebinding": "volume",
    "novolumenodeconflict": "volume", "podfitsresources": "resources", "generalpredicates": "other",
}
_SPLIT_RE = re.compile(r",\s*(?=\d+\s)")
_ITEM_RE = re.compile(r"^\s*(\d+)\s+(.*?)\s*\.?\s*$", re.S)
_INSUFFICIENT_RE = re.compile(r"insufficient\s+([\w./-]+)", re.I)
_TAINT_RE = re.compile(r"\{([^}]*)\}")
# Taints that are by design (control plane) or node health (not-ready, unreachable): rarely what must change.
_SYSTEM_TAINT = re.compile(r"node-role\.kubernetes\.io/(?:master|control-plane)|node\.kubernetes\.io/"
                           r"(?:not-ready|unreachable)")
_CORDON_TAINT = "node.kubernetes.io/unschedulable"
_CLAIM_NOT_FOUND = re.compile(r'persistentvolumeclaim "([^"]+)" (?:not found|is being deleted)', re.I)

# kind of reason -> category
KIND_CATEGORY = {
    "resources": "UnschedulableInsufficientResources",
    "node_affinity": "UnschedulableNodeAffinity",
    # Inter-pod (anti-)affinity is about other pods, not node properties: the generic category, like
    # host ports and spread constraints (one category per scheduler filter plugin family).
    "pod_affinity": "Unschedulable",
    "taints": "UnschedulableTaints",
    # Node pressure / not-ready / unreachable arrive as taints: same category, but the node is what to fix.
    "node_condition": "UnschedulableTaints",
    "cordoned": "Unschedulable",
    "volume": "UnschedulableVolume",
    "ports": "Unschedulable",
    "spread": "Unschedulable",
    "other": "Unschedulable",
}
# Which reason "would have to change" when several apply: volumes block every node; then the
# resources the eligible nodes lack; then selectors; taints (control-plane taints are by design) last.
_KIND_ORDER = ("volume", "resources", "node_affinity", "pod_affinity", "taints", "cordoned", "ports", "spread", "other",
               "node_condition")


def reason_kind(text):
    """Classify one reason text of a FitError."""
    low = text.lower()
    if _NODE_CONDITION.search(text):
        return "node_condition"
    if low.strip() in _PREDICATES:
        return _PREDICATES[low.strip()]
    if "volume" in low or "persistentvolumeclaim" in low or "pvc" in low or "persistent volume" in low:
        return "volume"
    if "insufficient" in low or "too many pods" in low or "didn't have enough resource" in low:
        return "resources"
    if "were unschedulable" in low or _CORDON_TAINT in low:
        return "cordoned"
    if "taint" in low or "not ready" in low or "unreachable" in low or \
            "pressure" in low or "out of disk" in low or "network unavailable" in low:
        return "taints"
    if "pod affinity" in low or "anti-affinity" in low or "pod anti" in low or "inter-pod" in low:
        return "pod_affinity"
    if "affinity" in low or "node selector" in low or "nodeselector" in low:
        return "node_affinity"
    if "port" in low:
        return "ports"
    if "topology spread" in low or "spread constraint" in low:
        return "spread"
    return "other"


def parse_fit_error(message):
    """Parse "0/N nodes are available: ..." into {total, available, reasons: [{count, text, kind, ...}]}.

    Returns None when the message has no such clause. The preemption suffix is dropped.
    """
    message = as_str(message)
    match = _AVAILABLE_RE.search(message)
    if not match:
        return _parse_old_fit_error(message)
    body = message[match.end():]
    cut = re.search(r"\.?\s*preemption:", body, re.I)
    if cut:
        body = body[:cut.start()]
    body = " ".join(body.split())
    reasons = []
    for part in _SPLIT_RE.split(body):
        item = _ITEM_RE.match(part)
        if not item:
            if part.strip():
                reasons.append({"count": None, "text": part.strip().rstrip("."), "kind": reason_kind(part)})
            continue
        text = item.group(2).rstrip(".").strip()
        entry = {"count": int(item.group(1)), "text": text, "kind": reason_kind(text)}
        insufficient = _INSUFFICIENT_RE.search(text)
        if insufficient:
            entry["resource"] = insufficient.group(1).rstrip(".,")
        elif "too many pods" in text.lower():
            entry["resource"] = "pods"
        taint = _TAINT_RE.search(text)
        if taint:
            entry["taint"] = taint.group(1).strip()
        reasons.append(entry)
    return {"available": int(match.group(1)), "total": int(match.group(2)), "reasons": reasons}


def _parse_old_fit_error(message):
    """The pre-1.14 predicate list (total node count unknown)."""
    match = _OLD_FIT_RE.search(message)
    if not match:
        return None
    reasons = []
    for item in _OLD_ITEM_RE.finditer(message[match.end():]):
        text = item.group(1).strip().lstrip(",").strip()
        entry = {"count": int(item.group(2)), "text": text, "kind": reason_kind(text)}
        insufficient = _INSUFFICIENT_RE.search(text)
        if insufficient:
            entry["resource"] = insufficient.group(1).rstrip(".,")
        reasons.append(entry)
    return {"available": 0, "total": None, "reasons": reasons} if reasons else None


# Node labels that name a role or one host: a selector on them is a deliberate choice of nodes.
_ROLE_LABEL = re.compile(r"node-role\.kubernetes\.io/(?:master|control-plane)|kubernetes\.io/role|"
                         r"node\.kubernetes\.io/(?:master|controller|control-plane)|"
                         r"kubeadm\.alpha\.kubernetes\.io/role")
_HOST_LABEL = ("kubernetes.io/hostname",)
_ROLE_VALUES = ("master", "control-plane", "controller")
_CONTROL_PLANE_TAINT = re.compile(r"node-role\.kubernetes\.io/(?:master|control-plane)|dedicated\s*[:=]\s*master")


def node_intent(spec):
    """{label key: [values]} the pod selects nodes by (nodeSelector and required nodeAffinity In/Exists terms)."""
    spec = as_dict(spec)
    wanted = {}
    for key, value in as_dict(spec.get("nodeSelector")).items():
        wanted.setdefault(as_str(key), []).append(as_str(value))
    required = as_dict(as_dict(as_dict(spec.get("affinity")).get("nodeAffinity")).get(
        "requiredDuringSchedulingIgnoredDuringExecution"))
    for term in as_list(required.get("nodeSelectorTerms")):
        for expr in as_list(as_dict(term).get("matchExpressions")):
            expr = as_dict(expr)
            if as_str(expr.get("operator")) in ("In", "Exists") and expr.get("key"):
                wanted.setdefault(as_str(expr.get("key")), []).extend(as_str(v) for v in as_list(expr.get("values")))
    return wanted


def _taint_key(reason):
    taint = as_str(reason.get("taint"))
    return taint.split(":", 1)[0].split("=", 1)[0].strip()


def aims_at_taint(reason, intent):
    """True when the pod's own node selection points at the nodes carrying this taint.

    The selector is what the user asked for, so the nodes it excludes are excluded on purpose; when the nodes
    it does select are tainted, the missing toleration is what keeps the pod off them. Evidence of that: the
    selector and the taint share a key (a dedicated pool labelled and tainted alike), the selector pins one
    host by name (the chosen host is then the tainted node), or it picks the control-plane role and the taint
    is the control-plane one or is not named.
    """
    if reason.get("kind") != "taints" or not intent:
        return False
    key = _taint_key(reason)
    if key and key in intent:
        return True
    if any(k in _HOST_LABEL for k in intent):
        return True
    wants_control_plane = any(_ROLE_LABEL.search(k) or any(v.lower() in _ROLE_VALUES for v in values)
                              for k, values in intent.items())
    return wants_control_plane and (not key or _CONTROL_PLANE_TAINT.search(as_str(reason.get("taint"))) is not None)


def _unnamed_taint(reason):
    """A taint reason that does not say which taint (pre-1.14 predicate names, 1.14-1.17 and 1.30+ wordings)."""
    return reason.get("kind") == "taints" and not reason.get("taint")


def _pick(reasons, intent=None):
    """The reason that would have to change, the others become evidence.

    Reasons are read together: a volume blocks every node; the resources that nodes otherwise eligible lack come
    next; a taint on the very nodes the pod's selector aims at comes before the selector (the selector is the
    user's choice, see aims_at_taint); control-plane and node-health taints are by design, and a taint the
    message does not name is, on clusters where other nodes fail for a concrete reason, most often the
    control-plane's default taint: those rank after every other reason.
    """
    def key(reason):
        kind = reason["kind"]
        order = _KIND_ORDER.index(kind) if kind in _KIND_ORDER else len(_KIND_ORDER)
        if kind == "taints" and aims_at_taint(reason, intent):
            order = _KIND_ORDER.index("node_affinity") - 0.5
        elif kind == "taints" and (_SYSTEM_TAINT.search(reason.get("taint") or reason["text"]) or
                                   _unnamed_taint(reason)):
            order = len(_KIND_ORDER) + 1
        return (order, -(reason.get("count") or 0))
    return sorted(reasons, key=key)[0] if reasons else None


def _requests(ctx):
    """Sum of app container requests per resource (strings kept as written)."""
    totals = {}
    for container in ctx.containers:
        if container.role != "app":
            continue
        requests = as_dict(as_dict(container.spec.get("resources")).get("requests"))
        for name, value in requests.items():
            totals.setdefault(name, []).append(as_str(value))
    return {name: "+".join(values) for name, values in totals.items()}


def _pod_claims(ctx):
    claims = []
    for volume in as_list(ctx.spec.get("volumes")):
        claim = as_dict(as_dict(volume).get("persistentVolumeClaim")).get("claimName")
        if claim:
            claims.append(as_str(claim))
    return claims


def check(ctx):
    """Findings for a pod the scheduler could not place (empty for scheduled pods)."""
    if ctx.spec.get("nodeName") or ctx.phase not in ("", "Pending"):
        return []
    if ctx.meta.get("deletionTimestamp"):
        return []
    if any(c.state for c in ctx.containers):
        return []       # the kubelet reported container states: the pod was scheduled (nodeName just missing)
    scheduled = ctx.condition("PodScheduled")
    failed = ctx.events_for("FailedScheduling")
    messages = []
    for event in failed:
        messages.append((event_ref(event, ctx), as_str(event.get("message")), event))
    if scheduled and as_str(scheduled.get("status")) == "False":
        messages.append(("status.conditions[PodScheduled]", as_str(scheduled.get("message")), None))
    if scheduled and as_str(scheduled.get("status")) == "True":
        return []
    if scheduled and as_str(scheduled.get("reason")) == "SchedulingGated":
        return [finding("Unschedulable", "Pod %s is held by scheduling gates" % ctx.name,
                        "The pod has spec.schedulingGates that were never removed", 0.7,
                        culprit={"scheduling_gates": [as_str(as_dict(g).get("name"))
                                                      for g in as_list(ctx.spec.get("schedulingGates"))]},
                        evidence=[ev("status.conditions[PodScheduled]", "reason=SchedulingGated")],
                        severity="medium")]
    if not messages:
        return _silent_pending(ctx)
    # Newest message first: it reflects the cluster now; older ones stay as evidence.
    messages.reverse()
    parsed = None
    source = detail = None
    for src, message, _event in messages:
        candidate = parse_fit_error(message)
        if candidate and candidate["reasons"]:
            parsed, source, detail = candidate, src, message
            break
    if parsed is None:
        return [_unparsed(ctx, messages)]
    intent = node_intent(ctx.spec)
    chosen = _pick(parsed["reasons"], intent)
    category = KIND_CATEGORY.get(chosen["kind"], "Unschedulable")
    total = parsed["total"]
    others = [r for r in parsed["reasons"] if r is not chosen]
    evidence = [ev(source, detail)]
    for other in others:
        evidence.append(ev("scheduler reason (not chosen)", "%s node(s): %s" % (other.get("count"), other["text"])))
    for src, message, _event in messages[1:3]:
        if message != detail:
            evidence.append(ev(src, message))
    culprit = {"nodes_total": total, "reason": chosen["text"], "nodes_affected": chosen.get("count")}
    if others:
        # Every reason of the message, read together: each node failed for one of them (see _pick).
        culprit["reasons"] = [dict((k, r[k]) for k in ("count", "kind", "text", "taint", "resource") if k in r)
                              for r in parsed["reasons"]]
    facts = {"reasons": parsed["reasons"], "requests": _requests(ctx)}
    count_txt = ("%s/%s node(s)" % (chosen.get("count"), total) if total is not None else "%s node(s)" % chosen["count"]) \
        if chosen.get("count") is not None else "nodes"
    if chosen["kind"] == "resources":
        resource = chosen.get("resource") or "resources"
        culprit["resource"] = resource
        requests = _requests(ctx)
        wanted = requests.get(resource)
        if wanted:
            culprit["requested"] = wanted
        if resource == "pods":
            root = "The candidate nodes are at their pod limit (kubelet maxPods) (%s: %s)" % (count_txt, chosen["text"])
        else:
            root = "No node has enough free %s for the pod's requests%s (%s: %s)" % (
                resource, " (%s requested)" % wanted if wanted else "", count_txt, chosen["text"])
        summary = "Pending: insufficient %s on %s" % (resource, count_txt)
        node_fact = _allocatable_compare(ctx, resource, wanted)
        if node_fact:
            evidence.append(node_fact)
    elif chosen["kind"] == "node_condition":
        taint = chosen.get("taint")
        culprit["taint"] = taint
        culprit["node_condition"] = True
        down = "unreachable" in chosen["text"] or "not-ready" in chosen["text"] or "not ready" in chosen["text"]
        root = "%s %s: %s; this is node health, not a taint anyone set: %s" % (
            count_txt, "are down (NotReady/unreachable)" if down else "report a node condition (pressure)",
            chosen["text"], "bring the node(s) back (kubelet, network, power) or replace them" if down else
            "free memory/disk/PIDs on them (evictions, image garbage collection) or add nodes")
        summary = "Pending: %s" % ("nodes down" if down else "node pressure (%s)" % chosen["text"])
    elif chosen["kind"] == "taints" and others and aims_at_taint(chosen, intent):
        taint = chosen.get("taint")
        culprit["taint"] = taint
        # Same shape as the node-affinity culprit (label -> value; alternatives joined by "|").
        culprit["node_selector"] = dict((key, "|".join(v for v in values if v)) for key, values in intent.items())
        root = ("The pod's node selection (%s) aims it at the node(s) carrying the taint %s, and the pod does not "
                "tolerate it (%s: %s): add a toleration for that taint; the nodes outside the selection are "
                "excluded on purpose" % (
                    _intent_text(intent), "{%s}" % taint if taint else "(not named in the message)",
                    count_txt, chosen["text"]))
        summary = "Pending: selected node(s) carry an untolerated taint %s" % (
            "{%s}" % taint if taint else chosen["text"])
    elif chosen["kind"] == "taints":
        taint = chosen.get("taint")
        culprit["taint"] = taint
        root = "The pod does not tolerate the taint %s on %s" % (
            "{%s}" % taint if taint else "of the nodes (%s)" % chosen["text"], count_txt)
        summary = "Pending: untolerated taint %s" % ("{%s}" % taint if taint else chosen["text"])
    elif chosen["kind"] in ("node_affinity", "pod_affinity"):
        selector = ctx.spec.get("nodeSelector")
        if selector:
            culprit["node_selector"] = selector
        root = "No node matches the pod's %s (%s: %s)" % (
            "pod (anti-)affinity rules" if chosen["kind"] == "pod_affinity" else "node selector/affinity",
            count_txt, chosen["text"])
        summary = "Pending: %s" % chosen["text"]
    elif chosen["kind"] == "volume":
        claims = _pod_claims(ctx)
        culprit["claims"] = claims
        root = "Volume constraint: %s (%s)%s" % (chosen["text"], count_txt, _claim_states(ctx, claims))
        summary = "Pending: %s" % chosen["text"]
    elif chosen["kind"] == "cordoned":
        root = "The nodes that could run the pod are cordoned (%s: %s); uncordon them or add capacity" % (
            count_txt, chosen["text"])
        summary = "Pending: nodes cordoned"
    else:
        root = "The scheduler found no node: %s (%s)" % (chosen["text"], count_txt)
        summary = "Pending: %s" % chosen["text"]
    if others:
        # Every node failed for some reason: the pod fits only where all of them are fixed, so say them all.
        root += "; the other nodes: %s" % "; ".join(
            "%s %s" % (o.get("count") if o.get("count") is not None else "", _other_text(o)) for o in others)
    return [finding(category, summary, root, 0.9 if len(parsed["reasons"]) == 1 else 0.8,
                    culprit=culprit, evidence=evidence, facts=facts)]


def _intent_text(intent):
    return ", ".join("%s=%s" % (key, "|".join(v for v in values if v) or "*") for key, values in sorted(intent.items()))


def _other_text(reason):
    text = reason["text"]
    if reason["kind"] == "taints" and _SYSTEM_TAINT.search(reason.get("taint") or text):
        return "%s (control-plane or node-health taint, normally left as is)" % text
    if _unnamed_taint(reason):
        return "%s (the taint is not named; usually the control-plane's own taint)" % text
    if reason["kind"] == "node_condition":
        return "%s (node health)" % text
    return text


def _claim_states(ctx, claims):
    parts = []
    for claim in claims:
        obj = ctx.evidence.claims.get(claim) if isinstance(getattr(ctx.evidence, "claims", None), dict) else None
        if claim in (getattr(ctx.evidence, "claims", None) or {}) and obj is None:
            parts.append('PVC "%s" does not exist' % claim)
        elif isinstance(obj, dict):
            phase = as_str(as_dict(obj.get("status")).get("phase"))
            sc = as_str(as_dict(obj.get("spec")).get("storageClassName"))
            parts.append('PVC "%s" is %s%s' % (claim, phase or "in unknown phase",
                                               " (storageClass %s)" % sc if sc else ""))
        else:
            # Named by the pod spec, its object not read: still the claim to look at.
            parts.append('PVC "%s" (its state was not captured)' % claim)
    return "; " + "; ".join(parts) if parts else ""


def _allocatable_compare(ctx, resource, wanted):
    node = ctx.node
    if not node or not wanted:
        return None
    alloc = as_dict(as_dict(node.get("status")).get("allocatable")).get(resource)
    if alloc is None:
        return None
    return ev("node %s status.allocatable.%s" % (as_str(as_dict(node.get("metadata")).get("name")), resource),
              "allocatable %s vs requested %s" % (alloc, wanted))


def _unparsed(ctx, messages):
    """FailedScheduling messages without a FitError clause (older wordings, volume binding errors)."""
    src, message = messages[0][0], messages[0][1]
    low = message.lower()
    evidence = [ev(src, message)]
    claim = _CLAIM_NOT_FOUND.search(message)
    if claim or "unbound" in low or "persistentvolumeclaim" in low or "volumebinding" in low or "volume" in low:
        claims = [claim.group(1)] if claim else _pod_claims(ctx)
        return finding("UnschedulableVolume", "Pending: %s" % message[:120],
                       "Volume constraint: %s%s" % (message, _claim_states(ctx, claims)), 0.85,
                       culprit={"claims": claims}, evidence=evidence)
    if "no nodes available" in low or "0/0 nodes" in low:
        return finding("Unschedulable", "Pending: the cluster has no schedulable nodes",
                       "No nodes are available to schedule pods: %s" % message, 0.8, evidence=evidence)
    kind = reason_kind(message)
    category = KIND_CATEGORY.get(kind, "Unschedulable") if kind != "other" else "Unschedulable"
    return finding(category, "Pending: %s" % message[:120], "The scheduler cannot place the pod: %s" % message,
                   0.6, evidence=evidence)


# Reasons only a kubelet reports: a pod with one of them was bound to a node even when the capture (or a
# describe pasted without its Node: line) shows no spec.nodeName.
_KUBELET_REASONS = ("Pulling", "Pulled", "Failed", "BackOff", "InspectFailed", "ErrImageNeverPull", "Created",
                    "Started", "Killing", "Unhealthy", "FailedMount", "FailedCreatePodSandBox", "SandboxChanged",
                    "FailedSync", "FailedKillPod", "FailedPostStartHook", "FailedPreStopHook", "NetworkNotReady")


def _silent_pending(ctx):
    """Pending, unscheduled and no scheduler word at all."""
    if ctx.events_for(*_KUBELET_REASONS):
        return []       # a kubelet acted on the pod: it was scheduled, another family says why it is Pending
    scheduler = as_str(ctx.spec.get("schedulerName"))
    if ctx.age is not None and ctx.age > 300:
        if scheduler and scheduler != "default-scheduler":
            return [finding("Unschedulable", "Pending for %ds: no scheduler named %s answered" % (ctx.age, scheduler),
                            "spec.schedulerName is %s and no scheduler by that name bound the pod" % scheduler,
                            0.6, culprit={"scheduler_name": scheduler},
                            evidence=[ev("spec.schedulerName", scheduler)])]
        return [finding("Unschedulable", "Pending for %ds without being scheduled" % int(ctx.age),
                        "The pod was never scheduled and the scheduler's events have expired", 0.4,
                        evidence=[ev("status.phase", "Pending, no spec.nodeName")], severity="medium")]
    return []


def latest_fit_message(ctx):
    """The newest FailedScheduling message (used by other families for context)."""
    event = newest(ctx.events_for("FailedScheduling"))
    return as_str(event.get("message")) if event else ""
