# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remediation proposals for a diagnosis: what could fix it, on which object, at which risk tier.

Proposals never guess: an image is only changed to one the owner chain shows was used before, a
memory limit is computed from the old limit and the observed usage, and anything else becomes a
`manual` proposal whose steps say exactly what a human must do. The tier rules are the table
below (documented in docs/classifier.md); `apply_tier_policy` may only raise a tier.
"""

from __future__ import annotations

import fnmatch
import math
import re

from ansible_collections.aiops.k8s.plugins.module_utils.common.kinds import api_version
from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import HEALTHY, RISK_TIERS, max_tier, tier_rank

# (action, situation, tier). The first row that matches wins; see risk_tier().
TIER_TABLE = (
    ("any", "target is a bare Pod (nothing recreates it), except deleting an already failed pod", "critical"),
    ("any", "changes a StatefulSet's storage (volumeClaimTemplates, PVCs)", "critical"),
    ("remove_finalizers", "any target", "critical"),
    ("cordon_node", "any node", "critical"),
    ("delete_pod", "force delete of a StatefulSet pod on a lost node (two writers risk)", "critical"),
    ("delete_pod", "force delete of another controller's pod on a lost node", "medium"),
    ("delete_pod", "evicted or failed (completed) pod", "trivial"),
    ("delete_pod", "running or pending pod owned by a controller (it is recreated)", "low"),
    ("rollout_restart", "Deployment or DaemonSet", "low"),
    ("rollout_restart", "StatefulSet (ordered, one pod at a time)", "medium"),
    ("rollout_undo", "any workload", "medium"),
    ("set_memory_limit", "any workload", "medium"),
    ("set_resources", "any workload", "medium"),
    ("set_image", "any workload", "medium"),
    ("scale", "any workload", "medium"),
    ("manual", "a human performs the steps; the tier is what the steps change", "medium"),
)

_UNITS = {"Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "Ti": 1024 ** 4, "Pi": 1024 ** 5, "Ei": 1024 ** 6,
          "k": 1000, "K": 1000, "M": 1000 ** 2, "G": 1000 ** 3, "T": 1000 ** 4, "P": 1000 ** 5, "E": 1000 ** 6,
          "m": 0.001, "": 1}
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m)?\s*$")
_MI = 1024 ** 2
_GI = 1024 ** 3


def parse_quantity(value):
    """Bytes (float) of a Kubernetes quantity like 256Mi, 1G, 1.5Gi, 134217728; None when unparseable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value)
    if not match:
        return None
    try:
        return float(match.group(1)) * _UNITS[match.group(2) or ""]
    except (ValueError, OverflowError):
        return None


