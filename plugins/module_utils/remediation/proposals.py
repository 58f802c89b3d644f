# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remediation proposals for a diagnosis: what could fix it, on which object, at which risk tier.

Proposals never guess: an image is only changed to one the owner chain shows was used before, a
memory limit is computed from the old limit and the observed usage, and anything else becomes a
`manual` proposal whose steps (remediation/steps.py) say exactly what a human must do. Tiers come from
remediation/policy.py, the same rule the plan and the executor apply. Computed from the diagnosis alone
(its container, facts and subject), so a saved diagnosis gives the same proposals.
"""

from __future__ import annotations

import math

from ansible_collections.aiops.k8s.plugins.module_utils.common.kinds import api_version
from ansible_collections.aiops.k8s.plugins.module_utils.common.quantity import format_memory, parse_quantity
from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import HEALTHY
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.policy import derive_tier
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.sizing import propose_unschedulable
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.steps import (
    admission_title, crash_steps, crash_title, deadline_title, evicted_steps, evicted_title, image_manual_title,
    image_steps, oom_title, probe_failure, probe_title, sandbox_title, schedule_steps, schedule_title, volume_steps,
    volume_title,
)

_MI = 1024 ** 2
_GI = 1024 ** 3


def new_memory_limit(old_limit, observed=None, factor=1.5):
    """The raised limit: old +50%, at least the observed usage, rounded up (64Mi steps below 1Gi, 256Mi above).

    Returns None when neither an old limit nor an observed usage is known.
    """
    old = parse_quantity(old_limit) if old_limit else None
    seen = parse_quantity(observed) if observed else None
    candidates = []
    if old:
        candidates.append(old * factor)
    if seen:
        candidates.append(seen * 1.2)
    if not candidates:
        return None
    wanted = max(candidates)
    step = 64 * _MI if wanted < _GI else 256 * _MI
    return format_memory(int(math.ceil(wanted / step)) * step)


# Sizing from usage (docs/metrics.md "How proposals should use usage").
USAGE_LIMIT_FACTOR = 1.4   # 20 % headroom twice: a metrics-server sample may sit below the real peak
USAGE_LIMIT_FLOOR = 1.25   # a raise is never smaller than a quarter of the current limit
USAGE_REQUEST_FACTOR = 1.2


def _container_usage(diagnosis, container):
    """The container's figures from the diagnosis' ``usage`` (runner joins it; never re-parsed here)."""
    usage = diagnosis.get("usage")
    if not isinstance(usage, dict):
        return {}
    for entry in usage.get("containers") or []:
        if isinstance(entry, dict) and entry.get("name") == container:
            return entry
    return {}


def _hms(timestamp):
    """``2026-11-25T19:00:00Z`` -> ``19:00:00Z`` (the basis line is read by a human next to the figure)."""
    text = str(timestamp or "")
    return text.split("T", 1)[1] if "T" in text else text


def usage_basis(diagnosis, container, resource="memory"):
    """(bytes or cores, basis dict) the sizing starts from: the Prometheus peak, else the sample, else (None, ...).

    The basis dict names the figure so a reader of the proposal knows what it was computed from.
    """
    figure = _container_usage(diagnosis, container).get(resource) or {}
    usage = diagnosis.get("usage") or {}
    if figure.get("peak"):
        window = usage.get("history_window")
        text = "peak %s%s from Prometheus" % (figure.get("peak_human"), " over %s" % window if window else "")
        return figure["peak"], {"source": "prometheus", "figure": figure["peak"], "text": text}
    if figure.get("usage"):
        when = _hms(usage.get("timestamp"))
        text = "sample %s%s" % (figure.get("usage_human"), " at %s" % when if when else "")
        return figure["usage"], {"source": usage.get("source") or "metrics-server", "figure": figure["usage"],
                                 "text": text}
    return None, {"source": None, "figure": None, "text": "no usage: +50 %"}


def memory_limit_from_usage(old_limit, basis):
    """basis x 1.4 rounded up to whole Mi, never below the current limit x 1.25 (docs/metrics.md)."""
    old = parse_quantity(old_limit) if old_limit else None
    wanted = basis * USAGE_LIMIT_FACTOR
    if old:
        wanted = max(wanted, old * USAGE_LIMIT_FLOOR)
    return format_memory(int(math.ceil(wanted / _MI)) * _MI)


def _largest_allocatable(diagnosis, resource):
    node = (diagnosis.get("usage") or {}).get("node") or {}
    return ((node.get(resource) or {}).get("allocatable")) or None


# --- targets -------------------------------------------------------------------------------------

def _subject(diagnosis):
    subject = diagnosis.get("subject")
    return subject if isinstance(subject, dict) else {}


def _owners(diagnosis):
    return [o for o in (_subject(diagnosis).get("owners") or []) if isinstance(o, dict)]


def _pod_facts(diagnosis):
    """What the tier rules need about the diagnosed pod, from the diagnosis' subject."""
    pod = _subject(diagnosis).get("pod") or {}
    owners = _owners(diagnosis)
    return {"phase": pod.get("phase"), "reason": pod.get("reason"), "static": bool(pod.get("static")),
            "owner_kind": owners[0].get("kind") if owners else None}


