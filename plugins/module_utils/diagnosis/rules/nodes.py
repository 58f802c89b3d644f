# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node trouble, evictions, stuck terminations, deadlines and pod sandboxes.

- Eviction messages: pkg/kubelet/eviction/helpers.go ("The node was low on resource: %v. ",
  "Container %s was using %s, request is %s, has larger consumption of %v. " (1.27+) and older
  "Container %s was using %s, which exceeds its request of %s. ", "The node had condition: %v. ",
  "Pod ephemeral local storage usage exceeds the total limit of containers %s. ",
  "Usage of EmptyDir volume %q exceeds the limit %q. ", "Container %s exceeded its local ephemeral
  storage limit %q. ").
- Node lost: pkg/controller/nodelifecycle ("Node %v which was running pod %v is unresponsive",
  status.reason NodeLost), NodeNotReady events.
- Deadline: pkg/kubelet/active_deadline.go ("Pod was active on the node longer than the specified
  deadline", reason DeadlineExceeded); Job: "Job was active longer than specified deadline".
- Sandbox: pkg/kubelet/kuberuntime/kuberuntime_manager.go (FailedCreatePodSandBox "Failed to create pod
  sandbox: %v"; docker "networkPlugin cni failed to set up pod ..."; containerd "failed to setup network for
  sandbox ...: plugin type=\"calico\" failed (add): ...").
- Graceful node shutdown (pkg/kubelet/nodeshutdown): reason Terminated/Shutdown, "Pod was terminated in
  response to imminent node shutdown." Kubelet admission rejections (OutOfcpu, OutOfmemory, NodeAffinity,
  UnexpectedAdmissionError) leave a Failed pod behind just like an eviction.
"""

from __future__ import annotations

import re

from ansible_collections.aiops.k8s.plugins.module_utils.common.quantity import human_bytes
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import NODE_MISSING
from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.context import (
    clip, as_dict, as_int, as_list, as_str, ev, event_ref, finding, human_duration, parse_ts, total_count,
)

_LOW_ON = re.compile(r"low on resource: \[?([\w-]+)", re.I)
_Q = r"(\d+(?:\.\d+)?[A-Za-z]*)"
_USING_OLD = re.compile(r"Container ([\w.-]+) was using " + _Q + r", which exceeds its request of " + _Q, re.I)
_USING_NEW = re.compile(r"Container ([\w.-]+) was using " + _Q + r", request is " + _Q, re.I)
_CONDITION = re.compile(r"node had condition: \[?([\w, ]+)\]?", re.I)
_EPHEMERAL_TOTAL = re.compile(r"ephemeral local storage usage exceeds the total limit of containers " + _Q, re.I)
_EMPTYDIR = re.compile(r'Usage of EmptyDir volume "([^"]+)" exceeds the limit "([^"]+)"', re.I)
_CONTAINER_EPH = re.compile(r'Container ([\w.-]+) exceeded its local ephemeral storage limit "([^"]+)"', re.I)
_CNI_PLUGIN = re.compile(r'plugin type="([\w-]+)"|networkPlugin (\w+) failed|cni plugin (\w+)', re.I)
_ADMISSION_REASONS = ("OutOfcpu", "OutOfmemory", "OutOfpods", "OutOfephemeral-storage", "UnexpectedAdmissionError",
                      "NodeAffinity", "NodeSelectorMismatching", "PredicateFailed", "InvalidNodeInfo",
                      "OutOfnvidia.com/gpu", "Terminated", "Shutdown", "NodeShutdown")
_CONDITION_RESOURCE = {"MemoryPressure": "memory", "DiskPressure": "disk", "PIDPressure": "pids"}
_STUCK_MARGIN = 120


def node_ready(node):
    """(status, reason, message) of a Node's Ready condition, ("", "", "") when unknown."""
    for cond in as_list(as_dict(as_dict(node).get("status")).get("conditions")):
        cond = as_dict(cond)
        if cond.get("type") == "Ready":
            return as_str(cond.get("status")), as_str(cond.get("reason")), as_str(cond.get("message"))
    return "", "", ""


def _node_name(ctx):
    return as_str(ctx.spec.get("nodeName")) or None


def _node_trouble(ctx):
    """Why the pod's node is gone or not ready, or None."""
    node = _node_name(ctx)
    if not node:
        return None
    if ctx.node_state == NODE_MISSING:
        fresh = _fresh_kubelet_activity(ctx)
        if fresh:
            # A kubelet that reported minutes ago is alive: the node list is what is wrong (filtered,
            # stale or partial), not the node.
            ctx.notes.append({"category": "NodeLost", "summary": "Node %s is absent from the node data, but its "
                              "kubelet reported on this pod %s ago (%s): not treated as lost" % (
                                  node, human_duration(fresh[0]), fresh[1])})
            return None
        return {"node": node, "state": "missing", "detail": "Node %s no longer exists" % node,
                "source": "node %s" % node}
    if ctx.node is not None:
        status, reason, message = node_ready(ctx.node)
        if status in ("False", "Unknown"):
            taints = [as_str(as_dict(t).get("key")) for t in as_list(as_dict(ctx.node.get("spec")).get("taints"))]
            return {"node": node, "state": "not_ready", "ready": status, "reason": reason,
                    "detail": "Node %s Ready=%s (%s: %s)" % (node, status, reason, message),
                    "source": "node %s status.conditions[Ready]" % node, "taints": taints}
    return None


_FRESH_KUBELET = 600


def _fresh_kubelet_activity(ctx):
    """(age seconds, what) of the newest sign a kubelet is reporting on this pod, if within 10 minutes."""
    best = None
    for event in ctx.events:
        component = as_str(event.get("component"))
        if component and component != "kubelet" and not component.startswith("kubelet"):
            continue
        if as_str(event.get("reason")) in ("NodeNotReady", "TaintManagerEviction", "FailedScheduling", "Scheduled"):
            continue
        age = ctx.event_age(event)
        if age is not None and age <= _FRESH_KUBELET and (best is None or age < best[0]):
            best = (age, "event %s" % as_str(event.get("reason")))
    for container in ctx.containers:
        age = ctx.started_age(container)
        if age is not None and age <= _FRESH_KUBELET and (best is None or age < best[0]):
            best = (age, "container %s started" % container.name)
    return best


def check(ctx):
    findings = []
    deletion = ctx.meta.get("deletionTimestamp")
    deadline = ctx.reason == "DeadlineExceeded" or _job_deadline(ctx)
    trouble = _node_trouble(ctx)
    if ctx.reason == "NodeLost" or (trouble and ctx.phase not in ("Succeeded", "Failed")):
        findings.append(_node_lost(ctx, trouble))
    elif deletion and _unreachable_signs(ctx) and _terminating(ctx, deletion):
        # Stuck Terminating because the node stopped answering (node data absent from the evidence).
        findings.append(_node_lost(ctx, None))
    elif deletion and not (deadline and not ctx.meta.get("finalizers")):
        # Pods of a Job past its deadline are deleted by the Job controller: the deadline is the cause.
        stuck = _terminating(ctx, deletion)
        if stuck:
            findings.append(stuck)
    if ctx.reason == "Evicted" or ctx.reason in _ADMISSION_REASONS and ctx.phase == "Failed":
        findings.append(_evicted(ctx))
    if deadline:
        findings.append(_deadline(ctx))
    sandbox = _sandbox(ctx)
    if sandbox:
        findings.append(sandbox)
    if not findings and not trouble:
        not_ready = _node_not_ready_events(ctx)
        if not_ready:
            findings.append(not_ready)
    return findings


def _node_lost(ctx, trouble):
    node = _node_name(ctx) or (trouble or {}).get("node")
    evidence = []
    if ctx.reason == "NodeLost":
        evidence.append(ev("status.reason", "NodeLost: %s" % ctx.message))
    if trouble:
        evidence.append(ev(trouble["source"], trouble["detail"]))
    deletion = ctx.meta.get("deletionTimestamp")
    if deletion:
        evidence.append(ev("metadata.deletionTimestamp", deletion))
    for event in ctx.events_for("NodeNotReady", "TaintManagerEviction")[-2:]:
        evidence.append(ev(event_ref(event, ctx), event.get("message")))
    state = (trouble or {}).get("state", "unresponsive")
    how = {"missing": "was deleted or lost", "not_ready": "is NotReady/unreachable (Ready=%s)" % (
        (trouble or {}).get("ready"))}.get(state, "is unresponsive")
    stuck = "; the pod is stuck Terminating because the kubelet cannot confirm the deletion" if deletion else ""
    root = "Node %s running the pod %s%s" % (node or "?", how, stuck)
    return finding("NodeLost", "Node %s %s" % (node or "?", how), root, 0.9,
                   culprit={"node": node, "node_state": state}, evidence=evidence,
                   facts={"node": node, "terminating": bool(deletion), "node_state": state})


def _unreachable_signs(ctx):
    """Events or conditions saying the node controller gave up on the pod's node."""
    if ctx.events_for("NodeNotReady", "TaintManagerEviction"):
        return True
    target = ctx.condition("DisruptionTarget")
    if as_str(target.get("reason")) in ("DeletionByTaintManager", "TerminationByNodeLifecycle"):
        return True
    return as_str(ctx.condition("Ready").get("status")) == "Unknown"


def _node_not_ready_events(ctx):
    events = ctx.events_for("NodeNotReady")
    ready = ctx.condition("Ready")
    if not events or as_str(ready.get("status")) != "False" or ctx.phase in ("Succeeded", "Failed"):
        return None
    age = ctx.event_age(events[-1])
    if age is not None and age > 1800:
        return None
    node = _node_name(ctx)
    return finding("NodeLost", "Node %s is not ready" % (node or "?"),
                   "The pod's node %s went NotReady; the pod is marked unready by the node controller" % (node or "?"),
                   0.7, culprit={"node": node, "node_state": "not_ready"},
                   evidence=[ev(event_ref(events[-1], ctx), events[-1].get("message")),
                             ev("status.conditions[Ready]", "status=False")],
                   facts={"node": node, "terminating": False, "node_state": "not_ready"})


def _terminating(ctx, deletion):
    when = parse_ts(deletion)
    grace = as_int(ctx.meta.get("deletionGracePeriodSeconds"), None)
    if grace is None:
        grace = as_int(ctx.spec.get("terminationGracePeriodSeconds"), 30) or 30
    if when is None or ctx.as_of is None:
        return None
    try:
        overdue = (ctx.as_of - when).total_seconds() - grace
    except (TypeError, ValueError):
        return None
    if overdue <= _STUCK_MARGIN:
        return None
    finalizers = [as_str(f) for f in as_list(ctx.meta.get("finalizers"))]
    evidence = [ev("metadata.deletionTimestamp", "%s (grace %ss, overdue %s)" % (
        deletion, grace, human_duration(overdue)))]
    if finalizers:
        evidence.append(ev("metadata.finalizers", ", ".join(finalizers)))
        root = "Pod deletion is blocked by finalizer(s) %s for %s past its grace period" % (
            ", ".join(finalizers), human_duration(overdue))
    else:
        running = [c.name for c in ctx.containers if c.running is not None]
        root = "Pod has been terminating for %s past its grace period without finalizers: the kubelet on %s " \
               "has not confirmed the containers stopped%s" % (
                   human_duration(overdue), _node_name(ctx) or "its node",
                   " (still running: %s)" % ", ".join(running) if running else "")
    for event in ctx.events_for("FailedKillPod", "FailedPreStopHook", "FailedUnMount")[-2:]:
        evidence.append(ev(event_ref(event, ctx), event.get("message")))
    return finding("TerminatingStuck", "Pod stuck Terminating for %s%s" % (
        human_duration(overdue), " (finalizers: %s)" % ", ".join(finalizers) if finalizers else ""),
        root, 0.9 if finalizers else 0.75, culprit={"finalizers": finalizers, "node": _node_name(ctx)},
        evidence=evidence, facts={"finalizers": finalizers})


def _human(quantity):
    """``1452628Ki`` -> ``1.4Gi``; small or unparseable values as written (``0`` stays ``0``)."""
    text = as_str(quantity)
    value = human_bytes(text) if text and text not in ("0",) else text
    return as_str(value) or text


def _evicted(ctx):
    message = ctx.message
    for event in ctx.events_for("Evicted")[-1:]:
        if not message:
            message = as_str(event.get("message"))
    culprit = {}
    usage = []
    for match in list(_USING_OLD.finditer(message)) + list(_USING_NEW.finditer(message)):
        usage.append({"container": match.group(1), "usage": match.group(2), "request": match.group(3)})
    low = _LOW_ON.search(message)
    condition = _CONDITION.search(message)
    eph = _EPHEMERAL_TOTAL.search(message)
    emptydir = _EMPTYDIR.search(message)
    cont_eph = _CONTAINER_EPH.search(message)
    resource = None
    if low:
        resource = _CONDITION_RESOURCE.get(low.group(1), low.group(1))
    elif condition:
        first = condition.group(1).split(",")[0].strip()
        resource = _CONDITION_RESOURCE.get(first, first)
    elif eph or emptydir or cont_eph:
        resource = "ephemeral-storage"
    if resource:
        culprit["resource"] = resource
    if usage:
        top = usage[0]
        culprit.update({"container": top["container"], "usage": top["usage"], "request": top["request"]})
        culprit["containers"] = usage
    if emptydir:
        culprit.update({"volume": emptydir.group(1), "limit": emptydir.group(2)})
    if cont_eph:
        culprit.update({"container": cont_eph.group(1), "limit": cont_eph.group(2)})
    if eph:
        culprit["limit"] = eph.group(1)
    category = "Evicted"
    if ctx.reason in _ADMISSION_REASONS:
        root = "The kubelet on %s rejected or stopped the pod (%s): %s" % (
            _node_name(ctx) or "its node", ctx.reason, message or "no message")
        summary = "Pod failed on the node: %s" % ctx.reason
        # Kubelet admission (pkg/kubelet/lifecycle/predicate.go): the node lacked resources or no longer
        # matched the pod's node selector; a dead pod is left behind like an eviction.
        if ctx.reason.startswith("OutOf"):
            category = "UnschedulableInsufficientResources"
            culprit["resource"] = ctx.reason[len("OutOf"):]
        elif ctx.reason in ("NodeAffinity", "NodeSelectorMismatching"):
            category = "UnschedulableNodeAffinity"
    elif eph or emptydir or cont_eph:
        # The pod's own limit, not the node: the kubelet enforces ephemeral-storage limits per pod, per
        # container and per emptyDir even on a node with plenty of disk.
        culprit["scope"] = "pod_limit"
        what = ("emptyDir volume %s grew past its sizeLimit %s" % (emptydir.group(1), _human(emptydir.group(2)))
                if emptydir else "container %s wrote more than its ephemeral-storage limit %s" % (
                    cont_eph.group(1), _human(cont_eph.group(2))) if cont_eph else
                "its containers together wrote more than their ephemeral-storage limits (%s)" % _human(eph.group(1)))
        root = "Evicted by the kubelet on %s because %s: the pod's own limit, not node disk pressure" % (
            _node_name(ctx) or "its node", what)
        summary = "Evicted: ephemeral-storage limit exceeded (pod limit, not node pressure)"
    else:
        root = "Evicted by the kubelet on %s%s%s" % (
            _node_name(ctx) or "its node", " under %s pressure" % resource if resource else "",
            ": container %s was using %s (request %s)" % (
                culprit["container"], _human(culprit.get("usage")), _human(culprit.get("request")))
            if culprit.get("usage") else (": %s" % message.strip() if message else ""))
        summary = "Evicted%s%s" % (" (%s pressure)" % resource if resource else "",
                                   ": %s used %s" % (culprit["container"], _human(culprit["usage"]))
                                   if culprit.get("usage") else "")
    evidence = [ev("status.reason/message", "%s: %s" % (ctx.reason or "Evicted", message))]
    dt = ctx.condition("DisruptionTarget")
    if dt:
        evidence.append(ev("status.conditions[DisruptionTarget]", "%s %s" % (dt.get("reason"), dt.get("message"))))
    return finding(category, summary, root, 0.95 if category == "Evicted" else 0.75, culprit=culprit,
                   evidence=evidence, facts={"usage": usage, "resource": resource, "failed_pod": True})


def _job_owner(ctx):
    for owner in ctx.owners:
        if owner.get("kind") == "Job" and isinstance(owner.get("object"), dict):
            return owner
    return None


def _job_deadline(ctx):
    owner = _job_owner(ctx)
    if not owner:
        return False
    for cond in as_list(as_dict(owner["object"].get("status")).get("conditions")):
        cond = as_dict(cond)
        if cond.get("type") == "Failed" and cond.get("reason") == "DeadlineExceeded" and cond.get("status") == "True":
            return True
    return False


def _deadline(ctx):
    owner = _job_owner(ctx)
    pod_deadline = as_int(ctx.spec.get("activeDeadlineSeconds"))
    job_deadline = as_int(as_dict(owner["object"].get("spec")).get("activeDeadlineSeconds")) if owner else None
    evidence = []
    if ctx.reason == "DeadlineExceeded":
        evidence.append(ev("status.reason/message", "DeadlineExceeded: %s" % ctx.message))
        deadline, what = pod_deadline, "pod spec.activeDeadlineSeconds"
    else:
        deadline, what = job_deadline, "Job %s spec.activeDeadlineSeconds" % owner.get("name")
        evidence.append(ev("Job %s status.conditions[Failed]" % owner.get("name"), "reason=DeadlineExceeded"))
    if deadline is None:
        deadline = pod_deadline if pod_deadline is not None else job_deadline
    text = "%ss (%s)" % (deadline, human_duration(deadline)) if deadline is not None else "an unknown deadline"
    evidence.append(ev(what, str(deadline)))
    return finding("DeadlineExceeded", "Deadline of %s exceeded" % text,
                   "The %s ran longer than its deadline of %s (%s) and was stopped" % (
                       "pod" if ctx.reason == "DeadlineExceeded" else "Job", text, what), 0.95,
                   culprit={"active_deadline_seconds": deadline, "field": what}, evidence=evidence,
                   facts={"deadline": deadline, "job": owner.get("name") if owner else None})


def _sandbox(ctx):
    events = ctx.events_for("FailedCreatePodSandBox")
    # The event itself proves the binding: only the kubelet of the pod's node creates sandboxes (a capture
    # may have lost spec.nodeName and the PodScheduled condition).
    if not events or ctx.meta.get("deletionTimestamp"):
        return None
    for container in ctx.containers:
        if container.running is not None or container.terminated is not None:
            return None      # the sandbox exists now
    if ctx.phase not in ("Pending", ""):
        return None
    last = events[-1]
    message = as_str(last.get("message"))
    low = message.lower()
    plugin = _CNI_PLUGIN.search(message)
    plugin_name = next((g for g in plugin.groups() if g), None) if plugin else None
    if "no ip addresses available" in low or "failed to allocate" in low or "ipam" in low:
        cause = "the CNI has no free IP addresses for the node (IPAM exhausted)"
    elif "pause" in low and ("pull" in low or "image" in low):
        cause = "the pause (sandbox) image cannot be pulled"
    elif "network" in low or "cni" in low or plugin_name:
        cause = "the CNI plugin%s failed to set up the pod network" % (" " + plugin_name if plugin_name else "")
    elif "runtime" in low or "runc" in low or "oci" in low:
        cause = "the container runtime failed to create the sandbox"
    else:
        cause = "the pod sandbox could not be created"
    firsts = [ctx.event_first_age(e) for e in events]
    firsts = [a for a in firsts if a is not None]
    # One failure in the last minute may be a first attempt's hiccup, unless the pod has been waiting for its
    # sandbox longer than that: bound (or created) minutes ago, or the kubelet already re-created the sandbox.
    tentative = bool(firsts) and max(firsts) < 60 and total_count(events) <= 1 and not _sandbox_overdue(ctx)
    return finding("SandboxCreationFailure", "Pod sandbox cannot be created on %s: %s" % (
        _node_name(ctx), cause), "On node %s %s: %s" % (_node_name(ctx), cause, clip(message, 300)), 0.9,
        culprit={"node": _node_name(ctx), "cni_plugin": plugin_name},
        evidence=[ev(event_ref(last, ctx), message)], facts={"node": _node_name(ctx)}, tentative=tentative)


_SANDBOX_GRACE = 120


def _sandbox_overdue(ctx):
    """The pod has been bound to its node for longer than a sandbox takes to create (or it was re-created)."""
    if ctx.events_for("SandboxChanged"):
        return True
    bound = ctx.condition("PodScheduled")
    since = ctx.age_of(bound.get("lastTransitionTime")) if as_str(bound.get("status")) == "True" else None
    if since is None:
        scheduled = ctx.events_for("Scheduled")
        since = ctx.event_age(scheduled[-1]) if scheduled else ctx.age
    return since is not None and since > _SANDBOX_GRACE