def format_memory(num_bytes):
    """Bytes to the binary unit people write: whole Gi when exact, else Mi."""
    num_bytes = int(num_bytes)
    if num_bytes % _GI == 0:
        return "%dGi" % (num_bytes // _GI)
    return "%dMi" % int(math.ceil(num_bytes / float(_MI)))


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


def risk_tier(action, target_kind, failed_pod=False, force=False, storage=False, owner_kind=None):
    """Tier of an action by TIER_TABLE."""
    if target_kind == "Pod" and not owner_kind and not (action == "delete_pod" and failed_pod) and action != "manual":
        return "critical"
    if storage or action in ("remove_finalizers", "cordon_node"):
        return "critical"
    if action == "delete_pod":
        if force:
            return "critical" if owner_kind == "StatefulSet" else "medium"
        return "trivial" if failed_pod else "low"
    if action == "rollout_restart":
        return "medium" if target_kind == "StatefulSet" else "low"
    return "medium"


def apply_tier_policy(proposal, namespace, rules):
    """Raise (never lower) a proposal's tier by namespace policy.

    rules: a dict {namespace_glob: min_tier} or a list of {"namespaces": glob or [globs], "min_tier": tier}.
    Returns a new proposal dict; unknown tiers in rules are treated as critical (fail safe).
    """
    result = dict(proposal or {})
    tier = result.get("risk_tier") if result.get("risk_tier") in RISK_TIERS else "critical"
    items = []
    if isinstance(rules, dict):
        items = list(rules.items())
    elif isinstance(rules, (list, tuple)):
        for rule in rules:
            if not isinstance(rule, dict):
                continue
            patterns = rule.get("namespaces", rule.get("namespace", "*"))
            if isinstance(patterns, str):
                patterns = [patterns]
            for pattern in patterns or []:
                items.append((pattern, rule.get("min_tier", rule.get("tier"))))
    reasons = []
    for pattern, minimum in items:
        if isinstance(pattern, str) and fnmatch.fnmatchcase(namespace or "", pattern):
            raised = max_tier(tier, minimum if minimum in RISK_TIERS else "critical")
            if tier_rank(raised) > tier_rank(tier):
                reasons.append("namespace %s matches %s: at least %s" % (namespace, pattern, raised))
            tier = raised
    result["risk_tier"] = tier
    if reasons:
        result["tier_policy"] = reasons
    return result


# --- targets -------------------------------------------------------------------------------------

def _subject(diagnosis):
    subject = diagnosis.get("subject")
    return subject if isinstance(subject, dict) else {}


def _owners(diagnosis):
    return [o for o in (_subject(diagnosis).get("owners") or []) if isinstance(o, dict)]


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

def _proposal(action, target, params, tier, description, reversible, rollback, manual_steps=None):
    return {"action": action, "target": target, "params": params, "risk_tier": tier,
            "description": description, "reversible": reversible, "rollback": rollback,
            "manual_steps": manual_steps or []}


def _manual(target, description, steps, tier="medium"):
    return _proposal("manual", target, {}, tier, description, True, "undo the manual change", steps)


def _undo(ns, undo):
    target = {"api_version": "apps/v1", "kind": undo["kind"], "namespace": ns, "name": undo["name"]}
    return _proposal("rollout_undo", target, {"from_revision": undo["revision"]},
                     risk_tier("rollout_undo", undo["kind"], owner_kind=undo["kind"]),
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
        return _propose(diagnosis["category"], diagnosis, diagnosis)
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
        new = new_memory_limit(limit)
        if new and limit:
            out.append(_proposal(
                "set_memory_limit", target, {"memory_limit": new, "previous_memory_limit": limit},
                risk_tier("set_memory_limit", target["kind"], owner_kind=owner_kind),
                "Raise the memory limit of container %s in %s %s/%s from %s to %s" % (
                    container, target["kind"], ns, target["name"], limit, new),
                True, "restore the saved %s spec (previous limit %s)" % (target["kind"], limit)))
        else:
            out.append(_manual(target, "Set a memory request and limit for container %s" % container, [
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
                             risk_tier("delete_pod", "Pod", failed_pod=True, owner_kind=owner_kind),
                             "Delete the evicted pod %s/%s (its controller already replaced it)" % (ns, name)
                             if owner_kind else "Delete the evicted pod %s/%s" % (ns, name),
                             False, "not needed: the pod is already dead; its status is kept in the record"))
        if culprit.get("resource") == "memory" and culprit.get("container") and culprit.get("usage") and owner_kind:
            new = new_memory_limit(None, culprit.get("usage"), 1.0)
            target_c = workload_target(diagnosis, culprit.get("container"))
            out.append(_proposal(
                "set_resources", target_c, {"requests": {"memory": new},
                                            "previous_requests": {"memory": culprit.get("request")}},
                risk_tier("set_resources", target_c["kind"], owner_kind=owner_kind),
                "Raise the memory request of container %s in %s %s/%s from %s to %s (observed %s)" % (
                    culprit.get("container"), target_c["kind"], ns, target_c["name"], culprit.get("request"),
                    new, culprit.get("usage")),
                True, "restore the saved %s spec" % target_c["kind"]))
    elif category == "DeadlineExceeded":
        if is_pod_diag:
            out.append(_proposal("delete_pod", pod_target(ns, name), {},
                                 risk_tier("delete_pod", "Pod", failed_pod=True, owner_kind=owner_kind),
                                 "Delete the failed pod %s/%s" % (ns, name), False,
                                 "not needed: the pod already failed"))
        out.append(_manual(target, "Raise activeDeadlineSeconds or make the work finish sooner", [
            "kubectl get %s -n %s -o jsonpath='{.spec.activeDeadlineSeconds}'" % (tref, ns),
            "Edit the %s spec.activeDeadlineSeconds (currently %s) and re-run the job" % (
                target["kind"], culprit.get("active_deadline_seconds"))]))
    elif category == "TerminatingStuck":
        finalizers = facts.get("finalizers") or []
        pod = pod_target(ns, name)
        if finalizers:
            out.append(_proposal("remove_finalizers", pod, {"finalizers": finalizers}, "critical",
                                 "Remove finalizer(s) %s from pod %s/%s so the deletion completes" % (
                                     ", ".join(finalizers), ns, name),
                                 False, "cannot be undone: the pod is deleted once its finalizers are gone; "
                                        "the controller that owns the finalizer must clean up by hand"))
        else:
            out.append(_proposal("delete_pod", pod, {"force": True, "grace_period_seconds": 0}, "critical",
                                 "Force-delete pod %s/%s (the kubelet never confirmed the stop)" % (ns, name),
                                 False, "cannot be undone; its controller creates a replacement"))
    elif category == "NodeLost":
        node = culprit.get("node")
        if node:
            out.append(_proposal("cordon_node", {"api_version": "v1", "kind": "Node", "namespace": None,
                                                 "name": node}, {}, "critical",
                                 "Cordon node %s so nothing new is scheduled on it" % node, True,
                                 "kubectl uncordon %s" % node))
        if owner_kind:
            out.append(_proposal("delete_pod", pod_target(ns, name), {"force": True, "grace_period_seconds": 0},
                                 risk_tier("delete_pod", "Pod", force=True, owner_kind=owner_kind),
                                 "Force-delete pod %s/%s stuck on lost node %s so %s %s recreates it elsewhere" % (
                                     ns, name, node, owner_kind, owners[-1].get("name")),
                                 False, "cannot be undone; the %s creates a replacement pod" % owner_kind))
    elif category == "ImagePullBackOff" or category == "InvalidImageName":
        image = facts.get("image") or culprit.get("image")
        cause = facts.get("cause")
        prev = (_subject(diagnosis).get("previous_images") or {}).get(container) if container else None
        if prev:
            out.append(_proposal("set_image", target, {"image": prev, "previous_image": image},
                                 risk_tier("set_image", target["kind"], owner_kind=owner_kind),
                                 "Set container %s of %s %s/%s back to image %s (last applied) from %s" % (
                                     container, target["kind"], ns, target["name"], prev, image),
                                 True, "set the image back to %s" % image))
        add_undo()
        steps = _image_steps(cause, image, container, tref, ns, culprit)
        out.append(_manual(target, _image_manual_title(cause, image), steps, tier="medium"))
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
                                 risk_tier("delete_pod", "Pod", owner_kind=owner_kind),
                                 "Delete pod %s/%s so the stale container name is released" % (ns, name),
                                 False, "cannot be undone; the controller recreates the pod"))
        add_undo()
        out.append(_manual(target, "Fix what makes container %s fail" % container, _crash_steps(
            category, result, name, ns, container, tref)))
    elif category in ("LivenessProbeFailure", "ReadinessProbeFailure", "StartupProbeFailure"):
        add_undo()
        probe_kind = facts.get("probe") or category.replace("ProbeFailure", "").lower()
        out.append(_manual(target, "Fix the %s probe of container %s or the endpoint it checks" % (
            probe_kind, container), [
            "kubectl describe pod %s -n %s  # Unhealthy events show the probe error" % (name, ns),
            "kubectl exec %s -n %s -c %s -- <probe command or curl of %s>" % (
                name, ns, container, culprit.get("target") or "the probe"),
            "If the app is just slow: raise %sProbe initialDelaySeconds/timeoutSeconds/failureThreshold in %s %s/%s"
            % (probe_kind, target["kind"], ns, target["name"])]))
    elif category.startswith("Unschedulable"):
        if facts.get("failed_pod"):
            out.append(_proposal("delete_pod", pod_target(ns, name), {},
                                 risk_tier("delete_pod", "Pod", failed_pod=True, owner_kind=owner_kind),
                                 "Delete the failed pod %s/%s rejected by its node" % (ns, name), False,
                                 "not needed: the pod already failed"))
        out.append(_manual(target, "Make the pod schedulable", _schedule_steps(category, culprit, name, ns, tref)))
    elif category == "VolumeMountFailure":
        out.append(_manual(target, "Fix the volume %s" % culprit.get("volume"), _volume_steps(culprit, name, ns)))
    elif category == "SandboxCreationFailure":
        if owner_kind:
            out.append(_proposal("delete_pod", pod_target(ns, name), {},
                                 risk_tier("delete_pod", "Pod", owner_kind=owner_kind),
                                 "Delete pod %s/%s so it is recreated (maybe on a healthy node)" % (ns, name),
                                 False, "cannot be undone; the controller recreates the pod"))
        out.append(_manual(target, "Repair the CNI/runtime on node %s" % culprit.get("node"), [
            "kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=%s  # CNI pods healthy?" %
            culprit.get("node"),
            "kubectl describe node %s" % culprit.get("node"),
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
        out.append(_manual(target, "Make the pod template admissible", steps))
    return out


def _image_manual_title(cause, image):
    return {"not_found": "Use an image tag that exists (%s does not)" % image,
            "invalid_name": "Fix the image reference %s" % image,
            "unauthorized": "Give the pod credentials for the registry of %s" % image,
            "rate_limited": "Authenticate pulls or use a mirror for %s" % image,
            "tls": "Make the nodes trust the registry certificate for %s" % image,
            "network": "Restore network/DNS access from the nodes to the registry of %s" % image,
            "registry_unavailable": "Wait for or fail over the registry of %s" % image,
            "never_pull": "Pre-load %s on the node or change imagePullPolicy" % image,
            }.get(cause, "Fix the pull of image %s" % image)


def _image_steps(cause, image, container, tref, ns, culprit):
    registry = (image or "").split("/")[0] if image and "/" in image and "." in image.split("/")[0] else "docker.io"
    if cause in ("not_found", "invalid_name"):
        return ["skopeo list-tags docker://%s  # or crane ls; find a tag that exists" % (image or "").rsplit(":", 1)[0],
                "kubectl set image %s -n %s %s=<image:existing-tag>" % (tref, ns, container)]
    if cause == "unauthorized":
        secrets = culprit.get("image_pull_secrets") or []
        return ["kubectl create secret docker-registry regcred -n %s --docker-server=%s --docker-username=<user> "
                "--docker-password=<token>" % (ns, registry),
                "kubectl patch %s -n %s -p '{\"spec\":{\"template\":{\"spec\":{\"imagePullSecrets\":"
                "[{\"name\":\"regcred\"}]}}}}'" % (tref, ns) if not secrets else
                "Check that Secret(s) %s hold valid credentials for %s" % (", ".join(secrets), registry),
                "If the repository does not exist: fix the image name %s" % image]
    if cause == "rate_limited":
        return ["Add an imagePullSecret with an authenticated account for %s, or mirror %s to your registry" % (
            registry, image)]
    if cause == "tls":
        return ["Install the registry CA on every node (containerd: /etc/containerd/certs.d/%s/ca.crt)" % registry]
    if cause == "network":
        return ["From a node: nslookup %s; curl -v https://%s/v2/" % (registry, registry),
                "Check node egress/proxy/DNS settings"]
    if cause == "never_pull":
        return ["Load %s on the node (ctr -n k8s.io images import) or set imagePullPolicy: IfNotPresent" % image]
    return ["kubectl describe pod -n %s  # read the Failed pull event" % ns,
            "Check the registry %s status" % registry]


def _crash_steps(category, result, name, ns, container, tref):
    facts = (result or {}).get("facts") or {}
    culprit = (result or {}).get("culprit") or {}
    steps = ["kubectl logs %s -n %s -c %s --previous --tail=100" % (name, ns, container),
             "kubectl describe pod %s -n %s" % (name, ns)]
    signature = facts.get("signature")
    if signature == "exec_format":
        steps.append("Rebuild the image for the node architecture (docker buildx --platform linux/amd64,linux/arm64)")
    elif signature == "missing_env":
        steps.append("Set the missing environment variable in %s (kubectl set env %s -n %s -c %s NAME=value)" % (
            tref, tref, ns, container))
    elif signature == "connection_refused":
        steps.append("Check the dependency it connects to is up: kubectl get endpoints -n %s" % ns)
    elif signature == "address_in_use":
        steps.append("Make sure no other container in the pod (or hostNetwork process) binds the same port")
    if culprit.get("command"):
        steps.append("Fix command/args: %s does not exist in the image" % culprit["command"])
    if category == "CreateContainerError" and facts.get("transient"):
        steps.append("Check the node's container runtime health (crictl info; journalctl -u containerd)")
    return steps


def _schedule_steps(category, culprit, name, ns, tref):
    if category == "UnschedulableInsufficientResources":
        return ["kubectl describe nodes | grep -A8 'Allocated resources'",
                "Lower the %s requests of %s (requested %s), or add nodes / let the cluster autoscaler scale up" % (
                    culprit.get("resource"), tref, culprit.get("requested") or "?")]
    if category == "UnschedulableTaints":
        return ["kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints",
                "Add a toleration for {%s} to %s, or remove the taint if it is stale: kubectl taint nodes <node> "
                "<key>-" % (culprit.get("taint") or "the taint", tref)]
    if category == "UnschedulableNodeAffinity":
        return ["kubectl get nodes --show-labels",
                "Fix nodeSelector/affinity of %s (%s) or label a node to match" % (
                    tref, culprit.get("node_selector") or "see spec.affinity")]
    if category == "UnschedulableVolume":
        return ["kubectl get pvc -n %s; kubectl describe pvc %s -n %s" % (
            ns, " ".join(culprit.get("claims") or ["<claim>"]), ns),
            "Create the missing PVC or fix its storageClassName / the PV's node affinity (zone)"]
    return ["kubectl describe pod %s -n %s  # read the FailedScheduling event" % (name, ns)]


def _volume_steps(culprit, name, ns):
    cause = culprit.get("cause")
    if cause == "multi_attach":
        return ["kubectl get volumeattachment | grep %s" % (culprit.get("volume") or ""),
                "Make sure the old pod (%s) is gone and its node released the volume; a ReadWriteOnce volume can "
                "be attached to one node only" % (culprit.get("used_by") or "previous pod")]
    if cause == "missing_object":
        return ["kubectl create %s %s -n %s ...  # create the missing object, or fix the volume source" % (
            (culprit.get("kind") or "configmap").lower(), culprit.get("name"), ns)]
    return ["kubectl describe pod %s -n %s  # FailedMount / FailedAttachVolume events" % (name, ns),
            "kubectl get pvc,pv -n %s; check the CSI driver pods in kube-system" % ns]