def workload_target(diagnosis, container=None):
    """The object a fix changes: the top controller (a ReplicaSet's Deployment), else the diagnosed object."""
    owners = _owners(diagnosis)
    namespace = diagnosis.get("namespace")
    if owners:
        top = owners[-1]
        kind = str(top.get("kind") or "")
        target = {"api_version": top.get("api_version") or api_version(kind), "kind": kind,
                  "namespace": namespace, "name": top.get("name")}
    else:
        kind = diagnosis.get("kind") or "Pod"
        target = {"api_version": api_version(kind), "kind": kind, "namespace": namespace, "name": diagnosis.get("name")}
    if container:
        target["container"] = container
    return target


def pod_target(namespace, name):
    return {"api_version": "v1", "kind": "Pod", "namespace": namespace, "name": name}


# --- building ------------------------------------------------------------------------------------

def _proposal(action, target, params, tier, description, reversible, rollback, manual_steps=None, basis=None):
    """``basis``: the figure a size was computed from ({source, figure, text}), None when no size is proposed."""
    return {"action": action, "target": target, "params": params, "risk_tier": tier,
            "description": description, "reversible": reversible, "rollback": rollback,
            "manual_steps": manual_steps or [], "basis": basis}


def _manual(target, description, steps):
    return _proposal("manual", target, {}, None, description, True, "undo the manual change", steps)


def _undo(ns, undo):
    target = {"api_version": "apps/v1", "kind": undo["kind"], "namespace": ns, "name": undo["name"]}
    return _proposal("rollout_undo", target, {"from_revision": undo["revision"]},
                     None,
                     "Roll %s %s/%s back from revision %s to the previous revision (the failure started with it)"
                     % (undo["kind"], ns, undo["name"], undo["revision"]), True,
                     "kubectl rollout undo %s/%s -n %s again (returns to revision %s)" % (
                         undo["kind"].lower(), undo["name"], ns, undo["revision"]))


def _ref(target):
    return "%s/%s" % ((target.get("kind") or "pod").lower(), target.get("name"))


def propose(diagnosis):
    """Proposals for one diagnosis, from the diagnosis alone (category, culprit, container, facts, subject)."""
    if not isinstance(diagnosis, dict) or diagnosis.get("category") in (None, HEALTHY):
        return []
    try:
        out = _propose(diagnosis["category"], diagnosis, diagnosis)
        facts = _pod_facts(diagnosis)
        for proposal in out:
            # The one tier rule (remediation/policy.py): the same function the plan and the executor use.
            proposal["risk_tier"] = derive_tier(proposal["action"], proposal["target"], proposal["params"], facts)[0]
        return out
    except Exception:  # pylint: disable=broad-except
        # A proposal must never cost the diagnosis; an odd object yields no proposal.
        return []


def _propose(category, result, diagnosis):
    ns = diagnosis.get("namespace") or ""
    name = diagnosis.get("name") or ""
    container = result.get("container") if result else None
    facts = (result or {}).get("facts") or {}
    culprit = (result or {}).get("culprit") or {}
    owners = _owners(diagnosis)
    owner_kind = owners[-1].get("kind") if owners else None
    target = workload_target(diagnosis, container)
    tref = _ref(target)
    is_pod_diag = diagnosis.get("kind") == "Pod"
    undo = _subject(diagnosis).get("rollout_undo") if is_pod_diag else None
    out = []

    def add_undo():
        if undo:
            out.append(_undo(ns, undo))

    if category == "OOMKilled":
        limit = facts.get("memory_limit")
        seen, basis = usage_basis(diagnosis, container)
        new = memory_limit_from_usage(limit, seen) if seen else new_memory_limit(limit)
        if new and limit:
            proposal = _proposal(
                "set_memory_limit", target, {"memory_limit": new, "previous_memory_limit": limit},
                None,
                "Raise the memory limit of container %s in %s %s/%s from %s to %s (basis: %s)" % (
                    container, target["kind"], ns, target["name"], limit, new, basis["text"]),
                True, "restore the saved %s spec (previous limit %s)" % (target["kind"], limit), basis=basis)
            out.append(proposal)
        else:
            out.append(_manual(target, oom_title(diagnosis, container, tref), [
                "kubectl top pod %s -n %s --containers  # observe the real usage" % (name, ns),
                "kubectl set resources %s -n %s -c %s --requests=memory=<usage> --limits=memory=<usage*1.5>" % (
                    tref, ns, container)]))
        if facts.get("signature") == "java_oom":
            out.append(_manual(target, "Check the JVM heap settings of container %s" % container, [
                "Size -Xmx (or -XX:MaxRAMPercentage) below the container memory limit, leaving room for "
                "non-heap memory", "kubectl set env %s -n %s -c %s JAVA_TOOL_OPTIONS='-XX:MaxRAMPercentage=75'"
                % (tref, ns, container)]))
        add_undo()
    elif category == "Evicted":
        out.append(_proposal("delete_pod", pod_target(ns, name), {},
                             None,
                             "Delete the evicted pod %s/%s (its controller already replaced it)" % (ns, name)
                             if owner_kind else "Delete the evicted pod %s/%s" % (ns, name),
                             False, "not needed: the pod is already dead; its status is kept in the record"))
        if culprit.get("resource") == "memory" and culprit.get("container") and culprit.get("usage") and owner_kind:
            seen, basis = usage_basis(diagnosis, culprit.get("container"))
            if seen:
                # request = usage x 1.2 (docs/metrics.md)
                new = format_memory(int(math.ceil(seen * USAGE_REQUEST_FACTOR / _MI)) * _MI)
            else:
                new = new_memory_limit(None, culprit.get("usage"), 1.0)
                basis = {"source": "eviction message", "figure": culprit.get("usage"),
                         "text": "usage %s from the eviction message" % culprit.get("usage")}
            cap = _largest_allocatable(diagnosis, "memory")
            if cap and new and parse_quantity(new) > cap:
                # a request above the node's allocatable could never be scheduled there
                new = format_memory(int(cap // _MI) * _MI)
                basis["text"] += ", capped at node allocatable %s" % new
            target_c = workload_target(diagnosis, culprit.get("container"))
            proposal = _proposal(
                "set_resources", target_c, {"requests": {"memory": new},
                                            "previous_requests": {"memory": culprit.get("request")}},
                None,
                "Raise the memory request of container %s in %s %s/%s from %s to %s (basis: %s)" % (
                    culprit.get("container"), target_c["kind"], ns, target_c["name"], culprit.get("request"),
                    new, basis["text"]),
                True, "restore the saved %s spec" % target_c["kind"], basis=basis)
            out.append(proposal)
        else:
            # Deleting the dead pod is clean-up; what keeps the next one from being evicted is this.
            out.append(_manual(target, evicted_title(culprit, diagnosis), evicted_steps(culprit, tref, ns)))
    elif category == "DeadlineExceeded":
        if is_pod_diag:
            out.append(_proposal("delete_pod", pod_target(ns, name), {},
                                 None,
                                 "Delete the failed pod %s/%s" % (ns, name), False,
                                 "not needed: the pod already failed"))
        out.append(_manual(target, deadline_title(culprit, facts, tref), [
            "kubectl get %s -n %s -o jsonpath='{.spec.activeDeadlineSeconds}'" % (tref, ns),
            "Edit the %s spec.activeDeadlineSeconds (currently %s) and re-run the job" % (
                target["kind"], culprit.get("active_deadline_seconds"))]))
    elif category == "TerminatingStuck":
        finalizers = facts.get("finalizers") or []
        pod = pod_target(ns, name)
        if finalizers:
            out.append(_proposal("remove_finalizers", pod, {"finalizers": finalizers}, None,
                                 "Remove finalizer(s) %s from pod %s/%s so the deletion completes" % (
                                     ", ".join(finalizers), ns, name),
                                 False, "cannot be undone: the pod is deleted once its finalizers are gone; "
                                        "the controller that owns the finalizer must clean up by hand"))
        else:
            out.append(_proposal("delete_pod", pod, {"force": True, "grace_period_seconds": 0}, None,
                                 "Force-delete pod %s/%s (the kubelet never confirmed the stop)" % (ns, name),
                                 False, "cannot be undone; its controller creates a replacement"))
    elif category == "NodeLost":
        node = culprit.get("node")
        if node:
            out.append(_proposal("cordon_node", {"api_version": "v1", "kind": "Node", "namespace": None,
                                                 "name": node}, {}, None,
                                 "Cordon node %s so nothing new is scheduled on it" % node, True,
                                 "kubectl uncordon %s" % node))
        if owner_kind:
            out.append(_proposal("delete_pod", pod_target(ns, name), {"force": True, "grace_period_seconds": 0},
                                 None,
                                 "Force-delete pod %s/%s stuck on lost node %s so %s %s recreates it elsewhere" % (
                                     ns, name, node, owner_kind, owners[-1].get("name")),
                                 False, "cannot be undone; the %s creates a replacement pod" % owner_kind))
    elif category == "ImagePullBackOff" or category == "InvalidImageName":
        image = facts.get("image") or culprit.get("image")
        cause = facts.get("cause")
        prev = (_subject(diagnosis).get("previous_images") or {}).get(container) if container else None
        if prev:
            out.append(_proposal("set_image", target, {"image": prev, "previous_image": image},
                                 None,
                                 "Set container %s of %s %s/%s back to image %s (last applied) from %s" % (
                                     container, target["kind"], ns, target["name"], prev, image),
                                 True, "set the image back to %s" % image))
        add_undo()
        steps = image_steps(cause, image, container, tref, ns, culprit)
        out.append(_manual(target, image_manual_title(cause, image, culprit.get("invalid_reason")), steps))
    elif category == "CreateContainerConfigError":
        missing = facts.get("missing") or culprit
        kind, obj = missing.get("kind"), missing.get("name")
        steps = []
        if kind == "ConfigMap" and obj:
            steps = ["kubectl get configmap %s -n %s" % (obj, ns),
                     "kubectl create configmap %s -n %s --from-literal=%s=<value>" % (
                         obj, ns, missing.get("key") or "<key>") if missing.get("missing") != "key" else
                     "kubectl edit configmap %s -n %s  # add key %s" % (obj, ns, missing.get("key"))]
        elif kind == "Secret" and obj:
            steps = ["kubectl get secret %s -n %s" % (obj, ns),
                     "kubectl create secret generic %s -n %s --from-literal=%s=<value>" % (
                         obj, ns, missing.get("key") or "<key>") if missing.get("missing") != "key" else
                     "kubectl patch secret %s -n %s --type merge -p '{\"stringData\":{\"%s\":\"<value>\"}}'" % (
                         obj, ns, missing.get("key"))]
        else:
            steps = ["kubectl describe pod %s -n %s  # read the CreateContainerConfigError message" % (name, ns),
                     "Fix the referenced field in %s %s/%s" % (target["kind"], ns, target["name"])]
        steps.append("Or, if the reference is wrong, fix it in %s %s/%s (env/envFrom/volumes)" % (
            target["kind"], ns, target["name"]))
        key_text = " key %s" % missing.get("key") if missing.get("key") else ""
        out.append(_manual(target, "Provide %s %s%s" % (kind or "the missing object", obj or "", key_text), steps))
        add_undo()
    elif category in ("CrashLoopBackOff", "ContainerExitError", "RunContainerError", "CreateContainerError",
                      "InitContainerFailure"):
        if category == "CreateContainerError" and facts.get("conflict") and owner_kind:
            out.append(_proposal("delete_pod", pod_target(ns, name), {},
                                 None,
                                 "Delete pod %s/%s so the stale container name is released" % (ns, name),
                                 False, "cannot be undone; the controller recreates the pod"))
        add_undo()
        owner = "%s %s" % (owners[-1].get("kind"), owners[-1].get("name")) if owners else None
        out.append(_manual(target, crash_title(category, result, container, owner), crash_steps(
            category, result, name, ns, container, tref)))
    elif category in ("LivenessProbeFailure", "ReadinessProbeFailure", "StartupProbeFailure"):
        add_undo()
        probe_kind = facts.get("probe") or category.replace("ProbeFailure", "").lower()
        out.append(_manual(target, probe_title(probe_kind, container, culprit.get("target"),
                                               probe_failure(result, probe_kind), tref), [
            "kubectl describe pod %s -n %s  # Unhealthy events show the probe error" % (name, ns),
            "kubectl exec %s -n %s%s -- <probe command or curl of %s>" % (
                name, ns, " -c %s" % container if container else "", culprit.get("target") or "the probe"),
            "If the app is just slow: raise %sProbe initialDelaySeconds/timeoutSeconds/failureThreshold in %s %s/%s"
            % (probe_kind, target["kind"], ns, target["name"])]))
    elif category.startswith("Unschedulable"):
        if facts.get("failed_pod"):
            out.append(_proposal("delete_pod", pod_target(ns, name), {},
                                 None,
                                 "Delete the failed pod %s/%s rejected by its node" % (ns, name), False,
                                 "not needed: the pod already failed"))
        if category == "UnschedulableInsufficientResources":
            # From node room and the running siblings' usage (remediation/sizing.py); [] without usage.
            out.extend(propose_unschedulable(
                diagnosis, culprit.get("resource"), lambda c: workload_target(diagnosis, c),
                lambda action, tgt, params, text, reversible, rollback, steps, basis: _proposal(
                    action, tgt, params, None, text, reversible, rollback, steps, basis)))
        out.append(_manual(target, schedule_title(category, culprit, facts, tref, diagnosis),
                           schedule_steps(category, culprit, name, ns, tref)))
    elif category == "VolumeMountFailure":
        out.append(_manual(target, volume_title(culprit, facts, result), volume_steps(culprit, name, ns)))
    elif category == "SandboxCreationFailure":
        if owner_kind:
            out.append(_proposal("delete_pod", pod_target(ns, name), {},
                                 None,
                                 "Delete pod %s/%s so it is recreated (maybe on a healthy node)" % (ns, name),
                                 False, "cannot be undone; the controller recreates the pod"))
        node = culprit.get("node")
        out.append(_manual(target, sandbox_title(result, node, name), [
            "kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=%s  # CNI pods healthy?" % node
            if node else "kubectl get pod %s -n %s -o wide  # the node it was placed on" % (name, ns),
            "kubectl describe node %s" % (node or "<node>"),
            "On the node: journalctl -u kubelet -u containerd --since -30m | grep -i sandbox"]))
    elif category == "QuotaExceeded":
        quota = culprit.get("quota")
        out.append(_manual(target, "Make room in ResourceQuota %s or shrink the pod template" % quota, [
            "kubectl describe resourcequota %s -n %s" % (quota, ns),
            "Raise spec.hard for %s in ResourceQuota %s/%s, or lower the requests/limits in %s %s/%s, or free "
            "quota by scaling down other workloads" % (
                ", ".join(culprit.get("resources") or []) or culprit.get("must_specify") or "the resource",
                ns, quota, target["kind"], ns, target["name"])]))
    elif category == "PodCreationForbidden":
        steps = ["kubectl describe %s -n %s  # read the FailedCreate event" % (tref, ns)]
        if culprit.get("service_account"):
            steps.append("kubectl create serviceaccount %s -n %s" % (culprit["service_account"], ns))
        elif culprit.get("policy") == "PodSecurity":
            steps.append("Change the pod template securityContext to satisfy %s: %s" % (
                culprit.get("level"), culprit.get("violations", "")[:200]))
            steps.append("kubectl get ns %s --show-labels  # pod-security.kubernetes.io/enforce" % ns)
        elif culprit.get("webhook"):
            steps.append("Check the policy of admission webhook %s (kubectl get validatingwebhookconfigurations)"
                         % culprit["webhook"])
        else:
            steps.append("Change the pod template of %s %s/%s so admission accepts it" % (
                target["kind"], ns, target["name"]))
        out.append(_manual(target, admission_title(culprit, tref), steps))
    return out
